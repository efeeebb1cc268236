/* hooks_blas.c — cuBLAS and cuBLASLt matrix products, interposed by name. Each wrapper
 * calls the real function found at run time (dlsym(RTLD_NEXT), else the library by soname)
 * and records one LIBCALL event: shape, transposes, leading dimensions, data types, compute
 * type, the handle's math mode, algorithm, stream and host duration. A call made from inside
 * another one (cublasGemmEx reaches cublasLtMatmul through the PLT) is part of the outer
 * event, and so is one cuDNN makes (the nesting depth is shared with hooks_dnn.c). The
 * program's own calls into CUDA made by cuBLAS stay traced: the shim's re-entry guard is
 * held only while the event is written, never across the real call. While CUPTI records,
 * an external correlation id is pushed around the real call (gp_cupti_ext_push) and kept
 * in the event, so the report can tie the call to the kernels it launched. */
#include <dlfcn.h>
#include <stddef.h>

#include <cublasLt.h>
#include <cublas_v2.h>

#include "gp_cupti.h"
#include "internal.h"

/* cublas_api.h declares the half-precision GEMMs for C++ only. In C, __half is the struct
 * cuda_fp16.h forward-declares; the functions only pass pointers to it. */
typedef struct __half __half;
#define GP_HGEMM_PARAMS(I)                                                                         \
    (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, I m, I n, I k,     \
     const __half *alpha, const __half *A, I lda, const __half *B, I ldb, const __half *beta,     \
     __half *C, I ldc)
#define GP_HGEMM_SB_PARAMS(I)                                                                      \
    (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, I m, I n, I k,     \
     const __half *alpha, const __half *A, I lda, long long strideA, const __half *B, I ldb,      \
     long long strideB, const __half *beta, __half *C, I ldc, long long strideC, I batchCount)
cublasStatus_t cublasHgemm GP_HGEMM_PARAMS(int);
cublasStatus_t cublasHgemm_64 GP_HGEMM_PARAMS(int64_t);
cublasStatus_t cublasHgemmStridedBatched GP_HGEMM_SB_PARAMS(int);
cublasStatus_t cublasHgemmStridedBatched_64 GP_HGEMM_SB_PARAMS(int64_t);

#define GP_BLAS_FUNCS(X)                                                                           \
    X(cublasDestroy_v2) X(cublasSetStream_v2) X(cublasGetStream_v2) X(cublasSetMathMode)          \
    X(cublasGetMathMode) X(cublasSgemm_v2) X(cublasSgemm_v2_64) X(cublasHgemm) X(cublasHgemm_64)  \
    X(cublasGemmEx) X(cublasGemmEx_64) X(cublasGemmStridedBatchedEx)                               \
    X(cublasGemmStridedBatchedEx_64) X(cublasGemmBatchedEx) X(cublasGemmBatchedEx_64)              \
    X(cublasSgemmStridedBatched) X(cublasSgemmStridedBatched_64) X(cublasHgemmStridedBatched)     \
    X(cublasHgemmStridedBatched_64) X(cublasLtMatmul) X(cublasLtMatmulDescGetAttribute)           \
    X(cublasLtMatrixLayoutGetAttribute) X(cublasLtMatmulAlgoConfigGetAttribute)                   \
    X(cublasLtMatmulAlgoCapGetAttribute)

enum {
#define GP_BF_ENUM(n) GP_BF_##n,
    GP_BLAS_FUNCS(GP_BF_ENUM)
#undef GP_BF_ENUM
    GP_BF_COUNT
};
static const char *const gp_bf_names[GP_BF_COUNT] = {
#define GP_BF_NAME(n) #n,
    GP_BLAS_FUNCS(GP_BF_NAME)
#undef GP_BF_NAME
};
static void *_Atomic gp_bf_real[GP_BF_COUNT];

/* The real function: the next definition after ours, or the library's when it was
 * dlopen()ed RTLD_LOCAL. NULL when neither is loaded (looked up again next time: these
 * are not per-allocation paths, and a library may be loaded later). */
