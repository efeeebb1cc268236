/* analysis_kernels.c — GPU activity (the KERNEL .. OVERHEAD records CUPTI gave the shim):
 * kernels by name (calls, total, min, max), per stream and per device, copies and memsets by
 * direction, NVTX ranges (by name, with the last complete one of each), CUPTI's own view of
 * allocations, dropped records, and the GPU busy share: the union of kernel, copy and memset
 * intervals, per device and over all devices, against the trace's wall time, with the
 * longest idle gaps between them.
 * Memory is bounded by the summary's size, never by the number of activities: records
 * arrive in buffer order, nearly but not exactly in time order, so the union is built
 * online in a bounded window of merged intervals (gp_report_busy_*, report.h says how and
 * when it is exact); lanes, devices, open and named ranges have fixed caps. The timeline
 * view reads the trace a second time for the boxes of its window. */
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

/* ---- the busy union in bounded memory ---------------------------------------------- */

void gp_report_busy_init(struct gp_report_busy *b, size_t window, int keep_gaps)
{
    memset(b, 0, sizeof(*b));
    b->window = window < 2 ? 2 : window;
    b->keep_gaps = keep_gaps;
}

void gp_report_busy_fini(struct gp_report_busy *b)
{
    free(b->set);
    free(b->batch);
    memset(b, 0, sizeof(*b));
}

static void note_mem(struct gp_report_busy *b)
{
    uint64_t bytes = (b->set_cap + b->batch_cap) * sizeof(struct gp_report_span);
    if (bytes > b->mem_peak)
        b->mem_peak = bytes;
}

static void keep_gap(struct gp_report_range *gaps, size_t *ngaps, uint64_t start, uint64_t end)
{
    struct gp_report_range g = {start, end, 0, 0};
    size_t i = *ngaps < GP_REPORT_IDLE_GAPS ? (*ngaps)++ : GP_REPORT_IDLE_GAPS;
    if (i == GP_REPORT_IDLE_GAPS) {
        if (end - start <= gaps[i - 1].end - gaps[i - 1].start)
            return;
        i--;
    }
    /* insertion, longest first; gaps come in time order, so equal lengths keep it */
    while (i > 0 && gaps[i - 1].end - gaps[i - 1].start < end - start) {
        gaps[i] = gaps[i - 1];
        i--;
    }
    gaps[i] = g;
}

static void retire(struct gp_report_busy *b, const struct gp_report_span *v)
{
    if (b->retired_any && v->start > b->retired_to && b->keep_gaps)
        keep_gap(b->gaps, &b->ngaps, b->retired_to, v->start);
    b->busy_ns += v->end - v->start;
    b->retired_to = v->end;
    b->retired_any = 1;
}

