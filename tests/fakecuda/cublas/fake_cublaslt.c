/* fake_cublaslt.c — a stand-in for libcublasLt.so.13: cublasLtMatmul with the real prototype
 * (cublasLt.h), doing no math. It counts its calls so a test can see that the fake cuBLAS
 * really reached it (fake_cublaslt_matmul_calls). Test-only. */
#include <cublasLt.h>

static unsigned fake_matmul_calls;

unsigned fake_cublaslt_matmul_calls(void);
unsigned fake_cublaslt_matmul_calls(void) { return __atomic_load_n(&fake_matmul_calls, __ATOMIC_RELAXED); }

cublasStatus_t cublasLtMatmul(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t computeDesc,
                              const void *alpha, const void *A, cublasLtMatrixLayout_t Adesc,
                              const void *B, cublasLtMatrixLayout_t Bdesc, const void *beta,
                              const void *C, cublasLtMatrixLayout_t Cdesc, void *D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t *algo,
                              void *workspace, size_t workspaceSizeInBytes, cudaStream_t stream)
{
    (void)lightHandle, (void)computeDesc, (void)alpha, (void)A, (void)Adesc, (void)B, (void)Bdesc;
    (void)beta, (void)C, (void)Cdesc, (void)D, (void)Ddesc, (void)algo, (void)workspace;
    (void)workspaceSizeInBytes, (void)stream;
    __atomic_add_fetch(&fake_matmul_calls, 1, __ATOMIC_RELAXED);
    return CUBLAS_STATUS_SUCCESS;
}
