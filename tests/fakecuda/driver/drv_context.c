/* Fake libcuda: primary contexts and the calling thread's current context.
 *
 * Only primary contexts exist (one per device, as the runtime uses them). A primary context is
 * live while its retain count is above zero; like the real driver, the last
 * cuDevicePrimaryCtxRelease destroys it, and with it every cuMemAlloc-family allocation made on
 * that device, and cuDevicePrimaryCtxReset does the same without touching the count. VMM
 * memory (cuMemCreate) is not owned by a context and survives both. The current context is per
 * host thread and starts out NULL; calls that need one fail with CUDA_ERROR_INVALID_CONTEXT when
 * it is NULL or no longer live. */
#include <pthread.h>
#include <stdatomic.h>

#include "drv_internal.h"

struct CUctx_st {
    int device;
    atomic_uint retains;
};

static struct CUctx_st primaries[DRV_MAX_DEVICES];
static pthread_once_t primaries_once = PTHREAD_ONCE_INIT;
/* Serialises retain/release so the release that reaches zero is the one that destroys. */
static pthread_mutex_t retain_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local CUcontext current;

static void init_primaries(void)
{
    for (int d = 0; d < DRV_MAX_DEVICES; d++)
        primaries[d].device = d;
}

static int is_primary(CUcontext ctx)
{
    return ctx >= &primaries[0] && ctx < &primaries[DRV_MAX_DEVICES];
}

CUresult drv_context_device(CUcontext ctx, int *device)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx == NULL)
        ctx = current;
    if (ctx == NULL || !is_primary(ctx) || atomic_load(&ctx->retains) == 0)
        return CUDA_ERROR_INVALID_CONTEXT;
    *device = ctx->device;
    return CUDA_SUCCESS;
}

CUresult drv_current_device(int *device)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (current == NULL)
        return CUDA_ERROR_INVALID_CONTEXT;
    return drv_context_device(current, device);
}

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (pctx == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    if (!drv_valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    pthread_once(&primaries_once, init_primaries);
    pthread_mutex_lock(&retain_lock);
    atomic_fetch_add(&primaries[dev].retains, 1);
    pthread_mutex_unlock(&retain_lock);
    *pctx = &primaries[dev];
    return CUDA_SUCCESS;
}

/* Releasing a context nobody retains is CUDA_ERROR_INVALID_CONTEXT. */
CUresult drv_primary_release(CUdevice dev)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!drv_valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    pthread_once(&primaries_once, init_primaries);
    pthread_mutex_lock(&retain_lock);
    unsigned before = atomic_load(&primaries[dev].retains);
    if (before > 0)
        atomic_store(&primaries[dev].retains, before - 1);
    /* Freed under the lock so a concurrent retain cannot see the half-destroyed context. */
    if (before == 1)
        drv_release_device(dev);
    pthread_mutex_unlock(&retain_lock);
    return before > 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

CUresult drv_primary_reset(CUdevice dev)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!drv_valid_device(dev))
        return CUDA_ERROR_INVALID_DEVICE;
    drv_release_device(dev);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
    return drv_primary_release(dev);
}

CUresult CUDAAPI cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
    return drv_primary_reset(dev);
}

/* NULL unbinds; anything else must be a primary context (live or not: using a dead one fails
 * later, as in the real driver). */
CUresult CUDAAPI cuCtxSetCurrent(CUcontext ctx)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx != NULL && !is_primary(ctx))
        return CUDA_ERROR_INVALID_CONTEXT;
    current = ctx;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxGetCurrent(CUcontext *pctx)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (pctx == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *pctx = current;
    return CUDA_SUCCESS;
}

static CUresult get_device(CUdevice *device, CUcontext ctx)
{
    if (device == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    int dev = 0;
    CUresult err = drv_context_device(ctx, &dev);
    if (err == CUDA_SUCCESS)
        *device = dev;
    return err;
}

/* The pre-13.0 form works on the current context only. */
CUresult CUDAAPI cuCtxGetDevice(CUdevice *device)
{
    return get_device(device, NULL);
}

CUresult CUDAAPI cuCtxGetDevice_v2(CUdevice *device, CUcontext ctx)
{
    return get_device(device, ctx);
}

/* All work completes inside the call that issued it, so synchronising only validates. */
static CUresult synchronize(CUcontext ctx)
{
    int dev = 0;
    return drv_context_device(ctx, &dev);
}

CUresult CUDAAPI cuCtxSynchronize(void)
{
    return synchronize(NULL);
}

CUresult CUDAAPI cuCtxSynchronize_v2(CUcontext ctx)
{
    return synchronize(ctx);
}
