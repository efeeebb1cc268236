/* analysis_torch.c — PyTorch's caching allocator as gpuprof's Python adapter handed it over
 * (TORCH and TORCH_STAT records): allocated and PyTorch-reserved bytes replayed per device
 * with their peaks and fragmentation, live blocks per Python stack, the latest allocator
 * statistics, and for each OOM the numbers that explain it plus advice computed from them.
 * Replay rules: allocated drops at FREE_REQUESTED (as PyTorch's own stat does) and a later
 * FREE_COMPLETED of the same block changes nothing; frees of blocks never seen take only
 * from what the AT_START statistics said was held before the history began, so the
 * figures never go below zero. Memory is bounded: live blocks, one small ring per device,
 * GP_REPORT_TORCH_MAX_OOMS OOM entries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define RING 72 /* buckets of GROWTH_NS / 64: the 5 s window plus slack */
#define RING_WIDTH_NS (GP_REPORT_TORCH_GROWTH_NS / 64)

enum { BLOCK_LIVE = 0, BLOCK_FREEING = 1 }; /* gp_report_live.kind of a block */
enum { START_ALLOCATED = 1, START_RESERVED = 2 };

struct ring_bucket {
    uint64_t idx;            /* time / RING_WIDTH_NS */
    uint64_t min, min_ns;    /* lowest allocated in the bucket, latest time at it */
};

/* A change of device memory at a time: the shim's (the whole process) or PyTorch's segments.
 * The adapter hands PyTorch's events over in batches, after the shim's records of the same
 * moments, so the non-PyTorch series is computed at the end from both lists merged by time. */
struct delta {
    uint64_t t;
    int64_t d;
    uint8_t torch;
};
#define MAX_DELTAS (1u << 20) /* past it the series stops (the figures do not) */

struct delta_list {
    struct delta *v;
    size_t n, cap;
};

struct torch_priv {
    struct {
        struct ring_bucket b[RING];
        unsigned head, n;
    } ring[GP_REPORT_TORCH_DEVICES];
    size_t recover_from[GP_REPORT_TORCH_DEVICES]; /* OOMs before this already checked */
    uint8_t started[GP_REPORT_TORCH_DEVICES];     /* START_* bits: AT_START values applied */
    int pending;                                  /* ooms[nooms - 1] waits for its stats */
    uint64_t batch[GP_TSTAT_COUNT];
    uint8_t batch_have[GP_TSTAT_COUNT];
    int have_fatal;
    uint64_t fatal;
    uint64_t alloc_total, seg_total; /* over all devices, for the series */
    uint64_t last_alloc, last_live;
    int series_started;
    struct delta_list deltas; /* for the non-PyTorch series; empty without series */
    struct {                  /* the latest NVML record (MEMINFO api 31) not yet used */
        int have;
        uint64_t time_ns, bytes, count, largest_pid, largest_bytes;
    } nvml[GP_REPORT_TORCH_DEVICES];
};

static void note_delta(struct gp_report_torch *t, uint64_t time, uint64_t from, uint64_t to, int torch)
{
    struct delta_list *l = &((struct torch_priv *)t->priv)->deltas;
    if (!t->non_torch_series || from == to || l->n == MAX_DELTAS)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        struct delta *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return; /* the series is an extra: it stops, the replay goes on */
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (struct delta){ .t = time, .d = (int64_t)(to - from), .torch = (uint8_t)torch };
}

static unsigned dev_index(int32_t device)
{
    if (device < 0)
        return 0;
    return device >= GP_REPORT_TORCH_DEVICES ? GP_REPORT_TORCH_DEVICES - 1 : (unsigned)device;
}

uint64_t gp_report_torch_label_batch(const char *label)
{
    /* Same rule as `gpuprof-report fit`: one whitespace-separated batch=N word, N from 1 to
     * 10^9 without leading zeros; none, several or a malformed one give 0. */
    uint64_t found = 0;
    int n = 0;
    for (const char *p = label; p && *p;) {
        size_t len = strcspn(p, " \t\n\r\f\v");
        if (len > 6 && strncmp(p, "batch=", 6) == 0) {
            uint64_t v = 0;
            size_t i = 6;
            while (i < len && i < 16 && p[i] >= '0' && p[i] <= '9')
                v = v * 10 + (uint64_t)(p[i++] - '0');
            n++;
            found = i == len && p[6] != '0' && v <= 1000000000u ? v : 0;
        }
        p += len;
        p += strspn(p, " \t\n\r\f\v");
    }
    return n == 1 ? found : 0;
}

