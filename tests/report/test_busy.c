/* test_busy.c — the GPU busy union in bounded memory (gp_report_busy_*, issue 8): 2 x 10 million
 * synthetic activity intervals, in time order and mildly shuffled the way CUPTI buffers of
 * several streams interleave, give exactly the busy time and longest idle gaps a plain
 * running union computes from the sorted stream, while the structure never holds more than
 * its fixed bound; a straggler behind the retired point is counted as approximate with the
 * exact amount; the kernels analysis fed from a real trace holds the same bytes for
 * 150,000 and 300,000 kernels, and its text view says how much was approximated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"

#define N_INTERVALS 10000000u /* per order: 20 million in all */
#define SPAN sizeof(struct gp_report_span)
/* the set holds at most 2 windows, the batch one */
#define BUSY_BOUND(window) (3u * (window) * SPAN)

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, fast */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

/* The reference: a running union of intervals sorted by start, with the 5 longest gaps
 * (longest first, equal lengths in time order). */
struct ref {
    int any;
    uint64_t cur_start, cur_end, busy;
    struct gp_report_range gaps[GP_REPORT_IDLE_GAPS];
    size_t ngaps;
};

static void ref_gap(struct ref *r, uint64_t s, uint64_t e)
{
    size_t n = r->ngaps;
    if (n == GP_REPORT_IDLE_GAPS && e - s <= r->gaps[n - 1].end - r->gaps[n - 1].start)
        return;
    if (n < GP_REPORT_IDLE_GAPS)
        r->ngaps++;
    else
        n--;
    while (n > 0 && r->gaps[n - 1].end - r->gaps[n - 1].start < e - s) {
        r->gaps[n] = r->gaps[n - 1];
        n--;
    }
    r->gaps[n] = (struct gp_report_range){s, e, 0, 0};
}

static void ref_add(struct ref *r, uint64_t s, uint64_t e)
{
    if (r->any && s <= r->cur_end) {
        if (e > r->cur_end)
            r->cur_end = e;
        return;
    }
    if (r->any) {
        r->busy += r->cur_end - r->cur_start;
        ref_gap(r, r->cur_end, s);
    }
    r->any = 1;
    r->cur_start = s;
    r->cur_end = e;
}

static void ref_end(struct ref *r)
{
    if (r->any)
        r->busy += r->cur_end - r->cur_start;
}

/* The next interval of a busy GPU, in start order: kernels of 1-50 us, mostly back to back
 * or overlapping (other streams), sometimes after an idle gap of up to 2 ms. */
static void next_interval(uint64_t *t, uint64_t *s, uint64_t *e)
{
    uint64_t r = rnd();
    uint64_t dur = 1000 + (r % 49000);
    uint64_t step = (r >> 20) % 8 == 0 ? (r >> 24) % 2000000 : (r >> 24) % (dur + 500);
    *t += step;
    *s = *t;
    *e = *t + dur;
}

static void check_same(const struct gp_report_busy *b, const struct ref *r)
{
    assert_int_equal(b->approx_ns, 0);
    assert_int_equal(b->busy_ns, r->busy);
    assert_int_equal(b->ngaps, r->ngaps);
    for (size_t i = 0; i < r->ngaps; i++) {
        assert_int_equal(b->gaps[i].start, r->gaps[i].start);
        assert_int_equal(b->gaps[i].end, r->gaps[i].end);
    }
}

static void test_in_order(void **state)
{
    (void)state;
    struct gp_report_busy b;
    struct ref r = {0};
    uint64_t t = UINT64_C(1000000000), s, e;
    rng_state = 0x9e3779b97f4a7c15u;
    gp_report_busy_init(&b, GP_REPORT_BUSY_WINDOW, 1);
    for (uint32_t i = 0; i < N_INTERVALS; i++) {
        next_interval(&t, &s, &e);
        ref_add(&r, s, e);
        assert_int_equal(gp_report_busy_add(&b, s, e), 0);
    }
    ref_end(&r);
    gp_report_busy_finish(&b);
    check_same(&b, &r);
    assert_int_equal(r.ngaps, GP_REPORT_IDLE_GAPS);
    assert_true(b.mem_peak <= BUSY_BOUND(GP_REPORT_BUSY_WINDOW));
    gp_report_busy_fini(&b);
}

/* Each interval waits in a pool of 256 and a random one leaves: up to a few hundred
 * places out of order, as buffers of several streams interleave. */
