/* fake_cupti.c — the CUPTI API of the fake libcupti.so.13, with the real prototypes: one
 * subscriber, activity kinds switched on and off, buffers the client hands over with its
 * request callback and gets back through its completion callback (when full, or on a flush:
 * the default flush returns buffers holding records, a forced one every buffer), records
 * walked with cuptiActivityGetNextRecord, and a dropped-record count. Records are made by
 * the test hooks in fake_cupti_emit.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cupti.h>

#include "fake_cupti_int.h"

FAKE_HIDDEN struct fake_cupti fake_cupti_g = {
    .emit_mu = PTHREAD_MUTEX_INITIALIZER,
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .enable_fail_kind = -1,
    .version = 130001,
    .next_correlation = 1,
};

__attribute__((constructor)) static void fake_cupti_env(void)
{
    const char *s = getenv("FAKECUPTI_SUBSCRIBED");
    fake_cupti_g.other_subscriber = s && strcmp(s, "1") == 0;
    if ((s = getenv("FAKECUPTI_ENABLE_FAIL")) && *s)
        fake_cupti_g.enable_fail_kind = atoi(s);
    if ((s = getenv("FAKECUPTI_VERSION")) && *s)
        fake_cupti_g.version = (uint32_t)strtoul(s, NULL, 10);
}

uint64_t fake_now(void)
{
    if (fake_cupti_g.timestamp)
        return fake_cupti_g.timestamp();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* the real library's default clock on Linux */
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t fake_record_size(CUpti_ActivityKind kind)
{
    switch (kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
    case CUPTI_ACTIVITY_KIND_KERNEL:
        return sizeof(CUpti_ActivityKernel10);
    case CUPTI_ACTIVITY_KIND_MEMCPY:
        return sizeof(CUpti_ActivityMemcpy6);
    case CUPTI_ACTIVITY_KIND_MEMSET:
        return sizeof(CUpti_ActivityMemset4);
    case CUPTI_ACTIVITY_KIND_MARKER:
        return sizeof(CUpti_ActivityMarker2);
    case CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION:
        return sizeof(CUpti_ActivityExternalCorrelation);
    case CUPTI_ACTIVITY_KIND_RUNTIME:
    case CUPTI_ACTIVITY_KIND_DRIVER:
        return sizeof(CUpti_ActivityAPI);
    default:
        return 0;
    }
}

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

int fake_kind_enabled(CUpti_ActivityKind kind)
{
    pthread_mutex_lock(&fake_cupti_g.mu);
    uint64_t bits = (unsigned)kind < 64 ? fake_cupti_g.enabled_low : fake_cupti_g.enabled_high;
    int on = (bits >> ((unsigned)kind % 64)) & 1;
    pthread_mutex_unlock(&fake_cupti_g.mu);
    return on;
}

static void count(uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&fake_cupti_g.mu);
    *field += n;
    pthread_mutex_unlock(&fake_cupti_g.mu);
}

void fake_complete_current(int even_empty)
{
    struct fake_cupti *f = &fake_cupti_g;
    if (!f->buf || (!even_empty && f->used == 0))
        return;
    uint8_t *buf = f->buf;
    size_t size = f->size, used = f->used;
    f->buf = NULL;
    f->size = f->used = 0;
    pthread_mutex_lock(&f->mu);
    f->stats.completed++;
    f->held--;
    pthread_mutex_unlock(&f->mu);
    /* After this call the buffer is the client's again: never touched from here on. */
    f->completed(NULL, 0, buf, size, used);
}

void *fake_reserve(size_t size)
{
    struct fake_cupti *f = &fake_cupti_g;
    size = align8(size);
    if (f->buf && f->size - f->used < size)
        fake_complete_current(0);
    if (!f->buf) {
        uint8_t *buf = NULL;
        size_t bsize = 0, max_records = 0;
        count(&f->stats.requested, 1);
        f->requested(&buf, &bsize, &max_records);
        if (!buf || bsize < size) { /* declined: CUPTI drops the record and counts it */
            count(&f->stats.declined, 1);
            if (buf) /* too small to use: a real CUPTI would keep it; give it straight back */
                f->completed(NULL, 0, buf, bsize, 0);
            return NULL;
        }
        f->buf = buf;
        f->size = bsize;
        f->used = 0;
        pthread_mutex_lock(&f->mu);
        if (++f->held > f->stats.most_held)
            f->stats.most_held = f->held;
        uint64_t i = 0;
        while (i < f->stats.distinct_buffers && i < 64 && f->seen[i] != buf)
            i++;
        if (i == f->stats.distinct_buffers && i < 64)
            f->seen[f->stats.distinct_buffers++] = buf;
        pthread_mutex_unlock(&f->mu);
    }
    void *rec = f->buf + f->used;
    f->used += size;
    count(&f->stats.records, 1);
    return rec;
}

