/* analysis_events.c — the run laid out in time for the timeline views (--perfetto, --csv),
 * streamed: the trace is read a second time through a model of its own (with PyTorch's
 * allocator replayed beside it) and every call, memory change, external correlation and GPU
 * span is handed to the view's sink as it comes. Nothing grows with the trace's length: the
 * model holds the live allocations, PyTorch's replay its live blocks, and spans wait in a
 * fixed reorder window (GP_REPORT_EVENTS_REORDER) because CUPTI hands over one buffer at a
 * time and NVTX ranges complete in end order, while a timeline needs them by start. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct stream {
    const struct gp_report_events_sink *sink;
    struct gp_report_torch torch;
    struct gp_report_mem_sample last; /* the last memory sample handed over */
    int have_last;
    uint64_t *pool_used;              /* per pool of the model's table */
    uint64_t pool_used_total;
    uint64_t torch_alloc, torch_res;  /* last handed over */
    struct gp_report_span_ev *heap;   /* min-heap by (start, longer first, seq) */
    size_t nheap;
    uint64_t seq, out_start;          /* arrival count; start of the last span handed out */
    int out_any;
    struct gp_report_range *open;     /* NVTX ranges started, not ended */
    size_t nopen;
};

static int before(const struct gp_report_span_ev *a, const struct gp_report_span_ev *b)
{
    if (a->start_ns != b->start_ns)
        return a->start_ns < b->start_ns;
    if (a->end_ns != b->end_ns)
        return a->end_ns > b->end_ns;
    return a->seq < b->seq;
}

static void heap_push(struct stream *s, const struct gp_report_span_ev *v)
{
    size_t i = s->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(v, &s->heap[p]))
            break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = *v;
}

static struct gp_report_span_ev heap_pop(struct stream *s)
{
    struct gp_report_span_ev top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0, n = s->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!before(&s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n)
        s->heap[i] = last;
    return top;
}

static int emit(struct stream *s, const struct gp_report_model *m, struct gp_report_span_ev *v)
{
    if (s->out_any && v->start_ns < s->out_start)
        v->late = 1;
    else
        s->out_start = v->start_ns;
    s->out_any = 1;
    return s->sink->span ? s->sink->span(s->sink->ctx, m, v) : 0;
}

/* Into the window; the earliest leaves when it is full. A span that starts before the last
 * one handed out can no longer be put in order: it goes out at once, marked late. */
static int add_span(struct stream *s, const struct gp_report_model *m, struct gp_report_span_ev *v)
{
    v->seq = s->seq++;
    if (s->out_any && v->start_ns < s->out_start)
        return emit(s, m, v);
    if (s->nheap == GP_REPORT_EVENTS_REORDER) {
        struct gp_report_span_ev first = heap_pop(s);
        int rc = emit(s, m, &first);
        if (rc < 0)
            return rc;
    }
    heap_push(s, v);
    return 0;
}

static int on_marker(struct stream *s, const struct gp_report_model *m, const struct gp_activity *a)
{
    if (a->kind & 2) {
        if (s->nopen < GP_REPORT_MAX_OPEN_RANGES)
            s->open[s->nopen++] = (struct gp_report_range){a->start_ns, 0, a->value, a->name_id};
        return 0;
    }
    if (!(a->kind & 4))
        return 0;
    for (size_t i = s->nopen; i-- > 0;) {
        if (s->open[i].id != a->value)
            continue;
        struct gp_report_span_ev v = {.start_ns = s->open[i].start, .end_ns = a->start_ns,
                                      .name_id = s->open[i].name_id, .type = GP_REC_MARKER};
        s->open[i] = s->open[--s->nopen];
        if (v.end_ns < v.start_ns)
            return 0;
        return add_span(s, m, &v);
    }
    return 0;
}

static int on_memory(struct stream *s, const struct gp_report_model *m, uint64_t t)
{
    struct gp_report_mem_sample x = {t, m->live_bytes[GP_MEM_DEVICE], m->pools.reserved,
                                     s->pool_used_total};
    if (s->have_last && s->last.device_bytes == x.device_bytes &&
        s->last.pool_bytes == x.pool_bytes && s->last.pool_used == x.pool_used)
        return 0;
    s->last = x;
    s->have_last = 1;
    return s->sink->memory ? s->sink->memory(s->sink->ctx, &x) : 0;
}

static int on_torch(struct stream *s, uint64_t t)
{
    uint64_t alloc = 0, res = 0;
    for (unsigned d = 0; d < GP_REPORT_TORCH_DEVICES; d++) {
        alloc += s->torch.dev[d].allocated;
        res += s->torch.dev[d].segments;
    }
    if (alloc == s->torch_alloc && res == s->torch_res)
        return 0;
    s->torch_alloc = alloc;
    s->torch_res = res;
    return s->sink->torch ? s->sink->torch(s->sink->ctx, t, alloc, res) : 0;
}

