/* test_range.c — the windows of --plot-timeline and --perfetto on a trace with NVTX ranges
 * (MARKER activity records): --range NAME finds the last complete range of that exact name,
 * a missing name is one line naming it and listing up to 5 names that exist (trace strings
 * made printable), the default is the last range of the most frequent name; --perfetto cut
 * to a range keeps exactly the activity inside it; the timeline reads the trace a second
 * time (by path, or finding the open file) and says which window it drew, with boxes or,
 * past 20,000 activities in the window, occupancy per pixel column. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"

#define US UINT64_C(1000)

static int act(struct tb *tb, uint8_t type, const char *name, uint32_t stream, uint64_t s_us,
               uint64_t e_us, uint8_t kind, uint64_t value)
{
    struct gp_activity a = {0};
    a.type = type;
    a.name = name;
    a.stream = stream;
    a.start_ns = TB_T0 + s_us * US;
    a.end_ns = TB_T0 + e_us * US;
    a.kind = kind;
    a.value = value;
    return gp_trace_writer_activity(tb->w, &a);
}

static int range(struct tb *tb, const char *name, uint64_t id, uint64_t s_us, uint64_t e_us)
{
    return act(tb, GP_REC_MARKER, name, 0, s_us, s_us, 2, id) |
           act(tb, GP_REC_MARKER, NULL, 0, e_us, e_us, 4, id);
}

/* Ranges: step x3 (the last at 5000-6000 us), fwd, bwd, a hostile name, init, opt, one
 * unnamed and one never ended; kernels inside and outside them; extra kernels in the last
 * step when many is set (for the occupancy form). */
static void make(struct tb *tb, int with_ranges, uint32_t many)
{
    assert_int_equal(tb_open(tb, NULL), 0);
    struct gp_activity_status st = {.state = GP_ACT_RECORDING, .version = 1};
    int rc = gp_trace_writer_activity_status(tb->w, &st);
    rc |= act(tb, GP_REC_KERNEL, "early_kernel", 7, 150, 160, 0, 0);
    rc |= act(tb, GP_REC_KERNEL, "fwd_kernel", 7, 1200, 1300, 0, 0);
    rc |= act(tb, GP_REC_KERNEL, "step_kernel", 8, 5100, 5150, 0, 0);
    rc |= act(tb, GP_REC_KERNEL, "late_kernel", 7, 7050, 7060, 0, 0);
    for (uint32_t i = 0; i < many; i++)
        rc |= act(tb, GP_REC_KERNEL, "tiny", 7 + i % 2, 5200 + i / 50, 5200 + i / 50 + 1, 0, 0);
    if (with_ranges) {
        rc |= range(tb, "step", 1, 1000, 2000);
        rc |= range(tb, "fwd", 2, 1100, 1500);
        rc |= range(tb, "step", 3, 3000, 4000);
        rc |= range(tb, "step", 4, 5000, 6000);
        rc |= range(tb, "bwd", 5, 5200, 5800);
        rc |= range(tb, "evil\x1b[31m\"\nname", 6, 7000, 7100);
        rc |= range(tb, "init", 7, 100, 200);
        rc |= range(tb, "opt", 8, 6000, 6100);
        rc |= range(tb, NULL, 9, 6200, 6300);
        rc |= act(tb, GP_REC_MARKER, "never_ended", 0, 6500, 6500, 2, 10);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(tb_close(tb), 0);
}

struct loaded {
    struct tb tb;
    struct gp_report r;
};

static void load(struct loaded *l, int with_ranges, uint32_t many, int events)
{
    char err[256];
    memset(l, 0, sizeof(*l));
    make(&l->tb, with_ranges, many);
    assert_int_equal(gp_report_model_open(&l->r.model, l->tb.path, err, sizeof(err)), 0);
    assert_int_equal(gp_report_kernels_attach(&l->r.kernels, l->r.model, 10), 0);
    if (events)
        assert_int_equal(gp_report_events_attach(&l->r.events, l->r.model), 0);
    assert_int_equal(gp_report_model_replay(l->r.model, err, sizeof(err)), 0);
}

static void unload(struct loaded *l)
{
    gp_report_events_fini(&l->r.events);
    gp_report_kernels_fini(&l->r.kernels);
    gp_report_model_free(l->r.model);
    tb_remove(&l->tb);
}

static void test_find_range(void **state)
{
    (void)state;
    struct loaded l;
    struct gp_report_range g;
    char err[512];
    load(&l, 1, 0, 0);
    const struct gp_report_kernels *k = &l.r.kernels;
    assert_int_equal(k->nranges_total, 9);
    assert_int_equal(k->nopen, 1);
    assert_int_equal(gp_report_kernels_find_range(k, l.r.model, "step", &g, err, sizeof(err)), 0);
    assert_int_equal(g.start, TB_T0 + 5000 * US);
    assert_int_equal(g.end, TB_T0 + 6000 * US);
    assert_int_equal(gp_report_kernels_find_range(k, l.r.model, "fwd", &g, err, sizeof(err)), 0);
    assert_int_equal(g.start, TB_T0 + 1100 * US);
    assert_int_equal(g.end, TB_T0 + 1500 * US);
    /* exact names only; a range never ended is not complete */
    assert_int_equal(gp_report_kernels_find_range(k, l.r.model, "ste", &g, err, sizeof(err)), -ENOENT);
    assert_int_equal(gp_report_kernels_find_range(k, l.r.model, "never_ended", &g, err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "no complete NVTX range named \"never_ended\" (ranges: \"step\", \"fwd\", "
                             "\"bwd\", \"evil?[31m??name\", \"init\", ...)");
    assert_null(strchr(err, '\n'));
    /* the default window: "step" is the most frequent name */
    assert_int_equal(gp_report_kernels_step_range(k, &g), 1);
    assert_int_equal(g.start, TB_T0 + 5000 * US);
    assert_int_equal(g.end, TB_T0 + 6000 * US);
    unload(&l);

    load(&l, 0, 0, 0);
    assert_int_equal(gp_report_kernels_step_range(&l.r.kernels, &g), 0);
    assert_int_equal(gp_report_kernels_find_range(&l.r.kernels, l.r.model, "a\tb", &g, err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "no complete NVTX range named \"a?b\" (the trace has no named NVTX ranges)");
    unload(&l);
}

static char *perfetto(struct loaded *l, const char *range, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct gp_report_window win = {.from_ns = UINT64_MAX, .to_ns = UINT64_MAX, .range = range};
    *rc = gp_report_view_perfetto(f, &l->r, &win);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_perfetto_range(void **state)
{
    (void)state;
    struct loaded l;
    int rc;
    load(&l, 1, 0, 1);
    char *out = perfetto(&l, "fwd", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"fwd_kernel\""));
    assert_null(strstr(out, "\"early_kernel\""));
    assert_null(strstr(out, "\"step_kernel\""));
    assert_null(strstr(out, "\"late_kernel\""));
    /* the ranges drawn are cut to the window: "step" 1 from the window's start */
    assert_non_null(strstr(out, "\"name\":\"step\",\"ts\":1100.000,\"dur\":400.000"));
    free(out);
    out = perfetto(&l, "step", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"step_kernel\""));
    assert_null(strstr(out, "\"fwd_kernel\""));
    free(out);
    out = perfetto(&l, "nope", &rc);
    assert_int_equal(rc, -ENOENT);
    free(out);
    unload(&l);
}

/* Draws into an SVG and returns its text (NULL when gnuplot is missing). */
static char *timeline(struct loaded *l, const struct gp_report_window *win, int *rc, char *err,
                      size_t errlen)
{
    char path[] = "/tmp/gp_test_range_XXXXXX.svg";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    *rc = gp_report_view_timeline(path, &l->r, win, err, errlen);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 22);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 22) - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    return buf;
}

