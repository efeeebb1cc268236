/* analysis_leaks.c — memory still held when the trace ends, grouped by call site,
 * for each memory kind. Runs once at the end; device sites come from the model's
 * per-site table, the other kinds are grouped from the live allocations. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int by_stack(const void *a, const void *b)
{
    const struct gp_report_site *x = a, *y = b;
    return (x->stack > y->stack) - (x->stack < y->stack);
}

static int group_kind(struct gp_report_leaks *l, const struct gp_report_model *m, unsigned kind)
{
    int rc = 0;
    size_t n = 0, want = m->live_count[kind];
    struct gp_report_site *v = NULL;
    if (want) {
        v = malloc(want * sizeof(*v));
        if (!v) {
            rc = -ENOMEM;
            goto out;
        }
    }
    const struct gp_report_livemap *map = &m->live[gp_report_space_of(kind)];
    for (size_t i = 0; i <= map->mask && n < want; i++) {
        const struct gp_report_live *e = &map->slots[i];
        if (e->ptr != 0 && e->kind == kind)
            v[n++] = (struct gp_report_site){ .stack = e->stack, .count = 1, .bytes = e->size };
    }
    /* Merge equal stacks in place. */
    if (n)
        qsort(v, n, sizeof(*v), by_stack);
    size_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (groups && v[groups - 1].stack == v[i].stack) {
            v[groups - 1].count += v[i].count;
            v[groups - 1].bytes += v[i].bytes;
        } else {
            v[groups++] = v[i];
        }
    }
    rc = gp_report_site_list_libraries(&l->kind[kind], v, groups, m);
    if (rc == 0)
        rc = gp_report_site_list_set(&l->kind[kind], v, groups, l->top);
out:
    free(v);
    return rc;
}

static int on_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_leaks *l = ctx;
    int rc = gp_report_sites_top(&m->device_sites, l->top, &l->kind[GP_MEM_DEVICE], m);
    for (unsigned k = 0; rc == 0 && k < GP_MEM_KIND_COUNT; k++)
        if (k != GP_MEM_DEVICE)
            rc = group_kind(l, m, k);
    return rc;
}

int gp_report_leaks_attach(struct gp_report_leaks *l, struct gp_report_model *m, size_t top)
{
    memset(l, 0, sizeof(*l));
    l->top = top;
    struct gp_report_observer obs = { .ctx = l, .finish = on_finish };
    return gp_report_model_observe(m, &obs);
}

void gp_report_leaks_fini(struct gp_report_leaks *l)
{
    for (unsigned k = 0; k < GP_MEM_KIND_COUNT; k++)
        gp_report_site_list_fini(&l->kind[k]);
}
