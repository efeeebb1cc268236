/* hooks_dnn.c — cuDNN convolutions, interposed by name like hooks_blas.c's GEMMs. Each
 * wrapper calls the real function found at run time (dlsym(RTLD_NEXT), else libcudnn.so.9
 * if already loaded; cuDNN is never linked) and records one LIBCALL event:
 *  - cudnnConvolutionForward / BackwardData / BackwardFilter: the shape read from the tensor,
 *    filter and convolution descriptors, mapped onto the GEMM fields as the implicit GEMM
 *    (docs/trace-format.md §3.5.1 gives the mapping), plus the convolution's own extents;
 *    data and compute types, the descriptor's math type, algorithm, workspace, stream.
 *  - cudnnBackendExecute (PyTorch's path): stream, duration, and what the execution plan
 *    tells cheaply: its engine's global index and numerical notes, its workspace size.
 * A call made from inside another intercepted cuDNN or cuBLAS call is part of the outer event
 * (the nesting depth is shared with hooks_blas.c), so a GEMM cuDNN runs through cuBLAS is
 * part of the convolution's. While CUPTI records, an external correlation id is pushed
 * around the real call and kept in the event (gp_cupti_ext_push).
 * The math type set on each convolution descriptor is kept in a small lock-free table; no
 * shim lock is ever held while cuDNN runs.
 *
 * cuDNN's headers are not part of every CUDA toolkit: without them (or with
 * GP_DNN_OWN_DECLS) the few types and constants used here are declared below, with the
 * values of cuDNN 9's headers (the ABI of these entry points is the same in cuDNN 8). */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "gp_cupti.h"
#include "internal.h"

#if !defined(GP_DNN_OWN_DECLS) && __has_include(<cudnn.h>)
#include <cudnn.h>
#else
typedef struct cudnnContext *cudnnHandle_t;
typedef struct cudnnTensorStruct *cudnnTensorDescriptor_t;
typedef struct cudnnFilterStruct *cudnnFilterDescriptor_t;
typedef struct cudnnConvolutionStruct *cudnnConvolutionDescriptor_t;
typedef void *cudnnBackendDescriptor_t;
typedef struct CUstream_st *cudaStream_t;
typedef enum { CUDNN_STATUS_SUCCESS = 0, CUDNN_STATUS_NOT_INITIALIZED = 1001 } cudnnStatus_t;
typedef enum {
    CUDNN_DATA_FLOAT = 0, CUDNN_DATA_DOUBLE = 1, CUDNN_DATA_HALF = 2, CUDNN_DATA_INT8 = 3,
    CUDNN_DATA_INT32 = 4, CUDNN_DATA_UINT8 = 6, CUDNN_DATA_BFLOAT16 = 9, CUDNN_DATA_INT64 = 10,
    CUDNN_DATA_FP8_E4M3 = 12, CUDNN_DATA_FP8_E5M2 = 13, CUDNN_DATA_FP4_E2M1 = 16
} cudnnDataType_t;
typedef enum { CUDNN_DEFAULT_MATH = 0 } cudnnMathType_t;
typedef enum { CUDNN_CONVOLUTION = 0 } cudnnConvolutionMode_t;
typedef enum { CUDNN_TENSOR_NCHW = 0 } cudnnTensorFormat_t;
typedef int cudnnConvolutionFwdAlgo_t, cudnnConvolutionBwdDataAlgo_t,
    cudnnConvolutionBwdFilterAlgo_t;
typedef enum {
    CUDNN_ATTR_ENGINECFG_ENGINE = 300, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG = 401,
    CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE = 402, CUDNN_ATTR_ENGINE_GLOBAL_INDEX = 1301,
    CUDNN_ATTR_ENGINE_NUMERICAL_NOTE = 1303
} cudnnBackendAttributeName_t;
typedef enum {
    CUDNN_TYPE_INT64 = 3, CUDNN_TYPE_NUMERICAL_NOTE = 11, CUDNN_TYPE_BACKEND_DESCRIPTOR = 15
} cudnnBackendAttributeType_t;
typedef enum {
    CUDNN_BACKEND_ENGINE_DESCRIPTOR = 2, CUDNN_BACKEND_ENGINECFG_DESCRIPTOR = 3
} cudnnBackendDescriptorType_t;
typedef enum { CUDNN_NUMERICAL_NOTE_TENSOR_CORE = 0 } cudnnBackendNumericalNote_t;

