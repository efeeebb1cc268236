/* view_perfetto.c — the run as Chrome trace-event JSON (--perfetto), which ui.perfetto.dev
 * and chrome://tracing open: process and thread names, allocation calls as instants and
 * cuBLAS/cuDNN calls as complete events on their CPU threads, device memory (pools, PyTorch's
 * allocated and reserved) as counters, kernels, copies and memsets on one track per GPU
 * stream, NVTX ranges, and flow arrows from a library call to the kernels it launched. One
 * trace, or a job of several (each process a group, clocks aligned on the headers' wall
 * clocks). Written while the trace is read a second time (analysis_events.c): memory does
 * not grow with the trace. Complete events on one track must nest, so spans that overlap
 * without nesting move to an extra track of the same stream ("#2"); tracks are bounded and
 * what cannot be placed is counted in otherData. docs/views.md describes the output. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "perfetto_tracks.h"

#define GPU_TID_BASE 1000000000u /* synthetic thread ids of GPU and NVTX tracks */
#define FLOW_SLOTS 65536u        /* recent library calls and correlations kept for flows */
#define MAX_THREADS 65536u       /* CPU threads remembered (names, call nesting) */
/* CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM2: the kind gpuprof pushes its library calls' ids
 * under (CUSTOM0 and CUSTOM1 are PyTorch's). */
#define FLOW_EXT_KIND 5

struct thr {
    uint32_t tid;
    uint64_t lib_end; /* end of its last library call written (job-relative) */
};
struct lcall { /* a library call that may start flows, by external id */
    uint64_t ext, s, e;
    uint32_t tid;
};
struct corr { /* CUPTI correlation id -> external id */
    uint64_t ext;
    uint32_t corr;
    uint8_t used;
};
struct pend { /* a counter's value before the window, written at its start */
    int set;
    uint64_t v[3];
};

struct pf {
    FILE *f;
    int *first;
    uint32_t pid;
    uint64_t mono0, shift;  /* job-relative ns = (abs - mono0) + shift */
    uint64_t from, to;      /* the window, job-relative */
    uint64_t flow_base;
    int have_pools, have_torch;
    struct pend mem, torch;
    struct thr *thr;
    size_t nthr;
    struct gp_report_pf_tracks tracks;
    struct lcall *lc;
    struct corr *cr;
    struct gp_report_names names;
    uint64_t late, dropped, flows, calls_overlap;
};

static void sep(struct pf *o)
{
    fputs(*o->first ? "\n" : ",\n", o->f);
    *o->first = 0;
}

static uint64_t rel(const struct pf *o, uint64_t abs)
{
    return (abs > o->mono0 ? abs - o->mono0 : 0) + o->shift;
}

static void ts(struct pf *o, const char *key, uint64_t r)
{
    fprintf(o->f, "\"%s\":%" PRIu64 ".%03u", key, r / 1000, (unsigned)(r % 1000));
}

static void meta(struct pf *o, const char *what, uint32_t tid, const char *name)
{
    sep(o);
    fprintf(o->f, "{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"name\":\"%s\","
                  "\"args\":{\"name\":", o->pid, tid, what);
    gp_report_json_write_escaped(o->f, name);
    fputs("}}", o->f);
}

/* Clips [*s, *e) to the window; 0 when nothing of it is inside. */
static int clip(const struct pf *o, uint64_t *s, uint64_t *e)
{
    if (*e < o->from || *s >= o->to || (*e == o->from && *s < o->from))
        return 0;
    if (*s < o->from)
        *s = o->from;
    if (*e > o->to)
        *e = o->to;
    return 1;
}

/* The thread's entry, named when first seen; NULL past MAX_THREADS (still named). */
static struct thr *thread(struct pf *o, uint32_t tid)
{
    for (size_t i = 0; i < o->nthr; i++)
        if (o->thr[i].tid == tid)
            return &o->thr[i];
    char name[48];
    snprintf(name, sizeof(name), "thread %" PRIu32, tid);
    meta(o, "thread_name", tid, name);
    if (o->nthr == MAX_THREADS)
        return NULL;
    if ((o->nthr & (o->nthr - 1)) == 0 || o->nthr == 0) {
        size_t cap = o->nthr ? o->nthr * 2 : 8;
        struct thr *p = realloc(o->thr, cap * sizeof(*p));
        if (!p)
            return NULL;
        o->thr = p;
    }
    o->thr[o->nthr] = (struct thr){.tid = tid};
    return &o->thr[o->nthr++];
}

