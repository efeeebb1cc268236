/* fake_cublas.c — a stand-in for libcublas.so.13 with the real prototypes (cublas_v2.h): a
 * handle remembers its math mode and stream, every GEMM returns success without doing any
 * math; each launches one named kernel through the fake libcupti (fake_blas_kernel.h).
 * cublasGemmEx and cublasGemmEx_64 call cublasLtMatmul through the PLT, as the real library
 * does, so tests can check that a nested call is counted once. Test-only. */
#include <stdlib.h>

#include <cublasLt.h>
#include <cublas_v2.h>

#include "fake_blas_kernel.h"

/* cublas_api.h declares the half-precision GEMMs for C++ only; in C, __half is the struct
 * cuda_fp16.h forward-declares (the functions only pass pointers to it). */
typedef struct __half __half;

struct cublasContext {
    cublasMath_t math;
    cudaStream_t stream;
};

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
{
    if (handle == NULL)
        return CUBLAS_STATUS_INVALID_VALUE;
    *handle = calloc(1, sizeof **handle);
    return *handle != NULL ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
{
    free(handle);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
{
    if (handle == NULL)
        return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = streamId;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
{
    if (handle == NULL)
        return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t *mode)
{
    if (handle == NULL || mode == NULL)
        return handle == NULL ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_INVALID_VALUE;
    *mode = handle->math;
    return CUBLAS_STATUS_SUCCESS;
}

static cublasStatus_t fake_check(cublasHandle_t handle, long long m, long long n, long long k)
{
    if (handle == NULL)
        return CUBLAS_STATUS_NOT_INITIALIZED;
    if (m < 0 || n < 0 || k < 0)
        return CUBLAS_STATUS_INVALID_VALUE;
    return CUBLAS_STATUS_SUCCESS;
}

/* Checks the call, then launches its kernel on the handle's stream. */
static cublasStatus_t fake_gemm(cublasHandle_t handle, int atype, int compute, long long m,
                                long long n, long long k, long long lda, long long ldb,
                                long long ldc)
{
    cublasStatus_t s = fake_check(handle, m, n, k);
    if (s == CUBLAS_STATUS_SUCCESS)
        fake_blas_launch(handle->stream, atype, compute, (int)handle->math, m, n, k, lda, ldb,
                         ldc);
    return s;
}

/* The parameters each family shares, for the int and the int64_t variants. */
#define FAKE_SGEMM(name, I)                                                                        \
    cublasStatus_t name(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, \
                        I m, I n, I k, const float *alpha, const float *A, I lda, const float *B,  \
                        I ldb, const float *beta, float *C, I ldc)                                 \
    {                                                                                              \
        (void)transa, (void)transb, (void)alpha, (void)A, (void)B, (void)beta, (void)C;           \
        return fake_gemm(handle, CUDA_R_32F, CUBLAS_COMPUTE_32F, m, n, k, lda, ldb, ldc);          \
    }
FAKE_SGEMM(cublasSgemm_v2, int)
FAKE_SGEMM(cublasSgemm_v2_64, int64_t)

#define FAKE_HGEMM(name, I)                                                                        \
    cublasStatus_t name(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, \
                        I m, I n, I k, const __half *alpha, const __half *A, I lda,                \
                        const __half *B, I ldb, const __half *beta, __half *C, I ldc)              \
    {                                                                                              \
        (void)transa, (void)transb, (void)alpha, (void)A, (void)B, (void)beta, (void)C;           \
        return fake_gemm(handle, CUDA_R_16F, CUBLAS_COMPUTE_16F, m, n, k, lda, ldb, ldc);          \
    }
FAKE_HGEMM(cublasHgemm, int)
FAKE_HGEMM(cublasHgemm_64, int64_t)

#define FAKE_STRIDED(name, T, I, AT, CT)                                                           \
    cublasStatus_t name(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, \
                        I m, I n, I k, const T *alpha, const T *A, I lda, long long strideA,       \
                        const T *B, I ldb, long long strideB, const T *beta, T *C, I ldc,          \
                        long long strideC, I batchCount)                                           \
    {                                                                                              \
        (void)transa, (void)transb, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb;          \
        (void)beta, (void)C, (void)ldc, (void)strideA, (void)strideB, (void)strideC;              \
        if (batchCount < 0)                                                                        \
            return CUBLAS_STATUS_INVALID_VALUE;                                                    \
        return fake_gemm(handle, AT, CT, m, n, k, lda, ldb, ldc);                                  \
    }
FAKE_STRIDED(cublasSgemmStridedBatched, float, int, CUDA_R_32F, CUBLAS_COMPUTE_32F)
FAKE_STRIDED(cublasSgemmStridedBatched_64, float, int64_t, CUDA_R_32F, CUBLAS_COMPUTE_32F)
FAKE_STRIDED(cublasHgemmStridedBatched, __half, int, CUDA_R_16F, CUBLAS_COMPUTE_16F)
FAKE_STRIDED(cublasHgemmStridedBatched_64, __half, int64_t, CUDA_R_16F, CUBLAS_COMPUTE_16F)

/* Like the real library, the Ex GEMM hands the product to cuBLASLt (through the PLT). */
#define FAKE_GEMMEX(name, I)                                                                       \
    cublasStatus_t name(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, \
                        I m, I n, I k, const void *alpha, const void *A, cudaDataType Atype,       \
                        I lda, const void *B, cudaDataType Btype, I ldb, const void *beta,         \
                        void *C, cudaDataType Ctype, I ldc, cublasComputeType_t computeType,       \
                        cublasGemmAlgo_t algo)                                                     \
    {                                                                                              \
        (void)transa, (void)transb, (void)Btype, (void)Ctype, (void)algo;                         \
        cublasStatus_t s = fake_gemm(handle, (int)Atype, (int)computeType, m, n, k, lda, ldb, ldc); \
        if (s != CUBLAS_STATUS_SUCCESS)                                                            \
            return s;                                                                              \
        return cublasLtMatmul(NULL, NULL, alpha, A, NULL, B, NULL, beta, C, NULL, C, NULL, NULL,  \
                              NULL, 0, handle->stream);                                            \
    }
FAKE_GEMMEX(cublasGemmEx, int)
FAKE_GEMMEX(cublasGemmEx_64, int64_t)

#define FAKE_GEMM_SBEX(name, I)                                                                    \
    cublasStatus_t name(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, \
                        I m, I n, I k, const void *alpha, const void *A, cudaDataType Atype,       \
                        I lda, long long strideA, const void *B, cudaDataType Btype, I ldb,        \
                        long long strideB, const void *beta, void *C, cudaDataType Ctype, I ldc,   \
                        long long strideC, I batchCount, cublasComputeType_t computeType,          \
                        cublasGemmAlgo_t algo)                                                     \
    {                                                                                              \
        (void)transa, (void)transb, (void)alpha, (void)A, (void)Atype, (void)lda, (void)B;        \
        (void)Btype, (void)ldb, (void)beta, (void)C, (void)Ctype, (void)ldc, (void)computeType;   \
        (void)algo, (void)strideA, (void)strideB, (void)strideC;                                   \
        if (batchCount < 0)                                                                        \
            return CUBLAS_STATUS_INVALID_VALUE;                                                    \
        return fake_gemm(handle, (int)Atype, (int)computeType, m, n, k, lda, ldb, ldc);            \
    }
FAKE_GEMM_SBEX(cublasGemmStridedBatchedEx, int)
FAKE_GEMM_SBEX(cublasGemmStridedBatchedEx_64, int64_t)

#define FAKE_GEMM_BEX(name, I)                                                                     \
    cublasStatus_t name(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, \
                        I m, I n, I k, const void *alpha, const void *const Aarray[],              \
                        cudaDataType Atype, I lda, const void *const Barray[], cudaDataType Btype, \
                        I ldb, const void *beta, void *const Carray[], cudaDataType Ctype, I ldc,  \
                        I batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo)      \
    {                                                                                              \
        (void)transa, (void)transb, (void)alpha, (void)Aarray, (void)Atype, (void)lda;            \
        (void)Barray, (void)Btype, (void)ldb, (void)beta, (void)Carray, (void)Ctype, (void)ldc;   \
        (void)computeType, (void)algo;                                                             \
        if (batchCount < 0)                                                                        \
            return CUBLAS_STATUS_INVALID_VALUE;                                                    \
        return fake_gemm(handle, (int)Atype, (int)computeType, m, n, k, lda, ldb, ldc);            \
    }
FAKE_GEMM_BEX(cublasGemmBatchedEx, int)
FAKE_GEMM_BEX(cublasGemmBatchedEx_64, int64_t)
