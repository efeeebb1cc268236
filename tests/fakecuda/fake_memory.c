/* Fake libcudart: allocation and free entry points, and cudaMemGetInfo, each a thin layer over
 * one driver call like the real runtime's:
 *   cudaMalloc -> cuMemAlloc_v2            cudaFree -> cuMemFree_v2
 *   cudaMallocPitch, cudaMalloc3D -> cuMemAllocPitch_v2
 *   cudaMallocManaged -> cuMemAllocManaged cudaMallocHost -> cuMemAllocHost_v2
 *   cudaHostAlloc -> cuMemHostAlloc        cudaFreeHost -> cuMemFreeHost
 *   cudaMallocAsync -> cuMemAllocAsync     cudaMallocFromPoolAsync -> cuMemAllocFromPoolAsync
 *   cudaFreeAsync -> cuMemFreeAsync        (the _ptsz entry points -> the drivers' _ptsz twins)
 *   cudaMemGetInfo -> cuMemGetInfo_v2
 *
 * The accounting is the driver's (driver/drv_memory.c), exactly: requests charged rounded up to
 * 512 bytes to the current device (the stream's for cudaMallocAsync, the pool's for
 * cudaMallocFromPoolAsync); pitch = width rounded up to 512 and charge = pitch * rows
 * (cudaMalloc3D: rows = height * depth); managed and pinned host memory uncharged; OOM gives
 * cudaErrorMemoryAllocation with a NULL pointer and nothing charged; freeing a pointer that is
 * not live or of the wrong family is cudaErrorInvalidValue.
 * What the runtime decides itself, as the real one does: size 0 succeeds with a NULL pointer and
 * never reaches the driver (except cudaMallocManaged, which rejects it with
 * cudaErrorInvalidValue as documented); freeing NULL succeeds; a zero-sized pitched request
 * reports pitch = width rounded up to 512. Async variants run synchronously. */
#include <stdint.h>

#include "fake_internal.h"

/* The runtime's own pitch rule for the zero-sized case that never reaches the driver. */
#define PITCH_ALIGN ((size_t)512)

/* Element size the runtime passes to cuMemAllocPitch; it does not change the pitch here. */
#define PITCH_ELEMENT 4u

static void *from_dptr(CUdeviceptr p)
{
    return (void *)(uintptr_t)p;
}

static CUdeviceptr to_dptr(void *p)
{
    return (CUdeviceptr)(uintptr_t)p;
}

cudaError_t cudaMalloc(void **devPtr, size_t size)
{
    if (devPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *devPtr = NULL;
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess || size == 0)
        return err;
    CUdeviceptr p = 0;
    err = fake_fail_cu(drv->mem_alloc(&p, size));
    *devPtr = from_dptr(p);
    return err;
}

/* The pitched path shared by cudaMallocPitch and cudaMalloc3D: `rows` rows of `width` bytes.
 * On failure *pitch is 0. */
static cudaError_t alloc_pitched(size_t width, size_t rows, void **out, size_t *pitch)
{
    *out = NULL;
    *pitch = 0;
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    if (width == 0 || rows == 0) {
        *pitch = width > SIZE_MAX - (PITCH_ALIGN - 1)
                     ? 0
                     : (width + PITCH_ALIGN - 1) / PITCH_ALIGN * PITCH_ALIGN;
        return cudaSuccess;
    }
    CUdeviceptr p = 0;
    size_t got = 0;
    err = fake_fail_cu(drv->mem_alloc_pitch(&p, &got, width, rows, PITCH_ELEMENT));
    if (err == cudaSuccess) {
        *out = from_dptr(p);
        *pitch = got;
    }
    return err;
}

cudaError_t cudaMallocPitch(void **devPtr, size_t *pitch, size_t width, size_t height)
{
    if (devPtr == NULL || pitch == NULL)
        return fake_fail(cudaErrorInvalidValue);
    return alloc_pitched(width, height, devPtr, pitch);
}

