/* test_options.c — GPUPROF_* parsing: valid values, garbage, bounds, defaults. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

static void test_bool(void **state)
{
    (void)state;
    bool b = false;
    assert_int_equal(gp_shim_parse_bool("YES", &b), 0);
    assert_true(b);
    assert_int_equal(gp_shim_parse_bool("off", &b), 0);
    assert_false(b);
    assert_int_equal(gp_shim_parse_bool("2", &b), -EINVAL);
    assert_int_equal(gp_shim_parse_bool("", &b), -EINVAL);
    assert_int_equal(gp_shim_parse_bool("truely", &b), -EINVAL);
}

static void test_size(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(gp_shim_parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(gp_shim_parse_size("16M", &v), 0);
    assert_int_equal(v, 16ull << 20);
    assert_int_equal(gp_shim_parse_size("2gb", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(gp_shim_parse_size("1T", &v), 0);
    assert_int_equal(v, 1ull << 40);
    assert_int_equal(gp_shim_parse_size("", &v), -EINVAL);
    assert_int_equal(gp_shim_parse_size("M", &v), -EINVAL);
    assert_int_equal(gp_shim_parse_size("12Q", &v), -EINVAL);
    assert_int_equal(gp_shim_parse_size("12MBx", &v), -EINVAL);
    assert_int_equal(gp_shim_parse_size("-1", &v), -EINVAL);
    assert_int_equal(gp_shim_parse_size("99999999999999999999", &v), -EINVAL);
    assert_int_equal(gp_shim_parse_size("17179869184G", &v), -EINVAL); /* 2^34 G overflows */
}

static void test_uint(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(gp_shim_parse_uint("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(gp_shim_parse_uint("18446744073709551616", &v), -EINVAL);
    assert_int_equal(gp_shim_parse_uint("12 ", &v), -EINVAL);
    assert_int_equal(gp_shim_parse_uint("0x10", &v), -EINVAL);
}

static void test_load_defaults_and_garbage(void **state)
{
    (void)state;
    struct gp_shim_options o;
    unsetenv("GPUPROF_DEPTH");
    unsetenv("GPUPROF_BUFFER");
    unsetenv("GPUPROF_OUTPUT");
    unsetenv("GPUPROF_ENABLE");
    unsetenv("GPUPROF_FLUSH_MS");
    unsetenv("GPUPROF_LABEL");
    gp_shim_options_load(&o);
    assert_int_equal(o.depth, 64);
    assert_int_equal(o.buffer, 16ull << 20);
    assert_string_equal(o.output, "gpuprof.%p.gz");
    assert_string_equal(o.label, "");
    assert_true(o.enabled);
    assert_int_equal(o.flush_ms, 1000);

    setenv("GPUPROF_DEPTH", "banana", 1);     /* garbage: default */
    setenv("GPUPROF_BUFFER", "1K", 1);        /* below the minimum: default */
    setenv("GPUPROF_FLUSH_MS", "250", 1);
    setenv("GPUPROF_LABEL", "batch=32", 1);
    setenv("GPUPROF_ENABLE", "maybe", 1);
    setenv("GPUPROF_OUTPUT", "", 1);          /* empty: default */
    gp_shim_options_load(&o);
    assert_int_equal(o.depth, 64);
    assert_int_equal(o.buffer, 16ull << 20);
    assert_int_equal(o.flush_ms, 250);
    assert_string_equal(o.label, "batch=32");
    assert_true(o.enabled);
    assert_string_equal(o.output, "gpuprof.%p.gz");

    setenv("GPUPROF_DEPTH", "257", 1);
    gp_shim_options_load(&o);
    assert_int_equal(o.depth, 64);
    setenv("GPUPROF_DEPTH", "0", 1);
    setenv("GPUPROF_ENABLE", "off", 1);
    gp_shim_options_load(&o);
    assert_int_equal(o.depth, 0);
    assert_false(o.enabled);
}

/* The CUPTI settings (cupti/): kernels on, search for libcupti, 8 x 8 MiB buffers. */
static void test_load_cupti_settings(void **state)
{
    (void)state;
    struct gp_shim_options o;
    unsetenv("GPUPROF_KERNELS");
    unsetenv("GPUPROF_CUPTI");
    unsetenv("GPUPROF_CUPTI_BUFFER");
    unsetenv("GPUPROF_CUPTI_BUFFERS");
    gp_shim_options_load(&o);
    assert_true(o.kernels);
    assert_string_equal(o.cupti, "");
    assert_int_equal(o.cupti_buffer, 8ull << 20);
    assert_int_equal(o.cupti_buffers, 8);

    setenv("GPUPROF_KERNELS", "0", 1);
    setenv("GPUPROF_CUPTI", "/opt/cupti/lib64", 1);
    setenv("GPUPROF_CUPTI_BUFFER", "1M", 1);
    setenv("GPUPROF_CUPTI_BUFFERS", "32", 1);
    gp_shim_options_load(&o);
    assert_false(o.kernels);
    assert_string_equal(o.cupti, "/opt/cupti/lib64");
    assert_int_equal(o.cupti_buffer, 1ull << 20);
    assert_int_equal(o.cupti_buffers, 32);

    setenv("GPUPROF_KERNELS", "sometimes", 1); /* garbage: default */
    setenv("GPUPROF_CUPTI_BUFFER", "1K", 1);   /* below 64K: default */
    setenv("GPUPROF_CUPTI_BUFFERS", "1", 1);   /* below 2: default */
    gp_shim_options_load(&o);
    assert_true(o.kernels);
    assert_int_equal(o.cupti_buffer, 8ull << 20);
    assert_int_equal(o.cupti_buffers, 8);
    unsetenv("GPUPROF_KERNELS");
    unsetenv("GPUPROF_CUPTI");
    unsetenv("GPUPROF_CUPTI_BUFFER");
    unsetenv("GPUPROF_CUPTI_BUFFERS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_cupti_settings),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_load_defaults_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
