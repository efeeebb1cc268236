/* fakecuda_driver_selftest, part two: the VMM API round trip with exact cuMemGetInfo numbers
 * (physical memory charged from cuMemCreate until released *and* unmapped; reservations never
 * charged) and the error codes for what a VMM user can get wrong. See driver/drv_vmm_*.c. */
#include <stdint.h>
#include <string.h>

#include <cudaTypedefs.h>

#include "driver_selftest.h"

static PFN_cuMemCreate_v10020 create;
static PFN_cuMemRelease_v10020 release;
static PFN_cuMemAddressReserve_v10020 reserve;
static PFN_cuMemAddressFree_v10020 address_free;
static PFN_cuMemMap_v10020 map;
static PFN_cuMemUnmap_v10020 unmap;
static PFN_cuMemSetAccess_v10020 set_access;

static void fetch(void)
{
    create = (PFN_cuMemCreate_v10020)drv_fn("cuMemCreate");
    release = (PFN_cuMemRelease_v10020)drv_fn("cuMemRelease");
    reserve = (PFN_cuMemAddressReserve_v10020)drv_fn("cuMemAddressReserve");
    address_free = (PFN_cuMemAddressFree_v10020)drv_fn("cuMemAddressFree");
    map = (PFN_cuMemMap_v10020)drv_fn("cuMemMap");
    unmap = (PFN_cuMemUnmap_v10020)drv_fn("cuMemUnmap");
    set_access = (PFN_cuMemSetAccess_v10020)drv_fn("cuMemSetAccess");
}

static CUmemAllocationProp device_prop(int device)
{
    CUmemAllocationProp prop;
    memset(&prop, 0, sizeof prop);
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    prop.location.id = device;
    return prop;
}

static CUresult grant(CUdeviceptr ptr, size_t size, int device, CUmemAccess_flags flags)
{
    CUmemAccessDesc desc;
    memset(&desc, 0, sizeof desc);
    desc.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    desc.location.id = device;
    desc.flags = flags;
    return set_access(ptr, size, &desc, 1);
}

static void check_granularity(int devices)
{
    PFN_cuMemGetAllocationGranularity_v10020 gran =
        (PFN_cuMemGetAllocationGranularity_v10020)drv_fn("cuMemGetAllocationGranularity");
    CUmemAllocationProp prop = device_prop(0);
    size_t g = 0;
    CHECK_EQ(gran(&g, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM), CUDA_SUCCESS);
    CHECK_EQ(g, 2 * MIB);
    g = 0;
    CHECK_EQ(gran(&g, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED), CUDA_SUCCESS);
    CHECK_EQ(g, 2 * MIB);
    CHECK_EQ(gran(&g, &prop, (CUmemAllocationGranularity_flags)7), CUDA_ERROR_INVALID_VALUE);
    prop.location.id = devices;
    CHECK_EQ(gran(&g, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM), CUDA_ERROR_INVALID_DEVICE);
    prop = device_prop(0);
    prop.type = CU_MEM_ALLOCATION_TYPE_INVALID;
    CHECK_EQ(gran(&g, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM), CUDA_ERROR_INVALID_VALUE);
    prop = device_prop(0);
    prop.location.type = CU_MEM_LOCATION_TYPE_HOST;
    CHECK_EQ(gran(&g, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM), CUDA_ERROR_NOT_SUPPORTED);
}

