/* timeline_data.h — the boxes of a GPU timeline window, shared by the gnuplot timeline
 * (view_timeline.c, --plot-timeline) and the HTML page's inline SVG (view_html_plot.c).
 * The window is chosen as --plot-timeline always chose it; its activities come from a
 * second read of the trace, kept in bounded memory: up to max_boxes exact boxes, past that
 * each lane's occupancy per column; NVTX ranges up to GP_REPORT_TL_MAX_RANGES. */
#ifndef GP_REPORT_TIMELINE_DATA_H
#define GP_REPORT_TIMELINE_DATA_H

#include "report.h"

#define GP_REPORT_TL_MAX_RANGES 5000

enum { GP_TL_KERNEL, GP_TL_COPY, GP_TL_SET, GP_TL_KINDS }; /* kinds of box, in lane bands */

struct gp_report_tl_box {
    uint64_t start, end; /* absolute, not clipped to the window */
    uint32_t row;        /* lane row: 0 = the last lane (gnuplot's y counts upwards) */
    uint32_t name_id;    /* kernel name or NVTX range name, 0 = none */
    uint8_t kind;        /* GP_TL_* (boxes only) */
};

struct gp_report_tl {
    const struct gp_report *r;
    uint64_t from, to;   /* the window, absolute */
    const char *why;     /* how it was chosen: fixed text */
    uint32_t *order;     /* lane index -> row (lanes sorted by device, then stream) */
    size_t max_boxes, columns;
    struct gp_report_tl_box *boxes; /* exact boxes in the window, while occ is NULL */
    size_t nboxes;
    double *occ;         /* reduced: share of column c busy with kind k in row w at
                          * occ[(w * GP_TL_KINDS + k) * columns + c] (may exceed 1) */
    struct gp_report_tl_box *ranges; /* complete NVTX ranges meeting the window, by end */
    size_t nranges;
    struct gp_report_range *open;    /* second pass: ranges started, not ended */
    size_t nopen;
};

/* Chooses the window (win may be NULL: the default) and the lane rows. -ENODATA when the
 * trace has no timed GPU activity, -EINVAL for an empty window, -ENOENT for a --range name
 * that does not exist; err says why. */
int gp_report_tl_window(struct gp_report_tl *t, const struct gp_report *r,
                        const struct gp_report_window *win, char *err, size_t errlen);
/* Reads the trace again (trace: its path, NULL = found among the open files) for the
 * window's boxes and ranges. */
int gp_report_tl_read(struct gp_report_tl *t, const char *trace, size_t max_boxes, size_t columns,
                      char *err, size_t errlen);
void gp_report_tl_fini(struct gp_report_tl *t);

#endif
