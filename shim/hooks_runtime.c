/* hooks_runtime.c — the CUDA runtime allocation API, interposed by name. Each wrapper
 * calls the real function found at run time (dlsym(RTLD_NEXT)), so libgpuprof.so needs
 * no CUDA library at link time, and records one event. The program sees exactly the
 * result, pointers and errno it would have seen without us. */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include <cuda_runtime_api.h>

#include "internal.h"

/* Every real function the shim calls, by name. */
#define GP_RUNTIME_FUNCS(X)                                                                        \
    X(cudaMalloc) X(cudaFree) X(cudaMallocAsync) X(cudaFreeAsync) X(cudaMallocFromPoolAsync)       \
    X(cudaMallocAsync_ptsz) X(cudaFreeAsync_ptsz) X(cudaMallocFromPoolAsync_ptsz)                  \
    X(cudaMallocManaged) X(cudaMallocHost) X(cudaHostAlloc) X(cudaFreeHost) X(cudaMallocPitch)     \
    X(cudaMalloc3D) X(cudaMemGetInfo) X(cudaGetDevice) X(cudaGetDriverEntryPoint)                  \
    X(cudaGetDriverEntryPointByVersion)

enum {
#define GP_FN_ENUM(n) GP_FN_##n,
    GP_RUNTIME_FUNCS(GP_FN_ENUM)
#undef GP_FN_ENUM
    GP_FN_COUNT
};

static const char *const gp_fn_names[GP_FN_COUNT] = {
#define GP_FN_NAME(n) #n,
    GP_RUNTIME_FUNCS(GP_FN_NAME)
#undef GP_FN_NAME
};

static void *_Atomic gp_fn_real[GP_FN_COUNT];
/* A name not found is looked up again only every so often: the runtime may be
 * dlopen()ed later, but a driver-only program must not pay a failed dlsym per event. */
static _Atomic unsigned gp_fn_retry[GP_FN_COUNT];
#define GP_FN_RETRY_EVERY 4096

/* The _ptsz entry points are declared only under per-thread default stream builds. */
extern cudaError_t cudaMallocAsync_ptsz(void **devPtr, size_t size, cudaStream_t hStream);
extern cudaError_t cudaFreeAsync_ptsz(void *devPtr, cudaStream_t hStream);
extern cudaError_t cudaMallocFromPoolAsync_ptsz(void **ptr, size_t size, cudaMemPool_t memPool,
                                                cudaStream_t stream);

static void *gp_real(int idx)
{
    void *p = atomic_load_explicit(&gp_fn_real[idx], memory_order_acquire);
    if (GP_LIKELY(p != NULL))
        return p;
    /* Only after a lookup has finished and failed: threads racing the first lookup
     * each do it themselves rather than see NULL (which the program would get as an
     * initialization error). */
    if (atomic_load_explicit(&gp_fn_retry[idx], memory_order_relaxed) != 0 &&
        atomic_fetch_add_explicit(&gp_fn_retry[idx], 1, memory_order_relaxed) % GP_FN_RETRY_EVERY)
        return NULL;
    p = dlsym(RTLD_NEXT, gp_fn_names[idx]);
    if (p == NULL) {
        /* The runtime was dlopen()ed RTLD_LOCAL: reach it through its soname. */
        static const char *const sonames[] = {"libcudart.so.13", "libcudart.so.12", "libcudart.so"};
        for (size_t i = 0; p == NULL && i < sizeof sonames / sizeof sonames[0]; i++) {
            void *h = dlopen(sonames[i], RTLD_LAZY | RTLD_NOLOAD);
            if (h != NULL) {
                p = dlsym(h, gp_fn_names[idx]);
                dlclose(h);
            }
        }
    }
    if (p != NULL)
        atomic_store_explicit(&gp_fn_real[idx], p, memory_order_release);
    else
        atomic_store_explicit(&gp_fn_retry[idx], 1, memory_order_relaxed);
    return p;
}

#define GP_REAL(fn) ((__typeof__(&fn))gp_real(GP_FN_##fn))

/* Start of every wrapper: find the real function, or fail the way a missing runtime would. */
#define GP_REAL_OR_FAIL(fn)                                                                        \
    __typeof__(&fn) real = GP_REAL(fn);                                                            \
    if (GP_UNLIKELY(real == NULL))                                                                 \
        return cudaErrorInitializationError

int gp_hooks_current_device(void)
{
    __typeof__(&cudaGetDevice) get = GP_REAL(cudaGetDevice);
    int dev = -1;
    if (get == NULL)
        return gp_driver_current_device();
    if (get(&dev) != cudaSuccess)
        return -1;
    return dev;
}

