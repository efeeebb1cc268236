/* Fake libcuda: the per-thread-default-stream (_ptsz) twins of the stream-ordered entry points,
 * which cuGetProcAddress hands out for CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM.
 *
 * cuda.h declares the _ptsz names only when __CUDA_API_VERSION_INTERNAL is defined (the way
 * NVIDIA builds its own driver), so this file defines it to be checked against the header's
 * exact prototypes. The bodies are the legacy-stream ones: see drv_async.c. */
#define __CUDA_API_VERSION_INTERNAL 1

#include "drv_internal.h"

CUresult CUDAAPI cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUstream hStream)
{
    return drv_alloc_async(dptr, bytesize, NULL, hStream);
}

CUresult CUDAAPI cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytesize,
                                              CUmemoryPool pool, CUstream hStream)
{
    if (pool == NULL)
        return drv_initialized() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    return drv_alloc_async(dptr, bytesize, pool, hStream);
}

CUresult CUDAAPI cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream hStream)
{
    return drv_free_async(dptr, hStream);
}

CUresult CUDAAPI cuStreamSynchronize_ptsz(CUstream hStream)
{
    return drv_stream_sync(hStream);
}
