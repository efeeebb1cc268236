/* Internal interface between the pieces of the fake libcuda.so.1 (test stand-in for the CUDA
 * driver, never installed).
 *
 * Rule for every file of the fake driver: an exported cu* function never calls another exported
 * cu* function. gpuprof interposes those names (exported symbols, dlsym, cuGetProcAddress), so an
 * internal call through them would be recorded twice; shared work goes through the drv_*
 * helpers declared here instead. The library is also linked with -Bsymbolic-functions, so the
 * pointers cuGetProcAddress hands out are always the driver's own functions even when an
 * LD_PRELOADed library defines the same cu* names, as with the real driver. */
#ifndef GPUPROF_FAKECUDA_DRV_INTERNAL_H
#define GPUPROF_FAKECUDA_DRV_INTERNAL_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include <cuda.h>

/* The CUDA version this driver claims to be (cuDriverGetVersion, cuGetProcAddress's ceiling). */
#define DRV_VERSION 13000

/* Upper bound on FAKECUDA_DEVICES; fixed so per-device state can live in static arrays. */
#define DRV_MAX_DEVICES 64

/* cuMemAlloc-family allocations are charged in units of this many bytes (see drv_memory.c). */
#define DRV_GRANULE ((size_t)512)

/* VMM granularity (cuMemGetAllocationGranularity) and the unit a pool reserves in. */
#define DRV_PAGE ((size_t)2 << 20)

/* Default memory per device: 16 GiB. */
#define DRV_DEFAULT_DEVICE_MEM ((size_t)16 << 30)

/* drv_env.c: configuration read once from the environment. */
int drv_device_count(void);
size_t drv_device_mem(void);
int drv_driver_version(void); /* FAKECUDA_DRIVER_VERSION, default DRV_VERSION */
int drv_valid_device(int device);

/* drv_init.c: whether cuInit has succeeded. Everything but cuInit, cuDriverGetVersion,
 * cuGetProcAddress and the error-string functions fails with CUDA_ERROR_NOT_INITIALIZED before. */
int drv_initialized(void);

/* drv_context.c: the device of the calling thread's current context. Fails with
 * CUDA_ERROR_NOT_INITIALIZED before cuInit and CUDA_ERROR_INVALID_CONTEXT without a live
 * current context. */
CUresult drv_current_device(int *device);
/* The device `ctx` belongs to (NULL: the current context), with the same errors. */
CUresult drv_context_device(CUcontext ctx, int *device);
CUresult drv_primary_release(CUdevice dev);
CUresult drv_primary_reset(CUdevice dev);

/* drv_stream.c: the device a stream belongs to; the built-in handles (NULL, CU_STREAM_LEGACY,
 * CU_STREAM_PER_THREAD) mean the current context's device. */
CUresult drv_stream_device(CUstream stream, int *device);
CUresult drv_stream_destroy(CUstream stream);

/* Rounds up to the charge granule; 0 when that overflows, which callers treat as out of memory. */
size_t drv_round_granule(size_t size);

/* What kind of allocation a live pointer is; decides which free function may release it. */
enum drv_kind {
    DRV_KIND_DEVICE,  /* cuMemAlloc, cuMemAllocPitch */
    DRV_KIND_ASYNC,   /* cuMemAllocAsync, cuMemAllocFromPoolAsync */
    DRV_KIND_MANAGED, /* cuMemAllocManaged: not charged to any device */
    DRV_KIND_HOST     /* cuMemAllocHost, cuMemHostAlloc: pinned host, not charged */
};

#define DRV_KIND_BIT(k) (1u << (k))
#define DRV_DEVICE_SIDE_KINDS                                                                  \
    (DRV_KIND_BIT(DRV_KIND_DEVICE) | DRV_KIND_BIT(DRV_KIND_ASYNC) |                            \
     DRV_KIND_BIT(DRV_KIND_MANAGED))

/* How drv_reserve places the memory. */
enum drv_placement {
    DRV_ANYWHERE,
    DRV_LOW_32BIT /* the legacy entry points hand out 32-bit device pointers */
};