int gp_hooks_mem_get_info(uint64_t *free_b, uint64_t *total_b)
{
    __typeof__(&cudaMemGetInfo) get = GP_REAL(cudaMemGetInfo);
    size_t f = 0, t = 0;
    if (get == NULL)
        return gp_driver_mem_get_info(free_b, total_b);
    if (get(&f, &t) != cudaSuccess)
        return -EIO;
    *free_b = f;
    *total_b = t;
    return 0;
}

_Static_assert(cudaErrorMemoryAllocation == GP_RESULT_OOM, "OOM codes agree");

/* The three shapes of wrapper; each expands to one exported function. */
#define GP_WRAP_ALLOC(fn, api, kind, params, args, pp, size, stream, pool)                        \
    GP_EXPORT cudaError_t fn params                                                                \
    {                                                                                              \
        GP_REAL_OR_FAIL(fn);                                                                       \
        if (!gp_shim_enter())                                                                      \
            return real args;                                                                      \
        cudaError_t r = real args;                                                                 \
        gp_shim_alloc_done(api, kind, (int)r, size, r == cudaSuccess && pp ? *pp : NULL, stream, 0, \
                           pool);                                                                  \
        return r;                                                                                  \
    }

#define GP_WRAP_FREE(fn, api, kind, params, args, ptr, stream)                                     \
    GP_EXPORT cudaError_t fn params                                                                \
    {                                                                                              \
        GP_REAL_OR_FAIL(fn);                                                                       \
        if (ptr == NULL || !gp_shim_enter())                                                       \
            return real args;                                                                      \
        int saved = errno;                                                                         \
        struct gp_event *ev = gp_shim_free_begin(api, kind, ptr, stream);                          \
        errno = saved;                                                                             \
        cudaError_t r = real args;                                                                 \
        saved = errno;                                                                             \
        gp_shim_free_end(ev, (int)r);                                                              \
        if (r == cudaSuccess)                                                                      \
            gp_shim_pool_note(api, NULL);                                                          \
        errno = saved;                                                                             \
        gp_shim_leave();                                                                           \
        return r;                                                                                  \
    }

GP_WRAP_ALLOC(cudaMalloc, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, (void **devPtr, size_t size),
              (devPtr, size), devPtr, size, NULL, NULL)
GP_WRAP_ALLOC(cudaMallocAsync, GP_API_CUDA_MALLOC_ASYNC, GP_MEM_DEVICE,
              (void **devPtr, size_t size, cudaStream_t s), (devPtr, size, s), devPtr, size, s, NULL)
GP_WRAP_ALLOC(cudaMallocAsync_ptsz, GP_API_CUDA_MALLOC_ASYNC, GP_MEM_DEVICE,
              (void **devPtr, size_t size, cudaStream_t s), (devPtr, size, s), devPtr, size, s, NULL)
GP_WRAP_ALLOC(cudaMallocFromPoolAsync, GP_API_CUDA_MALLOC_FROM_POOL_ASYNC, GP_MEM_DEVICE,
              (void **ptr, size_t size, cudaMemPool_t pool, cudaStream_t s), (ptr, size, pool, s),
              ptr, size, s, pool)
GP_WRAP_ALLOC(cudaMallocFromPoolAsync_ptsz, GP_API_CUDA_MALLOC_FROM_POOL_ASYNC, GP_MEM_DEVICE,
              (void **ptr, size_t size, cudaMemPool_t pool, cudaStream_t s), (ptr, size, pool, s),
              ptr, size, s, pool)
GP_WRAP_ALLOC(cudaMallocManaged, GP_API_CUDA_MALLOC_MANAGED, GP_MEM_MANAGED,
              (void **devPtr, size_t size, unsigned int flags), (devPtr, size, flags), devPtr, size,
              NULL, NULL)
GP_WRAP_ALLOC(cudaMallocHost, GP_API_CUDA_MALLOC_HOST, GP_MEM_HOST_PINNED, (void **ptr, size_t size),
              (ptr, size), ptr, size, NULL, NULL)
GP_WRAP_ALLOC(cudaHostAlloc, GP_API_CUDA_HOST_ALLOC, GP_MEM_HOST_PINNED,
              (void **pHost, size_t size, unsigned int flags), (pHost, size, flags), pHost, size, NULL, NULL)

