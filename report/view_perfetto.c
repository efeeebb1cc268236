/* view_perfetto.c — the run as Chrome trace-event JSON (--perfetto), which ui.perfetto.dev
 * and chrome://tracing open: process and thread names, allocation calls as instant events
 * on their CPU threads, device memory reserved (and the pools' reserved and allocated
 * bytes) as counter tracks,
 * kernels, copies and memsets as complete events on one track per GPU stream, NVTX ranges
 * on their own tracks. Complete events on one track must nest, so events that overlap
 * without nesting move to an extra track of the same stream ("stream 7 #2").
 * Timestamps are microseconds since the trace started, exact to the nanosecond.
 * --from/--to or --range NAME (the last complete NVTX range of that name) cut it.
 * docs/views.md describes the output. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define GPU_TID_BASE 1000000000u /* synthetic thread ids of GPU and NVTX tracks */

struct out {
    FILE *f;
    uint32_t pid;
    uint64_t t0, from, to; /* absolute; [from, to) is the window */
    int first;
};

struct track { /* a track of nested complete events: the ends of the open ones */
    uint32_t group; /* lane index, or UINT32_MAX for NVTX */
    uint32_t sub;   /* 0 = the first track of its group */
    uint64_t *ends;
    size_t n, cap;
};

struct tracks {
    struct track *v;
    size_t n, cap;
};

static void sep(struct out *o)
{
    fputs(o->first ? "\n" : ",\n", o->f);
    o->first = 0;
}

static void ts(struct out *o, const char *key, uint64_t abs_ns)
{
    uint64_t rel = abs_ns > o->t0 ? abs_ns - o->t0 : 0;
    fprintf(o->f, "\"%s\":%" PRIu64 ".%03u", key, rel / 1000, (unsigned)(rel % 1000));
}

static void dur(struct out *o, uint64_t ns)
{
    fprintf(o->f, "\"dur\":%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

static void meta(struct out *o, const char *what, uint32_t tid, const char *name)
{
    sep(o);
    fprintf(o->f, "{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"name\":\"%s\","
                  "\"args\":{\"name\":", o->pid, tid, what);
    gp_report_json_write_escaped(o->f, name);
    fputs("}}", o->f);
}

/* The track of group that can take [start, end) nested, made if none can. */
static int place(struct tracks *t, uint32_t group, uint64_t start, uint64_t end, size_t *out)
{
    uint32_t sub = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct track *k = &t->v[i];
        if (k->group != group)
            continue;
        sub++;
        while (k->n && k->ends[k->n - 1] <= start)
            k->n--;
        if (k->n && k->ends[k->n - 1] < end)
            continue;
        if (k->n == k->cap) {
            size_t cap = k->cap ? k->cap * 2 : 8;
            uint64_t *p = realloc(k->ends, cap * sizeof(*p));
            if (!p)
                return -ENOMEM;
            k->ends = p;
            k->cap = cap;
        }
        k->ends[k->n++] = end;
        *out = i;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct track *p = realloc(t->v, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        t->v = p;
        t->cap = cap;
    }
    t->v[t->n] = (struct track){.group = group, .sub = sub};
    t->n++;
    return place(t, group, start, end, out);
}

static void tracks_fini(struct tracks *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].ends);
    free(t->v);
}

/* Clips [*s, *e) to the window; 0 when nothing of it is inside. */
static int clip(const struct out *o, uint64_t *s, uint64_t *e)
{
    if (*e < o->from || *s >= o->to || (*e == o->from && *s < o->from))
        return 0;
    if (*s < o->from)
        *s = o->from;
    if (*e > o->to)
        *e = o->to;
    return 1;
}

static void counters(struct out *o, const struct gp_report_events *ev)
{
    size_t i = 0;
    /* the value in force at the window's start, then every change inside it */
    while (i + 1 < ev->nmem && ev->mem[i + 1].time_ns <= o->from)
        i++;
    for (; i < ev->nmem && ev->mem[i].time_ns < o->to; i++) {
        uint64_t t = ev->mem[i].time_ns < o->from ? o->from : ev->mem[i].time_ns;
        sep(o);
        fprintf(o->f, "{\"ph\":\"C\",\"pid\":%" PRIu32 ",\"name\":\"device memory reserved\",",
                o->pid);
        ts(o, "ts", t);
        fprintf(o->f, ",\"args\":{\"bytes\":%" PRIu64 "}}", ev->mem[i].device_bytes);
        if (!ev->have_pools)
            continue;
        sep(o);
        fprintf(o->f, "{\"ph\":\"C\",\"pid\":%" PRIu32 ",\"name\":\"pool reserved\",", o->pid);
        ts(o, "ts", t);
        fprintf(o->f, ",\"args\":{\"bytes\":%" PRIu64 "}}", ev->mem[i].pool_bytes);
        sep(o);
        fprintf(o->f, "{\"ph\":\"C\",\"pid\":%" PRIu32 ",\"name\":\"pool allocated\",", o->pid);
        ts(o, "ts", t);
        fprintf(o->f, ",\"args\":{\"bytes\":%" PRIu64 "}}", ev->mem[i].pool_used);
    }
}

