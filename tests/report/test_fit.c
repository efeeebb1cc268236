/* test_fit.c — the batch-size fit's math (report/fit.c) on synthetic points with known
 * fixed and per-sample bytes: exact lines, the max_batch boundary, two points, collinear
 * points, non-linear growth (by residual and by a quadratic term), no growth, the headroom
 * with fragmentation, the device total, the batch=N label parser, and the memory no fitted
 * peak holds (non-PyTorch allocations, the CUDA context, other processes) from points and
 * from synthetic traces written with the real trace writer. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * KIB)
#define GIB (MIB * KIB)

static void add(struct gp_report_fit *f, uint64_t batch, uint64_t peak, uint64_t total)
{
    /* context measured as 0: these tests are about the line and the headroom */
    struct gp_report_fit_point p = { .file = "t.gz", .batch = batch, .reserved_peak = peak,
                                     .device_total = total,
                                     .context_source = GP_FIT_CONTEXT_MEMINFO };
    assert_int_equal(gp_report_fit_add_point(f, &p), 0);
}

static void add_torch(struct gp_report_fit *f, uint64_t batch, uint64_t allocated, uint64_t frag,
                      uint64_t reserved, uint64_t total)
{
    struct gp_report_fit_point p = { .file = "t.gz", .batch = batch, .allocated_peak = allocated,
                                     .reserved_peak = reserved + 5 * MIB, .frag_bytes = frag,
                                     .frag_reserved = reserved, .device_total = total,
                                     .torch = 1, .context_source = GP_FIT_CONTEXT_MEMINFO };
    assert_int_equal(gp_report_fit_add_point(f, &p), 0);
}

