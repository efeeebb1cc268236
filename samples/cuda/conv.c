/* conv: cuDNN forward convolutions in fp32 and fp16, each timed by the program itself with CUDA
 * events, with the math type cuDNN was allowed and the one it chose printed: the ground truth
 * for gpuprof's Tensor Core verdicts on convolutions, and a cuDNN program whose own device
 * memory is known exactly.
 *
 * One 3x3 convolution, stride 1, padding 1, cross-correlation: N 32, C 64 -> K 64, 56 x 56.
 *   fp32  NCHW, CUDNN_DATA_FLOAT (compute float), math CUDNN_FMA_MATH: no Tensor Cores
 *   fp16  NHWC, CUDNN_DATA_HALF (compute float), math CUDNN_TENSOR_OP_MATH: Tensor Cores
 * The algorithm is cuDNN's first choice from cudnnGetConvolutionForwardAlgorithm_v7 that it
 * reports usable with the math type asked for (else its first usable one), run with the math
 * type cuDNN rated it for ("math_chosen": what gpuprof's layer-1 verdict sees on the
 * descriptor), and its workspace is the size cuDNN asks for. Each precision: WARMUP (2)
 * untimed convolutions, then TIMED (10) between two events on one stream.
 *
 * Exact numbers: alloc_buffers takes everything up front with cudaMalloc, 8 blocks: per
 *   precision input and output 6,422,528 elements each and the filter 36,864 elements
 *   (fp32: 25,690,112 + 25,690,112 + 147,456 bytes; fp16: half of that), plus each precision's
 *   workspace (its size, printed as "workspace_bytes", is cuDNN's choice; a zero-sized one is
 *   not allocated and counted as 0 blocks). All are live at the peak and freed at the end
 *   (held at exit 0): "own_bytes" and "own_blocks" in the summary line. Anything else on the
 *   device is cuDNN's own.
 * Prints one JSON line per precision, then a summary line, and returns 0; any error: a message
 * on stderr and 1. */
#include <stdio.h>
#include <stdlib.h>

#include <cudnn.h>
#include <cuda_runtime_api.h>

#define BATCH 32
#define CHANNELS 64
#define FEATURES 64
#define SIZE 56
#define KSIZE 3
#define WARMUP 2
#define TIMED 10
#define ACTIVATION_ELEMS ((size_t)BATCH * CHANNELS * SIZE * SIZE)
#define FILTER_ELEMS ((size_t)FEATURES * CHANNELS * KSIZE * KSIZE)

