/* view_timeline.c — GPU activity over time, drawn by gnuplot: one lane per (device, stream),
 * kernels, copies and memsets as boxes coloured by kind, NVTX ranges in a lane above. A long
 * trace is not handed to gnuplot box by box: past GP_TIMELINE_MAX_BOXES in the window, each
 * lane becomes its occupancy per pixel column (the share of the column's time that kind was
 * running). The window: --range NAME (the last complete NVTX range of that name), or
 * --from/--to, else a representative stretch: the last complete NVTX range of the most
 * frequent range name (a training step), or the whole run; the title says which.
 * Design for bounded memory: the one pass that built the report keeps no interval (only the
 * lanes, the busy union and each range name's last range, analysis_kernels.c); once the
 * window is known, this view reads the trace a second time and keeps only what the window
 * needs: up to GP_TIMELINE_MAX_BOXES exact boxes, past that the per-pixel occupancy of each
 * lane (lanes x 3 kinds x GP_TIMELINE_COLUMNS), and at most GP_TIMELINE_MAX_RANGES ranges.
 * The price is a second read of the trace, paid only with --plot-timeline.
 * Safety as in view_plot.c: the script holds fixed text and numbers only — no kernel or range
 * name from the trace ever reaches gnuplot, not even in a data file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

#define GP_TIMELINE_MAX_BOXES 20000
#define GP_TIMELINE_COLUMNS 1200
#define GP_TIMELINE_MAX_RANGES 5000

enum { F_KERNEL, F_COPY, F_SET, F_NVTX, F_COUNT };
static const char *const data_names[F_COUNT] = {"kernel.dat", "memcpy.dat", "memset.dat", "nvtx.dat"};
static const char *const titles[F_COUNT] = {"kernels", "memcpy", "memset", "NVTX ranges"};
static const char *const colours[F_COUNT] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};

struct tl_box {
    uint64_t start, end; /* absolute */
    uint32_t row;
    uint8_t file;
};

struct tl {
    const struct gp_report *r;
    uint64_t from, to;   /* absolute */
    const char *why;     /* how the window was chosen: fixed text */
    uint32_t *order;     /* lane index -> row (lanes sorted by device, stream) */
    FILE *f[F_COUNT];
    int used[F_COUNT];
    struct tl_box *boxes; /* the window's boxes, until there are too many */
    size_t nboxes;
    double *occ;          /* then: occupancy of each (row, kind, column) */
    struct gp_report_range *open; /* NVTX ranges started, not ended (second pass) */
    size_t nopen;
    size_t ranges_drawn;
};

static int file_of(uint8_t type)
{
    return type == GP_REC_KERNEL ? F_KERNEL : type == GP_REC_MEMCPY ? F_COPY : F_SET;
}

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static int lane_cmp(const struct gp_report_lane *l, uint32_t a, uint32_t b)
{
    if (l[a].device != l[b].device)
        return l[a].device < l[b].device ? -1 : 1;
    return l[a].stream < l[b].stream ? -1 : l[a].stream > l[b].stream;
}

/* Rows: lanes sorted by device then stream (insertion sort: a handful of streams). */
static int make_rows(struct tl *t)
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

static void box(struct tl *t, int file, uint64_t start, uint64_t end, double y, double half)
{
    if (end <= t->from || start >= t->to)
        return;
    if (start < t->from)
        start = t->from;
    if (end > t->to)
        end = t->to;
    fprintf(t->f[file], "%.9g %.6g %.9g %.6g\n", ms(start - t->from + (end - start) / 2), y,
            ms(end - start) / 2, half);
    t->used[file] = 1;
}

/* Adds one activity to the occupancy of its (row, kind) per column. */
static void occupy(struct tl *t, const struct tl_box *v)
{
    double width = (double)(t->to - t->from) / GP_TIMELINE_COLUMNS;
    uint64_t s = v->start > t->from ? v->start : t->from;
    uint64_t e = v->end < t->to ? v->end : t->to;
    if (e <= s)
        return;
    size_t c0 = (size_t)((double)(s - t->from) / width), c1 = (size_t)((double)(e - t->from) / width);
    double *row = t->occ + ((size_t)v->row * 3 + v->file) * GP_TIMELINE_COLUMNS;
    for (size_t c = c0; c <= c1 && c < GP_TIMELINE_COLUMNS; c++) {
        double cs = (double)c * width, ce = cs + width;
        double a = (double)(s - t->from) > cs ? (double)(s - t->from) : cs;
        double b = (double)(e - t->from) < ce ? (double)(e - t->from) : ce;
        if (b > a)
            row[c] += (b - a) / width;
    }
}

