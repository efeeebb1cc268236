/* hooks_driver.c — the CUDA driver allocation API. The same wrapper bodies are reached
 * three ways: as exported cu* symbols (programs linked against libcuda), through the
 * dlsym interposer (dlsym(handle, "cuMemCreate")), and through the pointers handed out
 * by cuGetProcAddress / cudaGetDriverEntryPoint[ByVersion]. Each way has its own table
 * of real functions: an exported symbol and a pointer returned by the driver need not be
 * the same function, and we never call one in place of the other.
 * A driver call made inside a traced runtime call (cudaMalloc → cuMemAlloc_v2) is not
 * recorded again: the re-entry guard is already held. */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include <cuda.h>

#include "hooks_driver.h"
#include "internal.h"

/* Names cuda.h maps to _v2 or hides behind per-thread-stream macros. */
#undef cuGetProcAddress
CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags);
CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUstream hStream);
CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
                                      CUstream hStream);
CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream hStream);

/* Every traced entry point: exported name, base name for cuGetProcAddress, the CUDA
 * version that introduced this variant, whether it is the per-thread-stream variant. */
#define GP_DRIVER_HOOKS(X)                                                                         \
    X(cuMemAlloc_v2, "cuMemAlloc", 3020, 0)                                                        \
    X(cuMemAllocPitch_v2, "cuMemAllocPitch", 3020, 0)                                              \
    X(cuMemFree_v2, "cuMemFree", 3020, 0)                                                          \
    X(cuMemAllocManaged, "cuMemAllocManaged", 6000, 0)                                             \
    X(cuMemAllocHost_v2, "cuMemAllocHost", 3020, 0)                                                \
    X(cuMemHostAlloc, "cuMemHostAlloc", 2020, 0)                                                   \
    X(cuMemFreeHost, "cuMemFreeHost", 2000, 0)                                                     \
    X(cuMemAllocAsync, "cuMemAllocAsync", 11020, 0)                                                \
    X(cuMemAllocAsync_ptsz, "cuMemAllocAsync", 11020, 1)                                           \
    X(cuMemAllocFromPoolAsync, "cuMemAllocFromPoolAsync", 11020, 0)                                \
    X(cuMemAllocFromPoolAsync_ptsz, "cuMemAllocFromPoolAsync", 11020, 1)                           \
    X(cuMemFreeAsync, "cuMemFreeAsync", 11020, 0)                                                  \
    X(cuMemFreeAsync_ptsz, "cuMemFreeAsync", 11020, 1)                                             \
    X(cuMemCreate, "cuMemCreate", 10020, 0)                                                        \
    X(cuMemRelease, "cuMemRelease", 10020, 0)                                                      \
    X(cuMemMap, "cuMemMap", 10020, 0)                                                              \
    X(cuMemUnmap, "cuMemUnmap", 10020, 0)                                                          \
    X(cuMemAddressReserve, "cuMemAddressReserve", 10020, 0)                                        \
    X(cuMemAddressFree, "cuMemAddressFree", 10020, 0)                                              \
    X(cuMemGetInfo_v2, "cuMemGetInfo", 3020, 0)                                                    \
    X(cuMemPoolTrimTo, "cuMemPoolTrimTo", 11020, 0)                                                \
    X(cuGetProcAddress, "cuGetProcAddress", 11030, 0)                                              \
    X(cuGetProcAddress_v2, "cuGetProcAddress", 12000, 0)

enum {
#define GP_DRV_ENUM(name, base, ver, ptsz) GP_DRV_##name,
    GP_DRIVER_HOOKS(GP_DRV_ENUM)
#undef GP_DRV_ENUM
    GP_DRV_COUNT
};

struct gp_drv_desc {
    const char *name, *base;
    int version;
    bool ptsz;
};

static const struct gp_drv_desc gp_drv[GP_DRV_COUNT] = {
#define GP_DRV_DESC(name, base, ver, ptsz) {#name, base, ver, ptsz},
    GP_DRIVER_HOOKS(GP_DRV_DESC)
#undef GP_DRV_DESC
};

static void *_Atomic gp_drv_real_e[GP_DRV_COUNT]; /* behind our exported symbols */
static void *_Atomic gp_drv_real_p[GP_DRV_COUNT]; /* behind the pointers we hand out */

