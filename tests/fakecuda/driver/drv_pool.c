/* Fake libcuda: memory pools (the default pool of each device and cuMemPoolCreate'd ones) and
 * their attributes.
 *
 * Pool model, exactly (tests assert these numbers):
 *   - USED_MEM_CURRENT is the sum of the charges (size rounded up to 512) of the pool's live
 *     allocations; RESERVED_MEM_CURRENT is what the pool holds from the device, in whole 2 MiB
 *     chunks: each allocation grows it to at least USED rounded up to 2 MiB; frees never shrink
 *     it (the pool caches, as if the release threshold were infinite).
 *   - cuMemPoolTrimTo(pool, keep) shrinks it to max(USED rounded up to 2 MiB,
 *     min(RESERVED, keep rounded up to 2 MiB)): at least `keep` stays reserved, as documented.
 *   - The *_HIGH attributes are the high-water marks of the two.
 *   - The reserve is bookkeeping only: the device is charged per allocation (drv_memory.c), so
 *     cuMemGetInfo is the same whether memory came from a pool or from cuMemAlloc.
 *   - Other attributes are not modelled: CUDA_ERROR_NOT_SUPPORTED.
 * A destroyed pool's allocations stay live until freed (the real driver defers the release
 * too); the pool object goes when the last of them does. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "drv_internal.h"

static struct CUmemPoolHandle_st default_pools[DRV_MAX_DEVICES];
static pthread_once_t default_pools_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

static void init_default_pools(void)
{
    for (int d = 0; d < DRV_MAX_DEVICES; d++) {
        default_pools[d].device = d;
        default_pools[d].is_default = 1;
    }
}

struct CUmemPoolHandle_st *drv_default_pool(int device)
{
    pthread_once(&default_pools_once, init_default_pools);
    return &default_pools[device];
}

static size_t round_chunk(size_t bytes)
{
    if (bytes > SIZE_MAX - (DRV_PAGE - 1))
        return SIZE_MAX / DRV_PAGE * DRV_PAGE;
    return (bytes + DRV_PAGE - 1) / DRV_PAGE * DRV_PAGE;
}

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

void drv_pool_add(struct CUmemPoolHandle_st *pool, size_t charge)
{
    pthread_mutex_lock(&pool_lock);
    pool->live++;
    pool->used += charge;
    pool->reserved = max_size(pool->reserved, round_chunk(pool->used));
    pool->used_high = max_size(pool->used_high, pool->used);
    pool->reserved_high = max_size(pool->reserved_high, pool->reserved);
    pthread_mutex_unlock(&pool_lock);
}

void drv_pool_remove(struct CUmemPoolHandle_st *pool, size_t charge)
{
    pthread_mutex_lock(&pool_lock);
    pool->live--;
    pool->used -= charge;
    int doomed = pool->destroyed && pool->live == 0;
    pthread_mutex_unlock(&pool_lock);
    if (doomed)
        free(pool);
}

CUresult CUDAAPI cuDeviceGetDefaultMemPool(CUmemoryPool *pool_out, CUdevice dev)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (pool_out == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    if (!drv_valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    *pool_out = drv_default_pool(dev);
    return CUDA_SUCCESS;
}

/* Only device pools are modelled; the allocation type and handle types are not checked. */
CUresult CUDAAPI cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *poolProps)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (pool == NULL || poolProps == NULL ||
        poolProps->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
        return CUDA_ERROR_INVALID_VALUE;
    if (!drv_valid_device(poolProps->location.id))
        return CUDA_ERROR_INVALID_DEVICE;
    struct CUmemPoolHandle_st *p = calloc(1, sizeof *p);
    if (p == NULL)
        return CUDA_ERROR_OUT_OF_MEMORY;
    p->device = poolProps->location.id;
    *pool = p;
    return CUDA_SUCCESS;
}

/* A default pool cannot be destroyed: CUDA_ERROR_INVALID_VALUE. */
CUresult CUDAAPI cuMemPoolDestroy(CUmemoryPool pool)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (pool == NULL || pool->is_default)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&pool_lock);
    pool->destroyed = 1;
    int doomed = pool->live == 0;
    pthread_mutex_unlock(&pool_lock);
    if (doomed)
        free(pool);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemPoolTrimTo(CUmemoryPool pool, size_t minBytesToKeep)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (pool == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&pool_lock);
    size_t keep = round_chunk(minBytesToKeep);
    size_t kept = pool->reserved < keep ? pool->reserved : keep;
    pool->reserved = max_size(round_chunk(pool->used), kept);
    pthread_mutex_unlock(&pool_lock);
    return CUDA_SUCCESS;
}

/* The four counters are cuuint64_t, as the header documents for these attributes. */
CUresult CUDAAPI cuMemPoolGetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (pool == NULL || value == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult err = CUDA_SUCCESS;
    pthread_mutex_lock(&pool_lock);
    switch (attr) {
    case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT: *(cuuint64_t *)value = pool->reserved; break;
    case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH: *(cuuint64_t *)value = pool->reserved_high; break;
    case CU_MEMPOOL_ATTR_USED_MEM_CURRENT: *(cuuint64_t *)value = pool->used; break;
    case CU_MEMPOOL_ATTR_USED_MEM_HIGH: *(cuuint64_t *)value = pool->used_high; break;
    default: err = CUDA_ERROR_NOT_SUPPORTED; break;
    }
    pthread_mutex_unlock(&pool_lock);
    return err;
}
