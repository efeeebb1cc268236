/* Fake libcuda: cuGetProcAddress_v2, the way every CUDA runtime (shared, or static inside
 * cuBLAS/cuDNN/NCCL) reaches the driver, and the table of entry points it serves.
 *
 * Lookup rules, modelled on the documented ones:
 *   - `symbol` is the base name ("cuMemAlloc"); each table row says from which CUDA version on
 *     a function is the ABI for that name. The row with the highest version <= cudaVersion
 *     wins: "cuMemAlloc" at 3020 or later is cuMemAlloc_v2, before that the legacy 32-bit
 *     cuMemAlloc; "cuCtxGetDevice" at 13000 is cuCtxGetDevice_v2.
 *   - With CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM the _ptsz rows take part too (and win
 *     a tie); otherwise (DEFAULT or LEGACY_STREAM) they are skipped.
 *   - Unknown name: CUDA_ERROR_NOT_FOUND, status CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND. Known
 *     name but every row newer than cudaVersion: CUDA_ERROR_NOT_FOUND, status
 *     CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT. *pfn is NULL in both cases.
 *   - cudaVersion above this driver's 13000, unknown flag bits, or NULL symbol/pfn:
 *     CUDA_ERROR_INVALID_VALUE.
 *   - Works before cuInit, as in real CUDA.
 *
 * The table names cudaTypedefs.h's PFN type for every row and _Generic refuses to compile a
 * function whose prototype differs from it, so the fake's ABI is the header's, row by row.
 * Legacy PFN types exist only under __CUDA_API_VERSION_INTERNAL, hence the define; under it the
 * stream-ordered names are macros for their _ptsz twins, so the legacy-stream ones are
 * #undef'd and declared here (and checked by the same _Generic). */
#define __CUDA_API_VERSION_INTERNAL 1

#include <string.h>

#include <cudaTypedefs.h>

#include "drv_internal.h"

#undef cuStreamSynchronize
#undef cuDevicePrimaryCtxRelease
#undef cuDevicePrimaryCtxReset
#undef cuStreamDestroy
CUresult CUDAAPI cuMemAllocAsync(CUdeviceptr *dptr, size_t bytesize, CUstream hStream);
CUresult CUDAAPI cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
                                         CUstream hStream);
CUresult CUDAAPI cuMemFreeAsync(CUdeviceptr dptr, CUstream hStream);
CUresult CUDAAPI cuStreamSynchronize(CUstream hStream);
CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev);
CUresult CUDAAPI cuDevicePrimaryCtxReset(CUdevice dev);
CUresult CUDAAPI cuStreamDestroy(CUstream hStream);

struct proc_entry {
    const char *name;
    int version;
    int ptsz;
    void *fn;
};

/* One row: base name, the version its ABI starts at, the function and its PFN type. */
#define ROW(name, version, fn, pfn) {name, version, 0, (void *)_Generic(&(fn), pfn: &(fn))}
#define PTSZ(name, version, fn, pfn) {name, version, 1, (void *)_Generic(&(fn), pfn: &(fn))}