cudaError_t cudaMalloc3D(struct cudaPitchedPtr *pitchedDevPtr, struct cudaExtent extent)
{
    if (pitchedDevPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    struct cudaPitchedPtr result = {NULL, 0, extent.width, extent.height};
    cudaError_t err;
    if (extent.depth != 0 && extent.height > SIZE_MAX / extent.depth)
        err = fake_fail(cudaErrorMemoryAllocation);
    else
        err = alloc_pitched(extent.width, extent.height * extent.depth, &result.ptr,
                            &result.pitch);
    *pitchedDevPtr = result;
    return err;
}

cudaError_t cudaMallocManaged(void **devPtr, size_t size, unsigned int flags)
{
    if (devPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *devPtr = NULL;
    if (size == 0 || (flags != cudaMemAttachGlobal && flags != cudaMemAttachHost))
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    CUdeviceptr p = 0;
    err = fake_fail_cu(drv->mem_alloc_managed(&p, size, flags));
    *devPtr = from_dptr(p);
    return err;
}

cudaError_t cudaMallocHost(void **ptr, size_t size)
{
    if (ptr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *ptr = NULL;
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess || size == 0)
        return err;
    return fake_fail_cu(drv->mem_alloc_host(ptr, size));
}

cudaError_t cudaHostAlloc(void **pHost, size_t size, unsigned int flags)
{
    if (pHost == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *pHost = NULL;
    unsigned known = cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined;
    if (flags & ~known)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess || size == 0)
        return err;
    /* cudaHostAlloc* flags have the CU_MEMHOSTALLOC_* values. */
    return fake_fail_cu(drv->mem_host_alloc(pHost, size, flags));
}

cudaError_t cudaFree(void *devPtr)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess || devPtr == NULL)
        return err;
    return fake_fail_cu(drv->mem_free(to_dptr(devPtr)));
}

cudaError_t cudaFreeHost(void *ptr)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess || ptr == NULL)
        return err;
    return fake_fail_cu(drv->mem_free_host(ptr));
}

cudaError_t cudaMemGetInfo(size_t *free, size_t *total)
{
    if (free == NULL || total == NULL)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    return fake_fail_cu(drv->mem_get_info(free, total));
}

cudaError_t fake_malloc_async(PFN_cuMemAllocAsync_v11020 alloc, void **devPtr, size_t size,
                              cudaStream_t stream)
{
    if (devPtr == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *devPtr = NULL;
    if (size == 0)
        return cudaSuccess;
    CUdeviceptr p = 0;
    cudaError_t err = fake_fail_cu(alloc(&p, size, stream));
    *devPtr = from_dptr(p);
    return err;
}

cudaError_t fake_malloc_from_pool_async(PFN_cuMemAllocFromPoolAsync_v11020 alloc, void **ptr,
                                        size_t size, cudaMemPool_t pool, cudaStream_t stream)
{
    if (ptr == NULL || pool == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *ptr = NULL;
    if (size == 0)
        return cudaSuccess;
    CUdeviceptr p = 0;
    cudaError_t err = fake_fail_cu(alloc(&p, size, pool, stream));
    *ptr = from_dptr(p);
    return err;
}

cudaError_t fake_free_async(PFN_cuMemFreeAsync_v11020 release, void *devPtr, cudaStream_t stream)
{
    if (devPtr == NULL)
        return cudaSuccess;
    return fake_fail_cu(release(to_dptr(devPtr), stream));
}

/* The stream-ordered calls need a current context too: a default stream means its device. */
cudaError_t cudaMallocAsync(void **devPtr, size_t size, cudaStream_t hStream)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    return err != cudaSuccess ? err
                              : fake_malloc_async(drv->mem_alloc_async, devPtr, size, hStream);
}

cudaError_t cudaMallocFromPoolAsync(void **ptr, size_t size, cudaMemPool_t memPool,
                                    cudaStream_t stream)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    return err != cudaSuccess ? err
                              : fake_malloc_from_pool_async(drv->mem_alloc_from_pool_async, ptr,
                                                            size, memPool, stream);
}

cudaError_t cudaFreeAsync(void *devPtr, cudaStream_t hStream)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    return err != cudaSuccess ? err : fake_free_async(drv->mem_free_async, devPtr, hStream);
}
