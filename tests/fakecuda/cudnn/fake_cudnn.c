/* fake_cudnn.c — a stand-in for libcudnn.so.9 with the real soname, version node and
 * prototypes (cudnn.h of the installed cuDNN): handles, tensor, filter and convolution
 * descriptors as small structs, and the three legacy convolutions, which check their
 * arguments the way cuDNN does (shapes consistent, output extents those the convolution
 * gives, workspace present when sized) and launch one named kernel through the fake
 * libcupti, chosen as cuDNN would roughly choose (fake_conv_kernel); a forward 1x1
 * convolution goes through cublasGemmEx instead when libcublas is loaded (fake_conv_gemm),
 * as a GEMM cuDNN hands to cuBLAS. No math is done.
 * The backend API is in fake_cudnn_backend.c. Test-only. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cudnn_int.h"
#include "fakecupti.h"

#define FAKE_MAXD 8

struct cudnnTensorStruct {
    int set, nd;
    cudnnDataType_t type;
    int dims[FAKE_MAXD], strides[FAKE_MAXD];
};
struct cudnnFilterStruct {
    int set, nd;
    cudnnDataType_t type;
    cudnnTensorFormat_t format;
    int dims[FAKE_MAXD];
};
struct cudnnConvolutionStruct {
    int set, ns, groups;
    int pad[FAKE_MAXD], stride[FAKE_MAXD], dil[FAKE_MAXD];
    cudnnConvolutionMode_t mode;
    cudnnDataType_t compute;
    cudnnMathType_t math;
};

static atomic_uint fake_convs; /* convolutions run, for the tests */
unsigned fake_cudnn_calls(void) { return atomic_load(&fake_convs); }

size_t cudnnGetVersion(void) { return CUDNN_VERSION; }

const char *cudnnGetErrorString(cudnnStatus_t status)
{
    return status == CUDNN_STATUS_SUCCESS ? "CUDNN_STATUS_SUCCESS" : "CUDNN_STATUS_FAKE_ERROR";
}

