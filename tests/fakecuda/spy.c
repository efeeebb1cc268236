/* fakecuda_spy: an LD_PRELOAD library that exports the driver entry points the fake runtime
 * uses, each of which aborts. Run under it, the runtime must still work: like a real runtime it
 * gets driver functions only from cuGetProcAddress_v2 (found with dlsym on the libcuda.so.1
 * handle), and the fake driver, like the real one, hands out its own functions whatever else
 * the process exports under those names. A profiler that only exports cu* symbols sees none of
 * the runtime's driver calls; these tests pin that down. */
#include <stdio.h>
#include <stdlib.h>

#include <cuda.h>

static void caught(const char *name)
{
    fprintf(stderr, "fakecuda_spy: %s was reached through symbol binding\n", name);
    abort();
}

CUresult CUDAAPI cuInit(unsigned int Flags)
{
    (void)Flags;
    caught("cuInit");
    return CUDA_ERROR_UNKNOWN;
}

CUresult CUDAAPI cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
                                     cuuint64_t flags, CUdriverProcAddressQueryResult *status)
{
    (void)symbol, (void)pfn, (void)cudaVersion, (void)flags, (void)status;
    caught("cuGetProcAddress_v2");
    return CUDA_ERROR_UNKNOWN;
}

CUresult CUDAAPI cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
    (void)dptr, (void)bytesize;
    caught("cuMemAlloc_v2");
    return CUDA_ERROR_UNKNOWN;
}

CUresult CUDAAPI cuMemFree_v2(CUdeviceptr dptr)
{
    (void)dptr;
    caught("cuMemFree_v2");
    return CUDA_ERROR_UNKNOWN;
}

CUresult CUDAAPI cuMemGetInfo_v2(size_t *free, size_t *total)
{
    (void)free, (void)total;
    caught("cuMemGetInfo_v2");
    return CUDA_ERROR_UNKNOWN;
}

CUresult CUDAAPI cuMemAllocAsync(CUdeviceptr *dptr, size_t bytesize, CUstream hStream)
{
    (void)dptr, (void)bytesize, (void)hStream;
    caught("cuMemAllocAsync");
    return CUDA_ERROR_UNKNOWN;
}

CUresult CUDAAPI cuCtxGetCurrent(CUcontext *pctx)
{
    (void)pctx;
    caught("cuCtxGetCurrent");
    return CUDA_ERROR_UNKNOWN;
}
