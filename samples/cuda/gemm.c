/* gemm: cuBLAS matrix products in four precisions, each timed by the program itself with CUDA
 * events, and the math settings it asked for printed next to it: the ground truth for
 * gpuprof's Tensor Core verdicts (layer 1 per precision, layer 3 from the kernels cuBLAS ran),
 * and a cuBLAS program whose own device memory is known exactly, with cuBLAS's own memory
 * charged to libcublas.
 *
 * C = A x B, M = N = K = 4096, column-major, no transposes, alpha 1, beta 0, one stream, with
 * cublasGemmEx (default algorithm):
 *   fp32  A, B, C CUDA_R_32F,  CUBLAS_COMPUTE_32F,           math CUBLAS_DEFAULT_MATH: none
 *   tf32  A, B, C CUDA_R_32F,  CUBLAS_COMPUTE_32F_FAST_TF32, math CUBLAS_DEFAULT_MATH: TC
 *   fp16  A, B, C CUDA_R_16F,  CUBLAS_COMPUTE_32F,           math CUBLAS_DEFAULT_MATH: TC
 *   bf16  A, B, C CUDA_R_16BF, CUBLAS_COMPUTE_32F,           math CUBLAS_DEFAULT_MATH: TC
 * (TC: the settings let cuBLAS use Tensor Cores on Hopper; none: they do not.)
 * Each precision: WARMUP (2) untimed products, then TIMED (10) between two events; the
 * kernels cuBLAS picks are its own business (their count is not fixed).
 * (fp8 needs cublasLt and is left for the Tensor Core issue.)
 *
 * Exact numbers: alloc_matrices takes A, B and C once, sized for fp32 (3 x 67,108,864 =
 *   201,326,592 bytes, 3 cudaMalloc) and the 16-bit precisions use their first half; all three
 *   are live at the peak and freed at the end (held at exit 0). Everything else on the device
 *   is cuBLAS's own.
 * Prints one JSON line per precision, then a summary line, and returns 0; any error: a message
 * on stderr and 1. */
#include <stdio.h>
#include <stdlib.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#define DIM 4096
#define MATRIX_BYTES ((size_t)DIM * DIM * sizeof(float))
#define WARMUP 2
#define TIMED 10

