/* fakecuda_driver_selftest: checks the fake libcuda.so.1 the way runtimes meet it. It links no
 * libcuda: it dlopen()s "libcuda.so.1" (found through LD_LIBRARY_PATH), takes
 * cuGetProcAddress_v2 with dlsym and everything else through that, exactly like libcudart and
 * the static runtimes inside cuBLAS/cuDNN/NCCL.
 *
 *   fakecuda_driver_selftest <expected total bytes per device> <expected devices>
 *
 * Covers: lookups before cuInit, version and flag selection (legacy, _v2, _ptsz), pointer
 * identity with dlsym, errors, contexts, the cuMemAlloc family with exact cuMemGetInfo numbers,
 * the legacy 32-bit path, stream-ordered allocation and pool attributes, context teardown,
 * the VMM round trip (driver_selftest_vmm.c) and concurrent use.
 *
 * __CUDA_API_VERSION_INTERNAL makes cudaTypedefs.h declare the legacy PFN types
 * (PFN_cuMemAlloc_v2000, ...); nothing here calls a cu* name directly, so it changes nothing
 * else. */
#define __CUDA_API_VERSION_INTERNAL 1

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cudaTypedefs.h>

#include "driver_selftest.h"

int check_failures;

static void *driver;
static PFN_cuGetProcAddress_v12000 get_proc;

static void *lookup(const char *symbol, int version, cuuint64_t flags, CUresult expect_res,
                    CUdriverProcAddressQueryResult expect_status)
{
    void *fn = (void *)1;
    CUdriverProcAddressQueryResult status = (CUdriverProcAddressQueryResult)99;
    CHECK_EQ(get_proc(symbol, &fn, version, flags, &status), expect_res);
    CHECK_EQ(status, expect_status);
    if (expect_res != CUDA_SUCCESS)
        CHECK(fn == NULL);
    return fn;
}

void *drv_fn(const char *symbol)
{
    void *fn = lookup(symbol, 13000, CU_GET_PROC_ADDRESS_DEFAULT, CUDA_SUCCESS,
                      CU_GET_PROC_ADDRESS_SUCCESS);
    CHECK(fn != NULL);
    return fn;
}

size_t dev_free(void)
{
    PFN_cuMemGetInfo_v3020 get_info = (PFN_cuMemGetInfo_v3020)drv_fn("cuMemGetInfo");
    size_t free_bytes = 0, total = 0;
    CHECK_EQ(get_info(&free_bytes, &total), CUDA_SUCCESS);
    return free_bytes;
}

/* The exported name a lookup must land on: pointer identity with dlsym on the same handle. */
static void *exported(const char *name)
{
    void *fn = dlsym(driver, name);
    CHECK(fn != NULL);
    return fn;
}

