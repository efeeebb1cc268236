/* fuzz_report.c — libFuzzer harness for every mode of gpuprof-report on one trace (the input,
 * fuzz_input.h): gp_report_load (model replay and every analysis: peak, leaks, OOM, timeline,
 * kernels, Tensor Cores, PyTorch, cubins, symbolizer), then
 *   the text (plain and --native) and JSON views;
 *   --perfetto and --csv, which stream a second read of the same file;
 *   --plot-timeline's data pass (timeline_data.c: window, then a further read), not gnuplot;
 *   --html for one trace (memory plot and timeline as inline SVG);
 *   the job summary (multi.c) of the trace as two processes, as text, JSON, --html job page
 *   and --perfetto job timeline;
 *   `fit`: the trace's point (gp_report_fit_add_trace, label or batch given) and a second
 *   point made from it, solved, as text and JSON.
 * Views write to /dev/null; --csv and the cubins' spill files go to a private temporary
 * directory of this process, which must be empty again after every input (removed at exit).
 * No disassembler ever runs: GPUPROF_NVDISASM names a file that does not exist, so the
 * cubins analysis stops at "no tool" (sass.c tries nothing else when it is set).
 * Which window, box limit and fit numbers an input gets is derived from a hash of its bytes,
 * so every input runs the same way each time and the corpus spreads over the variants. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "report.h"
#include "timeline_data.h"
#include "view_html.h"

static FILE *gp_fuzz_null;
static char gp_fuzz_dir[64];    /* the private directory */
static char gp_fuzz_tmp[96];    /* TMPDIR of the analyses: empty between inputs */
static char gp_fuzz_csv[96];    /* --csv's directory */

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_report: " __VA_ARGS__);                                              \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

