/* analysis_kernels.c — GPU activity (the KERNEL .. OVERHEAD records CUPTI gave the shim):
 * kernels by name (calls, total, min, max), per stream and per device, copies and memsets by
 * direction, NVTX ranges, CUPTI's own view of allocations, dropped records, and at the end
 * the GPU busy share: the union of kernel, copy and memset intervals, per device and over
 * all devices, against the trace's wall time, with the longest idle gaps between them.
 * Records arrive in buffer order, not time order, so intervals are kept and sorted once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * size);
    if (!p)
        return -ENOMEM;
    *v = p;
    *cap = n;
    return 0;
}

static int lane_of(struct gp_report_kernels *k, uint32_t device, uint32_t stream, uint32_t *out)
{
    /* Programs use a handful of streams: a linear search beats hashing here. */
    for (size_t i = 0; i < k->nlanes; i++) {
        if (k->lanes[i].device == device && k->lanes[i].stream == stream) {
            *out = (uint32_t)i;
            return 0;
        }
    }
    if (grow((void **)&k->lanes, &k->lanes_cap, k->nlanes + 1, sizeof(*k->lanes)) < 0)
        return -ENOMEM;
    k->lanes[k->nlanes] = (struct gp_report_lane){.device = device, .stream = stream};
    *out = (uint32_t)k->nlanes++;
    return 0;
}

static struct gp_report_gpu *gpu_of(struct gp_report_kernels *k, uint32_t device)
{
    for (size_t i = 0; i < k->ngpus; i++)
        if (k->gpus[i].device == device)
            return &k->gpus[i];
    if (grow((void **)&k->gpus, &k->gpus_cap, k->ngpus + 1, sizeof(*k->gpus)) < 0)
        return NULL;
    k->gpus[k->ngpus] = (struct gp_report_gpu){.device = device};
    return &k->gpus[k->ngpus++];
}

static int add_interval(struct gp_report_kernels *k, const struct gp_activity *a, uint32_t lane)
{
    if (!a->start_ns || a->end_ns <= a->start_ns)
        return 0;
    if (!k->first_ns || a->start_ns < k->first_ns)
        k->first_ns = a->start_ns;
    if (a->end_ns > k->last_ns)
        k->last_ns = a->end_ns;
    if (k->niv == GP_REPORT_MAX_INTERVALS) {
        k->iv_lost++;
        return 0;
    }
    if (grow((void **)&k->iv, &k->iv_cap, k->niv + 1, sizeof(*k->iv)) < 0)
        return -ENOMEM;
    k->iv[k->niv++] = (struct gp_report_interval){a->start_ns, a->end_ns, lane, a->type};
    return 0;
}

static int on_kernel(struct gp_report_kernels *k, const struct gp_activity *a, uint32_t lane)
{
    uint64_t d = a->end_ns - a->start_ns;
    k->kernels++;
    if (!a->start_ns || a->end_ns < a->start_ns) {
        k->untimed++;
        d = 0;
    }
    k->gpu_time_ns += d;
    if (a->name_id >= k->by_name_cap) {
        size_t cap = k->by_name_cap, old = cap;
        if (grow((void **)&k->by_name, &cap, (size_t)a->name_id + 1, sizeof(*k->by_name)) < 0)
            return -ENOMEM;
        memset(k->by_name + old, 0, (cap - old) * sizeof(*k->by_name));
        k->by_name_cap = (uint32_t)cap;
    }
    struct gp_report_kernel_stat *s = &k->by_name[a->name_id];
    if (s->calls == 0 || d < s->min_ns)
        s->min_ns = d;
    if (d > s->max_ns)
        s->max_ns = d;
    s->name_id = a->name_id;
    s->calls++;
    s->total_ns += d;
    k->lanes[lane].kernels++;
    k->lanes[lane].kernel_ns += d;
    struct gp_report_gpu *g = gpu_of(k, a->device);
    if (!g)
        return -ENOMEM;
    g->kernels++;
    g->kernel_ns += d;
    return add_interval(k, a, lane);
}

static int on_copy(struct gp_report_kernels *k, const struct gp_activity *a, uint32_t lane)
{
    uint64_t d = a->start_ns && a->end_ns > a->start_ns ? a->end_ns - a->start_ns : 0;
    struct gp_report_copy_stat *c =
        a->type == GP_REC_MEMSET ? &k->memset : &k->memcpy[a->kind % GP_REPORT_COPY_KINDS];
    c->count++;
    c->bytes += a->bytes;
    c->time_ns += d;
    k->lanes[lane].copies++;
    k->lanes[lane].copy_ns += d;
    if (!gpu_of(k, a->device))
        return -ENOMEM;
    return add_interval(k, a, lane);
}