static void ring_note(struct torch_priv *pv, unsigned d, uint64_t t, uint64_t old, uint64_t now)
{
    struct ring_bucket *b = NULL;
    uint64_t idx = t / RING_WIDTH_NS;
    if (pv->ring[d].n) {
        b = &pv->ring[d].b[pv->ring[d].head];
        if (b->idx != idx)
            b = NULL;
    }
    if (!b) { /* the value held since the last change counts from the bucket's start */
        pv->ring[d].head = (pv->ring[d].head + 1) % RING;
        if (pv->ring[d].n < RING)
            pv->ring[d].n++;
        b = &pv->ring[d].b[pv->ring[d].head];
        *b = (struct ring_bucket){ .idx = idx, .min = old, .min_ns = t };
    }
    if (now <= b->min) {
        b->min = now;
        b->min_ns = t;
    }
}

/* Lowest allocated in the GROWTH_NS before t and when it was last there; 0 when no change. */
static int ring_low(const struct torch_priv *pv, unsigned d, uint64_t t, uint64_t *min,
                    uint64_t *min_ns)
{
    int found = 0;
    uint64_t from = t > GP_REPORT_TORCH_GROWTH_NS ? t - GP_REPORT_TORCH_GROWTH_NS : 0;
    for (unsigned k = 0; k < pv->ring[d].n; k++) {
        const struct ring_bucket *b = &pv->ring[d].b[(pv->ring[d].head + RING - k) % RING];
        if ((b->idx + 1) * RING_WIDTH_NS <= from)
            break;
        if (!found || b->min < *min || (b->min == *min && b->min_ns > *min_ns)) {
            *min = b->min;
            *min_ns = b->min_ns;
            found = 1;
        }
    }
    return found;
}

/* frag = 0 right after a segment was taken: the block it was taken for comes next. */
static void update_peaks(struct gp_report_torch_dev *dv, uint64_t t, int frag)
{
    if (dv->allocated > dv->allocated_peak_replayed) {
        dv->allocated_peak_replayed = dv->allocated;
        dv->allocated_peak_ns = t;
    }
    if (dv->segments > dv->segments_peak)
        dv->segments_peak = dv->segments;
    if (frag && dv->segments > dv->allocated && dv->segments - dv->allocated > dv->frag_peak)
        dv->frag_peak = dv->segments - dv->allocated;
}

/* Allocated of device d is now `now`. */
static void set_allocated(struct gp_report_torch *t, unsigned d, uint64_t now, uint64_t time)
{
    struct torch_priv *pv = t->priv;
    struct gp_report_torch_dev *dv = &t->dev[d];
    ring_note(pv, d, time, dv->allocated, now);
    pv->alloc_total = pv->alloc_total - dv->allocated + now;
    dv->allocated = now;
}

static void set_segments(struct gp_report_torch *t, unsigned d, uint64_t now, uint64_t time)
{
    struct torch_priv *pv = t->priv;
    note_delta(t, time, t->dev[d].segments, now, 1);
    pv->seg_total = pv->seg_total - t->dev[d].segments + now;
    t->dev[d].segments = now;
}

/* Bytes no replayed event accounts for leave the base first, never below 0. */
static uint64_t take_base(uint64_t *base, uint64_t *total, uint64_t size)
{
    uint64_t take = size < *base ? size : *base;
    *base -= take;
    return *total - take;
}