static void calls(struct out *o, const struct gp_report_events *ev)
{
    for (size_t i = 0; i < ev->ncalls; i++) {
        const struct gp_report_call *c = &ev->calls[i];
        if (c->time_ns < o->from || c->time_ns >= o->to)
            continue;
        const char *cat = c->type == GP_REC_ALLOC ? "alloc" : c->type == GP_REC_FREE ? "free"
                                                                                    : "oom";
        sep(o);
        fprintf(o->f, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
                      ",\"cat\":\"%s\",\"name\":",
                o->pid, c->tid, cat);
        gp_report_json_write_escaped(o->f, c->type == GP_REC_OOM ? "OOM"
                                                                 : gp_trace_api_name(c->api));
        fputc(',', o->f);
        ts(o, "ts", c->time_ns);
        fprintf(o->f, ",\"args\":{\"bytes\":%" PRIu64 ",\"ptr\":\"0x%" PRIx64 "\",\"kind\":",
                c->size, c->ptr);
        gp_report_json_write_escaped(o->f, gp_trace_kind_name(c->kind));
        fprintf(o->f, ",\"device\":%" PRId32 ",\"result\":%" PRId32 ",\"stack_id\":%" PRIu32
                      "}}", c->device, c->result, c->stack);
    }
}

static void thread_names(struct out *o, const struct gp_report_events *ev)
{
    uint32_t *seen = NULL;
    size_t n = 0;
    for (size_t i = 0; i < ev->ncalls; i++) {
        uint32_t tid = ev->calls[i].tid;
        size_t j = 0;
        while (j < n && seen[j] != tid)
            j++;
        if (j < n)
            continue;
        uint32_t *p = realloc(seen, (n + 1) * sizeof(*p));
        if (!p)
            break; /* names are a nicety */
        seen = p;
        seen[n++] = tid;
        char name[48];
        snprintf(name, sizeof(name), "thread %" PRIu32, tid);
        meta(o, "thread_name", tid, name);
    }
    free(seen);
}

struct lane {
    uint32_t device, stream;
};

static long lane_index(struct lane **v, size_t *n, uint32_t device, uint32_t stream)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].device == device && (*v)[i].stream == stream)
            return (long)i;
    struct lane *p = realloc(*v, (*n + 1) * sizeof(*p));
    if (!p)
        return -1;
    *v = p;
    p[*n] = (struct lane){device, stream};
    return (long)(*n)++;
}

static const char *act_name(const struct gp_report *r, const struct gp_report_act *a,
                            char **owned)
{
    *owned = NULL;
    if (a->type == GP_REC_MEMSET)
        return "memset";
    if (a->type == GP_REC_MEMCPY)
        return gp_report_copy_kind_name(a->kind);
    const char *raw = a->name_id ? gp_trace_reader_string(r->model->reader, a->name_id) : NULL;
    if (!raw)
        return "(unnamed kernel)";
    *owned = gp_report_demangle(raw);
    return *owned ? *owned : raw;
}

static int activity(struct out *o, const struct gp_report *r, struct tracks *t,
                    struct lane **lanes, size_t *nlanes)
{
    const struct gp_report_events *ev = &r->events;
    for (size_t i = 0; i < ev->nacts; i++) {
        const struct gp_report_act *a = &ev->acts[i];
        uint64_t s = a->start_ns, e = a->end_ns;
        if (!clip(o, &s, &e))
            continue;
        long lane = lane_index(lanes, nlanes, a->device, a->stream);
        size_t k;
        if (lane < 0 || place(t, (uint32_t)lane, s, e, &k) < 0)
            return -ENOMEM;
        char *owned;
        const char *name = act_name(r, a, &owned);
        sep(o);
        fprintf(o->f, "{\"ph\":\"X\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"cat\":\"%s\","
                      "\"name\":",
                o->pid, GPU_TID_BASE + (uint32_t)k,
                a->type == GP_REC_KERNEL ? "kernel" : a->type == GP_REC_MEMCPY ? "memcpy"
                                                                                : "memset");
        if (a->type == GP_REC_MEMCPY) {
            char buf[48];
            snprintf(buf, sizeof(buf), "memcpy %s", name);
            gp_report_json_write_escaped(o->f, buf);
        } else {
            gp_report_json_write_escaped(o->f, name);
        }
        free(owned);
        fputc(',', o->f);
        ts(o, "ts", s);
        fputc(',', o->f);
        dur(o, e - s);
        fprintf(o->f, ",\"args\":{\"device\":%" PRIu32 ",\"stream\":%" PRIu32
                      ",\"correlation\":%" PRIu32 ",\"bytes\":%" PRIu64 "}}",
                a->device, a->stream, a->correlation, a->bytes);
    }
    return 0;
}

