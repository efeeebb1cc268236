/* analysis_peak.c — the peak of each memory kind (bytes and when it was first reached)
 * and, for device memory, the call sites holding memory at that peak.
 * Copying every site's bytes at each new peak would cost O(sites) per event in a trace
 * that keeps climbing, so the sites at the peak are kept as a lazy snapshot instead:
 * the live per-site table of the model, plus an undo log holding, for each site that
 * changed since the peak, its state at the peak (logged at its first change, O(1)).
 * A new peak empties the log. At the end the peak's sites are the untouched live sites
 * plus the logged ones: O(sites) once, and O(1) per event however the trace goes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int log_site(struct gp_report_peak *p, const struct gp_report_model *m, uint32_t stack)
{
    if (stack >= p->stamp_cap) {
        /* The model's table is at least this big and grows by doubling, so follow it. */
        uint32_t cap = m->device_sites.cap;
        uint32_t *st = realloc(p->stamp, (size_t)cap * sizeof(*st));
        if (!st)
            return -ENOMEM;
        memset(&st[p->stamp_cap], 0, (size_t)(cap - p->stamp_cap) * sizeof(*st));
        p->stamp = st;
        p->stamp_cap = cap;
    }
    if (p->stamp[stack] == p->epoch)
        return 0; /* its state at the peak is already logged */
    if (p->nlog == p->log_cap) {
        size_t cap = p->log_cap ? p->log_cap * 2 : 64;
        struct gp_report_site *v = realloc(p->log, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        p->log = v;
        p->log_cap = cap;
    }
    const struct gp_report_site_slot *slot = &m->device_sites.slot[stack];
    p->log[p->nlog++] =
        (struct gp_report_site){ .stack = stack, .count = slot->count, .bytes = slot->bytes };
    p->stamp[stack] = p->epoch;
    return 0;
}

static int on_device_change(void *ctx, const struct gp_report_model *m, uint32_t stack,
                            uint64_t new_live)
{
    struct gp_report_peak *p = ctx;
    /* Before any peak there is nothing to keep; a change that rises above the peak
     * makes a new one and the log is emptied right after it. */
    if (p->epoch == 0 || new_live > p->bytes[GP_MEM_DEVICE])
        return 0;
    return log_site(p, m, stack);
}

static int on_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_peak *p = ctx;
    if (rec->type != GP_REC_ALLOC || rec->result != 0)
        return 0;
    for (unsigned k = 0; k < GP_MEM_KIND_COUNT; k++) {
        if (m->live_bytes[k] > p->bytes[k]) {
            p->bytes[k] = m->live_bytes[k];
            p->time_ns[k] = rec->time_ns;
            if (k == GP_MEM_DEVICE) {
                /* The state now is the peak: forget what was logged for older peaks. A
                 * wrapped epoch would match stale stamps, so clear them then. */
                if (++p->epoch == 0) {
                    memset(p->stamp, 0, (size_t)p->stamp_cap * sizeof(*p->stamp));
                    p->epoch = 1;
                }
                p->nlog = 0;
            }
        }
    }
    return 0;
}

static int on_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_peak *p = ctx;
    const struct gp_report_sites *s = &m->device_sites;
    struct gp_report_site *v = NULL;
    size_t n = 0;
    int rc = 0;
    if (p->epoch == 0)
        goto out; /* device memory never rose above zero */
    v = malloc(((size_t)s->nactive + p->nlog + 1) * sizeof(*v));
    if (!v) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < s->nactive; i++) {
        uint32_t id = s->active[i];
        if (id < p->stamp_cap && p->stamp[id] == p->epoch)
            continue; /* changed since the peak: the log has its state then */
        v[n++] = (struct gp_report_site){ .stack = id,
                                          .count = s->slot[id].count,
                                          .bytes = s->slot[id].bytes };
    }
    for (size_t i = 0; i < p->nlog; i++)
        if (p->log[i].count > 0)
            v[n++] = p->log[i];
    rc = gp_report_site_list_libraries(&p->sites, v, n, m);
    if (rc == 0)
        rc = gp_report_site_list_set(&p->sites, v, n, p->top);
out:
    free(v);
    return rc;
}

int gp_report_peak_attach(struct gp_report_peak *p, struct gp_report_model *m, size_t top)
{
    memset(p, 0, sizeof(*p));
    p->top = top;
    struct gp_report_observer obs = {
        .ctx = p,
        .device_change = on_device_change,
        .record = on_record,
        .finish = on_finish,
    };
    return gp_report_model_observe(m, &obs);
}

void gp_report_peak_fini(struct gp_report_peak *p)
{
    gp_report_site_list_fini(&p->sites);
    free(p->stamp);
    free(p->log);
    p->stamp = NULL;
    p->log = NULL;
}