static void *gp_blas_real(int idx)
{
    void *p = atomic_load_explicit(&gp_bf_real[idx], memory_order_acquire);
    if (GP_LIKELY(p != NULL))
        return p;
    p = dlsym(RTLD_NEXT, gp_bf_names[idx]);
    static const char *const sonames[] = {"libcublas.so.13", "libcublasLt.so.13",
                                          "libcublas.so.12", "libcublasLt.so.12"};
    for (size_t i = 0; p == NULL && i < sizeof sonames / sizeof sonames[0]; i++) {
        void *h = dlopen(sonames[i], RTLD_LAZY | RTLD_NOLOAD);
        if (h != NULL) {
            p = dlsym(h, gp_bf_names[idx]);
            dlclose(h);
        }
    }
    if (p != NULL)
        atomic_store_explicit(&gp_bf_real[idx], p, memory_order_release);
    return p;
}

/* The real function fn, typed, or NULL. */
#define GP_REAL_FN(fn) ((__typeof__(&fn))gp_blas_real(GP_BF_##fn))

#define GP_BLAS_REAL(fn)                                                                           \
    __typeof__(&fn) real = GP_REAL_FN(fn);                                                         \
    if (GP_UNLIKELY(real == NULL))                                                                 \
    return CUBLAS_STATUS_NOT_INITIALIZED

/* ---- per-handle state: math mode and stream, lock-free --------------------------------- */
/* A slot, once given to a handle value, keeps it: a destroyed handle's slot is reset to
 * the defaults a new handle at the same address starts with. Beyond GP_BLAS_HANDLES the
 * real cublasGetMathMode / cublasGetStream_v2 are asked instead. */
#define GP_BLAS_HANDLES 64
#define GP_MATH_UNKNOWN 0xff
static struct {
    _Atomic(const void *) handle;
    _Atomic int math;
    _Atomic(const void *) stream;
} gp_blas_handles[GP_BLAS_HANDLES];

static int gp_blas_slot(const void *h, bool add)
{
    if (h == NULL)
        return -1;
    for (int i = 0; i < GP_BLAS_HANDLES; i++) {
        const void *p = atomic_load_explicit(&gp_blas_handles[i].handle, memory_order_acquire);
        if (p == h)
            return i;
        if (p == NULL) {
            if (!add)
                return -1;
            const void *expected = NULL;
            if (atomic_compare_exchange_strong(&gp_blas_handles[i].handle, &expected, h) ||
                expected == h)
                return i;
        }
    }
    return -1;
}

static uint8_t gp_blas_math(cublasHandle_t h)
{
    int i = gp_blas_slot(h, false);
    if (i >= 0)
        return (uint8_t)atomic_load_explicit(&gp_blas_handles[i].math, memory_order_relaxed);
    __typeof__(&cublasGetMathMode) get = GP_REAL_FN(cublasGetMathMode);
    cublasMath_t mode;
    if (get == NULL || h == NULL || get(h, &mode) != CUBLAS_STATUS_SUCCESS || mode > 0xfe)
        return GP_MATH_UNKNOWN;
    return (uint8_t)mode;
}

static const void *gp_blas_stream(cublasHandle_t h)
{
    int i = gp_blas_slot(h, false);
    if (i >= 0)
        return atomic_load_explicit(&gp_blas_handles[i].stream, memory_order_relaxed);
    __typeof__(&cublasGetStream_v2) get = GP_REAL_FN(cublasGetStream_v2);
    cudaStream_t s = NULL;
    if (get == NULL || h == NULL || get(h, &s) != CUBLAS_STATUS_SUCCESS)
        return NULL;
    return s;
}

GP_EXPORT cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
{
    GP_BLAS_REAL(cublasSetMathMode);
    cublasStatus_t r = real(handle, mode);
    int i;
    if (r == CUBLAS_STATUS_SUCCESS && (i = gp_blas_slot(handle, true)) >= 0)
        atomic_store_explicit(&gp_blas_handles[i].math, (int)mode & 0xff, memory_order_relaxed);
    return r;
}

GP_EXPORT cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t *mode)
{
    GP_BLAS_REAL(cublasGetMathMode);
    return real(handle, mode);
}

