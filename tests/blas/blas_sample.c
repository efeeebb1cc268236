/* blas_sample.c — a program calling cuBLAS (the fake of tests/fakecuda/cublas) with known
 * shapes, data types and math modes; check_blas_trace.c and test_blas_report.py hold the
 * numbers it must produce. Each call is on its own line of main() so each is its own site. */
#include <stdint.h>
#include <stdio.h>

#include <cublasLt.h>
#include <cublas_v2.h>

typedef struct __half __half; /* C has only the forward declaration */
cublasStatus_t cublasHgemm_64(cublasHandle_t handle, cublasOperation_t transa,
                              cublasOperation_t transb, int64_t m, int64_t n, int64_t k,
                              const __half *alpha, const __half *A, int64_t lda, const __half *B,
                              int64_t ldb, const __half *beta, __half *C, int64_t ldc);
unsigned fake_cublaslt_matmul_calls(void);
void fake_cublaslt_algo_init(cublasLtMatmulAlgo_t *algo, int32_t id, uint64_t flags);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != CUBLAS_STATUS_SUCCESS) {                                                        \
            fprintf(stderr, "%s failed\n", #x);                                                    \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    cublasHandle_t h;
    float f = 1;
    const void *arr[1] = {&f};
    void *carr[1] = {&f};
    CHECK(cublasCreate_v2(&h));
    CHECK(cublasSetStream_v2(h, (cudaStream_t)(uintptr_t)0x5000));
    /* 1: fp32, default math: no Tensor Cores */
    CHECK(cublasSgemm_v2(h, CUBLAS_OP_N, CUBLAS_OP_N, 128, 64, 32, &f, &f, 128, &f, 32, &f, &f, 128));
    /* 2: fp32 with TF32 math */
    CHECK(cublasSetMathMode(h, CUBLAS_TF32_TENSOR_OP_MATH));
    CHECK(cublasSgemm_v2(h, CUBLAS_OP_T, CUBLAS_OP_N, 128, 64, 32, &f, &f, 32, &f, 32, &f, &f, 128));
    CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    /* 3: fp16, m = 1002 not a multiple of 8 (GemmEx reaches cublasLtMatmul inside) */
    CHECK(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 1002, 512, 64, &f, &f, CUDA_R_16F, 1002, &f,
                       CUDA_R_16F, 64, &f, &f, CUDA_R_16F, 1002, CUBLAS_COMPUTE_32F,
                       CUBLAS_GEMM_DEFAULT));
    /* 4: bf16, aligned: Tensor Cores allowed */
    CHECK(cublasGemmEx_64(h, CUBLAS_OP_N, CUBLAS_OP_T, 256, 256, 256, &f, &f, CUDA_R_16BF, 256, &f,
                          CUDA_R_16BF, 256, &f, &f, CUDA_R_16BF, 256, CUBLAS_COMPUTE_32F,
                          CUBLAS_GEMM_DEFAULT_TENSOR_OP));
    /* 5: fp16 strided batch of GEMVs (n = 1) */
    CHECK(cublasGemmStridedBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 64, 1, 64, &f, &f, CUDA_R_16F, 64,
                                     4096, &f, CUDA_R_16F, 64, 64, &f, &f, CUDA_R_16F, 64, 64, 8,
                                     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    /* 6: int8 batched */
    CHECK(cublasGemmBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, 32, 32, 32, &f, arr, CUDA_R_8I, 32, arr,
                              CUDA_R_8I, 32, &f, carr, CUDA_R_32I, 32, 2, CUBLAS_COMPUTE_32I,
                              CUBLAS_GEMM_DEFAULT));
    /* 7: fp16 Hgemm, 64-bit API */
    CHECK(cublasHgemm_64(h, CUBLAS_OP_N, CUBLAS_OP_N, 64, 64, 64, NULL, NULL, 64, NULL, 64, NULL,
                         NULL, 64));
    /* 8: fp32 strided batched, default math */
    CHECK(cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, 16, 16, 16, &f, &f, 16, 256, &f, 16,
                                    256, &f, &f, 16, 256, 4));
    /* 9: cuBLASLt called by the program itself */
    CHECK(cublasLtMatmul(NULL, NULL, &f, &f, NULL, &f, NULL, &f, &f, NULL, &f, NULL, NULL, NULL, 0,
                         (cudaStream_t)(uintptr_t)0x6000));
    /* 10: cuBLASLt with descriptors: bf16, op(A) = A^T, 128x96x64, batch 2, and an HMMA
     * algorithm (id 21; the GAUSSIAN bit, above bit 30, is not kept) */
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, lc, ld;
    cublasLtMatmulAlgo_t algo;
    int32_t trans = CUBLAS_OP_T, batch = 2;
    CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof trans));
    CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, 64, 128, 64));
    CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, 64, 96, 64));
    CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, 128, 96, 128));
    CHECK(cublasLtMatrixLayoutSetAttribute(lc, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
    fake_cublaslt_algo_init(&algo, 21,
                            CUBLASLT_NUMERICAL_IMPL_FLAGS_HMMA |
                                CUBLASLT_NUMERICAL_IMPL_FLAGS_ACCUMULATOR_32F |
                                CUBLASLT_NUMERICAL_IMPL_FLAGS_INPUT_16BF |
                                CUBLASLT_NUMERICAL_IMPL_FLAGS_GAUSSIAN);
    CHECK(cublasLtMatmul(NULL, desc, &f, &f, la, &f, lb, &f, &f, lc, &f, lc, &algo, NULL, 0, NULL));
    CHECK(cublasLtMatrixLayoutDestroy(la));
    CHECK(cublasLtMatrixLayoutDestroy(lb));
    CHECK(cublasLtMatrixLayoutDestroy(lc));
    CHECK(cublasLtMatmulDescDestroy(desc));
    /* 11: fp16, 64x64x60 (k not a multiple of 8), compute and scale 16F, an FMA algorithm */
    CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_16F, CUDA_R_16F));
    CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, 64, 60, 64));
    CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16F, 60, 64, 64));
    CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16F, 64, 64, 64));
    fake_cublaslt_algo_init(&algo, 7,
                            CUBLASLT_NUMERICAL_IMPL_FLAGS_FMA |
                                CUBLASLT_NUMERICAL_IMPL_FLAGS_ACCUMULATOR_16F |
                                CUBLASLT_NUMERICAL_IMPL_FLAGS_INPUT_16F);
    CHECK(cublasLtMatmul(NULL, desc, &f, &f, la, &f, lb, &f, &f, lc, &f, lc, &algo, NULL, 0, NULL));
    CHECK(cublasLtMatrixLayoutDestroy(la));
    CHECK(cublasLtMatrixLayoutDestroy(lb));
    CHECK(cublasLtMatrixLayoutDestroy(lc));
    CHECK(cublasLtMatmulDescDestroy(desc));
    /* 12: fp8 32x32x64, C bf16 and D fp8 (its own layout), no algorithm: cuBLASLt picks one */
    CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_8F_E4M3, 32, 64, 32));
    CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8F_E4M3, 64, 32, 64));
    CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, 32, 32, 32));
    CHECK(cublasLtMatrixLayoutCreate(&ld, CUDA_R_8F_E4M3, 32, 32, 32));
    CHECK(cublasLtMatmul(NULL, desc, &f, &f, la, &f, lb, &f, &f, lc, &f, ld, NULL, NULL, 0, NULL));
    CHECK(cublasLtMatrixLayoutDestroy(la));
    CHECK(cublasLtMatrixLayoutDestroy(lb));
    CHECK(cublasLtMatrixLayoutDestroy(lc));
    CHECK(cublasLtMatrixLayoutDestroy(ld));
    CHECK(cublasLtMatmulDescDestroy(desc));
    CHECK(cublasDestroy_v2(h));
    /* Both GemmEx calls and the four direct calls really reached cuBLASLt. */
    if (fake_cublaslt_matmul_calls() != 6) {
        fprintf(stderr, "cublasLtMatmul reached %u times, want 6\n", fake_cublaslt_matmul_calls());
        return 1;
    }
    return 0;
}