static const struct proc_entry table[] = {
    ROW("cuGetErrorString", 6000, cuGetErrorString, PFN_cuGetErrorString_v6000),
    ROW("cuGetErrorName", 6000, cuGetErrorName, PFN_cuGetErrorName_v6000),
    ROW("cuInit", 2000, cuInit, PFN_cuInit_v2000),
    ROW("cuDriverGetVersion", 2020, cuDriverGetVersion, PFN_cuDriverGetVersion_v2020),
    ROW("cuGetProcAddress", 11030, cuGetProcAddress, PFN_cuGetProcAddress_v11030),
    ROW("cuGetProcAddress", 12000, cuGetProcAddress_v2, PFN_cuGetProcAddress_v12000),

    ROW("cuDeviceGet", 2000, cuDeviceGet, PFN_cuDeviceGet_v2000),
    ROW("cuDeviceGetCount", 2000, cuDeviceGetCount, PFN_cuDeviceGetCount_v2000),
    ROW("cuDeviceGetName", 2000, cuDeviceGetName, PFN_cuDeviceGetName_v2000),
    ROW("cuDeviceTotalMem", 2000, cuDeviceTotalMem, PFN_cuDeviceTotalMem_v2000),
    ROW("cuDeviceTotalMem", 3020, cuDeviceTotalMem_v2, PFN_cuDeviceTotalMem_v3020),
    ROW("cuDeviceGetAttribute", 2000, cuDeviceGetAttribute, PFN_cuDeviceGetAttribute_v2000),

    ROW("cuDevicePrimaryCtxRetain", 7000, cuDevicePrimaryCtxRetain,
        PFN_cuDevicePrimaryCtxRetain_v7000),
    ROW("cuDevicePrimaryCtxRelease", 7000, cuDevicePrimaryCtxRelease,
        PFN_cuDevicePrimaryCtxRelease_v7000),
    ROW("cuDevicePrimaryCtxRelease", 11000, cuDevicePrimaryCtxRelease_v2,
        PFN_cuDevicePrimaryCtxRelease_v11000),
    ROW("cuDevicePrimaryCtxReset", 7000, cuDevicePrimaryCtxReset,
        PFN_cuDevicePrimaryCtxReset_v7000),
    ROW("cuDevicePrimaryCtxReset", 11000, cuDevicePrimaryCtxReset_v2,
        PFN_cuDevicePrimaryCtxReset_v11000),
    ROW("cuCtxSetCurrent", 4000, cuCtxSetCurrent, PFN_cuCtxSetCurrent_v4000),
    ROW("cuCtxGetCurrent", 4000, cuCtxGetCurrent, PFN_cuCtxGetCurrent_v4000),
    ROW("cuCtxGetDevice", 2000, cuCtxGetDevice, PFN_cuCtxGetDevice_v2000),
    ROW("cuCtxGetDevice", 13000, cuCtxGetDevice_v2, PFN_cuCtxGetDevice_v13000),
    ROW("cuCtxSynchronize", 2000, cuCtxSynchronize, PFN_cuCtxSynchronize_v2000),
    ROW("cuCtxSynchronize", 13000, cuCtxSynchronize_v2, PFN_cuCtxSynchronize_v13000),

    ROW("cuStreamCreate", 2000, cuStreamCreate, PFN_cuStreamCreate_v2000),
    ROW("cuStreamDestroy", 2000, cuStreamDestroy, PFN_cuStreamDestroy_v2000),
    ROW("cuStreamDestroy", 4000, cuStreamDestroy_v2, PFN_cuStreamDestroy_v4000),
    ROW("cuStreamSynchronize", 2000, cuStreamSynchronize, PFN_cuStreamSynchronize_v2000),
    PTSZ("cuStreamSynchronize", 7000, cuStreamSynchronize_ptsz,
         PFN_cuStreamSynchronize_v7000_ptsz),

    ROW("cuMemAlloc", 2000, cuMemAlloc, PFN_cuMemAlloc_v2000),
    ROW("cuMemAlloc", 3020, cuMemAlloc_v2, PFN_cuMemAlloc_v3020),
    ROW("cuMemAllocPitch", 2000, cuMemAllocPitch, PFN_cuMemAllocPitch_v2000),
    ROW("cuMemAllocPitch", 3020, cuMemAllocPitch_v2, PFN_cuMemAllocPitch_v3020),
    ROW("cuMemFree", 2000, cuMemFree, PFN_cuMemFree_v2000),
    ROW("cuMemFree", 3020, cuMemFree_v2, PFN_cuMemFree_v3020),
    ROW("cuMemGetInfo", 2000, cuMemGetInfo, PFN_cuMemGetInfo_v2000),
    ROW("cuMemGetInfo", 3020, cuMemGetInfo_v2, PFN_cuMemGetInfo_v3020),
    ROW("cuMemAllocHost", 2000, cuMemAllocHost, PFN_cuMemAllocHost_v2000),
    ROW("cuMemAllocHost", 3020, cuMemAllocHost_v2, PFN_cuMemAllocHost_v3020),
    ROW("cuMemHostAlloc", 2020, cuMemHostAlloc, PFN_cuMemHostAlloc_v2020),
    ROW("cuMemFreeHost", 2000, cuMemFreeHost, PFN_cuMemFreeHost_v2000),
    ROW("cuMemAllocManaged", 6000, cuMemAllocManaged, PFN_cuMemAllocManaged_v6000),

    ROW("cuMemAllocAsync", 11020, cuMemAllocAsync, PFN_cuMemAllocAsync_v11020),
    PTSZ("cuMemAllocAsync", 11020, cuMemAllocAsync_ptsz, PFN_cuMemAllocAsync_v11020_ptsz),
    ROW("cuMemAllocFromPoolAsync", 11020, cuMemAllocFromPoolAsync,
        PFN_cuMemAllocFromPoolAsync_v11020),
    PTSZ("cuMemAllocFromPoolAsync", 11020, cuMemAllocFromPoolAsync_ptsz,
         PFN_cuMemAllocFromPoolAsync_v11020_ptsz),
    ROW("cuMemFreeAsync", 11020, cuMemFreeAsync, PFN_cuMemFreeAsync_v11020),
    PTSZ("cuMemFreeAsync", 11020, cuMemFreeAsync_ptsz, PFN_cuMemFreeAsync_v11020_ptsz),
    ROW("cuMemPoolCreate", 11020, cuMemPoolCreate, PFN_cuMemPoolCreate_v11020),
    ROW("cuMemPoolDestroy", 11020, cuMemPoolDestroy, PFN_cuMemPoolDestroy_v11020),
    ROW("cuMemPoolTrimTo", 11020, cuMemPoolTrimTo, PFN_cuMemPoolTrimTo_v11020),
    ROW("cuMemPoolGetAttribute", 11020, cuMemPoolGetAttribute,
        PFN_cuMemPoolGetAttribute_v11020),
    ROW("cuDeviceGetDefaultMemPool", 11020, cuDeviceGetDefaultMemPool,
        PFN_cuDeviceGetDefaultMemPool_v11020),

    ROW("cuMemGetAllocationGranularity", 10020, cuMemGetAllocationGranularity,
        PFN_cuMemGetAllocationGranularity_v10020),
    ROW("cuMemCreate", 10020, cuMemCreate, PFN_cuMemCreate_v10020),
    ROW("cuMemRelease", 10020, cuMemRelease, PFN_cuMemRelease_v10020),
    ROW("cuMemAddressReserve", 10020, cuMemAddressReserve, PFN_cuMemAddressReserve_v10020),
    ROW("cuMemAddressFree", 10020, cuMemAddressFree, PFN_cuMemAddressFree_v10020),
    ROW("cuMemMap", 10020, cuMemMap, PFN_cuMemMap_v10020),
    ROW("cuMemUnmap", 10020, cuMemUnmap, PFN_cuMemUnmap_v10020),
    ROW("cuMemSetAccess", 10020, cuMemSetAccess, PFN_cuMemSetAccess_v10020),
};