GP_EXPORT cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
{
    GP_BLAS_REAL(cublasSetStream_v2);
    cublasStatus_t r = real(handle, streamId);
    int i;
    if (r == CUBLAS_STATUS_SUCCESS && (i = gp_blas_slot(handle, true)) >= 0)
        atomic_store_explicit(&gp_blas_handles[i].stream, (const void *)streamId,
                              memory_order_relaxed);
    return r;
}

GP_EXPORT cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
{
    GP_BLAS_REAL(cublasDestroy_v2);
    int i = gp_blas_slot(handle, false);
    if (i >= 0) { /* a later handle at this address starts from the defaults */
        atomic_store_explicit(&gp_blas_handles[i].math, 0, memory_order_relaxed);
        atomic_store_explicit(&gp_blas_handles[i].stream, NULL, memory_order_relaxed);
    }
    return real(handle);
}

/* ---- the GEMMs ---------------------------------------------------------------------- */
struct gp_blas_call {
    uint8_t api;
    int64_t m, n, k, batch, lda, ldb, ldc;
    int ta, tb;
    int type_a, type_b, type_c; /* cudaDataType, -1 = unknown */
    int32_t compute, algo;
    uint8_t type_d, scale; /* cuBLASLt only, already cudaDataType + 1: 0 = unknown */
    uint32_t notes;        /* cuBLASLt: GP_LIB_NOTES_KNOWN | impl flags; 0 = not read */
};

static uint64_t gp_u(int64_t v) { return v < 0 ? 0 : (uint64_t)v; }
static uint8_t gp_type(int t) { return t < 0 || t > 0xfe ? 0 : (uint8_t)(t + 1); }

/* True when this call is the outermost one and should be timed and recorded. */
static inline bool gp_blas_outer(void) { return gp_shim_lib_depth == 0 && !gp_shim_in_hook; }

/* The real call, timed, under a fresh external correlation id (ext: 0 when none was
 * pushed, CUPTI not recording). The pop comes after t1: it is not the library's time. */
#define GP_BLAS_CALL(r, ext, t0, t1, call)                                                        \
    do {                                                                                           \
        (ext) = gp_cupti_ext_push();                                                               \
        (t0) = gp_shim_now();                                                                      \
        (r) = call;                                                                                \
        (t1) = gp_shim_now();                                                                      \
        if (ext)                                                                                   \
            gp_cupti_ext_pop();                                                                    \
    } while (0)

static void gp_blas_done(const struct gp_blas_call *c, cublasHandle_t h, const void *stream,
                         bool have_stream, int result, uint64_t t0, uint64_t t1, uint64_t ext)
{
    if (!gp_shim_enter())
        return;
    gp_shim_lib_depth++; /* cuBLAS calls the shim may make below are not GEMMs of the program */
    struct gp_libcall lc = {
        .batch = gp_u(c->batch), .lda = gp_u(c->lda), .ldb = gp_u(c->ldb), .ldc = gp_u(c->ldc),
        .dur_ns = t1 - t0, .compute = c->compute, .algo = c->algo,
        .trans_a = (uint8_t)c->ta, .trans_b = (uint8_t)c->tb, .type_a = gp_type(c->type_a),
        .type_b = gp_type(c->type_b), .type_c = gp_type(c->type_c), .ext_id = ext,
        .type_d = c->type_d, .scale = c->scale, .notes = c->notes,
    };
    uint8_t math = h != NULL ? gp_blas_math(h) : GP_MATH_UNKNOWN;
    if (!have_stream)
        stream = gp_blas_stream(h);
    gp_shim_record_libcall(c->api, math, result, gp_u(c->m), gp_u(c->n), gp_u(c->k), stream, &lc);
    gp_shim_lib_depth--;
    gp_shim_leave();
}

/* The body every GEMM wrapper shares: call straight through when nested, else time the
 * call and record it with the fields in c. */
