/* fakecuda_layering: checks that the fake runtime sits on the fake driver the way the real
 * runtime sits on the real one. Linked against the real libcudart (run with LD_LIBRARY_PATH on
 * the fakes) and against no libcuda.
 *
 *   fakecuda_layering layers <expected total bytes> <expected devices>
 *       libcuda.so.1 is loaded by the runtime's first call, not before; runtime and driver
 *       keep one set of books (either side sees the other's allocations, exact numbers); the
 *       runtime's context is the driver's primary context; cudaGetDriverEntryPoint* hand out
 *       the driver's functions for a version and flags; the _ptsz runtime entry points work.
 *       Also run under fakecuda_spy (LD_PRELOAD), which aborts if any driver name is reached
 *       by symbol binding instead of through cuGetProcAddress.
 *   fakecuda_layering nodriver
 *       LD_LIBRARY_PATH holds the fake runtime alone: every call fails with
 *       cudaErrorInsufficientDriver. Exit 77 (skipped) where a real libcuda.so.1 is installed.
 *
 * __CUDA_API_VERSION_INTERNAL for the legacy PFN types (PFN_cuMemAlloc_v2000); it also makes
 * the runtime header declare the _ptsz entry points this test calls. */
#define __CUDA_API_VERSION_INTERNAL 1

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cudaTypedefs.h>
#include <cuda_runtime_api.h>

#include "check.h"

#define MIB ((size_t)1 << 20)

int check_failures;

static void *driver;
static PFN_cuGetProcAddress_v12000 get_proc;

static void *drv_fn(const char *symbol)
{
    void *fn = NULL;
    CHECK_EQ(get_proc(symbol, &fn, 13000, CU_GET_PROC_ADDRESS_DEFAULT, NULL), CUDA_SUCCESS);
    CHECK(fn != NULL);
    return fn;
}

static size_t runtime_free(void)
{
    size_t free_bytes = 0, total = 0;
    CHECK_EQ(cudaMemGetInfo(&free_bytes, &total), cudaSuccess);
    return free_bytes;
}

static size_t driver_free(void)
{
    PFN_cuMemGetInfo_v3020 info = (PFN_cuMemGetInfo_v3020)drv_fn("cuMemGetInfo");
    size_t free_bytes = 0, total = 0;
    CHECK_EQ(info(&free_bytes, &total), CUDA_SUCCESS);
    return free_bytes;
}

/* The runtime loads the driver at its first call; then this program can reach the same copy. */
static int open_driver(void)
{
    void *early = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (early != NULL) {
        dlclose(early);
        fprintf(stderr, "fakecuda_layering: libcuda.so.1 loaded before any CUDA call\n");
        return 0;
    }
    void *p = NULL;
    CHECK_EQ(cudaMalloc(&p, 1000), cudaSuccess); /* charged 1024 */
    driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (driver == NULL) {
        fprintf(stderr, "fakecuda_layering: the runtime did not load libcuda.so.1\n");
        return 0;
    }
    get_proc = (PFN_cuGetProcAddress_v12000)dlsym(driver, "cuGetProcAddress_v2");
    return get_proc != NULL;
}

