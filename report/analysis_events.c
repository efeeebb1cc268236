/* analysis_events.c — every call and GPU activity in time, for the views that lay the run
 * out on a timeline (--perfetto, --csv): allocation, free and OOM calls with their thread,
 * the device memory held after each change (and the pools' reserved and in-use bytes
 * when there are pools), and kernels, copies and memsets with their stream. Only attached when such a view
 * is wanted; it keeps one small entry per record. Times stay absolute (trace clock). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * size);
    if (!p)
        return -ENOMEM;
    *v = p;
    *cap = n;
    return 0;
}

static int add_mem(struct gp_report_events *e, const struct gp_report_model *m, uint64_t t)
{
    uint64_t live = m->live_bytes[GP_MEM_DEVICE], pool = m->pools.reserved;
    uint64_t used = e->pool_used_total;
    if (e->nmem && e->mem[e->nmem - 1].device_bytes == live &&
        e->mem[e->nmem - 1].pool_bytes == pool && e->mem[e->nmem - 1].pool_used == used)
        return 0;
    if (grow((void **)&e->mem, &e->mem_cap, e->nmem + 1, sizeof(*e->mem)) < 0)
        return -ENOMEM;
    e->mem[e->nmem++] = (struct gp_report_mem_sample){t, live, pool, used};
    return 0;
}

static int on_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_events *e = ctx;
    switch (rec->type) {
    case GP_REC_ALLOC:
    case GP_REC_FREE:
    case GP_REC_OOM:
        if (grow((void **)&e->calls, &e->calls_cap, e->ncalls + 1, sizeof(*e->calls)) < 0)
            return -ENOMEM;
        e->calls[e->ncalls++] = (struct gp_report_call){
            .time_ns = rec->time_ns, .size = rec->size, .ptr = rec->ptr, .stack = rec->stack,
            .tid = rec->tid, .device = rec->device, .result = rec->result, .type = rec->type,
            .api = rec->api, .kind = rec->kind};
        if (m->pools.n)
            e->have_pools = 1;
        return add_mem(e, m, rec->time_ns);
    case GP_REC_POOL:
        e->have_pools = 1;
        /* the model has applied it: the pool is in its table unless the table is full */
        for (size_t i = 0; i < m->pools.n; i++) {
            if (m->pools.v[i].handle == rec->ptr) {
                e->pool_used_total += rec->aux1 - e->pool_used[i]; /* wrap cancels out */
                e->pool_used[i] = rec->aux1;
                break;
            }
        }
        return add_mem(e, m, rec->time_ns);
    case GP_REC_KERNEL:
    case GP_REC_MEMCPY:
    case GP_REC_MEMSET: {
        const struct gp_activity *a = gp_trace_reader_activity(m->reader);
        if (!a || !a->start_ns || a->end_ns < a->start_ns)
            return 0;
        if (grow((void **)&e->acts, &e->acts_cap, e->nacts + 1, sizeof(*e->acts)) < 0)
            return -ENOMEM;
        e->acts[e->nacts++] = (struct gp_report_act){
            .start_ns = a->start_ns, .end_ns = a->end_ns, .bytes = a->bytes,
            .name_id = a->name_id, .device = a->device, .stream = a->stream,
            .correlation = a->correlation, .type = a->type, .kind = a->kind};
        return 0;
    }
    default:
        return 0;
    }
}

static int by_start(const void *a, const void *b)
{
    const struct gp_report_act *x = a, *y = b;
    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return x->end_ns > y->end_ns ? -1 : x->end_ns < y->end_ns;
}

static int on_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_events *e = ctx;
    (void)m;
    if (e->nacts)
        qsort(e->acts, e->nacts, sizeof(*e->acts), by_start);
    return 0;
}

int gp_report_events_attach(struct gp_report_events *e, struct gp_report_model *m)
{
    memset(e, 0, sizeof(*e));
    e->pool_used = calloc(GP_REPORT_MAX_POOLS, sizeof(*e->pool_used));
    if (!e->pool_used)
        return -ENOMEM;
    struct gp_report_observer obs = {.ctx = e, .record = on_record, .finish = on_finish};
    return gp_report_model_observe(m, &obs);
}

void gp_report_events_fini(struct gp_report_events *e)
{
    free(e->calls);
    free(e->mem);
    free(e->acts);
    free(e->pool_used);
    memset(e, 0, sizeof(*e));
}
