/* view_timeline.c — GPU activity over time, drawn by gnuplot: one lane per (device, stream),
 * kernels, copies and memsets as boxes coloured by kind, NVTX ranges in a lane above. A long
 * trace is not handed to gnuplot box by box: past GP_TIMELINE_MAX_BOXES in the window, each
 * lane becomes its occupancy per pixel column (the share of the column's time that kind was
 * running). The default window is a representative stretch: the last complete NVTX range of
 * the most frequent range name (a training step), or the whole run; the title says which.
 * Safety as in view_plot.c: the script holds fixed text and numbers only — no kernel or range
 * name from the trace ever reaches gnuplot, not even in a data file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

#define GP_TIMELINE_MAX_BOXES 20000
#define GP_TIMELINE_COLUMNS 1200
#define GP_TIMELINE_MAX_RANGES 5000

enum { F_KERNEL, F_COPY, F_SET, F_NVTX, F_COUNT };
static const char *const data_names[F_COUNT] = {"kernel.dat", "memcpy.dat", "memset.dat", "nvtx.dat"};
static const char *const titles[F_COUNT] = {"kernels", "memcpy", "memset", "NVTX ranges"};
static const char *const colours[F_COUNT] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};

struct tl {
    const struct gp_report *r;
    uint64_t from, to;   /* absolute */
    const char *why;     /* how the window was chosen: fixed text */
    uint32_t *order;     /* lane index -> row (lanes sorted by device, stream) */
    FILE *f[F_COUNT];
    int used[F_COUNT];
};

static int file_of(uint8_t type)
{
    return type == GP_REC_KERNEL ? F_KERNEL : type == GP_REC_MEMCPY ? F_COPY : F_SET;
}

static double ms(uint64_t ns) { return (double)ns / 1e6; }

/* The last complete range whose name is the most frequent one; 0 if there is none. */
static int nvtx_window(const struct gp_report_kernels *k, uint64_t *from, uint64_t *to)
{
    /* a long trace's first thousand ranges are enough to tell the step's name */
    size_t seen = k->nranges < 1000 ? k->nranges : 1000;
    uint32_t best = 0;
    size_t best_n = 0;
    for (size_t i = 0; i < seen; i++) {
        size_t n = 0;
        for (size_t j = 0; j < seen; j++)
            n += k->ranges[j].name_id == k->ranges[i].name_id;
        if (n > best_n || (n == best_n && k->ranges[i].name_id < best)) {
            best = k->ranges[i].name_id;
            best_n = n;
        }
    }
    for (size_t i = k->nranges; i-- > 0;) {
        if (k->ranges[i].name_id == best && k->ranges[i].end > k->ranges[i].start) {
            *from = k->ranges[i].start;
            *to = k->ranges[i].end;
            return 1;
        }
    }
    return 0;
}

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