cudnnStatus_t cudnnGetStream(cudnnHandle_t, cudaStream_t *);
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t, cudnnMathType_t);
cudnnStatus_t cudnnGetConvolutionMathType(cudnnConvolutionDescriptor_t, cudnnMathType_t *);
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t);
cudnnStatus_t cudnnGetTensorNdDescriptor(const cudnnTensorDescriptor_t, int, cudnnDataType_t *,
                                         int *, int[], int[]);
cudnnStatus_t cudnnGetFilterNdDescriptor(const cudnnFilterDescriptor_t, int, cudnnDataType_t *,
                                         cudnnTensorFormat_t *, int *, int[]);
cudnnStatus_t cudnnGetConvolutionNdDescriptor(const cudnnConvolutionDescriptor_t, int, int *,
                                              int[], int[], int[], cudnnConvolutionMode_t *,
                                              cudnnDataType_t *);
cudnnStatus_t cudnnGetConvolutionGroupCount(cudnnConvolutionDescriptor_t, int *);
cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t, const void *, const cudnnTensorDescriptor_t,
                                      const void *, const cudnnFilterDescriptor_t, const void *,
                                      const cudnnConvolutionDescriptor_t,
                                      cudnnConvolutionFwdAlgo_t, void *, size_t, const void *,
                                      const cudnnTensorDescriptor_t, void *);
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t, const void *,
                                           const cudnnFilterDescriptor_t, const void *,
                                           const cudnnTensorDescriptor_t, const void *,
                                           const cudnnConvolutionDescriptor_t,
                                           cudnnConvolutionBwdDataAlgo_t, void *, size_t,
                                           const void *, const cudnnTensorDescriptor_t, void *);
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t, const void *,
                                             const cudnnTensorDescriptor_t, const void *,
                                             const cudnnTensorDescriptor_t, const void *,
                                             const cudnnConvolutionDescriptor_t,
                                             cudnnConvolutionBwdFilterAlgo_t, void *, size_t,
                                             const void *, const cudnnFilterDescriptor_t, void *);
cudnnStatus_t cudnnBackendCreateDescriptor(cudnnBackendDescriptorType_t,
                                           cudnnBackendDescriptor_t *);
cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t);
cudnnStatus_t cudnnBackendGetAttribute(cudnnBackendDescriptor_t const, cudnnBackendAttributeName_t,
                                       cudnnBackendAttributeType_t, int64_t, int64_t *, void *);
cudnnStatus_t cudnnBackendExecute(cudnnHandle_t, cudnnBackendDescriptor_t,
                                  cudnnBackendDescriptor_t);
#endif

#define GP_DNN_FUNCS(X)                                                                            \
    X(cudnnGetStream) X(cudnnSetConvolutionMathType) X(cudnnGetConvolutionMathType)                \
    X(cudnnDestroyConvolutionDescriptor) X(cudnnGetTensorNdDescriptor)                             \
    X(cudnnGetFilterNdDescriptor) X(cudnnGetConvolutionNdDescriptor)                               \
    X(cudnnGetConvolutionGroupCount) X(cudnnConvolutionForward) X(cudnnConvolutionBackwardData)   \
    X(cudnnConvolutionBackwardFilter) X(cudnnBackendCreateDescriptor)                              \
    X(cudnnBackendDestroyDescriptor) X(cudnnBackendGetAttribute) X(cudnnBackendExecute)

enum {
#define GP_DF_ENUM(n) GP_DF_##n,
    GP_DNN_FUNCS(GP_DF_ENUM)
#undef GP_DF_ENUM
    GP_DF_COUNT
};
static const char *const gp_df_names[GP_DF_COUNT] = {
#define GP_DF_NAME(n) #n,
    GP_DNN_FUNCS(GP_DF_NAME)
#undef GP_DF_NAME
};
static void *_Atomic gp_df_real[GP_DF_COUNT];

/* The real function: the next definition after ours, or libcudnn's when it was dlopen()ed
 * RTLD_LOCAL (the dispatcher library exports every entry point used here). NULL when
 * neither is loaded; looked up again next time, since cuDNN may be loaded later. */