/* A failed step must say why in one line (and not leave err unterminated). */
static void check_err(const char *what, const char *err, size_t len)
{
    if (memchr(err, '\0', len) == NULL || err[0] == '\0')
        FAIL("%s failed without a reason", what);
    if (strchr(err, '\n'))
        FAIL("%s: reason spans lines: %s", what, err);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static void cleanup(void)
{
    if (gp_fuzz_dir[0])
        remove_tree(gp_fuzz_dir);
}

/* The analyses clean up their temporary files: nothing may be left in TMPDIR. */
static void check_tmp_empty(void)
{
    DIR *d = opendir(gp_fuzz_tmp);
    if (!d)
        FAIL("temporary directory %s vanished", gp_fuzz_tmp);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            FAIL("an analysis left %s/%s behind", gp_fuzz_tmp, e->d_name);
    closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("GPUPROF_TRACE_THREADS", "0", 0);
    unsetenv("DEBUGINFOD_URLS"); /* as gpuprof-report does: never ask the network */
    setenv("GPUPROF_NVDISASM", "/nonexistent/gpuprof-fuzz/nvdisasm", 1);
    setenv("GPUPROF_SASS_TIMEOUT", "1", 1); /* should one ever run after all */
    gp_report_quiet = 1;
    gp_fuzz_null = fopen("/dev/null", "w");
    const char *base = getenv("TMPDIR");
    snprintf(gp_fuzz_dir, sizeof gp_fuzz_dir, "%.30s/gpuprof-fuzz.XXXXXX",
             base && base[0] == '/' ? base : "/tmp");
    if (!gp_fuzz_null || !mkdtemp(gp_fuzz_dir))
        FAIL("cannot set up /dev/null or %s", gp_fuzz_dir);
    atexit(cleanup);
    snprintf(gp_fuzz_tmp, sizeof gp_fuzz_tmp, "%s/tmp", gp_fuzz_dir);
    snprintf(gp_fuzz_csv, sizeof gp_fuzz_csv, "%s/csv", gp_fuzz_dir);
    if (mkdir(gp_fuzz_tmp, 0700) != 0)
        FAIL("cannot create %s", gp_fuzz_tmp);
    setenv("TMPDIR", gp_fuzz_tmp, 1);
    return 0;
}

/* 64-bit FNV-1a: the input's variant knobs. */
static uint64_t knobs_of(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* --plot-timeline's data: the window as the command line would choose it, then the read. */
static void timeline_data(const struct gp_report *r, const struct gp_report_window *win,
                          uint64_t knobs)
{
    struct gp_report_tl t;
    char err[512];
    int rc = gp_report_tl_window(&t, r, win, err, sizeof err);
    if (rc == 0) {
        /* few boxes: the occupancy path too; many: exact boxes */
        size_t boxes = knobs & 1 ? 8 : 4000, columns = knobs & 2 ? 3 : 700;
        rc = gp_report_tl_read(&t, win->trace, boxes, columns, err, sizeof err);
        if (rc == 0 && t.occ == NULL && t.nboxes > boxes)
            FAIL("timeline kept %zu boxes, limit %zu", t.nboxes, boxes);
        if (rc == 0 && t.nranges > GP_REPORT_TL_MAX_RANGES)
            FAIL("timeline kept %zu ranges", t.nranges);
    }
    if (rc < 0)
        check_err("timeline", err, sizeof err);
    gp_report_tl_fini(&t);
}

/* `fit`: the trace's own point and one made from it (knobs decide how), solved. */
static void fit(struct gp_report_fit *f, const struct gp_report *r, uint64_t knobs)
{
    char err[1024];
    const char *label = r->model->run.label;
    /* batch 0: from the label, when it has a batch= token (the parser sees odd labels) */
    uint64_t batch = label && strstr(label, "batch=") ? 0 : 1 + (knobs >> 8) % 64;
    if (knobs & 4)
        f->device_total_opt = (knobs >> 16) & 0xffffffffff;
    f->headroom_base = (uint32_t)((knobs >> 20) % 9001);
    if (gp_report_fit_add_trace(f, r->model->path, batch, err, sizeof err) < 0) {
        check_err("fit_add_trace", err, sizeof err);
        return;
    }
    struct gp_report_fit_point p = f->v[0];
    p.file = "second";
    p.batch = knobs & 8 ? p.batch : 1 + (knobs >> 24) % GP_REPORT_FIT_MAX_BATCH_INPUT;
    static const uint64_t extremes[] = {0, 1, UINT64_MAX, UINT64_MAX / 2, 1ull << 63, 4096};
    uint64_t delta = knobs & 16 ? extremes[(knobs >> 40) % 6] : knobs >> 12;
    p.reserved_peak += delta;
    p.allocated_peak += delta / 3;
    p.frag_bytes = knobs & 32 ? p.frag_bytes : delta;
    p.frag_reserved = knobs & 64 ? p.frag_reserved : delta / 2;
    p.device_total = knobs & 128 ? p.device_total : knobs >> 30;
    if (gp_report_fit_add_point(f, &p) < 0)
        FAIL("fit_add_point: out of memory");
    if (gp_report_fit_solve(f, err, sizeof err) < 0) {
        check_err("fit_solve", err, sizeof err);
        return;
    }
    if (f->have_max && f->max_batch &&
        (double)f->fixed_bytes + (double)f->per_sample_bytes * (double)f->max_batch >
            (double)f->usable_bytes * (1 + 1e-9) + 1)
        FAIL("fit: max_batch %llu does not fit", (unsigned long long)f->max_batch);
    if (gp_report_view_fit_text(gp_fuzz_null, f) < 0 || gp_report_view_fit_json(gp_fuzz_null, f) < 0)
        FAIL("a fit view failed on /dev/null");
}

/* The job summary: this trace as two processes of one job. */
static void job(const struct gp_report *r, const struct gp_report_window *win, uint64_t knobs)
{
    const char *path = r->model->path;
    struct gp_report_multi mu = {0};
    if (gp_report_multi_add(&mu, path, r) < 0 || gp_report_multi_add(&mu, path, r) < 0)
        FAIL("multi_add: out of memory");
    gp_report_multi_finish(&mu);
    if (gp_report_view_multi_text(gp_fuzz_null, &mu) < 0 ||
        gp_report_view_multi_json(gp_fuzz_null, &mu) < 0)
        FAIL("a job view failed on /dev/null");

    struct gp_report_fit f;
    gp_report_fit_init(&f);
    fit(&f, r, knobs);
    int solved = f.n == 2 && f.ndistinct >= 2 && f.device_total;
    if (gp_report_view_html_job(gp_fuzz_null, &mu, solved ? &f : NULL,
                                solved ? NULL : "no fit for this input") < 0)
        FAIL("the job page failed on /dev/null");
    gp_report_fit_fini(&f);

    struct gp_report_pf_proc pf[2] = {{0}};
    char err[512];
    if (gp_report_pf_proc_set(&pf[0], path, r->model, r->torch.present) < 0 ||
        gp_report_pf_proc_set(&pf[1], path, r->model, r->torch.present) < 0)
        FAIL("pf_proc_set: out of memory");
    struct gp_report_window w = *win;
    w.range = NULL; /* the job timeline takes from/to only */
    if (gp_report_view_perfetto_job(gp_fuzz_null, pf, 2, &w, err, sizeof err) < 0)
        check_err("perfetto job", err, sizeof err);
    gp_report_pf_proc_fini(&pf[0]);
    gp_report_pf_proc_fini(&pf[1]);
    gp_report_multi_fini(&mu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gp_report r;
    char err[512];
    const char *path = gp_fuzz_trace_file(data, size);
    uint64_t knobs = knobs_of(data, size);
    /* top 3 rather than 10: the same code paths, less time per input. As gpuprof-report
     * loads for --html (timeline) and for --perfetto/--csv (events 0: they stream). */
    struct gp_report_options opt = {.top = 3, .timeline = 1};
    if (gp_report_load(&r, path, &opt, err, sizeof err) < 0) {
        check_err("load", err, sizeof err);
        check_tmp_empty();
        return 0;
    }
    r.native = (int)(knobs >> 62) & 1;
    if (gp_report_view_json(gp_fuzz_null, &r) < 0 || gp_report_view_text(gp_fuzz_null, &r) < 0)
        FAIL("a view failed on /dev/null");

    /* The window: whole run, a cut in the middle, or an NVTX range by name. */
    struct gp_report_window win = {.from_ns = UINT64_MAX, .to_ns = UINT64_MAX, .trace = path};
    switch ((knobs >> 56) & 3) {
    case 1: {
        uint64_t d = r.kernels.last_ns > r.kernels.first_ns ? r.kernels.last_ns - r.kernels.first_ns : 0;
        win.from_ns = d / 3;
        win.to_ns = d / 3 * 2 + 1;
        break;
    }
    case 2:
        win.range = "train_step";
        break;
    default:
        break;
    }
    if (gp_report_view_perfetto(gp_fuzz_null, &r, &win) < 0 && !win.range)
        FAIL("--perfetto failed on /dev/null");
    if (gp_report_view_csv(gp_fuzz_csv, &r, err, sizeof err) < 0)
        check_err("--csv", err, sizeof err);
    timeline_data(&r, &win, knobs);
    if (gp_report_view_html_window(gp_fuzz_null, &r, &win) < 0)
        FAIL("--html failed on /dev/null");
    job(&r, &win, knobs);
    gp_report_fini(&r);
    check_tmp_empty();
    return 0;
}
