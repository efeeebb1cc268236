/* Fake libcudart: the runtime's device selection on top of driver contexts, the way the real
 * runtime does it. Each thread has a selected device (cudaSetDevice, default 0); the runtime
 * retains that device's primary context once per process (and never releases it) and makes it
 * current on the thread before the first call that needs a context. A context the program made
 * current itself through the driver is respected, as the real runtime does. */
#include <pthread.h>

#include "fake_internal.h"

static _Thread_local int selected_device;
static CUcontext primaries[FAKE_MAX_DEVICES];
static pthread_mutex_t primaries_lock = PTHREAD_MUTEX_INITIALIZER;

/* `device` has been validated by the driver (cuDeviceGet). */
static CUresult primary(const struct fake_driver *drv, int device, CUcontext *ctx)
{
    CUresult res = CUDA_SUCCESS;
    pthread_mutex_lock(&primaries_lock);
    if (primaries[device] == NULL)
        res = drv->primary_ctx_retain(&primaries[device], device);
    *ctx = primaries[device];
    pthread_mutex_unlock(&primaries_lock);
    return res;
}

static CUresult bind_primary(const struct fake_driver *drv, int ordinal)
{
    CUdevice device = 0;
    CUcontext ctx = NULL;
    CUresult res = drv->device_get(&device, ordinal);
    if (res == CUDA_SUCCESS && device >= FAKE_MAX_DEVICES)
        res = CUDA_ERROR_INVALID_DEVICE;
    if (res == CUDA_SUCCESS)
        res = primary(drv, device, &ctx);
    if (res == CUDA_SUCCESS)
        res = drv->ctx_set_current(ctx);
    return res;
}

cudaError_t fake_select_device(int device)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_driver(&drv);
    if (err != cudaSuccess)
        return err;
    CUresult res = bind_primary(drv, device);
    if (res != CUDA_SUCCESS)
        return fake_fail_cu(res);
    selected_device = device;
    return cudaSuccess;
}

cudaError_t fake_context(const struct fake_driver **out)
{
    cudaError_t err = fake_driver(out);
    if (err != cudaSuccess)
        return err;
    CUcontext ctx = NULL;
    CUresult res = (*out)->ctx_get_current(&ctx);
    if (res == CUDA_SUCCESS && ctx == NULL)
        res = bind_primary(*out, selected_device);
    return fake_fail_cu(res);
}