static void *gp_dnn_real(int idx)
{
    void *p = atomic_load_explicit(&gp_df_real[idx], memory_order_acquire);
    if (GP_LIKELY(p != NULL))
        return p;
    p = dlsym(RTLD_NEXT, gp_df_names[idx]);
    static const char *const sonames[] = {"libcudnn.so.9", "libcudnn.so.8"};
    for (size_t i = 0; p == NULL && i < sizeof sonames / sizeof sonames[0]; i++) {
        void *h = dlopen(sonames[i], RTLD_LAZY | RTLD_NOLOAD);
        if (h != NULL) {
            p = dlsym(h, gp_df_names[idx]);
            dlclose(h);
        }
    }
    if (p != NULL)
        atomic_store_explicit(&gp_df_real[idx], p, memory_order_release);
    return p;
}

#define GP_DNN_FN(fn) ((__typeof__(&fn))gp_dnn_real(GP_DF_##fn))
#define GP_DNN_REAL(fn)                                                                            \
    __typeof__(&fn) real = GP_DNN_FN(fn);                                                          \
    if (GP_UNLIKELY(real == NULL))                                                                 \
    return CUDNN_STATUS_NOT_INITIALIZED

static inline bool gp_dnn_outer(void) { return gp_shim_lib_depth == 0 && !gp_shim_in_hook; }

#define GP_DNN_MATH_UNKNOWN 0xff

/* ---- a bounded lock-free table: descriptor value -> a few atomics -------------------- */
/* A slot, once given to a pointer value, keeps it; the value's destruction resets the
 * slot's contents. Beyond GP_DNN_SLOTS the library is asked each time instead. */
#define GP_DNN_SLOTS 64
static int gp_dnn_slot(_Atomic(const void *) *keys, const void *key, bool add)
{
    if (key == NULL)
        return -1;
    for (int i = 0; i < GP_DNN_SLOTS; i++) {
        const void *p = atomic_load_explicit(&keys[i], memory_order_acquire);
        if (p == key)
            return i;
        if (p == NULL) {
            if (!add)
                return -1;
            const void *expected = NULL;
            if (atomic_compare_exchange_strong(&keys[i], &expected, key) || expected == key)
                return i;
        }
    }
    return -1;
}

/* Convolution descriptor -> math type (GP_DNN_MATH_UNKNOWN: ask cuDNN). */
static _Atomic(const void *) gp_conv_keys[GP_DNN_SLOTS];
static _Atomic int gp_conv_math[GP_DNN_SLOTS];

GP_EXPORT cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t convDesc,
                                                    cudnnMathType_t mathType)
{
    GP_DNN_REAL(cudnnSetConvolutionMathType);
    cudnnStatus_t r = real(convDesc, mathType);
    int i;
    if (r == CUDNN_STATUS_SUCCESS && (i = gp_dnn_slot(gp_conv_keys, convDesc, true)) >= 0)
        atomic_store_explicit(&gp_conv_math[i],
                              (unsigned)mathType < GP_DNN_MATH_UNKNOWN ? (int)mathType
                                                                       : GP_DNN_MATH_UNKNOWN,
                              memory_order_relaxed);
    return r;
}

GP_EXPORT cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t convDesc)
{
    GP_DNN_REAL(cudnnDestroyConvolutionDescriptor);
    int i = gp_dnn_slot(gp_conv_keys, convDesc, false);
    if (i >= 0) /* a later descriptor at this address is asked about, not assumed */
        atomic_store_explicit(&gp_conv_math[i], GP_DNN_MATH_UNKNOWN, memory_order_relaxed);
    return real(convDesc);
}

static uint8_t gp_conv_math_of(cudnnConvolutionDescriptor_t cd)
{
    int i = gp_dnn_slot(gp_conv_keys, cd, false);
    if (i >= 0) {
        int m = atomic_load_explicit(&gp_conv_math[i], memory_order_relaxed);
        if (m != GP_DNN_MATH_UNKNOWN)
            return (uint8_t)m;
    }
    __typeof__(&cudnnGetConvolutionMathType) get = GP_DNN_FN(cudnnGetConvolutionMathType);
    cudnnMathType_t m;
    if (get == NULL || cd == NULL || get(cd, &m) != CUDNN_STATUS_SUCCESS ||
        (unsigned)m >= GP_DNN_MATH_UNKNOWN)
        return GP_DNN_MATH_UNKNOWN;
    return (uint8_t)m;
}

/* ---- recording ------------------------------------------------------------------- */
struct gp_dnn_call {
    uint8_t api, math;
    uint64_t m, n, k;
    struct gp_libcall lc;
};

