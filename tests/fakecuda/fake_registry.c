/* Fake libcudart: the map of live allocations (pointer -> mapping length, charge, device, kind)
 * and the bytes charged to each device, behind one mutex.
 *
 * Memory is real host memory from mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE) so copies and
 * memsets work, while pages nobody touches cost nothing: a test can "allocate" 16 GiB.
 * The charge is taken before mapping, under the lock, so two threads can never both fit into
 * the last free bytes; the mmap itself runs outside the lock to keep many_threads-style
 * workloads from serialising on the kernel. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fake_internal.h"

struct live_alloc {
    void *ptr;
    size_t map_len;
    size_t charge;
    int device;
    enum fake_kind kind;
    struct live_alloc *next;
};

/* Fixed bucket count: the fake serves tests, whose live sets stay far below this. */
#define BUCKETS 16384u

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live_alloc *buckets[BUCKETS];
static size_t charged[FAKE_MAX_DEVICES];

static size_t bucket_of(const void *ptr)
{
    /* mmap returns page-aligned addresses: drop the always-zero low bits before mixing. */
    uint64_t key = (uint64_t)(uintptr_t)ptr >> 12;
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) % BUCKETS;
}

static void uncharge(int device, size_t charge)
{
    pthread_mutex_lock(&registry_lock);
    charged[device] -= charge;
    pthread_mutex_unlock(&registry_lock);
}

cudaError_t fake_reserve(int device, size_t charge, size_t map_len, enum fake_kind kind,
                         void **out)
{
    *out = NULL;
    size_t total = fake_device_mem();

    pthread_mutex_lock(&registry_lock);
    int fits = charge <= total - charged[device];
    if (fits)
        charged[device] += charge;
    pthread_mutex_unlock(&registry_lock);
    if (!fits)
        return cudaErrorMemoryAllocation;

    struct live_alloc *node = malloc(sizeof *node);
    void *mem = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (node == NULL || mem == MAP_FAILED) {
        /* The host ran out of address space: report it as the device would, charge nothing. */
        free(node);
        if (mem != MAP_FAILED)
            munmap(mem, map_len);
        uncharge(device, charge);
        return cudaErrorMemoryAllocation;
    }
    node->ptr = mem;
    node->map_len = map_len;
    node->charge = charge;
    node->device = device;
    node->kind = kind;

    size_t b = bucket_of(mem);
    pthread_mutex_lock(&registry_lock);
    node->next = buckets[b];
    buckets[b] = node;
    pthread_mutex_unlock(&registry_lock);

    *out = mem;
    return cudaSuccess;
}

cudaError_t fake_release(void *ptr, unsigned kind_mask)
{
    struct live_alloc *found = NULL;
    size_t b = bucket_of(ptr);

    pthread_mutex_lock(&registry_lock);
    for (struct live_alloc **link = &buckets[b]; *link != NULL; link = &(*link)->next) {
        struct live_alloc *node = *link;
        if (node->ptr != ptr)
            continue;
        if (kind_mask & FAKE_KIND_BIT(node->kind)) {
            *link = node->next;
            charged[node->device] -= node->charge;
            found = node;
        }
        break;
    }
    pthread_mutex_unlock(&registry_lock);

    if (found == NULL)
        return cudaErrorInvalidValue;
    munmap(found->ptr, found->map_len);
    free(found);
    return cudaSuccess;
}

void fake_release_device(int device)
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
        munmap(doomed->ptr, doomed->map_len);
        free(doomed);
        doomed = next;
    }
}

size_t fake_charged(int device)
{
    pthread_mutex_lock(&registry_lock);
    size_t bytes = charged[device];
    pthread_mutex_unlock(&registry_lock);
    return bytes;
}
