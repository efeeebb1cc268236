/* record.c — the event API every hook calls: fill one queue slot on the program's
 * thread (time, thread, stack, the call's fields) and hand it to the writer. Nothing
 * here touches the disk, takes a lock or allocates. */
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gp_cupti.h"
#include "internal.h"
#include "stack.h"
#include "stack_python.h"

GP_TLS int gp_shim_in_hook;
GP_TLS unsigned gp_shim_lib_depth; /* hooks_blas.c and hooks_dnn.c: internal.h */
static GP_TLS uint32_t gp_tid_cache;

uint64_t gp_shim_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t gp_shim_tid(void)
{
    if (GP_UNLIKELY(gp_tid_cache == 0))
        gp_tid_cache = (uint32_t)syscall(SYS_gettid);
    return gp_tid_cache;
}

/* A forked child has the parent's thread id cached: forget it. */
void gp_shim_forget_tid(void);
void gp_shim_forget_tid(void) { gp_tid_cache = 0; }

/* The queue is full. When the writer is merely short of CPU (more busy threads than
 * cores) it is still consuming, and stepping aside for a moment loses nothing. When it
 * is stuck (a slow or full disk) the head stops moving: after GP_STALL_NS without
 * progress the event is dropped and counted, and later events are dropped at once until
 * the writer moves again. So the program never waits on the disk for more than one
 * short stall per episode. */
#define GP_STALL_NS 1000000000ull /* 1 s: a writer short of CPU, or a slot held by a preempted thread, is not stuck */
static _Atomic uint64_t gp_stalled_at = UINT64_MAX; /* head value when a stall was declared */

static struct gp_event *gp_claim_slow(struct gp_queue *q)
{
    uint64_t head = gp_queue_consumed(q);
    if (atomic_load_explicit(&gp_stalled_at, memory_order_relaxed) == head) {
        gp_queue_count_drop(q);
        return NULL;
    }
    uint64_t since = gp_shim_now();
    for (unsigned i = 0;; i++) {
        gp_writer_wake();
        if (i < 16) {
            sched_yield();
        } else {
            struct timespec ts = {0, 20000}; /* let the writer have the core */
            nanosleep(&ts, NULL);
        }
        struct gp_event *ev = gp_queue_claim(q);
        if (ev != NULL)
            return ev;
        uint64_t now_head = gp_queue_consumed(q), now = gp_shim_now();
        if (now_head != head) {
            head = now_head;
            since = now;
        } else if (now - since >= GP_STALL_NS) {
            atomic_store_explicit(&gp_stalled_at, head, memory_order_relaxed);
            gp_queue_count_drop(q);
            return NULL;
        }
    }
}

/* Claims a slot and fills time, thread and stack; NULL if dropped. Inlined into each
 * record function so that no extra frame sits between the hook and the unwinder. */
static inline __attribute__((always_inline)) struct gp_event *
gp_shim_event_begin(uint8_t type, uint8_t api, uint8_t kind)
{
    struct gp_event *ev = gp_queue_claim(gp_shim_g.queue);
    if (GP_UNLIKELY(ev == NULL) && (ev = gp_claim_slow(gp_shim_g.queue)) == NULL)
        return NULL;
    ev->type = type;
    ev->api = api;
    ev->kind = kind;
    ev->tid = gp_shim_tid();
    ev->device = -1;
    ev->nframes = (uint16_t)gp_stack_capture_all(ev->ips, gp_queue_depth(gp_shim_g.queue));
    ev->time_ns = gp_shim_now();
    return ev;
}

static inline void gp_shim_event_end(struct gp_event *ev)
{
    if (GP_UNLIKELY(gp_queue_publish(gp_shim_g.queue, ev)))
        gp_writer_wake();
}

