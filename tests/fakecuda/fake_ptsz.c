/* Fake libcudart: the per-thread-default-stream (_ptsz) entry points the real libcudart.so.13
 * exports for programs built with --default-stream per-thread, for the calls the fake models:
 * stream-ordered allocation and driver entry-point lookup. They reach the driver's _ptsz twins
 * (fetched with CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) where the plain ones reach the
 * legacy-stream functions; the bodies are shared with fake_memory.c and fake_entry.c.
 *
 * cuda_runtime_api.h declares the _ptsz names only in per-thread builds, so this file is one:
 * the header's own prototypes check these definitions. */
#define CUDA_API_PER_THREAD_DEFAULT_STREAM 1

#include "fake_internal.h"

cudaError_t cudaMallocAsync_ptsz(void **devPtr, size_t size, cudaStream_t hStream)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    return err != cudaSuccess
               ? err
               : fake_malloc_async(drv->mem_alloc_async_ptsz, devPtr, size, hStream);
}

cudaError_t cudaMallocFromPoolAsync_ptsz(void **ptr, size_t size, cudaMemPool_t memPool,
                                         cudaStream_t stream)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    return err != cudaSuccess ? err
                              : fake_malloc_from_pool_async(drv->mem_alloc_from_pool_async_ptsz,
                                                            ptr, size, memPool, stream);
}

cudaError_t cudaFreeAsync_ptsz(void *devPtr, cudaStream_t hStream)
{
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_context(&drv);
    return err != cudaSuccess ? err
                              : fake_free_async(drv->mem_free_async_ptsz, devPtr, hStream);
}

cudaError_t cudaGetDriverEntryPoint_ptsz(const char *symbol, void **funcPtr,
                                         unsigned long long flags,
                                         enum cudaDriverEntryPointQueryResult *driverStatus)
{
    return fake_entry_point(symbol, funcPtr, FAKE_CUDA_VERSION, flags,
                            CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, driverStatus);
}

cudaError_t cudaGetDriverEntryPointByVersion_ptsz(
    const char *symbol, void **funcPtr, unsigned int cudaVersion, unsigned long long flags,
    enum cudaDriverEntryPointQueryResult *driverStatus)
{
    return fake_entry_point(symbol, funcPtr, cudaVersion, flags,
                            CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, driverStatus);
}
