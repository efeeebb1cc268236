/* view_html_plot.c — the HTML page's plots as inline SVG, drawn here (no gnuplot): device
 * memory over time from the bounded series (reserved, PyTorch's allocated, memory outside
 * PyTorch, device total, OOM marks), and the kernel timeline of a representative window
 * (timeline_data.c: the window --plot-timeline draws) with streams as lanes, kernels, copies
 * and memsets as boxes coloured by kind, NVTX ranges above, and past HTML_TL_MAX_BOXES
 * activities each lane's occupancy per pixel column. Names appear only escaped, in
 * tooltips (<title>) and clipped labels. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "timeline_data.h"
#include "view_html.h"

#define PLOT_W 860
#define PLOT_H 300
#define PLOT_L 80 /* left margin, for the axis labels */
#define PLOT_B 30 /* bottom margin */

static uint64_t px(uint64_t v, uint64_t max, uint64_t span)
{
    return max ? (uint64_t)((double)v / (double)max * (double)span) : 0;
}

/* Last bucket in use of a series (SIZE_MAX when none). */
static size_t last_bucket(const struct gp_report_series *s)
{
    size_t last = SIZE_MAX;
    for (size_t i = 0; s && i < GP_REPORT_SERIES_BUCKETS; i++)
        if (s->b[i].used || s->b[i].oom)
            last = i;
    return last;
}

struct plot_box {
    uint64_t tmax, ymax, w, h;
};
#define X(t) (PLOT_L + px((t), box->tmax, box->w))
#define Y(v) (10 + box->h - px((v), box->ymax, box->h))

/* A step line through each bucket's max and last value, downsampled per bucket so a short
 * spike still shows. A band is closed down to zero (filled under the line). */
static void step_points(FILE *f, const struct plot_box *box, const struct gp_report_series *s,
                        int band)
{
    uint64_t prev = 0;
    fprintf(f, "%" PRIu64 ",%" PRIu64, X(0), Y(0));
    for (size_t i = 0; i < GP_REPORT_SERIES_BUCKETS; i++) {
        const struct gp_report_bucket *bk = &s->b[i];
        if (!bk->used)
            continue;
        uint64_t t0 = i * s->width_ns, t1 = t0 + s->width_ns;
        if (t1 > box->tmax)
            t1 = box->tmax;
        fprintf(f, " %" PRIu64 ",%" PRIu64 " %" PRIu64 ",%" PRIu64 " %" PRIu64 ",%" PRIu64, X(t0),
                Y(prev), X(t0), Y(bk->max), X(t1), Y(bk->last));
        prev = bk->last;
    }
    fprintf(f, " %" PRIu64 ",%" PRIu64, X(box->tmax), Y(prev));
    if (band)
        fprintf(f, " %" PRIu64 ",%" PRIu64, X(box->tmax), Y(0));
    fputs("\"/>\n", f);
}

static void oom_marks(FILE *f, const struct plot_box *box, const struct gp_report_series *s,
                      const char *cls, const char *what)
{
    char a[32];
    for (size_t i = 0; i < GP_REPORT_SERIES_BUCKETS; i++) {
        if (!s->b[i].oom)
            continue;
        fprintf(f, "<circle class=\"%s\" cx=\"%" PRIu64 "\" cy=\"%" PRIu64 "\" r=\"5\" "
                   "fill=\"#d62728\"><title>OOM with %s %s</title></circle>\n",
                cls, X(i * s->width_ns), Y(s->b[i].oom_live),
                gp_report_fmt_bytes(a, sizeof(a), s->b[i].oom_live), what);
    }
}

/* Device memory held over time from the bounded series: the process's reserved memory as a
 * step line, red marks at OOMs, the device total dashed when known; with PyTorch's adapter
 * also PyTorch's allocated bytes (green), memory outside PyTorch as a shaded band and
 * PyTorch's OOMs at its allocated level. */
