/* test_tensor.c — the layer-1 Tensor Core classifier (report/analysis_tensor.c) on
 * hand-made LIBCALL records: each precision rule, the math-mode and compute-type paths,
 * GEMV and alignment shapes, pedantic and unknown cases, with exact reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"

/* cudaDataType + 1 as stored in traces */
enum { F32 = 1, F64 = 2, F16 = 3, I8 = 4, I32 = 11, BF16 = 15, E4M3 = 29 };

static struct gp_record call(unsigned api, unsigned math, uint64_t m, uint64_t n, uint64_t k,
                             unsigned type, int32_t compute)
{
    struct gp_record r;
    memset(&r, 0, sizeof r);
    r.type = GP_REC_LIBCALL;
    r.api = (uint8_t)api;
    r.kind = (uint8_t)math;
    r.size = m;
    r.aux1 = n;
    r.aux2 = k;
    r.lib.batch = 1;
    r.lib.lda = m;
    r.lib.ldb = k;
    r.lib.ldc = m;
    r.lib.type_a = r.lib.type_b = r.lib.type_c = (uint8_t)type;
    r.lib.compute = compute;
    r.lib.algo = GP_LIB_UNKNOWN;
    return r;
}

static void expect(const struct gp_record *r, unsigned cls, const char *prec, const char *reason)
{
    struct gp_report_tc_verdict v;
    gp_report_tc_classify(r, &v);
    assert_string_equal(gp_report_tc_class_name(v.cls), gp_report_tc_class_name(cls));
    assert_string_equal(v.precision, prec);
    assert_string_equal(v.layer, "asked");
    assert_string_equal(v.reason, reason);
}

static void test_fp32(void **state)
{
    (void)state;
    struct gp_record r = call(GP_LIB_SGEMM, 0, 128, 128, 128, F32, 68);
    expect(&r, GP_TC_NOT_ALLOWED, "fp32",
           "fp32 without TF32: compute type CUBLAS_COMPUTE_32F and math mode CUBLAS_DEFAULT_MATH");
    r.kind = 3; /* CUBLAS_TF32_TENSOR_OP_MATH */
    expect(&r, GP_TC_ALLOWED, "tf32", "fp32 inputs with TF32 allowed (CUBLAS_TF32_TENSOR_OP_MATH)");
    r.kind = 3 | 16; /* + DISALLOW_REDUCED_PRECISION_REDUCTION flag: still TF32 */
    expect(&r, GP_TC_ALLOWED, "tf32", "fp32 inputs with TF32 allowed (CUBLAS_TF32_TENSOR_OP_MATH)");
    r.kind = 0;
    r.lib.compute = 77; /* CUBLAS_COMPUTE_32F_FAST_TF32 */
    expect(&r, GP_TC_ALLOWED, "tf32", "fp32 inputs with TF32 allowed (CUBLAS_COMPUTE_32F_FAST_TF32)");
    r.lib.compute = 75;
    expect(&r, GP_TC_ALLOWED, "bf16", "fp32 inputs down-converted to bf16 (CUBLAS_COMPUTE_32F_FAST_16BF)");
    r.lib.compute = 0; /* legacy CUDA_R_32F as compute type = CUBLAS_COMPUTE_32F */
    expect(&r, GP_TC_NOT_ALLOWED, "fp32",
           "fp32 without TF32: compute type CUBLAS_COMPUTE_32F and math mode CUBLAS_DEFAULT_MATH");
    r.lib.compute = 69; /* CUBLAS_COMPUTE_32F_PEDANTIC */
    expect(&r, GP_TC_UNKNOWN, "unknown",
           "pedantic compute type: cuBLAS keeps the prescribed arithmetic; not decided from the call");
    /* fp32 has no alignment rule at layer 1: an odd m with TF32 stays allowed */
    r = call(GP_LIB_SGEMM, 3, 127, 5, 3, F32, 68);
    expect(&r, GP_TC_ALLOWED, "tf32", "fp32 inputs with TF32 allowed (CUBLAS_TF32_TENSOR_OP_MATH)");
}

