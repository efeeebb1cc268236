/* analysis_oom.c — OOM forensics: for each OOM record, what the program asked for,
 * what the device said was free, which call sites held the device memory the
 * trace knows about at that moment, and what other processes held on the device when
 * NVML could say. The first GP_REPORT_MAX_OOM_KEPT events are kept
 * in full (a program retrying in a loop must not make the report grow without bound);
 * the rest are counted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* The NVML record (MEMINFO, api 31) the shim writes right after an OOM on the same thread:
 * it belongs to that thread's latest OOM, if for the same device and not yet answered. */
static void on_others(struct gp_report_oom *o, const struct gp_record *rec)
{
    if (o->total > o->n)
        return; /* its OOM may be one that was only counted */
    for (size_t i = o->n; i-- > 0;) {
        struct gp_report_oom_event *e = &o->v[i];
        if (e->tid != rec->tid)
            continue;
        if (e->device != rec->device || e->have_others)
            return;
        e->have_others = 1;
        e->others_bytes = rec->size;
        e->others_count = rec->aux1;
        e->self_nvml_bytes = rec->aux2;
        e->others_largest_pid = rec->stream;
        e->others_largest_bytes = rec->ptr;
        /* Same threshold as PyTorch's other_processes advice: a tenth of the device. */
        if (e->device_total && e->others_bytes && e->others_bytes * 10 >= e->device_total) {
            char a[32], b[32], c[32];
            snprintf(e->others_advice, sizeof(e->others_advice),
                     "other processes: %llu other process%s held %s of the device's %s (NVML; "
                     "the largest, pid %llu, %s): stop them or use another GPU",
                     (unsigned long long)e->others_count, e->others_count == 1 ? "" : "es",
                     gp_report_fmt_bytes(a, sizeof(a), e->others_bytes),
                     gp_report_fmt_bytes(b, sizeof(b), e->device_total),
                     (unsigned long long)e->others_largest_pid,
                     gp_report_fmt_bytes(c, sizeof(c), e->others_largest_bytes));
        }
        return;
    }
}

static int on_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_oom *o = ctx;
    if (rec->type == GP_REC_MEMINFO && rec->api == GP_API_NVML_PROCESSES) {
        on_others(o, rec);
        return 0;
    }
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
    e->tid = rec->tid;
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
