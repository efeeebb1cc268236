/* perfetto_tracks.h — which track of a Chrome trace each GPU span and NVTX range goes on
 * (view_perfetto.c): complete events on one track must nest, so a span that overlaps
 * another of its stream without nesting takes an extra track of that stream. Bounded: at
 * most GP_REPORT_PF_MAX_LANES streams, GP_REPORT_PF_MAX_SUB tracks each, GP_REPORT_PF_MAX_DEPTH
 * nested events open on a track; a span that fits nowhere within them is refused. */
#ifndef GP_REPORT_PERFETTO_TRACKS_H
#define GP_REPORT_PERFETTO_TRACKS_H

#include <stddef.h>
#include <stdint.h>

#define GP_REPORT_PF_MAX_LANES 1024
#define GP_REPORT_PF_MAX_SUB 32
#define GP_REPORT_PF_MAX_DEPTH 64

struct gp_report_pf_track {
    uint32_t lane, sub;
    uint64_t last_start; /* spans come by start: a later one starting before it cannot nest */
    uint64_t *ends;      /* ends of the events open on it, innermost last */
    uint32_t n, cap;
};
struct gp_report_pf_lane { /* one (device, stream), or the NVTX lane */
    uint32_t device, stream;
    int nvtx;
    uint32_t ntracks;
    uint32_t track[GP_REPORT_PF_MAX_SUB];
};
struct gp_report_pf_tracks {
    struct gp_report_pf_track *v; /* the track index is the order of creation */
    uint32_t n, cap;
    struct gp_report_pf_lane *lanes;
    uint32_t nlanes, lanes_cap, hint;
};

/* The track for [s, e) of (device, stream), or of the NVTX lane: 0 with *track set,
 * -ENOSPC when no track within the bounds can take it, -ENOMEM. Spans should come by start;
 * one that does not still lands on a track where it nests, if any. */
int gp_report_pf_tracks_place(struct gp_report_pf_tracks *t, int nvtx, uint32_t device,
                              uint32_t stream, uint64_t s, uint64_t e, uint32_t *track);
/* "GPU 0 stream 7", "GPU 0 stream 7 #2", "NVTX", "NVTX #2". */
void gp_report_pf_track_name(const struct gp_report_pf_tracks *t, uint32_t i, char *buf, size_t len);
/* Sort index: NVTX tracks first, then streams in order of first activity, extras after. */
uint64_t gp_report_pf_track_order(const struct gp_report_pf_tracks *t, uint32_t i);
void gp_report_pf_tracks_fini(struct gp_report_pf_tracks *t);

#endif