static void check_create(size_t total, int devices)
{
    CUmemAllocationProp prop = device_prop(0);
    CUmemGenericAllocationHandle h = 0;
    CHECK_EQ(create(&h, 3 * MIB, &prop, 0), CUDA_ERROR_INVALID_VALUE); /* not a granule multiple */
    CHECK_EQ(create(&h, 0, &prop, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(create(&h, 2 * MIB, &prop, 1), CUDA_ERROR_INVALID_VALUE);
    size_t too_big = (total / (2 * MIB) + 1) * (2 * MIB);
    CHECK_EQ(create(&h, too_big, &prop, 0), CUDA_ERROR_OUT_OF_MEMORY);
    CHECK_EQ(dev_free(), total);
    prop.location.id = devices;
    CHECK_EQ(create(&h, 2 * MIB, &prop, 0), CUDA_ERROR_INVALID_DEVICE);

    /* Charged to its own device; handles are not addresses. */
    prop = device_prop(devices - 1);
    CHECK_EQ(create(&h, 6 * MIB, &prop, 0), CUDA_SUCCESS);
    CHECK_EQ(h >> 48, 0xC0DE);
    CHECK_EQ(dev_free(), devices > 1 ? total : total - 6 * MIB);
    CHECK_EQ(release(h), CUDA_SUCCESS);
    CHECK_EQ(release(h), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(release(0), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(dev_free(), total);
}

static void check_round_trip(size_t total)
{
    CUmemAllocationProp prop = device_prop(0);
    CUmemGenericAllocationHandle h = 0, other = 0;
    CUdeviceptr base = 0;

    CHECK_EQ(reserve(&base, 64 * MIB, 0, 0, 0), CUDA_SUCCESS);
    CHECK(base != 0);
    CHECK_EQ(base % (2 * MIB), 0);
    CHECK_EQ(dev_free(), total); /* address space costs no device memory */
    CHECK_EQ(create(&h, 4 * MIB, &prop, 0), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total - 4 * MIB);

    /* What a mapping must respect. */
    CHECK_EQ(map(base + 64 * MIB, 4 * MIB, 0, h, 0), CUDA_ERROR_INVALID_VALUE); /* outside */
    CHECK_EQ(map(base + 62 * MIB, 4 * MIB, 0, h, 0), CUDA_ERROR_INVALID_VALUE); /* straddles */
    CHECK_EQ(map(base, 4 * MIB, 2 * MIB, h, 0), CUDA_ERROR_INVALID_VALUE);      /* offset */
    CHECK_EQ(map(base, 8 * MIB, 0, h, 0), CUDA_ERROR_INVALID_VALUE);     /* beyond handle */
    CHECK_EQ(map(base + 4096, 4 * MIB, 0, h, 0), CUDA_ERROR_INVALID_VALUE); /* unaligned */
    CHECK_EQ(map(base, 4 * MIB, 0, 0xC0DE0000DEADBEEFull, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(map(base, 4 * MIB, 0, h, 1), CUDA_ERROR_INVALID_VALUE); /* flags */

    CHECK_EQ(map(base, 4 * MIB, 0, h, 0), CUDA_SUCCESS);
    CHECK_EQ(map(base + 2 * MIB, 2 * MIB, 0, h, 0), CUDA_ERROR_INVALID_VALUE); /* overlap */
    CHECK_EQ(dev_free(), total - 4 * MIB); /* mapping charges nothing more */
    CHECK_EQ(grant(base, 2 * MIB, 0, CU_MEM_ACCESS_FLAGS_PROT_READWRITE),
             CUDA_ERROR_INVALID_VALUE); /* part of a mapping */
    CHECK_EQ(grant(base, 4 * MIB, 5, CU_MEM_ACCESS_FLAGS_PROT_READWRITE),
             CUDA_ERROR_INVALID_DEVICE);
    CHECK_EQ(grant(base, 4 * MIB, 0, CU_MEM_ACCESS_FLAGS_PROT_READWRITE), CUDA_SUCCESS);
    memset((void *)(uintptr_t)base, 0x11, 4 * MIB);

    /* A second mapping of the same handle sees the same bytes. */
    CUdeviceptr alias = base + 8 * MIB;
    CHECK_EQ(map(alias, 4 * MIB, 0, h, 0), CUDA_SUCCESS);
    CHECK_EQ(grant(alias, 4 * MIB, 0, CU_MEM_ACCESS_FLAGS_PROT_READ), CUDA_SUCCESS);
    ((unsigned char *)(uintptr_t)base)[12345] = 0x77;
    CHECK_EQ(((unsigned char *)(uintptr_t)alias)[12345], 0x77);
    CHECK_EQ(((unsigned char *)(uintptr_t)alias)[4 * MIB - 1], 0x11);

    /* Release while mapped: allowed, the memory stays until the last unmap. */
    CHECK_EQ(unmap(base, 2 * MIB), CUDA_ERROR_INVALID_VALUE); /* sub-range */
    CHECK_EQ(release(h), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total - 4 * MIB);
    CHECK_EQ(map(base + 16 * MIB, 4 * MIB, 0, h, 0), CUDA_ERROR_INVALID_VALUE); /* released */
    CHECK_EQ(unmap(base, 4 * MIB), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total - 4 * MIB);
    CHECK_EQ(unmap(base, 4 * MIB), CUDA_ERROR_INVALID_VALUE); /* nothing mapped there now */
    CHECK_EQ(unmap(alias, 4 * MIB), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total);

    /* One unmap may take several adjacent mappings; the range must be free of holes. */
    CHECK_EQ(create(&h, 2 * MIB, &prop, 0), CUDA_SUCCESS);
    CHECK_EQ(create(&other, 2 * MIB, &prop, 0), CUDA_SUCCESS);
    CHECK_EQ(map(base, 2 * MIB, 0, h, 0), CUDA_SUCCESS);
    CHECK_EQ(map(base + 2 * MIB, 2 * MIB, 0, other, 0), CUDA_SUCCESS);
    CHECK_EQ(grant(base, 4 * MIB, 0, CU_MEM_ACCESS_FLAGS_PROT_READWRITE), CUDA_SUCCESS);
    CHECK_EQ(unmap(base, 6 * MIB), CUDA_ERROR_INVALID_VALUE); /* a hole at the end */
    CHECK_EQ(dev_free(), total - 4 * MIB);
    CHECK_EQ(address_free(base, 64 * MIB), CUDA_ERROR_INVALID_VALUE); /* still mapped */
    CHECK_EQ(unmap(base, 4 * MIB), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total - 4 * MIB); /* unmapped but not released */
    CHECK_EQ(release(h), CUDA_SUCCESS);
    CHECK_EQ(release(other), CUDA_SUCCESS);
    CHECK_EQ(dev_free(), total);

    /* The range can be mapped again after unmapping. */
    CHECK_EQ(create(&h, 2 * MIB, &prop, 0), CUDA_SUCCESS);
    CHECK_EQ(map(base, 2 * MIB, 0, h, 0), CUDA_SUCCESS);
    CHECK_EQ(grant(base, 2 * MIB, 0, CU_MEM_ACCESS_FLAGS_PROT_READWRITE), CUDA_SUCCESS);
    CHECK_EQ(((unsigned char *)(uintptr_t)base)[0], 0); /* fresh memory, not the old bytes */
    CHECK_EQ(unmap(base, 2 * MIB), CUDA_SUCCESS);
    CHECK_EQ(release(h), CUDA_SUCCESS);

    CHECK_EQ(address_free(base, 32 * MIB), CUDA_ERROR_INVALID_VALUE); /* size must match */
    CHECK_EQ(address_free(base, 64 * MIB), CUDA_SUCCESS);
    CHECK_EQ(address_free(base, 64 * MIB), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(dev_free(), total);
}

static void check_reserve_args(size_t total)
{
    CUdeviceptr p = 0;
    CHECK_EQ(reserve(&p, 0, 0, 0, 0), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(reserve(&p, 2 * MIB, 3, 0, 0), CUDA_ERROR_INVALID_VALUE); /* not a power of two */
    CHECK_EQ(reserve(&p, 2 * MIB, 0, 0, 1), CUDA_ERROR_INVALID_VALUE);
    CHECK_EQ(reserve(NULL, 2 * MIB, 0, 0, 0), CUDA_ERROR_INVALID_VALUE);
    /* A large alignment is honoured; 64 GiB of address space (more than the device has, as
     * PyTorch reserves) costs no memory. Not larger: sanitizer runtimes fence the address
     * space in. */
    CHECK_EQ(reserve(&p, (size_t)64 << 30, (size_t)1 << 30, 0, 0), CUDA_SUCCESS);
    CHECK_EQ(p % ((size_t)1 << 30), 0);
    CHECK_EQ(dev_free(), total);
    CHECK_EQ(address_free(p, (size_t)64 << 30), CUDA_SUCCESS);
}

void check_vmm(size_t total, int devices)
{
    fetch();
    check_granularity(devices);
    check_create(total, devices);
    check_round_trip(total);
    check_reserve_args(total);
}