static int on_block(struct gp_report_torch *t, const struct gp_record *rec, unsigned d)
{
    struct gp_report_torch_dev *dv = &t->dev[d];
    struct gp_report_live *e = rec->ptr ? gp_report_livemap_find(&t->live, rec->ptr) : NULL;
    switch (rec->api) {
    case GP_TORCH_ALLOC: {
        if (e) { /* the address came back: whatever we held for it is over */
            unsigned od = dev_index(e->device);
            if (e->kind == BLOCK_LIVE) {
                gp_report_sites_sub(&t->sites, e->stack, e->size);
                set_allocated(t, od, t->dev[od].allocated - e->size, rec->time_ns);
            }
            gp_report_livemap_remove(&t->live, e);
        }
        struct gp_report_live n = {
            .ptr = rec->ptr, .size = rec->size, .time_ns = rec->time_ns,
            .stack = rec->stack < t->sites.cap ? rec->stack : 0,
            .device = (int16_t)d, .kind = BLOCK_LIVE,
        };
        if (rec->ptr) {
            int rc = gp_report_livemap_insert(&t->live, &n);
            if (rc < 0)
                return rc;
            gp_report_sites_add(&t->sites, n.stack, n.size);
        }
        set_allocated(t, d, dv->allocated + rec->size, rec->time_ns);
        /* PyTorch went on allocating on this device: its earlier OOMs were survived. */
        struct torch_priv *pv = t->priv;
        for (size_t i = pv->recover_from[d]; i < t->nooms; i++)
            if (dev_index(t->ooms[i].device) == d && rec->time_ns > t->ooms[i].time_ns)
                t->ooms[i].recovered = 1;
        while (pv->recover_from[d] < t->nooms &&
               (t->ooms[pv->recover_from[d]].recovered || dev_index(t->ooms[pv->recover_from[d]].device) != d))
            pv->recover_from[d]++;
        return 0;
    }
    case GP_TORCH_FREE_REQUESTED:
    case GP_TORCH_FREE_COMPLETED:
        if (e && e->kind == BLOCK_LIVE) {
            gp_report_sites_sub(&t->sites, e->stack, e->size);
            unsigned od = dev_index(e->device);
            set_allocated(t, od, t->dev[od].allocated - e->size, rec->time_ns);
        } else if (!e) {
            t->unknown_frees++;
            set_allocated(t, d, take_base(&dv->alloc_base, &dv->allocated, rec->size), rec->time_ns);
        }
        if (e && rec->api == GP_TORCH_FREE_COMPLETED) {
            gp_report_livemap_remove(&t->live, e);
        } else if (e) {
            e->kind = BLOCK_FREEING;
        } else if (rec->api == GP_TORCH_FREE_REQUESTED && rec->ptr) {
            /* Remember the unknown block so its FREE_COMPLETED is not a second unknown free. */
            struct gp_report_live n = { .ptr = rec->ptr, .device = (int16_t)d, .kind = BLOCK_FREEING };
            return gp_report_livemap_insert(&t->live, &n);
        }
        return 0;
    }
    return 0;
}

static int on_segment(struct gp_report_torch *t, const struct gp_record *rec, unsigned d)
{
    struct gp_report_torch_dev *dv = &t->dev[d];
    struct gp_report_live *e = rec->ptr ? gp_report_livemap_find(&t->segs, rec->ptr) : NULL;
    switch (rec->api) {
    case GP_TORCH_SEGMENT_ALLOC:
        if (e) {
            unsigned od = dev_index(e->device);
            set_segments(t, od, t->dev[od].segments - e->size, rec->time_ns);
            gp_report_livemap_remove(&t->segs, e);
        }
        if (rec->ptr) {
            struct gp_report_live n = { .ptr = rec->ptr, .size = rec->size, .device = (int16_t)d };
            int rc = gp_report_livemap_insert(&t->segs, &n);
            if (rc < 0)
                return rc;
        }
        set_segments(t, d, dv->segments + rec->size, rec->time_ns);
        return 0;
    case GP_TORCH_SEGMENT_FREE:
        if (e) {
            unsigned od = dev_index(e->device);
            set_segments(t, od, t->dev[od].segments - e->size, rec->time_ns);
            gp_report_livemap_remove(&t->segs, e);
        } else {
            set_segments(t, d, take_base(&dv->seg_base, &dv->segments, rec->size), rec->time_ns);
        }
        return 0;
    case GP_TORCH_SEGMENT_MAP: /* expandable segments grow and shrink by pages */
        set_segments(t, d, dv->segments + rec->size, rec->time_ns);
        return 0;
    case GP_TORCH_SEGMENT_UNMAP: {
        uint64_t sub = rec->size < dv->segments ? rec->size : dv->segments;
        set_segments(t, d, dv->segments - sub, rec->time_ns);
        if (dv->seg_base > dv->segments)
            dv->seg_base = dv->segments;
        return 0;
    }
    }
    return 0;
}