static void counter(struct pf *o, const char *name, uint64_t t, uint64_t v)
{
    sep(o);
    fprintf(o->f, "{\"ph\":\"C\",\"pid\":%" PRIu32 ",\"name\":\"%s\",", o->pid, name);
    ts(o, "ts", t);
    fprintf(o->f, ",\"args\":{\"bytes\":%" PRIu64 "}}", v);
}

static void mem_counters(struct pf *o, uint64_t t, const uint64_t *v)
{
    counter(o, "device memory reserved", t, v[0]);
    if (o->have_pools) {
        counter(o, "pool reserved", t, v[1]);
        counter(o, "pool allocated", t, v[2]);
    }
}

static void torch_counters(struct pf *o, uint64_t t, const uint64_t *v)
{
    counter(o, "PyTorch allocated", t, v[0]);
    counter(o, "PyTorch reserved", t, v[1]);
}

/* A counter sample: before the window it waits (the value in force at the window's start),
 * inside it is written, after it dropped. */
static void sample(struct pf *o, struct pend *p, uint64_t t, const uint64_t *v, int n,
                   void (*write)(struct pf *, uint64_t, const uint64_t *))
{
    if (t < o->from) {
        p->set = 1;
        memcpy(p->v, v, (size_t)n * sizeof(*v));
        return;
    }
    if (t >= o->to)
        return;
    if (p->set && t > o->from)
        write(o, o->from, p->v);
    p->set = 0;
    write(o, t, v);
}

static int on_memory(void *ctx, const struct gp_report_mem_sample *s)
{
    struct pf *o = ctx;
    uint64_t v[3] = {s->device_bytes, s->pool_bytes, s->pool_used};
    sample(o, &o->mem, rel(o, s->time_ns), v, 3, mem_counters);
    return 0;
}

static int on_torch(void *ctx, uint64_t time_ns, uint64_t allocated, uint64_t reserved)
{
    struct pf *o = ctx;
    uint64_t v[2] = {allocated, reserved};
    if (o->have_torch)
        sample(o, &o->torch, rel(o, time_ns), v, 2, torch_counters);
    return 0;
}

static void alloc_call(struct pf *o, const struct gp_record *c)
{
    uint64_t t = rel(o, c->time_ns);
    if (t < o->from || t >= o->to)
        return;
    thread(o, c->tid);
    const char *cat = c->type == GP_REC_ALLOC ? "alloc" : c->type == GP_REC_FREE ? "free" : "oom";
    sep(o);
    fprintf(o->f, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
                  ",\"cat\":\"%s\",\"name\":", o->pid, c->tid, cat);
    gp_report_json_write_escaped(o->f, c->type == GP_REC_OOM ? "OOM" : gp_trace_api_name(c->api));
    fputc(',', o->f);
    ts(o, "ts", t);
    fprintf(o->f, ",\"args\":{\"bytes\":%" PRIu64 ",\"ptr\":\"0x%" PRIx64 "\",\"kind\":", c->size,
            c->ptr);
    gp_report_json_write_escaped(o->f, gp_trace_kind_name(c->kind));
    fprintf(o->f, ",\"device\":%" PRId32 ",\"result\":%" PRId32 ",\"stack_id\":%" PRIu32 "}}",
            c->device, c->result, c->stack);
}

/* A cuBLAS/cuDNN call: a complete event on its thread, [time - duration, time). Calls on one
 * thread never overlap (only the outermost is recorded); one that would is left out. */
