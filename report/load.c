/* load.c — puts a report together: opens the trace into a model, attaches the
 * analyses, replays once, and prepares the symbolizer the views print stacks with. */
#include <errno.h>
#include <string.h>

#include "report.h"

int gp_report_load(struct gp_report *r, const char *path, const struct gp_report_options *opt,
                   char *err, size_t errlen)
{
    int rc;
    memset(r, 0, sizeof(*r));
    if (err && errlen)
        err[0] = '\0';
    rc = gp_report_model_open(&r->model, path, err, errlen);
    if (rc < 0)
        goto out;
    rc = gp_report_peak_attach(&r->peak, r->model, opt->top);
    if (rc < 0)
        goto out;
    rc = gp_report_leaks_attach(&r->leaks, r->model, opt->top);
    if (rc < 0)
        goto out;
    rc = gp_report_oom_attach(&r->oom, r->model, opt->top);
    if (rc < 0)
        goto out;
    rc = gp_report_kernels_attach(&r->kernels, r->model, opt->top);
    if (rc < 0)
        goto out;
    rc = gp_report_tensor_attach(&r->tensor, r->model);
    if (rc < 0)
        goto out;
    rc = gp_report_torch_attach(&r->torch, r->model, opt->top, opt->timeline);
    if (rc < 0)
        goto out;
    rc = gp_report_cubins_attach(&r->cubins, r->model);
    if (rc < 0)
        goto out;
    if (opt->timeline) {
        rc = gp_report_timeline_attach(&r->timeline, r->model);
        if (rc < 0)
            goto out;
    }
    if (opt->events) {
        rc = gp_report_events_attach(&r->events, r->model);
        if (rc < 0)
            goto out;
    }
    rc = gp_report_model_replay(r->model, err, errlen);
    if (rc < 0)
        goto out;
    gp_report_tensor_resolve(r); /* layer 4 over layer 3, once every analysis has finished */
    rc = gp_report_symbolizer_new(&r->sym, r->model);
out:
    if (rc == -ENOMEM && err && errlen)
        snprintf(err, errlen, "out of memory");
    if (rc < 0)
        gp_report_fini(r);
    return rc;
}

void gp_report_fini(struct gp_report *r)
{
    gp_report_symbolizer_free(r->sym);
    gp_report_timeline_fini(&r->timeline);
    gp_report_events_fini(&r->events);
    gp_report_torch_fini(&r->torch);
    gp_report_cubins_free(r->cubins);
    gp_report_tensor_fini(&r->tensor);
    gp_report_kernels_fini(&r->kernels);
    gp_report_oom_fini(&r->oom);
    gp_report_leaks_fini(&r->leaks);
    gp_report_peak_fini(&r->peak);
    gp_report_model_free(r->model);
    memset(r, 0, sizeof(*r));
}
