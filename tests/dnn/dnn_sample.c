/* dnn_sample.c — a program calling cuDNN (the fake of tests/fakecuda/cudnn) with known
 * convolutions: fp32 with FMA math, fp16 with Tensor Core math, grouped bf16, fp16 with 3
 * input channels, data and filter gradients, a 3-D convolution, one that fails, and three
 * executions of backend plans. check_dnn_trace.c holds the numbers they must produce. A first
 * cudaMalloc (the fake runtime) starts the shim's CUPTI, so the fake cuDNN's kernels are in
 * the trace too. Each call is on its own line of main(), so each is its own call site. */
#include <stdint.h>
#include <stdio.h>

#include <cuda_runtime_api.h>
#include <cudnn.h>

unsigned fake_cudnn_calls(void);

enum dir { FWD, DGRAD, WGRAD };

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        cudnnStatus_t s_ = (x);                                                                    \
        if (s_ != CUDNN_STATUS_SUCCESS) {                                                          \
            fprintf(stderr, "%s failed: %d\n", #x, (int)s_);                                       \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

static cudnnHandle_t h;
static float one = 1, zero = 0;
static char buf[64], ws[1];

/* One 2-D convolution problem: x (n, c, hw, hw), w (k, c/groups, rs, rs), y (n, k, p, p). math
 * < 0 leaves the descriptor's math type alone. Returns the status of the convolution call. */
static int conv2d(enum dir d, cudnnDataType_t t, cudnnTensorFormat_t fmt, int math, int n, int c,
                  int hw, int k, int rs, int pad, int stride, int dil, int groups, int p, int algo,
                  size_t ws_bytes)
{
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t cd;
    CHECK(cudnnCreateTensorDescriptor(&x));
    CHECK(cudnnCreateTensorDescriptor(&y));
    CHECK(cudnnCreateFilterDescriptor(&w));
    CHECK(cudnnCreateConvolutionDescriptor(&cd));
    CHECK(cudnnSetTensor4dDescriptor(x, fmt, t, n, c, hw, hw));
    CHECK(cudnnSetTensor4dDescriptor(y, fmt, t, n, k, p, p));
    CHECK(cudnnSetFilter4dDescriptor(w, t, fmt, k, c / groups, rs, rs));
    CHECK(cudnnSetConvolution2dDescriptor(cd, pad, pad, stride, stride, dil, dil,
                                          CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CHECK(cudnnSetConvolutionGroupCount(cd, groups));
    if (math >= 0)
        CHECK(cudnnSetConvolutionMathType(cd, (cudnnMathType_t)math));
    void *space = ws_bytes ? ws : NULL;
    cudnnStatus_t s;
    if (d == FWD)
        s = cudnnConvolutionForward(h, &one, x, buf, w, buf, cd, algo, space, ws_bytes, &zero, y,
                                    buf);
    else if (d == DGRAD)
        s = cudnnConvolutionBackwardData(h, &one, w, buf, y, buf, cd, algo, space, ws_bytes, &zero,
                                         x, buf);
    else
        s = cudnnConvolutionBackwardFilter(h, &one, x, buf, y, buf, cd, algo, space, ws_bytes,
                                           &zero, w, buf);
    CHECK(cudnnDestroyConvolutionDescriptor(cd));
    CHECK(cudnnDestroyFilterDescriptor(w));
    CHECK(cudnnDestroyTensorDescriptor(y));
    CHECK(cudnnDestroyTensorDescriptor(x));
    return (int)s;
}

/* A 3-D fp16 convolution, 2x16x8x16x16 by 32x16x3x3x3, padding 1, default math. */
static int conv3d(void)
{
    int xd[5] = {2, 16, 8, 16, 16}, xs[5] = {32768, 2048, 256, 16, 1};
    int yd[5] = {2, 32, 8, 16, 16}, ys[5] = {65536, 2048, 256, 16, 1};
    int wd[5] = {32, 16, 3, 3, 3}, pad[3] = {1, 1, 1}, one3[3] = {1, 1, 1};
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t cd;
    CHECK(cudnnCreateTensorDescriptor(&x));
    CHECK(cudnnCreateTensorDescriptor(&y));
    CHECK(cudnnCreateFilterDescriptor(&w));
    CHECK(cudnnCreateConvolutionDescriptor(&cd));
    CHECK(cudnnSetTensorNdDescriptor(x, CUDNN_DATA_HALF, 5, xd, xs));
    CHECK(cudnnSetTensorNdDescriptor(y, CUDNN_DATA_HALF, 5, yd, ys));
    CHECK(cudnnSetFilterNdDescriptor(w, CUDNN_DATA_HALF, CUDNN_TENSOR_NCHW, 5, wd));
    CHECK(cudnnSetConvolutionNdDescriptor(cd, 3, pad, one3, one3, CUDNN_CROSS_CORRELATION,
                                          CUDNN_DATA_FLOAT));
    CHECK(cudnnConvolutionForward(h, &one, x, buf, w, buf, cd, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                  NULL, 0, &zero, y, buf));
    CHECK(cudnnDestroyConvolutionDescriptor(cd));
    CHECK(cudnnDestroyFilterDescriptor(w));
    CHECK(cudnnDestroyTensorDescriptor(y));
    CHECK(cudnnDestroyTensorDescriptor(x));
    return 0;
}

/* A finalized execution plan whose engine has global index idx and nnotes notes. */
static int make_plan(int64_t idx, const cudnnBackendNumericalNote_t *notes, int64_t nnotes,
                     cudnnBackendDescriptor_t out[3])
{
    CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &out[0]));
    CHECK(cudnnBackendSetAttribute(out[0], CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1,
                                   &idx));
    if (nnotes > 0)
        CHECK(cudnnBackendSetAttribute(out[0], CUDNN_ATTR_ENGINE_NUMERICAL_NOTE,
                                       CUDNN_TYPE_NUMERICAL_NOTE, nnotes, notes));
    CHECK(cudnnBackendFinalize(out[0]));
    CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &out[1]));
    CHECK(cudnnBackendSetAttribute(out[1], CUDNN_ATTR_ENGINECFG_ENGINE,
                                   CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &out[0]));
    CHECK(cudnnBackendFinalize(out[1]));
    CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &out[2]));
    CHECK(cudnnBackendSetAttribute(out[2], CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1,
                                   &h));
    CHECK(cudnnBackendSetAttribute(out[2], CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
                                   CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &out[1]));
    CHECK(cudnnBackendFinalize(out[2]));
    return 0;
}