static int reserve_ooms(struct gp_report_torch *t)
{
    if (t->nooms % 8)
        return 0;
    struct gp_report_torch_oom *v = realloc(t->ooms, (t->nooms + 8) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    t->ooms = v;
    return 0;
}

static int on_oom(struct gp_report_torch *t, const struct gp_report_model *m,
                  const struct gp_record *rec, unsigned d)
{
    struct torch_priv *pv = t->priv;
    t->ooms_total++;
    if (t->nooms == GP_REPORT_TORCH_MAX_OOMS)
        return 0;
    int rc = reserve_ooms(t);
    if (rc < 0)
        return rc;
    struct gp_report_torch_oom *o = &t->ooms[t->nooms];
    memset(o, 0, sizeof(*o));
    o->time_ns = rec->time_ns;
    o->device = rec->device;
    o->stack = rec->stack;
    o->request = rec->size;
    o->segment_request = rec->aux2;
    o->have = rec->aux2 ? GP_TORCH_HAVE_SEGMENT : 0;
    o->device_free = rec->aux1;
    o->have |= rec->aux1 ? GP_TORCH_HAVE_FREE : 0;
    o->allocated = t->dev[d].allocated;
    o->reserved = t->dev[d].segments;
    o->process_device = m->live_bytes[GP_MEM_DEVICE];
    /* What NVML said at the cudaMalloc failure that led here: the shim writes it before
     * PyTorch's OOM observer runs, so it is already seen. Older than the seconds before the
     * OOM, it belongs to another (an OOM PyTorch raised from its own limit calls no CUDA). */
    if (pv->nvml[d].have && pv->nvml[d].time_ns <= rec->time_ns + GP_REPORT_TORCH_GROWTH_NS / 5 &&
        pv->nvml[d].time_ns + GP_REPORT_TORCH_GROWTH_NS >= rec->time_ns) {
        o->have |= GP_TORCH_HAVE_NVML | GP_TORCH_HAVE_OTHER;
        o->other_processes = pv->nvml[d].bytes;
        o->other_processes_count = pv->nvml[d].count;
        o->other_largest_pid = pv->nvml[d].largest_pid;
        o->other_largest_bytes = pv->nvml[d].largest_bytes;
        pv->nvml[d].have = 0;
    }
    uint64_t low = 0, low_ns = 0;
    if (ring_low(pv, d, rec->time_ns, &low, &low_ns) && o->allocated > low) {
        o->growth_bytes = o->allocated - low;
        o->growth_ns = rec->time_ns - low_ns;
    }
    rc = gp_report_sites_top(&t->sites, t->top, &o->sites, NULL);
    if (rc < 0) {
        gp_report_site_list_fini(&o->sites);
        return rc;
    }
    t->nooms++;
    pv->pending = 1;
    memset(pv->batch_have, 0, sizeof(pv->batch_have));
    return 0;
}

static struct gp_report_torch_advice *advice(struct gp_report_torch_oom *o, const char *kind)
{
    struct gp_report_torch_advice *a = &o->advice[o->nadvice++];
    a->kind = kind;
    return a;
}

#define B(i, v) gp_report_fmt_bytes(buf[i], sizeof(buf[i]), (v))

/* The batch size that would have fit, from the label's batch=N. Fixed memory is what was
 * allocated when the step's growth began; without growth every byte counts as per-sample. */
static void advise_batch(const struct gp_report_torch *t, struct gp_report_torch_oom *o)
{
    char buf[6][32];
    uint64_t n = t->label_batch, limit;
    const char *limit_how;
    if (o->have & GP_TORCH_HAVE_FREE) {
        limit = o->reserved + o->device_free;
        limit_how = "reserved + device free";
    } else if (o->have & GP_TORCH_HAVE_TOTAL) {
        limit = o->device_total > o->non_torch ? o->device_total - o->non_torch : 0;
        limit_how = "device total - non-PyTorch memory";
    } else {
        return;
    }
    uint64_t needed = o->allocated + o->request;
    uint64_t fixed = o->growth_bytes && o->growth_bytes <= o->allocated ? o->allocated - o->growth_bytes : 0;
    if (n == 0 || needed <= fixed)
        return;
    uint64_t per = (needed - fixed + n - 1) / n;
    uint64_t fit = limit > fixed ? (limit - fixed) / per : 0;
    if (fit >= n)
        return; /* the numbers say batch=N fits: something else made it fail */
    struct gp_report_torch_advice *a = advice(o, "batch_size");
    if (fixed)
        snprintf(a->text, sizeof(a->text),
                 "batch size: at most %llu (batch=%llu now). The step needed at least %s "
                 "(allocated %s + request %s); with %s fixed (allocated when the step's growth "
                 "began) that is at least %s per sample, and %s could be had (%s). The step may "
                 "need more after this allocation: measure with gpuprof-report fit",
                 (unsigned long long)fit, (unsigned long long)n, B(0, needed), B(1, o->allocated),
                 B(2, o->request), B(3, fixed), B(4, per), B(5, limit), limit_how);
    else
        snprintf(a->text, sizeof(a->text),
                 "batch size: about %llu (batch=%llu now), a rough figure. The step needed at "
                 "least %s (allocated %s + request %s), %s per sample if none of it is fixed, "
                 "and %s could be had (%s): measure with gpuprof-report fit",
                 (unsigned long long)fit, (unsigned long long)n, B(0, needed), B(1, o->allocated),
                 B(2, o->request), B(3, per), B(5, limit), limit_how);
}

/* Advice for one OOM, each line with the numbers behind it (docs/json-schema.md, torch). */
static void advise(const struct gp_report_torch *t, struct gp_report_torch_oom *o)
{
    char buf[6][32];
    o->nadvice = 0;
    advise_batch(t, o);
    uint64_t unalloc = o->reserved > o->allocated ? o->reserved - o->allocated : 0;
    int frag = (o->have & GP_TORCH_HAVE_LARGEST) ? o->largest_free < o->request && unalloc >= o->request
                                                : unalloc >= o->request && o->request > 0;
    if (frag && t->expandable != 1 && t->backend_async != 1) {
        struct gp_report_torch_advice *a = advice(o, "expandable_segments");
        char largest[80] = "no free block could hold it";
        if (o->have & GP_TORCH_HAVE_LARGEST)
            snprintf(largest, sizeof(largest), "the largest free block was %s", B(3, o->largest_free));
        snprintf(a->text, sizeof(a->text),
                 "fragmentation: %s reserved but unallocated (reserved %s - allocated %s) is more "
                 "than the request %s, but %s. Set PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True "
                 "(%s)",
                 B(0, unalloc), B(1, o->reserved), B(2, o->allocated), B(4, o->request), largest,
                 t->expandable == 0 ? "it is off" : "if it is not already on");
    }
    if (o->growth_bytes && o->growth_bytes * 2 > o->allocated) {
        char s[48];
        snprintf(advice(o, "activations")->text, sizeof(o->advice[0].text),
                 "activations: allocated grew by %s in the %s before the OOM, %llu%% of the %s "
                 "allocated then. Activation checkpointing (torch.utils.checkpoint) or gradient "
                 "accumulation over smaller micro-batches cuts that growth",
                 B(0, o->growth_bytes), gp_report_fmt_secs(s, sizeof(s), o->growth_ns),
                 (unsigned long long)(o->growth_bytes * 100 / (o->allocated ? o->allocated : 1)),
                 B(1, o->allocated));
    }
    int total = (o->have & GP_TORCH_HAVE_TOTAL) && o->device_total;
    if (o->non_torch && (total ? o->non_torch * 10 >= o->device_total : o->non_torch * 4 >= o->reserved))
        snprintf(advice(o, "other_memory")->text, sizeof(o->advice[0].text),
                 "other memory: this process held %s of device memory outside PyTorch's allocator "
                 "(cuBLAS/cuDNN workspaces, NCCL buffers, other libraries), against %s %s; the "
                 "peak section lists device memory by library",
                 B(0, o->non_torch), total ? B(1, o->device_total) : B(1, o->reserved),
                 total ? "of device memory" : "reserved by PyTorch");
    if ((o->have & GP_TORCH_HAVE_NVML) && total && o->other_processes * 10 >= o->device_total &&
        o->other_processes)
        snprintf(advice(o, "other_processes")->text, sizeof(o->advice[0].text),
                 "other processes: %llu other process%s held %s of the device's %s (NVML; the "
                 "largest, pid %llu, %s): stop them or use another GPU",
                 (unsigned long long)o->other_processes_count,
                 o->other_processes_count == 1 ? "" : "es", B(0, o->other_processes),
                 B(1, o->device_total), (unsigned long long)o->other_largest_pid,
                 B(2, o->other_largest_bytes));
    else if ((o->have & GP_TORCH_HAVE_OTHER) && total && o->other_processes * 10 >= o->device_total &&
        o->other_processes)
        snprintf(advice(o, "other_processes")->text, sizeof(o->advice[0].text),
                 "other processes: %s of the device's %s was held outside this process's "
                 "allocations (total %s - free %s - this process %s; includes its CUDA context): "
                 "stop them or use another GPU",
                 B(0, o->other_processes), B(1, o->device_total), B(2, o->device_total),
                 B(3, o->device_free), B(4, o->process_device));
}
#undef B

/* The OOM's statistics batch is over: take PyTorch's own numbers where it gave them. */
static void finish_oom(struct gp_report_torch *t)
{
    struct torch_priv *pv = t->priv;
    struct gp_report_torch_oom *o = &t->ooms[t->nooms - 1];
    const struct gp_report_torch_dev *dv = &t->dev[dev_index(o->device)];
    const uint64_t *b = pv->batch;
    const uint8_t *h = pv->batch_have;
    pv->pending = 0;
    if (h[GP_TSTAT_REQUEST] && !o->request)
        o->request = b[GP_TSTAT_REQUEST];
    if (h[GP_TSTAT_SEGMENT_REQUEST] && !(o->have & GP_TORCH_HAVE_SEGMENT) && b[GP_TSTAT_SEGMENT_REQUEST]) {
        o->segment_request = b[GP_TSTAT_SEGMENT_REQUEST];
        o->have |= GP_TORCH_HAVE_SEGMENT;
    }
    if (h[GP_TSTAT_DEVICE_FREE]) {
        o->device_free = b[GP_TSTAT_DEVICE_FREE];
        o->have |= GP_TORCH_HAVE_FREE;
    }
    /* The total: the batch, else the latest the adapter gave, else the shim's MEMINFO. */
    if (h[GP_TSTAT_DEVICE_TOTAL] || dv->have_stat[GP_TSTAT_DEVICE_TOTAL]) {
        o->device_total = h[GP_TSTAT_DEVICE_TOTAL] ? b[GP_TSTAT_DEVICE_TOTAL] : dv->stat[GP_TSTAT_DEVICE_TOTAL];
        o->have |= GP_TORCH_HAVE_TOTAL;
    }
    if (h[GP_TSTAT_ALLOCATED])
        o->allocated = b[GP_TSTAT_ALLOCATED];
    if (h[GP_TSTAT_RESERVED])
        o->reserved = b[GP_TSTAT_RESERVED];
    if (h[GP_TSTAT_INACTIVE_SPLIT]) {
        o->inactive_split = b[GP_TSTAT_INACTIVE_SPLIT];
        o->have |= GP_TORCH_HAVE_INACTIVE;
    }
    if (h[GP_TSTAT_LARGEST_FREE]) {
        o->largest_free = b[GP_TSTAT_LARGEST_FREE];
        o->have |= GP_TORCH_HAVE_LARGEST;
    }
    if (h[GP_TSTAT_PRIVATE_POOLS])
        o->private_pools = b[GP_TSTAT_PRIVATE_POOLS];
    /* Non-PyTorch: the process's device memory outside PyTorch's segments on any device. */
    uint64_t torch_seg = pv->seg_total - dv->segments + o->reserved;
    o->non_torch = o->process_device > torch_seg ? o->process_device - torch_seg : 0;
    if (!(o->have & GP_TORCH_HAVE_NVML) && (o->have & GP_TORCH_HAVE_TOTAL) &&
        (o->have & GP_TORCH_HAVE_FREE)) { /* inferred only when NVML did not measure it */
        uint64_t used = o->device_total > o->device_free ? o->device_total - o->device_free : 0;
        o->other_processes = used > o->process_device ? used - o->process_device : 0;
        o->have |= GP_TORCH_HAVE_OTHER;
    }
    advise(t, o);
}

static void on_stat(struct gp_report_torch *t, const struct gp_record *rec, unsigned d)
{
    struct torch_priv *pv = t->priv;
    struct gp_report_torch_dev *dv = &t->dev[d];
    unsigned s = rec->api;
    if (s == 0 || s >= GP_TSTAT_COUNT)
        return;
    dv->stat[s] = rec->size;
    dv->have_stat[s] = 1;
    /* Settings as known so far: an OOM's advice depends on them. */
    if (s == GP_TSTAT_EXPANDABLE)
        t->expandable = rec->size != 0;
    else if (s == GP_TSTAT_BACKEND_ASYNC)
        t->backend_async = rec->size != 0;
    else if (s == GP_TSTAT_TORCH_VERSION)
        t->torch_version = (uint32_t)rec->size;
    if (pv->pending && rec->kind == GP_TORCH_AT_OOM) {
        pv->batch[s] = rec->size;
        pv->batch_have[s] = 1;
    }
    /* What PyTorch held before its history started, seen by no event (first batch only). */
    if (rec->kind == GP_TORCH_AT_START && s == GP_TSTAT_ALLOCATED && !(pv->started[d] & START_ALLOCATED)) {
        pv->started[d] |= START_ALLOCATED;
        if (rec->size > dv->allocated) {
            dv->alloc_base += rec->size - dv->allocated;
            set_allocated(t, d, rec->size, rec->time_ns);
        }
    }
    if (rec->kind == GP_TORCH_AT_START && s == GP_TSTAT_RESERVED && !(pv->started[d] & START_RESERVED)) {
        pv->started[d] |= START_RESERVED;
        if (rec->size > dv->segments) {
            dv->seg_base += rec->size - dv->segments;
            set_segments(t, d, rec->size, rec->time_ns);
        }
    }
    if (rec->kind == GP_TORCH_AT_EXIT && s == GP_TSTAT_FATAL) {
        pv->have_fatal = 1;
        pv->fatal = rec->size;
    }
}

static void note_series(struct gp_report_torch *t, const struct gp_report_model *m,
                        const struct gp_record *rec)
{
    struct torch_priv *pv = t->priv;
    uint64_t live = m->live_bytes[GP_MEM_DEVICE];
    note_delta(t, rec->time_ns, pv->last_live, live, 0);
    pv->last_live = live;
    if (rec->type != GP_REC_TORCH && rec->type != GP_REC_TORCH_STAT)
        return;
    if (!pv->series_started || pv->alloc_total != pv->last_alloc)
        gp_report_series_add(t->allocated_series, gp_report_model_rel_ns(m, rec->time_ns),
                             pv->alloc_total);
    pv->last_alloc = pv->alloc_total;
    pv->series_started = 1;
}

static int delta_cmp(const void *a, const void *b)
{
    const struct delta *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (int)y->torch - (int)x->torch;
}

/* Process device memory - PyTorch's segments over time; changes at the same moment are
 * applied together, so a segment and its cudaMalloc make no spike. */
static void build_non_torch(struct gp_report_torch *t, const struct gp_report_model *m)
{
    struct delta_list *l = &((struct torch_priv *)t->priv)->deltas;
    uint64_t live = 0, seg = 0;
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), delta_cmp);
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].torch)
            seg += (uint64_t)l->v[i].d;
        else
            live += (uint64_t)l->v[i].d;
        if (i + 1 < l->n && l->v[i + 1].t == l->v[i].t)
            continue;
        gp_report_series_add(t->non_torch_series, gp_report_model_rel_ns(m, l->v[i].t),
                             live > seg ? live - seg : 0);
    }
}

