/* cublas_workspace: one small cublasSgemm through the real libcublas, which carries its own
 * static CUDA runtime and reaches the driver only through dlopen("libcuda.so.1") +
 * dlsym(cuGetProcAddress_v2): whatever device memory cuBLAS takes for itself (its default
 * workspace, when no cublasSetWorkspace is called) is visible to a profiler only through the
 * shim's dlsym filter, and must be charged to libcublas (or libcublasLt).
 *
 * Timeline:
 *   cublasCreate (cuBLAS may take its workspace here or at the first GEMM)
 *   alloc_matrices  cudaMalloc A, B, C: 256 x 256 floats each (3 x 262,144 = 786,432 bytes)
 *   cublasSgemm C = A x B; cudaDeviceSynchronize                <- PEAK
 *   cudaMemGetInfo; cudaFree A, B, C; cublasDestroy
 *
 * Exact numbers: the program's own device memory is 786,432 bytes from alloc_matrices
 *   (3 blocks), all live at the peak, none held at exit. cuBLAS's own allocations are not known
 *   in advance: "free_drop_bytes" is how much cudaMemGetInfo's free memory fell between before
 *   cublasCreate and after the GEMM, minus the program's own 786,432 (an upper bound for what
 *   cuBLAS allocated: it also counts loaded kernel code and allocation granularity).
 * Prints one JSON line to stdout and returns 0; any error: a message on stderr and 1. */
#include <stdio.h>
#include <stdlib.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#define N 256
#define MATRIX_BYTES ((size_t)N * N * sizeof(float))

#define CHECK_CUDA(call)                                                                     \
    do {                                                                                     \
        cudaError_t err_ = (call);                                                           \
        if (err_ != cudaSuccess) {                                                           \
            fprintf(stderr, "cublas_workspace: %s failed: %s\n", #call,                      \
                    cudaGetErrorString(err_));                                               \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

#define CHECK_CUBLAS(call)                                                                   \
    do {                                                                                     \
        cublasStatus_t st_ = (call);                                                         \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                  \
            fprintf(stderr, "cublas_workspace: %s failed: %s\n", #call,                      \
                    cublasGetStatusString(st_));                                             \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

static void alloc_matrices(float **m)
{
    for (int i = 0; i < 3; i++) {
        CHECK_CUDA(cudaMalloc((void **)&m[i], MATRIX_BYTES));
        CHECK_CUDA(cudaMemset(m[i], 0x3c, MATRIX_BYTES)); /* 0.0115f everywhere */
    }
}

int main(void)
{
    size_t free_before = 0, free_after = 0, total = 0;
    CHECK_CUDA(cudaSetDevice(0));
    CHECK_CUDA(cudaFree(NULL)); /* the context first, so the drop below is cuBLAS's and ours */
    CHECK_CUDA(cudaMemGetInfo(&free_before, &total));

    cublasHandle_t handle;
    CHECK_CUBLAS(cublasCreate(&handle));
    float *m[3];
    alloc_matrices(m);
    const float one = 1.0f, zero = 0.0f;
    CHECK_CUBLAS(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, N, N, N, &one, m[0], N, m[1], N,
                             &zero, m[2], N));
    CHECK_CUDA(cudaDeviceSynchronize());
    CHECK_CUDA(cudaMemGetInfo(&free_after, &total));
    int version = 0;
    CHECK_CUBLAS(cublasGetVersion(handle, &version));

    for (int i = 0; i < 3; i++)
        CHECK_CUDA(cudaFree(m[i]));
    CHECK_CUBLAS(cublasDestroy(handle));

    size_t own = 3 * MATRIX_BYTES;
    size_t drop = free_before > free_after ? free_before - free_after : 0;
    printf("{\"sample\": \"cublas_workspace\", \"cublas_version\": %d, \"own_bytes\": %zu, "
           "\"own_blocks\": 3, \"free_drop_bytes\": %zu, \"total_bytes\": %zu}\n",
           version, own, drop > own ? drop - own : (size_t)0, total);
    return 0;
}