cudnnStatus_t cudnnCreate(cudnnHandle_t *handle)
{
    if (handle == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    *handle = calloc(1, sizeof **handle);
    return *handle != NULL ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle)
{
    free(handle);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t streamId)
{
    if (handle == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    handle->stream = streamId;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t *streamId)
{
    if (handle == NULL || streamId == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    *streamId = handle->stream;
    return CUDNN_STATUS_SUCCESS;
}

/* ---- descriptors ---------------------------------------------------------------------- */
#define FAKE_CREATE_DESTROY(what, T)                                                               \
    cudnnStatus_t cudnnCreate##what##Descriptor(T *d)                                              \
    {                                                                                              \
        if (d == NULL)                                                                             \
            return CUDNN_STATUS_BAD_PARAM;                                                         \
        *d = calloc(1, sizeof **d);                                                                \
        return *d != NULL ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;                      \
    }                                                                                              \
    cudnnStatus_t cudnnDestroy##what##Descriptor(T d)                                              \
    {                                                                                              \
        free(d);                                                                                   \
        return CUDNN_STATUS_SUCCESS;                                                               \
    }
FAKE_CREATE_DESTROY(Tensor, cudnnTensorDescriptor_t)
FAKE_CREATE_DESTROY(Filter, cudnnFilterDescriptor_t)

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d)
{
    if (d == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    *d = calloc(1, sizeof **d);
    if (*d == NULL)
        return CUDNN_STATUS_ALLOC_FAILED;
    (*d)->groups = 1;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d)
{
    free(d);
    return CUDNN_STATUS_SUCCESS;
}

static int positive(int n, const int *v)
{
    for (int i = 0; i < n; i++)
        if (v[i] <= 0)
            return 0;
    return 1;
}

cudnnStatus_t cudnnSetTensorNdDescriptor(cudnnTensorDescriptor_t d, cudnnDataType_t type, int nd,
                                         const int dims[], const int strides[])
{
    if (d == NULL || dims == NULL || strides == NULL || nd < 3 || nd > FAKE_MAXD ||
        !positive(nd, dims) || !positive(nd, strides))
        return CUDNN_STATUS_BAD_PARAM;
    d->set = 1, d->nd = nd, d->type = type;
    memcpy(d->dims, dims, (size_t)nd * sizeof *dims);
    memcpy(d->strides, strides, (size_t)nd * sizeof *strides);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t format,
                                         cudnnDataType_t type, int n, int c, int h, int w)
{
    int dims[4] = {n, c, h, w};
    int nchw[4] = {c * h * w, h * w, w, 1}, nhwc[4] = {h * w * c, 1, w * c, c};
    if (format != CUDNN_TENSOR_NCHW && format != CUDNN_TENSOR_NHWC)
        return CUDNN_STATUS_NOT_SUPPORTED;
    return cudnnSetTensorNdDescriptor(d, type, 4, dims, format == CUDNN_TENSOR_NCHW ? nchw : nhwc);
}

cudnnStatus_t cudnnGetTensorNdDescriptor(const cudnnTensorDescriptor_t d, int want,
                                         cudnnDataType_t *type, int *nd, int dims[], int strides[])
{
    if (d == NULL || !d->set || type == NULL || nd == NULL || want < 0 ||
        (want > 0 && (dims == NULL || strides == NULL)))
        return CUDNN_STATUS_BAD_PARAM;
    *type = d->type;
    *nd = d->nd;
    for (int i = 0; i < want && i < d->nd; i++)
        dims[i] = d->dims[i], strides[i] = d->strides[i];
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetTensor4dDescriptor(const cudnnTensorDescriptor_t d, cudnnDataType_t *type,
                                         int *n, int *c, int *h, int *w, int *ns, int *cs,
                                         int *hs, int *ws)
{
    if (d == NULL || !d->set || d->nd != 4)
        return CUDNN_STATUS_BAD_PARAM;
    *type = d->type;
    *n = d->dims[0], *c = d->dims[1], *h = d->dims[2], *w = d->dims[3];
    *ns = d->strides[0], *cs = d->strides[1], *hs = d->strides[2], *ws = d->strides[3];
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetFilterNdDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type,
                                         cudnnTensorFormat_t format, int nd, const int dims[])
{
    if (d == NULL || dims == NULL || nd < 3 || nd > FAKE_MAXD || !positive(nd, dims))
        return CUDNN_STATUS_BAD_PARAM;
    d->set = 1, d->nd = nd, d->type = type, d->format = format;
    memcpy(d->dims, dims, (size_t)nd * sizeof *dims);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type,
                                         cudnnTensorFormat_t format, int k, int c, int h, int w)
{
    int dims[4] = {k, c, h, w};
    return cudnnSetFilterNdDescriptor(d, type, format, 4, dims);
}

cudnnStatus_t cudnnGetFilterNdDescriptor(const cudnnFilterDescriptor_t d, int want,
                                         cudnnDataType_t *type, cudnnTensorFormat_t *format,
                                         int *nd, int dims[])
{
    if (d == NULL || !d->set || type == NULL || format == NULL || nd == NULL || want < 0 ||
        (want > 0 && dims == NULL))
        return CUDNN_STATUS_BAD_PARAM;
    *type = d->type, *format = d->format, *nd = d->nd;
    for (int i = 0; i < want && i < d->nd; i++)
        dims[i] = d->dims[i];
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetFilter4dDescriptor(const cudnnFilterDescriptor_t d, cudnnDataType_t *type,
                                         cudnnTensorFormat_t *format, int *k, int *c, int *h,
                                         int *w)
{
    if (d == NULL || !d->set || d->nd != 4)
        return CUDNN_STATUS_BAD_PARAM;
    *type = d->type, *format = d->format;
    *k = d->dims[0], *c = d->dims[1], *h = d->dims[2], *w = d->dims[3];
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionNdDescriptor(cudnnConvolutionDescriptor_t d, int ns,
                                              const int pad[], const int stride[],
                                              const int dil[], cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute)
{
    if (d == NULL || ns < 1 || ns > FAKE_MAXD - 2 || pad == NULL || !positive(ns, stride) ||
        !positive(ns, dil))
        return CUDNN_STATUS_BAD_PARAM;
    for (int i = 0; i < ns; i++)
        if (pad[i] < 0)
            return CUDNN_STATUS_BAD_PARAM;
    d->set = 1, d->ns = ns, d->mode = mode, d->compute = compute;
    memcpy(d->pad, pad, (size_t)ns * sizeof *pad);
    memcpy(d->stride, stride, (size_t)ns * sizeof *stride);
    memcpy(d->dil, dil, (size_t)ns * sizeof *dil);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h, int pad_w,
                                              int u, int v, int dil_h, int dil_w,
                                              cudnnConvolutionMode_t mode, cudnnDataType_t compute)
{
    int pad[2] = {pad_h, pad_w}, stride[2] = {u, v}, dil[2] = {dil_h, dil_w};
    return cudnnSetConvolutionNdDescriptor(d, 2, pad, stride, dil, mode, compute);
}

cudnnStatus_t cudnnGetConvolutionNdDescriptor(const cudnnConvolutionDescriptor_t d, int want,
                                              int *ns, int pad[], int stride[], int dil[],
                                              cudnnConvolutionMode_t *mode,
                                              cudnnDataType_t *compute)
{
    if (d == NULL || !d->set || ns == NULL || mode == NULL || compute == NULL || want < 0 ||
        (want > 0 && (pad == NULL || stride == NULL || dil == NULL)))
        return CUDNN_STATUS_BAD_PARAM;
    *ns = d->ns, *mode = d->mode, *compute = d->compute;
    for (int i = 0; i < want && i < d->ns; i++)
        pad[i] = d->pad[i], stride[i] = d->stride[i], dil[i] = d->dil[i];
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolution2dDescriptor(const cudnnConvolutionDescriptor_t d, int *pad_h,
                                              int *pad_w, int *u, int *v, int *dil_h, int *dil_w,
                                              cudnnConvolutionMode_t *mode,
                                              cudnnDataType_t *compute)
{
    if (d == NULL || !d->set || d->ns != 2)
        return CUDNN_STATUS_BAD_PARAM;
    *pad_h = d->pad[0], *pad_w = d->pad[1], *u = d->stride[0], *v = d->stride[1];
    *dil_h = d->dil[0], *dil_w = d->dil[1], *mode = d->mode, *compute = d->compute;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int groups)
{
    if (d == NULL || groups < 1)
        return CUDNN_STATUS_BAD_PARAM;
    d->groups = groups;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int *groups)
{
    if (d == NULL || groups == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    *groups = d->groups;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math)
{
    if (d == NULL || (unsigned)math > CUDNN_FMA_MATH)
        return CUDNN_STATUS_BAD_PARAM;
    d->math = math;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t *math)
{
    if (d == NULL || math == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    *math = d->math;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionNdForwardOutputDim(const cudnnConvolutionDescriptor_t cd,
                                                    const cudnnTensorDescriptor_t x,
                                                    const cudnnFilterDescriptor_t w, int nd,
                                                    int out[])
{
    if (cd == NULL || x == NULL || w == NULL || out == NULL || !cd->set || !x->set || !w->set ||
        nd != x->nd || nd != w->nd || nd != cd->ns + 2 || x->dims[1] != w->dims[1] * cd->groups)
        return CUDNN_STATUS_BAD_PARAM;
    out[0] = x->dims[0];
    out[1] = w->dims[0];
    for (int i = 0; i < cd->ns; i++) {
        int span = cd->dil[i] * (w->dims[i + 2] - 1) + 1;
        int room = x->dims[i + 2] + 2 * cd->pad[i] - span;
        if (room < 0)
            return CUDNN_STATUS_BAD_PARAM;
        out[i + 2] = room / cd->stride[i] + 1;
    }
    return CUDNN_STATUS_SUCCESS;
}

/* ---- the convolutions ----------------------------------------------------------------- */
void fake_cudnn_launch(cudnnHandle_t handle, const char *name)
{
    void *h = dlopen("libcupti.so.13", RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        return;
    fakecupti_emit_kernel_fn emit = (fakecupti_emit_kernel_fn)dlsym(h, "fakecupti_emit_kernel");
    if (emit != NULL) {
        struct fakecupti_kernel k = {
            .name = name, .stream = (uint32_t)(uintptr_t)handle->stream,
            .duration_ns = 50000, .gap_ns = 1000, .grid = {80, 1, 1}, .block = {256, 1, 1},
            .registers = 128,
        };
        emit(&k);
    }
    dlclose(h);
}

/* The kernel cuDNN would roughly pick: Tensor Core (xmma) kernels for 16-bit data with
 * channels in multiples of 8 unless FMA math is asked, TF32 ones for fp32 unless FMA math
 * is asked, a CUDA-core kernel otherwise (fp16 misaligned: the "scudnn" kernel whose name
 * says fp16 and yet runs no Tensor Core instruction). */
static void fake_conv_kernel(char *buf, size_t len, const char *dir, cudnnDataType_t t,
                             cudnnMathType_t math, int c, int k)
{
    int half = t == CUDNN_DATA_HALF, bf16 = t == CUDNN_DATA_BFLOAT16;
    if ((half || bf16) && math != CUDNN_FMA_MATH && c % 8 == 0 && k % 8 == 0)
        snprintf(buf, len,
                 "sm80_xmma_%s_implicit_gemm_%s_f32_nhwckrsc_nhwc_tilesize128x128x32_stage4_"
                 "warpsize2x2x1_g1_tensor16x8x16_kernel_cudnn",
                 dir, half ? "f16f16_f16f32" : "bf16bf16_bf16f32");
    else if (t == CUDNN_DATA_FLOAT && math != CUDNN_FMA_MATH)
        snprintf(buf, len,
                 "sm80_xmma_%s_implicit_gemm_tf32f32_tf32f32_f32_nhwckrsc_nchw_tilesize128x128x16_"
                 "stage4_warpsize2x2x1_g1_tensor16x8x8_kernel_cudnn",
                 dir);
    else if (half)
        snprintf(buf, len, "volta_fp16_scudnn_fp16_128x128_stridedB_splitK_small_nn_v1");
    else
        snprintf(buf, len, "implicit_convolve_sgemm_%s", dir);
}

/* A forward 1x1 convolution of one group is a GEMM (m = N·P·Q, n = K, k = C): like cuDNN
 * engines that hand such work to cuBLAS, it is run by cublasGemmEx, found in the global
 * scope (an interposer's first) when libcublas.so.13 is loaded. 1 when it ran that way. */
static int fake_conv_gemm(cudnnHandle_t handle, const char *dir, const cudnnTensorDescriptor_t x,
                          const cudnnFilterDescriptor_t w, const cudnnConvolutionDescriptor_t cd,
                          const cudnnTensorDescriptor_t y)
{
    typedef int (*create_fn)(void **);
    typedef int (*destroy_fn)(void *);
    typedef int (*stream_fn)(void *, cudaStream_t);
    typedef int (*gemm_fn)(void *, int, int, int, int, int, const void *, const void *, int, int,
                           const void *, int, int, const void *, void *, int, int, int, int);
    int atype = x->type == CUDNN_DATA_FLOAT ? 0 : x->type == CUDNN_DATA_HALF ? 2
              : x->type == CUDNN_DATA_BFLOAT16 ? 14 : -1;
    long long m = x->dims[0];
    for (int i = 2; i < x->nd; i++) {
        if (w->dims[i] != 1)
            return 0;
        m *= y->dims[i];
    }
    if (strcmp(dir, "fprop") != 0 || cd->groups != 1 || atype < 0 || m > 0x7fffffff)
        return 0;
    void *lib = dlopen("libcublas.so.13", RTLD_LAZY | RTLD_NOLOAD);
    if (lib == NULL)
        return 0;
    dlclose(lib); /* it stays loaded: the program holds it */
    create_fn create = (create_fn)dlsym(RTLD_DEFAULT, "cublasCreate_v2");
    destroy_fn destroy = (destroy_fn)dlsym(RTLD_DEFAULT, "cublasDestroy_v2");
    stream_fn set_stream = (stream_fn)dlsym(RTLD_DEFAULT, "cublasSetStream_v2");
    gemm_fn gemm = (gemm_fn)dlsym(RTLD_DEFAULT, "cublasGemmEx");
    void *h = NULL;
    if (!create || !destroy || !set_stream || !gemm || create(&h) != 0)
        return 0;
    static const float one = 1.0f, zero = 0.0f;
    int compute = atype == 0 ? (cd->math == CUDNN_FMA_MATH ? 68 : 77) /* 32F, 32F_FAST_TF32 */
                             : 68;
    int mi = (int)m, n = w->dims[0], k = x->dims[1];
    set_stream(h, handle->stream);
    int rc = gemm(h, 0, 0, mi, n, k, &one, &one, atype, mi, &one, atype, k, &zero, (void *)&zero,
                  atype, mi, compute, -1 /* CUBLAS_GEMM_DEFAULT */);
    destroy(h);
    return rc == 0;
}

/* Checks a convolution problem in forward terms (x, w -> y) and launches its kernel. */
static cudnnStatus_t fake_conv(cudnnHandle_t handle, const char *dir,
                               const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
                               const cudnnConvolutionDescriptor_t cd,
                               const cudnnTensorDescriptor_t y, int algo, const void *ws,
                               size_t ws_bytes, const void *pa, const void *pb, const void *pc)
{
    int out[FAKE_MAXD];
    if (handle == NULL || x == NULL || w == NULL || cd == NULL || y == NULL || pa == NULL ||
        pb == NULL || pc == NULL || algo < 0 || (ws_bytes > 0 && ws == NULL))
        return CUDNN_STATUS_BAD_PARAM;
    if (!x->set || !w->set || !cd->set || !y->set)
        return CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED;
    if (cudnnGetConvolutionNdForwardOutputDim(cd, x, w, x->nd, out) != CUDNN_STATUS_SUCCESS ||
        y->nd != x->nd || memcmp(out, y->dims, (size_t)y->nd * sizeof *out) != 0 ||
        w->dims[0] % cd->groups != 0)
        return CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH;
    if (x->type != w->type || x->type != y->type)
        return CUDNN_STATUS_NOT_SUPPORTED;
    if (!fake_conv_gemm(handle, dir, x, w, cd, y)) {
        char name[192];
        fake_conv_kernel(name, sizeof name, dir, x->type, cd->math, x->dims[1], w->dims[0]);
        fake_cudnn_launch(handle, name);
    }
    atomic_fetch_add(&fake_convs, 1);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void *alpha,
                                      const cudnnTensorDescriptor_t xDesc, const void *x,
                                      const cudnnFilterDescriptor_t wDesc, const void *w,
                                      const cudnnConvolutionDescriptor_t convDesc,
                                      cudnnConvolutionFwdAlgo_t algo, void *workSpace,
                                      size_t workSpaceSizeInBytes, const void *beta,
                                      const cudnnTensorDescriptor_t yDesc, void *y)
{
    if (alpha == NULL || beta == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    return fake_conv(handle, "fprop", xDesc, wDesc, convDesc, yDesc, (int)algo, workSpace,
                     workSpaceSizeInBytes, x, w, y);
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void *alpha,
                                           const cudnnFilterDescriptor_t wDesc, const void *w,
                                           const cudnnTensorDescriptor_t dyDesc, const void *dy,
                                           const cudnnConvolutionDescriptor_t convDesc,
                                           cudnnConvolutionBwdDataAlgo_t algo, void *workSpace,
                                           size_t workSpaceSizeInBytes, const void *beta,
                                           const cudnnTensorDescriptor_t dxDesc, void *dx)
{
    if (alpha == NULL || beta == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    return fake_conv(handle, "dgrad", dxDesc, wDesc, convDesc, dyDesc, (int)algo, workSpace,
                     workSpaceSizeInBytes, w, dy, dx);
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void *alpha,
                                             const cudnnTensorDescriptor_t xDesc, const void *x,
                                             const cudnnTensorDescriptor_t dyDesc, const void *dy,
                                             const cudnnConvolutionDescriptor_t convDesc,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void *workSpace,
                                             size_t workSpaceSizeInBytes, const void *beta,
                                             const cudnnFilterDescriptor_t dwDesc, void *dw)
{
    if (alpha == NULL || beta == NULL)
        return CUDNN_STATUS_BAD_PARAM;
    return fake_conv(handle, "wgrad", xDesc, dwDesc, convDesc, dyDesc, (int)algo, workSpace,
                     workSpaceSizeInBytes, x, dy, dw);
}
