/* Fake libcudart: device selection and queries, versions, synchronisation and reset, each on
 * top of the driver (cuDeviceGet*, cuCtx*, cuDevicePrimaryCtxReset) like the real runtime.
 * The current device is per host thread and starts at 0 (fake_context.c). */
#include <string.h>

#include "fake_internal.h"

cudaError_t cudaSetDevice(int device)
{
    return fake_select_device(device);
}

cudaError_t cudaGetDevice(int *device)
{
    if (device == NULL)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    CUdevice dev = 0;
    CUresult res = drv->ctx_get_device(&dev, NULL);
    if (res != CUDA_SUCCESS)
        return fake_fail_cu(res);
    *device = dev;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int *count)
{
    if (count == NULL)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_driver(&drv);
    if (err != cudaSuccess)
        return err;
    return fake_fail_cu(drv->device_get_count(count));
}

/* Where each integer property comes from; the real runtime also builds cudaDeviceProp from
 * device attributes. */
static CUresult read_attributes(const struct fake_driver *drv, struct cudaDeviceProp *prop,
                                CUdevice dev)
{
    struct {
        CUdevice_attribute attrib;
        int *field;
    } ints[] = {
        {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, &prop->major},
        {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, &prop->minor},
        {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &prop->multiProcessorCount},
        {CU_DEVICE_ATTRIBUTE_WARP_SIZE, &prop->warpSize},
        {CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, &prop->maxThreadsPerBlock},
        {CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X, &prop->maxThreadsDim[0]},
        {CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y, &prop->maxThreadsDim[1]},
        {CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z, &prop->maxThreadsDim[2]},
        {CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X, &prop->maxGridSize[0]},
        {CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y, &prop->maxGridSize[1]},
        {CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z, &prop->maxGridSize[2]},
        {CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK, &prop->regsPerBlock},
        {CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, &prop->pciDeviceID},
        {CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, &prop->unifiedAddressing},
        {CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY, &prop->managedMemory},
        {CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS, &prop->concurrentManagedAccess},
        {CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, &prop->memoryPoolsSupported},
        {CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY, &prop->canMapHostMemory},
    };
    struct {
        CUdevice_attribute attrib;
        size_t *field;
    } sizes[] = {
        {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, &prop->sharedMemPerBlock},
        {CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY, &prop->totalConstMem},
        {CU_DEVICE_ATTRIBUTE_MAX_PITCH, &prop->memPitch},
        {CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT, &prop->textureAlignment},
        {CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT, &prop->texturePitchAlignment},
    };
    CUresult res = CUDA_SUCCESS;
    for (size_t i = 0; res == CUDA_SUCCESS && i < sizeof ints / sizeof ints[0]; i++)
        res = drv->device_get_attribute(ints[i].field, ints[i].attrib, dev);
    for (size_t i = 0; res == CUDA_SUCCESS && i < sizeof sizes / sizeof sizes[0]; i++) {
        int value = 0;
        res = drv->device_get_attribute(&value, sizes[i].attrib, dev);
        *sizes[i].field = (size_t)value;
    }
    return res;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device)
{
    if (prop == NULL)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_driver(&drv);
    if (err != cudaSuccess)
        return err;
    CUdevice dev = 0;
    CUresult res = drv->device_get(&dev, device);
    if (res != CUDA_SUCCESS)
        return fake_fail_cu(res);
    memset(prop, 0, sizeof *prop);
    res = drv->device_get_name(prop->name, (int)sizeof prop->name, dev);
    if (res == CUDA_SUCCESS)
        res = drv->device_total_mem(&prop->totalGlobalMem, dev);
    if (res == CUDA_SUCCESS)
        res = read_attributes(drv, prop, dev);
    return fake_fail_cu(res);
}

cudaError_t cudaRuntimeGetVersion(int *runtimeVersion)
{
    if (runtimeVersion == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *runtimeVersion = FAKE_CUDA_VERSION;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *driverVersion)
{
    if (driverVersion == NULL)
        return fake_fail(cudaErrorInvalidValue);
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_driver(&drv);
    if (err != cudaSuccess)
        return err;
    return fake_fail_cu(drv->driver_get_version(driverVersion));
}

cudaError_t cudaDeviceSynchronize(void)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    return fake_fail_cu(drv->ctx_synchronize(NULL));
}

/* The real reset destroys the current device's primary context and with it every allocation
 * made there (device, managed and pinned host alike): cuDevicePrimaryCtxReset. */
cudaError_t cudaDeviceReset(void)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    if (err != cudaSuccess)
        return err;
    CUdevice dev = 0;
    CUresult res = drv->ctx_get_device(&dev, NULL);
    if (res == CUDA_SUCCESS)
        res = drv->primary_ctx_reset(dev);
    return fake_fail_cu(res);
}