static int on_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct stream *s = ctx;
    switch (rec->type) {
    case GP_REC_ALLOC:
    case GP_REC_FREE:
    case GP_REC_OOM: {
        int rc = s->sink->call ? s->sink->call(s->sink->ctx, m, rec) : 0;
        return rc < 0 ? rc : on_memory(s, m, rec->time_ns);
    }
    case GP_REC_LIBCALL:
        return s->sink->call ? s->sink->call(s->sink->ctx, m, rec) : 0;
    case GP_REC_POOL:
        /* the model has applied it: the pool is in its table unless the table is full */
        for (size_t i = 0; i < m->pools.n; i++) {
            if (m->pools.v[i].handle == rec->ptr) {
                s->pool_used_total += rec->aux1 - s->pool_used[i]; /* wrap cancels out */
                s->pool_used[i] = rec->aux1;
                break;
            }
        }
        return on_memory(s, m, rec->time_ns);
    case GP_REC_TORCH:
        return on_torch(s, rec->time_ns);
    default:
        break;
    }
    if (!gp_trace_is_activity(rec->type))
        return 0;
    const struct gp_activity *a = gp_trace_reader_activity(m->reader);
    if (!a)
        return 0;
    switch (a->type) {
    case GP_REC_EXT_CORR:
        return s->sink->ext_corr ? s->sink->ext_corr(s->sink->ctx, a) : 0;
    case GP_REC_MARKER:
        return on_marker(s, m, a);
    case GP_REC_KERNEL:
    case GP_REC_MEMCPY:
    case GP_REC_MEMSET: {
        if (!a->start_ns || a->end_ns < a->start_ns)
            return 0;
        struct gp_report_span_ev v = {
            .start_ns = a->start_ns, .end_ns = a->end_ns, .bytes = a->bytes,
            .name_id = a->name_id, .device = a->device, .stream = a->stream,
            .correlation = a->correlation, .type = a->type, .kind = a->kind};
        return add_span(s, m, &v);
    }
    default:
        return 0;
    }
}

static int on_finish(void *ctx, const struct gp_report_model *m)
{
    struct stream *s = ctx;
    while (s->nheap) {
        struct gp_report_span_ev v = heap_pop(s);
        int rc = emit(s, m, &v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int gp_report_events_stream(const char *path, const struct gp_report_events_sink *sink,
                            char *err, size_t errlen)
{
    struct stream s = {.sink = sink};
    struct gp_report_model *m = NULL;
    int rc, torch = 0;
    if (err && errlen)
        err[0] = '\0';
    s.pool_used = calloc(GP_REPORT_MAX_POOLS, sizeof(*s.pool_used));
    s.heap = malloc(GP_REPORT_EVENTS_REORDER * sizeof(*s.heap));
    s.open = malloc(GP_REPORT_MAX_OPEN_RANGES * sizeof(*s.open));
    if (!s.pool_used || !s.heap || !s.open) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = gp_report_model_open(&m, path, err, errlen)) < 0)
        goto out;
    /* PyTorch's replay first: the sink's observer sees its state after each record */
    if ((rc = gp_report_torch_attach(&s.torch, m, 1, 0)) < 0)
        goto out;
    torch = 1;
    struct gp_report_observer obs = {.ctx = &s, .record = on_record, .finish = on_finish};
    if ((rc = gp_report_model_observe(m, &obs)) < 0)
        goto out;
    rc = gp_report_model_replay(m, err, errlen);
out:
    if (rc == -ENOMEM && err && errlen)
        snprintf(err, errlen, "out of memory");
    if (torch)
        gp_report_torch_fini(&s.torch);
    gp_report_model_free(m);
    free(s.pool_used);
    free(s.heap);
    free(s.open);
    return rc;
}

/* Demangled names are cached by string id up to this many ids (a few distinct names in
 * practice; a trace with more pays a demangling per span past it). */
#define NAMES_MAX (1u << 20)

const char *gp_report_span_name(struct gp_report_names *c, const struct gp_report_model *m,
                                const struct gp_report_span_ev *s, char *buf, size_t len)
{
    if (s->type == GP_REC_MEMSET)
        return "memset";
    if (s->type == GP_REC_MEMCPY) {
        snprintf(buf, len, "memcpy %s", gp_report_copy_kind_name(s->kind));
        return buf;
    }
    const char *raw = s->name_id ? gp_trace_reader_string(m->reader, s->name_id) : NULL;
    if (!raw)
        return s->type == GP_REC_MARKER ? "(unnamed range)" : "(unnamed kernel)";
    if (s->type == GP_REC_MARKER)
        return raw;
    if (s->name_id < c->n && c->v[s->name_id])
        return c->v[s->name_id];
    char *dm = gp_report_demangle(raw);
    const char *name = dm ? dm : raw;
    if (s->name_id < NAMES_MAX && s->name_id >= c->n) {
        uint32_t n = c->n ? c->n : 64;
        while (n <= s->name_id)
            n *= 2;
        char **p = realloc(c->v, n * sizeof(*p));
        if (p) {
            memset(p + c->n, 0, (n - c->n) * sizeof(*p));
            c->v = p;
            c->n = n;
        }
    }
    if (s->name_id < c->n) {
        c->v[s->name_id] = dm ? dm : strdup(raw);
        if (c->v[s->name_id])
            return c->v[s->name_id];
    }
    snprintf(buf, len, "%s", name);
    free(dm);
    return buf;
}

void gp_report_names_fini(struct gp_report_names *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    memset(c, 0, sizeof(*c));
}

int gp_report_events_attach(struct gp_report_events *e, struct gp_report_model *m)
{
    (void)m;
    memset(e, 0, sizeof(*e));
    return 0;
}

void gp_report_events_fini(struct gp_report_events *e)
{
    memset(e, 0, sizeof(*e));
}