static void gp_dnn_init_call(struct gp_dnn_call *c, uint8_t api)
{
    memset(c, 0, sizeof *c);
    c->api = api;
    c->math = GP_DNN_MATH_UNKNOWN;
    c->lc.compute = GP_LIB_UNKNOWN;
    c->lc.algo = GP_LIB_UNKNOWN;
}

/* The real call, timed, under a fresh external correlation id (0: none pushed). */
#define GP_DNN_CALL(r, ext, t0, t1, call)                                                          \
    do {                                                                                           \
        (ext) = gp_cupti_ext_push();                                                               \
        (t0) = gp_shim_now();                                                                      \
        (r) = call;                                                                                \
        (t1) = gp_shim_now();                                                                      \
        if (ext)                                                                                   \
            gp_cupti_ext_pop();                                                                    \
    } while (0)

static void gp_dnn_done(const struct gp_dnn_call *c, cudnnHandle_t h, int result, uint64_t t0,
                        uint64_t t1, uint64_t ext)
{
    cudaStream_t stream = NULL;
    __typeof__(&cudnnGetStream) get = GP_DNN_FN(cudnnGetStream);
    gp_shim_lib_depth++;
    if (get == NULL || h == NULL || get(h, &stream) != CUDNN_STATUS_SUCCESS)
        stream = NULL;
    gp_shim_lib_depth--;
    if (!gp_shim_enter())
        return;
    struct gp_libcall lc = c->lc;
    lc.dur_ns = t1 - t0;
    lc.ext_id = ext;
    gp_shim_record_libcall(c->api, c->math, result, c->m, c->n, c->k, stream, &lc);
    gp_shim_leave();
}

/* cudnnDataType_t -> cudaDataType + 1 (the LIBCALL encoding), 0 = no such cudaDataType. */
static uint8_t gp_dnn_type(int t)
{
    switch (t) {
    case CUDNN_DATA_FLOAT: return 0 + 1;     /* CUDA_R_32F */
    case CUDNN_DATA_DOUBLE: return 1 + 1;    /* CUDA_R_64F */
    case CUDNN_DATA_HALF: return 2 + 1;      /* CUDA_R_16F */
    case CUDNN_DATA_INT8: return 3 + 1;      /* CUDA_R_8I */
    case CUDNN_DATA_UINT8: return 8 + 1;     /* CUDA_R_8U */
    case CUDNN_DATA_INT32: return 10 + 1;    /* CUDA_R_32I */
    case CUDNN_DATA_BFLOAT16: return 14 + 1; /* CUDA_R_16BF */
    case CUDNN_DATA_INT64: return 24 + 1;    /* CUDA_R_64I */
    case CUDNN_DATA_FP8_E4M3: return 28 + 1; /* CUDA_R_8F_E4M3 */
    case CUDNN_DATA_FP8_E5M2: return 29 + 1; /* CUDA_R_8F_E5M2 */
    case CUDNN_DATA_FP4_E2M1: return 33 + 1; /* CUDA_R_4F_E2M1 */
    default: return 0;
    }
}

enum gp_conv_dir { GP_CONV_FWD, GP_CONV_DGRAD, GP_CONV_WGRAD };

/* Reads the problem from the descriptors, in forward terms: x (N, C, in...), w (K, C/groups,
 * filt...), y (N, K, out...). What cannot be read stays unknown; the GEMM view and the
 * convolution shape are set only when every extent was read and is consistent. */
