/* timeline_data.c — the window of a GPU timeline and its boxes (timeline_data.h), for
 * --plot-timeline and the HTML page. Design for bounded memory: the one pass that built the
 * report keeps no interval (only the lanes, the busy union and each range name's last range,
 * analysis_kernels.c); once the window is known, the trace is read a second time keeping
 * only what the window needs: up to max_boxes exact boxes, past that the occupancy of each
 * lane per column (lanes x 3 kinds x columns), and at most GP_REPORT_TL_MAX_RANGES ranges.
 * The price is a second read of the trace, paid only by the views that draw it. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "timeline_data.h"

static int kind_of(uint8_t type)
{
    return type == GP_REC_KERNEL ? GP_TL_KERNEL : type == GP_REC_MEMCPY ? GP_TL_COPY : GP_TL_SET;
}

static int lane_cmp(const struct gp_report_lane *l, uint32_t a, uint32_t b)
{
    if (l[a].device != l[b].device)
        return l[a].device < l[b].device ? -1 : 1;
    return l[a].stream < l[b].stream ? -1 : l[a].stream > l[b].stream;
}

/* Rows: lanes sorted by device then stream (insertion sort: a handful of streams). */
static int make_rows(struct gp_report_tl *t)
{
    const struct gp_report_kernels *k = &t->r->kernels;
    uint32_t *idx = malloc((k->nlanes + 1) * sizeof(*idx));
    t->order = malloc((k->nlanes + 1) * sizeof(*t->order));
    if (!idx || !t->order) {
        free(idx);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < k->nlanes; i++) {
        uint32_t j = i;
        while (j > 0 && lane_cmp(k->lanes, idx[j - 1], i) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    /* the first lane at the top: y counts upwards */
    for (uint32_t row = 0; row < k->nlanes; row++)
        t->order[idx[row]] = (uint32_t)k->nlanes - 1 - row;
    free(idx);
    return 0;
}

/* The window: --range, else --from/--to, else the step range, else the whole run. */
static int choose_window(struct gp_report_tl *t, const struct gp_report_window *win, char *err,
                         size_t errlen)
{
    const struct gp_report_kernels *k = &t->r->kernels;
    uint64_t base = t->r->model->run.monotonic_ns;
    struct gp_report_range g;
    if (win && win->range) {
        int rc = gp_report_kernels_find_range(k, t->r->model, win->range, &g, err, errlen);
        if (rc < 0)
            return rc;
        t->from = g.start;
        t->to = g.end;
        t->why = "the last NVTX range of the name asked for";
    } else if (win && (win->from_ns != UINT64_MAX || win->to_ns != UINT64_MAX)) {
        t->from = win->from_ns != UINT64_MAX ? base + win->from_ns : k->first_ns;
        t->to = win->to_ns != UINT64_MAX ? base + win->to_ns : k->last_ns;
        t->why = "as asked";
    } else if (gp_report_kernels_step_range(k, &g) && k->first_ns < g.end) {
        /* (a range before any GPU activity would show nothing: then the whole run) */
        t->from = g.start;
        t->to = g.end;
        t->why = "the last complete NVTX range of the most frequent name";
    } else {
        t->from = k->first_ns;
        t->to = k->last_ns;
        t->why = "the whole run";
    }
    return 0;
}

int gp_report_tl_window(struct gp_report_tl *t, const struct gp_report *r,
                        const struct gp_report_window *win, char *err, size_t errlen)
{
    const struct gp_report_kernels *k = &r->kernels;
    memset(t, 0, sizeof(*t));
    t->r = r;
    if (!k->first_ns) {
        snprintf(err, errlen, "the trace has no GPU activity to draw (%s)",
                 k->have_status ? gp_report_act_state_name(k->status.state) : "no CUPTI status");
        return -ENODATA;
    }
    int rc = choose_window(t, win, err, errlen);
    if (rc < 0)
        return rc;
    if (t->to <= t->from) {
        snprintf(err, errlen, "the time window is empty");
        return -EINVAL;
    }
    if ((rc = make_rows(t)) < 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* Adds one activity to the occupancy of its (row, kind) per column. */
static void occupy(struct gp_report_tl *t, const struct gp_report_tl_box *v)
{
    double width = (double)(t->to - t->from) / (double)t->columns;
    uint64_t s = v->start > t->from ? v->start : t->from;
    uint64_t e = v->end < t->to ? v->end : t->to;
    if (e <= s)
        return;
    size_t c0 = (size_t)((double)(s - t->from) / width), c1 = (size_t)((double)(e - t->from) / width);
    double *row = t->occ + ((size_t)v->row * GP_TL_KINDS + v->kind) * t->columns;
    for (size_t c = c0; c <= c1 && c < t->columns; c++) {
        double cs = (double)c * width, ce = cs + width;
        double a = (double)(s - t->from) > cs ? (double)(s - t->from) : cs;
        double b = (double)(e - t->from) < ce ? (double)(e - t->from) : ce;
        if (b > a)
            row[c] += (b - a) / width;
    }
}

/* One timed activity inside the window: a box, or past the limit, occupancy. */
static int add_activity(struct gp_report_tl *t, const struct gp_report_tl_box *v)
{
    if (t->occ) {
        occupy(t, v);
        return 0;
    }
    if (t->nboxes < t->max_boxes) {
        t->boxes[t->nboxes++] = *v;
        return 0;
    }
    size_t cells = (t->r->kernels.nlanes ? t->r->kernels.nlanes : 1) * GP_TL_KINDS * t->columns;
    if (!(t->occ = calloc(cells, sizeof(*t->occ))))
        return -ENOMEM;
    for (size_t i = 0; i < t->nboxes; i++)
        occupy(t, &t->boxes[i]);
    occupy(t, v);
    free(t->boxes);
    t->boxes = NULL;
    t->nboxes = 0;
    return 0;
}

/* NVTX in the second pass, matched as analysis_kernels.c does; kept when in the window. */
static void on_marker(struct gp_report_tl *t, const struct gp_activity *a)
{
    if (a->kind & 2) {
        if (t->nopen < GP_REPORT_MAX_OPEN_RANGES)
            t->open[t->nopen++] = (struct gp_report_range){a->start_ns, 0, a->value, a->name_id};
        return;
    }
    if (!(a->kind & 4))
        return;
    for (size_t i = t->nopen; i-- > 0;) {
        if (t->open[i].id != a->value)
            continue;
        struct gp_report_tl_box v = {t->open[i].start, a->start_ns, 0, t->open[i].name_id, 0};
        t->open[i] = t->open[--t->nopen];
        if (v.end > t->from && v.start < t->to && t->nranges < GP_REPORT_TL_MAX_RANGES)
            t->ranges[t->nranges++] = v;
        return;
    }
}

/* The trace again, from the start: the window's activities and ranges. */
static int second_pass(struct gp_report_tl *t, struct gp_trace_reader *rd, char *err, size_t errlen)
{
    const struct gp_report_kernels *k = &t->r->kernels;
    struct gp_record rec;
    uint32_t hint = 0;
    int rc;
    while ((rc = gp_trace_reader_next(rd, &rec, err, errlen)) > 0) {
        if (!gp_trace_is_activity(rec.type))
            continue;
        const struct gp_activity *a = gp_trace_reader_activity(rd);
        if (!a)
            continue;
        if (a->type == GP_REC_MARKER) {
            on_marker(t, a);
            continue;
        }
        if (a->type != GP_REC_KERNEL && a->type != GP_REC_MEMCPY && a->type != GP_REC_MEMSET)
            continue;
        if (!a->start_ns || a->end_ns <= a->start_ns || a->end_ns <= t->from || a->start_ns >= t->to)
            continue;
        /* the lanes of the first pass; consecutive records mostly share one */
        if (hint >= k->nlanes || k->lanes[hint].device != a->device || k->lanes[hint].stream != a->stream) {
            for (hint = 0; hint < k->nlanes; hint++)
                if (k->lanes[hint].device == a->device && k->lanes[hint].stream == a->stream)
                    break;
            if (hint == k->nlanes)
                continue; /* past GP_REPORT_MAX_LANES */
        }
        struct gp_report_tl_box v = {a->start_ns, a->end_ns, t->order[hint],
                                     a->type == GP_REC_KERNEL ? a->name_id : 0,
                                     (uint8_t)kind_of(a->type)};
        if ((rc = add_activity(t, &v)) < 0)
            return rc;
    }
    if (rc == -ENOMEM)
        return rc;
    /* the first pass read this far without complaint: a cut tail ends the window's data */
    if (errlen)
        err[0] = '\0';
    return 0;
}

/* The trace the report was made from: the path given, else the open file whose header is
 * the model's (the report keeps its trace open). */
static int open_trace(const struct gp_report_model *m, const char *path,
                      struct gp_trace_reader **out, char *err, size_t errlen)
{
    if (path)
        return gp_trace_reader_open(out, path, err, errlen);
    DIR *d = opendir("/proc/self/fd");
    int rc = -ENOENT;
    if (!d)
        goto out;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char p[64];
        struct stat st;
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == dirfd(d))
            continue;
        snprintf(p, sizeof(p), "/proc/self/fd/%.20s", e->d_name);
        if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        struct gp_trace_reader *rd;
        if (gp_trace_reader_open(&rd, p, NULL, 0) < 0)
            continue;
        const struct gp_trace_header *h = gp_trace_reader_header(rd);
        if (h->pid == m->run.pid && h->ppid == m->run.ppid && h->realtime_ns == m->run.realtime_ns &&
            h->monotonic_ns == m->run.monotonic_ns) {
            *out = rd;
            rc = 0;
            break;
        }
        gp_trace_reader_close(rd);
    }
    closedir(d);
out:
    if (rc < 0)
        snprintf(err, errlen, "cannot read the trace a second time for the timeline");
    return rc;
}

int gp_report_tl_read(struct gp_report_tl *t, const char *trace, size_t max_boxes, size_t columns,
                      char *err, size_t errlen)
{
    struct gp_trace_reader *rd = NULL;
    int rc;
    t->max_boxes = max_boxes;
    t->columns = columns ? columns : 1;
    t->boxes = malloc((max_boxes ? max_boxes : 1) * sizeof(*t->boxes));
    t->ranges = malloc(GP_REPORT_TL_MAX_RANGES * sizeof(*t->ranges));
    t->open = malloc(GP_REPORT_MAX_OPEN_RANGES * sizeof(*t->open));
    if (!t->boxes || !t->ranges || !t->open) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = open_trace(t->r->model, trace, &rd, err, errlen)) < 0)
        goto out;
    rc = second_pass(t, rd, err, errlen);
out:
    if (rd)
        gp_trace_reader_close(rd);
    free(t->open);
    t->open = NULL;
    return rc;
}

void gp_report_tl_fini(struct gp_report_tl *t)
{
    free(t->order);
    free(t->boxes);
    free(t->occ);
    free(t->ranges);
    free(t->open);
    memset(t, 0, sizeof(*t));
}