static inline __attribute__((always_inline)) void
gp_shim_record_alloc(uint8_t api, uint8_t kind, int result, uint64_t size, const void *ptr,
                     const void *stream, uint64_t pitch)
{
    int device = gp_hooks_current_device(); /* asked before the slot is held */
    struct gp_event *ev = gp_shim_event_begin(GP_REC_ALLOC, api, kind);
    if (ev == NULL)
        return;
    ev->result = result;
    ev->size = size;
    ev->ptr = result == 0 ? (uint64_t)(uintptr_t)ptr : 0;
    ev->stream = (uint64_t)(uintptr_t)stream;
    ev->aux1 = pitch;
    ev->device = device;
    gp_shim_event_end(ev);
}

struct gp_event *gp_shim_free_begin(uint8_t api, uint8_t kind, const void *ptr, const void *stream)
{
    int device = gp_hooks_current_device();
    struct gp_event *ev = gp_shim_event_begin(GP_REC_FREE, api, kind);
    if (ev == NULL)
        return NULL;
    ev->ptr = (uint64_t)(uintptr_t)ptr;
    ev->stream = (uint64_t)(uintptr_t)stream;
    ev->device = device;
    return ev;
}

void gp_shim_free_end(struct gp_event *ev, int result)
{
    if (ev == NULL)
        return;
    ev->result = result;
    gp_shim_event_end(ev);
}

void gp_shim_record_meminfo(int result, uint64_t free_b, uint64_t total_b)
{
    int device = gp_hooks_current_device();
    struct gp_event *ev = gp_shim_event_begin(GP_REC_MEMINFO, GP_API_CUDA_MEM_GET_INFO, GP_MEM_DEVICE);
    if (ev == NULL)
        return;
    ev->result = result;
    ev->size = free_b;
    ev->aux1 = total_b;
    ev->device = device;
    gp_shim_event_end(ev);
}

void gp_shim_record_oom(uint8_t api, uint8_t kind, int result, uint64_t size, const void *stream)
{
    uint64_t free_b = 0, total_b = 0;
    (void)gp_hooks_mem_get_info(&free_b, &total_b); /* zeros when the device cannot answer */
    int device = gp_hooks_current_device();
    struct gp_event *ev = gp_shim_event_begin(GP_REC_OOM, api, kind);
    if (ev != NULL) {
        ev->result = result;
        ev->size = size;
        ev->stream = (uint64_t)(uintptr_t)stream;
        ev->aux1 = free_b;
        ev->aux2 = total_b;
        ev->device = device;
        gp_shim_event_end(ev);
    }
    /* Other processes on the device, when NVML can say (nvml.c): one MEMINFO right after
     * the OOM, same thread and device, no stack. Asked before the slot is claimed, so a
     * slow NVML never holds up the writer. */
    struct gp_shim_nvml_others o;
    if (gp_shim_nvml_others(device, &o) == 0 && (ev = gp_shim_claim()) != NULL) {
        ev->type = GP_REC_MEMINFO;
        ev->api = GP_API_NVML_PROCESSES;
        ev->kind = GP_MEM_DEVICE;
        ev->nframes = 0; /* no stack: the OOM just before has it */
        ev->result = 0;
        ev->device = device;
        ev->tid = gp_shim_tid();
        ev->size = o.bytes;
        ev->aux1 = o.count;
        ev->aux2 = o.self_bytes;
        ev->stream = o.largest_pid;
        ev->ptr = o.largest_bytes;
        ev->time_ns = gp_shim_now();
        gp_shim_event_end(ev);
    }
    /* The program usually dies right after an OOM: get it on disk first. */
    (void)gp_writer_flush_wait(2000);
}

/* The last reserved size recorded per pool: a POOL event is written only on change.
 * Races between threads can at worst record the same size twice. */
#define GP_POOLS_TRACKED 16
static struct {
    _Atomic(const void *) pool;
    _Atomic uint64_t reserved;
} gp_pools[GP_POOLS_TRACKED];