#define GP_BLAS_BODY(fn, args, ...)                                                                \
    GP_BLAS_REAL(fn);                                                                              \
    if (!gp_blas_outer())                                                                          \
        return real args;                                                                          \
    const struct gp_blas_call c = {__VA_ARGS__};                                                   \
    cublasStatus_t r;                                                                              \
    uint64_t ext, t0, t1;                                                                          \
    gp_shim_lib_depth++;                                                                           \
    GP_BLAS_CALL(r, ext, t0, t1, real args);                                                       \
    gp_shim_lib_depth--;                                                                           \
    gp_blas_done(&c, handle, NULL, false, (int)r, t0, t1, ext);                                    \
    return r

#define GP_SGEMM(fn, I, API)                                                                       \
    GP_EXPORT cublasStatus_t fn(cublasHandle_t handle, cublasOperation_t transa,                   \
                                cublasOperation_t transb, I m, I n, I k, const float *alpha,       \
                                const float *A, I lda, const float *B, I ldb, const float *beta,   \
                                float *C, I ldc)                                                   \
    {                                                                                              \
        GP_BLAS_BODY(fn, (handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc),   \
                     .api = API, .m = m, .n = n, .k = k, .batch = 1, .lda = lda, .ldb = ldb,       \
                     .ldc = ldc, .ta = transa, .tb = transb, .type_a = CUDA_R_32F,                 \
                     .type_b = CUDA_R_32F, .type_c = CUDA_R_32F, .compute = CUBLAS_COMPUTE_32F,    \
                     .algo = GP_LIB_UNKNOWN);                                                      \
    }
GP_SGEMM(cublasSgemm_v2, int, GP_LIB_SGEMM)
GP_SGEMM(cublasSgemm_v2_64, int64_t, GP_LIB_SGEMM_64)

#define GP_HGEMM(fn, I, API)                                                                       \
    GP_EXPORT cublasStatus_t fn GP_HGEMM_PARAMS(I)                                                 \
    {                                                                                              \
        GP_BLAS_BODY(fn, (handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc),   \
                     .api = API, .m = m, .n = n, .k = k, .batch = 1, .lda = lda, .ldb = ldb,       \
                     .ldc = ldc, .ta = transa, .tb = transb, .type_a = CUDA_R_16F,                 \
                     .type_b = CUDA_R_16F, .type_c = CUDA_R_16F, .compute = CUBLAS_COMPUTE_16F,    \
                     .algo = GP_LIB_UNKNOWN);                                                      \
    }
GP_HGEMM(cublasHgemm, int, GP_LIB_HGEMM)
GP_HGEMM(cublasHgemm_64, int64_t, GP_LIB_HGEMM_64)

#define GP_SGEMM_SB(fn, I, API)                                                                    \
    GP_EXPORT cublasStatus_t fn(cublasHandle_t handle, cublasOperation_t transa,                   \
                                cublasOperation_t transb, I m, I n, I k, const float *alpha,       \
                                const float *A, I lda, long long strideA, const float *B, I ldb,   \
                                long long strideB, const float *beta, float *C, I ldc,             \
                                long long strideC, I batchCount)                                   \
    {                                                                                              \
        GP_BLAS_BODY(fn,                                                                           \
                     (handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB,    \
                      beta, C, ldc, strideC, batchCount),                                          \
                     .api = API, .m = m, .n = n, .k = k, .batch = batchCount, .lda = lda,          \
                     .ldb = ldb, .ldc = ldc, .ta = transa, .tb = transb, .type_a = CUDA_R_32F,     \
                     .type_b = CUDA_R_32F, .type_c = CUDA_R_32F, .compute = CUBLAS_COMPUTE_32F,    \
                     .algo = GP_LIB_UNKNOWN);                                                      \
    }
GP_SGEMM_SB(cublasSgemmStridedBatched, int, GP_LIB_SGEMM_SB)
GP_SGEMM_SB(cublasSgemmStridedBatched_64, int64_t, GP_LIB_SGEMM_SB_64)