static void solve_ok(struct gp_report_fit *f)
{
    char err[256] = "";
    assert_int_equal(gp_report_fit_solve(f, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

/* fixed + per_sample * max_batch <= usable < fixed + per_sample * (max_batch + 1) */
static void assert_boundary(const struct gp_report_fit *f)
{
    int64_t at = f->fixed_bytes + f->per_sample_bytes * (int64_t)f->max_batch;
    int64_t next = at + f->per_sample_bytes;
    assert_true(at <= (int64_t)f->usable_bytes);
    assert_true(next > (int64_t)f->usable_bytes);
}

static void test_exact_line_boundary(void **state)
{
    (void)state;
    struct gp_report_fit f;
    gp_report_fit_init(&f);
    /* 10000 MiB device, 5%: 9500 MiB usable = 1000 MiB + 850 x 10 MiB exactly */
    for (uint64_t b = 8; b <= 32; b *= 2)
        add(&f, b, 1000 * MIB + 10 * MIB * b, 10000 * MIB);
    solve_ok(&f);
    assert_int_equal(f.source, GP_FIT_RESERVED);
    assert_int_equal(f.fixed_bytes, 1000 * MIB);
    assert_int_equal(f.per_sample_bytes, 10 * MIB);
    assert_int_equal(f.residual_bytes, 0);
    assert_true(f.linear);
    assert_int_equal(f.headroom_units, 500);
    assert_int_equal(f.device_total, 10000 * MIB);
    assert_int_equal(f.usable_bytes, 9500 * MIB);
    assert_true(f.have_max);
    assert_int_equal(f.max_batch, 850); /* equal to the usable memory still fits */
    assert_boundary(&f);
    assert_int_equal(f.v[1].peak_bytes, 1160 * MIB);

    /* one byte less usable: 849 */
    f.device_total_opt = 10000 * MIB - 20; /* 95% of it is 19 bytes below 9500 MiB */
    solve_ok(&f);
    assert_int_equal(f.usable_bytes, 9500 * MIB - 19);
    assert_int_equal(f.max_batch, 849);
    assert_boundary(&f);
    gp_report_fit_fini(&f);
}

static void test_odd_numbers(void **state)
{
    (void)state;
    struct gp_report_fit f;
    gp_report_fit_init(&f);
    const uint64_t fixed = 3 * GIB + 12345, per = 123456789, total = 80 * GIB;
    const uint64_t b[] = { 7, 13, 200 };
    for (int i = 0; i < 3; i++)
        add(&f, b[i], fixed + per * b[i], total);
    solve_ok(&f);
    assert_int_equal(f.fixed_bytes, fixed);
    assert_int_equal(f.per_sample_bytes, per);
    assert_int_equal(f.residual_bytes, 0); /* collinear */
    assert_true(f.linear);
    /* floor(80 GiB * 0.95) = 81604378624; (81604378624 - 3221237817) / 123456789 = 634 */
    assert_int_equal(f.usable_bytes, UINT64_C(81604378624));
    assert_int_equal(f.max_batch, 634);
    assert_boundary(&f);
    gp_report_fit_fini(&f);
}

static void test_two_points(void **state)
{
    (void)state;
    struct gp_report_fit f;
    gp_report_fit_init(&f);
    add(&f, 16, 2 * GIB + 16 * 3 * MIB, 16 * GIB);
    add(&f, 4, 2 * GIB + 4 * 3 * MIB, 16 * GIB);
    solve_ok(&f);
    assert_int_equal(f.ndistinct, 2);
    assert_int_equal(f.fixed_bytes, 2 * GIB);
    assert_int_equal(f.per_sample_bytes, 3 * MIB);
    assert_int_equal(f.residual_bytes, 0);
    assert_true(f.linear);
    /* floor(16 GiB * 0.95) = 16320875724; (16320875724 - 2 GiB) / 3 MiB = 4505 */
    assert_int_equal(f.usable_bytes, UINT64_C(16320875724));
    assert_int_equal(f.max_batch, 4505);
    assert_boundary(&f);
    gp_report_fit_fini(&f);

    /* a slope of half a byte: the line is exact, the bytes are rounded */
    gp_report_fit_init(&f);
    add(&f, 1, 100, 1000);
    add(&f, 3, 201, 1000);
    solve_ok(&f);
    assert_int_equal(f.per_sample_bytes, 51); /* 50.5 */
    assert_int_equal(f.fixed_bytes, 50);      /* 49.5 */
    assert_int_equal(f.residual_bytes, 0);
    assert_int_equal(f.max_batch, (950 - 50) / 51);
    assert_boundary(&f);
    gp_report_fit_fini(&f);
}

static void test_noisy_but_linear(void **state)
{
    (void)state;
    struct gp_report_fit f;
    gp_report_fit_init(&f);
    const uint64_t b[] = { 8, 16, 32, 64 };
    const int noise[] = { 2, -2, 2, -2 }; /* MiB, no trend */
    for (int i = 0; i < 4; i++)
        add(&f, b[i], GIB + 8 * MIB * b[i] + (uint64_t)((int64_t)noise[i] * (int64_t)MIB),
            16 * GIB);
    solve_ok(&f);
    /* least squares by hand (exact fractions): fixed 1075109531.83, per sample 8343017.74,
     * largest residual 2735415.65 (at batch 16) */
    assert_int_equal(f.fixed_bytes, 1075109532);
    assert_int_equal(f.per_sample_bytes, 8343018);
    assert_int_equal(f.residual_bytes, 2735416);
    assert_true(f.linear); /* 0.17% of the largest peak, no curve */
    assert_int_equal(f.nonlinear_quadratic, 0);
    assert_int_equal(f.nonlinear_residual, 0);
    assert_boundary(&f);
    gp_report_fit_fini(&f);
}

/* peak = 1 GiB + lin * b + quad * b^2 (quad may be negative) at 8, 16, 32, 64 */
static void fill_quadratic(struct gp_report_fit *f, int64_t lin, int64_t quad)
{
    for (int64_t b = 8; b <= 64; b *= 2)
        add(f, (uint64_t)b, (uint64_t)((int64_t)GIB + lin * b + quad * b * b), 16 * GIB);
}

static void test_not_linear(void **state)
{
    (void)state;
    struct gp_report_fit f;
    /* strong curve: the line misses by 31730822 bytes, 2.25% of the largest peak */
    gp_report_fit_init(&f);
    fill_quadratic(&f, (int64_t)MIB, 64 * (int64_t)KIB);
    solve_ok(&f);
    assert_int_equal(f.residual_bytes, 31730822);
    assert_true(f.nonlinear_residual);
    assert_int_equal(f.nonlinear_quadratic, 1);
    assert_false(f.linear);
    gp_report_fit_fini(&f);

    /* mild curve: 0.70% off, under 2%, but a quadratic fits it exactly: faster than linear */
    gp_report_fit_init(&f);
    fill_quadratic(&f, 8 * (int64_t)MIB, 24 * (int64_t)KIB);
    solve_ok(&f);
    assert_int_equal(f.residual_bytes, 11899058);
    assert_false(f.nonlinear_residual);
    assert_int_equal(f.nonlinear_quadratic, 1);
    assert_false(f.linear);
    gp_report_fit_fini(&f);

    /* the same curve bending down: slower than linear */
    gp_report_fit_init(&f);
    fill_quadratic(&f, 16 * (int64_t)MIB, -24 * (int64_t)KIB);
    solve_ok(&f);
    assert_false(f.nonlinear_residual);
    assert_int_equal(f.nonlinear_quadratic, -1);
    assert_false(f.linear);
    gp_report_fit_fini(&f);

    /* a tiny curve (0.05%) is allocator noise, not a finding */
    gp_report_fit_init(&f);
    fill_quadratic(&f, 8 * (int64_t)MIB, 2 * (int64_t)KIB);
    solve_ok(&f);
    assert_int_equal(f.nonlinear_quadratic, 0);
    assert_true(f.linear);
    gp_report_fit_fini(&f);
}

static void test_no_growth(void **state)
{
    (void)state;
    struct gp_report_fit f;
    gp_report_fit_init(&f);
    add(&f, 8, 3 * GIB, 16 * GIB);
    add(&f, 16, 2 * GIB, 16 * GIB);
    solve_ok(&f);
    assert_int_equal(f.per_sample_bytes, -(int64_t)(GIB / 8));
    assert_false(f.have_max);
    gp_report_fit_fini(&f);

    gp_report_fit_init(&f);
    add(&f, 8, 3 * GIB, 16 * GIB);
    add(&f, 16, 3 * GIB, 16 * GIB);
    add(&f, 32, 3 * GIB, 16 * GIB);
    solve_ok(&f);
    assert_int_equal(f.per_sample_bytes, 0);
    assert_int_equal(f.fixed_bytes, 3 * GIB);
    assert_false(f.have_max);
    gp_report_fit_fini(&f);
}

static void test_too_few_sizes(void **state)
{
    (void)state;
    struct gp_report_fit f;
    char err[256];
    gp_report_fit_init(&f);
    add(&f, 8, GIB, 16 * GIB);
    assert_int_equal(gp_report_fit_solve(&f, err, sizeof(err)), -EDOM);
    add(&f, 8, GIB + MIB, 16 * GIB);
    add(&f, 8, GIB + 2 * MIB, 16 * GIB);
    assert_int_equal(gp_report_fit_solve(&f, err, sizeof(err)), -EDOM);
    assert_string_equal(err, "the fit needs runs at two or more different batch sizes (got 3 "
                             "runs, 1 batch size); record another run at a different batch size");
    /* a repeated size next to another one is fine: least squares over both */
    add(&f, 16, GIB + 2 * MIB, 16 * GIB); /* the line runs through (8, GIB + MIB) */
    solve_ok(&f);
    assert_int_equal(f.ndistinct, 2);
    assert_int_equal(f.per_sample_bytes, MIB / 8);
    assert_int_equal(f.fixed_bytes, GIB);
    assert_int_equal(f.residual_bytes, MIB);
    gp_report_fit_fini(&f);
}

static void test_device_total(void **state)
{
    (void)state;
    struct gp_report_fit f;
    char err[256];
    gp_report_fit_init(&f);
    add(&f, 8, GIB + 8 * MIB, 0);
    add(&f, 16, GIB + 16 * MIB, 0);
    assert_int_equal(gp_report_fit_solve(&f, err, sizeof(err)), -ENODATA);
    assert_non_null(strstr(err, "--device-total BYTES"));
    f.device_total_opt = 2 * GIB;
    solve_ok(&f);
    assert_int_equal(f.device_total, 2 * GIB);
    assert_int_equal(f.max_batch, (UINT64_C(2040109465) - GIB) / MIB); /* floor(2 GiB x 0.95) */
    gp_report_fit_fini(&f);

    /* runs that saw different totals: the smallest */
    gp_report_fit_init(&f);
    add(&f, 8, GIB + 8 * MIB, 24 * GIB);
    add(&f, 16, GIB + 16 * MIB, 16 * GIB);
    add(&f, 32, GIB + 32 * MIB, 0);
    solve_ok(&f);
    assert_int_equal(f.device_total, 16 * GIB);
    assert_true(f.totals_differ);
    gp_report_fit_fini(&f);
}

static void test_headroom_and_torch(void **state)
{
    (void)state;
    struct gp_report_fit f;
    gp_report_fit_init(&f);
    /* fragmentation 1000 of 30000 reserved = 3.333...% -> 334 units (rounded up) */
    add_torch(&f, 8, GIB + 8 * MIB, 1000, 30000, 10000 * MIB);
    add_torch(&f, 16, GIB + 16 * MIB, 100, 30000, 10000 * MIB);
    f.headroom_base = 1000; /* --headroom 0.1 */
    solve_ok(&f);
    assert_int_equal(f.source, GP_FIT_ALLOCATED);
    assert_int_equal(f.v[0].peak_bytes, GIB + 8 * MIB); /* the allocated peak, not reserved */
    assert_int_equal(f.frag_units, 334);
    assert_int_equal(f.headroom_units, 1334);
    /* 10000 MiB x (1 - 0.1334) = 8666 MiB */
    assert_int_equal(f.usable_bytes, 8666 * MIB);
    assert_int_equal(f.max_batch, 8666 - 1024);
    assert_boundary(&f);

    /* one run without the adapter: every run falls back to reserved, no allowance */
    struct gp_report_fit_point p = { .file = "plain.gz", .batch = 32,
                                     .reserved_peak = GIB + 40 * MIB, .device_total = 10000 * MIB };
    assert_int_equal(gp_report_fit_add_point(&f, &p), 0);
    f.headroom_base = GP_REPORT_FIT_HEADROOM_DEFAULT;
    solve_ok(&f);
    assert_int_equal(f.source, GP_FIT_RESERVED);
    assert_int_equal(f.v[0].peak_bytes, 30000 + 5 * MIB);
    assert_int_equal(f.frag_units, 0); /* the reserved peaks hold the overhead already */
    assert_int_equal(f.headroom_units, 500);
    gp_report_fit_fini(&f);

    /* a headroom of everything leaves nothing usable: no batch fits */
    gp_report_fit_init(&f);
    add_torch(&f, 8, GIB + 8 * MIB, 1, 1, 10000 * MIB); /* 100% fragmentation */
    add_torch(&f, 16, GIB + 16 * MIB, 0, 1, 10000 * MIB);
    solve_ok(&f);
    assert_int_equal(f.headroom_units, GP_REPORT_FIT_UNITS);
    assert_int_equal(f.usable_bytes, 0);
    assert_true(f.have_max);
    assert_int_equal(f.max_batch, 0);
    gp_report_fit_fini(&f);
}

static void test_labels(void **state)
{
    (void)state;
    char err[128];
    uint64_t b = 0;
    assert_int_equal(gp_report_fit_parse_label("resnet batch=64 amp", &b, err, sizeof(err)), 1);
    assert_int_equal(b, 64);
    assert_int_equal(gp_report_fit_parse_label("batch=8", &b, err, sizeof(err)), 1);
    assert_int_equal(b, 8);
    assert_int_equal(gp_report_fit_parse_label("x\tbatch=1000000000\n", &b, err, sizeof(err)), 1);
    assert_int_equal(b, 1000000000);
    b = 5;
    assert_int_equal(gp_report_fit_parse_label("", &b, err, sizeof(err)), 0);
    assert_int_equal(gp_report_fit_parse_label(NULL, &b, err, sizeof(err)), 0);
    assert_int_equal(gp_report_fit_parse_label("mybatch=3 batch_size=4 BATCH=5", &b, err,
                                               sizeof(err)), 0);
    assert_int_equal(b, 5);
    static const char *const bad[] = { "batch=", "batch=0", "batch=08", "batch=6x", "batch=+5",
                                       "batch=-1", "batch=1000000001", "a batch=1 b batch=2",
                                       "batch=99999999999999999999999", "batch=1,2",
                                       "batch=4'$(id)" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(gp_report_fit_parse_label(bad[i], &b, err, sizeof(err)), -EINVAL);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(b, 5);
    gp_report_fit_parse_label("batch=2 batch=2", &b, err, sizeof(err));
    assert_string_equal(err, "more than one batch=N token");
    gp_report_fit_parse_label("batch=2x", &b, err, sizeof(err));
    assert_string_equal(err, "a batch=N token needs N a whole number from 1 to 1000000000");
}

static void test_option_values(void **state)
{
    (void)state;
    assert_int_equal(gp_report_fit_parse_bytes("85899345920"), UINT64_C(85899345920));
    assert_int_equal(gp_report_fit_parse_bytes("80GiB"), 80 * GIB);
    assert_int_equal(gp_report_fit_parse_bytes("16G"), 16 * GIB);
    assert_int_equal(gp_report_fit_parse_bytes("512MB"), 512 * MIB);
    assert_int_equal(gp_report_fit_parse_bytes("4096B"), 4096);
    assert_int_equal(gp_report_fit_parse_bytes("1T"), 1024 * GIB);
    static const char *const bad[] = { "", "GiB", "-1", "80 GiB", "80Gi", "80GiBs", "12Q",
                                       "99999999999999999999", "16777216T", "0x10" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gp_report_fit_parse_bytes(bad[i]), 0);

    uint64_t *v = NULL;
    assert_int_equal(gp_report_fit_parse_batches("8,16,32", &v), 3);
    assert_int_equal(v[0], 8);
    assert_int_equal(v[1], 16);
    assert_int_equal(v[2], 32);
    free(v);
    assert_int_equal(gp_report_fit_parse_batches("1000000000", &v), 1);
    assert_int_equal(v[0], 1000000000);
    free(v);
    static const char *const badb[] = { "", ",", "8,", ",8", "8,,16", "0", "08", "8, 16", "8;16",
                                        "-8", "1000000001", "8,x" };
    for (size_t i = 0; i < sizeof(badb) / sizeof(badb[0]); i++) {
        assert_int_equal(gp_report_fit_parse_batches(badb[i], &v), -1);
        assert_null(v);
    }
}

/* ---- memory outside the fitted peaks: non-PyTorch, the CUDA context, other processes -- */

/* The inequality the JSON states, in its own terms: fixed + per_sample x max_batch <=
 * floor(total x (1 - headroom)) - other_bytes, and one more sample does not fit. */
static void assert_invariant(const struct gp_report_fit *f)
{
    uint64_t kept = f->device_total / 10000 * (10000 - f->headroom_units) +
                    f->device_total % 10000 * (10000 - f->headroom_units) / 10000;
    assert_int_equal(f->kept_bytes, kept);
    assert_true(f->other_bytes < kept);
    int64_t room = (int64_t)(kept - f->other_bytes);
    assert_int_equal(f->usable_bytes, room);
    assert_true(f->fixed_bytes + f->per_sample_bytes * (int64_t)f->max_batch <= room);
    assert_true(f->fixed_bytes + f->per_sample_bytes * (int64_t)(f->max_batch + 1) > room);
}

static void add_other(struct gp_report_fit *f, int torch, uint64_t batch, uint64_t non_torch,
                      uint64_t context, int source, uint64_t others)
{
    const uint64_t peak = 3 * GIB + 100 * MIB * batch;
    struct gp_report_fit_point p = { .file = "o.gz", .batch = batch, .allocated_peak = peak,
                                     .reserved_peak = peak, .frag_reserved = peak,
                                     .device_total = 80 * GIB, .torch = torch,
                                     .non_torch_bytes = non_torch, .context_bytes = context,
                                     .context_source = source, .other_processes_bytes = others };
    assert_int_equal(gp_report_fit_add_point(f, &p), 0);
}

static void test_other_allocated(void **state)
{
    (void)state;
    struct gp_report_fit f;
    gp_report_fit_init(&f);
    add_other(&f, 1, 8, 300 * MIB, 450 * MIB, GP_FIT_CONTEXT_MEMINFO, 0);
    add_other(&f, 1, 16, 320 * MIB, 440 * MIB, GP_FIT_CONTEXT_ADAPTER, 0);
    add_other(&f, 1, 32, 310 * MIB, 400 * MIB, GP_FIT_CONTEXT_MEMINFO, 100 * MIB);
    solve_ok(&f);
    assert_int_equal(f.source, GP_FIT_ALLOCATED);
    assert_int_equal(f.fixed_bytes, 3 * GIB);
    assert_int_equal(f.per_sample_bytes, 100 * MIB);
    assert_int_equal(f.headroom_units, 500);
    assert_int_equal(f.v[0].other_bytes, 750 * MIB);
    assert_int_equal(f.v[1].other_bytes, 760 * MIB);
    assert_int_equal(f.v[2].other_bytes, 810 * MIB);
    /* the largest run's figure and its parts */
    assert_int_equal(f.other_bytes, 810 * MIB);
    assert_int_equal(f.other_run, 2);
    assert_int_equal(f.other_non_torch, 310 * MIB);
    assert_int_equal(f.other_context, 400 * MIB);
    assert_int_equal(f.other_processes, 100 * MIB);
    assert_int_equal(f.other_context_source, GP_FIT_CONTEXT_MEMINFO);
    assert_int_equal(f.context_defaulted, 0);
    /* floor(80 GiB x 0.95) = 81604378624; less 810 MiB = 80755032064;
     * (80755032064 - 3 GiB) / 100 MiB = 739 (747 without the other memory) */
    assert_int_equal(f.kept_bytes, UINT64_C(81604378624));
    assert_int_equal(f.usable_bytes, UINT64_C(80755032064));
    assert_int_equal(f.max_batch, 739);
    assert_invariant(&f);
    assert_boundary(&f);

    /* --context-bytes replaces every run's context */
    f.context_opt_given = 1;
    f.context_opt = GIB;
    solve_ok(&f);
    assert_int_equal(f.v[1].other_bytes, 320 * MIB + GIB);
    assert_int_equal(f.other_bytes, 410 * MIB + GIB);
    assert_int_equal(f.other_run, 2);
    assert_int_equal(f.other_context, GIB);
    assert_int_equal(f.other_context_source, GP_FIT_CONTEXT_OPTION);
    /* (81604378624 - 1434 MiB - 3 GiB) / 100 MiB = 733 */
    assert_int_equal(f.max_batch, 733);
    assert_invariant(&f);
    /* --context-bytes 0: the context is left out */
    f.context_opt = 0;
    solve_ok(&f);
    assert_int_equal(f.other_bytes, 410 * MIB);
    assert_int_equal(f.other_run, 2);
    assert_int_equal(f.other_context, 0);
    assert_invariant(&f);
    gp_report_fit_fini(&f);
}

static void test_other_reserved_and_default(void **state)
{
    (void)state;
    struct gp_report_fit f;
    gp_report_fit_init(&f);
    /* reserved peaks: the process's own non-PyTorch memory is in them, only the context and
     * other processes count */
    add_other(&f, 0, 8, 300 * MIB, 450 * MIB, GP_FIT_CONTEXT_MEMINFO, 0);
    add_other(&f, 1, 16, 900 * MIB, 440 * MIB, GP_FIT_CONTEXT_MEMINFO, 0);
    add_other(&f, 0, 32, 310 * MIB, 400 * MIB, GP_FIT_CONTEXT_MEMINFO, 100 * MIB);
    solve_ok(&f);
    assert_int_equal(f.source, GP_FIT_RESERVED);
    assert_int_equal(f.v[1].other_bytes, 440 * MIB);
    assert_int_equal(f.other_bytes, 500 * MIB);
    assert_int_equal(f.other_run, 2);
    assert_int_equal(f.other_non_torch, 0);
    assert_int_equal(f.other_context, 400 * MIB);
    assert_int_equal(f.other_processes, 100 * MIB);
    assert_invariant(&f);
    gp_report_fit_fini(&f);

    /* nothing measured the context: the default allowance, counted per run */
    gp_report_fit_init(&f);
    add_other(&f, 1, 8, 30 * MIB, 0, GP_FIT_CONTEXT_DEFAULT, 0);
    add_other(&f, 1, 16, 20 * MIB, 0, GP_FIT_CONTEXT_DEFAULT, 0);
    add_other(&f, 1, 32, 10 * MIB, 350 * MIB, GP_FIT_CONTEXT_MEMINFO, 0);
    solve_ok(&f);
    assert_int_equal(GP_REPORT_FIT_CONTEXT_DEFAULT, 500 * MIB);
    assert_int_equal(f.context_defaulted, 2);
    assert_int_equal(f.other_bytes, 530 * MIB);
    assert_int_equal(f.other_run, 0);
    assert_int_equal(f.other_context, 500 * MIB);
    assert_int_equal(f.other_context_source, GP_FIT_CONTEXT_DEFAULT);
    assert_int_equal(f.v[2].other_bytes, 360 * MIB);
    assert_invariant(&f);
    assert_string_equal(gp_report_fit_context_name(f.other_context_source), "default");
    assert_string_equal(gp_report_fit_context_name(GP_FIT_CONTEXT_MEMINFO), "meminfo");
    assert_string_equal(gp_report_fit_context_name(GP_FIT_CONTEXT_ADAPTER), "adapter");
    assert_string_equal(gp_report_fit_context_name(GP_FIT_CONTEXT_OPTION), "option");
    gp_report_fit_fini(&f);

    /* more memory outside the peaks than the device keeps: nothing usable, no batch fits;
     * a hostile figure saturates instead of wrapping */
    gp_report_fit_init(&f);
    add_other(&f, 1, 8, 0, 0, GP_FIT_CONTEXT_MEMINFO, UINT64_MAX - 5);
    add_other(&f, 1, 16, 10, 0, GP_FIT_CONTEXT_MEMINFO, UINT64_MAX - 5);
    solve_ok(&f);
    assert_int_equal(f.other_bytes, UINT64_MAX);
    assert_int_equal(f.usable_bytes, 0);
    assert_true(f.have_max);
    assert_int_equal(f.max_batch, 0);
    gp_report_fit_fini(&f);
}

/* A PyTorch run as the shim and the adapter write it, on a device of TOT bytes: a cuBLAS
 * workspace of ws bytes outside PyTorch, PyTorch's segments and blocks (allocated peak
 * O_FIXED + O_PER x batch, reserved the same), the context (ctx bytes the process did not
 * allocate) measured by a cudaMemGetInfo at start (how 1), by the adapter's statistics
 * (how 2) or not at all (how 0; no cudaMemGetInfo at all then), and other processes as
 * NVML saw them (0 = no record).
 * torch 0: the same run without the adapter. */
#define TOT (80 * GIB)
#define O_FIXED (2 * GIB + 4096)
#define O_PER (48 * MIB + 512)
static const struct tb_stack st_ws = { 2, { 0x401200, 0x403000 } };
static const struct tb_stack st_seg = { 2, { 0x401300, 0x403000 } };

static int torch_ev(struct tb *tb, uint64_t t, unsigned action, uint64_t ptr, uint64_t size)
{
    return tb_event(tb, GP_REC_TORCH, action, 0, 0, t, size, ptr, 0, 0, NULL);
}

static void write_run(struct tb *tb, int torch, uint64_t batch, uint64_t ws, uint64_t ctx,
                      int how, uint64_t others)
{
    struct gp_trace_header h;
    char label[32];
    tb_header_defaults(&h);
    snprintf(label, sizeof(label), "batch=%" PRIu64, batch);
    h.label = label;
    assert_int_equal(tb_open(tb, &h), 0);
    const uint64_t wsp = 0x7e0000000000, seg_a = 0x7f0000000000, seg_b = 0x7f4000000000;
    const uint64_t own = ws + O_FIXED + O_PER * batch;
    uint64_t t = 100;
    int rc = 0;
    if (how == 1) /* PyTorch asks at start: only the context is in use */
        rc |= tb_event(tb, GP_REC_MEMINFO, GP_API_CUDA_MEM_GET_INFO, 0, 0, t++, TOT - ctx, 0,
                       TOT, 0, NULL);
    rc |= tb_alloc(tb, t++, GP_MEM_DEVICE, wsp, ws, &st_ws);
    rc |= tb_alloc(tb, t++, GP_MEM_DEVICE, seg_a, O_FIXED, &st_seg);
    rc |= tb_alloc(tb, t++, GP_MEM_DEVICE, seg_b, O_PER * batch, &st_seg);
    if (torch) {
        rc |= torch_ev(tb, t++, GP_TORCH_SEGMENT_ALLOC, seg_a, O_FIXED);
        rc |= torch_ev(tb, t++, GP_TORCH_ALLOC, seg_a, O_FIXED);
        rc |= torch_ev(tb, t++, GP_TORCH_SEGMENT_ALLOC, seg_b, O_PER * batch);
        for (uint64_t i = 0; i < batch; i++)
            rc |= torch_ev(tb, t++, GP_TORCH_ALLOC, seg_b + i * O_PER, O_PER);
        rc |= tb_event(tb, GP_REC_TORCH_STAT, GP_TSTAT_DEVICE_TOTAL, GP_TORCH_AT_PERIODIC, 0,
                       t++, TOT, 0, 0, 0, NULL);
        if (how == 2)
            rc |= tb_event(tb, GP_REC_TORCH_STAT, GP_TSTAT_DEVICE_FREE, GP_TORCH_AT_PERIODIC, 0,
                           t++, TOT - ctx - own, 0, 0, 0, NULL);
    }
    if (others) /* as after an OOM: NVML's other processes (one of them) */
        rc |= tb_event(tb, GP_REC_MEMINFO, GP_API_NVML_PROCESSES, 0, 0, t++, others, 4242, 1,
                       0, NULL);
    /* a later answer sees 3 GiB more in use elsewhere: the first one is the context's */
    if (how)
        rc |= tb_event(tb, GP_REC_MEMINFO, GP_API_CUDA_MEM_GET_INFO, 0, 0, t++,
                       TOT - ctx - own - 3 * GIB, 0, TOT, 0, NULL);
    if (torch)
        for (uint64_t i = 0; i < batch; i++) {
            rc |= torch_ev(tb, t++, GP_TORCH_FREE_REQUESTED, seg_b + i * O_PER, O_PER);
            rc |= torch_ev(tb, t++, GP_TORCH_FREE_COMPLETED, seg_b + i * O_PER, O_PER);
        }
    rc |= tb_free(tb, t++, wsp);
    assert_int_equal(rc, 0);
    assert_int_equal(tb_close(tb), 0);
}

static void add_run(struct gp_report_fit *f, struct tb *tb)
{
    char err[512] = "";
    assert_int_equal(gp_report_fit_add_trace(f, tb->path, 0, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void test_other_from_traces(void **state)
{
    (void)state;
    struct gp_report_fit f;
    struct tb tb[4];
    const uint64_t ctx = 517 * MIB + 12345;
    write_run(&tb[0], 1, 8, 8 * MIB, ctx, 1, 0);
    write_run(&tb[1], 1, 16, 8 * MIB + 4096, 600 * MIB, 2, 0);
    write_run(&tb[2], 1, 32, 40 * MIB, ctx, 1, GIB);
    write_run(&tb[3], 1, 24, 8 * MIB, 0, 0, 0);
    gp_report_fit_init(&f);
    for (int i = 0; i < 3; i++)
        add_run(&f, &tb[i]);
    /* each run's own figures */
    assert_true(f.v[0].torch);
    assert_int_equal(f.v[0].allocated_peak, O_FIXED + O_PER * 8);
    assert_int_equal(f.v[0].reserved_peak, 8 * MIB + O_FIXED + O_PER * 8);
    assert_int_equal(f.v[0].device_total, TOT);
    assert_int_equal(f.v[0].non_torch_bytes, 8 * MIB);
    assert_int_equal(f.v[0].context_bytes, ctx);
    assert_int_equal(f.v[0].context_source, GP_FIT_CONTEXT_MEMINFO);
    assert_int_equal(f.v[0].other_processes_bytes, 0);
    assert_int_equal(f.v[1].non_torch_bytes, 8 * MIB + 4096);
    assert_int_equal(f.v[1].context_bytes, 600 * MIB);
    assert_int_equal(f.v[1].context_source, GP_FIT_CONTEXT_ADAPTER);
    assert_int_equal(f.v[2].non_torch_bytes, 40 * MIB);
    assert_int_equal(f.v[2].context_bytes, ctx);
    assert_int_equal(f.v[2].other_processes_bytes, GIB);

    solve_ok(&f);
    assert_int_equal(f.source, GP_FIT_ALLOCATED);
    assert_int_equal(f.fixed_bytes, O_FIXED);
    assert_int_equal(f.per_sample_bytes, O_PER);
    assert_int_equal(f.frag_units, 0);
    assert_int_equal(f.v[0].other_bytes, 8 * MIB + ctx);
    assert_int_equal(f.v[1].other_bytes, 608 * MIB + 4096);
    assert_int_equal(f.other_bytes, 40 * MIB + ctx + GIB);
    assert_int_equal(f.other_run, 2);
    assert_int_equal(f.other_non_torch, 40 * MIB);
    assert_int_equal(f.other_context, ctx);
    assert_int_equal(f.other_processes, GIB);
    assert_int_equal(f.other_context_source, GP_FIT_CONTEXT_MEMINFO);
    /* floor(80 GiB x 0.95) - (1581 MiB + 12345) = 79946567623 usable;
     * (79946567623 - O_FIXED) / O_PER = 1545 (1578 without the other memory) */
    assert_int_equal(f.usable_bytes, UINT64_C(79946567623));
    assert_int_equal(f.max_batch, 1545);
    assert_invariant(&f);

    /* a run nothing measured the context of: the default allowance */
    add_run(&f, &tb[3]);
    assert_int_equal(f.v[3].context_source, GP_FIT_CONTEXT_DEFAULT);
    assert_int_equal(f.v[3].context_bytes, 0);
    assert_int_equal(f.v[3].non_torch_bytes, 8 * MIB);
    solve_ok(&f);
    assert_int_equal(f.context_defaulted, 1);
    assert_int_equal(f.v[3].other_bytes, 508 * MIB);
    assert_int_equal(f.other_run, 2); /* still the largest */
    assert_invariant(&f);
    gp_report_fit_fini(&f);

    /* the same runs without the adapter: reserved peaks hold the workspaces already */
    for (int i = 0; i < 4; i++)
        tb_remove(&tb[i]);
    write_run(&tb[0], 0, 8, 8 * MIB, ctx, 1, 0);
    write_run(&tb[1], 0, 16, 8 * MIB, 300 * MIB, 1, 0);
    write_run(&tb[2], 0, 32, 40 * MIB, ctx, 1, GIB);
    gp_report_fit_init(&f);
    for (int i = 0; i < 3; i++)
        add_run(&f, &tb[i]);
    solve_ok(&f);
    assert_int_equal(f.source, GP_FIT_RESERVED);
    assert_int_equal(f.v[1].context_bytes, 300 * MIB);
    assert_int_equal(f.v[2].non_torch_bytes, 0);
    assert_int_equal(f.other_bytes, ctx + GIB);
    assert_int_equal(f.other_non_torch, 0);
    assert_int_equal(f.other_run, 2);
    assert_invariant(&f);
    gp_report_fit_fini(&f);
    for (int i = 0; i < 3; i++)
        tb_remove(&tb[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_line_boundary), cmocka_unit_test(test_odd_numbers),
        cmocka_unit_test(test_two_points),          cmocka_unit_test(test_noisy_but_linear),
        cmocka_unit_test(test_not_linear),          cmocka_unit_test(test_no_growth),
        cmocka_unit_test(test_too_few_sizes),       cmocka_unit_test(test_device_total),
        cmocka_unit_test(test_headroom_and_torch),  cmocka_unit_test(test_labels),
        cmocka_unit_test(test_option_values),       cmocka_unit_test(test_other_allocated),
        cmocka_unit_test(test_other_reserved_and_default),
        cmocka_unit_test(test_other_from_traces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