static void test_shuffled(void **state)
{
    (void)state;
    enum { POOL = 256 };
    struct gp_report_span pool[POOL] = {{0, 0}};
    size_t npool = 0;
    struct gp_report_busy b;
    struct ref r = {0};
    uint64_t t = UINT64_C(1000000000), s, e, behind = 0;
    rng_state = 0x2545f4914f6cdd1du;
    gp_report_busy_init(&b, GP_REPORT_BUSY_WINDOW, 1);
    for (uint32_t i = 0; i < N_INTERVALS + POOL - 1; i++) {
        if (i < N_INTERVALS) {
            next_interval(&t, &s, &e);
            ref_add(&r, s, e);
            pool[npool++] = (struct gp_report_span){s, e};
            if (npool < POOL)
                continue;
        }
        if (npool == 0)
            break;
        size_t k = (size_t)(rnd() % npool);
        struct gp_report_span v = pool[k];
        pool[k] = pool[--npool];
        behind += b.n && v.start < b.set[b.n - 1].start;
        assert_int_equal(gp_report_busy_add(&b, v.start, v.end), 0);
    }
    ref_end(&r);
    gp_report_busy_finish(&b);
    /* the shuffle did put many of them behind: the batch path was taken */
    assert_true(behind > N_INTERVALS / 4);
    check_same(&b, &r);
    assert_true(b.mem_peak <= BUSY_BOUND(GP_REPORT_BUSY_WINDOW));
    gp_report_busy_fini(&b);
}

/* Touching intervals merge (no zero gap), nested ones add nothing, gaps longest first. */
static void test_small_exact(void **state)
{
    (void)state;
    struct gp_report_busy b;
    gp_report_busy_init(&b, 4, 1);
    static const uint64_t iv[][2] = {{100, 200}, {200, 300}, {120, 150}, {400, 450},
                                     {700, 710}, {350, 360}, {0, 0},     {900, 1000}};
    for (size_t i = 0; i < sizeof(iv) / sizeof(iv[0]); i++)
        assert_int_equal(gp_report_busy_add(&b, iv[i][0], iv[i][1]), 0);
    gp_report_busy_finish(&b);
    /* union: [100,300) [350,360) [400,450) [700,710) [900,1000) */
    assert_int_equal(b.busy_ns, 200 + 10 + 50 + 10 + 100);
    assert_int_equal(b.approx_ns, 0);
    assert_int_equal(b.ngaps, 4);
    static const uint64_t want[][2] = {{450, 700}, {710, 900}, {300, 350}, {360, 400}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(b.gaps[i].start, want[i][0]);
        assert_int_equal(b.gaps[i].end, want[i][1]);
    }
    gp_report_busy_fini(&b);
}

/* A window of 2: the front is retired once more than 2 disjoint intervals are held; an
 * interval arriving behind the retired point is merged as well as it can be and the part
 * behind it counted in approx_ns. */
static void test_straggler(void **state)
{
    (void)state;
    struct gp_report_busy b;
    gp_report_busy_init(&b, 2, 1);
    for (uint64_t i = 0; i < 10; i++) /* [0,10) [20,30) ... [180,190) */
        assert_int_equal(gp_report_busy_add(&b, i * 20, i * 20 + 10), 0);
    assert_true(b.retired_any);
    assert_true(b.n + b.nbatch <= 4);
    uint64_t to = b.retired_to;
    assert_true(to >= 30);
    /* wholly behind: [5, 15) counted as approximate, not added */
    assert_int_equal(gp_report_busy_add(&b, 5, 15), 0);
    assert_int_equal(b.approx_ns, 10);
    /* straddling the retired point: the part behind it approximate, the rest merged */
    assert_int_equal(gp_report_busy_add(&b, to - 4, to + 2), 0);
    assert_int_equal(b.approx_ns, 14);
    gp_report_busy_finish(&b);
    /* 10 intervals of 10 plus the 2 ns past the retired point (in a gap) */
    assert_int_equal(b.busy_ns, 102);
    assert_true(b.mem_peak <= 32 * SPAN); /* both arrays at their first size, 16 */
    gp_report_busy_fini(&b);
}

/* Far apart in time: intervals more than GP_REPORT_BUSY_MARGIN_NS behind the newest start
 * are retired even when the window has room. */
static void test_watermark(void **state)
{
    (void)state;
    struct gp_report_busy b;
    gp_report_busy_init(&b, 1024, 1);
    uint64_t s = UINT64_C(1000000000);
    for (uint64_t i = 0; i < 2048 + 1; i++) /* every 20 s: one flush at 2048 intervals */
        assert_int_equal(gp_report_busy_add(&b, s + i * 20000000000u, s + i * 20000000000u + 5), 0);
    /* after the flush only what lies within the margin of the newest start is held */
    assert_true(b.n <= 2);
    assert_int_equal(b.busy_ns, (2049 - b.n) * 5);
    gp_report_busy_finish(&b);
    assert_int_equal(b.busy_ns, 2049 * 5);
    assert_int_equal(b.ngaps, GP_REPORT_IDLE_GAPS);
    assert_int_equal(b.gaps[0].end - b.gaps[0].start, 20000000000u - 5);
    gp_report_busy_fini(&b);
}

