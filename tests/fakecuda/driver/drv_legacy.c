/* Fake libcuda: the legacy entry points that the real driver still exports under the bare
 * names (cuMemAlloc, cuMemFree, ...) for binaries built before the _v2 ABI, which
 * cuGetProcAddress returns when asked for a cudaVersion older than the _v2 variant.
 *
 * cuda.h maps the bare names to the _v2 ones with macros (#define cuMemAlloc cuMemAlloc_v2) and
 * declares the legacy prototypes only when __CUDA_API_VERSION_INTERNAL is defined, so this file
 * defines it to be checked against the header's exact prototypes. cuDevicePrimaryCtxRelease,
 * cuDevicePrimaryCtxReset and cuStreamDestroy stay macros even then: they are #undef'd and
 * declared here, and drv_proc.c checks them against cudaTypedefs.h's PFN types.
 *
 * 32-bit results: device pointers come from the low 4 GiB of the address space (MAP_32BIT) so
 * they fit a CUdeviceptr_v1; sizes above 4 GiB - 1 (cuMemGetInfo, cuDeviceTotalMem) saturate
 * at UINT_MAX, and requests whose pitch or result does not fit fail with
 * CUDA_ERROR_INVALID_VALUE. */
#define __CUDA_API_VERSION_INTERNAL 1

#include <limits.h>
#include <stdint.h>

#include "drv_internal.h"

#undef cuDevicePrimaryCtxRelease
#undef cuDevicePrimaryCtxReset
#undef cuStreamDestroy
CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev);
CUresult CUDAAPI cuDevicePrimaryCtxReset(CUdevice dev);
CUresult CUDAAPI cuStreamDestroy(CUstream hStream);

static unsigned int saturate(size_t bytes)
{
    return bytes > UINT_MAX ? UINT_MAX : (unsigned int)bytes;
}

CUresult CUDAAPI cuMemAlloc(CUdeviceptr_v1 *dptr, unsigned int bytesize)
{
    if (dptr == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    void *p = NULL;
    CUresult err = drv_mem_alloc(bytesize, DRV_LOW_32BIT, &p);
    *dptr = (CUdeviceptr_v1)(uintptr_t)p;
    return err;
}

CUresult CUDAAPI cuMemAllocPitch(CUdeviceptr_v1 *dptr, unsigned int *pPitch,
                                 unsigned int WidthInBytes, unsigned int Height,
                                 unsigned int ElementSizeBytes)
{
    if (dptr == NULL || pPitch == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    void *p = NULL;
    size_t pitch = 0;
    CUresult err =
        drv_mem_alloc_pitch(WidthInBytes, Height, ElementSizeBytes, DRV_LOW_32BIT, &p, &pitch);
    if (err == CUDA_SUCCESS && pitch > UINT_MAX) {
        drv_release(p, DRV_KIND_BIT(DRV_KIND_DEVICE));
        p = NULL;
        err = CUDA_ERROR_INVALID_VALUE;
    }
    *dptr = (CUdeviceptr_v1)(uintptr_t)p;
    if (err == CUDA_SUCCESS)
        *pPitch = (unsigned int)pitch;
    return err;
}

CUresult CUDAAPI cuMemFree(CUdeviceptr_v1 dptr)
{
    return drv_mem_free((void *)(uintptr_t)dptr);
}

CUresult CUDAAPI cuMemGetInfo(unsigned int *free, unsigned int *total)
{
    if (free == NULL || total == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    size_t f = 0, t = 0;
    CUresult err = drv_mem_get_info(&f, &t);
    if (err == CUDA_SUCCESS) {
        *free = saturate(f);
        *total = saturate(t);
    }
    return err;
}

CUresult CUDAAPI cuMemAllocHost(void **pp, unsigned int bytesize)
{
    if (pp == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    return drv_mem_alloc_host(bytesize, pp);
}

CUresult CUDAAPI cuDeviceTotalMem(unsigned int *bytes, CUdevice dev)
{
    if (bytes == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    size_t b = 0;
    CUresult err = drv_device_total_mem(&b, dev);
    if (err == CUDA_SUCCESS)
        *bytes = saturate(b);
    return err;
}

CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev)
{
    return drv_primary_release(dev);
}

CUresult CUDAAPI cuDevicePrimaryCtxReset(CUdevice dev)
{
    return drv_primary_reset(dev);
}

CUresult CUDAAPI cuStreamDestroy(CUstream hStream)
{
    return drv_stream_destroy(hStream);
}

/* The CUDA 11.3 form, without the symbolStatus out-parameter. */
CUresult CUDAAPI cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion,
                                  cuuint64_t flags)
{
    return drv_get_proc_address(symbol, pfn, cudaVersion, flags, NULL);
}