/* One timed activity inside the window: a box, or past the limit, occupancy. */
static int add_activity(struct tl *t, const struct tl_box *v)
{
    if (t->occ) {
        occupy(t, v);
        return 0;
    }
    if (t->nboxes < GP_TIMELINE_MAX_BOXES) {
        t->boxes[t->nboxes++] = *v;
        return 0;
    }
    size_t cells = (t->r->kernels.nlanes ? t->r->kernels.nlanes : 1) * 3 * GP_TIMELINE_COLUMNS;
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

static void write_occupancy(struct tl *t)
{
    double width = (double)(t->to - t->from) / GP_TIMELINE_COLUMNS;
    for (size_t row = 0; row < t->r->kernels.nlanes; row++) {
        for (int f = 0; f < 3; f++) {
            const double *o = t->occ + (row * 3 + (size_t)f) * GP_TIMELINE_COLUMNS;
            for (size_t c = 0; c < GP_TIMELINE_COLUMNS; c++) {
                if (o[c] <= 0)
                    continue;
                double share = o[c] > 1 ? 1 : o[c];
                /* each kind in its own band of the lane (kernels on top), as tall as its share */
                double bottom = (double)row + 0.14 - 0.28 * f;
                fprintf(t->f[f], "%.9g %.6g %.9g %.6g\n", ms((uint64_t)(width * ((double)c + 0.5))),
                        bottom + 0.14 * share, ms((uint64_t)(width / 2)), 0.14 * share);
                t->used[f] = 1;
            }
        }
    }
}

/* NVTX in the second pass, matched as analysis_kernels.c does; drawn when in the window. */
static void on_marker(struct tl *t, const struct gp_activity *a)
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
        uint64_t start = t->open[i].start, end = a->start_ns;
        t->open[i] = t->open[--t->nopen];
        if (end > t->from && start < t->to && t->ranges_drawn < GP_TIMELINE_MAX_RANGES) {
            box(t, F_NVTX, start, end, (double)t->r->kernels.nlanes + 0.2, 0.3);
            t->ranges_drawn++;
        }
        return;
    }
}

/* The trace again, from the start: the window's activities and ranges. */
static int second_pass(struct tl *t, struct gp_trace_reader *rd, char *err, size_t errlen)
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
        struct tl_box v = {a->start_ns, a->end_ns, t->order[hint], (uint8_t)file_of(a->type)};
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

static int write_data(struct tl *t, int dirfd, const struct gp_report_window *win, int *reduced,
                      char *err, size_t errlen)
{
    struct gp_trace_reader *rd = NULL;
    int rc = 0;
    for (int f = 0; f < F_COUNT; f++)
        if (!(t->f[f] = gp_report_plot_create(dirfd, data_names[f])))
            return -errno;
    t->boxes = malloc(GP_TIMELINE_MAX_BOXES * sizeof(*t->boxes));
    t->open = malloc(GP_REPORT_MAX_OPEN_RANGES * sizeof(*t->open));
    if (!t->boxes || !t->open) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = open_trace(t->r->model, win ? win->trace : NULL, &rd, err, errlen)) < 0)
        goto out;
    if ((rc = second_pass(t, rd, err, errlen)) < 0)
        goto out;
    *reduced = t->occ != NULL;
    if (t->occ) {
        write_occupancy(t);
    } else {
        for (size_t i = 0; i < t->nboxes; i++) {
            const struct tl_box *v = &t->boxes[i];
            box(t, v->file, v->start, v->end, v->row, 0.35);
        }
    }
out:
    if (rd)
        gp_trace_reader_close(rd);
    for (int f = 0; f < F_COUNT; f++) {
        int c = gp_report_plot_close(t->f[f]);
        t->f[f] = NULL;
        if (c < 0 && rc == 0)
            rc = c;
    }
    return rc;
}

