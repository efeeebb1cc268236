/* analysis_timeline.c — device memory reserved over time (and where OOMs happened),
 * kept in a bounded series for the plot view. Only attached when a plot is wanted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int on_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_timeline *t = ctx;
    uint64_t live = m->live_bytes[GP_MEM_DEVICE];
    switch (rec->type) {
    case GP_REC_ALLOC:
    case GP_REC_FREE:
        /* Most records do not move device memory; only changes are worth a point. */
        if (!t->started || live != t->last_live) {
            gp_report_series_add(t->series, gp_report_model_rel_ns(m, rec->time_ns), live);
            t->last_live = live;
            t->started = 1;
        }
        return 0;
    case GP_REC_OOM:
        gp_report_series_oom(t->series, gp_report_model_rel_ns(m, rec->time_ns), live);
        return 0;
    default:
        return 0;
    }
}

int gp_report_timeline_attach(struct gp_report_timeline *t, struct gp_report_model *m)
{
    memset(t, 0, sizeof(*t));
    t->series = malloc(sizeof(*t->series));
    if (!t->series)
        return -ENOMEM;
    gp_report_series_init(t->series);
    struct gp_report_observer obs = { .ctx = t, .record = on_record };
    return gp_report_model_observe(m, &obs);
}

void gp_report_timeline_fini(struct gp_report_timeline *t)
{
    free(t->series);
    t->series = NULL;
}
