/* vmm: takes device memory the way PyTorch's expandable segments do (c10's ExpandableSegment):
 * driver functions from cudaGetDriverEntryPointByVersion (version 12000, cudaEnableDefault,
 * like c10's DriverAPI), one large address reservation, and physical pages created, mapped and
 * made accessible one by one as the segment grows; shrinking unmaps and releases them. Plain C
 * against the toolkit headers, linked only with libcudart; an end-to-end test input for
 * gpuprof's driver-layer interception.
 *
 * Timeline (page = 20 MiB = 20,971,520 bytes, the large-segment page size; granularity 2 MiB):
 *   cudaSetDevice(0); the 8 driver functions by cudaGetDriverEntryPointByVersion
 *   cuMemAddressReserve 1 GiB (1,073,741,824 bytes) of address space: no physical memory
 *   grow_segment x5: cuMemCreate(20 MiB) + cuMemMap + cuMemSetAccess(read/write, device 0)
 *                                               physical live 104,857,600  <- PEAK
 *   cudaMemGetInfo (once, at the peak); cudaMemcpy host->device 4 KiB into each page and back
 *   shrink_segment pages 4, 3: cuMemUnmap + cuMemRelease    physical live  62,914,560
 *   shrink_segment pages 2, 1                                 physical live  20,971,520
 *   page 0 stays mapped and unreleased (the deliberate leak), so the reservation stays too.
 *
 * Exact numbers:
 *   physical peak: 104,857,600 bytes (5 x 20,971,520), all from grow_segment (5 cuMemCreate)
 *   address reservation: 1,073,741,824 bytes (1 cuMemAddressReserve, never freed)
 *   mapped at the peak: 104,857,600 bytes (5 cuMemMap)
 *   held at exit: 20,971,520 bytes of physical memory from grow_segment (1 handle, page 0),
 *     still mapped; plus the 1 GiB reservation
 *   calls: 5 cuMemCreate, 5 cuMemMap, 5 cuMemSetAccess, 4 cuMemUnmap, 4 cuMemRelease,
 *     1 cuMemAddressReserve, 0 cuMemAddressFree, 1 cuMemGetAllocationGranularity; no cudaMalloc
 *   under the fake (default 16G): cudaMemGetInfo at the peak = free 17,075,011,584 of
 *     17,179,869,184 total (the fake charges cuMemCreate sizes exactly)
 * Prints one line to stdout and returns 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cudaTypedefs.h>
#include <cuda_runtime_api.h>

#define MIB ((size_t)1 << 20)
#define PAGE (20 * MIB)
#define PAGES 5
#define RESERVE ((size_t)1 << 30)
#define PROBE 4096

#define CHECK_CUDA(call)                                                                     \
    do {                                                                                     \
        cudaError_t err_ = (call);                                                           \
        if (err_ != cudaSuccess) {                                                           \
            fprintf(stderr, "vmm: %s failed: %s\n", #call, cudaGetErrorString(err_));         \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

#define CHECK_CU(call)                                                                       \
    do {                                                                                     \
        CUresult res_ = (call);                                                              \
        if (res_ != CUDA_SUCCESS) {                                                          \
            fprintf(stderr, "vmm: %s failed: CUresult %d\n", #call, (int)res_);               \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

/* The driver functions, as c10's DriverAPI keeps them. */
static struct {
    PFN_cuMemAddressReserve_v10020 address_reserve;
    PFN_cuMemCreate_v10020 create;
    PFN_cuMemMap_v10020 map;
    PFN_cuMemSetAccess_v10020 set_access;
    PFN_cuMemUnmap_v10020 unmap;
    PFN_cuMemRelease_v10020 release;
    PFN_cuMemAddressFree_v10020 address_free;
    PFN_cuMemGetAllocationGranularity_v10020 granularity;
} drv;

static void *get_symbol(const char *name)
{
    void *fn = NULL;
    enum cudaDriverEntryPointQueryResult status = cudaDriverEntryPointSymbolNotFound;
    CHECK_CUDA(cudaGetDriverEntryPointByVersion(name, &fn, 12000, cudaEnableDefault, &status));
    if (status != cudaDriverEntryPointSuccess || fn == NULL) {
        fprintf(stderr, "vmm: driver function %s not available\n", name);
        exit(1);
    }
    return fn;
}