static void gp_conv_describe(struct gp_dnn_call *c, enum gp_conv_dir dir,
                             cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                             cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t y)
{
    __typeof__(&cudnnGetTensorNdDescriptor) gt = GP_DNN_FN(cudnnGetTensorNdDescriptor);
    __typeof__(&cudnnGetFilterNdDescriptor) gf = GP_DNN_FN(cudnnGetFilterNdDescriptor);
    __typeof__(&cudnnGetConvolutionNdDescriptor) gc = GP_DNN_FN(cudnnGetConvolutionNdDescriptor);
    __typeof__(&cudnnGetConvolutionGroupCount) gg = GP_DNN_FN(cudnnGetConvolutionGroupCount);
    enum { MAXD = GP_LIB_CONV_MAX_SPATIAL + 2 };
    int xd[MAXD], xs[MAXD], wd[MAXD], yd[MAXD], ys[MAXD], nx = 0, nw = 0, ny = 0, ns = 0;
    int pad[GP_LIB_CONV_MAX_SPATIAL], str[GP_LIB_CONV_MAX_SPATIAL], dil[GP_LIB_CONV_MAX_SPATIAL];
    int groups = 1;
    cudnnDataType_t tx, tw, ty, tc;
    cudnnTensorFormat_t fmt;
    cudnnConvolutionMode_t mode;
    bool okx = gt != NULL && x != NULL && gt(x, MAXD, &tx, &nx, xd, xs) == CUDNN_STATUS_SUCCESS;
    bool okw = gf != NULL && w != NULL && gf(w, MAXD, &tw, &fmt, &nw, wd) == CUDNN_STATUS_SUCCESS;
    bool oky = gt != NULL && y != NULL && gt(y, MAXD, &ty, &ny, yd, ys) == CUDNN_STATUS_SUCCESS;
    bool okc = gc != NULL && cd != NULL &&
               gc(cd, GP_LIB_CONV_MAX_SPATIAL, &ns, pad, str, dil, &mode, &tc) ==
                   CUDNN_STATUS_SUCCESS;
    if (gg != NULL && cd != NULL && (gg(cd, &groups) != CUDNN_STATUS_SUCCESS || groups < 1))
        groups = 0;
    c->lc.type_a = okx ? gp_dnn_type((int)tx) : 0;
    c->lc.type_b = okw ? gp_dnn_type((int)tw) : 0;
    c->lc.type_c = oky ? gp_dnn_type((int)ty) : 0;
    if (okc && gp_dnn_type((int)tc) != 0)
        c->lc.compute = gp_dnn_type((int)tc) - 1; /* as a legacy cudaDataType */
    c->math = gp_conv_math_of(cd);
    if (!(okx && okw && oky && okc) || groups < 1 || ns < 1 || ns > GP_LIB_CONV_MAX_SPATIAL ||
        nx != ns + 2 || nw != ns + 2 || ny != ns + 2)
        return;
    uint64_t npq = (uint64_t)(xd[0] > 0 ? xd[0] : 0), rs = 1;
    struct gp_libconv cv = {.nspatial = (uint8_t)ns};
    bool ok = xd[0] > 0 && xd[1] > 0 && wd[0] > 0 && wd[1] > 0 && wd[0] % groups == 0 &&
              yd[1] == wd[0];
    for (int i = 0; ok && i < ns; i++) {
        ok = xd[i + 2] > 0 && wd[i + 2] > 0 && yd[i + 2] > 0 && pad[i] >= 0 && pad[i] <= 0xffff &&
             str[i] > 0 && str[i] <= 0xffff && dil[i] > 0 && dil[i] <= 0xffff;
        if (!ok)
            break;
        cv.in[i] = (uint32_t)xd[i + 2];
        cv.filt[i] = (uint32_t)wd[i + 2];
        cv.out[i] = (uint32_t)yd[i + 2];
        cv.pads[i] = (uint16_t)pad[i];
        cv.strides[i] = (uint16_t)str[i];
        cv.dilations[i] = (uint16_t)dil[i];
        npq *= cv.out[i];
        rs *= cv.filt[i];
    }
    if (!ok)
        return;
    cv.n = (uint32_t)xd[0];
    cv.c = (uint32_t)xd[1];
    cv.k = (uint32_t)wd[0];
    /* The implicit GEMM of one group; groups are its batch. Every mapping keeps
     * 2·m·n·k·batch = 2·N·P·Q·K·(C/groups)·R·S, the convolution's FLOPs. */
    uint64_t kg = (uint64_t)wd[0] / (uint64_t)groups, cg_rs = (uint64_t)wd[1] * rs;
    switch (dir) {
    case GP_CONV_FWD: c->m = npq, c->n = kg, c->k = cg_rs; break;
    case GP_CONV_DGRAD: c->m = npq, c->n = (uint64_t)wd[1], c->k = kg * rs; break;
    case GP_CONV_WGRAD: c->m = kg, c->n = cg_rs, c->k = npq; break;
    }
    c->lc.batch = (uint64_t)groups;
    c->lc.conv = cv;
}

/* The body of the three convolution wrappers: straight through when nested, else describe,
 * time and record. */
