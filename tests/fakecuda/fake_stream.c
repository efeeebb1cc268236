/* Fake libcudart: streams and memory pools. Both are small heap objects that only remember which
 * device they belong to, since all work runs synchronously and allocations are tracked one by
 * one in the registry whatever pool they came from. */
#include <pthread.h>
#include <stdlib.h>

#include "fake_internal.h"

struct CUstream_st {
    int device;
    unsigned flags;
};

struct CUmemPoolHandle_st {
    int device;
    int is_default;
};

static struct CUmemPoolHandle_st default_pools[FAKE_MAX_DEVICES];
static pthread_once_t default_pools_once = PTHREAD_ONCE_INIT;

static void init_default_pools(void)
{
    for (int d = 0; d < FAKE_MAX_DEVICES; d++) {
        default_pools[d].device = d;
        default_pools[d].is_default = 1;
    }
}

/* NULL, cudaStreamLegacy and cudaStreamPerThread are handles without an object behind them:
 * they mean "the current device's default stream". */
static int is_builtin_stream(cudaStream_t stream)
{
    return stream == NULL || stream == cudaStreamLegacy || stream == cudaStreamPerThread;
}

int fake_stream_device(cudaStream_t stream)
{
    return is_builtin_stream(stream) ? fake_current_device() : stream->device;
}

int fake_pool_device(cudaMemPool_t pool)
{
    return pool->device;
}

static cudaError_t create_stream(cudaStream_t *pStream, unsigned int flags)
{
    if (pStream == NULL || (flags & ~(unsigned)cudaStreamNonBlocking) != 0)
        return fake_fail(cudaErrorInvalidValue);
    struct CUstream_st *stream = malloc(sizeof *stream);
    if (stream == NULL)
        return fake_fail(cudaErrorMemoryAllocation);
    stream->device = fake_current_device();
    stream->flags = flags;
    *pStream = stream;
    return cudaSuccess;
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
    free(stream);
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream)
{
    (void)stream; /* every operation already finished inside its own call */
    return cudaSuccess;
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *memPool, int device)
{
    if (memPool == NULL)
        return fake_fail(cudaErrorInvalidValue);
    if (!fake_valid_device(device))
        return fake_fail(cudaErrorInvalidDevice);
    pthread_once(&default_pools_once, init_default_pools);
    *memPool = &default_pools[device];
    return cudaSuccess;
}

cudaError_t cudaMemPoolCreate(cudaMemPool_t *memPool, const struct cudaMemPoolProps *poolProps)
{
    if (memPool == NULL || poolProps == NULL ||
        poolProps->location.type != cudaMemLocationTypeDevice)
        return fake_fail(cudaErrorInvalidValue);
    if (!fake_valid_device(poolProps->location.id))
        return fake_fail(cudaErrorInvalidDevice);
    struct CUmemPoolHandle_st *pool = malloc(sizeof *pool);
    if (pool == NULL)
        return fake_fail(cudaErrorMemoryAllocation);
    pool->device = poolProps->location.id;
    pool->is_default = 0;
    *memPool = pool;
    return cudaSuccess;
}

/* Allocations made from a destroyed pool stay live until freed, which is what the real runtime
 * promises too (it defers the pool's release). */
cudaError_t cudaMemPoolDestroy(cudaMemPool_t memPool)
{
    if (memPool == NULL || memPool->is_default)
        return fake_fail(cudaErrorInvalidValue);
    free(memPool);
    return cudaSuccess;
}
