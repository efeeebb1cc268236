/* corr_sample.c — the whole chain of issue 5 on the fakes: GEMMs through the fake cuBLAS
 * (fp32, tf32, fp16, bf16 and a misaligned fp16 shape) and two cuDNN convolutions (a 1x1
 * one the fake cuDNN runs through cublasGemmEx, a 3x3 one with its own kernel), each call
 * on a line of its own so each is its own call site. cudaMalloc (the fake runtime) starts
 * the shim's CUPTI first. tests/dnn/check_corr_report.py checks the report's join.
 *   corr_sample            run the calls
 *   corr_sample PATH       load the fake libcupti at PATH first (as PyTorch loads its own),
 *                          run the calls, and fail unless no CUPTI call was made at all
 *                          (run with GPUPROF_KERNELS=0) */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "fakecupti.h"

typedef struct __half __half;
cublasStatus_t cublasHgemm(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                           const __half *, const __half *, int, const __half *, int,
                           const __half *, __half *, int);

static char buf[64];
static const float one = 1, zero = 0;

/* A forward fp16 convolution 8x64x16x16 by 128x64xRxR (padding keeps 16x16), tensor math. */
static int conv(cudnnHandle_t h, int rs)
{
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t cd;
    int ok = cudnnCreateTensorDescriptor(&x) == 0 && cudnnCreateTensorDescriptor(&y) == 0 &&
             cudnnCreateFilterDescriptor(&w) == 0 && cudnnCreateConvolutionDescriptor(&cd) == 0 &&
             cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_HALF, 8, 64, 16, 16) == 0 &&
             cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_HALF, 8, 128, 16, 16) == 0 &&
             cudnnSetFilter4dDescriptor(w, CUDNN_DATA_HALF, CUDNN_TENSOR_NCHW, 128, 64, rs, rs) == 0 &&
             cudnnSetConvolution2dDescriptor(cd, rs / 2, rs / 2, 1, 1, 1, 1,
                                             CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT) == 0 &&
             cudnnSetConvolutionMathType(cd, CUDNN_TENSOR_OP_MATH) == 0 &&
             cudnnConvolutionForward(h, &one, x, buf, w, buf, cd,
                                     CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, NULL, 0, &zero, y,
                                     buf) == 0;
    cudnnDestroyConvolutionDescriptor(cd);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
    return ok ? 0 : -1;
}

#define MUST(x)                                                                                    \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "line %d: %s failed\n", __LINE__, #x);                                 \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    void *cupti = NULL, *dev = NULL;
    if (argc > 1)
        MUST((cupti = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL)) != NULL);
    MUST(cudaMalloc(&dev, 4096) == cudaSuccess); /* starts the shim and its CUPTI */
    cublasHandle_t b;
    cudnnHandle_t d;
    MUST(cublasCreate(&b) == CUBLAS_STATUS_SUCCESS);
    MUST(cudnnCreate(&d) == CUDNN_STATUS_SUCCESS);
    const __half *hp = (const void *)buf;
    __half *hc = (void *)buf;
    float *f = (float *)(void *)buf;
    for (int i = 0; i < 2; i++) /* fp32: two calls of one site */
        MUST(cublasSgemm(b, CUBLAS_OP_N, CUBLAS_OP_N, 256, 256, 256, &one, f, 256, f, 256, &zero, f, 256) == 0);
    MUST(cublasGemmEx(b, CUBLAS_OP_N, CUBLAS_OP_N, 512, 512, 512, &one, f, CUDA_R_32F, 512, f, CUDA_R_32F, 512, &zero, f, CUDA_R_32F, 512, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT) == 0);
    MUST(cublasHgemm(b, CUBLAS_OP_N, CUBLAS_OP_N, 1024, 1024, 1024, hp, hp, 1024, hp, 1024, hp, hc, 1024) == 0);
    MUST(cublasGemmEx(b, CUBLAS_OP_N, CUBLAS_OP_N, 1024, 512, 256, &one, f, CUDA_R_16BF, 1024, f, CUDA_R_16BF, 256, &zero, f, CUDA_R_16BF, 1024, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) == 0);
    MUST(cublasHgemm(b, CUBLAS_OP_N, CUBLAS_OP_N, 1002, 1002, 1002, hp, hp, 1002, hp, 1002, hp, hc, 1002) == 0);
    MUST(conv(d, 1) == 0); /* through cublasGemmEx inside cuDNN */
    MUST(conv(d, 3) == 0);
    cudnnDestroy(d);
    cublasDestroy(b);
    cudaFree(dev);
    if (cupti != NULL) {
        fakecupti_stats_fn stats = (fakecupti_stats_fn)dlsym(cupti, "fakecupti_stats");
        struct fakecupti_stats st;
        MUST(stats != NULL);
        stats(&st);
        if (st.api_calls != 0 || st.ext_pushes != 0) {
            fprintf(stderr, "CUPTI was called: %llu calls, %llu pushes\n",
                    (unsigned long long)st.api_calls, (unsigned long long)st.ext_pushes);
            return 1;
        }
    }
    return 0;
}