/* A memory pool (drv_pool.c). Its counters are guarded by the pool lock there. */
struct CUmemPoolHandle_st {
    int device;
    int is_default;
    int destroyed;    /* cuMemPoolDestroy ran; freed once `live` drops to 0 */
    size_t live;      /* allocations from the pool not yet freed */
    size_t used;      /* their charged bytes */
    size_t reserved;  /* see drv_pool.c */
    size_t used_high;
    size_t reserved_high;
};

/* drv_registry.c: the map of live allocations and the per-device charge.
 * drv_reserve charges `charge` bytes to `device` (0 for uncharged kinds), maps `map_len` bytes
 * (> 0), records the pointer (and the pool it came from, or NULL) and returns CUDA_SUCCESS, or
 * CUDA_ERROR_OUT_OF_MEMORY with nothing charged and *out NULL. */
CUresult drv_reserve(int device, size_t charge, size_t map_len, enum drv_kind kind,
                     struct CUmemPoolHandle_st *pool, enum drv_placement where, void **out);
/* Releases `ptr` if it is live and its kind is in `kind_mask`; otherwise CUDA_ERROR_INVALID_VALUE. */
CUresult drv_release(void *ptr, unsigned kind_mask);
/* Releases every live allocation recorded against `device` (primary context reset/destroy). */
void drv_release_device(int device);
/* Plain charge/uncharge for memory the registry does not map (VMM physical memory). */
int drv_charge(int device, size_t bytes);
void drv_uncharge(int device, size_t bytes);
size_t drv_charged(int device);

/* drv_pool.c: the device's default pool and the pool bookkeeping the registry drives. */
struct CUmemPoolHandle_st *drv_default_pool(int device);
void drv_pool_add(struct CUmemPoolHandle_st *pool, size_t charge);
void drv_pool_remove(struct CUmemPoolHandle_st *pool, size_t charge);

/* drv_async.c: the bodies shared by the stream-ordered entry points and their _ptsz twins. */
CUresult drv_alloc_async(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool, CUstream stream);
CUresult drv_free_async(CUdeviceptr dptr, CUstream stream);
CUresult drv_stream_sync(CUstream stream);

/* drv_memory.c: the bodies shared by cuMemAlloc-family entry points and their legacy 32-bit
 * twins in drv_legacy.c. */
CUresult drv_mem_alloc(size_t bytesize, enum drv_placement where, void **out);
CUresult drv_mem_alloc_pitch(size_t width, size_t height, unsigned elem, enum drv_placement where,
                             void **out, size_t *pitch);
CUresult drv_mem_free(void *ptr);
CUresult drv_mem_get_info(size_t *free_bytes, size_t *total_bytes);
CUresult drv_mem_alloc_host(size_t bytesize, void **out);
CUresult drv_device_total_mem(size_t *bytes, CUdevice dev);

/* drv_vmm_alloc.c / drv_vmm_va.c: VMM state, all behind drv_vmm_lock (taken before the
 * registry's lock, never after). A physical allocation lives until it is both released and
 * unmapped everywhere. */
struct drv_vmm_alloc {
    CUmemGenericAllocationHandle handle;
    size_t size;
    int device;
    int fd;        /* memfd backing, so every mapping of the handle shares the same bytes */
    unsigned maps; /* live cuMemMap mappings of it */
    int released;  /* cuMemRelease ran: the handle is no longer usable */
    struct drv_vmm_alloc *next;
};
extern pthread_mutex_t drv_vmm_lock;
/* The allocation behind a handle that has not been released, or NULL. */
struct drv_vmm_alloc *drv_vmm_find(CUmemGenericAllocationHandle handle);
/* One mapping of `alloc` went away; frees it if that was the last and it is released. */
void drv_vmm_unmapped(struct drv_vmm_alloc *alloc);
/* Validates a CUmemAllocationProp the way cuMemCreate and the granularity query do. */
CUresult drv_vmm_check_prop(const CUmemAllocationProp *prop);

/* drv_proc.c: the symbol lookup shared by cuGetProcAddress and cuGetProcAddress_v2. */
CUresult drv_get_proc_address(const char *symbol, void **pfn, int cudaVersion,
                              cuuint64_t flags, CUdriverProcAddressQueryResult *symbolStatus);

#endif