/* A trace of n kernels on 4 streams, each 2 us long, 3 us apart (no overlap, no merge). */
static size_t analysis_bytes(uint32_t n, uint64_t *busy)
{
    struct tb tb;
    assert_int_equal(tb_open(&tb, NULL), 0);
    struct gp_activity_status st = {.state = GP_ACT_RECORDING, .version = 1};
    assert_int_equal(gp_trace_writer_activity_status(tb.w, &st), 0);
    static const char *const names[] = {"gemm", "relu", "add", "softmax"};
    for (uint32_t i = 0; i < n; i++) {
        struct gp_activity a = {0};
        a.type = GP_REC_KERNEL;
        a.name = names[i % 4];
        a.stream = 7 + i % 4;
        a.start_ns = TB_T0 + 1000 + (uint64_t)i * 3000;
        a.end_ns = a.start_ns + 2000;
        a.correlation = i + 1;
        assert_int_equal(gp_trace_writer_activity(tb.w, &a), 0);
    }
    assert_int_equal(tb_close(&tb), 0);

    struct gp_report_model *m;
    struct gp_report_kernels k;
    char err[256];
    assert_int_equal(gp_report_model_open(&m, tb.path, err, sizeof(err)), 0);
    assert_int_equal(gp_report_kernels_attach(&k, m, 10), 0);
    assert_int_equal(gp_report_model_replay(m, err, sizeof(err)), 0);
    assert_int_equal(k.kernels, n);
    assert_int_equal(k.nlanes, 4);
    assert_int_equal(k.busy_approx_ns, 0);
    assert_int_equal(k.ngaps, GP_REPORT_IDLE_GAPS);
    assert_int_equal(k.gaps[0].end - k.gaps[0].start, 1000);
    *busy = k.busy_ns;
    size_t bytes = gp_report_kernels_mem_bytes(&k);
    gp_report_kernels_fini(&k);
    gp_report_model_free(m);
    tb_remove(&tb);
    return bytes;
}

static void test_analysis_bounded(void **state)
{
    (void)state;
    uint64_t busy1, busy2;
    size_t a = analysis_bytes(150000, &busy1);
    size_t b = analysis_bytes(300000, &busy2);
    assert_int_equal(busy1, UINT64_C(150000) * 2000);
    assert_int_equal(busy2, UINT64_C(300000) * 2000);
    /* twice the kernels, not one byte more: both runs filled the windows */
    assert_int_equal(a, b);
    assert_true(b <= BUSY_BOUND(GP_REPORT_BUSY_WINDOW) + BUSY_BOUND(GP_REPORT_BUSY_DEV_WINDOW) +
                         (64u << 10));
}

/* Past the window, a kernel from the run's start arrives last: the report says how much
 * could only be approximated (its 500 ns), and JSON's busy_exact turns false. */
static void test_analysis_straggler(void **state)
{
    (void)state;
    struct tb tb;
    assert_int_equal(tb_open(&tb, NULL), 0);
    struct gp_activity_status st = {.state = GP_ACT_RECORDING, .version = 1};
    assert_int_equal(gp_trace_writer_activity_status(tb.w, &st), 0);
    const uint32_t n = 2 * GP_REPORT_BUSY_WINDOW + 10;
    for (uint32_t i = 0; i <= n; i++) {
        struct gp_activity a = {0};
        a.type = GP_REC_KERNEL;
        a.name = "k";
        a.stream = 7;
        a.start_ns = i < n ? TB_T0 + 10000 + (uint64_t)i * 3000 : TB_T0 + 1000;
        a.end_ns = a.start_ns + (i < n ? 2000 : 500);
        assert_int_equal(gp_trace_writer_activity(tb.w, &a), 0);
    }
    assert_int_equal(tb_close(&tb), 0);
    struct gp_report r = {0};
    char err[256];
    assert_int_equal(gp_report_model_open(&r.model, tb.path, err, sizeof(err)), 0);
    assert_int_equal(gp_report_kernels_attach(&r.kernels, r.model, 10), 0);
    assert_int_equal(gp_report_model_replay(r.model, err, sizeof(err)), 0);
    assert_int_equal(r.kernels.busy_approx_ns, 500);
    assert_int_equal(r.kernels.busy_ns, (uint64_t)n * 2000);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(gp_report_view_text_kernels(f, &r), 0);
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(buf, "  note: 500 ns of activity arrived too far out of time order to merge "
                                "exactly: GPU busy lies between the figure above and that much more\n"));
    free(buf);
    gp_report_kernels_fini(&r.kernels);
    gp_report_model_free(r.model);
    tb_remove(&tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_exact),
        cmocka_unit_test(test_straggler),
        cmocka_unit_test(test_watermark),
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_shuffled),
        cmocka_unit_test(test_analysis_bounded),
        cmocka_unit_test(test_analysis_straggler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