#define GP_CONV_BODY(fn, API, DIR, X, W, Y, args)                                                  \
    GP_DNN_REAL(fn);                                                                               \
    if (!gp_dnn_outer())                                                                           \
        return real args;                                                                          \
    struct gp_dnn_call c;                                                                          \
    gp_dnn_init_call(&c, API);                                                                     \
    gp_shim_lib_depth++; /* the getters are cuDNN calls of the shim, not of the program */         \
    gp_conv_describe(&c, DIR, X, W, convDesc, Y);                                                  \
    c.lc.algo = (int32_t)algo;                                                                     \
    c.lc.workspace = (uint64_t)workSpaceSizeInBytes;                                               \
    cudnnStatus_t r;                                                                               \
    uint64_t ext, t0, t1;                                                                          \
    GP_DNN_CALL(r, ext, t0, t1, real args);                                                        \
    gp_shim_lib_depth--;                                                                           \
    gp_dnn_done(&c, handle, (int)r, t0, t1, ext);                                                  \
    return r

GP_EXPORT cudnnStatus_t cudnnConvolutionForward(
    cudnnHandle_t handle, const void *alpha, const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnFilterDescriptor_t wDesc, const void *w, const cudnnConvolutionDescriptor_t convDesc,
    cudnnConvolutionFwdAlgo_t algo, void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
    const cudnnTensorDescriptor_t yDesc, void *y)
{
    GP_CONV_BODY(cudnnConvolutionForward, GP_LIB_CONV_FWD, GP_CONV_FWD, xDesc, wDesc, yDesc,
                 (handle, alpha, xDesc, x, wDesc, w, convDesc, algo, workSpace,
                  workSpaceSizeInBytes, beta, yDesc, y));
}

GP_EXPORT cudnnStatus_t cudnnConvolutionBackwardData(
    cudnnHandle_t handle, const void *alpha, const cudnnFilterDescriptor_t wDesc, const void *w,
    const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionBwdDataAlgo_t algo,
    void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
    const cudnnTensorDescriptor_t dxDesc, void *dx)
{
    GP_CONV_BODY(cudnnConvolutionBackwardData, GP_LIB_CONV_BWD_DATA, GP_CONV_DGRAD, dxDesc,
                 wDesc, dyDesc,
                 (handle, alpha, wDesc, w, dyDesc, dy, convDesc, algo, workSpace,
                  workSpaceSizeInBytes, beta, dxDesc, dx));
}

GP_EXPORT cudnnStatus_t cudnnConvolutionBackwardFilter(
    cudnnHandle_t handle, const void *alpha, const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnConvolutionDescriptor_t convDesc, cudnnConvolutionBwdFilterAlgo_t algo,
    void *workSpace, size_t workSpaceSizeInBytes, const void *beta,
    const cudnnFilterDescriptor_t dwDesc, void *dw)
{
    GP_CONV_BODY(cudnnConvolutionBackwardFilter, GP_LIB_CONV_BWD_FILTER, GP_CONV_WGRAD, xDesc,
                 dwDesc, dyDesc,
                 (handle, alpha, xDesc, x, dyDesc, dy, convDesc, algo, workSpace,
                  workSpaceSizeInBytes, beta, dwDesc, dw));
}

/* ---- the backend API: what an execution plan says about itself ----------------------- */
/* Plan -> (engine global index, numerical notes, workspace bytes), read once per plan: the
 * read creates two descriptors, so it is not repeated on every execution. */
static _Atomic(const void *) gp_plan_keys[GP_DNN_SLOTS];
static struct {
    _Atomic int ready; /* the fields below are valid */
    _Atomic int32_t engine;
    _Atomic uint32_t notes;
    _Atomic uint64_t workspace;
} gp_plans[GP_DNN_SLOTS];

static bool gp_be_get(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t a,
                      cudnnBackendAttributeType_t t, int64_t want, int64_t *got, void *out)
{
    __typeof__(&cudnnBackendGetAttribute) get = GP_DNN_FN(cudnnBackendGetAttribute);
    *got = 0;
    return get != NULL && d != NULL && get(d, a, t, want, got, out) == CUDNN_STATUS_SUCCESS &&
           *got >= 1;
}

/* Reads the plan: its workspace size, then its engine config's engine (both copied into
 * descriptors made for the purpose, as cudnn-frontend reads them) and the engine's index
 * and notes. Whatever fails stays unknown. */