static void lib_call(struct pf *o, const struct gp_record *c)
{
    uint64_t e = rel(o, c->time_ns), d = c->lib.dur_ns;
    uint64_t s = d <= e ? e - d : 0;
    if (!clip(o, &s, &e))
        return;
    struct thr *th = thread(o, c->tid);
    if (th) {
        if (s < th->lib_end) {
            o->calls_overlap++;
            return;
        }
        th->lib_end = e;
    }
    struct gp_report_tc_verdict v;
    gp_report_tc_classify(c, &v);
    sep(o);
    fprintf(o->f, "{\"ph\":\"X\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"cat\":\"libcall\","
                  "\"name\":", o->pid, c->tid);
    gp_report_json_write_escaped(o->f, gp_trace_lib_api_name(c->api));
    fputc(',', o->f);
    ts(o, "ts", s);
    fputc(',', o->f);
    ts(o, "dur", e - s);
    fprintf(o->f, ",\"args\":{\"m\":%" PRIu64 ",\"n\":%" PRIu64 ",\"k\":%" PRIu64
                  ",\"batch\":%" PRIu64 ",\"types\":\"%u/%u/%u\",\"math_mode\":%u,\"stream\":%" PRIu64
                  ",\"result\":%" PRId32 ",\"verdict\":\"%s\",\"precision\":\"%s\",\"ext_id\":%" PRIu64
                  ",\"stack_id\":%" PRIu32 "}}",
            c->size, c->aux1, c->aux2, c->lib.batch, c->lib.type_a, c->lib.type_b, c->lib.type_c,
            c->kind, c->stream, c->result, gp_report_tc_class_name(v.cls),
            v.precision ? v.precision : "?", c->lib.ext_id, c->stack);
    if (c->lib.ext_id) {
        struct lcall *l = &o->lc[c->lib.ext_id % FLOW_SLOTS];
        *l = (struct lcall){.ext = c->lib.ext_id, .s = s, .e = e, .tid = c->tid};
    }
}

static int on_call(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    (void)m;
    if (rec->type == GP_REC_LIBCALL)
        lib_call(ctx, rec);
    else
        alloc_call(ctx, rec);
    return 0;
}

static int on_ext_corr(void *ctx, const struct gp_activity *a)
{
    struct pf *o = ctx;
    if (a->kind != FLOW_EXT_KIND || !a->correlation)
        return 0;
    o->cr[a->correlation % FLOW_SLOTS] = (struct corr){.ext = a->value, .corr = a->correlation,
                                                       .used = 1};
    return 0;
}

/* The arrow from the library call that launched it, when the trace ties them. */
static void flow(struct pf *o, const struct gp_report_span_ev *v, uint32_t tid, uint64_t s,
                 uint64_t e)
{
    const struct corr *c = &o->cr[v->correlation % FLOW_SLOTS];
    if (!v->correlation || !c->used || c->corr != v->correlation)
        return;
    const struct lcall *l = &o->lc[c->ext % FLOW_SLOTS];
    if (l->ext != c->ext)
        return;
    uint64_t id = o->flow_base + v->correlation;
    o->flows++;
    sep(o);
    fprintf(o->f, "{\"ph\":\"s\",\"id\":%" PRIu64 ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
                  ",\"cat\":\"launch\",\"name\":\"launch\",", id, o->pid, l->tid);
    ts(o, "ts", l->s + (l->e - l->s) / 2);
    fputs("}", o->f);
    sep(o);
    fprintf(o->f, "{\"ph\":\"f\",\"bp\":\"e\",\"id\":%" PRIu64 ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
                  ",\"cat\":\"launch\",\"name\":\"launch\",", id, o->pid, tid);
    ts(o, "ts", s + (e - s) / 2);
    fputs("}", o->f);
}

static int on_span(void *ctx, const struct gp_report_model *m, const struct gp_report_span_ev *v)
{
    struct pf *o = ctx;
    uint64_t s = rel(o, v->start_ns), e = rel(o, v->end_ns);
    if (!clip(o, &s, &e))
        return 0;
    o->late += v->late;
    uint32_t track;
    int nvtx = v->type == GP_REC_MARKER;
    int rc = gp_report_pf_tracks_place(&o->tracks, nvtx, v->device, v->stream, s, e, &track);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        o->dropped++;
        return 0;
    }
    char buf[4096];
    const char *name = gp_report_span_name(&o->names, m, v, buf, sizeof(buf));
    const char *cat = nvtx ? "nvtx" : v->type == GP_REC_KERNEL ? "kernel"
                                    : v->type == GP_REC_MEMCPY ? "memcpy" : "memset";
    sep(o);
    fprintf(o->f, "{\"ph\":\"X\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"cat\":\"%s\",\"name\":",
            o->pid, GPU_TID_BASE + track, cat);
    gp_report_json_write_escaped(o->f, name);
    fputc(',', o->f);
    ts(o, "ts", s);
    fputc(',', o->f);
    ts(o, "dur", e - s);
    if (nvtx) {
        fputs("}", o->f);
        return 0;
    }
    fprintf(o->f, ",\"args\":{\"device\":%" PRIu32 ",\"stream\":%" PRIu32 ",\"correlation\":%" PRIu32
                  ",\"bytes\":%" PRIu64 "}}", v->device, v->stream, v->correlation, v->bytes);
    flow(o, v, GPU_TID_BASE + track, s, e);
    return 0;
}