/* ---- the API -------------------------------------------------------------------- */
CUptiResult CUPTIAPI cuptiGetVersion(uint32_t *version)
{
    fake_api_call();
    if (!version)
        return CUPTI_ERROR_INVALID_PARAMETER;
    *version = fake_cupti_g.version;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetResultString(CUptiResult result, const char **str)
{
    fake_api_call();
    if (!str)
        return CUPTI_ERROR_INVALID_PARAMETER;
    switch (result) {
    case CUPTI_SUCCESS: *str = "CUPTI_SUCCESS"; break;
    case CUPTI_ERROR_NOT_COMPATIBLE: *str = "CUPTI_ERROR_NOT_COMPATIBLE"; break;
    case CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED:
        *str = "CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED";
        break;
    case CUPTI_ERROR_INVALID_PARAMETER: *str = "CUPTI_ERROR_INVALID_PARAMETER"; break;
    case CUPTI_ERROR_INVALID_KIND: *str = "CUPTI_ERROR_INVALID_KIND"; break;
    case CUPTI_ERROR_MAX_LIMIT_REACHED: *str = "CUPTI_ERROR_MAX_LIMIT_REACHED"; break;
    case CUPTI_ERROR_INVALID_OPERATION: *str = "CUPTI_ERROR_INVALID_OPERATION"; break;
    default:
        *str = "CUPTI_ERROR_UNKNOWN";
        return CUPTI_ERROR_INVALID_PARAMETER;
    }
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiSubscribe(CUpti_SubscriberHandle *subscriber, CUpti_CallbackFunc callback,
                                    void *userdata)
{
    fake_api_call();
    (void)callback;
    (void)userdata;
    if (!subscriber)
        return CUPTI_ERROR_INVALID_PARAMETER;
    CUptiResult rc = CUPTI_SUCCESS;
    pthread_mutex_lock(&fake_cupti_g.mu);
    if (fake_cupti_g.other_subscriber || fake_cupti_g.subscribed)
        rc = CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED;
    else
        fake_cupti_g.subscribed = fake_cupti_g.stats.subscribed = 1;
    pthread_mutex_unlock(&fake_cupti_g.mu);
    *subscriber = rc == CUPTI_SUCCESS ? (CUpti_SubscriberHandle)&fake_cupti_g : NULL;
    if (rc == CUPTI_SUCCESS)
        fake_resource_subscribed(callback, userdata); /* fake_cupti_resource.c */
    return rc;
}

CUptiResult CUPTIAPI cuptiUnsubscribe(CUpti_SubscriberHandle subscriber)
{
    fake_api_call();
    if (subscriber != (CUpti_SubscriberHandle)&fake_cupti_g)
        return CUPTI_ERROR_INVALID_PARAMETER;
    pthread_mutex_lock(&fake_cupti_g.mu);
    fake_cupti_g.subscribed = 0;
    fake_cupti_g.stats.subscribed = 0;
    fake_resource_subscribed(NULL, NULL);
    pthread_mutex_unlock(&fake_cupti_g.mu);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityRegisterCallbacks(CUpti_BuffersCallbackRequestFunc requested,
                                                    CUpti_BuffersCallbackCompleteFunc completed)
{
    fake_api_call();
    if (!requested || !completed)
        return CUPTI_ERROR_INVALID_PARAMETER;
    pthread_mutex_lock(&fake_cupti_g.emit_mu);
    fake_cupti_g.requested = requested;
    fake_cupti_g.completed = completed;
    pthread_mutex_unlock(&fake_cupti_g.emit_mu);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityRegisterTimestampCallback(CUpti_TimestampCallbackFunc fn)
{
    fake_api_call();
    if (!fn)
        return CUPTI_ERROR_INVALID_PARAMETER;
    fake_cupti_g.timestamp = fn;
    fake_cupti_g.stats.timestamp_callback = 1;
    return CUPTI_SUCCESS;
}

static CUptiResult set_kind(CUpti_ActivityKind kind, int on)
{
    if ((unsigned)kind == 0 || (unsigned)kind >= 128)
        return CUPTI_ERROR_INVALID_KIND;
    if (on && (int)kind == fake_cupti_g.enable_fail_kind)
        return CUPTI_ERROR_NOT_COMPATIBLE;
    pthread_mutex_lock(&fake_cupti_g.mu);
    uint64_t *bits = (unsigned)kind < 64 ? &fake_cupti_g.enabled_low : &fake_cupti_g.enabled_high;
    uint64_t bit = 1ull << ((unsigned)kind % 64);
    *bits = on ? *bits | bit : *bits & ~bit;
    fake_cupti_g.stats.enabled_kinds_low = (uint32_t)fake_cupti_g.enabled_low;
    fake_cupti_g.stats.enabled_kinds_high =
        fake_cupti_g.enabled_low >> 32 | fake_cupti_g.enabled_high << 32;
    pthread_mutex_unlock(&fake_cupti_g.mu);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityEnable(CUpti_ActivityKind kind)
{
    fake_api_call();
    return set_kind(kind, 1);
}

CUptiResult CUPTIAPI cuptiActivityDisable(CUpti_ActivityKind kind)
{
    fake_api_call();
    return set_kind(kind, 0);
}

CUptiResult CUPTIAPI cuptiActivityFlushAll(uint32_t flag)
{
    fake_api_call();
    pthread_mutex_lock(&fake_cupti_g.emit_mu);
    CUptiResult rc = CUPTI_ERROR_INVALID_OPERATION;
    if (fake_cupti_g.completed) {
        fake_complete_current((flag & CUPTI_ACTIVITY_FLAG_FLUSH_FORCED) != 0);
        rc = CUPTI_SUCCESS;
    }
    pthread_mutex_unlock(&fake_cupti_g.emit_mu);
    return rc;
}

CUptiResult CUPTIAPI cuptiActivityFlushPeriod(uint32_t time)
{
    fake_api_call();
    (void)time;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityGetNextRecord(uint8_t *buffer, size_t valid, CUpti_Activity **record)
{
    fake_api_call();
    if (!buffer || !record)
        return CUPTI_ERROR_INVALID_PARAMETER;
    size_t off = 0;
    if (*record) {
        off = (size_t)((uint8_t *)*record - buffer);
        off += align8(fake_record_size((*record)->kind));
    }
    if (off >= valid)
        return CUPTI_ERROR_MAX_LIMIT_REACHED;
    CUpti_Activity *rec = (CUpti_Activity *)(void *)(buffer + off);
    size_t size = fake_record_size(rec->kind);
    if (size == 0 || off + size > valid)
        return CUPTI_ERROR_INVALID_KIND;
    *record = rec;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityGetNumDroppedRecords(CUcontext context, uint32_t streamId,
                                                       size_t *dropped)
{
    fake_api_call();
    (void)context;
    (void)streamId;
    if (!dropped)
        return CUPTI_ERROR_INVALID_PARAMETER;
    pthread_mutex_lock(&fake_cupti_g.mu);
    *dropped = (size_t)fake_cupti_g.dropped;
    fake_cupti_g.dropped = 0;
    pthread_mutex_unlock(&fake_cupti_g.mu);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiGetTimestamp(uint64_t *timestamp)
{
    fake_api_call();
    if (!timestamp)
        return CUPTI_ERROR_INVALID_PARAMETER;
    *timestamp = fake_now();
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiFinalize(void)
{
    fake_api_call();
    return CUPTI_SUCCESS;
}

void fake_api_call(void)
{
    pthread_mutex_lock(&fake_cupti_g.mu);
    fake_cupti_g.stats.api_calls++;
    pthread_mutex_unlock(&fake_cupti_g.mu);
}

/* Per-API launch records: only the launch entry points the fake's kernels stand for. */
CUptiResult CUPTIAPI cuptiActivityEnableRuntimeApi(CUpti_CallbackId cbid, uint8_t enable)
{
    fake_api_call();
    pthread_mutex_lock(&fake_cupti_g.mu);
    if (cbid == CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000)
        fake_cupti_g.launch_runtime_api = enable != 0;
    pthread_mutex_unlock(&fake_cupti_g.mu);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityEnableDriverApi(CUpti_CallbackId cbid, uint8_t enable)
{
    fake_api_call();
    pthread_mutex_lock(&fake_cupti_g.mu);
    if (cbid == CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel)
        fake_cupti_g.launch_driver_api = enable != 0;
    pthread_mutex_unlock(&fake_cupti_g.mu);
    return CUPTI_SUCCESS;
}

/* ---- external correlation: a stack of ids per thread and kind -------------------------- */
#define FAKE_EXT_KINDS CUPTI_EXTERNAL_CORRELATION_KIND_SIZE
#define FAKE_EXT_DEPTH 16
static __thread uint64_t fake_ext_ids[FAKE_EXT_KINDS][FAKE_EXT_DEPTH];
static __thread unsigned fake_ext_depth[FAKE_EXT_KINDS];

CUptiResult CUPTIAPI cuptiActivityPushExternalCorrelationId(CUpti_ExternalCorrelationKind kind,
                                                            uint64_t id)
{
    fake_api_call();
    if ((unsigned)kind <= CUPTI_EXTERNAL_CORRELATION_KIND_INVALID || (unsigned)kind >= FAKE_EXT_KINDS ||
        fake_ext_depth[kind] == FAKE_EXT_DEPTH)
        return CUPTI_ERROR_INVALID_PARAMETER;
    fake_ext_ids[kind][fake_ext_depth[kind]++] = id;
    count(&fake_cupti_g.stats.ext_pushes, 1);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiActivityPopExternalCorrelationId(CUpti_ExternalCorrelationKind kind,
                                                           uint64_t *lastId)
{
    fake_api_call();
    if ((unsigned)kind <= CUPTI_EXTERNAL_CORRELATION_KIND_INVALID || (unsigned)kind >= FAKE_EXT_KINDS)
        return CUPTI_ERROR_INVALID_PARAMETER;
    if (fake_ext_depth[kind] == 0)
        return CUPTI_ERROR_QUEUE_EMPTY;
    uint64_t id = fake_ext_ids[kind][--fake_ext_depth[kind]];
    if (lastId)
        *lastId = id;
    count(&fake_cupti_g.stats.ext_pops, 1);
    return CUPTI_SUCCESS;
}

void fake_launch_records(uint32_t correlation)
{
    unsigned any = 0;
    for (unsigned k = 0; k < FAKE_EXT_KINDS; k++)
        any |= fake_ext_depth[k];
    int on_runtime = fake_kind_enabled(CUPTI_ACTIVITY_KIND_RUNTIME);
    int on_driver = fake_kind_enabled(CUPTI_ACTIVITY_KIND_DRIVER);
    pthread_mutex_lock(&fake_cupti_g.mu);
    on_runtime |= fake_cupti_g.launch_runtime_api;
    on_driver |= fake_cupti_g.launch_driver_api;
    pthread_mutex_unlock(&fake_cupti_g.mu);
    if (!on_runtime && !on_driver)
        return;
    if (any && fake_kind_enabled(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION)) {
        for (unsigned k = 0; k < FAKE_EXT_KINDS; k++) {
            if (fake_ext_depth[k] == 0)
                continue;
            CUpti_ActivityExternalCorrelation *e =
                fake_reserve(sizeof(CUpti_ActivityExternalCorrelation));
            if (!e)
                continue;
            memset(e, 0, sizeof *e);
            e->kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION;
            e->externalKind = (CUpti_ExternalCorrelationKind)k;
            e->externalId = fake_ext_ids[k][fake_ext_depth[k] - 1];
            e->correlationId = correlation;
            count(&fake_cupti_g.stats.ext_records, 1);
        }
    }
    CUpti_ActivityAPI *a = fake_reserve(sizeof(CUpti_ActivityAPI));
    if (!a)
        return;
    memset(a, 0, sizeof *a);
    a->kind = on_runtime ? CUPTI_ACTIVITY_KIND_RUNTIME : CUPTI_ACTIVITY_KIND_DRIVER;
    a->cbid = on_runtime ? CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000
                         : CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel;
    a->start = a->end = fake_now();
    a->correlationId = correlation;
}