/* Occupancy of each (row, kind, column), drawn as boxes whose height is the share. */
static int occupancy(struct tl *t, size_t lo, size_t hi)
{
    const struct gp_report_kernels *k = &t->r->kernels;
    size_t cells = k->nlanes * 3 * GP_TIMELINE_COLUMNS;
    double *occ = calloc(cells ? cells : 1, sizeof(*occ));
    if (!occ)
        return -ENOMEM;
    double width = (double)(t->to - t->from) / GP_TIMELINE_COLUMNS;
    for (size_t i = lo; i < hi; i++) {
        const struct gp_report_interval *v = &k->iv[i];
        uint64_t s = v->start > t->from ? v->start : t->from;
        uint64_t e = v->end < t->to ? v->end : t->to;
        if (e <= s)
            continue;
        size_t c0 = (size_t)((double)(s - t->from) / width), c1 = (size_t)((double)(e - t->from) / width);
        double *row = occ + ((size_t)t->order[v->lane] * 3 + (size_t)file_of(v->type)) * GP_TIMELINE_COLUMNS;
        for (size_t c = c0; c <= c1 && c < GP_TIMELINE_COLUMNS; c++) {
            double cs = (double)c * width, ce = cs + width;
            double a = (double)(s - t->from) > cs ? (double)(s - t->from) : cs;
            double b = (double)(e - t->from) < ce ? (double)(e - t->from) : ce;
            if (b > a)
                row[c] += (b - a) / width;
        }
    }
    for (size_t row = 0; row < k->nlanes; row++) {
        for (int f = 0; f < 3; f++) {
            const double *o = occ + (row * 3 + (size_t)f) * GP_TIMELINE_COLUMNS;
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
    free(occ);
    return 0;
}

static int write_data(struct tl *t, int dirfd, int *reduced)
{
    const struct gp_report_kernels *k = &t->r->kernels;
    for (int f = 0; f < F_COUNT; f++)
        if (!(t->f[f] = gp_report_plot_create(dirfd, data_names[f])))
            return -errno;
    /* intervals are sorted by start: those in the window are one stretch (plus long ones
     * starting earlier, which the scan from 0 to `hi` still meets) */
    size_t hi = 0, in = 0;
    while (hi < k->niv && k->iv[hi].start < t->to)
        hi++;
    for (size_t i = 0; i < hi; i++)
        in += k->iv[i].end > t->from;
    *reduced = in > GP_TIMELINE_MAX_BOXES;
    int rc = 0;
    if (*reduced) {
        rc = occupancy(t, 0, hi);
    } else {
        for (size_t i = 0; i < hi; i++) {
            const struct gp_report_interval *v = &k->iv[i];
            box(t, file_of(v->type), v->start, v->end, t->order[v->lane], 0.35);
        }
    }
    size_t drawn = 0;
    for (size_t i = 0; i < k->nranges && drawn < GP_TIMELINE_MAX_RANGES; i++) {
        const struct gp_report_range *g = &k->ranges[i];
        if (g->end > t->from && g->start < t->to) {
            box(t, F_NVTX, g->start, g->end, (double)k->nlanes + 0.2, 0.3);
            drawn++;
        }
    }
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

int gp_report_view_timeline(const char *path, const struct gp_report *r,
                            const struct gp_report_window *win, char *err, size_t errlen)
{
    const struct gp_report_kernels *k = &r->kernels;
    const struct gp_report_model *m = r->model;
    enum gp_report_plot_format fmt = gp_report_plot_format_of(path);
    const char *out_name = fmt == GP_REPORT_PLOT_SVG ? "out.svg" : "out.png";
    struct tl t = {.r = r};
    char dir[4096];
    int dirfd = -1, rc, reduced = 0;

    if (fmt == GP_REPORT_PLOT_NONE) {
        snprintf(err, errlen, "%s: the plot file must end in .png or .svg", path);
        return -EINVAL;
    }
    if (!k->niv) {
        snprintf(err, errlen, "the trace has no GPU activity to draw (%s)",
                 k->have_status ? gp_report_act_state_name(k->status.state) : "no CUPTI status");
        return -ENODATA;
    }
    uint64_t base = m->run.monotonic_ns;
    if (win && (win->from_ns != UINT64_MAX || win->to_ns != UINT64_MAX)) {
        t.from = win->from_ns != UINT64_MAX ? base + win->from_ns : k->first_ns;
        t.to = win->to_ns != UINT64_MAX ? base + win->to_ns : k->last_ns;
        t.why = "as asked";
    } else if (nvtx_window(k, &t.from, &t.to) && k->iv[0].start < t.to) {
        /* (a range before any GPU activity would show nothing: then the whole run) */
        t.why = "the last complete NVTX range of the most frequent name";
    } else {
        t.from = k->first_ns;
        t.to = k->last_ns;
        t.why = "the whole run";
    }
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
    rc = write_data(&t, dirfd, &reduced);
    if (rc == 0)
        rc = write_script(&t, dirfd, fmt == GP_REPORT_PLOT_SVG, out_name, reduced);
    if (rc < 0) {
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
    return rc;
}