#define CHECK_CUDA(call)                                                                     \
    do {                                                                                     \
        cudaError_t err_ = (call);                                                           \
        if (err_ != cudaSuccess) {                                                           \
            fprintf(stderr, "conv: %s failed: %s\n", #call, cudaGetErrorString(err_));        \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

#define CHECK_CUDNN(call)                                                                    \
    do {                                                                                     \
        cudnnStatus_t st_ = (call);                                                          \
        if (st_ != CUDNN_STATUS_SUCCESS) {                                                   \
            fprintf(stderr, "conv: %s failed: %s\n", #call, cudnnGetErrorString(st_));        \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

struct precision {
    const char *name;
    cudnnDataType_t type;
    cudnnTensorFormat_t format;
    const char *format_name;
    cudnnMathType_t math;
    const char *math_name;
    size_t elem_bytes;
    int tensor_cores; /* what the settings ask for on Hopper */
    /* filled in by prepare() */
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t algo;
    cudnnMathType_t chosen_math;
    size_t workspace_bytes;
    void *in, *filter, *out, *workspace;
};

static const char *math_type_name(cudnnMathType_t m)
{
    switch (m) {
    case CUDNN_DEFAULT_MATH:
        return "CUDNN_DEFAULT_MATH";
    case CUDNN_TENSOR_OP_MATH:
        return "CUDNN_TENSOR_OP_MATH";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION:
        return "CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION";
    case CUDNN_FMA_MATH:
        return "CUDNN_FMA_MATH";
    default:
        return "other";
    }
}

/* Descriptors and cuDNN's algorithm choice; nothing is allocated on the device here. */
static void prepare(cudnnHandle_t handle, struct precision *p)
{
    CHECK_CUDNN(cudnnCreateTensorDescriptor(&p->x));
    CHECK_CUDNN(cudnnCreateTensorDescriptor(&p->y));
    CHECK_CUDNN(cudnnCreateFilterDescriptor(&p->w));
    CHECK_CUDNN(cudnnCreateConvolutionDescriptor(&p->conv));
    CHECK_CUDNN(cudnnSetTensor4dDescriptor(p->x, p->format, p->type, BATCH, CHANNELS, SIZE, SIZE));
    CHECK_CUDNN(cudnnSetFilter4dDescriptor(p->w, p->type, p->format, FEATURES, CHANNELS, KSIZE,
                                           KSIZE));
    CHECK_CUDNN(cudnnSetConvolution2dDescriptor(p->conv, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION,
                                                CUDNN_DATA_FLOAT));
    CHECK_CUDNN(cudnnSetConvolutionMathType(p->conv, p->math));
    int n, c, h, w;
    CHECK_CUDNN(cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->w, &n, &c, &h, &w));
    if (n != BATCH || c != FEATURES || h != SIZE || w != SIZE) {
        fprintf(stderr, "conv: unexpected output shape %d x %d x %d x %d\n", n, c, h, w);
        exit(1);
    }
    CHECK_CUDNN(cudnnSetTensor4dDescriptor(p->y, p->format, p->type, n, c, h, w));

    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int found = 0;
    CHECK_CUDNN(cudnnGetConvolutionForwardAlgorithm_v7(handle, p->x, p->w, p->conv, p->y,
                                                       CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found,
                                                       perf));
    /* cuDNN's fastest usable algorithm rated for the math type asked for, else its fastest
     * usable one: so the fp32 convolution stays on FMA math (no TF32) where cuDNN offers it. */
    int pick = -1;
    for (int i = 0; i < found && pick < 0; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].mathType == p->math)
            pick = i;
    for (int i = 0; i < found && pick < 0; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS)
            pick = i;
    if (pick < 0) {
        fprintf(stderr, "conv: cuDNN offers no usable %s algorithm\n", p->name);
        exit(1);
    }
    p->algo = perf[pick].algo;
    p->chosen_math = perf[pick].mathType;
    /* An algorithm comes with the math type it was rated for: the descriptor gets that one (as
     * PyTorch does) before its workspace is sized and it runs. */
    CHECK_CUDNN(cudnnSetConvolutionMathType(p->conv, p->chosen_math));
    CHECK_CUDNN(cudnnGetConvolutionForwardWorkspaceSize(handle, p->x, p->w, p->conv, p->y, p->algo,
                                                        &p->workspace_bytes));
}

/* The program's one allocation site: every buffer of every precision, up front. */
static size_t alloc_buffers(struct precision *ps, int count, int *blocks)
{
    size_t total = 0;
    *blocks = 0;
    for (int i = 0; i < count; i++) {
        struct precision *p = &ps[i];
        size_t act = ACTIVATION_ELEMS * p->elem_bytes, filt = FILTER_ELEMS * p->elem_bytes;
        CHECK_CUDA(cudaMalloc(&p->in, act));
        CHECK_CUDA(cudaMalloc(&p->filter, filt));
        CHECK_CUDA(cudaMalloc(&p->out, act));
        total += 2 * act + filt;
        *blocks += 3;
        p->workspace = NULL;
        if (p->workspace_bytes > 0) {
            CHECK_CUDA(cudaMalloc(&p->workspace, p->workspace_bytes));
            total += p->workspace_bytes;
            *blocks += 1;
        }
        CHECK_CUDA(cudaMemset(p->in, 0x3c, act)); /* small finite values in both types */
        CHECK_CUDA(cudaMemset(p->filter, 0x3c, filt));
    }
    return total;
}

static void convolve(cudnnHandle_t handle, struct precision *p)
{
    const float alpha = 1.0f, beta = 0.0f;
    CHECK_CUDNN(cudnnConvolutionForward(handle, &alpha, p->x, p->in, p->w, p->filter, p->conv,
                                        p->algo, p->workspace, p->workspace_bytes, &beta, p->y,
                                        p->out));
}

int main(void)
{
    struct precision ps[] = {
        {.name = "fp32", .type = CUDNN_DATA_FLOAT, .format = CUDNN_TENSOR_NCHW,
         .format_name = "NCHW", .math = CUDNN_FMA_MATH, .math_name = "CUDNN_FMA_MATH",
         .elem_bytes = 4, .tensor_cores = 0},
        {.name = "fp16", .type = CUDNN_DATA_HALF, .format = CUDNN_TENSOR_NHWC,
         .format_name = "NHWC", .math = CUDNN_TENSOR_OP_MATH,
         .math_name = "CUDNN_TENSOR_OP_MATH", .elem_bytes = 2, .tensor_cores = 1},
    };
    int count = (int)(sizeof ps / sizeof ps[0]);
    CHECK_CUDA(cudaSetDevice(0));
    cudnnHandle_t handle;
    CHECK_CUDNN(cudnnCreate(&handle));
    cudaStream_t stream;
    CHECK_CUDA(cudaStreamCreate(&stream));
    CHECK_CUDNN(cudnnSetStream(handle, stream));
    for (int i = 0; i < count; i++)
        prepare(handle, &ps[i]);
    int blocks = 0;
    size_t own = alloc_buffers(ps, count, &blocks);
    cudaEvent_t start, stop;
    CHECK_CUDA(cudaEventCreate(&start));
    CHECK_CUDA(cudaEventCreate(&stop));

    for (int i = 0; i < count; i++) {
        struct precision *p = &ps[i];
        for (int w = 0; w < WARMUP; w++)
            convolve(handle, p);
        CHECK_CUDA(cudaEventRecord(start, stream));
        for (int t = 0; t < TIMED; t++)
            convolve(handle, p);
        CHECK_CUDA(cudaEventRecord(stop, stream));
        CHECK_CUDA(cudaEventSynchronize(stop));
        float ms = 0.0f;
        CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
        double per = ms / TIMED;
        double flops = 2.0 * BATCH * FEATURES * SIZE * SIZE * (double)(CHANNELS * KSIZE * KSIZE);
        printf("{\"sample\": \"conv\", \"precision\": \"%s\", \"format\": \"%s\", "
               "\"math_requested\": \"%s\", \"math_chosen\": \"%s\", \"algo\": %d, "
               "\"workspace_bytes\": %zu, \"tensor_cores_expected\": %s, \"convs_timed\": %d, "
               "\"ms_per_conv\": %.4f, \"tflops\": %.2f}\n",
               p->name, p->format_name, p->math_name, math_type_name(p->chosen_math),
               (int)p->algo, p->workspace_bytes, p->tensor_cores ? "true" : "false", TIMED, per,
               flops / (per * 1e-3) / 1e12);
    }
    printf("{\"sample\": \"conv\", \"summary\": true, \"cudnn_version\": %zu, \"own_bytes\": %zu, "
           "\"own_blocks\": %d, \"convs\": %d}\n",
           cudnnGetVersion(), own, blocks, count * (WARMUP + TIMED));

    for (int i = 0; i < count; i++) {
        struct precision *p = &ps[i];
        CHECK_CUDA(cudaFree(p->in));
        CHECK_CUDA(cudaFree(p->filter));
        CHECK_CUDA(cudaFree(p->out));
        if (p->workspace != NULL)
            CHECK_CUDA(cudaFree(p->workspace));
        CHECK_CUDNN(cudnnDestroyTensorDescriptor(p->x));
        CHECK_CUDNN(cudnnDestroyTensorDescriptor(p->y));
        CHECK_CUDNN(cudnnDestroyFilterDescriptor(p->w));
        CHECK_CUDNN(cudnnDestroyConvolutionDescriptor(p->conv));
    }
    CHECK_CUDA(cudaEventDestroy(start));
    CHECK_CUDA(cudaEventDestroy(stop));
    CHECK_CUDNN(cudnnDestroy(handle));
    CHECK_CUDA(cudaStreamDestroy(stream));
    return 0;
}
