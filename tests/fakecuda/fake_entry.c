/* Fake libcudart: cudaGetDriverEntryPoint and cudaGetDriverEntryPointByVersion, how programs
 * (PyTorch's c10 DriverAPI, for one) get driver functions without linking libcuda. Like the
 * real runtime they forward to the driver's cuGetProcAddress_v2 (the pointer the runtime got
 * from dlsym), the first with the runtime's own version (13000).
 *
 * Results, as documented for the runtime: a symbol the driver does not have (or not at that
 * version) is cudaSuccess with *funcPtr NULL and *driverStatus saying which; a version above the
 * driver's, unknown flag bits or NULL arguments are cudaErrorInvalidValue. cudaEnableDefault
 * means legacy-stream lookups here and per-thread ones in the _ptsz twins (fake_ptsz.c), which
 * is what compiling with or without --default-stream per-thread selects. */
#include "fake_internal.h"

static void set_status(enum cudaDriverEntryPointQueryResult *status,
                       enum cudaDriverEntryPointQueryResult value)
{
    if (status != NULL)
        *status = value;
}

cudaError_t fake_entry_point(const char *symbol, void **funcPtr, unsigned int cudaVersion,
                             unsigned long long flags, unsigned long long default_flags,
                             enum cudaDriverEntryPointQueryResult *driverStatus)
{
    if (symbol == NULL || funcPtr == NULL || cudaVersion > (unsigned)FAKE_CUDA_VERSION)
        return fake_fail(cudaErrorInvalidValue);
    *funcPtr = NULL;
    const struct fake_driver *drv = NULL;
    cudaError_t err = fake_driver(&drv);
    if (err != cudaSuccess)
        return err;
    /* cudaEnable* and CU_GET_PROC_ADDRESS_* share their values. */
    cuuint64_t cu_flags = flags == cudaEnableDefault ? default_flags : flags;
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    CUresult res = drv->get_proc_address(symbol, funcPtr, (int)cudaVersion, cu_flags, &status);
    if (res != CUDA_SUCCESS && res != CUDA_ERROR_NOT_FOUND)
        return fake_fail_cu(res);
    set_status(driverStatus, res == CUDA_SUCCESS ? cudaDriverEntryPointSuccess
                             : status == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT
                                 ? cudaDriverEntryPointVersionNotSufficent
                                 : cudaDriverEntryPointSymbolNotFound);
    return cudaSuccess;
}

cudaError_t cudaGetDriverEntryPoint(const char *symbol, void **funcPtr, unsigned long long flags,
                                    enum cudaDriverEntryPointQueryResult *driverStatus)
{
    return fake_entry_point(symbol, funcPtr, FAKE_CUDA_VERSION, flags,
                            CU_GET_PROC_ADDRESS_DEFAULT, driverStatus);
}

cudaError_t cudaGetDriverEntryPointByVersion(const char *symbol, void **funcPtr,
                                             unsigned int cudaVersion, unsigned long long flags,
                                             enum cudaDriverEntryPointQueryResult *driverStatus)
{
    return fake_entry_point(symbol, funcPtr, cudaVersion, flags, CU_GET_PROC_ADDRESS_DEFAULT,
                            driverStatus);
}