static void test_low_precision(void **state)
{
    (void)state;
    struct gp_record r = call(GP_LIB_GEMM_EX, 0, 256, 256, 256, F16, 68);
    expect(&r, GP_TC_ALLOWED, "fp16", "fp16 inputs");
    r = call(GP_LIB_GEMM_EX, 0, 256, 256, 256, BF16, 68);
    expect(&r, GP_TC_ALLOWED, "bf16", "bf16 inputs");
    r = call(GP_LIB_GEMM_EX, 0, 256, 256, 256, E4M3, 68);
    expect(&r, GP_TC_ALLOWED, "fp8", "fp8 inputs");
    r = call(GP_LIB_GEMM_EX, 0, 64, 64, 64, I8, 72);
    r.lib.type_c = I32;
    expect(&r, GP_TC_ALLOWED, "int8", "int8 inputs");
    r = call(GP_LIB_HGEMM, 2, 64, 64, 64, F16, 64); /* CUBLAS_PEDANTIC_MATH */
    expect(&r, GP_TC_UNKNOWN, "unknown",
           "pedantic math mode: cuBLAS keeps the prescribed arithmetic; not decided from the call");
}

static void test_shapes(void **state)
{
    (void)state;
    struct gp_record r = call(GP_LIB_GEMM_EX, 0, 1, 512, 64, F16, 68);
    expect(&r, GP_TC_DEFEATED, "fp16", "GEMV shape (m = 1): a matrix-vector product, not run on Tensor Cores");
    r = call(GP_LIB_GEMM_EX, 0, 64, 1, 64, BF16, 68);
    expect(&r, GP_TC_DEFEATED, "bf16", "GEMV shape (n = 1): a matrix-vector product, not run on Tensor Cores");
    r = call(GP_LIB_GEMM_EX, 0, 512, 1000, 1002, F16, 68);
    expect(&r, GP_TC_SLOWED, "fp16",
           "k = 1002 not a multiple of 8 (fp16): Tensor Core kernels need 16-byte multiples");
    r = call(GP_LIB_GEMM_EX, 0, 512, 512, 512, F16, 68);
    r.lib.ldb = 516;
    expect(&r, GP_TC_SLOWED, "fp16",
           "ldb = 516 not a multiple of 8 (fp16): Tensor Core kernels need 16-byte multiples");
    r = call(GP_LIB_GEMM_EX, 0, 64, 64, 40, I8, 72); /* int8: 16 elements */
    expect(&r, GP_TC_SLOWED, "int8",
           "k = 40 not a multiple of 16 (int8): Tensor Core kernels need 16-byte multiples");
    /* GEMV wins over alignment; fp32 without TF32 wins over GEMV */
    r = call(GP_LIB_GEMM_EX, 0, 1001, 1, 3, F16, 68);
    expect(&r, GP_TC_DEFEATED, "fp16", "GEMV shape (n = 1): a matrix-vector product, not run on Tensor Cores");
    r = call(GP_LIB_SGEMM, 0, 64, 1, 64, F32, 68);
    expect(&r, GP_TC_NOT_ALLOWED, "fp32",
           "fp32 without TF32: compute type CUBLAS_COMPUTE_32F and math mode CUBLAS_DEFAULT_MATH");
}

static void test_unknown(void **state)
{
    (void)state;
    struct gp_record r = call(GP_LIB_LT_MATMUL, 0xff, 0, 0, 0, 0, GP_LIB_UNKNOWN);
    expect(&r, GP_TC_UNKNOWN, "unknown",
           "data types not recorded (cublasLtMatmul: descriptors could not be read)");
    r = call(GP_LIB_GEMM_EX, 0, 64, 64, 64, F64, 70);
    expect(&r, GP_TC_UNKNOWN, "fp64",
           "fp64: Tensor Cores (DMMA) exist on some GPUs only; not decided from the call");
    assert_string_equal(gp_report_tc_class_name(99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp32),
        cmocka_unit_test(test_low_precision),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