static void *gp_drv_exported(int idx)
{
    void *p = atomic_load_explicit(&gp_drv_real_e[idx], memory_order_acquire);
    if (GP_LIKELY(p != NULL))
        return p;
    p = dlsym(RTLD_NEXT, gp_drv[idx].name);
    if (p == NULL) {
        void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
        if (h != NULL) {
            p = dlsym(h, gp_drv[idx].name);
            dlclose(h);
        }
    }
    if (p != NULL && !gp_driver_is_ours(p))
        atomic_store_explicit(&gp_drv_real_e[idx], p, memory_order_release);
    else
        p = NULL;
    return p;
}

#define GP_DRV_REAL_E(name) ((__typeof__(&name))gp_drv_exported(GP_DRV_##name))
#define GP_DRV_REAL_P(name)                                                                        \
    ((__typeof__(&name))atomic_load_explicit(&gp_drv_real_p[GP_DRV_##name], memory_order_acquire))

/* One implementation per entry point, taking the real function; two thin entries. */
#define GP_DRV_ENTRIES(name, params, ...)                                                          \
    GP_EXPORT CUresult name params { return gp_impl_##name(GP_DRV_REAL_E(name), __VA_ARGS__); }   \
    static CUresult gp_p_##name params { return gp_impl_##name(GP_DRV_REAL_P(name), __VA_ARGS__); }

#define GP_PTR(x) ((const void *)(uintptr_t)(x))

#define GP_DRV_ALLOC(name, api, kind, params, args, ptr, size, stream, pool)                      \
    static CUresult gp_impl_##name(__typeof__(&name) real, GP_UNPAREN params)                      \
    {                                                                                              \
        if (GP_UNLIKELY(real == NULL))                                                             \
            return CUDA_ERROR_NOT_INITIALIZED;                                                     \
        if (!gp_shim_enter())                                                                      \
            return real args;                                                                      \
        CUresult r = real args;                                                                    \
        gp_shim_alloc_done(api, kind, (int)r, size, r == CUDA_SUCCESS ? GP_PTR(ptr) : NULL,        \
                           GP_PTR(stream), 0, GP_PTR(pool));                                       \
        return r;                                                                                  \
    }                                                                                              \
    GP_DRV_ENTRIES(name, params, GP_UNPAREN args)

#define GP_DRV_FREE(name, api, kind, params, args, ptr, stream)                                   \
    static CUresult gp_impl_##name(__typeof__(&name) real, GP_UNPAREN params)                      \
    {                                                                                              \
        if (GP_UNLIKELY(real == NULL))                                                             \
            return CUDA_ERROR_NOT_INITIALIZED;                                                     \
        if ((ptr) == 0 || !gp_shim_enter())                                                        \
            return real args;                                                                      \
        int saved = errno;                                                                         \
        struct gp_event *ev = gp_shim_free_begin(api, kind, GP_PTR(ptr), GP_PTR(stream));          \
        errno = saved;                                                                             \
        CUresult r = real args;                                                                    \
        saved = errno;                                                                             \
        gp_shim_free_end(ev, (int)r);                                                              \
        if (r == CUDA_SUCCESS)                                                                     \
            gp_shim_pool_note(api, NULL);                                                          \
        errno = saved;                                                                             \
        gp_shim_leave();                                                                           \
        return r;                                                                                  \
    }                                                                                              \
    GP_DRV_ENTRIES(name, params, GP_UNPAREN args)

#define GP_UNPAREN(...) __VA_ARGS__
#define GP_M GP_MEM_DEVICE

GP_DRV_ALLOC(cuMemAlloc_v2, GP_API_CU_MEM_ALLOC, GP_M, (CUdeviceptr *dptr, size_t bytes),
             (dptr, bytes), dptr ? *dptr : 0, bytes, 0, 0)
GP_DRV_ALLOC(cuMemAllocManaged, GP_API_CU_MEM_ALLOC_MANAGED, GP_MEM_MANAGED,
             (CUdeviceptr *dptr, size_t bytes, unsigned int flags), (dptr, bytes, flags),
             dptr ? *dptr : 0, bytes, 0, 0)
GP_DRV_ALLOC(cuMemAllocHost_v2, GP_API_CU_MEM_ALLOC_HOST, GP_MEM_HOST_PINNED,
             (void **pp, size_t bytes), (pp, bytes), pp ? (uintptr_t)*pp : 0, bytes, 0, 0)
GP_DRV_ALLOC(cuMemHostAlloc, GP_API_CU_MEM_HOST_ALLOC, GP_MEM_HOST_PINNED,
             (void **pp, size_t bytes, unsigned int flags), (pp, bytes, flags),
             pp ? (uintptr_t)*pp : 0, bytes, 0, 0)
GP_DRV_ALLOC(cuMemAllocAsync, GP_API_CU_MEM_ALLOC_ASYNC, GP_M,
             (CUdeviceptr *dptr, size_t bytes, CUstream s), (dptr, bytes, s), dptr ? *dptr : 0,
             bytes, s, 0)
GP_DRV_ALLOC(cuMemAllocAsync_ptsz, GP_API_CU_MEM_ALLOC_ASYNC, GP_M,
             (CUdeviceptr *dptr, size_t bytes, CUstream s), (dptr, bytes, s), dptr ? *dptr : 0,
             bytes, s, 0)
GP_DRV_ALLOC(cuMemAllocFromPoolAsync, GP_API_CU_MEM_ALLOC_FROM_POOL_ASYNC, GP_M,
             (CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool, CUstream s),
             (dptr, bytes, pool, s), dptr ? *dptr : 0, bytes, s, pool)
GP_DRV_ALLOC(cuMemAllocFromPoolAsync_ptsz, GP_API_CU_MEM_ALLOC_FROM_POOL_ASYNC, GP_M,
             (CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool, CUstream s),
             (dptr, bytes, pool, s), dptr ? *dptr : 0, bytes, s, pool)
GP_DRV_ALLOC(cuMemAddressReserve, GP_API_CU_MEM_ADDRESS_RESERVE, GP_MEM_ADDRESS_RANGE,
             (CUdeviceptr *ptr, size_t size, size_t align, CUdeviceptr addr, unsigned long long flags),
             (ptr, size, align, addr, flags), ptr ? *ptr : 0, size, 0, 0)

GP_DRV_FREE(cuMemFree_v2, GP_API_CU_MEM_FREE, GP_M, (CUdeviceptr dptr), (dptr), dptr, 0)
GP_DRV_FREE(cuMemFreeHost, GP_API_CU_MEM_FREE_HOST, GP_MEM_HOST_PINNED, (void *p), (p),
            (uintptr_t)p, 0)
GP_DRV_FREE(cuMemFreeAsync, GP_API_CU_MEM_FREE_ASYNC, GP_M, (CUdeviceptr dptr, CUstream s),
            (dptr, s), dptr, s)
GP_DRV_FREE(cuMemFreeAsync_ptsz, GP_API_CU_MEM_FREE_ASYNC, GP_M, (CUdeviceptr dptr, CUstream s),
            (dptr, s), dptr, s)
GP_DRV_FREE(cuMemRelease, GP_API_CU_MEM_RELEASE, GP_MEM_PHYSICAL,
            (CUmemGenericAllocationHandle handle), (handle), handle, 0)
GP_DRV_FREE(cuMemAddressFree, GP_API_CU_MEM_ADDRESS_FREE, GP_MEM_ADDRESS_RANGE,
            (CUdeviceptr ptr, size_t size), (ptr, size), ptr, 0)
GP_DRV_FREE(cuMemUnmap, GP_API_CU_MEM_UNMAP, GP_MEM_MAPPING, (CUdeviceptr ptr, size_t size),
            (ptr, size), ptr, 0)

/* Pitched: record the bytes taken (pitch x rows) and the pitch. */
static CUresult gp_impl_cuMemAllocPitch_v2(__typeof__(&cuMemAllocPitch_v2) real, CUdeviceptr *dptr,
                                           size_t *pitch, size_t width, size_t height,
                                           unsigned int elem)
{
    if (GP_UNLIKELY(real == NULL))
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!gp_shim_enter())
        return real(dptr, pitch, width, height, elem);
    CUresult r = real(dptr, pitch, width, height, elem);
    uint64_t p = (r == CUDA_SUCCESS && pitch) ? *pitch : 0;
    gp_shim_alloc_done(GP_API_CU_MEM_ALLOC_PITCH, GP_MEM_DEVICE, (int)r,
                       p ? p * height : (uint64_t)width * height,
                       r == CUDA_SUCCESS && dptr ? GP_PTR(*dptr) : NULL, NULL, p, NULL);
    return r;
}
GP_DRV_ENTRIES(cuMemAllocPitch_v2,
               (CUdeviceptr * dptr, size_t *pitch, size_t width, size_t height, unsigned int elem),
               dptr, pitch, width, height, elem)

/* Physical memory: the handle is the "pointer"; the device is the one asked for. */
static CUresult gp_impl_cuMemCreate(__typeof__(&cuMemCreate) real, CUmemGenericAllocationHandle *h,
                                    size_t size, const CUmemAllocationProp *prop,
                                    unsigned long long flags)
{
    if (GP_UNLIKELY(real == NULL))
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!gp_shim_enter())
        return real(h, size, prop, flags);
    CUresult r = real(h, size, prop, flags);
    gp_shim_alloc_done(GP_API_CU_MEM_CREATE, GP_MEM_PHYSICAL, (int)r, size,
                       r == CUDA_SUCCESS && h ? GP_PTR(*h) : NULL, NULL, 0, NULL);
    return r;
}
GP_DRV_ENTRIES(cuMemCreate,
               (CUmemGenericAllocationHandle * h, size_t size, const CUmemAllocationProp *prop,
                unsigned long long flags),
               h, size, prop, flags)

/* A mapping is recorded at its address with the handle it maps (aux1). */
static CUresult gp_impl_cuMemMap(__typeof__(&cuMemMap) real, CUdeviceptr ptr, size_t size,
                                 size_t offset, CUmemGenericAllocationHandle h,
                                 unsigned long long flags)
{
    if (GP_UNLIKELY(real == NULL))
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!gp_shim_enter())
        return real(ptr, size, offset, h, flags);
    CUresult r = real(ptr, size, offset, h, flags);
    gp_shim_alloc_done(GP_API_CU_MEM_MAP, GP_MEM_MAPPING, (int)r, size,
                       r == CUDA_SUCCESS ? GP_PTR(ptr) : NULL, NULL, h, NULL);
    return r;
}
GP_DRV_ENTRIES(cuMemMap,
               (CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle h,
                unsigned long long flags),
               ptr, size, offset, h, flags)

static CUresult gp_impl_cuMemGetInfo_v2(__typeof__(&cuMemGetInfo_v2) real, size_t *free_b,
                                        size_t *total_b)
{
    if (GP_UNLIKELY(real == NULL))
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!gp_shim_enter())
        return real(free_b, total_b);
    CUresult r = real(free_b, total_b);
    int saved = errno;
    gp_shim_record_meminfo((int)r, r == CUDA_SUCCESS && free_b ? *free_b : 0,
                           r == CUDA_SUCCESS && total_b ? *total_b : 0);
    errno = saved;
    gp_shim_leave();
    return r;
}
GP_DRV_ENTRIES(cuMemGetInfo_v2, (size_t * free_b, size_t *total_b), free_b, total_b)