void gp_report_html_memory_plot(FILE *f, const struct gp_report *r)
{
    const struct gp_report_series *s = r->timeline.series;
    const struct gp_report_model *m = r->model;
    const struct gp_report_torch *t = &r->torch;
    const struct gp_report_series *al = t->present ? t->allocated_series : NULL;
    const struct gp_report_series *nt = t->present ? t->non_torch_series : NULL;
    char a[32], b[32];
    fputs("<h2>Device memory over time</h2>\n", f);
    size_t last = last_bucket(s);
    if (last == SIZE_MAX) {
        fputs("<p>No device memory was allocated.</p>\n", f);
        return;
    }
    struct plot_box bx = { .tmax = (last + 1) * s->width_ns, .w = PLOT_W - PLOT_L - 10,
                           .h = PLOT_H - PLOT_B - 10 };
    const struct plot_box *box = &bx;
    uint64_t end = gp_report_model_rel_ns(m, m->run.last_ns);
    if (end > bx.tmax)
        bx.tmax = end;
    uint64_t total = m->device_total_bytes > t->device_total_bytes ? m->device_total_bytes
                                                                   : t->device_total_bytes;
    bx.ymax = s->max_value > total ? s->max_value : total;
    const struct gp_report_series *all[] = { s, al, nt };
    for (size_t k = 0; k < 3; k++) {
        size_t l = last_bucket(all[k]);
        if (l == SIZE_MAX)
            continue;
        if ((l + 1) * all[k]->width_ns > bx.tmax && k > 0)
            bx.tmax = (l + 1) * all[k]->width_ns;
        if (all[k]->max_value > bx.ymax)
            bx.ymax = all[k]->max_value;
        for (size_t i = 0; i <= l; i++)
            if (all[k]->b[i].oom && all[k]->b[i].oom_live > bx.ymax)
                bx.ymax = all[k]->b[i].oom_live;
    }
    if (!bx.ymax)
        bx.ymax = 1;
    fprintf(f, "<svg class=\"plot\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
               "aria-label=\"device memory held over time\">\n", PLOT_W, PLOT_H, PLOT_W, PLOT_H);
    fprintf(f, "<rect x=\"%d\" y=\"10\" width=\"%" PRIu64 "\" height=\"%" PRIu64
               "\" fill=\"#fafafa\" stroke=\"#999\"/>\n", PLOT_L, bx.w, bx.h);
    fprintf(f, "<text x=\"%d\" y=\"16\" text-anchor=\"end\">%s</text>\n", PLOT_L - 4,
            gp_report_fmt_bytes(a, sizeof(a), bx.ymax));
    fprintf(f, "<text x=\"%d\" y=\"%" PRIu64 "\" text-anchor=\"end\">0</text>\n", PLOT_L - 4, 10 + bx.h);
    fprintf(f, "<text x=\"%d\" y=\"%d\">0 s</text>\n", PLOT_L, PLOT_H - 8);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", PLOT_W - 10, PLOT_H - 8,
            gp_report_fmt_secs(b, sizeof(b), bx.tmax));
    if (total)
        fprintf(f, "<line class=\"total\" x1=\"%d\" x2=\"%" PRIu64 "\" y1=\"%" PRIu64 "\" y2=\"%"
                   PRIu64 "\" stroke=\"#555\" stroke-dasharray=\"6 4\"><title>device total %s"
                   "</title></line>\n", PLOT_L, PLOT_L + bx.w, Y(total), Y(total),
                gp_report_fmt_bytes(a, sizeof(a), total));
    if (nt && last_bucket(nt) != SIZE_MAX) {
        fputs("<polyline class=\"nontorch\" fill=\"#ff7f0e\" fill-opacity=\"0.3\" "
              "stroke=\"none\" points=\"", f);
        step_points(f, box, nt, 1);
    }
    fputs("<polyline class=\"memory\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" "
          "points=\"", f);
    step_points(f, box, s, 0);
    if (al && last_bucket(al) != SIZE_MAX) {
        fputs("<polyline class=\"allocated\" fill=\"none\" stroke=\"#2ca02c\" "
              "stroke-width=\"1.5\" points=\"", f);
        step_points(f, box, al, 0);
    }
    oom_marks(f, box, s, "oom", "held");
    if (al)
        oom_marks(f, box, al, "torch-oom", "allocated by PyTorch");
    fputs("</svg>\n", f);
    if (al)
        fputs("<p>Blue: device memory the process held (reserved). Green: allocated by PyTorch "
              "(in tensors). Shaded: held outside PyTorch's allocator. Dashed: device total.</p>\n", f);
}
#undef X
#undef Y