static int on_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_torch *t = ctx;
    struct torch_priv *pv = t->priv;
    int rc = 0;
    switch (rec->type) {
    case GP_REC_STRING:
    case GP_REC_PYFRAME:
    case GP_REC_MODULE:
        return 0; /* definitions: an OOM's statistics may still follow */
    case GP_REC_FRAME:
        rc = gp_report_sites_reserve(&t->sites, rec->id);
        return rc == -ENOMEM ? rc : 0;
    default:
        break;
    }
    if (pv->pending && !(rec->type == GP_REC_TORCH_STAT && rec->kind == GP_TORCH_AT_OOM))
        finish_oom(t);
    unsigned d = dev_index(rec->device);
    if (rec->type == GP_REC_MEMINFO && rec->api == GP_API_NVML_PROCESSES) {
        pv->nvml[d].have = 1;
        pv->nvml[d].time_ns = rec->time_ns;
        pv->nvml[d].bytes = rec->size;
        pv->nvml[d].count = rec->aux1;
        pv->nvml[d].largest_pid = rec->stream;
        pv->nvml[d].largest_bytes = rec->ptr;
        return 0;
    }
    if (rec->type == GP_REC_TORCH) {
        t->present = 1;
        t->events++;
        t->dev[d].used = 1;
        if (rec->api <= GP_TORCH_FREE_COMPLETED)
            rc = on_block(t, rec, d);
        else if (rec->api <= GP_TORCH_SEGMENT_UNMAP)
            rc = on_segment(t, rec, d);
        else if (rec->api == GP_TORCH_OOM)
            rc = on_oom(t, m, rec, d);
        update_peaks(&t->dev[d], rec->time_ns,
                     rec->api != GP_TORCH_SEGMENT_ALLOC && rec->api != GP_TORCH_SEGMENT_MAP);
    } else if (rec->type == GP_REC_TORCH_STAT) {
        t->present = 1;
        t->dev[d].used = 1;
        on_stat(t, rec, d);
        update_peaks(&t->dev[d], rec->time_ns, 1);
    } else if (rec->type != GP_REC_ALLOC && rec->type != GP_REC_FREE) {
        return 0;
    }
    if (rc == 0 && t->allocated_series)
        note_series(t, m, rec);
    if (rc == 0 && rec->type == GP_REC_TORCH && rec->api == GP_TORCH_OOM && t->allocated_series)
        gp_report_series_oom(t->allocated_series, gp_report_model_rel_ns(m, rec->time_ns),
                             t->dev[d].allocated);
    return rc;
}

