/* perfetto_tracks.c — nesting tracks for the Perfetto view (perfetto_tracks.h). A track
 * keeps the ends of its open events as a stack: a span starting at s first closes those
 * ending by s, then fits when the innermost open one ends at or after its end. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "perfetto_tracks.h"

static struct gp_report_pf_lane *lane_of(struct gp_report_pf_tracks *t, int nvtx,
                                         uint32_t device, uint32_t stream)
{
    if (!nvtx) {
        if (t->hint < t->nlanes) {
            struct gp_report_pf_lane *l = &t->lanes[t->hint];
            if (!l->nvtx && l->device == device && l->stream == stream)
                return l;
        }
    }
    for (uint32_t i = 0; i < t->nlanes; i++) {
        struct gp_report_pf_lane *l = &t->lanes[i];
        if (nvtx ? l->nvtx : !l->nvtx && l->device == device && l->stream == stream) {
            if (!nvtx)
                t->hint = i;
            return l;
        }
    }
    if (t->nlanes == GP_REPORT_PF_MAX_LANES + 1)
        return NULL;
    if (t->nlanes == t->lanes_cap) {
        uint32_t cap = t->lanes_cap ? t->lanes_cap * 2 : 8;
        struct gp_report_pf_lane *p = realloc(t->lanes, cap * sizeof(*p));
        if (!p)
            return NULL;
        t->lanes = p;
        t->lanes_cap = cap;
    }
    struct gp_report_pf_lane *l = &t->lanes[t->nlanes++];
    *l = (struct gp_report_pf_lane){.device = device, .stream = stream, .nvtx = nvtx};
    return l;
}

/* 1 when [s, e) nests on k (and is pushed), else 0; -ENOMEM. */
static int try_track(struct gp_report_pf_track *k, uint64_t s, uint64_t e)
{
    if (s < k->last_start)
        return 0;
    uint32_t n = k->n;
    while (n && k->ends[n - 1] <= s)
        n--;
    if (n && k->ends[n - 1] < e)
        return 0;
    if (n == GP_REPORT_PF_MAX_DEPTH)
        return 0;
    if (n == k->cap) {
        uint32_t cap = k->cap ? k->cap * 2 : 4;
        uint64_t *p = realloc(k->ends, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        k->ends = p;
        k->cap = cap;
    }
    k->ends[n++] = e;
    k->n = n;
    k->last_start = s;
    return 1;
}

int gp_report_pf_tracks_place(struct gp_report_pf_tracks *t, int nvtx, uint32_t device,
                              uint32_t stream, uint64_t s, uint64_t e, uint32_t *track)
{
    struct gp_report_pf_lane *l = lane_of(t, nvtx, device, stream);
    if (!l)
        return t->nlanes > GP_REPORT_PF_MAX_LANES ? -ENOSPC : -ENOMEM;
    for (uint32_t i = 0; i < l->ntracks; i++) {
        int rc = try_track(&t->v[l->track[i]], s, e);
        if (rc < 0)
            return rc;
        if (rc) {
            *track = l->track[i];
            return 0;
        }
    }
    if (l->ntracks == GP_REPORT_PF_MAX_SUB)
        return -ENOSPC;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        struct gp_report_pf_track *p = realloc(t->v, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        t->v = p;
        t->cap = cap;
    }
    uint32_t lane = (uint32_t)(l - t->lanes);
    t->v[t->n] = (struct gp_report_pf_track){.lane = lane, .sub = l->ntracks};
    int rc = try_track(&t->v[t->n], s, e);
    if (rc <= 0)
        return rc < 0 ? rc : -ENOSPC;
    l->track[l->ntracks++] = t->n;
    *track = t->n++;
    return 0;
}

void gp_report_pf_track_name(const struct gp_report_pf_tracks *t, uint32_t i, char *buf, size_t len)
{
    const struct gp_report_pf_track *k = &t->v[i];
    const struct gp_report_pf_lane *l = &t->lanes[k->lane];
    int n = l->nvtx ? snprintf(buf, len, "NVTX")
                    : snprintf(buf, len, "GPU %" PRIu32 " stream %" PRIu32, l->device, l->stream);
    if (k->sub && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " #%" PRIu32, k->sub + 1);
}

uint64_t gp_report_pf_track_order(const struct gp_report_pf_tracks *t, uint32_t i)
{
    const struct gp_report_pf_track *k = &t->v[i];
    const struct gp_report_pf_lane *l = &t->lanes[k->lane];
    if (l->nvtx)
        return 100 + k->sub;
    /* streams in order of first activity; the NVTX lane, wherever it came, takes no slot */
    uint64_t pos = 0;
    for (uint32_t j = 0; j < k->lane; j++)
        pos += !t->lanes[j].nvtx;
    return 1000 + 100 * pos + k->sub;
}

void gp_report_pf_tracks_fini(struct gp_report_pf_tracks *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->v[i].ends);
    free(t->v);
    free(t->lanes);
    t->v = NULL;
    t->lanes = NULL;
    t->n = t->cap = t->nlanes = t->lanes_cap = t->hint = 0;
}
