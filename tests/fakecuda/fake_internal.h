/* Internal interface between the pieces of the fake libcudart.so.13 (test stand-in, never
 * installed).
 *
 * The fake runtime is a thin layer over the fake driver (driver/, libcuda.so.1) and reaches it
 * only the way real CUDA runtimes do: at its first call it dlopen()s "libcuda.so.1", looks up
 * cuGetProcAddress_v2 with dlsym and fetches every driver function through it (fake_driver.c).
 * It never links libcuda and never names a cu* symbol, so a profiler sees the runtime's driver
 * calls exactly where it would see a real runtime's: at dlsym and cuGetProcAddress.
 *
 * Rule for every file of the fake: an exported cuda* function never calls another exported
 * cuda* function. gpuprof's shim interposes those names, so an internal call through them would
 * be recorded twice; shared work goes through the fake_* helpers declared here instead. */
#ifndef GPUPROF_FAKECUDA_INTERNAL_H
#define GPUPROF_FAKECUDA_INTERNAL_H

#include <stddef.h>

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime_api.h>

/* The CUDA version the runtime is (cudaRuntimeGetVersion) and asks the driver for. */
#define FAKE_CUDA_VERSION 13000

/* Upper bound on device ordinals the runtime caches a primary context for. */
#define FAKE_MAX_DEVICES 64

/* Every driver function the runtime uses: field, base name for cuGetProcAddress, the
 * cudaTypedefs.h type for that name at CUDA 13.0, and the lookup flags (the _ptsz twins serve
 * the runtime's own _ptsz entry points). */
#define FAKE_DRIVER_FUNCS(X)                                                                   \
    X(init, "cuInit", PFN_cuInit_v2000, DEFAULT)                                               \
    X(driver_get_version, "cuDriverGetVersion", PFN_cuDriverGetVersion_v2020, DEFAULT)         \
    X(device_get, "cuDeviceGet", PFN_cuDeviceGet_v2000, DEFAULT)                               \
    X(device_get_count, "cuDeviceGetCount", PFN_cuDeviceGetCount_v2000, DEFAULT)               \
    X(device_get_name, "cuDeviceGetName", PFN_cuDeviceGetName_v2000, DEFAULT)                  \
    X(device_total_mem, "cuDeviceTotalMem", PFN_cuDeviceTotalMem_v3020, DEFAULT)               \
    X(device_get_attribute, "cuDeviceGetAttribute", PFN_cuDeviceGetAttribute_v2000, DEFAULT)  \
    X(primary_ctx_retain, "cuDevicePrimaryCtxRetain", PFN_cuDevicePrimaryCtxRetain_v7000,      \
      DEFAULT)                                                                                 \
    X(primary_ctx_reset, "cuDevicePrimaryCtxReset", PFN_cuDevicePrimaryCtxReset_v11000,        \
      DEFAULT)                                                                                 \
    X(ctx_get_current, "cuCtxGetCurrent", PFN_cuCtxGetCurrent_v4000, DEFAULT)                  \
    X(ctx_set_current, "cuCtxSetCurrent", PFN_cuCtxSetCurrent_v4000, DEFAULT)                  \
    X(ctx_get_device, "cuCtxGetDevice", PFN_cuCtxGetDevice_v13000, DEFAULT)                    \
    X(ctx_synchronize, "cuCtxSynchronize", PFN_cuCtxSynchronize_v13000, DEFAULT)               \
    X(stream_create, "cuStreamCreate", PFN_cuStreamCreate_v2000, DEFAULT)                      \
    X(stream_destroy, "cuStreamDestroy", PFN_cuStreamDestroy_v4000, DEFAULT)                   \
    X(stream_synchronize, "cuStreamSynchronize", PFN_cuStreamSynchronize_v2000, DEFAULT)       \
    X(mem_alloc, "cuMemAlloc", PFN_cuMemAlloc_v3020, DEFAULT)                                  \
    X(mem_alloc_pitch, "cuMemAllocPitch", PFN_cuMemAllocPitch_v3020, DEFAULT)                  \
    X(mem_free, "cuMemFree", PFN_cuMemFree_v3020, DEFAULT)                                     \
    X(mem_get_info, "cuMemGetInfo", PFN_cuMemGetInfo_v3020, DEFAULT)                           \
    X(mem_alloc_managed, "cuMemAllocManaged", PFN_cuMemAllocManaged_v6000, DEFAULT)            \
    X(mem_alloc_host, "cuMemAllocHost", PFN_cuMemAllocHost_v3020, DEFAULT)                     \
    X(mem_host_alloc, "cuMemHostAlloc", PFN_cuMemHostAlloc_v2020, DEFAULT)                     \
    X(mem_free_host, "cuMemFreeHost", PFN_cuMemFreeHost_v2000, DEFAULT)                        \
    X(mem_alloc_async, "cuMemAllocAsync", PFN_cuMemAllocAsync_v11020, DEFAULT)                 \
    X(mem_alloc_async_ptsz, "cuMemAllocAsync", PFN_cuMemAllocAsync_v11020_ptsz, PER_THREAD)    \
    X(mem_alloc_from_pool_async, "cuMemAllocFromPoolAsync",                                    \
      PFN_cuMemAllocFromPoolAsync_v11020, DEFAULT)                                             \
    X(mem_alloc_from_pool_async_ptsz, "cuMemAllocFromPoolAsync",                               \
      PFN_cuMemAllocFromPoolAsync_v11020_ptsz, PER_THREAD)                                     \
    X(mem_free_async, "cuMemFreeAsync", PFN_cuMemFreeAsync_v11020, DEFAULT)                    \
    X(mem_free_async_ptsz, "cuMemFreeAsync", PFN_cuMemFreeAsync_v11020_ptsz, PER_THREAD)       \
    X(device_get_default_mem_pool, "cuDeviceGetDefaultMemPool",                                \
      PFN_cuDeviceGetDefaultMemPool_v11020, DEFAULT)                                           \
    X(mem_pool_create, "cuMemPoolCreate", PFN_cuMemPoolCreate_v11020, DEFAULT)                 \
    X(mem_pool_destroy, "cuMemPoolDestroy", PFN_cuMemPoolDestroy_v11020, DEFAULT)

