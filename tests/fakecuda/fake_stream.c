/* Fake libcudart: streams and memory pools. cudaStream_t and cudaMemPool_t are the driver's
 * CUstream and CUmemoryPool, so these are thin layers over cuStreamCreate/Destroy/Synchronize,
 * cuDeviceGetDefaultMemPool and cuMemPoolCreate/Destroy (driver/drv_stream.c, drv_pool.c). */
#include <string.h>

#include "fake_internal.h"

/* NULL, cudaStreamLegacy and cudaStreamPerThread are handles without an object behind them. */
static int is_builtin_stream(cudaStream_t stream)
{
    return stream == NULL || stream == cudaStreamLegacy || stream == cudaStreamPerThread;
}

static cudaError_t create_stream(cudaStream_t *pStream, unsigned int flags)
{
    if (pStream == NULL || (flags & ~(unsigned)cudaStreamNonBlocking) != 0)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    /* cudaStreamNonBlocking is CU_STREAM_NON_BLOCKING. */
    return fake_fail_cu(drv->stream_create(pStream, flags));
}

cudaError_t cudaStreamCreate(cudaStream_t *pStream)
{
    return create_stream(pStream, cudaStreamDefault);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags)
{
    return create_stream(pStream, flags);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream)
{
    if (is_builtin_stream(stream))
        return fake_fail(cudaErrorInvalidResourceHandle);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    return fake_fail_cu(drv->stream_destroy(stream));
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    return fake_fail_cu(drv->stream_synchronize(stream));
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *memPool, int device)
{
    if (memPool == NULL)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_driver(&drv);
    if (err != cudaSuccess)
        return err;
    return fake_fail_cu(drv->device_get_default_mem_pool(memPool, device));
}

cudaError_t cudaMemPoolCreate(cudaMemPool_t *memPool, const struct cudaMemPoolProps *poolProps)
{
    if (memPool == NULL || poolProps == NULL ||
        poolProps->location.type != cudaMemLocationTypeDevice)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_driver(&drv);
    if (err != cudaSuccess)
        return err;
    /* Field by field: the runtime and driver structs are separate types. */
    CUmemPoolProps props;
    memset(&props, 0, sizeof props);
    props.allocType = (CUmemAllocationType)poolProps->allocType;
    props.handleTypes = (CUmemAllocationHandleType)poolProps->handleTypes;
    props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    props.location.id = poolProps->location.id;
    props.maxSize = poolProps->maxSize;
    props.usage = poolProps->usage;
    return fake_fail_cu(drv->mem_pool_create(memPool, &props));
}

/* Allocations made from a destroyed pool stay live until freed, which is what the real runtime
 * promises too (the driver defers the pool's release). A default pool: cudaErrorInvalidValue. */
cudaError_t cudaMemPoolDestroy(cudaMemPool_t memPool)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_driver(&drv);
    if (err != cudaSuccess)
        return err;
    return fake_fail_cu(drv->mem_pool_destroy(memPool));
}