static void set_status(CUdriverProcAddressQueryResult *status, CUdriverProcAddressQueryResult v)
{
    if (status != NULL)
        *status = v;
}

CUresult drv_get_proc_address(const char *symbol, void **pfn, int cudaVersion,
                              cuuint64_t flags, CUdriverProcAddressQueryResult *symbolStatus)
{
    const cuuint64_t known = CU_GET_PROC_ADDRESS_LEGACY_STREAM |
                             CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
    if (pfn != NULL)
        *pfn = NULL;
    if (symbol == NULL || pfn == NULL || (flags & ~known) != 0 || cudaVersion > DRV_VERSION)
        return CUDA_ERROR_INVALID_VALUE;
    int per_thread = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;

    const struct proc_entry *best = NULL;
    int named = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct proc_entry *e = &table[i];
        if (strcmp(e->name, symbol) != 0)
            continue;
        named = 1;
        if (e->version > cudaVersion || (e->ptsz && !per_thread))
            continue;
        if (best == NULL || e->version > best->version ||
            (e->version == best->version && e->ptsz))
            best = e;
    }
    if (best == NULL) {
        set_status(symbolStatus, named ? CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT
                                       : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
        return CUDA_ERROR_NOT_FOUND;
    }
    *pfn = best->fn;
    set_status(symbolStatus, CU_GET_PROC_ADDRESS_SUCCESS);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
                                     cuuint64_t flags, CUdriverProcAddressQueryResult *symbolStatus)
{
    return drv_get_proc_address(symbol, pfn, cudaVersion, flags, symbolStatus);
}
