/* Fake libcuda: stream-ordered allocation (cuMemAllocAsync, cuMemAllocFromPoolAsync,
 * cuMemFreeAsync). Work runs synchronously, so the allocation exists when the call returns and
 * a free takes effect at once. cuMemAllocAsync charges the stream's device and draws from that
 * device's default pool; cuMemAllocFromPoolAsync charges the pool's device. Charges round up to
 * 512 bytes like cuMemAlloc (drv_memory.c); the pool bookkeeping is in drv_pool.c. The _ptsz
 * twins (drv_ptsz.c) share these bodies: with every default stream meaning "the current
 * context's", per-thread and legacy semantics coincide here. */
#include <stdint.h>

#include "drv_internal.h"

CUresult drv_alloc_async(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool, CUstream stream)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (dptr == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *dptr = 0;
    int device = 0;
    CUresult err = drv_stream_device(stream, &device);
    if (err != CUDA_SUCCESS)
        return err;
    if (pool == NULL)
        pool = drv_default_pool(device);
    if (bytesize == 0)
        return CUDA_ERROR_INVALID_VALUE;
    size_t charge = drv_round_granule(bytesize);
    if (charge == 0)
        return CUDA_ERROR_OUT_OF_MEMORY;
    void *p = NULL;
    err = drv_reserve(pool->device, charge, charge, DRV_KIND_ASYNC, pool, DRV_ANYWHERE, &p);
    *dptr = (CUdeviceptr)(uintptr_t)p;
    return err;
}

CUresult drv_free_async(CUdeviceptr dptr, CUstream stream)
{
    int device = 0;
    CUresult err = drv_stream_device(stream, &device);
    if (err != CUDA_SUCCESS || dptr == 0)
        return err;
    return drv_release((void *)(uintptr_t)dptr, DRV_DEVICE_SIDE_KINDS);
}

CUresult CUDAAPI cuMemAllocAsync(CUdeviceptr *dptr, size_t bytesize, CUstream hStream)
{
    return drv_alloc_async(dptr, bytesize, NULL, hStream);
}

/* A NULL pool is CUDA_ERROR_INVALID_VALUE here, unlike cuMemAllocAsync's implicit default. */
CUresult CUDAAPI cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
                                         CUstream hStream)
{
    if (pool == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    return drv_alloc_async(dptr, bytesize, pool, hStream);
}

CUresult CUDAAPI cuMemFreeAsync(CUdeviceptr dptr, CUstream hStream)
{
    return drv_free_async(dptr, hStream);
}