static void load_driver_api(void)
{
    drv.address_reserve = (PFN_cuMemAddressReserve_v10020)get_symbol("cuMemAddressReserve");
    drv.create = (PFN_cuMemCreate_v10020)get_symbol("cuMemCreate");
    drv.map = (PFN_cuMemMap_v10020)get_symbol("cuMemMap");
    drv.set_access = (PFN_cuMemSetAccess_v10020)get_symbol("cuMemSetAccess");
    drv.unmap = (PFN_cuMemUnmap_v10020)get_symbol("cuMemUnmap");
    drv.release = (PFN_cuMemRelease_v10020)get_symbol("cuMemRelease");
    drv.address_free = (PFN_cuMemAddressFree_v10020)get_symbol("cuMemAddressFree");
    drv.granularity =
        (PFN_cuMemGetAllocationGranularity_v10020)get_symbol("cuMemGetAllocationGranularity");
}

/* Physical bytes created and not yet released, now and at most, kept by the program itself so
 * its output can be compared with what the profiler reports. */
static size_t physical_live;
static size_t physical_peak;

/* Pinned device memory on device 0, as ExpandableSegment asks for it. */
static CUmemAllocationProp page_prop(void)
{
    CUmemAllocationProp prop;
    memset(&prop, 0, sizeof prop);
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    prop.location.id = 0;
    return prop;
}

/* One page more: physical memory, mapped at its slot, made read/write for device 0. */
static CUmemGenericAllocationHandle grow_segment(CUdeviceptr base, int page)
{
    CUmemAllocationProp prop = page_prop();
    CUmemGenericAllocationHandle handle = 0;
    CUdeviceptr at = base + (CUdeviceptr)page * PAGE;
    CHECK_CU(drv.create(&handle, PAGE, &prop, 0));
    physical_live += PAGE;
    if (physical_live > physical_peak)
        physical_peak = physical_live;
    CHECK_CU(drv.map(at, PAGE, 0, handle, 0));
    CUmemAccessDesc access;
    memset(&access, 0, sizeof access);
    access.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    access.location.id = 0;
    access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
    CHECK_CU(drv.set_access(at, PAGE, &access, 1));
    return handle;
}

/* One page less, in ExpandableSegment::unmapHandles' order: unmap, then release. */
static void shrink_segment(CUdeviceptr base, int page, CUmemGenericAllocationHandle handle)
{
    CHECK_CU(drv.unmap(base + (CUdeviceptr)page * PAGE, PAGE));
    CHECK_CU(drv.release(handle));
    physical_live -= PAGE;
}

/* Writes a distinct pattern to the start of each page and reads it back. */
static int touch_pages(CUdeviceptr base)
{
    static unsigned char out[PROBE], in[PROBE];
    int bad = 0;
    for (int page = 0; page < PAGES; page++) {
        void *at = (void *)(uintptr_t)(base + (CUdeviceptr)page * PAGE);
        memset(out, 0xA0 + page, sizeof out);
        memset(in, 0, sizeof in);
        CHECK_CUDA(cudaMemcpy(at, out, PROBE, cudaMemcpyHostToDevice));
        CHECK_CUDA(cudaMemcpy(in, at, PROBE, cudaMemcpyDeviceToHost));
        bad += memcmp(in, out, PROBE) != 0;
    }
    return bad;
}

int main(void)
{
    CHECK_CUDA(cudaSetDevice(0));
    load_driver_api();

    CUmemAllocationProp prop = page_prop();
    size_t granularity = 0;
    CHECK_CU(drv.granularity(&granularity, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED));
    if (PAGE % granularity != 0 || RESERVE % granularity != 0) {
        fprintf(stderr, "vmm: granularity %zu does not divide the page size\n", granularity);
        return 1;
    }

    CUdeviceptr base = 0;
    CHECK_CU(drv.address_reserve(&base, RESERVE, 0, 0, 0));
    CUmemGenericAllocationHandle handles[PAGES];
    for (int page = 0; page < PAGES; page++)
        handles[page] = grow_segment(base, page);

    size_t free_bytes = 0, total_bytes = 0;
    CHECK_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes));
    size_t used_at_peak = total_bytes - free_bytes;
    if (touch_pages(base) != 0) {
        fprintf(stderr, "vmm: data read back differs from what was written\n");
        return 1;
    }

    for (int page = PAGES - 1; page >= 3; page--)
        shrink_segment(base, page, handles[page]);
    for (int page = 2; page >= 1; page--)
        shrink_segment(base, page, handles[page]);
    (void)drv.address_free; /* page 0 is still mapped: the reservation stays with it */

    printf("vmm: reserved %zu bytes, physical peak %zu bytes (%d x %zu), cudaMemGetInfo %zu "
           "of %zu bytes used at the peak, %zu bytes held at exit by grow_segment\n",
           RESERVE, physical_peak, PAGES, PAGE, used_at_peak, total_bytes, physical_live);
    return 0;
}