static int write_script(struct tl *t, int dirfd, int svg, const char *out_name, int reduced)
{
    const struct gp_report_kernels *k = &t->r->kernels;
    const struct gp_report_model *m = t->r->model;
    FILE *f = gp_report_plot_create(dirfd, "plot.gp");
    if (!f)
        return -errno;
    int height = 160 + 36 * (int)(k->nlanes + 1);
    height = height < 400 ? 400 : height > 4000 ? 4000 : height;
    fprintf(f, "set terminal %s size 1600,%d noenhanced\n", svg ? "svg" : "pngcairo", height);
    fprintf(f, "set output '%s'\n", out_name);
    fprintf(f, "set title 'gpuprof: GPU activity from %.6f s to %.6f s (%s%s)'\n",
            ms(gp_report_model_rel_ns(m, t->from)) / 1e3, ms(gp_report_model_rel_ns(m, t->to)) / 1e3,
            t->why, reduced ? "; occupancy per pixel column" : "");
    fputs("set xlabel 'milliseconds into the window'\nset grid xtics\n"
          "set key outside below horizontal\nset style fill solid 0.85 noborder\n", f);
    fprintf(f, "set xrange [0:%.9g]\n", ms(t->to - t->from));
    fprintf(f, "set yrange [%.2f:%.2f]\n", -0.8, (double)k->nlanes + 0.8);
    fputs("set ytics (", f);
    for (size_t i = 0; i < k->nlanes; i++) {
        const struct gp_report_lane *l = &k->lanes[i];
        fprintf(f, "%s'device %" PRIu32 " stream %" PRIu32 "' %" PRIu32, i ? ", " : "", l->device,
                l->stream, t->order[i]);
    }
    fprintf(f, "%s'NVTX' %.1f)\n", k->nlanes ? ", " : "", (double)k->nlanes + 0.2);
    fputs("plot ", f);
    int first = 1;
    for (int i = 0; i < F_COUNT; i++) {
        if (!t->used[i])
            continue;
        fprintf(f, "%s'%s' using 1:2:3:4 with boxxyerror lc rgb '%s' title '%s'", first ? "" : ", \\\n  ",
                data_names[i], colours[i], titles[i]);
        first = 0;
    }
    fputs("\nunset output\n", f);
    return gp_report_plot_close(f);
}

/* The window: --range, else --from/--to, else the step range, else the whole run. */
static int choose_window(struct tl *t, const struct gp_report_window *win, char *err, size_t errlen)
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

int gp_report_view_timeline(const char *path, const struct gp_report *r,
                            const struct gp_report_window *win, char *err, size_t errlen)
{
    const struct gp_report_kernels *k = &r->kernels;
    enum gp_report_plot_format fmt = gp_report_plot_format_of(path);
    const char *out_name = fmt == GP_REPORT_PLOT_SVG ? "out.svg" : "out.png";
    struct tl t = {.r = r};
    char dir[4096];
    int dirfd = -1, rc, reduced = 0;

    if (fmt == GP_REPORT_PLOT_NONE) {
        snprintf(err, errlen, "%s: the plot file must end in .png or .svg", path);
        return -EINVAL;
    }
    if (!k->first_ns) {
        snprintf(err, errlen, "the trace has no GPU activity to draw (%s)",
                 k->have_status ? gp_report_act_state_name(k->status.state) : "no CUPTI status");
        return -ENODATA;
    }
    if ((rc = choose_window(&t, win, err, errlen)) < 0)
        return rc;
    if (t.to <= t.from) {
        snprintf(err, errlen, "the time window is empty");
        return -EINVAL;
    }
    if ((rc = make_rows(&t)) < 0) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' ||
        (size_t)snprintf(dir, sizeof(dir), "%s/gpuprof-plot.XXXXXX", tmp) >= sizeof(dir))
        snprintf(dir, sizeof(dir), "/tmp/gpuprof-plot.XXXXXX");
    if (!mkdtemp(dir)) {
        rc = -errno;
        snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
        free(t.order);
        return rc;
    }
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open the temporary directory: %s", strerror(errno));
        goto out;
    }
    err[0] = '\0';
    rc = write_data(&t, dirfd, win, &reduced, err, errlen);
    if (rc == 0)
        rc = write_script(&t, dirfd, fmt == GP_REPORT_PLOT_SVG, out_name, reduced);
    if (rc < 0) {
        if (!err[0] || rc == -ENOMEM)
            snprintf(err, errlen, "cannot write the plot data: %s", strerror(-rc));
        goto out;
    }
    rc = gp_report_plot_run(dir, err, errlen);
    if (rc == 0)
        rc = gp_report_plot_copy(dirfd, out_name, path, err, errlen);
out:
    for (int f = 0; f < F_COUNT; f++)
        if (t.f[f])
            fclose(t.f[f]);
    if (dirfd >= 0) {
        const char *names[] = {"plot.gp", "gnuplot.log", out_name, data_names[0], data_names[1],
                               data_names[2], data_names[3]};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            unlinkat(dirfd, names[i], 0);
        close(dirfd);
    }
    rmdir(dir);
    free(t.order);
    free(t.boxes);
    free(t.occ);
    free(t.open);
    return rc;
}
