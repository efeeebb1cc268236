/* Fake libcuda: VMM virtual address ranges (cuMemAddressReserve, cuMemAddressFree, cuMemMap,
 * cuMemUnmap, cuMemSetAccess).
 *
 * Model, exactly (tests assert these numbers and codes):
 *   - A reservation is host address space mapped PROT_NONE with MAP_NORESERVE: it costs no
 *     device memory and is not charged. Size must be a non-zero multiple of the host page,
 *     alignment 0 (meaning 2 MiB) or a power of two, flags 0; `addr` is only a hint.
 *   - cuMemAddressFree needs the exact (ptr, size) cuMemAddressReserve returned and no mapping
 *     left inside; otherwise CUDA_ERROR_INVALID_VALUE. (CUDA documents the first rule; the second
 *     is the fake's choice where CUDA is silent.)
 *   - cuMemMap maps a handle's bytes (offset must be 0, as CUDA requires today; ptr and size
 *     multiples of 2 MiB, size no more than the handle's) at a range that lies inside one
 *     reservation and overlaps no existing mapping; otherwise CUDA_ERROR_INVALID_VALUE. Like real
 *     CUDA the new mapping is not accessible until cuMemSetAccess; mapping charges nothing more.
 *   - cuMemUnmap and cuMemSetAccess take a range made of whole mappings (no sub-range of one,
 *     no hole); otherwise CUDA_ERROR_INVALID_VALUE. Unmapping turns the range back into
 *     reservation and frees the physical memory of released handles with no mapping left.
 *   - cuMemSetAccess applies the most permissive flags among the descriptors to the host
 *     mapping (READWRITE: read/write, READ: read-only, PROT_NONE: no access), so cudaMemcpy and
 *     plain memcpy work exactly when a device would be allowed to.
 * All of it is guarded by drv_vmm_lock (drv_vmm_alloc.c). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drv_internal.h"

struct mapping {
    uintptr_t addr;
    size_t size;
    struct drv_vmm_alloc *alloc;
    struct mapping *next;
};

struct reservation {
    uintptr_t base;
    size_t size;
    struct mapping *maps;
    struct reservation *next;
};

static struct reservation *reservations;

/* Caller holds drv_vmm_lock. The reservation holding all of [addr, addr + size), or NULL. */
static struct reservation *find_reservation(uintptr_t addr, size_t size)
{
    for (struct reservation *r = reservations; r != NULL; r = r->next)
        if (addr >= r->base && size <= r->size && addr - r->base <= r->size - size)
            return r;
    return NULL;
}

/* Caller holds drv_vmm_lock. Whether [addr, addr + size) is exactly a run of whole mappings. */
static int whole_mappings(const struct reservation *r, uintptr_t addr, size_t size)
{
    size_t covered = 0;
    for (const struct mapping *m = r->maps; m != NULL; m = m->next) {
        uintptr_t end = m->addr + m->size;
        if (end <= addr || m->addr >= addr + size)
            continue;
        if (m->addr < addr || end > addr + size)
            return 0; /* partly inside */
        covered += m->size;
    }
    return covered == size;
}

static int overlaps_mapping(const struct reservation *r, uintptr_t addr, size_t size)
{
    for (const struct mapping *m = r->maps; m != NULL; m = m->next)
        if (m->addr < addr + size && addr < m->addr + m->size)
            return 1;
    return 0;
}

static int power_of_two(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Maps `size` bytes of inaccessible address space aligned to `align`, near `hint` if it is free
 * and suitably aligned: over-reserve, then trim both ends. */
static void *map_reserved(size_t size, size_t align, uintptr_t hint)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (hint != 0 && hint % align == 0) {
        void *p = mmap((void *)hint, size, PROT_NONE, flags | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != MAP_FAILED)
            return p;
    }
    if (size > SIZE_MAX - align)
        return MAP_FAILED;
    char *raw = mmap(NULL, size + align, PROT_NONE, flags, -1, 0);
    if (raw == MAP_FAILED)
        return MAP_FAILED;
    uintptr_t start = ((uintptr_t)raw + align - 1) / align * align;
    size_t head = start - (uintptr_t)raw;
    if (head > 0)
        munmap(raw, head);
    if (align - head > 0)
        munmap((char *)start + size, align - head);
    return (void *)start;
}

