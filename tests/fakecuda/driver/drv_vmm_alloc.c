/* Fake libcuda: VMM physical memory (cuMemGetAllocationGranularity, cuMemCreate, cuMemRelease).
 *
 * Model, exactly (tests assert these numbers):
 *   - The granularity (minimum and recommended) is 2 MiB; cuMemCreate sizes must be a
 *     non-zero multiple of it, flags 0, prop a pinned allocation on a device location (host
 *     locations are not modelled: CUDA_ERROR_NOT_SUPPORTED).
 *   - cuMemCreate charges exactly `size` to prop->location.id, so it shows in cuMemGetInfo
 *     like cuMemAlloc memory; too little free memory is CUDA_ERROR_OUT_OF_MEMORY.
 *   - The handle is an opaque value: a counter | 0xC0DE000000000000, which is never a
 *     canonical x86-64 address, so tests can tell handles from device pointers.
 *   - cuMemRelease may come before cuMemUnmap (real CUDA allows it): the handle becomes unusable
 *     at once, but the memory stays charged until its last mapping is unmapped too. Releasing
 *     an unknown or already released handle is CUDA_ERROR_INVALID_VALUE (undefined in CUDA).
 * The bytes live in a memfd, so every mapping of one handle (drv_vmm_va.c) sees the same data. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drv_internal.h"

#define HANDLE_TAG 0xC0DE000000000000ull

pthread_mutex_t drv_vmm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct drv_vmm_alloc *allocs;
static unsigned long long next_handle = 1;

CUresult drv_vmm_check_prop(const CUmemAllocationProp *prop)
{
    if (prop == NULL || prop->type != CU_MEM_ALLOCATION_TYPE_PINNED)
        return CUDA_ERROR_INVALID_VALUE;
    if (prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
        return prop->location.type == CU_MEM_LOCATION_TYPE_INVALID ? CUDA_ERROR_INVALID_VALUE
                                                                   : CUDA_ERROR_NOT_SUPPORTED;
    return drv_valid_device(prop->location.id) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

CUresult CUDAAPI cuMemGetAllocationGranularity(size_t *granularity, const CUmemAllocationProp *prop,
                                               CUmemAllocationGranularity_flags option)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (granularity == NULL || (option != CU_MEM_ALLOC_GRANULARITY_MINIMUM &&
                                option != CU_MEM_ALLOC_GRANULARITY_RECOMMENDED))
        return CUDA_ERROR_INVALID_VALUE;
    CUresult err = drv_vmm_check_prop(prop);
    if (err == CUDA_SUCCESS)
        *granularity = DRV_PAGE;
    return err;
}

/* Caller holds drv_vmm_lock. */
struct drv_vmm_alloc *drv_vmm_find(CUmemGenericAllocationHandle handle)
{
    for (struct drv_vmm_alloc *a = allocs; a != NULL; a = a->next)
        if (a->handle == handle && !a->released)
            return a;
    return NULL;
}

/* Caller holds drv_vmm_lock; `alloc` is in the list and has no mappings left. */
static void destroy(struct drv_vmm_alloc *alloc)
{
    for (struct drv_vmm_alloc **link = &allocs; *link != NULL; link = &(*link)->next) {
        if (*link == alloc) {
            *link = alloc->next;
            break;
        }
    }
    close(alloc->fd);
    drv_uncharge(alloc->device, alloc->size);
    free(alloc);
}

void drv_vmm_unmapped(struct drv_vmm_alloc *alloc)
{
    alloc->maps--;
    if (alloc->maps == 0 && alloc->released)
        destroy(alloc);
}

CUresult CUDAAPI cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
                             const CUmemAllocationProp *prop, unsigned long long flags)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (handle == NULL || flags != 0 || size == 0 || size % DRV_PAGE != 0)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult err = drv_vmm_check_prop(prop);
    if (err != CUDA_SUCCESS)
        return err;
    int device = prop->location.id;
    if (!drv_charge(device, size))
        return CUDA_ERROR_OUT_OF_MEMORY;

    struct drv_vmm_alloc *alloc = malloc(sizeof *alloc);
    int fd = memfd_create("fakecuda-vmm", MFD_CLOEXEC);
    if (alloc == NULL || fd < 0 || ftruncate(fd, (off_t)size) != 0) {
        /* The host could not back it: report it as the device would, charge nothing. */
        free(alloc);
        if (fd >= 0)
            close(fd);
        drv_uncharge(device, size);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    alloc->size = size;
    alloc->device = device;
    alloc->fd = fd;
    alloc->maps = 0;
    alloc->released = 0;

    pthread_mutex_lock(&drv_vmm_lock);
    CUmemGenericAllocationHandle h = next_handle++ | HANDLE_TAG;
    alloc->handle = h;
    alloc->next = allocs;
    allocs = alloc;
    pthread_mutex_unlock(&drv_vmm_lock);

    *handle = h;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemRelease(CUmemGenericAllocationHandle handle)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    pthread_mutex_lock(&drv_vmm_lock);
    struct drv_vmm_alloc *alloc = drv_vmm_find(handle);
    if (alloc != NULL) {
        alloc->released = 1;
        if (alloc->maps == 0)
            destroy(alloc);
    }
    pthread_mutex_unlock(&drv_vmm_lock);
    return alloc != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
