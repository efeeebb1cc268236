/* Fake libcuda: cuInit and cuDriverGetVersion.
 *
 * As in the real driver, cuInit must succeed before almost anything else works: until then the
 * other entry points answer CUDA_ERROR_NOT_INITIALIZED. cuGetProcAddress, cuDriverGetVersion and
 * the error-string functions work before it (runtimes and profilers look symbols up first). */
#include <stdatomic.h>

#include "drv_internal.h"

static atomic_int initialized;

int drv_initialized(void)
{
    return atomic_load_explicit(&initialized, memory_order_acquire);
}

/* Flags must be 0. Reading the environment here, not lazily, puts any complaint about a bad
 * FAKECUDA_* value at the program's first CUDA call, where the real driver reports its own
 * problems. */
CUresult CUDAAPI cuInit(unsigned int Flags)
{
    if (Flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    (void)drv_device_count();
    atomic_store_explicit(&initialized, 1, memory_order_release);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDriverGetVersion(int *driverVersion)
{
    if (driverVersion == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *driverVersion = drv_driver_version();
    return CUDA_SUCCESS;
}