CUresult CUDAAPI cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t alignment,
                                     CUdeviceptr addr, unsigned long long flags)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    size_t host_page = (size_t)sysconf(_SC_PAGESIZE);
    if (ptr == NULL || flags != 0 || size == 0 || size % host_page != 0 ||
        addr % host_page != 0 || (alignment != 0 && !power_of_two(alignment)))
        return CUDA_ERROR_INVALID_VALUE;
    size_t align = alignment == 0 ? DRV_PAGE : alignment;
    if (align < host_page)
        align = host_page;

    struct reservation *r = malloc(sizeof *r);
    void *base = r != NULL ? map_reserved(size, align, (uintptr_t)addr) : MAP_FAILED;
    if (base == MAP_FAILED) {
        free(r);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    r->base = (uintptr_t)base;
    r->size = size;
    r->maps = NULL;
    pthread_mutex_lock(&drv_vmm_lock);
    r->next = reservations;
    reservations = r;
    pthread_mutex_unlock(&drv_vmm_lock);
    *ptr = (CUdeviceptr)r->base;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAddressFree(CUdeviceptr ptr, size_t size)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    struct reservation *found = NULL;
    pthread_mutex_lock(&drv_vmm_lock);
    for (struct reservation **link = &reservations; *link != NULL; link = &(*link)->next) {
        struct reservation *r = *link;
        if (r->base == ptr && r->size == size && r->maps == NULL) {
            *link = r->next;
            found = r;
            break;
        }
    }
    pthread_mutex_unlock(&drv_vmm_lock);
    if (found == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    munmap((void *)found->base, found->size);
    free(found);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemMap(CUdeviceptr ptr, size_t size, size_t offset,
                          CUmemGenericAllocationHandle handle, unsigned long long flags)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (flags != 0 || offset != 0 || size == 0 || ptr % DRV_PAGE != 0 || size % DRV_PAGE != 0)
        return CUDA_ERROR_INVALID_VALUE;
    struct mapping *m = malloc(sizeof *m);
    if (m == NULL)
        return CUDA_ERROR_OUT_OF_MEMORY;

    CUresult err = CUDA_SUCCESS;
    pthread_mutex_lock(&drv_vmm_lock);
    struct drv_vmm_alloc *alloc = drv_vmm_find(handle);
    struct reservation *r = find_reservation((uintptr_t)ptr, size);
    if (alloc == NULL || size > alloc->size || r == NULL || overlaps_mapping(r, ptr, size))
        err = CUDA_ERROR_INVALID_VALUE;
    else if (mmap((void *)(uintptr_t)ptr, size, PROT_NONE, MAP_SHARED | MAP_FIXED, alloc->fd, 0) ==
             MAP_FAILED)
        err = CUDA_ERROR_OUT_OF_MEMORY;
    if (err == CUDA_SUCCESS) {
        m->addr = (uintptr_t)ptr;
        m->size = size;
        m->alloc = alloc;
        m->next = r->maps;
        r->maps = m;
        alloc->maps++;
    }
    pthread_mutex_unlock(&drv_vmm_lock);
    if (err != CUDA_SUCCESS)
        free(m);
    return err;
}

CUresult CUDAAPI cuMemUnmap(CUdeviceptr ptr, size_t size)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    CUresult err = CUDA_ERROR_INVALID_VALUE;
    struct mapping *doomed = NULL;
    pthread_mutex_lock(&drv_vmm_lock);
    struct reservation *r = size != 0 ? find_reservation((uintptr_t)ptr, size) : NULL;
    if (r != NULL && whole_mappings(r, (uintptr_t)ptr, size)) {
        /* Back to inaccessible reservation in one step, so the range is never unmapped and
         * nothing else in the process can land in it. */
        mmap((void *)(uintptr_t)ptr, size, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        struct mapping **link = &r->maps;
        while (*link != NULL) {
            struct mapping *m = *link;
            if (m->addr >= ptr && m->addr < ptr + size) {
                *link = m->next;
                drv_vmm_unmapped(m->alloc);
                m->next = doomed;
                doomed = m;
            } else {
                link = &m->next;
            }
        }
        err = CUDA_SUCCESS;
    }
    pthread_mutex_unlock(&drv_vmm_lock);
    while (doomed != NULL) {
        struct mapping *next = doomed->next;
        free(doomed);
        doomed = next;
    }
    return err;
}

static int host_protection(CUmemAccess_flags flags)
{
    switch (flags) {
    case CU_MEM_ACCESS_FLAGS_PROT_READWRITE: return PROT_READ | PROT_WRITE;
    case CU_MEM_ACCESS_FLAGS_PROT_READ: return PROT_READ;
    default: return PROT_NONE;
    }
}

CUresult CUDAAPI cuMemSetAccess(CUdeviceptr ptr, size_t size, const CUmemAccessDesc *desc,
                                size_t count)
{
    if (!drv_initialized())
        return CUDA_ERROR_NOT_INITIALIZED;
    if (desc == NULL || count == 0 || size == 0)
        return CUDA_ERROR_INVALID_VALUE;
    int prot = PROT_NONE;
    for (size_t i = 0; i < count; i++) {
        if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE)
            return CUDA_ERROR_INVALID_VALUE;
        if (!drv_valid_device(desc[i].location.id))
            return CUDA_ERROR_INVALID_DEVICE;
        if (desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_NONE &&
            desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_READ &&
            desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
            return CUDA_ERROR_INVALID_VALUE;
        prot |= host_protection(desc[i].flags);
    }
    CUresult err = CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&drv_vmm_lock);
    struct reservation *r = find_reservation((uintptr_t)ptr, size);
    if (r != NULL && whole_mappings(r, (uintptr_t)ptr, size) &&
        mprotect((void *)(uintptr_t)ptr, size, prot) == 0)
        err = CUDA_SUCCESS;
    pthread_mutex_unlock(&drv_vmm_lock);
    return err;
}