/* ---- kernel timeline ------------------------------------------------------------------ */
#define TL_W 860
#define TL_L 150                       /* left margin: lane names */
#define TL_R 10
#define TL_COLUMNS (TL_W - TL_L - TL_R) /* occupancy columns: one per pixel */
#define TL_LANE 27                     /* height of a stream's lane */
#define TL_LEVEL 16                    /* height of a level of nested NVTX ranges */
#define TL_LEVELS 4                    /* deeper ranges share the last level */
#define HTML_TL_MAX_BOXES 4000         /* past this many activities: occupancy */

static const char *const tl_class[GP_TL_KINDS] = { "kernel", "memcpy", "memset" };
static const char *const tl_colour[GP_TL_KINDS] = { "#17becf", "#ff7f0e", "#2ca02c" };
#define TL_NVTX_COLOUR "#9467bd"

struct tl_geom {
    uint64_t from, to;
    size_t nlanes;
    unsigned top; /* y of the first lane */
};

static double tl_x(const struct tl_geom *g, uint64_t t)
{
    if (t < g->from)
        t = g->from;
    if (t > g->to)
        t = g->to;
    return TL_L + (double)(t - g->from) / (double)(g->to - g->from) * TL_COLUMNS;
}

static const char *fmt_ms(char *buf, size_t len, uint64_t ns)
{
    snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
    return buf;
}

static const char *name_of(const struct gp_report *r, uint32_t id)
{
    return id ? gp_trace_reader_string(r->model->reader, id) : NULL;
}

/* A kernel's demangled name, or a copy's kind, with the duration: the box's tooltip. */
static void box_title(FILE *f, const struct gp_report *r, const struct gp_report_tl_box *v)
{
    char d[32];
    const char *raw = v->kind == GP_TL_KERNEL ? name_of(r, v->name_id) : tl_class[v->kind];
    char *dm = v->kind == GP_TL_KERNEL && raw ? gp_report_demangle(raw) : NULL;
    fputs("<title>", f);
    gp_report_html_esc(f, dm ? dm : raw ? raw : "(unnamed kernel)");
    fprintf(f, " (%s)</title>", fmt_ms(d, sizeof d, v->end - v->start));
    free(dm);
}

static void tl_boxes(FILE *f, const struct gp_report_tl *t, const struct tl_geom *g)
{
    for (size_t i = 0; i < t->nboxes; i++) {
        const struct gp_report_tl_box *v = &t->boxes[i];
        double x0 = tl_x(g, v->start), x1 = tl_x(g, v->end);
        unsigned y = g->top + (unsigned)(g->nlanes - 1 - v->row) * TL_LANE + 4;
        fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%d\" "
                   "fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\">", tl_class[v->kind], x0, y, x1 - x0 < 1 ? 1.0 : x1 - x0,
                TL_LANE - 8, tl_colour[v->kind]);
        box_title(f, t->r, v);
        fputs("</rect>\n", f);
    }
}

/* Each lane in three bands (kernels on top), each column as tall as the share of its time
 * that kind ran; equal neighbours merged into one rectangle. */