#define GP_HGEMM_SB(fn, I, API)                                                                    \
    GP_EXPORT cublasStatus_t fn GP_HGEMM_SB_PARAMS(I)                                              \
    {                                                                                              \
        GP_BLAS_BODY(fn,                                                                           \
                     (handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB,    \
                      beta, C, ldc, strideC, batchCount),                                          \
                     .api = API, .m = m, .n = n, .k = k, .batch = batchCount, .lda = lda,          \
                     .ldb = ldb, .ldc = ldc, .ta = transa, .tb = transb, .type_a = CUDA_R_16F,     \
                     .type_b = CUDA_R_16F, .type_c = CUDA_R_16F, .compute = CUBLAS_COMPUTE_16F,    \
                     .algo = GP_LIB_UNKNOWN);                                                      \
    }
GP_HGEMM_SB(cublasHgemmStridedBatched, int, GP_LIB_HGEMM_SB)
GP_HGEMM_SB(cublasHgemmStridedBatched_64, int64_t, GP_LIB_HGEMM_SB_64)

#define GP_GEMM_EX(fn, I, API)                                                                     \
    GP_EXPORT cublasStatus_t fn(cublasHandle_t handle, cublasOperation_t transa,                   \
                                cublasOperation_t transb, I m, I n, I k, const void *alpha,        \
                                const void *A, cudaDataType Atype, I lda, const void *B,           \
                                cudaDataType Btype, I ldb, const void *beta, void *C,              \
                                cudaDataType Ctype, I ldc, cublasComputeType_t computeType,        \
                                cublasGemmAlgo_t algo)                                             \
    {                                                                                              \
        GP_BLAS_BODY(fn,                                                                           \
                     (handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta,  \
                      C, Ctype, ldc, computeType, algo),                                           \
                     .api = API, .m = m, .n = n, .k = k, .batch = 1, .lda = lda, .ldb = ldb,       \
                     .ldc = ldc, .ta = transa, .tb = transb, .type_a = (int)Atype,                 \
                     .type_b = (int)Btype, .type_c = (int)Ctype, .compute = (int32_t)computeType,  \
                     .algo = (int32_t)algo);                                                       \
    }
GP_GEMM_EX(cublasGemmEx, int, GP_LIB_GEMM_EX)
GP_GEMM_EX(cublasGemmEx_64, int64_t, GP_LIB_GEMM_EX_64)

#define GP_GEMM_SB_EX(fn, I, API)                                                                  \
    GP_EXPORT cublasStatus_t fn(cublasHandle_t handle, cublasOperation_t transa,                   \
                                cublasOperation_t transb, I m, I n, I k, const void *alpha,        \
                                const void *A, cudaDataType Atype, I lda, long long strideA,       \
                                const void *B, cudaDataType Btype, I ldb, long long strideB,       \
                                const void *beta, void *C, cudaDataType Ctype, I ldc,              \
                                long long strideC, I batchCount, cublasComputeType_t computeType,  \
                                cublasGemmAlgo_t algo)                                             \
    {                                                                                              \
        GP_BLAS_BODY(fn,                                                                           \
                     (handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype,    \
                      ldb, strideB, beta, C, Ctype, ldc, strideC, batchCount, computeType, algo),  \
                     .api = API, .m = m, .n = n, .k = k, .batch = batchCount, .lda = lda,          \
                     .ldb = ldb, .ldc = ldc, .ta = transa, .tb = transb, .type_a = (int)Atype,     \
                     .type_b = (int)Btype, .type_c = (int)Ctype, .compute = (int32_t)computeType,  \
                     .algo = (int32_t)algo);                                                       \
    }
GP_GEMM_SB_EX(cublasGemmStridedBatchedEx, int, GP_LIB_GEMM_SB_EX)
GP_GEMM_SB_EX(cublasGemmStridedBatchedEx_64, int64_t, GP_LIB_GEMM_SB_EX_64)