GP_WRAP_FREE(cudaFree, GP_API_CUDA_FREE, GP_MEM_DEVICE, (void *devPtr), (devPtr), devPtr, NULL)
GP_WRAP_FREE(cudaFreeAsync, GP_API_CUDA_FREE_ASYNC, GP_MEM_DEVICE, (void *devPtr, cudaStream_t s),
             (devPtr, s), devPtr, s)
GP_WRAP_FREE(cudaFreeAsync_ptsz, GP_API_CUDA_FREE_ASYNC, GP_MEM_DEVICE,
             (void *devPtr, cudaStream_t s), (devPtr, s), devPtr, s)
GP_WRAP_FREE(cudaFreeHost, GP_API_CUDA_FREE_HOST, GP_MEM_HOST_PINNED, (void *ptr), (ptr), ptr, NULL)

/* Pitched allocations record the bytes actually taken (pitch x rows), and the pitch. */
GP_EXPORT cudaError_t cudaMallocPitch(void **devPtr, size_t *pitch, size_t width, size_t height)
{
    GP_REAL_OR_FAIL(cudaMallocPitch);
    if (!gp_shim_enter())
        return real(devPtr, pitch, width, height);
    cudaError_t r = real(devPtr, pitch, width, height);
    uint64_t p = (r == cudaSuccess && pitch) ? *pitch : 0;
    uint64_t bytes = p ? p * height : (uint64_t)width * height;
    gp_shim_alloc_done(GP_API_CUDA_MALLOC_PITCH, GP_MEM_DEVICE, (int)r, bytes,
                  r == cudaSuccess && devPtr ? *devPtr : NULL, NULL, p, NULL);
    return r;
}

GP_EXPORT cudaError_t cudaMalloc3D(struct cudaPitchedPtr *pitchedDevPtr, struct cudaExtent extent)
{
    GP_REAL_OR_FAIL(cudaMalloc3D);
    if (!gp_shim_enter())
        return real(pitchedDevPtr, extent);
    cudaError_t r = real(pitchedDevPtr, extent);
    bool ok = r == cudaSuccess && pitchedDevPtr;
    uint64_t p = ok ? pitchedDevPtr->pitch : 0;
    uint64_t bytes = (ok ? p : (uint64_t)extent.width) * extent.height * extent.depth;
    gp_shim_alloc_done(GP_API_CUDA_MALLOC_3D, GP_MEM_DEVICE, (int)r, bytes,
                       ok ? pitchedDevPtr->ptr : NULL, NULL, p, NULL);
    return r;
}

GP_EXPORT cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b)
{
    GP_REAL_OR_FAIL(cudaMemGetInfo);
    if (!gp_shim_enter())
        return real(free_b, total_b);
    cudaError_t r = real(free_b, total_b);
    int saved = errno;
    gp_shim_record_meminfo((int)r, r == cudaSuccess && free_b ? *free_b : 0,
                           r == cudaSuccess && total_b ? *total_b : 0);
    errno = saved;
    gp_shim_leave();
    return r;
}

/* Driver entry points handed out by the runtime (PyTorch's way to cuMemCreate): ask the
 * runtime, then swap in our wrapper for the exact variant returned. */
#include "hooks_driver.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
GP_EXPORT cudaError_t cudaGetDriverEntryPoint(const char *symbol, void **funcPtr,
                                              unsigned long long flags,
                                              enum cudaDriverEntryPointQueryResult *status)
{
    GP_REAL_OR_FAIL(cudaGetDriverEntryPoint);
    cudaError_t r = real(symbol, funcPtr, flags, status);
    /* no version given: the runtime returns the newest variant it knows */
    if (r == cudaSuccess && symbol != NULL && funcPtr != NULL && *funcPtr != NULL)
        *funcPtr = gp_driver_swap(symbol, 1 << 30, flags, *funcPtr);
    return r;
}
#pragma GCC diagnostic pop

GP_EXPORT cudaError_t cudaGetDriverEntryPointByVersion(const char *symbol, void **funcPtr,
                                                       unsigned int cudaVersion,
                                                       unsigned long long flags,
                                                       enum cudaDriverEntryPointQueryResult *status)
{
    GP_REAL_OR_FAIL(cudaGetDriverEntryPointByVersion);
    cudaError_t r = real(symbol, funcPtr, cudaVersion, flags, status);
    if (r == cudaSuccess && symbol != NULL && funcPtr != NULL && *funcPtr != NULL)
        *funcPtr = gp_driver_swap(symbol, (int)(cudaVersion > 1u << 30 ? 1u << 30 : cudaVersion),
                                  flags, *funcPtr);
    return r;
}