static int on_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_torch *t = ctx;
    struct torch_priv *pv = t->priv;
    if (pv->pending)
        finish_oom(t);
    if (t->present && t->non_torch_series)
        build_non_torch(t, m);
    t->history_lost = 0;
    for (unsigned d = 0; d < GP_REPORT_TORCH_DEVICES; d++) {
        struct gp_report_torch_dev *dv = &t->dev[d];
        if (!dv->used)
            continue;
        /* The stat peak is the cross-check: a higher one means events were lost. */
        dv->allocated_peak = dv->allocated_peak_replayed;
        if (dv->have_stat[GP_TSTAT_ALLOCATED_PEAK] && dv->stat[GP_TSTAT_ALLOCATED_PEAK] > dv->allocated_peak)
            dv->allocated_peak = dv->stat[GP_TSTAT_ALLOCATED_PEAK];
        if (dv->have_stat[GP_TSTAT_RESERVED_PEAK] && dv->stat[GP_TSTAT_RESERVED_PEAK] > dv->segments_peak)
            dv->segments_peak = dv->stat[GP_TSTAT_RESERVED_PEAK];
        if (dv->allocated_peak > t->peak_allocated_bytes) {
            t->peak_allocated_bytes = dv->allocated_peak;
            t->peak_allocated_ns = dv->allocated_peak_ns;
        }
        if (dv->segments_peak > t->peak_reserved_bytes)
            t->peak_reserved_bytes = dv->segments_peak;
        if (dv->frag_peak > t->peak_fragmentation_bytes)
            t->peak_fragmentation_bytes = dv->frag_peak;
        if (dv->have_stat[GP_TSTAT_DEVICE_TOTAL] && dv->stat[GP_TSTAT_DEVICE_TOTAL] > t->device_total_bytes)
            t->device_total_bytes = dv->stat[GP_TSTAT_DEVICE_TOTAL];
        t->history_lost += dv->stat[GP_TSTAT_HISTORY_LOST];
    }
    if (!t->device_total_bytes && t->present)
        t->device_total_bytes = m->device_total_bytes;
    /* The OOM that ended the run: the adapter says so at exit; without its word (killed,
     * truncated), the last OOM after which PyTorch allocated nothing more. */
    if (t->nooms && t->nooms == t->ooms_total) {
        struct gp_report_torch_oom *last = &t->ooms[t->nooms - 1];
        last->fatal = pv->have_fatal ? pv->fatal != 0 : !last->recovered;
        if (last->fatal)
            last->recovered = 0;
    }
    return 0;
}