#define GP_GEMM_B_EX(fn, I, API)                                                                   \
    GP_EXPORT cublasStatus_t fn(cublasHandle_t handle, cublasOperation_t transa,                   \
                                cublasOperation_t transb, I m, I n, I k, const void *alpha,        \
                                const void *const Aarray[], cudaDataType Atype, I lda,             \
                                const void *const Barray[], cudaDataType Btype, I ldb,             \
                                const void *beta, void *const Carray[], cudaDataType Ctype, I ldc, \
                                I batchCount, cublasComputeType_t computeType,                     \
                                cublasGemmAlgo_t algo)                                             \
    {                                                                                              \
        GP_BLAS_BODY(fn,                                                                           \
                     (handle, transa, transb, m, n, k, alpha, Aarray, Atype, lda, Barray, Btype,   \
                      ldb, beta, Carray, Ctype, ldc, batchCount, computeType, algo),               \
                     .api = API, .m = m, .n = n, .k = k, .batch = batchCount, .lda = lda,          \
                     .ldb = ldb, .ldc = ldc, .ta = transa, .tb = transb, .type_a = (int)Atype,     \
                     .type_b = (int)Btype, .type_c = (int)Ctype, .compute = (int32_t)computeType,  \
                     .algo = (int32_t)algo);                                                       \
    }
GP_GEMM_B_EX(cublasGemmBatchedEx, int, GP_LIB_GEMM_B_EX)
GP_GEMM_B_EX(cublasGemmBatchedEx_64, int64_t, GP_LIB_GEMM_B_EX_64)

/* cuBLASLt: the shape, data types, transposes and compute type live in the descriptors; they
 * are read (before the timed call) with cuBLASLt's own getters. A value that cannot be read
 * stays unknown. */
static bool gp_lt_desc(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr, int32_t *v)
{
    __typeof__(&cublasLtMatmulDescGetAttribute) get = GP_REAL_FN(cublasLtMatmulDescGetAttribute);
    size_t written = 0;
    return get != NULL && d != NULL &&
           get(d, attr, v, sizeof *v, &written) == CUBLAS_STATUS_SUCCESS && written == sizeof *v;
}

static bool gp_lt_layout(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t attr, void *v,
                         size_t size)
{
    __typeof__(&cublasLtMatrixLayoutGetAttribute) get =
        GP_REAL_FN(cublasLtMatrixLayoutGetAttribute);
    size_t written = 0;
    return get != NULL && l != NULL &&
           get(l, attr, v, size, &written) == CUBLAS_STATUS_SUCCESS && written == size;
}

static int gp_lt_type(cublasLtMatrixLayout_t l)
{
    uint32_t t;
    return gp_lt_layout(l, CUBLASLT_MATRIX_LAYOUT_TYPE, &t, sizeof t) && t < 0xff ? (int)t : -1;
}

static void gp_lt_describe(struct gp_blas_call *c, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a,
                           cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t cl,
                           cublasLtMatrixLayout_t dl)
{
    int32_t v;
    uint64_t rows = 0, cols = 0;
    int64_t ld;
    if (gp_lt_desc(d, CUBLASLT_MATMUL_DESC_COMPUTE_TYPE, &v))
        c->compute = v;
    if (gp_lt_desc(d, CUBLASLT_MATMUL_DESC_TRANSA, &v))
        c->ta = v;
    if (gp_lt_desc(d, CUBLASLT_MATMUL_DESC_TRANSB, &v))
        c->tb = v;
    c->type_a = gp_lt_type(a);
    c->type_b = gp_lt_type(b);
    c->type_c = gp_lt_type(cl);
    c->type_d = gp_type(gp_lt_type(dl));
    if (gp_lt_desc(d, CUBLASLT_MATMUL_DESC_SCALE_TYPE, &v))
        c->scale = gp_type(v);
    if (gp_lt_layout(dl, CUBLASLT_MATRIX_LAYOUT_ROWS, &rows, sizeof rows) &&
        gp_lt_layout(dl, CUBLASLT_MATRIX_LAYOUT_COLS, &cols, sizeof cols)) {
        c->m = (int64_t)rows;
        c->n = (int64_t)cols;
    }
    /* k: the columns of op(A), i.e. A's columns when A is not transposed, else its rows */
    cublasLtMatrixLayoutAttribute_t a_k =
        c->ta == CUBLAS_OP_N ? CUBLASLT_MATRIX_LAYOUT_COLS : CUBLASLT_MATRIX_LAYOUT_ROWS;
    if (gp_lt_layout(a, a_k, &rows, sizeof rows))
        c->k = (int64_t)rows;
    if (gp_lt_layout(a, CUBLASLT_MATRIX_LAYOUT_LD, &ld, sizeof ld))
        c->lda = ld;
    if (gp_lt_layout(b, CUBLASLT_MATRIX_LAYOUT_LD, &ld, sizeof ld))
        c->ldb = ld;
    if (gp_lt_layout(cl, CUBLASLT_MATRIX_LAYOUT_LD, &ld, sizeof ld))
        c->ldc = ld;
    if (gp_lt_layout(dl, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &v, sizeof v) && v > 0)
        c->batch = v;
}

