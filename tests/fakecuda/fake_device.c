/* Fake libcudart: device selection and queries, versions, synchronisation and reset.
 * Like the real runtime, the current device is per host thread and starts at 0. */
#include <stdio.h>
#include <string.h>

#include "fake_internal.h"

/* The version both the runtime and the "driver" report: CUDA 13.0. */
#define FAKE_CUDA_VERSION 13000

static _Thread_local int current_device = 0;

int fake_current_device(void)
{
    return current_device;
}

cudaError_t cudaSetDevice(int device)
{
    if (!fake_valid_device(device))
        return fake_fail(cudaErrorInvalidDevice);
    current_device = device;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int *device)
{
    if (device == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *device = current_device;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int *count)
{
    if (count == NULL)
        return fake_fail(cudaErrorInvalidValue);
    *count = fake_device_count();
    return cudaSuccess;
}

/* Tests recognise the fake by its name; the rest is a plausible compute-capability 9.0 part so
 * programs that size work from the properties do not divide by zero. */
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device)
{
    if (prop == NULL)
        return fake_fail(cudaErrorInvalidValue);
    if (!fake_valid_device(device))
        return fake_fail(cudaErrorInvalidDevice);
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "gpuprof fake device");
    prop->totalGlobalMem = fake_device_mem();
    prop->major = 9;
    prop->minor = 0;
    prop->multiProcessorCount = 132;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsDim[0] = 1024;
    prop->maxThreadsDim[1] = 1024;
    prop->maxThreadsDim[2] = 64;
    prop->maxGridSize[0] = 0x7fffffff;
    prop->maxGridSize[1] = 65535;
    prop->maxGridSize[2] = 65535;
    prop->sharedMemPerBlock = 48 * 1024;
    prop->totalConstMem = 64 * 1024;
    prop->regsPerBlock = 65536;
    prop->memPitch = 0x7fffffff;
    prop->textureAlignment = FAKE_GRANULE;
    prop->texturePitchAlignment = 32;
    prop->pciDeviceID = device;
    prop->unifiedAddressing = 1;
    prop->managedMemory = 1;
    prop->concurrentManagedAccess = 1;
    prop->memoryPoolsSupported = 1;
    prop->canMapHostMemory = 1;
    return cudaSuccess;
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
    *driverVersion = FAKE_CUDA_VERSION;
    return cudaSuccess;
}

/* All work completes inside the call that issued it, so there is never anything to wait for. */
cudaError_t cudaDeviceSynchronize(void)
{
    return cudaSuccess;
}

/* The real reset destroys the current device's context and with it every allocation made
 * there (device, managed and pinned host alike); the fake frees the same set. */
cudaError_t cudaDeviceReset(void)
{
    fake_release_device(current_device);
    return cudaSuccess;
}