static int by_span_start(const void *a, const void *b)
{
    const struct gp_report_span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Merges the batch into the set, then retires the front as report.h says. */
static void flush(struct gp_report_busy *b)
{
    size_t n = b->n, nb = b->nbatch;
    if (nb) {
        int sorted = 1;
        for (size_t i = 1; i < nb && sorted; i++)
            sorted = b->batch[i - 1].start <= b->batch[i].start;
        if (!sorted)
            qsort(b->batch, nb, sizeof(*b->batch), by_span_start);
        /* backwards into the set's free tail (set_cap >= n + nb), then coalesce forwards */
        size_t i = n, j = nb, w = n + nb;
        while (j > 0) {
            if (i > 0 && b->set[i - 1].start > b->batch[j - 1].start)
                b->set[--w] = b->set[--i];
            else
                b->set[--w] = b->batch[--j];
        }
        size_t out = 0;
        for (size_t r = 0; r < n + nb; r++) {
            struct gp_report_span v = b->set[r];
            if (out && v.start <= b->set[out - 1].end) {
                if (v.end > b->set[out - 1].end)
                    b->set[out - 1].end = v.end;
            } else {
                b->set[out++] = v;
            }
        }
        b->n = n = out;
        b->nbatch = 0;
    }
    size_t cut = 0;
    uint64_t mark = b->newest_start > GP_REPORT_BUSY_MARGIN_NS
                        ? b->newest_start - GP_REPORT_BUSY_MARGIN_NS : 0;
    while (cut < n && (n - cut > b->window || b->set[cut].end < mark))
        retire(b, &b->set[cut++]);
    if (cut) {
        memmove(b->set, b->set + cut, (n - cut) * sizeof(*b->set));
        b->n = n - cut;
    }
}

int gp_report_busy_add(struct gp_report_busy *b, uint64_t start, uint64_t end)
{
    if (end <= start)
        return 0;
    if (start > b->newest_start)
        b->newest_start = start;
    if (b->retired_any && start < b->retired_to) {
        /* behind what is final: assume it overlapped, and say how much that was */
        uint64_t cut = end < b->retired_to ? end : b->retired_to;
        b->approx_ns += cut - start;
        if (end <= b->retired_to)
            return 0;
        start = b->retired_to;
    }
    if (b->n && start >= b->set[b->n - 1].start) {
        /* in order: extend or append to the set's end */
        struct gp_report_span *last = &b->set[b->n - 1];
        if (start <= last->end) {
            if (end > last->end)
                last->end = end;
            return 0;
        }
    } else if (b->n) {
        if (grow((void **)&b->batch, &b->batch_cap, b->nbatch + 1, sizeof(*b->batch)) < 0)
            return -ENOMEM;
        b->batch[b->nbatch++] = (struct gp_report_span){start, end};
        note_mem(b);
        /* the set must have room for the merge */
        if (grow((void **)&b->set, &b->set_cap, b->n + b->nbatch, sizeof(*b->set)) < 0)
            return -ENOMEM;
        note_mem(b);
        if (b->nbatch >= b->window || b->n + b->nbatch >= 2 * b->window)
            flush(b);
        return 0;
    }
    if (grow((void **)&b->set, &b->set_cap, b->n + b->nbatch + 1, sizeof(*b->set)) < 0)
        return -ENOMEM;
    note_mem(b);
    b->set[b->n++] = (struct gp_report_span){start, end};
    if (b->n + b->nbatch >= 2 * b->window)
        flush(b);
    return 0;
}

int gp_report_busy_finish(struct gp_report_busy *b)
{
    flush(b);
    for (size_t i = 0; i < b->n; i++)
        retire(b, &b->set[i]);
    b->n = 0;
    return 0;
}

/* ---- lanes, devices --------------------------------------------------------------- */

/* The lane of (device, stream); UINT32_MAX past GP_REPORT_MAX_LANES. */
static int lane_of(struct gp_report_kernels *k, uint32_t device, uint32_t stream, uint32_t *out)
{
    /* Programs use a handful of streams: a linear search beats hashing here, and the
     * cap keeps a hostile trace from making it quadratic. */
    for (size_t i = 0; i < k->nlanes; i++) {
        if (k->lanes[i].device == device && k->lanes[i].stream == stream) {
            *out = (uint32_t)i;
            return 0;
        }
    }
    if (k->nlanes == GP_REPORT_MAX_LANES) {
        k->lanes_lost++;
        *out = UINT32_MAX;
        return 0;
    }
    if (grow((void **)&k->lanes, &k->lanes_cap, k->nlanes + 1, sizeof(*k->lanes)) < 0)
        return -ENOMEM;
    k->lanes[k->nlanes] = (struct gp_report_lane){.device = device, .stream = stream};
    *out = (uint32_t)k->nlanes++;
    return 0;
}

/* The index of device in gpus; SIZE_MAX past GP_REPORT_MAX_GPUS. */
static int gpu_of(struct gp_report_kernels *k, uint32_t device, size_t *out)
{
    for (size_t i = 0; i < k->ngpus; i++) {
        if (k->gpus[i].device == device) {
            *out = i;
            return 0;
        }
    }
    if (k->ngpus == GP_REPORT_MAX_GPUS) {
        k->gpus_lost++;
        *out = SIZE_MAX;
        return 0;
    }
    size_t cap = k->gpus_cap;
    if (grow((void **)&k->gpus, &k->gpus_cap, k->ngpus + 1, sizeof(*k->gpus)) < 0 ||
        grow((void **)&k->dev_busy, &cap, k->ngpus + 1, sizeof(*k->dev_busy)) < 0)
        return -ENOMEM;
    k->gpus[k->ngpus] = (struct gp_report_gpu){.device = device};
    gp_report_busy_init(&k->dev_busy[k->ngpus], GP_REPORT_BUSY_DEV_WINDOW, 0);
    *out = k->ngpus++;
    return 0;
}

/* Timed activity joins the unions (gpu SIZE_MAX: past the devices with their own). */
static int add_interval(struct gp_report_kernels *k, const struct gp_activity *a, size_t gpu)
{
    if (!a->start_ns || a->end_ns <= a->start_ns)
        return 0;
    if (!k->first_ns || a->start_ns < k->first_ns)
        k->first_ns = a->start_ns;
    if (a->end_ns > k->last_ns)
        k->last_ns = a->end_ns;
    int rc = gp_report_busy_add(&k->busy, a->start_ns, a->end_ns);
    if (rc == 0 && gpu != SIZE_MAX)
        rc = gp_report_busy_add(&k->dev_busy[gpu], a->start_ns, a->end_ns);
    return rc;
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
    if (lane != UINT32_MAX) {
        k->lanes[lane].kernels++;
        k->lanes[lane].kernel_ns += d;
    }
    size_t g;
    if (gpu_of(k, a->device, &g) < 0)
        return -ENOMEM;
    if (g != SIZE_MAX) {
        k->gpus[g].kernels++;
        k->gpus[g].kernel_ns += d;
    }
    return add_interval(k, a, g);
}

static int on_copy(struct gp_report_kernels *k, const struct gp_activity *a, uint32_t lane)
{
    uint64_t d = a->start_ns && a->end_ns > a->start_ns ? a->end_ns - a->start_ns : 0;
    struct gp_report_copy_stat *c =
        a->type == GP_REC_MEMSET ? &k->memset : &k->memcpy[a->kind % GP_REPORT_COPY_KINDS];
    c->count++;
    c->bytes += a->bytes;
    c->time_ns += d;
    if (lane != UINT32_MAX) {
        k->lanes[lane].copies++;
        k->lanes[lane].copy_ns += d;
    }
    size_t g;
    if (gpu_of(k, a->device, &g) < 0)
        return -ENOMEM;
    return add_interval(k, a, g);
}

/* ---- NVTX ranges ------------------------------------------------------------------ */

#define NAME_SLOTS (2 * GP_REPORT_MAX_RANGE_NAMES) /* a power of two */

/* The entry of name_id, made if there is room; NULL past GP_REPORT_MAX_RANGE_NAMES. */
static int name_of(struct gp_report_kernels *k, uint32_t name_id, struct gp_report_range_name **out)
{
    *out = NULL;
    if (!k->name_slots && !(k->name_slots = calloc(NAME_SLOTS, sizeof(*k->name_slots))))
        return -ENOMEM;
    size_t h = (name_id * 2654435761u) & (NAME_SLOTS - 1);
    while (k->name_slots[h]) {
        struct gp_report_range_name *e = &k->names[k->name_slots[h] - 1];
        if (e->name_id == name_id) {
            *out = e;
            return 0;
        }
        h = (h + 1) & (NAME_SLOTS - 1);
    }
    if (k->nnames == GP_REPORT_MAX_RANGE_NAMES)
        return 0;
    if (grow((void **)&k->names, &k->names_cap, k->nnames + 1, sizeof(*k->names)) < 0)
        return -ENOMEM;
    k->names[k->nnames] = (struct gp_report_range_name){.name_id = name_id};
    k->name_slots[h] = (uint32_t)++k->nnames;
    *out = &k->names[k->nnames - 1];
    return 0;
}

static int range_done(struct gp_report_kernels *k, const struct gp_report_range *r)
{
    k->nranges_total++;
    struct gp_report_range_name *e;
    if (name_of(k, r->name_id, &e) < 0)
        return -ENOMEM;
    if (!e) {
        k->names_lost++;
    } else if (r->end >= r->start) {
        if (!e->count || r->start >= e->last.start)
            e->last = *r;
        e->count++;
    }
    if (k->nranges == GP_REPORT_MAX_RANGES)
        return 0;
    if (grow((void **)&k->ranges, &k->ranges_cap, k->nranges + 1, sizeof(*k->ranges)) < 0)
        return -ENOMEM;
    k->ranges[k->nranges++] = *r;
    return 0;
}

/* NVTX: a START opens a range under its id, the END with that id closes it. */
static int on_marker(struct gp_report_kernels *k, const struct gp_activity *a)
{
    k->markers++;
    if (a->kind & 2) { /* CUPTI_ACTIVITY_FLAG_MARKER_START */
        if (k->nopen == GP_REPORT_MAX_OPEN_RANGES) {
            k->open_lost++;
            return 0;
        }
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
        return range_done(k, &r);
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

static int by_total(const void *a, const void *b)
{
    const struct gp_report_kernel_stat *x = a, *y = b;
    if (x->total_ns != y->total_ns)
        return x->total_ns > y->total_ns ? -1 : 1;
    if (x->calls != y->calls)
        return x->calls > y->calls ? -1 : 1;
    return x->name_id < y->name_id ? -1 : x->name_id > y->name_id;
}

static int on_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_kernels *k = ctx;
    gp_report_busy_finish(&k->busy);
    k->busy_ns = k->busy.busy_ns;
    k->busy_approx_ns = k->busy.approx_ns;
    memcpy(k->gaps, k->busy.gaps, sizeof(k->gaps));
    k->ngaps = k->busy.ngaps;
    for (size_t i = 0; i < k->ngpus; i++) {
        gp_report_busy_finish(&k->dev_busy[i]);
        k->gpus[i].busy_ns = k->dev_busy[i].busy_ns;
        /* a device's smaller window may have had to approximate where the whole did not */
        if (k->dev_busy[i].approx_ns > k->busy_approx_ns)
            k->busy_approx_ns = k->dev_busy[i].approx_ns;
    }
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
    gp_report_busy_init(&k->busy, GP_REPORT_BUSY_WINDOW, 1);
    struct gp_report_observer obs = {.ctx = k, .record = on_record, .finish = on_finish};
    return gp_report_model_observe(m, &obs);
}

void gp_report_kernels_fini(struct gp_report_kernels *k)
{
    free(k->by_name);
    free(k->lanes);
    free(k->gpus);
    for (size_t i = 0; i < k->ngpus; i++)
        gp_report_busy_fini(&k->dev_busy[i]);
    free(k->dev_busy);
    gp_report_busy_fini(&k->busy);
    free(k->ranges);
    free(k->open);
    free(k->names);
    free(k->name_slots);
    memset(k, 0, sizeof(*k));
}

size_t gp_report_kernels_mem_bytes(const struct gp_report_kernels *k)
{
    size_t n = (size_t)k->by_name_cap * sizeof(*k->by_name) + k->lanes_cap * sizeof(*k->lanes) +
               k->gpus_cap * (sizeof(*k->gpus) + sizeof(*k->dev_busy)) +
               (k->ranges_cap + k->open_cap) * sizeof(struct gp_report_range) +
               k->names_cap * sizeof(*k->names) +
               (k->name_slots ? NAME_SLOTS * sizeof(*k->name_slots) : 0);
    n += (k->busy.set_cap + k->busy.batch_cap) * sizeof(struct gp_report_span);
    for (size_t i = 0; i < k->ngpus; i++)
        n += (k->dev_busy[i].set_cap + k->dev_busy[i].batch_cap) * sizeof(struct gp_report_span);
    return n;
}

/* ---- windows: NVTX ranges by name ------------------------------------------------- */

int gp_report_kernels_step_range(const struct gp_report_kernels *k, struct gp_report_range *out)
{
    const struct gp_report_range_name *best = NULL;
    for (size_t i = 0; i < k->nnames; i++)
        if (k->names[i].count && (!best || k->names[i].count > best->count))
            best = &k->names[i];
    if (!best || best->last.end <= best->last.start)
        return 0;
    *out = best->last;
    return 1;
}

/* Appends s to buf (length *len of cap) in quotes, with control characters, quotes and
 * invalid UTF-8 shown as '?': a trace's names must not drive the terminal. */
static void put_quoted(char *buf, size_t cap, size_t *len, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p), n = 0;
    char tmp[160];
    tmp[n++] = '"';
    while (left && n + 10 < sizeof(tmp)) {
        uint32_t cp;
        size_t l = gp_report_utf8_next(p, left, &cp);
        if (!l || cp < 0x20 || cp == 0x7f || cp == '"' || (cp >= 0x80 && cp < 0xa0)) {
            tmp[n++] = '?';
            l = l ? l : 1;
        } else {
            memcpy(tmp + n, p, l);
            n += l;
        }
        p += l;
        left -= l;
    }
    if (left)
        n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "...");
    tmp[n++] = '"';
    tmp[n] = '\0';
    if (*len < cap) {
        int w = snprintf(buf + *len, cap - *len, "%s", tmp);
        *len += w > 0 ? (size_t)w : 0;
    }
}