static void check_one_set_of_books(size_t total)
{
    /* The runtime's 1000-byte block from open_driver, seen by the driver on this thread. */
    CHECK_EQ(driver_free(), total - 1024);
    CHECK_EQ(runtime_free(), total - 1024);

    PFN_cuMemAlloc_v3020 alloc = (PFN_cuMemAlloc_v3020)drv_fn("cuMemAlloc");
    CUdeviceptr d = 0;
    CHECK_EQ(alloc(&d, 4096), CUDA_SUCCESS);
    CHECK_EQ(runtime_free(), total - 1024 - 4096);
    CHECK_EQ(cudaFree((void *)(uintptr_t)d), cudaSuccess); /* a driver pointer, freed by cudart */
    CHECK_EQ(runtime_free(), total - 1024);

    /* The runtime's context is the device's primary context, current on this thread. */
    PFN_cuCtxGetCurrent_v4000 get_current = (PFN_cuCtxGetCurrent_v4000)drv_fn("cuCtxGetCurrent");
    PFN_cuDevicePrimaryCtxRetain_v7000 retain =
        (PFN_cuDevicePrimaryCtxRetain_v7000)drv_fn("cuDevicePrimaryCtxRetain");
    PFN_cuDevicePrimaryCtxRelease_v11000 release =
        (PFN_cuDevicePrimaryCtxRelease_v11000)drv_fn("cuDevicePrimaryCtxRelease");
    CUcontext cur = NULL, primary = NULL;
    CHECK_EQ(get_current(&cur), CUDA_SUCCESS);
    CHECK_EQ(retain(&primary, 0), CUDA_SUCCESS);
    CHECK(cur != NULL && cur == primary);
    CHECK_EQ(release(0), CUDA_SUCCESS); /* the runtime still holds its own retain */
    CHECK_EQ(runtime_free(), total - 1024);

    /* cudaDeviceReset takes the driver's allocations on that context too. */
    CHECK_EQ(alloc(&d, 1 * MIB), CUDA_SUCCESS);
    CHECK_EQ(cudaDeviceReset(), cudaSuccess);
    CHECK_EQ(driver_free(), total);
    CHECK_EQ(cudaFree((void *)(uintptr_t)d), cudaErrorInvalidValue);
    (void)cudaGetLastError();
}

static void check_devices(size_t total, int devices)
{
    if (devices < 2)
        return;
    PFN_cuCtxGetDevice_v13000 ctx_device = (PFN_cuCtxGetDevice_v13000)drv_fn("cuCtxGetDevice");
    PFN_cuMemAlloc_v3020 alloc = (PFN_cuMemAlloc_v3020)drv_fn("cuMemAlloc");
    PFN_cuMemFree_v3020 release = (PFN_cuMemFree_v3020)drv_fn("cuMemFree");
    CUdevice dev = -1;
    CUdeviceptr d = 0;
    CHECK_EQ(cudaSetDevice(1), cudaSuccess);
    CHECK_EQ(ctx_device(&dev, NULL), CUDA_SUCCESS);
    CHECK_EQ(dev, 1);
    CHECK_EQ(alloc(&d, 2 * MIB), CUDA_SUCCESS); /* on device 1, where cudart put us */
    CHECK_EQ(runtime_free(), total - 2 * MIB);
    CHECK_EQ(cudaSetDevice(0), cudaSuccess);
    CHECK_EQ(runtime_free(), total);
    CHECK_EQ(release(d), CUDA_SUCCESS);
}

