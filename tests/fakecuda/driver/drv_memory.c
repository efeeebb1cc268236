/* Fake libcuda: the cuMemAlloc family (device, pitched, managed, pinned host), their frees, and
 * cuMemGetInfo. The legacy 32-bit forms in drv_legacy.c share these bodies.
 *
 * Accounting, exactly (tests assert these numbers):
 *   - Each device has FAKECUDA_DEVICE_MEM bytes (default 16 GiB).
 *   - cuMemAlloc charges the size rounded up to a multiple of 512 bytes to the current
 *     context's device (cuMemAllocAsync & co. in drv_async.c do the same for their device).
 *   - cuMemAllocPitch: pitch = width rounded up to 512; charge = pitch * height.
 *   - cuMemAllocManaged is not charged: managed memory can oversubscribe the device.
 *   - cuMemAllocHost / cuMemHostAlloc (pinned host) are not charged to any device; they are
 *     still recorded against the current context's device so destroying it frees them.
 *   - VMM physical memory (cuMemCreate, drv_vmm_alloc.c) is charged to its device too.
 *   - cuMemGetInfo returns (total - charged, total) for the current context's device.
 *   - A request whose charge exceeds the free bytes (or overflows) returns
 *     CUDA_ERROR_OUT_OF_MEMORY with the pointer set to 0 and nothing charged.
 *   - Size 0 is CUDA_ERROR_INVALID_VALUE, as in the real driver (the runtime short-cuts
 *     cudaMalloc(0) itself).
 *   - cuMemFree(0) and cuMemFreeHost(NULL) succeed; freeing a pointer that is not live, or of
 *     the wrong family (cuMemFree on pinned host memory, cuMemFreeHost on device memory), is
 *     CUDA_ERROR_INVALID_VALUE. cuMemFree also takes stream-ordered and managed memory.
 * Everything here needs cuInit and a current context. */
#include <stdint.h>

#include "drv_internal.h"

size_t drv_round_granule(size_t size)
{
    if (size > SIZE_MAX - (DRV_GRANULE - 1))
        return 0;
    return (size + DRV_GRANULE - 1) / DRV_GRANULE * DRV_GRANULE;
}

static CUdeviceptr to_dptr(void *p)
{
    return (CUdeviceptr)(uintptr_t)p;
}

CUresult drv_mem_alloc(size_t bytesize, enum drv_placement where, void **out)
{
    *out = NULL;
    int device = 0;
    CUresult err = drv_current_device(&device);
    if (err != CUDA_SUCCESS)
        return err;
    if (bytesize == 0)
        return CUDA_ERROR_INVALID_VALUE;
    size_t charge = drv_round_granule(bytesize);
    if (charge == 0)
        return CUDA_ERROR_OUT_OF_MEMORY;
    return drv_reserve(device, charge, charge, DRV_KIND_DEVICE, NULL, where, out);
}

CUresult drv_mem_alloc_pitch(size_t width, size_t height, unsigned elem, enum drv_placement where,
                             void **out, size_t *pitch)
{
    *out = NULL;
    int device = 0;
    CUresult err = drv_current_device(&device);
    if (err != CUDA_SUCCESS)
        return err;
    if (width == 0 || height == 0 || (elem != 4 && elem != 8 && elem != 16))
        return CUDA_ERROR_INVALID_VALUE;
    size_t p = drv_round_granule(width);
    if (p == 0 || p > SIZE_MAX / height)
        return CUDA_ERROR_OUT_OF_MEMORY;
    err = drv_reserve(device, p * height, p * height, DRV_KIND_DEVICE, NULL, where, out);
    if (err == CUDA_SUCCESS)
        *pitch = p;
    return err;
}

CUresult drv_mem_free(void *ptr)
{
    int device = 0;
    CUresult err = drv_current_device(&device);
    if (err != CUDA_SUCCESS || ptr == NULL)
        return err;
    return drv_release(ptr, DRV_DEVICE_SIDE_KINDS);
}

CUresult drv_mem_get_info(size_t *free_bytes, size_t *total_bytes)
{
    int device = 0;
    CUresult err = drv_current_device(&device);
    if (err != CUDA_SUCCESS)
        return err;
    size_t all = drv_device_mem();
    *total_bytes = all;
    *free_bytes = all - drv_charged(device);
    return CUDA_SUCCESS;
}

/* Uncharged memory (managed, pinned host) still gets a device for context teardown to clear. */
static CUresult alloc_uncharged(size_t size, enum drv_kind kind, void **out)
{
    *out = NULL;
    int device = 0;
    CUresult err = drv_current_device(&device);
    if (err != CUDA_SUCCESS)
        return err;
    if (size == 0)
        return CUDA_ERROR_INVALID_VALUE;
    return drv_reserve(device, 0, size, kind, NULL, DRV_ANYWHERE, out);
}

CUresult drv_mem_alloc_host(size_t bytesize, void **out)
{
    return alloc_uncharged(bytesize, DRV_KIND_HOST, out);
}

CUresult CUDAAPI cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
    if (dptr == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    void *p = NULL;
    CUresult err = drv_mem_alloc(bytesize, DRV_ANYWHERE, &p);
    *dptr = to_dptr(p);
    return err;
}

CUresult CUDAAPI cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pPitch, size_t WidthInBytes,
                                    size_t Height, unsigned int ElementSizeBytes)
{
    if (dptr == NULL || pPitch == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    void *p = NULL;
    CUresult err =
        drv_mem_alloc_pitch(WidthInBytes, Height, ElementSizeBytes, DRV_ANYWHERE, &p, pPitch);
    *dptr = to_dptr(p);
    return err;
}

CUresult CUDAAPI cuMemFree_v2(CUdeviceptr dptr)
{
    return drv_mem_free((void *)(uintptr_t)dptr);
}

CUresult CUDAAPI cuMemGetInfo_v2(size_t *free, size_t *total)
{
    if (free == NULL || total == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    return drv_mem_get_info(free, total);
}

CUresult CUDAAPI cuMemAllocManaged(CUdeviceptr *dptr, size_t bytesize, unsigned int flags)
{
    if (dptr == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    *dptr = 0;
    if (flags != CU_MEM_ATTACH_GLOBAL && flags != CU_MEM_ATTACH_HOST)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    void *p = NULL;
    CUresult err = alloc_uncharged(bytesize, DRV_KIND_MANAGED, &p);
    *dptr = to_dptr(p);
    return err;
}

CUresult CUDAAPI cuMemAllocHost_v2(void **pp, size_t bytesize)
{
    if (pp == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    return drv_mem_alloc_host(bytesize, pp);
}

CUresult CUDAAPI cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags)
{
    unsigned known = CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP |
                     CU_MEMHOSTALLOC_WRITECOMBINED;
    if (pp == NULL || (Flags & ~known) != 0)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    return drv_mem_alloc_host(bytesize, pp);
}

CUresult CUDAAPI cuMemFreeHost(void *p)
{
    int device = 0;
    CUresult err = drv_current_device(&device);
    if (err != CUDA_SUCCESS || p == NULL)
        return err;
    return drv_release(p, DRV_KIND_BIT(DRV_KIND_HOST));
}