static void tl_occupancy(FILE *f, const struct gp_report_tl *t, const struct tl_geom *g)
{
    const unsigned band = (TL_LANE - 6) / GP_TL_KINDS;
    for (size_t row = 0; row < g->nlanes; row++) {
        unsigned lane_y = g->top + (unsigned)(g->nlanes - 1 - row) * TL_LANE + 3;
        for (unsigned k = 0; k < GP_TL_KINDS; k++) {
            const double *o = t->occ + (row * GP_TL_KINDS + k) * t->columns;
            unsigned bottom = lane_y + (k + 1) * band;
            for (size_t c = 0; c < t->columns;) {
                double share = o[c] > 1 ? 1 : o[c];
                unsigned h = share > 0 ? (unsigned)(share * band + 0.5) : 0;
                if (share > 0 && h == 0)
                    h = 1; /* any activity shows */
                size_t e = c + 1;
                while (e < t->columns) {
                    double s2 = o[e] > 1 ? 1 : o[e];
                    unsigned h2 = s2 > 0 ? (unsigned)(s2 * band + 0.5) : 0;
                    if ((s2 > 0 && h2 == 0 ? 1 : h2) != h)
                        break;
                    e++;
                }
                if (h)
                    fprintf(f, "<rect class=\"%s occ\" x=\"%zu\" y=\"%u\" width=\"%zu\" "
                               "height=\"%u\" fill=\"%s\"/>\n", tl_class[k], TL_L + c, bottom - h,
                            e - c, h, tl_colour[k]);
                c = e;
            }
        }
    }
}

static int range_cmp(const void *a, const void *b)
{
    const struct gp_report_tl_box *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end > y->end ? -1 : x->end < y->end;
}

/* Nesting levels of the ranges (sorted by start, longer first): the first level free at a
 * range's start. Returns the levels used. */
static unsigned range_levels(struct gp_report_tl *t, uint8_t *level)
{
    uint64_t busy_to[TL_LEVELS] = { 0 };
    unsigned used = 0;
    qsort(t->ranges, t->nranges, sizeof(*t->ranges), range_cmp);
    for (size_t i = 0; i < t->nranges; i++) {
        unsigned l = 0;
        while (l < TL_LEVELS - 1 && busy_to[l] > t->ranges[i].start)
            l++;
        if (busy_to[l] < t->ranges[i].end)
            busy_to[l] = t->ranges[i].end;
        level[i] = (uint8_t)l;
        used = l + 1 > used ? l + 1 : used;
    }
    return used;
}

static void tl_ranges(FILE *f, const struct gp_report_tl *t, const struct tl_geom *g,
                      const uint8_t *level)
{
    char d[32];
    for (size_t i = 0; i < t->nranges; i++) {
        const struct gp_report_tl_box *v = &t->ranges[i];
        const char *name = name_of(t->r, v->name_id);
        double x0 = tl_x(g, v->start), x1 = tl_x(g, v->end), w = x1 - x0 < 1 ? 1 : x1 - x0;
        unsigned y = 26 + level[i] * TL_LEVEL;
        fprintf(f, "<rect class=\"nvtx\" x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%d\" "
                   "fill=\"%s\" fill-opacity=\"0.85\" stroke=\"#fff\"><title>", x0, y, w,
                TL_LEVEL - 2, TL_NVTX_COLOUR);
        gp_report_html_esc(f, name ? name : "(unnamed range)");
        fprintf(f, " (%s)</title></rect>\n", fmt_ms(d, sizeof d, v->end - v->start));
        if (name && w >= 24) { /* the name, clipped to its box by a nested viewport */
            fprintf(f, "<svg x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%d\"><text class=\"lbl\" "
                       "x=\"3\" y=\"11\">", x0, y, w, TL_LEVEL - 2);
            gp_report_html_esc(f, name);
            fputs("</text></svg>\n", f);
        }
    }
}