/* The algorithm the caller chose (PyTorch passes the heuristic's first answer): its config id
 * and its numerical-implementation flags, which say whether it runs on Tensor Cores (HMMA,
 * IMMA, DMMA) or CUDA cores (FMA). With algo NULL cuBLASLt picks one inside the call and
 * nothing can be asked: algo and notes stay unknown. Flag bits above 30 are dropped, bit 31
 * of notes being GP_LIB_NOTES_KNOWN. */
static void gp_lt_algo(struct gp_blas_call *c, const cublasLtMatmulAlgo_t *algo)
{
    __typeof__(&cublasLtMatmulAlgoConfigGetAttribute) cfg =
        GP_REAL_FN(cublasLtMatmulAlgoConfigGetAttribute);
    __typeof__(&cublasLtMatmulAlgoCapGetAttribute) cap =
        GP_REAL_FN(cublasLtMatmulAlgoCapGetAttribute);
    int32_t id;
    uint64_t flags;
    size_t written = 0;
    if (algo == NULL)
        return;
    if (cfg != NULL &&
        cfg(algo, CUBLASLT_ALGO_CONFIG_ID, &id, sizeof id, &written) == CUBLAS_STATUS_SUCCESS &&
        written == sizeof id)
        c->algo = id;
    written = 0;
    if (cap != NULL &&
        cap(algo, CUBLASLT_ALGO_CAP_NUMERICAL_IMPL_FLAGS, &flags, sizeof flags, &written) ==
            CUBLAS_STATUS_SUCCESS &&
        written == sizeof flags)
        c->notes = GP_LIB_NOTES_KNOWN | (uint32_t)(flags & 0x7fffffffu);
}

GP_EXPORT cublasStatus_t cublasLtMatmul(cublasLtHandle_t lightHandle,
                                        cublasLtMatmulDesc_t computeDesc, const void *alpha,
                                        const void *A, cublasLtMatrixLayout_t Adesc, const void *B,
                                        cublasLtMatrixLayout_t Bdesc, const void *beta,
                                        const void *C, cublasLtMatrixLayout_t Cdesc, void *D,
                                        cublasLtMatrixLayout_t Ddesc,
                                        const cublasLtMatmulAlgo_t *algo, void *workspace,
                                        size_t workspaceSizeInBytes, cudaStream_t stream)
{
    GP_BLAS_REAL(cublasLtMatmul);
    if (!gp_blas_outer())
        return real(lightHandle, computeDesc, alpha, A, Adesc, B, Bdesc, beta, C, Cdesc, D, Ddesc,
                    algo, workspace, workspaceSizeInBytes, stream);
    struct gp_blas_call c = {.api = GP_LIB_LT_MATMUL, .batch = 1, .type_a = -1, .type_b = -1,
                             .type_c = -1, .compute = GP_LIB_UNKNOWN, .algo = GP_LIB_UNKNOWN};
    gp_shim_lib_depth++; /* the getters below are cuBLASLt calls of the shim, not the program */
    gp_lt_describe(&c, computeDesc, Adesc, Bdesc, Cdesc, Ddesc);
    gp_lt_algo(&c, algo);
    cublasStatus_t r;
    uint64_t ext, t0, t1;
    GP_BLAS_CALL(r, ext, t0, t1,
                 real(lightHandle, computeDesc, alpha, A, Adesc, B, Bdesc, beta, C, Cdesc, D,
                      Ddesc, algo, workspace, workspaceSizeInBytes, stream));
    gp_shim_lib_depth--;
    gp_blas_done(&c, NULL, stream, true, (int)r, t0, t1, ext);
    return r;
}