/* A trim may hand memory back: record the pool's new reserved size. */
static CUresult gp_impl_cuMemPoolTrimTo(__typeof__(&cuMemPoolTrimTo) real, CUmemoryPool pool,
                                        size_t keep)
{
    if (GP_UNLIKELY(real == NULL))
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!gp_shim_enter())
        return real(pool, keep);
    CUresult r = real(pool, keep);
    int saved = errno;
    if (r == CUDA_SUCCESS)
        gp_shim_pool_note(GP_API_CU_MEM_POOL_TRIM_TO, (const void *)pool);
    errno = saved;
    gp_shim_leave();
    return r;
}
GP_DRV_ENTRIES(cuMemPoolTrimTo, (CUmemoryPool pool, size_t keep), pool, keep)

/* cuGetProcAddress: ask the driver first, then swap in our wrapper for exactly the
 * variant it returned. Never recorded as an event. */
static CUresult gp_impl_cuGetProcAddress_v2(__typeof__(&cuGetProcAddress_v2) real,
                                            const char *symbol, void **pfn, int version,
                                            cuuint64_t flags, CUdriverProcAddressQueryResult *st)
{
    if (GP_UNLIKELY(real == NULL))
        return CUDA_ERROR_NOT_INITIALIZED;
    CUresult r = real(symbol, pfn, version, flags, st);
    if (r == CUDA_SUCCESS && pfn != NULL && *pfn != NULL && symbol != NULL)
        *pfn = gp_driver_swap(symbol, version, flags, *pfn);
    return r;
}
GP_DRV_ENTRIES(cuGetProcAddress_v2,
               (const char *symbol, void **pfn, int version, cuuint64_t flags,
                CUdriverProcAddressQueryResult *st),
               symbol, pfn, version, flags, st)