static void tl_frame(FILE *f, const struct gp_report_tl *t, const struct tl_geom *g,
                     unsigned height)
{
    const struct gp_report_kernels *k = &t->r->kernels;
    char a[32];
    fprintf(f, "<text x=\"%d\" y=\"38\" text-anchor=\"end\">NVTX</text>\n", TL_L - 6);
    for (size_t i = 0; i < k->nlanes; i++) {
        unsigned y = g->top + (unsigned)(g->nlanes - 1 - t->order[i]) * TL_LANE;
        fprintf(f, "<rect x=\"%d\" y=\"%u\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", TL_L, y,
                TL_COLUMNS, TL_LANE, i % 2 ? "#ffffff" : "#f4f4f4");
        fprintf(f, "<text x=\"%d\" y=\"%u\" text-anchor=\"end\">device %" PRIu32 " stream %" PRIu32
                   "</text>\n", TL_L - 6, y + TL_LANE / 2 + 4, k->lanes[i].device, k->lanes[i].stream);
    }
    unsigned axis = g->top + (unsigned)g->nlanes * TL_LANE;
    for (unsigned q = 0; q <= 4; q++) {
        unsigned x = TL_L + TL_COLUMNS * q / 4;
        fprintf(f, "<line x1=\"%u\" x2=\"%u\" y1=\"20\" y2=\"%u\" stroke=\"#ccc\"/>\n", x, x, axis + 4);
        fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"%s\">%s</text>\n", x, axis + 18,
                q == 0 ? "start" : q == 4 ? "end" : "middle",
                fmt_ms(a, sizeof a, (t->to - t->from) / 4 * q));
    }
    for (unsigned i = 0; i <= GP_TL_KINDS; i++) {
        unsigned x = TL_L + i * 90;
        fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%u\" "
                   "y=\"%u\">%s</text>\n", x, height - 12, i < GP_TL_KINDS ? tl_colour[i] : TL_NVTX_COLOUR,
                x + 14, height - 3, i < GP_TL_KINDS ? tl_class[i] : "NVTX");
    }
}

int gp_report_html_timeline(FILE *f, const struct gp_report *r, const struct gp_report_window *win)
{
    struct gp_report_tl t;
    char err[512] = "", a[32], b[32], v[256];
    uint8_t *level = NULL;
    fputs("<h2>GPU timeline</h2>\n", f);
    int rc = gp_report_tl_window(&t, r, win, err, sizeof err);
    if (rc == 0)
        rc = gp_report_tl_read(&t, win ? win->trace : NULL, HTML_TL_MAX_BOXES, TL_COLUMNS, err,
                               sizeof err);
    if (rc == -ENOMEM)
        goto out;
    if (rc < 0) {
        const char *verdict = gp_report_kernels_verdict(&r->kernels, r->model, v, sizeof v);
        fputs("<p class=\"note\">No timeline: ", f);
        gp_report_html_esc(f, rc == -ENODATA && verdict ? verdict : err);
        fputs("</p>\n", f);
        rc = 0;
        goto out;
    }
    if (!(level = malloc(t.nranges + 1))) {
        rc = -ENOMEM;
        goto out;
    }
    unsigned levels = range_levels(&t, level);
    struct tl_geom g = { t.from, t.to, r->kernels.nlanes, 26 + (levels ? levels : 1) * TL_LEVEL + 6 };
    unsigned height = g.top + (unsigned)g.nlanes * TL_LANE + 44;
    fprintf(f, "<p>GPU activity from %s to %s (%s%s).</p>\n",
            gp_report_fmt_secs(a, sizeof a, gp_report_model_rel_ns(r->model, t.from)),
            gp_report_fmt_secs(b, sizeof b, gp_report_model_rel_ns(r->model, t.to)), t.why,
            t.occ ? "; more activities than can be drawn one by one: occupancy per pixel column"
                  : "");
    fprintf(f, "<svg class=\"timeline\" width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" "
               "role=\"img\" aria-label=\"GPU activity per stream\" shape-rendering=\"crispEdges\">\n",
            TL_W, height, TL_W, height);
    tl_frame(f, &t, &g, height);
    tl_ranges(f, &t, &g, level);
    if (t.occ)
        tl_occupancy(f, &t, &g);
    else
        tl_boxes(f, &t, &g);
    fputs("</svg>\n", f);
out:
    free(level);
    gp_report_tl_fini(&t);
    return rc;
}
