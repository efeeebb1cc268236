/* analysis_oom.c — OOM forensics: for each OOM record, what the program asked for,
 * what the device said was free, and which call sites held the device memory the
 * trace knows about at that moment. The first GP_REPORT_MAX_OOM_KEPT events are kept
 * in full (a program retrying in a loop must not make the report grow without bound);
 * the rest are counted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int on_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_oom *o = ctx;
    if (rec->type != GP_REC_OOM)
        return 0;
    o->total++;
    if (o->n == GP_REPORT_MAX_OOM_KEPT)
        return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        if (cap > GP_REPORT_MAX_OOM_KEPT)
            cap = GP_REPORT_MAX_OOM_KEPT;
        struct gp_report_oom_event *v = realloc(o->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    struct gp_report_oom_event *e = &o->v[o->n];
    memset(e, 0, sizeof(*e));
    e->time_ns = rec->time_ns;
    e->api = rec->api;
    e->device = rec->device;
    e->stack = rec->stack;
    e->requested = rec->size;
    e->device_free = rec->aux1;
    e->device_total = rec->aux2;
    e->live_bytes = m->live_bytes[GP_MEM_DEVICE];
    int rc = gp_report_sites_top(&m->device_sites, o->top, &e->sites, m);
    if (rc < 0) {
        gp_report_site_list_fini(&e->sites);
        return rc;
    }
    o->n++;
    return 0;
}

int gp_report_oom_attach(struct gp_report_oom *o, struct gp_report_model *m, size_t top)
{
    memset(o, 0, sizeof(*o));
    o->top = top;
    struct gp_report_observer obs = { .ctx = o, .record = on_record };
    return gp_report_model_observe(m, &obs);
}

void gp_report_oom_fini(struct gp_report_oom *o)
{
    for (size_t i = 0; i < o->n; i++)
        gp_report_site_list_fini(&o->v[i].sites);
    free(o->v);
    memset(o, 0, sizeof(*o));
}