/* NVTX: a START opens a range under its id, the END with that id closes it. */
static int on_marker(struct gp_report_kernels *k, const struct gp_activity *a)
{
    k->markers++;
    if (a->kind & 2) { /* CUPTI_ACTIVITY_FLAG_MARKER_START */
        if (grow((void **)&k->open, &k->open_cap, k->nopen + 1, sizeof(*k->open)) < 0)
            return -ENOMEM;
        k->open[k->nopen++] = (struct gp_report_range){a->start_ns, 0, a->value, a->name_id};
        return 0;
    }
    if (!(a->kind & 4)) /* an instant mark */
        return 0;
    for (size_t i = k->nopen; i-- > 0;) {
        if (k->open[i].id != a->value)
            continue;
        struct gp_report_range r = k->open[i];
        r.end = a->start_ns;
        k->open[i] = k->open[--k->nopen];
        if (k->nranges == GP_REPORT_MAX_RANGES)
            return 0;
        if (grow((void **)&k->ranges, &k->ranges_cap, k->nranges + 1, sizeof(*k->ranges)) < 0)
            return -ENOMEM;
        k->ranges[k->nranges++] = r;
        return 0;
    }
    return 0;
}

static int on_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_kernels *k = ctx;
    if (rec->type == GP_REC_ACT_DROPPED) {
        k->dropped_records += rec->count;
        return 0;
    }
    if (rec->type == GP_REC_ACT_STATUS) {
        const struct gp_activity_status *st = gp_trace_reader_activity_status(m->reader);
        if (st) {
            k->status = *st;
            k->have_status = 1;
        }
        return 0;
    }
    if (!gp_trace_is_activity(rec->type))
        return 0;
    const struct gp_activity *a = gp_trace_reader_activity(m->reader);
    uint64_t d = a->start_ns && a->end_ns > a->start_ns ? a->end_ns - a->start_ns : 0;
    uint32_t lane;
    switch (a->type) {
    case GP_REC_KERNEL:
    case GP_REC_MEMCPY:
    case GP_REC_MEMSET:
        if (lane_of(k, a->device, a->stream, &lane) < 0)
            return -ENOMEM;
        return a->type == GP_REC_KERNEL ? on_kernel(k, a, lane) : on_copy(k, a, lane);
    case GP_REC_MARKER:
        return on_marker(k, a);
    case GP_REC_GPU_MEMORY:
        if (a->kind == 1) { /* CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION */
            k->gpu_allocs++;
            k->gpu_alloc_bytes += a->bytes;
        } else if (a->kind == 2) {
            k->gpu_frees++;
        }
        return 0;
    case GP_REC_GPU_POOL:
        k->pool_ops++;
        return 0;
    case GP_REC_SYNC:
        k->syncs++;
        k->sync_ns += d;
        return 0;
    case GP_REC_OVERHEAD:
        k->overheads++;
        k->overhead_ns += d;
        return 0;
    case GP_REC_EXT_CORR:
        k->ext_corrs++;
        return 0;
    default:
        return 0;
    }
}