#define MUST(x)                                                                                    \
    do {                                                                                           \
        if ((x) != 0) {                                                                            \
            fprintf(stderr, "line %d: %s failed\n", __LINE__, #x);                                 \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    void *dev = NULL;
    if (cudaMalloc(&dev, 4096) != cudaSuccess) { /* starts the shim and its CUPTI */
        fprintf(stderr, "cudaMalloc failed\n");
        return 1;
    }
    MUST(cudnnCreate(&h));
    MUST(cudnnSetStream(h, (cudaStream_t)(uintptr_t)7));
    /* 1: fp32, FMA math (PyTorch with allow_tf32 off): no Tensor Cores */
    MUST(conv2d(FWD, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, CUDNN_FMA_MATH, 8, 64, 56, 128, 3, 1, 1, 1, 1, 56, 1, 0));
    /* 2: fp16, Tensor Core math, NHWC, 1x1 stride 2, 1 MiB workspace */
    MUST(conv2d(FWD, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, CUDNN_TENSOR_OP_MATH, 32, 64, 28, 64, 1, 0, 2, 1, 1, 14, 1, 1 << 20));
    /* 3: bf16, 4 groups, dilation 2 */
    MUST(conv2d(FWD, CUDNN_DATA_BFLOAT16, CUDNN_TENSOR_NHWC, CUDNN_TENSOR_OP_MATH, 16, 128, 14, 256, 3, 2, 1, 2, 4, 14, 0, 0));
    /* 4: fp16 with 3 input channels (a first layer): not a multiple of 8 */
    MUST(conv2d(FWD, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, CUDNN_TENSOR_OP_MATH, 4, 3, 224, 64, 7, 3, 2, 1, 1, 112, 1, 0));
    /* 5, 6: fp16 data and filter gradients of a 3x3 convolution */
    MUST(conv2d(DGRAD, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, CUDNN_TENSOR_OP_MATH, 8, 64, 32, 32, 3, 1, 1, 1, 1, 32, 1, 65536));
    MUST(conv2d(WGRAD, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, CUDNN_TENSOR_OP_MATH, 8, 64, 32, 32, 3, 1, 1, 1, 1, 32, 3, 0));
    /* 7: 3-D fp16, math type never set (read back from the descriptor) */
    MUST(conv3d());
    /* 8: output extents that do not match: cuDNN refuses it, and the trace says so */
    if (conv2d(FWD, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, -1, 1, 8, 8, 8, 3, 1, 1, 1, 1, 7, 1, 0) !=
        CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH) {
        fprintf(stderr, "the mismatched convolution was not refused\n");
        return 1;
    }
    /* 9, 10: a plan whose engine uses Tensor Cores (and down-converts), run twice */
    cudnnBackendDescriptor_t tc[3], plain[3], pack;
    const cudnnBackendNumericalNote_t notes[2] = {CUDNN_NUMERICAL_NOTE_TENSOR_CORE,
                                                  CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS};
    MUST(make_plan(7, notes, 2, tc));
    MUST(cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack));
    MUST(cudnnBackendFinalize(pack));
    MUST(cudnnBackendExecute(h, tc[2], pack));
    MUST(cudnnBackendExecute(h, tc[2], pack));
    /* 11: a plan whose engine has no numerical notes */
    MUST(make_plan(0, NULL, 0, plain));
    MUST(cudnnBackendExecute(h, plain[2], pack));
    for (int i = 2; i >= 0; i--) {
        MUST(cudnnBackendDestroyDescriptor(tc[i]));
        MUST(cudnnBackendDestroyDescriptor(plain[i]));
    }
    MUST(cudnnBackendDestroyDescriptor(pack));
    MUST(cudnnDestroy(h));
    if (fake_cudnn_calls() != 7) {
        fprintf(stderr, "%u convolutions ran in the fake, want 7\n", fake_cudnn_calls());
        return 1;
    }
    cudaFree(dev);
    return 0;
}
