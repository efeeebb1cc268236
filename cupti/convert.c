/* convert.c — one CUPTI activity record into one trace activity (struct gp_activity), on
 * the writer thread. The structs are the CUDA 13.0 header's (Kernel10, Memcpy6, Memset4,
 * Memory4, MemoryPool3, Synchronization2, Marker2, Overhead3, ExternalCorrelation), but only
 * fields the CUDA 12.0 versions (Kernel9, Memcpy5, Memset3, Memory3, MemoryPool2, ...) have at
 * the same offsets are read: each version appends to the previous one, so the records of a
 * libcupti.so.12 and of a newer 13.x (Kernel11...) read the same. Field meanings per type are
 * in docs/trace-format.md ("GPU activity"). */
#include <string.h>

#include "cupti_int.h"

/* The kinds enabled, in this order; the kernel kind is the one that matters. Never
 * CUPTI_ACTIVITY_KIND_KERNEL: it serializes every kernel launch. */
const struct gp_cupti_kind gp_cupti_kinds[] = {
    {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, GP_REC_KERNEL, 1},
    {CUPTI_ACTIVITY_KIND_MEMCPY, GP_REC_MEMCPY, 0},
    {CUPTI_ACTIVITY_KIND_MEMSET, GP_REC_MEMSET, 0},
    {CUPTI_ACTIVITY_KIND_MEMORY2, GP_REC_GPU_MEMORY, 0},
    {CUPTI_ACTIVITY_KIND_MEMORY_POOL, GP_REC_GPU_POOL, 0},
    {CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION, GP_REC_EXT_CORR, 0},
    {CUPTI_ACTIVITY_KIND_MARKER, GP_REC_MARKER, 0},
    {CUPTI_ACTIVITY_KIND_SYNCHRONIZATION, GP_REC_SYNC, 0},
    {CUPTI_ACTIVITY_KIND_OVERHEAD, GP_REC_OVERHEAD, 0},
};
const unsigned gp_cupti_nkinds = sizeof(gp_cupti_kinds) / sizeof(gp_cupti_kinds[0]);

static inline uint64_t clock_of(uint64_t t, int64_t offset_ns)
{
    return t ? t + (uint64_t)offset_ns : 0;
}

static void times(struct gp_activity *a, uint64_t start, uint64_t end, int64_t off)
{
    a->start_ns = clock_of(start, off);
    /* an untimed end keeps the record's duration 0 rather than hugely negative */
    a->end_ns = end && start ? clock_of(end, off) : a->start_ns;
}

/* Where a GPU record ran: the field names agree across CUPTI's record structs. */
#define GP_PLACE(a, r)                                                                             \
    do {                                                                                           \
        (a)->device = (r)->deviceId;                                                               \
        (a)->context = (r)->contextId;                                                             \
        (a)->stream = (r)->streamId;                                                               \
        (a)->correlation = (r)->correlationId;                                                     \
    } while (0)

static void kernel(const CUpti_ActivityKernel10 *k, int64_t off, struct gp_activity *a)
{
    a->type = GP_REC_KERNEL;
    a->kind = k->launchType;
    times(a, k->start, k->end, off);
    GP_PLACE(a, k);
    a->name = k->name;
    a->grid[0] = (uint32_t)k->gridX;
    a->grid[1] = (uint32_t)k->gridY;
    a->grid[2] = (uint32_t)k->gridZ;
    a->block[0] = (uint32_t)k->blockX;
    a->block[1] = (uint32_t)k->blockY;
    a->block[2] = (uint32_t)k->blockZ;
    a->registers = k->registersPerThread;
    a->static_smem = (uint32_t)k->staticSharedMemory;
    a->dynamic_smem = (uint32_t)k->dynamicSharedMemory;
    a->graph_id = k->graphId;
    a->graph_node = k->graphNodeId;
}

static void memcpy_rec(const CUpti_ActivityMemcpy6 *m, int64_t off, struct gp_activity *a)
{
    a->type = GP_REC_MEMCPY;
    a->kind = m->copyKind;
    a->aux = (uint64_t)m->srcKind | (uint64_t)m->dstKind << 8 | (uint64_t)m->flags << 16;
    a->bytes = m->bytes;
    times(a, m->start, m->end, off);
    GP_PLACE(a, m);
    a->graph_id = m->graphId;
    a->graph_node = m->graphNodeId;
}

static void memset_rec(const CUpti_ActivityMemset4 *m, int64_t off, struct gp_activity *a)
{
    a->type = GP_REC_MEMSET;
    a->kind = (uint8_t)m->memoryKind;
    a->aux = m->flags;
    a->value = m->value;
    a->bytes = m->bytes;
    times(a, m->start, m->end, off);
    GP_PLACE(a, m);
    a->graph_id = m->graphId;
    a->graph_node = m->graphNodeId;
}

