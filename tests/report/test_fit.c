/* test_fit.c — the batch-size fit's math (report/fit.c) on synthetic points with known
 * fixed and per-sample bytes: exact lines, the max_batch boundary, two points, collinear
 * points, non-linear growth (by residual and by a quadratic term), no growth, the headroom
 * with fragmentation, the device total, and the batch=N label parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * KIB)
#define GIB (MIB * KIB)

static void add(struct gp_report_fit *f, uint64_t batch, uint64_t peak, uint64_t total)
{
    struct gp_report_fit_point p = { .file = "t.gz", .batch = batch, .reserved_peak = peak,
                                     .device_total = total };
    assert_int_equal(gp_report_fit_add_point(f, &p), 0);
}

static void add_torch(struct gp_report_fit *f, uint64_t batch, uint64_t allocated, uint64_t frag,
                      uint64_t reserved, uint64_t total)
{
    struct gp_report_fit_point p = { .file = "t.gz", .batch = batch, .allocated_peak = allocated,
                                     .reserved_peak = reserved + 5 * MIB, .frag_bytes = frag,
                                     .frag_reserved = reserved, .device_total = total,
                                     .torch = 1 };
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_line_boundary), cmocka_unit_test(test_odd_numbers),
        cmocka_unit_test(test_two_points),          cmocka_unit_test(test_noisy_but_linear),
        cmocka_unit_test(test_not_linear),          cmocka_unit_test(test_no_growth),
        cmocka_unit_test(test_too_few_sizes),       cmocka_unit_test(test_device_total),
        cmocka_unit_test(test_headroom_and_torch),  cmocka_unit_test(test_labels),
        cmocka_unit_test(test_option_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