struct fake_driver {
    /* From dlsym, as the real runtime gets it; cudaGetDriverEntryPoint goes through it. */
    PFN_cuGetProcAddress_v12000 get_proc_address;
#define FAKE_DRIVER_FIELD(field, name, pfn, flags) pfn field;
    FAKE_DRIVER_FUNCS(FAKE_DRIVER_FIELD)
#undef FAKE_DRIVER_FIELD
};

/* fake_driver.c: the driver table, loaded and cuInit'ed once. Returns cudaSuccess, or the
 * (recorded) error every call of the runtime then fails with: cudaErrorInsufficientDriver when
 * libcuda.so.1 or one of its functions is missing, cuInit's error otherwise. */
cudaError_t fake_driver(const struct fake_driver **out);

/* fake_error.c: fake_fail records `err` as the calling thread's last error and returns it;
 * fake_cu_error translates a driver result the way the real runtime does; fake_fail_cu does
 * both (CUDA_SUCCESS records nothing). */
cudaError_t fake_fail(cudaError_t err);
cudaError_t fake_cu_error(CUresult res);
cudaError_t fake_fail_cu(CUresult res);

/* fake_context.c: makes sure the calling thread has a current driver context, as the real
 * runtime does before any call that needs one: the primary context of the thread's selected
 * device (cudaSetDevice, default 0), retained once per process. Errors are recorded. */
cudaError_t fake_context(const struct fake_driver **out);
/* cudaSetDevice's work: retain once, make current, remember for this thread. */
cudaError_t fake_select_device(int device);

/* fake_memory.c: the stream-ordered bodies shared by the plain and _ptsz entry points. */
cudaError_t fake_malloc_async(PFN_cuMemAllocAsync_v11020 alloc, void **devPtr, size_t size,
                              cudaStream_t stream);
cudaError_t fake_malloc_from_pool_async(PFN_cuMemAllocFromPoolAsync_v11020 alloc, void **ptr,
                                        size_t size, cudaMemPool_t pool, cudaStream_t stream);
cudaError_t fake_free_async(PFN_cuMemFreeAsync_v11020 release, void *devPtr,
                            cudaStream_t stream);

/* fake_entry.c: the body of cudaGetDriverEntryPoint[ByVersion] and their _ptsz twins; `flags`
 * of 0 (cudaEnableDefault) becomes `default_flags`. */
cudaError_t fake_entry_point(const char *symbol, void **funcPtr, unsigned int cudaVersion,
                             unsigned long long flags, unsigned long long default_flags,
                             enum cudaDriverEntryPointQueryResult *driverStatus);

#endif