static void check_entry_points(void)
{
    void *fn = NULL;
    enum cudaDriverEntryPointQueryResult st = (enum cudaDriverEntryPointQueryResult)99;
    CHECK_EQ(cudaGetDriverEntryPointByVersion("cuMemAlloc", &fn, 12000, cudaEnableDefault, &st),
             cudaSuccess);
    CHECK_EQ(st, cudaDriverEntryPointSuccess);
    CHECK(fn == dlsym(driver, "cuMemAlloc_v2"));
    CHECK_EQ(cudaGetDriverEntryPointByVersion("cuMemAlloc", &fn, 3000, cudaEnableDefault, &st),
             cudaSuccess);
    CHECK(fn == dlsym(driver, "cuMemAlloc"));
    CHECK_EQ(cudaGetDriverEntryPointByVersion("cuMemCreate", &fn, 12000, cudaEnableDefault, NULL),
             cudaSuccess);
    CHECK(fn == dlsym(driver, "cuMemCreate"));
    CHECK_EQ(cudaGetDriverEntryPointByVersion("cuMemAllocAsync", &fn, 12000,
                                              cudaEnablePerThreadDefaultStream, &st),
             cudaSuccess);
    CHECK(fn == dlsym(driver, "cuMemAllocAsync_ptsz"));
    CHECK_EQ(cudaGetDriverEntryPointByVersion_ptsz("cuMemAllocAsync", &fn, 12000,
                                                   cudaEnableDefault, &st),
             cudaSuccess);
    CHECK(fn == dlsym(driver, "cuMemAllocAsync_ptsz"));
    CHECK_EQ(cudaGetDriverEntryPoint("cuMemFreeAsync", &fn, cudaEnableDefault, &st), cudaSuccess);
    CHECK(fn == dlsym(driver, "cuMemFreeAsync"));
    /* Deprecated in CUDA 13 but still exported and used: tested on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    CHECK_EQ(cudaGetDriverEntryPoint_ptsz("cuMemFreeAsync", &fn, cudaEnableDefault, &st),
             cudaSuccess);
#pragma GCC diagnostic pop
    CHECK(fn == dlsym(driver, "cuMemFreeAsync_ptsz"));

    /* Documented runtime behaviour: not found is success with NULL and a status. */
    fn = (void *)1;
    CHECK_EQ(cudaGetDriverEntryPointByVersion("cuNoSuchFunction", &fn, 12000, cudaEnableDefault,
                                              &st),
             cudaSuccess);
    CHECK(fn == NULL);
    CHECK_EQ(st, cudaDriverEntryPointSymbolNotFound);
    CHECK_EQ(cudaGetDriverEntryPointByVersion("cuMemCreate", &fn, 10010, cudaEnableDefault, &st),
             cudaSuccess);
    CHECK(fn == NULL);
    CHECK_EQ(st, cudaDriverEntryPointVersionNotSufficent);
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    CHECK_EQ(cudaGetDriverEntryPointByVersion("cuMemAlloc", &fn, 13010, cudaEnableDefault, &st),
             cudaErrorInvalidValue);
    CHECK_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

static void check_ptsz(size_t total)
{
    void *p = NULL;
    CHECK_EQ(cudaMallocAsync_ptsz(&p, 1000, cudaStreamPerThread), cudaSuccess);
    CHECK_EQ(runtime_free(), total - 1024);
    CHECK_EQ(cudaFreeAsync_ptsz(p, NULL), cudaSuccess);
    cudaMemPool_t pool = NULL;
    CHECK_EQ(cudaDeviceGetDefaultMemPool(&pool, 0), cudaSuccess);
    CHECK_EQ(cudaMallocFromPoolAsync_ptsz(&p, 4096, pool, NULL), cudaSuccess);
    CHECK_EQ(runtime_free(), total - 4096);
    CHECK_EQ(cudaFreeAsync_ptsz(p, NULL), cudaSuccess);
    CHECK_EQ(runtime_free(), total);
}

static int run_layers(size_t total, int devices)
{
    if (!open_driver())
        return 1;
    check_one_set_of_books(total);
    check_devices(total, devices);
    check_entry_points();
    check_ptsz(total);
    if (check_failures != 0)
        return 1;
    printf("fakecuda_layering: ok\n");
    return 0;
}

static int run_nodriver(void)
{
    /* The runtime is the fake (by LD_LIBRARY_PATH); the driver must be nowhere at all. */
    void *real = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (real != NULL) {
        dlclose(real);
        printf("fakecuda_layering: a libcuda.so.1 is installed, skipping\n");
        return 77;
    }
    int count = -1;
    void *p = (void *)1;
    CHECK_EQ(cudaGetDeviceCount(&count), cudaErrorInsufficientDriver);
    CHECK_EQ(cudaMalloc(&p, 4096), cudaErrorInsufficientDriver);
    CHECK(p == NULL);
    CHECK_EQ(cudaGetLastError(), cudaErrorInsufficientDriver);
    CHECK(strcmp(cudaGetErrorString(cudaErrorInsufficientDriver),
                 "CUDA driver version is insufficient for CUDA runtime version") == 0);
    if (check_failures != 0)
        return 1;
    printf("fakecuda_layering: ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "layers") == 0)
        return run_layers((size_t)strtoull(argv[2], NULL, 10), atoi(argv[3]));
    if (argc == 2 && strcmp(argv[1], "nodriver") == 0)
        return run_nodriver();
    fprintf(stderr, "usage: fakecuda_layering layers <total bytes> <devices> | nodriver\n");
    return 2;
}