static void gp_plan_read(cudnnBackendDescriptor_t plan, int32_t *engine, uint32_t *notes,
                         uint64_t *workspace)
{
    __typeof__(&cudnnBackendCreateDescriptor) create = GP_DNN_FN(cudnnBackendCreateDescriptor);
    __typeof__(&cudnnBackendDestroyDescriptor) destroy = GP_DNN_FN(cudnnBackendDestroyDescriptor);
    cudnnBackendDescriptor_t cfg = NULL, eng = NULL;
    cudnnBackendNumericalNote_t nn[16];
    int64_t n, v;

    *engine = GP_LIB_UNKNOWN;
    *notes = 0;
    *workspace = 0;
    if (gp_be_get(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n, &v) &&
        v > 0)
        *workspace = (uint64_t)v;
    if (create == NULL || destroy == NULL ||
        create(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfg) != CUDNN_STATUS_SUCCESS)
        cfg = NULL;
    if (cfg == NULL || create(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng) != CUDNN_STATUS_SUCCESS)
        eng = NULL;
    if (eng == NULL ||
        !gp_be_get(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                   &n, &cfg) ||
        !gp_be_get(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &eng))
        goto out;
    if (gp_be_get(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n, &v) && v >= 0 &&
        v <= INT32_MAX)
        *engine = (int32_t)v;
    /* An engine with no notes answers a count of 0: known, none. */
    __typeof__(&cudnnBackendGetAttribute) get = GP_DNN_FN(cudnnBackendGetAttribute);
    n = 0;
    if (get(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE, 16, &n, nn) ==
            CUDNN_STATUS_SUCCESS &&
        n >= 0) {
        *notes = GP_LIB_NOTES_KNOWN;
        for (int64_t i = 0; i < n && i < 16; i++)
            if ((unsigned)nn[i] < 31)
                *notes |= 1u << (unsigned)nn[i];
    }
out:
    if (eng != NULL)
        destroy(eng);
    if (cfg != NULL)
        destroy(cfg);
}

static void gp_plan_info(cudnnBackendDescriptor_t plan, struct gp_libcall *lc)
{
    int i = gp_dnn_slot(gp_plan_keys, plan, true);
    if (i >= 0 && atomic_load_explicit(&gp_plans[i].ready, memory_order_acquire)) {
        lc->algo = atomic_load_explicit(&gp_plans[i].engine, memory_order_relaxed);
        lc->notes = atomic_load_explicit(&gp_plans[i].notes, memory_order_relaxed);
        lc->workspace = atomic_load_explicit(&gp_plans[i].workspace, memory_order_relaxed);
        return;
    }
    gp_plan_read(plan, &lc->algo, &lc->notes, &lc->workspace);
    if (i >= 0) { /* two threads filling one slot write the same values */
        atomic_store_explicit(&gp_plans[i].engine, lc->algo, memory_order_relaxed);
        atomic_store_explicit(&gp_plans[i].notes, lc->notes, memory_order_relaxed);
        atomic_store_explicit(&gp_plans[i].workspace, lc->workspace, memory_order_relaxed);
        atomic_store_explicit(&gp_plans[i].ready, 1, memory_order_release);
    }
}

GP_EXPORT cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t descriptor)
{
    GP_DNN_REAL(cudnnBackendDestroyDescriptor);
    int i = gp_dnn_slot(gp_plan_keys, descriptor, false);
    if (i >= 0) /* a later plan at this address is read again */
        atomic_store_explicit(&gp_plans[i].ready, 0, memory_order_release);
    return real(descriptor);
}

GP_EXPORT cudnnStatus_t cudnnBackendExecute(cudnnHandle_t handle,
                                            cudnnBackendDescriptor_t executionPlan,
                                            cudnnBackendDescriptor_t variantPack)
{
    GP_DNN_REAL(cudnnBackendExecute);
    if (!gp_dnn_outer())
        return real(handle, executionPlan, variantPack);
    struct gp_dnn_call c;
    gp_dnn_init_call(&c, GP_LIB_DNN_EXECUTE);
    gp_shim_lib_depth++;
    gp_plan_info(executionPlan, &c.lc);
    cudnnStatus_t r;
    uint64_t ext, t0, t1;
    GP_DNN_CALL(r, ext, t0, t1, real(handle, executionPlan, variantPack));
    gp_shim_lib_depth--;
    gp_dnn_done(&c, handle, (int)r, t0, t1, ext);
    return r;
}