static bool gp_pool_changed(const void *pool, uint64_t reserved)
{
    for (unsigned i = 0; i < GP_POOLS_TRACKED; i++) {
        const void *p = atomic_load_explicit(&gp_pools[i].pool, memory_order_acquire);
        if (p == NULL) {
            const void *expected = NULL;
            if (!atomic_compare_exchange_strong(&gp_pools[i].pool, &expected, pool) &&
                expected != pool)
                continue;
            atomic_store(&gp_pools[i].reserved, reserved);
            return true;
        }
        if (p == pool)
            return atomic_exchange(&gp_pools[i].reserved, reserved) != reserved;
    }
    return true; /* more pools than tracked: record every change we see */
}

static bool gp_api_uses_pool(uint8_t api)
{
    switch (api) {
    case GP_API_CUDA_MALLOC_ASYNC:
    case GP_API_CUDA_FREE_ASYNC:
    case GP_API_CUDA_MALLOC_FROM_POOL_ASYNC:
    case GP_API_CU_MEM_ALLOC_ASYNC:
    case GP_API_CU_MEM_FREE_ASYNC:
    case GP_API_CU_MEM_ALLOC_FROM_POOL_ASYNC:
    case GP_API_CU_MEM_POOL_TRIM_TO:
        return true;
    default:
        return false;
    }
}

void gp_shim_pool_note(uint8_t api, const void *pool)
{
    if (!gp_api_uses_pool(api))
        return;
    uint64_t reserved = 0, used = 0;
    if (gp_driver_pool_stats(&pool, &reserved, &used) < 0 || !gp_pool_changed(pool, reserved))
        return;
    int device = gp_hooks_current_device();
    struct gp_event *ev = gp_queue_claim(gp_shim_g.queue);
    if (ev == NULL && (ev = gp_claim_slow(gp_shim_g.queue)) == NULL)
        return;
    ev->type = GP_REC_POOL; /* no stack: the allocation event just before has it */
    ev->api = api;
    ev->kind = GP_MEM_DEVICE;
    ev->tid = gp_shim_tid();
    ev->device = device;
    ev->ptr = (uint64_t)(uintptr_t)pool;
    ev->size = reserved;
    ev->aux1 = used;
    ev->time_ns = gp_shim_now();
    gp_shim_event_end(ev);
}

void gp_shim_alloc_done(uint8_t api, uint8_t kind, int result, uint64_t size, const void *ptr,
                        const void *stream, uint64_t aux, const void *pool)
{
    int saved = errno;
    gp_shim_record_alloc(api, kind, result, size, result == 0 ? ptr : NULL, stream, aux);
    if (result == GP_RESULT_OOM)
        gp_shim_record_oom(api, kind, result, size, stream);
    else if (result == 0)
        gp_shim_pool_note(api, pool);
    if (result == 0)
        gp_cupti_after_cuda_call(); /* the first starts CUPTI: CUDA is initialised by now */
    gp_env_collect_cuda(); /* also after a failure: a driver too old for the runtime says so */
    errno = saved;
    gp_shim_leave();
}

/* A math-library call returned (hooks_blas.c): one LIBCALL event. Call inside the guard. */
void gp_shim_record_libcall(uint8_t api, uint8_t math, int result, uint64_t m, uint64_t n,
                            uint64_t k, const void *stream, const struct gp_libcall *lc)
{
    int saved = errno;
    int device = gp_hooks_current_device();
    struct gp_event *ev = gp_shim_event_begin(GP_REC_LIBCALL, api, math);
    if (ev != NULL) {
        ev->result = result;
        ev->size = m;
        ev->aux1 = n;
        ev->aux2 = k;
        ev->stream = (uint64_t)(uintptr_t)stream;
        ev->device = device;
        ev->lib = *lc;
        gp_shim_event_end(ev);
    }
    errno = saved;
}

/* For events whose fields and stack come from elsewhere (api_torch.c): a slot with
 * nothing filled in, or NULL when dropped; gp_shim_publish hands it to the writer. */
struct gp_event *gp_shim_claim(void)
{
    struct gp_event *ev = gp_queue_claim(gp_shim_g.queue);
    if (GP_UNLIKELY(ev == NULL))
        ev = gp_claim_slow(gp_shim_g.queue);
    return ev;
}

void gp_shim_publish(struct gp_event *ev) { gp_shim_event_end(ev); }