static void test_timeline_windows(void **state)
{
    (void)state;
    struct loaded l;
    char err[512];
    int rc;
    load(&l, 1, 0, 0);
    struct gp_report_window win = {.from_ns = UINT64_MAX, .to_ns = UINT64_MAX, .range = "fwd",
                                   .trace = l.tb.path};
    char *svg = timeline(&l, &win, &rc, err, sizeof(err));
    if (rc == -ENOENT && strstr(err, "gnuplot")) {
        unload(&l);
        skip();
    }
    assert_int_equal(rc, 0);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "from 0.001100 s to 0.001500 s (the last NVTX range of the name asked for)"));
    free(svg);
    /* the default, found without the path: the open trace is read again */
    win.range = NULL;
    win.trace = NULL;
    svg = timeline(&l, &win, &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(svg, "from 0.005000 s to 0.006000 s (the last complete NVTX range of the most "
                                "frequent name)"));
    assert_null(strstr(svg, "occupancy"));
    free(svg);
    win.range = "nope";
    svg = timeline(&l, &win, &rc, err, sizeof(err));
    assert_int_equal(rc, -ENOENT);
    assert_null(svg);
    assert_non_null(strstr(err, "no complete NVTX range named \"nope\" (ranges: \"step\""));
    unload(&l);

    /* 30,000 kernels in the last step: drawn as occupancy, from a second read */
    load(&l, 1, 30000, 0);
    win.range = "bwd";
    win.trace = l.tb.path;
    svg = timeline(&l, &win, &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(svg, "from 0.005200 s to 0.005800 s (the last NVTX range of the name asked "
                                "for; occupancy per pixel column)"));
    free(svg);
    unload(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_range),
        cmocka_unit_test(test_perfetto_range),
        cmocka_unit_test(test_timeline_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