static CUresult gp_impl_cuGetProcAddress(__typeof__(&cuGetProcAddress) real, const char *symbol,
                                         void **pfn, int version, cuuint64_t flags)
{
    if (GP_UNLIKELY(real == NULL))
        return CUDA_ERROR_NOT_INITIALIZED;
    CUresult r = real(symbol, pfn, version, flags);
    if (r == CUDA_SUCCESS && pfn != NULL && *pfn != NULL && symbol != NULL)
        *pfn = gp_driver_swap(symbol, version, flags, *pfn);
    return r;
}
GP_DRV_ENTRIES(cuGetProcAddress, (const char *symbol, void **pfn, int version, cuuint64_t flags),
               symbol, pfn, version, flags)

/* ---- the table's operations ------------------------------------------------------ */
static void *const gp_drv_wrapper_p[GP_DRV_COUNT] = {
#define GP_DRV_WRAP(name, base, ver, ptsz) [GP_DRV_##name] = (void *)gp_p_##name,
    GP_DRIVER_HOOKS(GP_DRV_WRAP)
#undef GP_DRV_WRAP
};
static void *const gp_drv_wrapper_e[GP_DRV_COUNT] = {
#define GP_DRV_WRAP(name, base, ver, ptsz) [GP_DRV_##name] = (void *)name,
    GP_DRIVER_HOOKS(GP_DRV_WRAP)
#undef GP_DRV_WRAP
};

