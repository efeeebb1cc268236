/* sites.c — live bytes per call site (stack node id) for one memory kind, kept
 * incrementally so that a snapshot costs O(sites holding memory), never O(all sites),
 * and each allocation or free costs O(1); plus the "top N, largest first" lists that
 * every analysis reports. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void gp_report_sites_init(struct gp_report_sites *s)
{
    memset(s, 0, sizeof(*s));
}

void gp_report_sites_fini(struct gp_report_sites *s)
{
    free(s->slot);
    free(s->active);
    memset(s, 0, sizeof(*s));
}

int gp_report_sites_reserve(struct gp_report_sites *s, uint32_t id)
{
    if (id < s->cap)
        return 0;
    if (id >= GP_REPORT_MAX_STACK_IDS)
        return -ERANGE;
    uint32_t cap = s->cap ? s->cap : 1024;
    while (cap <= id)
        cap *= 2;
    if (cap > GP_REPORT_MAX_STACK_IDS)
        cap = GP_REPORT_MAX_STACK_IDS;

    struct gp_report_site_slot *slot = realloc(s->slot, (size_t)cap * sizeof(*slot));
    if (!slot)
        return -ENOMEM;
    s->slot = slot;
    uint32_t *active = realloc(s->active, (size_t)cap * sizeof(*active));
    if (!active)
        return -ENOMEM;
    s->active = active;
    memset(&s->slot[s->cap], 0, (size_t)(cap - s->cap) * sizeof(*slot));
    s->cap = cap;
    return 0;
}

void gp_report_sites_add(struct gp_report_sites *s, uint32_t id, uint64_t bytes)
{
    struct gp_report_site_slot *e = &s->slot[id];
    if (e->count++ == 0) {
        s->active[s->nactive++] = id;
        e->active = s->nactive;
    }
    e->bytes += bytes;
}

void gp_report_sites_sub(struct gp_report_sites *s, uint32_t id, uint64_t bytes)
{
    struct gp_report_site_slot *e = &s->slot[id];
    e->bytes -= bytes;
    if (--e->count == 0) {
        /* Swap the last active id into this one's place. */
        uint32_t pos = e->active - 1;
        uint32_t last = s->active[--s->nactive];
        s->active[pos] = last;
        s->slot[last].active = pos + 1;
        e->active = 0;
        e->bytes = 0;
    }
}

static int site_cmp(const void *a, const void *b)
{
    const struct gp_report_site *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->stack > y->stack) - (x->stack < y->stack); /* stable output for equal sites */
}

int gp_report_site_list_set(struct gp_report_site_list *out, struct gp_report_site *v, size_t n,
                            size_t top)
{
    out->total_sites = n;
    out->total_bytes = 0;
    out->total_count = 0;
    for (size_t i = 0; i < n; i++) {
        out->total_bytes += v[i].bytes;
        out->total_count += v[i].count;
    }
    if (n)
        qsort(v, n, sizeof(*v), site_cmp);
    size_t keep = n < top ? n : top;
    if (keep > out->n) {
        struct gp_report_site *nv = realloc(out->v, keep * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        out->v = nv;
    }
    if (keep)
        memcpy(out->v, v, keep * sizeof(*v));
    out->n = keep;
    return 0;
}

void gp_report_site_list_fini(struct gp_report_site_list *l)
{
    free(l->libs);
    l->libs = NULL;
    l->nlibs = 0;
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int gp_report_sites_top(const struct gp_report_sites *s, size_t top,
                        struct gp_report_site_list *out, const struct gp_report_model *m)
{
    int rc = 0;
    struct gp_report_site *tmp = NULL;
    if (s->nactive) {
        tmp = malloc((size_t)s->nactive * sizeof(*tmp));
        if (!tmp) {
            rc = -ENOMEM;
            goto out;
        }
    }
    for (uint32_t i = 0; i < s->nactive; i++) {
        const struct gp_report_site_slot *e = &s->slot[s->active[i]];
        tmp[i].stack = s->active[i];
        tmp[i].count = e->count;
        tmp[i].bytes = e->bytes;
    }
    if (m)
        rc = gp_report_site_list_libraries(out, tmp, s->nactive, m);
    if (rc == 0)
        rc = gp_report_site_list_set(out, tmp, s->nactive, top);
out:
    free(tmp);
    return rc;
}