static void memory_rec(const CUpti_ActivityMemory4 *m, int64_t off, struct gp_activity *a)
{
    a->type = GP_REC_GPU_MEMORY;
    a->kind = (uint8_t)m->memoryOperationType;
    a->aux = (uint64_t)m->memoryKind;
    a->address = m->address;
    a->bytes = m->bytes;
    a->value = m->memoryPoolConfig.address; /* the pool it came from, 0 = none */
    times(a, m->timestamp, m->timestamp, off);
    GP_PLACE(a, m);
}

static void pool_rec(const CUpti_ActivityMemoryPool3 *m, int64_t off, struct gp_activity *a)
{
    a->type = GP_REC_GPU_POOL;
    a->kind = (uint8_t)m->memoryPoolOperationType;
    a->aux = (uint64_t)m->memoryPoolType;
    a->address = m->address;
    a->bytes = m->size;
    a->value = m->utilizedSize;
    times(a, m->timestamp, m->timestamp, off);
    a->device = m->deviceId;
    a->correlation = m->correlationId;
}

static void marker_rec(const CUpti_ActivityMarker2 *m, int64_t off, struct gp_activity *a)
{
    a->type = GP_REC_MARKER;
    a->kind = (uint8_t)m->flags;
    a->value = m->id;
    a->aux = (uint64_t)m->objectKind;
    a->name = m->name;
    times(a, m->timestamp, m->timestamp, off);
}

static void sync_rec(const CUpti_ActivitySynchronization2 *s, int64_t off, struct gp_activity *a)
{
    a->type = GP_REC_SYNC;
    a->kind = (uint8_t)s->type;
    times(a, s->start, s->end, off);
    a->context = s->contextId;
    a->stream = s->streamId;
    a->correlation = s->correlationId;
    a->value = s->cudaEventId;
}

static void overhead_rec(const CUpti_ActivityOverhead3 *o, int64_t off, struct gp_activity *a)
{
    a->type = GP_REC_OVERHEAD;
    a->kind = (uint8_t)o->objectKind;
    a->aux = (uint64_t)o->overheadKind; /* bit values up to 1 << 31: not a byte */
    times(a, o->start, o->end, off);
    a->correlation = o->correlationId;
    switch (o->objectKind) {
    case CUPTI_ACTIVITY_OBJECT_PROCESS:
    case CUPTI_ACTIVITY_OBJECT_THREAD:
        a->value = o->objectId.pt.threadId;
        break;
    case CUPTI_ACTIVITY_OBJECT_DEVICE:
    case CUPTI_ACTIVITY_OBJECT_CONTEXT:
    case CUPTI_ACTIVITY_OBJECT_STREAM:
        a->device = o->objectId.dcs.deviceId;
        a->context = o->objectId.dcs.contextId;
        a->stream = o->objectId.dcs.streamId;
        break;
    default:
        break;
    }
}

int gp_cupti_convert(const CUpti_Activity *rec, int64_t offset_ns, struct gp_activity *out)
{
    memset(out, 0, sizeof(*out));
    switch (rec->kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
    case CUPTI_ACTIVITY_KIND_KERNEL:
        kernel((const CUpti_ActivityKernel10 *)(const void *)rec, offset_ns, out);
        return 1;
    case CUPTI_ACTIVITY_KIND_MEMCPY:
        memcpy_rec((const CUpti_ActivityMemcpy6 *)(const void *)rec, offset_ns, out);
        return 1;
    case CUPTI_ACTIVITY_KIND_MEMSET:
        memset_rec((const CUpti_ActivityMemset4 *)(const void *)rec, offset_ns, out);
        return 1;
    case CUPTI_ACTIVITY_KIND_MEMORY2:
        memory_rec((const CUpti_ActivityMemory4 *)(const void *)rec, offset_ns, out);
        return 1;
    case CUPTI_ACTIVITY_KIND_MEMORY_POOL:
        pool_rec((const CUpti_ActivityMemoryPool3 *)(const void *)rec, offset_ns, out);
        return 1;
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION: {
        const CUpti_ActivityExternalCorrelation *e = (const void *)rec;
        out->type = GP_REC_EXT_CORR;
        out->kind = (uint8_t)e->externalKind;
        out->value = e->externalId;
        out->correlation = e->correlationId;
        return 1;
    }
    case CUPTI_ACTIVITY_KIND_MARKER:
        marker_rec((const CUpti_ActivityMarker2 *)(const void *)rec, offset_ns, out);
        return 1;
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION:
        sync_rec((const CUpti_ActivitySynchronization2 *)(const void *)rec, offset_ns, out);
        return 1;
    case CUPTI_ACTIVITY_KIND_OVERHEAD:
        overhead_rec((const CUpti_ActivityOverhead3 *)(const void *)rec, offset_ns, out);
        return 1;
    default:
        return 0;
    }
}