bool gp_driver_is_ours(const void *fn)
{
    for (int i = 0; i < GP_DRV_COUNT; i++)
        if (fn == gp_drv_wrapper_p[i] || fn == gp_drv_wrapper_e[i])
            return true;
    return false;
}

int gp_driver_index(const char *exported_name)
{
    for (int i = 0; i < GP_DRV_COUNT; i++)
        if (strcmp(gp_drv[i].name, exported_name) == 0)
            return i;
    return -1;
}

void *gp_driver_wrap(int idx, void *real)
{
    if (idx < 0 || idx >= GP_DRV_COUNT || real == NULL || gp_driver_is_ours(real))
        return NULL;
    void *expected = NULL;
    if (!atomic_compare_exchange_strong(&gp_drv_real_p[idx], &expected, real) && expected != real)
        return NULL;
    return gp_drv_wrapper_p[idx];
}

void *gp_driver_swap(const char *symbol, int cuda_version, uint64_t flags, void *pfn)
{
    if (symbol[0] != 'c' || symbol[1] != 'u' || gp_driver_is_ours(pfn))
        return pfn;
    bool ptsz = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
    int best = -1;
    bool has_ptsz = false;
    for (int i = 0; i < GP_DRV_COUNT; i++)
        if (strcmp(gp_drv[i].base, symbol) == 0 && gp_drv[i].ptsz)
            has_ptsz = true;
    for (int i = 0; i < GP_DRV_COUNT; i++) {
        if (strcmp(gp_drv[i].base, symbol) != 0 || gp_drv[i].version > cuda_version)
            continue;
        if (gp_drv[i].ptsz != (ptsz && has_ptsz))
            continue;
        if (best < 0 || gp_drv[i].version > gp_drv[best].version)
            best = i;
    }
    if (best < 0) /* an older variant than any we trace: hand it back untouched */
        return pfn;
    void *w = gp_driver_wrap(best, pfn);
    return w != NULL ? w : pfn;
}

