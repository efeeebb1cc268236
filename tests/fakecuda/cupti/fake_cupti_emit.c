/* fake_cupti_emit.c — the fake libcupti's test hooks (fakecupti.h): each call makes one
 * activity record with the CUDA 13 record struct of its kind (CUpti_ActivityKernel10,
 * Memcpy6, Memset4, Marker2, ExternalCorrelation) in the client's buffer, with times from
 * per-stream queues on the CUPTI clock and a fresh correlation id. */
#include <stdlib.h>
#include <string.h>

#include "fake_cupti_int.h"

/* Kernel and marker names: one copy each, kept for the life of the process, so every record
 * of a name carries the same pointer (as CUPTI's do). Under emit_mu. */
struct fake_name {
    struct fake_name *next;
    char s[];
};
static struct fake_name *fake_names;

static const char *intern(const char *s)
{
    if (!s)
        return NULL;
    for (struct fake_name *n = fake_names; n; n = n->next)
        if (strcmp(n->s, s) == 0)
            return n->s;
    size_t len = strlen(s);
    struct fake_name *n = malloc(sizeof(*n) + len + 1);
    if (!n)
        abort(); /* a test stand-in: no quiet degradation */
    memcpy(n->s, s, len + 1);
    n->next = fake_names;
    fake_names = n;
    return n->s;
}

/* Start and end of an activity on a stream: after the stream's previous one, and gap_ns. */
static void place(uint32_t stream, uint64_t gap_ns, uint64_t duration_ns, uint64_t *start,
                  uint64_t *end)
{
    uint64_t *last = &fake_cupti_g.stream_end[stream % FAKE_STREAMS];
    uint64_t now = fake_now();
    *start = (now > *last ? now : *last) + gap_ns;
    *end = *start + duration_ns;
    *last = *end;
}

/* Begins a record of kind: emit_mu held and room reserved, or NULL (emit_mu released) when
 * the kind is off or no buffer was given (dropped and counted). */
static void *begin(CUpti_ActivityKind kind)
{
    if (!fake_kind_enabled(kind) || !fake_cupti_g.requested)
        return NULL;
    pthread_mutex_lock(&fake_cupti_g.emit_mu);
    if (kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) /* its launch's records come first */
        fake_launch_records(fake_cupti_g.next_correlation);
    void *rec = fake_reserve(fake_record_size(kind));
    if (!rec) {
        pthread_mutex_unlock(&fake_cupti_g.emit_mu);
        pthread_mutex_lock(&fake_cupti_g.mu);
        fake_cupti_g.dropped++;
        fake_cupti_g.stats.dropped_total++;
        pthread_mutex_unlock(&fake_cupti_g.mu);
        return NULL;
    }
    memset(rec, 0, fake_record_size(kind));
    return rec;
}

static uint32_t finish(void)
{
    uint32_t corr = fake_cupti_g.next_correlation++;
    pthread_mutex_unlock(&fake_cupti_g.emit_mu);
    return corr;
}

uint32_t fakecupti_emit_kernel(const struct fakecupti_kernel *k)
{
    CUpti_ActivityKernel10 *r = begin(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
    if (!r)
        return 0;
    r->kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    r->name = intern(k->name);
    r->deviceId = k->device;
    r->contextId = 1;
    r->streamId = k->stream;
    place(k->stream, k->gap_ns, k->duration_ns, &r->start, &r->end);
    r->completed = r->end;
    r->queued = r->submitted = r->start;
    r->gridX = (int32_t)k->grid[0];
    r->gridY = (int32_t)k->grid[1];
    r->gridZ = (int32_t)k->grid[2];
    r->blockX = (int32_t)k->block[0];
    r->blockY = (int32_t)k->block[1];
    r->blockZ = (int32_t)k->block[2];
    r->registersPerThread = (uint16_t)k->registers;
    r->staticSharedMemory = (int32_t)k->static_smem;
    r->dynamicSharedMemory = (int32_t)k->dynamic_smem;
    r->graphId = k->graph_id;
    r->graphNodeId = k->graph_node;
    r->correlationId = fake_cupti_g.next_correlation;
    return finish();
}

uint32_t fakecupti_emit_memcpy(uint32_t device, uint32_t stream, uint8_t copy_kind, uint64_t bytes,
                               uint64_t duration_ns)
{
    CUpti_ActivityMemcpy6 *r = begin(CUPTI_ACTIVITY_KIND_MEMCPY);
    if (!r)
        return 0;
    r->kind = CUPTI_ACTIVITY_KIND_MEMCPY;
    r->copyKind = copy_kind;
    r->srcKind = copy_kind == CUPTI_ACTIVITY_MEMCPY_KIND_HTOD ? CUPTI_ACTIVITY_MEMORY_KIND_PINNED
                                                                : CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    r->dstKind = copy_kind == CUPTI_ACTIVITY_MEMCPY_KIND_DTOH ? CUPTI_ACTIVITY_MEMORY_KIND_PINNED
                                                                : CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    r->bytes = bytes;
    r->deviceId = device;
    r->contextId = 1;
    r->streamId = stream;
    place(stream, 0, duration_ns, &r->start, &r->end);
    r->correlationId = fake_cupti_g.next_correlation;
    r->copyCount = 1;
    return finish();
}

uint32_t fakecupti_emit_memset(uint32_t device, uint32_t stream, uint32_t value, uint64_t bytes,
                               uint64_t duration_ns)
{
    CUpti_ActivityMemset4 *r = begin(CUPTI_ACTIVITY_KIND_MEMSET);
    if (!r)
        return 0;
    r->kind = CUPTI_ACTIVITY_KIND_MEMSET;
    r->value = value;
    r->bytes = bytes;
    r->deviceId = device;
    r->contextId = 1;
    r->streamId = stream;
    r->memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    place(stream, 0, duration_ns, &r->start, &r->end);
    r->correlationId = fake_cupti_g.next_correlation;
    return finish();
}

uint32_t fakecupti_emit_marker(const char *name, uint32_t id, uint32_t flags)
{
    CUpti_ActivityMarker2 *r = begin(CUPTI_ACTIVITY_KIND_MARKER);
    if (!r)
        return 0;
    r->kind = CUPTI_ACTIVITY_KIND_MARKER;
    r->flags = (CUpti_ActivityFlag)flags;
    r->timestamp = fake_now();
    r->id = id;
    r->objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
    r->name = intern(name);
    r->domain = NULL;
    pthread_mutex_unlock(&fake_cupti_g.emit_mu);
    return id ? id : 1;
}

uint32_t fakecupti_emit_ext_corr(uint32_t external_kind, uint64_t external_id)
{
    CUpti_ActivityExternalCorrelation *r = begin(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION);
    if (!r)
        return 0;
    r->kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION;
    r->externalKind = (CUpti_ExternalCorrelationKind)external_kind;
    r->externalId = external_id;
    r->correlationId = fake_cupti_g.next_correlation; /* the next activity's */
    uint32_t corr = r->correlationId;
    pthread_mutex_unlock(&fake_cupti_g.emit_mu);
    return corr;
}

void fakecupti_drop(uint64_t records)
{
    pthread_mutex_lock(&fake_cupti_g.mu);
    fake_cupti_g.dropped += records;
    fake_cupti_g.stats.dropped_total += records;
    pthread_mutex_unlock(&fake_cupti_g.mu);
}

void fakecupti_stats(struct fakecupti_stats *out)
{
    pthread_mutex_lock(&fake_cupti_g.mu);
    *out = fake_cupti_g.stats;
    pthread_mutex_unlock(&fake_cupti_g.mu);
}