static void track_names(struct pf *o)
{
    const struct gp_report_pf_tracks *t = &o->tracks;
    for (uint32_t i = 0; i < t->n; i++) {
        char name[96];
        gp_report_pf_track_name(t, i, name, sizeof(name));
        meta(o, "thread_name", GPU_TID_BASE + i, name);
        sep(o);
        fprintf(o->f, "{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
                      ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%" PRIu64 "}}",
                o->pid, GPU_TID_BASE + i, gp_report_pf_track_order(t, i));
    }
}

/* One process: its name, then everything the second read of its trace gives. */
static int write_process(struct pf *o, const struct gp_report_pf_proc *p, const char *pname,
                         char *err, size_t errlen)
{
    int rc = 0;
    o->lc = calloc(FLOW_SLOTS, sizeof(*o->lc));
    o->cr = calloc(FLOW_SLOTS, sizeof(*o->cr));
    if (!o->lc || !o->cr) {
        rc = -ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    meta(o, "process_name", 0, pname);
    struct gp_report_events_sink sink = {.ctx = o, .call = on_call, .memory = on_memory,
                                         .torch = on_torch, .ext_corr = on_ext_corr,
                                         .span = on_span};
    if (o->from < o->to)
        rc = gp_report_events_stream(p->path, &sink, err, errlen);
    if (rc == 0 && o->mem.set)
        mem_counters(o, o->from, o->mem.v);
    if (rc == 0 && o->torch.set)
        torch_counters(o, o->from, o->torch.v);
    if (rc == 0)
        track_names(o);
out:
    free(o->lc);
    free(o->cr);
    free(o->thr);
    gp_report_pf_tracks_fini(&o->tracks);
    gp_report_names_fini(&o->names);
    return rc;
}

static void stats(FILE *f, const struct pf *o)
{
    fprintf(f, "\"flows\":%" PRIu64 ",\"spans_late\":%" PRIu64 ",\"spans_dropped\":%" PRIu64
               ",\"calls_overlapping\":%" PRIu64, o->flows, o->late, o->dropped, o->calls_overlap);
}

int gp_report_view_perfetto(FILE *f, const struct gp_report *r, const struct gp_report_window *win)
{
    const struct gp_report_model *m = r->model;
    int first = 1;
    struct pf o = {.f = f, .first = &first, .pid = m->run.pid, .mono0 = m->run.monotonic_ns,
                   .to = UINT64_MAX, .have_pools = m->pools.n || m->pools.ignored,
                   .have_torch = r->torch.present};
    if (win && win->from_ns != UINT64_MAX)
        o.from = win->from_ns;
    if (win && win->to_ns != UINT64_MAX)
        o.to = win->to_ns;
    if (win && win->range) {
        /* --range NAME: the last complete NVTX range of that name, as --plot-timeline */
        struct gp_report_range g;
        char err[512];
        if (gp_report_kernels_find_range(&r->kernels, m, win->range, &g, err, sizeof(err)) < 0) {
            fprintf(stderr, "gpuprof-report: %s\n", err);
            return -ENOENT;
        }
        o.from = rel(&o, g.start);
        o.to = rel(&o, g.end);
    }
    struct gp_report_pf_proc p = {.path = m->path};
    char pname[300], err[512];
    const char *label = m->run.label && m->run.label[0] ? m->run.label : m->run.exe;
    snprintf(pname, sizeof(pname), "%.200s (pid %" PRIu32 ")", label ? label : "?", m->run.pid);
    fputs("{\"traceEvents\":[", f);
    int rc = write_process(&o, &p, pname, err, sizeof(err));
    fputs("\n],\"otherData\":{\"generator\":\"gpuprof-report\",\"host\":", f);
    gp_report_json_write_escaped(f, m->run.host ? m->run.host : "");
    fputs(",\"cmdline\":", f);
    gp_report_json_write_escaped(f, m->run.cmdline ? m->run.cmdline : "");
    fprintf(f, ",\"start_realtime_ns\":%" PRIu64 ",", m->run.realtime_ns);
    stats(f, &o);
    fputs("}}\n", f);
    if (rc < 0 && rc != -ENOMEM)
        fprintf(stderr, "gpuprof-report: %s: %s\n", m->path, err);
    if (rc == 0 && ferror(f))
        rc = -EIO;
    return rc;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

int gp_report_pf_proc_set(struct gp_report_pf_proc *p, const char *path,
                          const struct gp_report_model *m, int have_torch)
{
    memset(p, 0, sizeof(*p));
    p->path = dup_or_empty(path);
    p->host = dup_or_empty(m->run.host);
    p->label = dup_or_empty(m->run.label);
    p->exe = dup_or_empty(m->run.exe);
    p->cmdline = dup_or_empty(m->run.cmdline);
    p->pid = m->run.pid;
    p->realtime_ns = m->run.realtime_ns;
    p->monotonic_ns = m->run.monotonic_ns;
    p->have_pools = m->pools.n || m->pools.ignored;
    p->have_torch = have_torch;
    if (!p->path || !p->host || !p->label || !p->exe || !p->cmdline) {
        gp_report_pf_proc_fini(p);
        return -ENOMEM;
    }
    return 0;
}

void gp_report_pf_proc_fini(struct gp_report_pf_proc *p)
{
    free(p->path);
    free(p->host);
    free(p->label);
    free(p->exe);
    free(p->cmdline);
    memset(p, 0, sizeof(*p));
}

/* A job-relative bound in one process's terms: the same instant. */
int gp_report_view_perfetto_job(FILE *f, const struct gp_report_pf_proc *v, size_t n,
                                const struct gp_report_window *win, char *err, size_t errlen)
{
    uint64_t t0 = UINT64_MAX;
    int first = 1, rc = 0;
    struct pf total = {0};
    for (size_t i = 0; i < n; i++)
        if (v[i].realtime_ns < t0)
            t0 = v[i].realtime_ns;
    fputs("{\"traceEvents\":[", f);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct gp_report_pf_proc *p = &v[i];
        struct pf o = {.f = f, .first = &first, .pid = (uint32_t)i + 1, .mono0 = p->monotonic_ns,
                       .shift = p->realtime_ns - t0, .to = UINT64_MAX,
                       .flow_base = (uint64_t)(i + 1) << 32, .have_pools = p->have_pools,
                       .have_torch = p->have_torch};
        if (win && win->from_ns != UINT64_MAX)
            o.from = win->from_ns;
        if (win && win->to_ns != UINT64_MAX)
            o.to = win->to_ns;
        char pname[600];
        const char *label = p->label[0] ? p->label : p->exe;
        snprintf(pname, sizeof(pname), "%.200s on %.200s (pid %" PRIu32 ")", label, p->host, p->pid);
        rc = write_process(&o, p, pname, err, errlen);
        if (rc < 0 && rc != -ENOMEM) {
            char why[512];
            snprintf(why, sizeof(why), "%s", err);
            snprintf(err, errlen, "%s: %s", p->path, why);
        }
        total.flows += o.flows;
        total.late += o.late;
        total.dropped += o.dropped;
        total.calls_overlap += o.calls_overlap;
    }
    fprintf(f, "\n],\"otherData\":{\"generator\":\"gpuprof-report\",\"start_realtime_ns\":%" PRIu64
               ",\"clock\":\"each process at its header's wall clock (realtime_ns) minus "
               "start_realtime_ns\",", t0);
    stats(f, &total);
    fputs(",\"processes\":[", f);
    for (size_t i = 0; i < n; i++) {
        const struct gp_report_pf_proc *p = &v[i];
        fprintf(f, "%s{\"pid\":%zu,\"trace_pid\":%" PRIu32 ",\"host\":", i ? "," : "", i + 1, p->pid);
        gp_report_json_write_escaped(f, p->host);
        fputs(",\"label\":", f);
        gp_report_json_write_escaped(f, p->label);
        fputs(",\"trace\":", f);
        gp_report_json_write_escaped(f, p->path);
        fprintf(f, ",\"start_realtime_ns\":%" PRIu64 ",\"offset_ns\":%" PRIu64 "}", p->realtime_ns,
                p->realtime_ns - t0);
    }
    fputs("]}}\n", f);
    if (rc == 0 && ferror(f)) {
        rc = -EIO;
        snprintf(err, errlen, "%s", strerror(EIO));
    }
    return rc;
}