/* ---- helpers for the rest of the shim --------------------------------------------- */
/* A driver function the shim calls for itself, fetched once through the real
 * cuGetProcAddress (never through our wrappers: the result is the driver's own). */
static void *gp_driver_own(const char *name, int version)
{
    __typeof__(&cuGetProcAddress_v2) gpa = GP_DRV_REAL_P(cuGetProcAddress_v2);
    if (gpa == NULL)
        gpa = GP_DRV_REAL_E(cuGetProcAddress_v2);
    void *p = NULL;
    if (gpa == NULL || gpa(name, &p, version, CU_GET_PROC_ADDRESS_DEFAULT, NULL) != CUDA_SUCCESS)
        return NULL;
    return p;
}

int gp_driver_pool_stats(const void **pool, uint64_t *reserved, uint64_t *used)
{
    static void *_Atomic get_attr, *_Atomic dev_get, *_Atomic dev_pool, *_Atomic dev_default;
    if (atomic_load(&get_attr) == NULL) {
        atomic_store(&dev_get, gp_driver_own("cuDeviceGet", 2000));
        atomic_store(&dev_pool, gp_driver_own("cuDeviceGetMemPool", 11020));
        atomic_store(&dev_default, gp_driver_own("cuDeviceGetDefaultMemPool", 11020));
        atomic_store(&get_attr, gp_driver_own("cuMemPoolGetAttribute", 11020));
    }
    __typeof__(&cuMemPoolGetAttribute) attr = atomic_load(&get_attr);
    if (attr == NULL)
        return -ENOSYS;
    CUmemoryPool p = (CUmemoryPool)(uintptr_t)*pool;
    if (p == NULL) { /* the device's current pool, which the stream-ordered calls use */
        __typeof__(&cuDeviceGet) get = atomic_load(&dev_get);
        __typeof__(&cuDeviceGetMemPool) cur = atomic_load(&dev_pool);
        __typeof__(&cuDeviceGetDefaultMemPool) def = atomic_load(&dev_default);
        int ordinal = gp_hooks_current_device();
        CUdevice dev;
        if (ordinal < 0 || get == NULL || get(&dev, ordinal) != CUDA_SUCCESS)
            return -ENODEV;
        if ((cur == NULL || cur(&p, dev) != CUDA_SUCCESS) &&
            (def == NULL || def(&p, dev) != CUDA_SUCCESS))
            return -ENODEV;
    }
    cuuint64_t r = 0, u = 0;
    if (attr(p, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT, &r) != CUDA_SUCCESS)
        return -EIO;
    if (attr(p, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &u) != CUDA_SUCCESS)
        u = 0;
    *pool = (const void *)p;
    *reserved = r;
    *used = u;
    return 0;
}

int gp_driver_current_device(void)
{
    static void *_Atomic ctx_get_device;
    __typeof__(&cuCtxGetDevice) get = atomic_load(&ctx_get_device);
    if (get == NULL) {
        __typeof__(&cuGetProcAddress_v2) gpa = GP_DRV_REAL_P(cuGetProcAddress_v2);
        if (gpa == NULL)
            gpa = GP_DRV_REAL_E(cuGetProcAddress_v2);
        void *p = NULL;
        if (gpa == NULL || gpa("cuCtxGetDevice", &p, 2000, CU_GET_PROC_ADDRESS_DEFAULT, NULL) !=
                               CUDA_SUCCESS)
            return -1;
        get = (__typeof__(&cuCtxGetDevice))p;
        atomic_store(&ctx_get_device, (void *)get);
    }
    CUdevice dev = -1;
    if (get == NULL || get(&dev) != CUDA_SUCCESS)
        return -1;
    return (int)dev;
}

int gp_driver_mem_get_info(uint64_t *free_b, uint64_t *total_b)
{
    __typeof__(&cuMemGetInfo_v2) get = GP_DRV_REAL_P(cuMemGetInfo_v2);
    if (get == NULL)
        get = GP_DRV_REAL_E(cuMemGetInfo_v2);
    size_t f = 0, t = 0;
    if (get == NULL || get(&f, &t) != CUDA_SUCCESS)
        return -EIO;
    *free_b = f;
    *total_b = t;
    return 0;
}