static int by_range_start(const void *a, const void *b)
{
    const struct gp_report_range *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end > y->end ? -1 : x->end < y->end;
}

static int nvtx(struct out *o, const struct gp_report *r, struct tracks *t)
{
    const struct gp_report_kernels *k = &r->kernels;
    if (!k->nranges)
        return 0;
    struct gp_report_range *v = malloc(k->nranges * sizeof(*v));
    if (!v)
        return -ENOMEM;
    memcpy(v, k->ranges, k->nranges * sizeof(*v));
    qsort(v, k->nranges, sizeof(*v), by_range_start);
    int rc = 0;
    for (size_t i = 0; i < k->nranges && rc == 0; i++) {
        uint64_t s = v[i].start, e = v[i].end;
        size_t tr;
        if (e < s || !clip(o, &s, &e))
            continue;
        if ((rc = place(t, UINT32_MAX, s, e, &tr)) < 0)
            break;
        const char *name = v[i].name_id ? gp_trace_reader_string(r->model->reader, v[i].name_id)
                                        : NULL;
        sep(o);
        fprintf(o->f, "{\"ph\":\"X\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
                      ",\"cat\":\"nvtx\",\"name\":",
                o->pid, GPU_TID_BASE + (uint32_t)tr);
        gp_report_json_write_escaped(o->f, name ? name : "(unnamed range)");
        fputc(',', o->f);
        ts(o, "ts", s);
        fputc(',', o->f);
        dur(o, e - s);
        fputs("}", o->f);
    }
    free(v);
    return rc;
}

static void track_names(struct out *o, const struct tracks *t, const struct lane *lanes)
{
    for (size_t i = 0; i < t->n; i++) {
        char name[96];
        int len;
        if (t->v[i].group == UINT32_MAX)
            len = snprintf(name, sizeof(name), "NVTX");
        else
            len = snprintf(name, sizeof(name), "GPU %" PRIu32 " stream %" PRIu32,
                           lanes[t->v[i].group].device, lanes[t->v[i].group].stream);
        if (t->v[i].sub)
            snprintf(name + len, sizeof(name) - (size_t)len, " #%" PRIu32, t->v[i].sub + 1);
        meta(o, "thread_name", GPU_TID_BASE + (uint32_t)i, name);
        sep(o);
        fprintf(o->f, "{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
                      ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%zu}}",
                o->pid, GPU_TID_BASE + (uint32_t)i,
                (t->v[i].group == UINT32_MAX ? 100 : 1000 + 100 * (size_t)t->v[i].group) +
                    t->v[i].sub);
    }
}

int gp_report_view_perfetto(FILE *f, const struct gp_report *r, const struct gp_report_window *win)
{
    const struct gp_report_model *m = r->model;
    struct out o = {.f = f, .pid = m->run.pid, .t0 = m->run.monotonic_ns, .first = 1};
    o.from = win && win->from_ns != UINT64_MAX ? o.t0 + win->from_ns : 0;
    o.to = win && win->to_ns != UINT64_MAX ? o.t0 + win->to_ns : UINT64_MAX;
    if (win && win->range) {
        /* --range NAME: the last complete NVTX range of that name, as --plot-timeline */
        struct gp_report_range g;
        char err[512];
        if (gp_report_kernels_find_range(&r->kernels, m, win->range, &g, err, sizeof(err)) < 0) {
            fprintf(stderr, "gpuprof-report: %s\n", err);
            return -ENOENT;
        }
        o.from = g.start;
        o.to = g.end;
    }
    struct tracks t = {0};
    struct lane *lanes = NULL;
    size_t nlanes = 0;
    char pname[300];
    const char *label = m->run.label && m->run.label[0] ? m->run.label : m->run.exe;
    snprintf(pname, sizeof(pname), "%.200s (pid %" PRIu32 ")", label ? label : "?", m->run.pid);

    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"gpuprof-report\","
          "\"host\":", f);
    gp_report_json_write_escaped(f, m->run.host ? m->run.host : "");
    fputs(",\"cmdline\":", f);
    gp_report_json_write_escaped(f, m->run.cmdline ? m->run.cmdline : "");
    fprintf(f, ",\"start_realtime_ns\":%" PRIu64 "},\"traceEvents\":[", m->run.realtime_ns);
    meta(&o, "process_name", 0, pname);
    thread_names(&o, &r->events);
    counters(&o, &r->events);
    calls(&o, &r->events);
    int rc = activity(&o, r, &t, &lanes, &nlanes);
    if (rc == 0)
        rc = nvtx(&o, r, &t);
    if (rc == 0)
        track_names(&o, &t, lanes);
    fputs("\n]}\n", f);
    tracks_fini(&t);
    free(lanes);
    if (rc == 0 && ferror(f))
        rc = -EIO;
    return rc;
}
