/* queue.c — the bounded queue between program threads and the writer thread.
 *
 * DESIGN: a ring of fixed-size slots with a per-slot sequence number (the classic
 * bounded multi-producer queue). A producer claims a slot with one CAS on the tail,
 * fills it, then publishes it by storing the sequence; the single consumer takes
 * slots strictly in claim order. Claim order is the order of the trace, which is why
 * a free claims its slot *before* calling the real free: no other thread can then be
 * handed the same address and record its allocation ahead of this free.
 * A full ring never blocks a producer on the writer's disk: see gp_shim_event_begin for
 * the short, progress-checked wait before an event is dropped and counted. Memory is
 * allocated once, with mmap, so the queue never calls the program's malloc. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

struct gp_slot {
    _Atomic uint64_t seq;
    uint64_t pad;
    struct gp_event ev; /* followed by depth ips */
};

struct gp_queue {
    _Alignas(64) _Atomic uint64_t tail;     /* next position to claim */
    _Alignas(64) _Atomic uint64_t dropped;  /* drops not yet reported */
    _Alignas(64) _Atomic uint64_t head;     /* next position to consume (consumer only writes) */
    _Alignas(64) _Atomic uint64_t head_seen; /* a recent head, read by producers: see publish */
    uint64_t mask;
    size_t stride;
    unsigned depth;
    unsigned char *slots;
    size_t map_bytes;
};

static inline struct gp_slot *gp_slot_at(struct gp_queue *q, uint64_t pos)
{
    return (struct gp_slot *)(void *)(q->slots + (pos & q->mask) * q->stride);
}

static inline struct gp_slot *gp_slot_of(struct gp_event *ev)
{
    return (struct gp_slot *)(void *)((unsigned char *)ev - offsetof(struct gp_slot, ev));
}

int gp_queue_init(struct gp_queue **out, uint64_t bytes, unsigned depth)
{
    size_t stride = offsetof(struct gp_slot, ev) + gp_event_size(depth);
    stride = (stride + 63) & ~(size_t)63;
    uint64_t n = 1;
    while (n * 2 * stride <= bytes)
        n *= 2;
    if (n < 16)
        n = 16;
    size_t total = sizeof(struct gp_queue) + 64 + n * stride;
    void *mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -ENOMEM;
    struct gp_queue *q = mem;
    q->mask = n - 1;
    q->stride = stride;
    q->depth = depth;
    q->map_bytes = total;
    q->slots = (unsigned char *)mem + ((sizeof *q + 63) & ~(size_t)63);
    gp_queue_reset(q);
    *out = q;
    return 0;
}

void gp_queue_reset(struct gp_queue *q)
{
    for (uint64_t i = 0; i <= q->mask; i++)
        atomic_store_explicit(&gp_slot_at(q, i)->seq, i, memory_order_relaxed);
    atomic_store_explicit(&q->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&q->head, 0, memory_order_relaxed);
    atomic_store_explicit(&q->head_seen, 0, memory_order_relaxed);
    atomic_store_explicit(&q->dropped, 0, memory_order_release);
}

struct gp_event *gp_queue_claim(struct gp_queue *q)
{
    uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    for (;;) {
        struct gp_slot *s = gp_slot_at(q, pos);
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        int64_t diff = (int64_t)(seq - pos);
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                /* The common fields only: the library-call part (most of the struct) is
                 * written whole by the one event type that has it, and read for no other. */
                memset(&s->ev, 0, offsetof(struct gp_event, lib));
                s->pad = pos;
                return &s->ev;
            }
        } else if (diff < 0) {
            return NULL; /* full */
        } else {
            pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
        }
    }
}

bool gp_queue_publish(struct gp_queue *q, struct gp_event *ev)
{
    struct gp_slot *s = gp_slot_of(ev);
    uint64_t pos = s->pad;
    atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
    /* Reading head on every event would pull the consumer's cache line across cores
     * each time. head only grows, so an old value overstates how full the ring is: the
     * real head is read only when the old one says half full. */
    uint64_t half = (q->mask + 1) / 2;
    if (pos + 1 - atomic_load_explicit(&q->head_seen, memory_order_relaxed) <= half)
        return false;
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store_explicit(&q->head_seen, head, memory_order_relaxed);
    return pos + 1 - head > half;
}

struct gp_event *gp_queue_peek(struct gp_queue *q)
{
    uint64_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    struct gp_slot *s = gp_slot_at(q, pos);
    if (atomic_load_explicit(&s->seq, memory_order_acquire) != pos + 1)
        return NULL;
    return &s->ev;
}

void gp_queue_release(struct gp_queue *q)
{
    uint64_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    struct gp_slot *s = gp_slot_at(q, pos);
    atomic_store_explicit(&s->seq, pos + q->mask + 1, memory_order_release);
    atomic_store_explicit(&q->head, pos + 1, memory_order_release);
}

bool gp_queue_pending(struct gp_queue *q)
{
    return atomic_load_explicit(&q->tail, memory_order_acquire) !=
           atomic_load_explicit(&q->head, memory_order_relaxed);
}

bool gp_queue_half_full(struct gp_queue *q)
{
    uint64_t used = atomic_load_explicit(&q->tail, memory_order_relaxed) -
                    atomic_load_explicit(&q->head, memory_order_relaxed);
    return used > (q->mask + 1) / 2;
}

void gp_queue_count_drop(struct gp_queue *q)
{
    atomic_fetch_add_explicit(&q->dropped, 1, memory_order_relaxed);
}

uint64_t gp_queue_claimed(struct gp_queue *q)
{
    return atomic_load_explicit(&q->tail, memory_order_acquire);
}

uint64_t gp_queue_consumed(struct gp_queue *q)
{
    return atomic_load_explicit(&q->head, memory_order_acquire);
}

uint64_t gp_queue_take_dropped(struct gp_queue *q)
{
    return atomic_exchange_explicit(&q->dropped, 0, memory_order_acq_rel);
}

unsigned gp_queue_capacity(const struct gp_queue *q) { return (unsigned)(q->mask + 1); }
unsigned gp_queue_depth(const struct gp_queue *q) { return q->depth; }
