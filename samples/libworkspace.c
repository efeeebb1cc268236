/* libworkspace.so: behaves like cuBLAS, cuDNN or NCCL, which carry a static copy of the CUDA
 * runtime: it never calls a cuda* runtime function and never links libcuda. At first use it
 * does what that static runtime does: dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL),
 * dlsym(handle, "cuGetProcAddress_v2"), and every driver function through that (cudaVersion
 * 13000, default flags), then cuInit(0). Its memory is invisible to anything that watches only
 * cuda* symbols or exported cu* symbols; a profiler sees it only by intercepting dlsym /
 * cuGetProcAddress.
 *
 * Exact numbers: workspace_create allocates one 32 MiB (33,554,432 bytes) block with
 * cuMemAlloc_v2 from the static function workspace_alloc, on the current context (retaining
 * device 0's primary context if the thread has none, as a static runtime would); it is freed
 * by workspace_destroy. Built -g -O0 so workspace_alloc is a frame of its own. */
#include <dlfcn.h>
#include <stdio.h>

#include <cudaTypedefs.h>

#include "libworkspace.h"

#define WORKSPACE_BYTES ((size_t)32 << 20)

static struct {
    PFN_cuInit_v2000 init;
    PFN_cuCtxGetCurrent_v4000 ctx_get_current;
    PFN_cuCtxSetCurrent_v4000 ctx_set_current;
    PFN_cuDevicePrimaryCtxRetain_v7000 primary_retain;
    PFN_cuDevicePrimaryCtxRelease_v11000 primary_release;
    PFN_cuMemAlloc_v3020 mem_alloc;
    PFN_cuMemFree_v3020 mem_free;
} drv;

/* Kept for the life of the process, as a static runtime keeps the driver it loaded. */
static void *driver_handle;
static CUdeviceptr workspace;
static int retained_primary;

static int fetch(PFN_cuGetProcAddress_v12000 get_proc, const char *name, void **out)
{
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    CUresult res = get_proc(name, out, 13000, CU_GET_PROC_ADDRESS_DEFAULT, &status);
    if (res != CUDA_SUCCESS || status != CU_GET_PROC_ADDRESS_SUCCESS || *out == NULL) {
        fprintf(stderr, "libworkspace: driver has no %s (%d)\n", name, (int)res);
        return 0;
    }
    return 1;
}

static int load_driver(void)
{
    static int loaded;
    if (loaded)
        return 1;
    if (driver_handle == NULL)
        driver_handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (driver_handle == NULL) {
        fprintf(stderr, "libworkspace: %s\n", dlerror());
        return 0;
    }
    PFN_cuGetProcAddress_v12000 get_proc =
        (PFN_cuGetProcAddress_v12000)dlsym(driver_handle, "cuGetProcAddress_v2");
    if (get_proc == NULL) {
        fprintf(stderr, "libworkspace: libcuda.so.1 has no cuGetProcAddress_v2\n");
        return 0;
    }
    void *fn = NULL;
#define FETCH(field, name, type)                                                             \
    if (!fetch(get_proc, name, &fn))                                                         \
        return 0;                                                                            \
    drv.field = (type)fn;
    FETCH(init, "cuInit", PFN_cuInit_v2000)
    FETCH(ctx_get_current, "cuCtxGetCurrent", PFN_cuCtxGetCurrent_v4000)
    FETCH(ctx_set_current, "cuCtxSetCurrent", PFN_cuCtxSetCurrent_v4000)
    FETCH(primary_retain, "cuDevicePrimaryCtxRetain", PFN_cuDevicePrimaryCtxRetain_v7000)
    FETCH(primary_release, "cuDevicePrimaryCtxRelease", PFN_cuDevicePrimaryCtxRelease_v11000)
    FETCH(mem_alloc, "cuMemAlloc", PFN_cuMemAlloc_v3020)
    FETCH(mem_free, "cuMemFree", PFN_cuMemFree_v3020)
#undef FETCH
    loaded = drv.init(0) == CUDA_SUCCESS;
    return loaded;
}

/* Uses the thread's current context, or device 0's primary context like a static runtime. */
static int ensure_context(void)
{
    CUcontext ctx = NULL;
    if (drv.ctx_get_current(&ctx) != CUDA_SUCCESS)
        return 0;
    if (ctx != NULL)
        return 1;
    if (drv.primary_retain(&ctx, 0) != CUDA_SUCCESS)
        return 0;
    retained_primary = 1;
    return drv.ctx_set_current(ctx) == CUDA_SUCCESS;
}

/* The library's one allocation site. */
static CUdeviceptr workspace_alloc(size_t bytes)
{
    CUdeviceptr p = 0;
    CUresult res = drv.mem_alloc(&p, bytes);
    if (res != CUDA_SUCCESS) {
        fprintf(stderr, "libworkspace: cuMemAlloc(%zu) failed (%d)\n", bytes, (int)res);
        return 0;
    }
    return p;
}

size_t workspace_create(void)
{
    if (workspace != 0)
        return WORKSPACE_BYTES;
    if (!load_driver() || !ensure_context())
        return 0;
    workspace = workspace_alloc(WORKSPACE_BYTES);
    return workspace != 0 ? WORKSPACE_BYTES : 0;
}

void workspace_destroy(void)
{
    if (workspace == 0)
        return;
    drv.mem_free(workspace);
    workspace = 0;
    if (retained_primary) {
        drv.primary_release(0);
        retained_primary = 0;
    }
}
