/* Fake libcuda: the map of live cuMemAlloc-family allocations (pointer -> mapping length,
 * charge, device, kind, pool) and the bytes charged to each device, behind one mutex.
 *
 * Memory is real host memory from mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE) so copies and
 * memsets work, while pages nobody touches cost nothing: a test can "allocate" 16 GiB.
 * The charge is taken before mapping, under the lock, so two threads can never both fit into
 * the last free bytes; the mmap itself runs outside the lock to keep many_threads-style
 * workloads from serialising on the kernel. VMM physical memory is charged here too
 * (drv_charge), but its mappings are drv_vmm_*.c's business. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "drv_internal.h"

struct live_alloc {
    void *ptr;
    size_t map_len;
    size_t charge;
    int device;
    enum drv_kind kind;
    struct CUmemPoolHandle_st *pool;
    struct live_alloc *next;
};

/* Fixed bucket count: the fake serves tests, whose live sets stay far below this. */
#define BUCKETS 16384u

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live_alloc *buckets[BUCKETS];
static size_t charged[DRV_MAX_DEVICES];

static size_t bucket_of(const void *ptr)
{
    /* mmap returns page-aligned addresses: drop the always-zero low bits before mixing. */
    uint64_t key = (uint64_t)(uintptr_t)ptr >> 12;
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) % BUCKETS;
}

int drv_charge(int device, size_t bytes)
{
    size_t total = drv_device_mem();
    pthread_mutex_lock(&registry_lock);
    int fits = bytes <= total - charged[device];
    if (fits)
        charged[device] += bytes;
    pthread_mutex_unlock(&registry_lock);
    return fits;
}

void drv_uncharge(int device, size_t bytes)
{
    pthread_mutex_lock(&registry_lock);
    charged[device] -= bytes;
    pthread_mutex_unlock(&registry_lock);
}

size_t drv_charged(int device)
{
    pthread_mutex_lock(&registry_lock);
    size_t bytes = charged[device];
    pthread_mutex_unlock(&registry_lock);
    return bytes;
}

/* MAP_32BIT (x86-64) keeps legacy allocations addressable by a 32-bit CUdeviceptr_v1. */
static void *map_memory(size_t len, enum drv_placement where)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (where == DRV_LOW_32BIT) {
#ifdef MAP_32BIT
        flags |= MAP_32BIT;
#else
        return MAP_FAILED;
#endif
    }
    return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
}

CUresult drv_reserve(int device, size_t charge, size_t map_len, enum drv_kind kind,
                     struct CUmemPoolHandle_st *pool, enum drv_placement where, void **out)
{
    *out = NULL;
    if (!drv_charge(device, charge))
        return CUDA_ERROR_OUT_OF_MEMORY;

    struct live_alloc *node = malloc(sizeof *node);
    void *mem = map_memory(map_len, where);
    if (node == NULL || mem == MAP_FAILED) {
        /* The host ran out of address space: report it as the device would, charge nothing. */
        free(node);
        if (mem != MAP_FAILED)
            munmap(mem, map_len);
        drv_uncharge(device, charge);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    node->ptr = mem;
    node->map_len = map_len;
    node->charge = charge;
    node->device = device;
    node->kind = kind;
    node->pool = pool;
    if (pool != NULL)
        drv_pool_add(pool, charge);

    size_t b = bucket_of(mem);
    pthread_mutex_lock(&registry_lock);
    node->next = buckets[b];
    buckets[b] = node;
    pthread_mutex_unlock(&registry_lock);

    *out = mem;
    return CUDA_SUCCESS;
}

static void destroy(struct live_alloc *node)
{
    if (node->pool != NULL)
        drv_pool_remove(node->pool, node->charge);
    munmap(node->ptr, node->map_len);
    free(node);
}

CUresult drv_release(void *ptr, unsigned kind_mask)
{
    struct live_alloc *found = NULL;
    size_t b = bucket_of(ptr);

    pthread_mutex_lock(&registry_lock);
    for (struct live_alloc **link = &buckets[b]; *link != NULL; link = &(*link)->next) {
        struct live_alloc *node = *link;
        if (node->ptr != ptr)
            continue;
        if (kind_mask & DRV_KIND_BIT(node->kind)) {
            *link = node->next;
            charged[node->device] -= node->charge;
            found = node;
        }
        break;
    }
    pthread_mutex_unlock(&registry_lock);

    if (found == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    destroy(found);
    return CUDA_SUCCESS;
}

void drv_release_device(int device)
{
    struct live_alloc *doomed = NULL;

    pthread_mutex_lock(&registry_lock);
    for (size_t b = 0; b < BUCKETS; b++) {
        struct live_alloc **link = &buckets[b];
        while (*link != NULL) {
            struct live_alloc *node = *link;
            if (node->device != device) {
                link = &node->next;
                continue;
            }
            *link = node->next;
            charged[device] -= node->charge;
            node->next = doomed;
            doomed = node;
        }
    }
    pthread_mutex_unlock(&registry_lock);

    while (doomed != NULL) {
        struct live_alloc *next = doomed->next;
        destroy(doomed);
        doomed = next;
    }
}
