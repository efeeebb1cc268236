/* test_sass_cubin.c — layer 4 on real machine code: cubins compiled in the test build by the
 * toolkit's nvcc for sm_80 (tests/sass/tc_kernels.cu, cc_kernels.cu; argv[1], argv[2]),
 * disassembled by the real nvdisasm or cuobjdump. Each inline mma.sync is exactly one
 * Tensor Core instruction, the WMMA 16x16x16 tile two, the axpy one FFMA. Exits 77
 * (ctest SKIP_RETURN_CODE) only when no disassembler can be found. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"

static const char *tc_cubin, *cc_cubin;

static const struct gp_report_sass_func *func(const struct gp_report_sass *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    fail_msg("no function %s in the listing", name);
    return NULL;
}

static void test_tensor_kernels(void **state)
{
    (void)state;
    struct gp_report_sass s;
    char err[512] = "";
    int rc = gp_report_sass_count(tc_cubin, NULL, &s, err, sizeof err);
    if (rc < 0)
        fail_msg("%s", err);
    assert_int_equal(s.n, 4);
    const struct gp_report_sass_func *f = func(&s, "tc_mma_f16");
    assert_string_equal(f->verdict, "tensor (HMMA x 1)");
    assert_int_equal(f->count[GP_SASS_FFMA], 0);
    assert_string_equal(func(&s, "tc_mma_s8")->verdict, "tensor (IMMA x 1)");
    assert_string_equal(func(&s, "tc_mma_f64")->verdict, "tensor (DMMA x 1)");
    f = func(&s, "tc_wmma_f16");
    assert_int_equal(f->cls, GP_KC_TENSOR);
    assert_string_equal(f->verdict, "tensor (HMMA x 2)");
    gp_report_sass_fini(&s);
}

static void test_ffma_kernel(void **state)
{
    (void)state;
    struct gp_report_sass s;
    char err[512] = "";
    int rc = gp_report_sass_count(cc_cubin, NULL, &s, err, sizeof err);
    if (rc < 0)
        fail_msg("%s", err);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].name, "cc_axpy");
    assert_int_equal(s.v[0].cls, GP_KC_CUDA_CORE);
    /* ptxas also emits HFMA2.MMA as a register move here: it must not count */
    assert_string_equal(s.v[0].verdict, "cuda-core (FFMA x 1)");
    gp_report_sass_fini(&s);
}

static void test_not_a_cubin(void **state)
{
    (void)state;
    struct gp_report_sass s;
    char err[512] = "";
    /* a source file is not a cubin: the tool's failure comes back as -EINVAL with its words */
    assert_int_equal(gp_report_sass_count(__FILE__, NULL, &s, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "exited with status"));
    assert_int_equal(s.n, 0);
}

int main(int argc, char **argv)
{
    char tool[4096];
    if (argc < 3) {
        fprintf(stderr, "usage: %s tc_kernels.cubin cc_kernels.cubin\n", argv[0]);
        return 2;
    }
    tc_cubin = argv[1];
    cc_cubin = argv[2];
    if (gp_report_sass_find_tool(tool, sizeof tool) < 0) {
        printf("SKIP: neither nvdisasm nor cuobjdump was found (PATH, CUDA_HOME, /usr/local/cuda, "
               "pip nvidia-cuda-nvdisasm; or set GPUPROF_NVDISASM=/path/to/nvdisasm)\n");
        return 77;
    }
    printf("disassembler: %s\n", tool);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_kernels),
        cmocka_unit_test(test_ffma_kernel),
        cmocka_unit_test(test_not_a_cubin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
