/* Fake libcudart: finds the driver the way the real CUDA runtime does. At the first call that
 * needs it: dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL), dlsym(handle, "cuGetProcAddress_v2"),
 * then every driver function in FAKE_DRIVER_FUNCS through that pointer with cudaVersion 13000
 * (flags CU_GET_PROC_ADDRESS_DEFAULT, or ..._PER_THREAD_DEFAULT_STREAM for the twins behind the
 * runtime's _ptsz entry points), and finally cuInit(0). The handle is never closed: the driver
 * stays for the life of the process, as with the real runtime. */
#include <dlfcn.h>
#include <pthread.h>

#include "fake_internal.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct fake_driver table;
static cudaError_t load_error = cudaSuccess;

/* Any miss means a driver too old (or not there): what the real runtime reports then. */
static int fetch(const char *name, cuuint64_t flags, void **out)
{
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    CUresult res = table.get_proc_address(name, out, FAKE_CUDA_VERSION, flags, &status);
    return res == CUDA_SUCCESS && status == CU_GET_PROC_ADDRESS_SUCCESS && *out != NULL;
}

static void load(void)
{
    void *handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        load_error = cudaErrorInsufficientDriver;
        return;
    }
    table.get_proc_address = (PFN_cuGetProcAddress_v12000)dlsym(handle, "cuGetProcAddress_v2");
    if (table.get_proc_address == NULL) {
        load_error = cudaErrorInsufficientDriver;
        return;
    }
    const cuuint64_t DEFAULT = CU_GET_PROC_ADDRESS_DEFAULT;
    const cuuint64_t PER_THREAD = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
    void *fn = NULL;
#define FAKE_DRIVER_FETCH(field, name, pfn, flags)                                             \
    if (!fetch(name, flags, &fn)) {                                                            \
        load_error = cudaErrorInsufficientDriver;                                              \
        return;                                                                                \
    }                                                                                          \
    table.field = (pfn)fn;
    FAKE_DRIVER_FUNCS(FAKE_DRIVER_FETCH)
#undef FAKE_DRIVER_FETCH

    CUresult res = table.init(0);
    if (res != CUDA_SUCCESS)
        load_error = fake_cu_error(res);
}

cudaError_t fake_driver(const struct fake_driver **out)
{
    pthread_once(&load_once, load);
    *out = &table;
    return load_error == cudaSuccess ? cudaSuccess : fake_fail(load_error);
}