int gp_report_kernels_find_range(const struct gp_report_kernels *k, const struct gp_report_model *m,
                                 const char *name, struct gp_report_range *out, char *err,
                                 size_t errlen)
{
    for (size_t i = 0; i < k->nnames; i++) {
        const char *s = k->names[i].name_id ? gp_trace_reader_string(m->reader, k->names[i].name_id)
                                            : NULL;
        if (s && strcmp(s, name) == 0 && k->names[i].count) {
            *out = k->names[i].last;
            return 0;
        }
    }
    if (!err || !errlen)
        return -ENOENT;
    size_t len = 0;
    len += (size_t)snprintf(err, errlen, "no complete NVTX range named ");
    put_quoted(err, errlen, &len, name);
    size_t listed = 0, more = 0;
    for (size_t i = 0; i < k->nnames; i++) {
        const char *s = k->names[i].name_id ? gp_trace_reader_string(m->reader, k->names[i].name_id)
                                            : NULL;
        if (!s || !k->names[i].count)
            continue;
        if (listed == 5) {
            more = 1;
            break;
        }
        if (len < errlen)
            len += (size_t)snprintf(err + len, errlen - len, listed ? ", " : " (ranges: ");
        put_quoted(err, errlen, &len, s);
        listed++;
    }
    if (len < errlen)
        snprintf(err + len, errlen - len, "%s",
                 listed == 0 ? " (the trace has no named NVTX ranges)" : more ? ", ...)" : ")");
    return -ENOENT;
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