int gp_report_torch_attach(struct gp_report_torch *t, struct gp_report_model *m, size_t top,
                           int series)
{
    int rc;
    memset(t, 0, sizeof(*t));
    t->top = top;
    t->expandable = t->backend_async = -1;
    t->label_batch = gp_report_torch_label_batch(m->run.label);
    gp_report_sites_init(&t->sites);
    t->priv = calloc(1, sizeof(struct torch_priv));
    if (!t->priv)
        return -ENOMEM;
    rc = gp_report_livemap_init(&t->live);
    if (rc == 0)
        rc = gp_report_livemap_init(&t->segs);
    if (rc == 0)
        rc = gp_report_sites_reserve(&t->sites, 0);
    if (rc == 0 && series) {
        t->allocated_series = malloc(sizeof(*t->allocated_series));
        t->non_torch_series = malloc(sizeof(*t->non_torch_series));
        if (!t->allocated_series || !t->non_torch_series)
            rc = -ENOMEM;
        else {
            gp_report_series_init(t->allocated_series);
            gp_report_series_init(t->non_torch_series);
        }
    }
    if (rc == 0) {
        struct gp_report_observer obs = { .ctx = t, .record = on_record, .finish = on_finish };
        rc = gp_report_model_observe(m, &obs);
    }
    return rc;
}

void gp_report_torch_fini(struct gp_report_torch *t)
{
    for (size_t i = 0; i < t->nooms; i++)
        gp_report_site_list_fini(&t->ooms[i].sites);
    free(t->ooms);
    free(t->allocated_series);
    free(t->non_torch_series);
    if (t->live.slots)
        gp_report_livemap_fini(&t->live);
    if (t->segs.slots)
        gp_report_livemap_fini(&t->segs);
    gp_report_sites_fini(&t->sites);
    if (t->priv)
        free(((struct torch_priv *)t->priv)->deltas.v);
    free(t->priv);
    memset(t, 0, sizeof(*t));
}