#define CHECK_CUDA(call)                                                                     \
    do {                                                                                     \
        cudaError_t err_ = (call);                                                           \
        if (err_ != cudaSuccess) {                                                           \
            fprintf(stderr, "gemm: %s failed: %s\n", #call, cudaGetErrorString(err_));        \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

#define CHECK_CUBLAS(call)                                                                   \
    do {                                                                                     \
        cublasStatus_t st_ = (call);                                                         \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                  \
            fprintf(stderr, "gemm: %s failed: %s\n", #call, cublasGetStatusString(st_));      \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

struct precision {
    const char *name;
    cudaDataType_t type;
    const char *type_name;
    cublasComputeType_t compute;
    const char *compute_name;
    int tensor_cores; /* what the settings ask for on Hopper */
};

static const struct precision precisions[] = {
    {"fp32", CUDA_R_32F, "CUDA_R_32F", CUBLAS_COMPUTE_32F, "CUBLAS_COMPUTE_32F", 0},
    {"tf32", CUDA_R_32F, "CUDA_R_32F", CUBLAS_COMPUTE_32F_FAST_TF32,
     "CUBLAS_COMPUTE_32F_FAST_TF32", 1},
    {"fp16", CUDA_R_16F, "CUDA_R_16F", CUBLAS_COMPUTE_32F, "CUBLAS_COMPUTE_32F", 1},
    {"bf16", CUDA_R_16BF, "CUDA_R_16BF", CUBLAS_COMPUTE_32F, "CUBLAS_COMPUTE_32F", 1},
};

static const char *math_mode_name(cublasMath_t mode)
{
    switch ((int)mode & ~(int)CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION) {
    case CUBLAS_DEFAULT_MATH:
        return "CUBLAS_DEFAULT_MATH";
    case CUBLAS_PEDANTIC_MATH:
        return "CUBLAS_PEDANTIC_MATH";
    case CUBLAS_TF32_TENSOR_OP_MATH:
        return "CUBLAS_TF32_TENSOR_OP_MATH";
    default:
        return "other";
    }
}

/* The program's one allocation site: A, B, C sized for fp32, filled with a small constant. */
static void alloc_matrices(void **m)
{
    for (int i = 0; i < 3; i++) {
        CHECK_CUDA(cudaMalloc(&m[i], MATRIX_BYTES));
        CHECK_CUDA(cudaMemset(m[i], 0x3c, MATRIX_BYTES)); /* finite in every precision */
    }
}

static void gemm(cublasHandle_t handle, const struct precision *p, void **m)
{
    const float alpha = 1.0f, beta = 0.0f;
    CHECK_CUBLAS(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, DIM, DIM, DIM, &alpha, m[0],
                              p->type, DIM, m[1], p->type, DIM, &beta, m[2], p->type, DIM,
                              p->compute, CUBLAS_GEMM_DEFAULT));
}

int main(void)
{
    CHECK_CUDA(cudaSetDevice(0));
    struct cudaDeviceProp prop;
    CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
    cublasHandle_t handle;
    CHECK_CUBLAS(cublasCreate(&handle));
    cudaStream_t stream;
    CHECK_CUDA(cudaStreamCreate(&stream));
    CHECK_CUBLAS(cublasSetStream(handle, stream));
    CHECK_CUBLAS(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
    cudaEvent_t start, stop;
    CHECK_CUDA(cudaEventCreate(&start));
    CHECK_CUDA(cudaEventCreate(&stop));
    void *m[3];
    alloc_matrices(m);

    int n = (int)(sizeof precisions / sizeof precisions[0]);
    for (int i = 0; i < n; i++) {
        const struct precision *p = &precisions[i];
        for (int w = 0; w < WARMUP; w++)
            gemm(handle, p, m);
        CHECK_CUDA(cudaEventRecord(start, stream));
        for (int t = 0; t < TIMED; t++)
            gemm(handle, p, m);
        CHECK_CUDA(cudaEventRecord(stop, stream));
        CHECK_CUDA(cudaEventSynchronize(stop));
        float ms = 0.0f;
        CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
        cublasMath_t mode;
        CHECK_CUBLAS(cublasGetMathMode(handle, &mode));
        double per = ms / TIMED;
        double tflops = 2.0 * DIM * DIM * (double)DIM / (per * 1e-3) / 1e12;
        printf("{\"sample\": \"gemm\", \"precision\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, "
               "\"type\": \"%s\", \"compute_type\": \"%s\", \"math_mode\": \"%s\", "
               "\"tensor_cores_expected\": %s, \"gemms_timed\": %d, \"ms_per_gemm\": %.4f, "
               "\"tflops\": %.1f}\n",
               p->name, DIM, DIM, DIM, p->type_name, p->compute_name, math_mode_name(mode),
               p->tensor_cores ? "true" : "false", TIMED, per, tflops);
    }
    int version = 0;
    CHECK_CUBLAS(cublasGetVersion(handle, &version));
    printf("{\"sample\": \"gemm\", \"summary\": true, \"device\": \"%s\", \"cc\": \"%d.%d\", "
           "\"cublas_version\": %d, \"own_bytes\": %zu, \"own_blocks\": 3, \"gemms\": %d}\n",
           prop.name, prop.major, prop.minor, version, 3 * MATRIX_BYTES, n * (WARMUP + TIMED));

    for (int i = 0; i < 3; i++)
        CHECK_CUDA(cudaFree(m[i]));
    CHECK_CUDA(cudaEventDestroy(start));
    CHECK_CUDA(cudaEventDestroy(stop));
    CHECK_CUBLAS(cublasDestroy(handle));
    CHECK_CUDA(cudaStreamDestroy(stream));
    return 0;
}