static int by_start(const void *a, const void *b)
{
    const struct gp_report_interval *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int by_total(const void *a, const void *b)
{
    const struct gp_report_kernel_stat *x = a, *y = b;
    if (x->total_ns != y->total_ns)
        return x->total_ns > y->total_ns ? -1 : 1;
    if (x->calls != y->calls)
        return x->calls > y->calls ? -1 : 1;
    return x->name_id < y->name_id ? -1 : x->name_id > y->name_id;
}

static void keep_gap(struct gp_report_kernels *k, uint64_t start, uint64_t end)
{
    struct gp_report_range g = {start, end, 0, 0};
    size_t i = k->ngaps < GP_REPORT_IDLE_GAPS ? k->ngaps++ : GP_REPORT_IDLE_GAPS;
    if (i == GP_REPORT_IDLE_GAPS) {
        if (end - start <= k->gaps[i - 1].end - k->gaps[i - 1].start)
            return;
        i--;
    }
    /* insertion, longest first; equal lengths keep time order */
    while (i > 0 && k->gaps[i - 1].end - k->gaps[i - 1].start < end - start) {
        k->gaps[i] = k->gaps[i - 1];
        i--;
    }
    k->gaps[i] = g;
}

/* One pass over the intervals in start order: the union per device and over all. */
static void busy(struct gp_report_kernels *k)
{
    uint64_t cur_start = 0, cur_end = 0;
    uint64_t *dev_end = calloc(k->ngpus ? k->ngpus : 1, sizeof(*dev_end));
    if (k->niv)
        qsort(k->iv, k->niv, sizeof(*k->iv), by_start);
    for (size_t i = 0; i < k->niv; i++) {
        const struct gp_report_interval *v = &k->iv[i];
        if (i == 0 || v->start > cur_end) {
            if (i > 0) {
                k->busy_ns += cur_end - cur_start;
                keep_gap(k, cur_end, v->start);
            }
            cur_start = v->start;
            cur_end = v->end;
        } else if (v->end > cur_end) {
            cur_end = v->end;
        }
        if (!dev_end)
            continue;
        uint32_t dev = k->lanes[v->lane].device;
        size_t g = 0;
        while (g < k->ngpus && k->gpus[g].device != dev)
            g++;
        if (g == k->ngpus)
            continue;
        /* the part of v past everything this device was already busy with */
        uint64_t from = v->start > dev_end[g] ? v->start : dev_end[g];
        if (v->end > from)
            k->gpus[g].busy_ns += v->end - from;
        if (v->end > dev_end[g])
            dev_end[g] = v->end;
    }
    if (k->niv)
        k->busy_ns += cur_end - cur_start;
    free(dev_end);
}

static int on_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_kernels *k = ctx;
    busy(k);
    uint64_t start = m->run.monotonic_ns;
    uint64_t end = m->run.last_ns > k->last_ns ? m->run.last_ns : k->last_ns;
    k->wall_ns = end > start ? end - start : 0;
    if (k->busy_ns > k->wall_ns)
        k->wall_ns = k->busy_ns; /* activity timed before the header: never above 100 % */

    for (uint32_t i = 0; i < k->by_name_cap; i++)
        if (k->by_name[i].calls)
            k->by_name[k->distinct++] = k->by_name[i];
    if (k->distinct)
        qsort(k->by_name, k->distinct, sizeof(*k->by_name), by_total);
    k->ntop = k->distinct < k->top_max ? k->distinct : k->top_max;
    k->top = k->by_name;
    return 0;
}

int gp_report_kernels_attach(struct gp_report_kernels *k, struct gp_report_model *m, size_t top)
{
    memset(k, 0, sizeof(*k));
    k->top_max = top;
    struct gp_report_observer obs = {.ctx = k, .record = on_record, .finish = on_finish};
    return gp_report_model_observe(m, &obs);
}

void gp_report_kernels_fini(struct gp_report_kernels *k)
{
    free(k->by_name);
    free(k->lanes);
    free(k->gpus);
    free(k->iv);
    free(k->ranges);
    free(k->open);
    memset(k, 0, sizeof(*k));
}

const char *gp_report_act_state_name(unsigned state)
{
    switch (state) {
    case GP_ACT_RECORDING: return "recording";
    case GP_ACT_OFF: return "off";
    case GP_ACT_NO_CUPTI: return "no_cupti";
    case GP_ACT_BUSY: return "busy";
    case GP_ACT_FAILED: return "failed";
    case GP_ACT_STOPPED: return "stopped";
    default: return "unknown";
    }
}

const char *gp_report_copy_kind_name(unsigned kind)
{
    /* CUpti_ActivityMemcpyKind */
    static const char *const names[] = {"?", "HtoD", "DtoH", "HtoA", "AtoH", "AtoA", "AtoD",
                                        "DtoA", "DtoD", "HtoH", "PtoP"};
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *gp_report_kernels_verdict(const struct gp_report_kernels *k,
                                      const struct gp_report_model *m, char *buf, size_t len)
{
    if (k->kernels)
        return NULL;
    const struct gp_report_counts *c = &m->counts;
    int cuda_used = c->allocs || c->failed_allocs || c->frees || c->meminfo || c->oom ||
                    k->memset.count || k->have_status;
    for (unsigned i = 0; i < GP_REPORT_COPY_KINDS; i++)
        cuda_used |= k->memcpy[i].count != 0;
    if (!cuda_used)
        return "CUDA was never used";
    if (!k->have_status)
        return "kernel activity was not recorded (the trace has no CUPTI status: an older "
               "gpuprof, or the program ended before its first CUDA allocation returned)";
    if (k->status.state == GP_ACT_RECORDING)
        return "CUDA was initialised but no kernel ran";
    snprintf(buf, len, "kernel activity was not recorded: %s",
             k->status.reason ? k->status.reason : gp_report_act_state_name(k->status.state));
    return buf;
}