static void check_before_init(void)
{
    /* cuGetProcAddress works before cuInit (runtimes and profilers look up first); the
     * functions it returns answer CUDA_ERROR_NOT_INITIALIZED until cuInit. */
    PFN_cuMemAlloc_v3020 alloc = (PFN_cuMemAlloc_v3020)drv_fn("cuMemAlloc");
    PFN_cuDeviceGetCount_v2000 count = (PFN_cuDeviceGetCount_v2000)drv_fn("cuDeviceGetCount");
    PFN_cuDriverGetVersion_v2020 version =
        (PFN_cuDriverGetVersion_v2020)drv_fn("cuDriverGetVersion");
    CUdeviceptr p = 0;
    int n = -1, v = 0;
    CHECK_EQ(alloc(&p, 4096), CUDA_ERROR_NOT_INITIALIZED);
    CHECK_EQ(count(&n), CUDA_ERROR_NOT_INITIALIZED);
    CHECK_EQ(version(&v), CUDA_SUCCESS);
    CHECK_EQ(v, 13000);

    PFN_cuInit_v2000 init = (PFN_cuInit_v2000)drv_fn("cuInit");
    CHECK_EQ(init(1), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(count(&n), CUDA_ERROR_NOT_INITIALIZED);
    CHECK_EQ(init(0), CUDA_SUCCESS);
    CHECK_EQ(init(0), CUDA_SUCCESS);
}

static void check_lookups(void)
{
    const cuuint64_t DEF = CU_GET_PROC_ADDRESS_DEFAULT;
    const cuuint64_t LEGACY = CU_GET_PROC_ADDRESS_LEGACY_STREAM;
    const cuuint64_t PTDS = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
    const CUresult OK = CUDA_SUCCESS;
    const CUdriverProcAddressQueryResult FOUND = CU_GET_PROC_ADDRESS_SUCCESS;

    /* cudaVersion picks the ABI: _v2 from 3020 on, the legacy 32-bit function before. */
    CHECK(lookup("cuMemAlloc", 13000, DEF, OK, FOUND) == exported("cuMemAlloc_v2"));
    CHECK(lookup("cuMemAlloc", 3020, DEF, OK, FOUND) == exported("cuMemAlloc_v2"));
    CHECK(lookup("cuMemAlloc", 3010, DEF, OK, FOUND) == exported("cuMemAlloc"));
    CHECK(lookup("cuMemAlloc", 2000, DEF, OK, FOUND) == exported("cuMemAlloc"));
    lookup("cuMemAlloc", 1000, DEF, CUDA_ERROR_NOT_FOUND,
           CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
    CHECK(lookup("cuMemFree", 12000, DEF, OK, FOUND) == exported("cuMemFree_v2"));
    CHECK(lookup("cuMemGetInfo", 3000, DEF, OK, FOUND) == exported("cuMemGetInfo"));
    CHECK(lookup("cuDeviceTotalMem", 13000, DEF, OK, FOUND) == exported("cuDeviceTotalMem_v2"));
    CHECK(lookup("cuCtxGetDevice", 12090, DEF, OK, FOUND) == exported("cuCtxGetDevice"));
    CHECK(lookup("cuCtxGetDevice", 13000, DEF, OK, FOUND) == exported("cuCtxGetDevice_v2"));
    CHECK(lookup("cuCtxSynchronize", 13000, DEF, OK, FOUND) == exported("cuCtxSynchronize_v2"));
    CHECK(lookup("cuDevicePrimaryCtxRelease", 10020, DEF, OK, FOUND) ==
          exported("cuDevicePrimaryCtxRelease"));
    CHECK(lookup("cuDevicePrimaryCtxRelease", 11000, DEF, OK, FOUND) ==
          exported("cuDevicePrimaryCtxRelease_v2"));
    CHECK(lookup("cuGetProcAddress", 12000, DEF, OK, FOUND) == exported("cuGetProcAddress_v2"));
    CHECK(lookup("cuGetProcAddress", 11030, DEF, OK, FOUND) == exported("cuGetProcAddress"));
    CHECK(lookup("cuMemCreate", 12000, DEF, OK, FOUND) == exported("cuMemCreate"));
    lookup("cuMemCreate", 10010, DEF, CUDA_ERROR_NOT_FOUND,
           CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);

    /* Flags pick the stream flavour: _ptsz only when asked for per-thread. */
    CHECK(lookup("cuMemAllocAsync", 13000, DEF, OK, FOUND) == exported("cuMemAllocAsync"));
    CHECK(lookup("cuMemAllocAsync", 13000, LEGACY, OK, FOUND) == exported("cuMemAllocAsync"));
    CHECK(lookup("cuMemAllocAsync", 13000, PTDS, OK, FOUND) ==
          exported("cuMemAllocAsync_ptsz"));
    CHECK(lookup("cuMemFreeAsync", 11020, PTDS, OK, FOUND) == exported("cuMemFreeAsync_ptsz"));
    CHECK(lookup("cuMemAllocFromPoolAsync", 12000, PTDS, OK, FOUND) ==
          exported("cuMemAllocFromPoolAsync_ptsz"));
    lookup("cuMemAllocAsync", 11010, PTDS, CUDA_ERROR_NOT_FOUND,
           CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
    /* No per-thread twin at that version: the legacy function, as documented. */
    CHECK(lookup("cuStreamSynchronize", 6050, PTDS, OK, FOUND) ==
          exported("cuStreamSynchronize"));
    CHECK(lookup("cuStreamSynchronize", 7000, PTDS, OK, FOUND) ==
          exported("cuStreamSynchronize_ptsz"));
    CHECK(lookup("cuMemAlloc", 13000, PTDS, OK, FOUND) == exported("cuMemAlloc_v2"));

    /* Unknown names, including versioned spellings: lookups take base names. */
    lookup("cuNoSuchFunction", 13000, DEF, CUDA_ERROR_NOT_FOUND,
           CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
    lookup("cuMemAlloc_v2", 13000, DEF, CUDA_ERROR_NOT_FOUND,
           CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);

    /* Bad requests. */
    void *fn = NULL;
    CHECK_EQ(get_proc("cuMemAlloc", &fn, 13010, DEF, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(get_proc("cuMemAlloc", &fn, 13000, 4, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(get_proc(NULL, &fn, 13000, DEF, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(get_proc("cuMemAlloc", NULL, 13000, DEF, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(get_proc("cuMemAlloc", &fn, 13000, DEF, NULL), CUDA_SUCCESS); /* status optional */
    CHECK(fn == exported("cuMemAlloc_v2"));

    /* The 11.3 form without symbolStatus. */
    PFN_cuGetProcAddress_v11030 old = (PFN_cuGetProcAddress_v11030)exported("cuGetProcAddress");
    fn = NULL;
    CHECK_EQ(old("cuMemFree", &fn, 13000, DEF), CUDA_SUCCESS);
    CHECK(fn == exported("cuMemFree_v2"));
    CHECK_EQ(old("cuNoSuchFunction", &fn, 13000, DEF), CUDA_ERROR_NOT_FOUND);
    CHECK(fn == NULL);
}

static void check_errors(void)
{
    PFN_cuGetErrorString_v6000 str = (PFN_cuGetErrorString_v6000)drv_fn("cuGetErrorString");
    PFN_cuGetErrorName_v6000 name = (PFN_cuGetErrorName_v6000)drv_fn("cuGetErrorName");
    const char *s = NULL;
    CHECK_EQ(str(CUDA_ERROR_OUT_OF_MEMORY, &s), CUDA_SUCCESS);
    CHECK(s != NULL && strcmp(s, "out of memory") == 0);
    CHECK_EQ(name(CUDA_ERROR_OUT_OF_MEMORY, &s), CUDA_SUCCESS);
    CHECK(s != NULL && strcmp(s, "CUDA_ERROR_OUT_OF_MEMORY") == 0);
    CHECK_EQ(name(CUDA_ERROR_NOT_FOUND, &s), CUDA_SUCCESS);
    CHECK(s != NULL && strcmp(s, "CUDA_ERROR_NOT_FOUND") == 0);
    CHECK_EQ(str((CUresult)12345, &s), CUDA_ERROR_INVALID_VALUE);
    CHECK(s == NULL);
}

static void check_devices(size_t total, int devices)
{
    PFN_cuDeviceGetCount_v2000 count = (PFN_cuDeviceGetCount_v2000)drv_fn("cuDeviceGetCount");
    PFN_cuDeviceGet_v2000 get = (PFN_cuDeviceGet_v2000)drv_fn("cuDeviceGet");
    PFN_cuDeviceGetName_v2000 name = (PFN_cuDeviceGetName_v2000)drv_fn("cuDeviceGetName");
    PFN_cuDeviceTotalMem_v3020 total_mem =
        (PFN_cuDeviceTotalMem_v3020)drv_fn("cuDeviceTotalMem");
    PFN_cuDeviceGetAttribute_v2000 attr =
        (PFN_cuDeviceGetAttribute_v2000)drv_fn("cuDeviceGetAttribute");
    int n = 0, value = -1;
    CUdevice dev = -1;
    char text[64] = {0};
    size_t bytes = 0;
    CHECK_EQ(count(&n), CUDA_SUCCESS);
    CHECK_EQ(n, devices);
    CHECK_EQ(get(&dev, devices - 1), CUDA_SUCCESS);
    CHECK_EQ(dev, devices - 1);
    CHECK_EQ(get(&dev, devices), CUDA_ERROR_INVALID_DEVICE);
    CHECK_EQ(name(text, (int)sizeof text, 0), CUDA_SUCCESS);
    CHECK(strcmp(text, "gpuprof fake device") == 0);
    CHECK_EQ(total_mem(&bytes, 0), CUDA_SUCCESS);
    CHECK_EQ(bytes, total);
    CHECK_EQ(attr(&value, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0), CUDA_SUCCESS);
    CHECK_EQ(value, 9);
    CHECK_EQ(attr(&value, CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, 0),
             CUDA_SUCCESS);
    CHECK_EQ(value, 1);
    CHECK_EQ(attr(&value, CU_DEVICE_ATTRIBUTE_MAX, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(attr(&value, CU_DEVICE_ATTRIBUTE_WARP_SIZE, devices), CUDA_ERROR_INVALID_DEVICE);

    /* 32-bit results saturate. */
    PFN_cuDeviceTotalMem_v2000 old_total = (PFN_cuDeviceTotalMem_v2000)lookup(
        "cuDeviceTotalMem", 3000, CU_GET_PROC_ADDRESS_DEFAULT, CUDA_SUCCESS,
        CU_GET_PROC_ADDRESS_SUCCESS);
    unsigned int small = 0;
    CHECK_EQ(old_total(&small, 0), CUDA_SUCCESS);
    CHECK_EQ(small, total > UINT_MAX ? UINT_MAX : total);
}

static PFN_cuDevicePrimaryCtxRetain_v7000 ctx_retain;
static PFN_cuDevicePrimaryCtxRelease_v11000 ctx_release;
static PFN_cuCtxSetCurrent_v4000 ctx_set;

/* Makes device `dev`'s primary context current, retaining it once more. */
static CUcontext use_device(int dev)
{
    CUcontext ctx = NULL;
    CHECK_EQ(ctx_retain(&ctx, dev), CUDA_SUCCESS);
    CHECK_EQ(ctx_set(ctx), CUDA_SUCCESS);
    return ctx;
}

static void check_contexts(void)
{
    ctx_retain = (PFN_cuDevicePrimaryCtxRetain_v7000)drv_fn("cuDevicePrimaryCtxRetain");
    ctx_release = (PFN_cuDevicePrimaryCtxRelease_v11000)drv_fn("cuDevicePrimaryCtxRelease");
    ctx_set = (PFN_cuCtxSetCurrent_v4000)drv_fn("cuCtxSetCurrent");
    PFN_cuCtxGetCurrent_v4000 ctx_get = (PFN_cuCtxGetCurrent_v4000)drv_fn("cuCtxGetCurrent");
    PFN_cuCtxGetDevice_v13000 ctx_dev = (PFN_cuCtxGetDevice_v13000)drv_fn("cuCtxGetDevice");
    PFN_cuCtxSynchronize_v13000 ctx_sync =
        (PFN_cuCtxSynchronize_v13000)drv_fn("cuCtxSynchronize");
    PFN_cuMemAlloc_v3020 alloc = (PFN_cuMemAlloc_v3020)drv_fn("cuMemAlloc");

    CUcontext cur = (CUcontext)1;
    CUdevice dev = -1;
    CUdeviceptr p = 0;
    CHECK_EQ(ctx_get(&cur), CUDA_SUCCESS);
    CHECK(cur == NULL);
    CHECK_EQ(alloc(&p, 4096), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_EQ(ctx_dev(&dev, NULL), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_EQ(ctx_sync(NULL), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_EQ(ctx_set((CUcontext)&dev), CUDA_ERROR_INVALID_CONTEXT);

    CUcontext ctx = use_device(0);
    CHECK_EQ(ctx_get(&cur), CUDA_SUCCESS);
    CHECK(cur == ctx);
    CHECK_EQ(ctx_dev(&dev, NULL), CUDA_SUCCESS);
    CHECK_EQ(dev, 0);
    CHECK_EQ(ctx_sync(NULL), CUDA_SUCCESS);
    CUcontext again = NULL;
    CHECK_EQ(ctx_retain(&again, 0), CUDA_SUCCESS); /* the same primary context */
    CHECK(again == ctx);
    CHECK_EQ(ctx_release(0), CUDA_SUCCESS);
}

static void check_mem_alloc(size_t total)
{
    PFN_cuMemAlloc_v3020 alloc = (PFN_cuMemAlloc_v3020)drv_fn("cuMemAlloc");
    PFN_cuMemFree_v3020 release = (PFN_cuMemFree_v3020)drv_fn("cuMemFree");
    PFN_cuMemAllocPitch_v3020 pitch_alloc = (PFN_cuMemAllocPitch_v3020)drv_fn("cuMemAllocPitch");
    PFN_cuMemAllocManaged_v6000 managed = (PFN_cuMemAllocManaged_v6000)drv_fn("cuMemAllocManaged");
    PFN_cuMemAllocHost_v3020 host = (PFN_cuMemAllocHost_v3020)drv_fn("cuMemAllocHost");
    PFN_cuMemHostAlloc_v2020 host_alloc = (PFN_cuMemHostAlloc_v2020)drv_fn("cuMemHostAlloc");
    PFN_cuMemFreeHost_v2000 free_host = (PFN_cuMemFreeHost_v2000)drv_fn("cuMemFreeHost");

    CHECK_EQ(dev_free(), total);
    CUdeviceptr a = 0, b = 0, m = 0, z = 1;
    CHECK_EQ(alloc(&a, 1000), CUDA_SUCCESS); /* charged 1024 */
    CHECK_EQ(alloc(&b, 512), CUDA_SUCCESS);  /* charged 512 */
    CHECK(a != 0 && b != 0);
    CHECK_EQ(dev_free(), total - 1536);
    CHECK_EQ(alloc(&z, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(alloc(&z, total + 1), CUDA_ERROR_OUT_OF_MEMORY);
    CHECK_EQ(z, 0);
    CHECK_EQ(dev_free(), total - 1536);
    memset((void *)(uintptr_t)a, 0x5a, 1000); /* device memory is host memory here */

    CUdeviceptr pitched = 0;
    size_t pitch = 0;
    CHECK_EQ(pitch_alloc(&pitched, &pitch, 1000, 100, 4), CUDA_SUCCESS);
    CHECK_EQ(pitch, 1024);
    CHECK_EQ(dev_free(), total - 1536 - 102400);
    CUdeviceptr odd = 0;
    CHECK_EQ(pitch_alloc(&odd, &pitch, 1000, 100, 3), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(pitch, 1024); /* untouched on failure */

    void *h = NULL, *h2 = NULL;
    CHECK_EQ(managed(&m, total * 2, CU_MEM_ATTACH_GLOBAL), CUDA_SUCCESS); /* not charged */
    CHECK_EQ(host(&h, 2 * MIB), CUDA_SUCCESS);
    CHECK_EQ(host_alloc(&h2, 1000, CU_MEMHOSTALLOC_PORTABLE), CUDA_SUCCESS);
    CHECK_EQ(host_alloc(&h2, 1000, 0x80), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(dev_free(), total - 1536 - 102400);
    CHECK_EQ(release((CUdeviceptr)(uintptr_t)h), CUDA_ERROR_INVALID_VALUE); /* wrong family */
    CHECK_EQ(free_host((void *)(uintptr_t)a), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(free_host(h), CUDA_SUCCESS);
    CHECK_EQ(free_host(h2), CUDA_SUCCESS);
    CHECK_EQ(free_host(NULL), CUDA_SUCCESS);
    CHECK_EQ(release(m), CUDA_SUCCESS);
    CHECK_EQ(release(pitched), CUDA_SUCCESS);
    CHECK_EQ(release(a), CUDA_SUCCESS);
    CHECK_EQ(release(a), CUDA_ERROR_INVALID_VALUE); /* double free */
    CHECK_EQ(release(b), CUDA_SUCCESS);
    CHECK_EQ(release(0), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total);
}

/* The pre-3.2 ABI: 32-bit pointers and sizes, same books. */
static void check_legacy(size_t total)
{
    const cuuint64_t DEF = CU_GET_PROC_ADDRESS_DEFAULT;
    const CUdriverProcAddressQueryResult FOUND = CU_GET_PROC_ADDRESS_SUCCESS;
    PFN_cuMemAlloc_v2000 alloc =
        (PFN_cuMemAlloc_v2000)lookup("cuMemAlloc", 3000, DEF, CUDA_SUCCESS, FOUND);
    PFN_cuMemFree_v2000 release =
        (PFN_cuMemFree_v2000)lookup("cuMemFree", 3000, DEF, CUDA_SUCCESS, FOUND);
    PFN_cuMemGetInfo_v2000 info =
        (PFN_cuMemGetInfo_v2000)lookup("cuMemGetInfo", 3000, DEF, CUDA_SUCCESS, FOUND);
    PFN_cuMemAllocPitch_v2000 pitch_alloc =
        (PFN_cuMemAllocPitch_v2000)lookup("cuMemAllocPitch", 3000, DEF, CUDA_SUCCESS, FOUND);
    PFN_cuMemFree_v3020 release_v2 = (PFN_cuMemFree_v3020)drv_fn("cuMemFree");

    CUdeviceptr_v1 a = 0, b = 0, pitched = 0;
    unsigned int pitch = 0, free32 = 0, total32 = 0;
    CHECK_EQ(alloc(&a, 1000), CUDA_SUCCESS);
    CHECK(a != 0);
    CHECK_EQ(dev_free(), total - 1024);
    memset((void *)(uintptr_t)a, 0x33, 1000); /* a 32-bit pointer that really points at it */
    CHECK_EQ(alloc(&b, 4096), CUDA_SUCCESS);
    CHECK_EQ(pitch_alloc(&pitched, &pitch, 100, 10, 4), CUDA_SUCCESS);
    CHECK_EQ(pitch, 512);
    CHECK_EQ(dev_free(), total - 1024 - 4096 - 5120);
    CHECK_EQ(info(&free32, &total32), CUDA_SUCCESS);
    size_t want_free = total - 1024 - 4096 - 5120;
    CHECK_EQ(total32, total > UINT_MAX ? UINT_MAX : total);
    CHECK_EQ(free32, want_free > UINT_MAX ? UINT_MAX : want_free);
    CHECK_EQ(release(a), CUDA_SUCCESS);
    CHECK_EQ(release_v2((CUdeviceptr)b), CUDA_SUCCESS); /* the _v2 free takes legacy memory too */
    CHECK_EQ(release(pitched), CUDA_SUCCESS);
    CHECK_EQ(release(a), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(dev_free(), total);
}

static cuuint64_t pool_attr(CUmemoryPool pool, CUmemPool_attribute attr)
{
    PFN_cuMemPoolGetAttribute_v11020 get =
        (PFN_cuMemPoolGetAttribute_v11020)drv_fn("cuMemPoolGetAttribute");
    cuuint64_t value = 12345;
    CHECK_EQ(get(pool, attr, &value), CUDA_SUCCESS);
    return value;
}

static void check_async(size_t total, int devices)
{
    PFN_cuMemAllocAsync_v11020 alloc = (PFN_cuMemAllocAsync_v11020)drv_fn("cuMemAllocAsync");
    PFN_cuMemAllocAsync_v11020_ptsz alloc_ptsz = (PFN_cuMemAllocAsync_v11020_ptsz)lookup(
        "cuMemAllocAsync", 13000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, CUDA_SUCCESS,
        CU_GET_PROC_ADDRESS_SUCCESS);
    PFN_cuMemFreeAsync_v11020 release = (PFN_cuMemFreeAsync_v11020)drv_fn("cuMemFreeAsync");
    PFN_cuMemAllocFromPoolAsync_v11020 from_pool =
        (PFN_cuMemAllocFromPoolAsync_v11020)drv_fn("cuMemAllocFromPoolAsync");
    PFN_cuDeviceGetDefaultMemPool_v11020 default_pool =
        (PFN_cuDeviceGetDefaultMemPool_v11020)drv_fn("cuDeviceGetDefaultMemPool");
    PFN_cuMemPoolCreate_v11020 pool_create = (PFN_cuMemPoolCreate_v11020)drv_fn("cuMemPoolCreate");
    PFN_cuMemPoolDestroy_v11020 pool_destroy =
        (PFN_cuMemPoolDestroy_v11020)drv_fn("cuMemPoolDestroy");
    PFN_cuMemPoolTrimTo_v11020 trim = (PFN_cuMemPoolTrimTo_v11020)drv_fn("cuMemPoolTrimTo");
    PFN_cuMemPoolGetAttribute_v11020 get_attr =
        (PFN_cuMemPoolGetAttribute_v11020)drv_fn("cuMemPoolGetAttribute");
    PFN_cuStreamCreate_v2000 stream_create = (PFN_cuStreamCreate_v2000)drv_fn("cuStreamCreate");
    PFN_cuStreamDestroy_v4000 stream_destroy =
        (PFN_cuStreamDestroy_v4000)drv_fn("cuStreamDestroy");

    CUmemoryPool def = NULL;
    CHECK_EQ(default_pool(&def, 0), CUDA_SUCCESS);
    CHECK_EQ(default_pool(&def, devices), CUDA_ERROR_INVALID_DEVICE);
    CUdeviceptr a = 0, b = 0;
    CHECK_EQ(alloc(&a, 1000, NULL), CUDA_SUCCESS);
    CHECK_EQ(alloc_ptsz(&b, 4096, CU_STREAM_PER_THREAD), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total - 1024 - 4096);
    CHECK_EQ(pool_attr(def, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 5120);
    CHECK_EQ(pool_attr(def, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 2 * MIB);
    CHECK_EQ(release(a, NULL), CUDA_SUCCESS);
    CHECK_EQ(release(b, CU_STREAM_LEGACY), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total);
    /* Freed memory stays reserved in the pool until trimmed. */
    CHECK_EQ(pool_attr(def, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 0);
    CHECK_EQ(pool_attr(def, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 2 * MIB);
    CHECK_EQ(pool_attr(def, CU_MEMPOOL_ATTR_USED_MEM_HIGH), 5120);
    CHECK_EQ(trim(def, 0), CUDA_SUCCESS);
    CHECK_EQ(pool_attr(def, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 0);
    CHECK_EQ(pool_attr(def, CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH), 2 * MIB);
    int threshold = 0;
    CHECK_EQ(get_attr(def, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &threshold),
             CUDA_ERROR_NOT_SUPPORTED);
    CHECK_EQ(pool_destroy(def), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(alloc(&a, 0, NULL), CUDA_ERROR_INVALID_VALUE);

    /* A created pool on the last device: charged there, reserved in 2 MiB chunks. */
    int last = devices - 1;
    CUmemPoolProps props;
    memset(&props, 0, sizeof props);
    props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
    props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    props.location.id = last;
    CUmemoryPool pool = NULL;
    CHECK_EQ(pool_create(&pool, &props), CUDA_SUCCESS);
    CHECK_EQ(from_pool(&a, 3 * MIB, pool, NULL), CUDA_SUCCESS);
    CHECK_EQ(from_pool(&b, 1000, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(pool_attr(pool, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 3 * MIB);
    CHECK_EQ(pool_attr(pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 4 * MIB);
    use_device(last);
    CHECK_EQ(dev_free(), total - 3 * MIB);
    CHECK_EQ(trim(pool, 1), CUDA_SUCCESS); /* cannot go below what is in use */
    CHECK_EQ(pool_attr(pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 4 * MIB);
    CHECK_EQ(release(a, NULL), CUDA_SUCCESS);
    CHECK_EQ(trim(pool, 1), CUDA_SUCCESS); /* keeps at least 1 byte: one chunk */
    CHECK_EQ(pool_attr(pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 2 * MIB);
    CHECK_EQ(trim(pool, 64 * MIB), CUDA_SUCCESS); /* holds less than that: no-op */
    CHECK_EQ(pool_attr(pool, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 2 * MIB);
    CHECK_EQ(pool_attr(pool, CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH), 4 * MIB);
    CHECK_EQ(dev_free(), total);

    /* A stream created here belongs to this device even when used from device 0; a pool
     * destroyed with memory in use keeps that memory until it is freed. */
    CUstream s = NULL;
    CHECK_EQ(stream_create(&s, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CHECK_EQ(stream_create(&s, 8), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(from_pool(&a, 1000, pool, s), CUDA_SUCCESS);
    CHECK_EQ(pool_destroy(pool), CUDA_SUCCESS);
    use_device(0);
    CHECK_EQ(alloc(&b, 1 * MIB, s), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), last == 0 ? total - 1024 - 1 * MIB : total);
    use_device(last);
    CHECK_EQ(dev_free(), total - 1024 - 1 * MIB);
    CHECK_EQ(release(a, s), CUDA_SUCCESS);
    CHECK_EQ(release(b, s), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total);
    CHECK_EQ(stream_destroy(s), CUDA_SUCCESS);
    CHECK_EQ(stream_destroy(NULL), CUDA_ERROR_INVALID_HANDLE);
    use_device(0);
    /* Give back the retains taken here, leaving device 0's one from check_contexts. */
    CHECK_EQ(ctx_release(last), CUDA_SUCCESS);
    CHECK_EQ(ctx_release(last), CUDA_SUCCESS);
    CHECK_EQ(ctx_release(0), CUDA_SUCCESS);
    CHECK_EQ(ctx_release(0), CUDA_SUCCESS);
}

/* Reset and the last release destroy the primary context's cuMemAlloc-family memory. */
static void check_teardown(size_t total)
{
    PFN_cuMemAlloc_v3020 alloc = (PFN_cuMemAlloc_v3020)drv_fn("cuMemAlloc");
    PFN_cuMemFree_v3020 release = (PFN_cuMemFree_v3020)drv_fn("cuMemFree");
    PFN_cuDevicePrimaryCtxReset_v11000 reset =
        (PFN_cuDevicePrimaryCtxReset_v11000)drv_fn("cuDevicePrimaryCtxReset");
    CUdeviceptr a = 0;
    CHECK_EQ(alloc(&a, 1 * MIB), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total - 1 * MIB);
    CHECK_EQ(reset(0), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total);
    CHECK_EQ(release(a), CUDA_ERROR_INVALID_VALUE); /* gone with the context */

    CHECK_EQ(alloc(&a, 1 * MIB), CUDA_SUCCESS);
    CHECK_EQ(ctx_release(0), CUDA_SUCCESS); /* the last retain: the context is destroyed */
    CHECK_EQ(alloc(&a, 1 * MIB), CUDA_ERROR_INVALID_CONTEXT);
    CHECK_EQ(ctx_release(0), CUDA_ERROR_INVALID_CONTEXT);
    use_device(0);
    CHECK_EQ(dev_free(), total);
}

/* Many threads through the same books: everything balances at the end. */
#define THREADS 8
#define ROUNDS 300

static void *worker(void *arg)
{
    CUcontext ctx = arg;
    PFN_cuCtxSetCurrent_v4000 set = ctx_set;
    PFN_cuMemAlloc_v3020 alloc = (PFN_cuMemAlloc_v3020)drv_fn("cuMemAlloc");
    PFN_cuMemFree_v3020 release = (PFN_cuMemFree_v3020)drv_fn("cuMemFree");
    PFN_cuMemCreate_v10020 create = (PFN_cuMemCreate_v10020)drv_fn("cuMemCreate");
    PFN_cuMemRelease_v10020 mem_release = (PFN_cuMemRelease_v10020)drv_fn("cuMemRelease");
    CUmemAllocationProp prop;
    memset(&prop, 0, sizeof prop);
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    CHECK_EQ(set(ctx), CUDA_SUCCESS);
    for (int i = 0; i < ROUNDS; i++) {
        CUdeviceptr p = 0;
        CUmemGenericAllocationHandle h = 0;
        CHECK_EQ(alloc(&p, 4096), CUDA_SUCCESS);
        CHECK_EQ(create(&h, 2 * MIB, &prop, 0), CUDA_SUCCESS);
        CHECK_EQ(release(p), CUDA_SUCCESS);
        CHECK_EQ(mem_release(h), CUDA_SUCCESS);
    }
    return NULL;
}

static void check_threads(size_t total)
{
    PFN_cuCtxGetCurrent_v4000 ctx_get = (PFN_cuCtxGetCurrent_v4000)drv_fn("cuCtxGetCurrent");
    CUcontext ctx = NULL;
    CHECK_EQ(ctx_get(&ctx), CUDA_SUCCESS);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        CHECK_EQ(pthread_create(&threads[t], NULL, worker, ctx), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    CHECK_EQ(dev_free(), total);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fakecuda_driver_selftest <total bytes> <devices>\n");
        return 2;
    }
    size_t total = (size_t)strtoull(argv[1], NULL, 10);
    int devices = atoi(argv[2]);

    driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (driver == NULL) {
        fprintf(stderr, "fakecuda_driver_selftest: %s\n", dlerror());
        return 1;
    }
    get_proc = (PFN_cuGetProcAddress_v12000)dlsym(driver, "cuGetProcAddress_v2");
    if (get_proc == NULL) {
        fprintf(stderr, "fakecuda_driver_selftest: no cuGetProcAddress_v2\n");
        return 1;
    }
    check_before_init();
    check_lookups();
    check_errors();
    check_devices(total, devices);
    check_contexts();
    check_mem_alloc(total);
    check_legacy(total);
    check_async(total, devices);
    check_teardown(total);
    check_vmm(total, devices);
    check_threads(total);
    if (check_failures != 0)
        return 1;
    printf("fakecuda_driver_selftest: ok\n");
    return 0;
}
