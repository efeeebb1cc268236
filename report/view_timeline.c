/* view_timeline.c — GPU activity over time, drawn by gnuplot: one lane per (device, stream),
 * kernels, copies and memsets as boxes coloured by kind, NVTX ranges in a lane above. A long
 * trace is not handed to gnuplot box by box: past GP_TIMELINE_MAX_BOXES in the window, each
 * lane becomes its occupancy per pixel column (the share of the column's time that kind was
 * running). The window: --range NAME (the last complete NVTX range of that name), or
 * --from/--to, else a representative stretch: the last complete NVTX range of the most
 * frequent range name (a training step), or the whole run; the title says which.
 * The window and its boxes come from timeline_data.c (shared with the HTML page): a second
 * read of the trace, in memory bounded by GP_TIMELINE_MAX_BOXES and the columns.
 * Safety as in view_plot.c: the script holds fixed text and numbers only — no kernel or range
 * name from the trace ever reaches gnuplot, not even in a data file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timeline_data.h"

#define GP_TIMELINE_MAX_BOXES 20000
#define GP_TIMELINE_COLUMNS 1200

enum { F_KERNEL = GP_TL_KERNEL, F_COPY = GP_TL_COPY, F_SET = GP_TL_SET, F_NVTX, F_COUNT };
static const char *const data_names[F_COUNT] = {"kernel.dat", "memcpy.dat", "memset.dat", "nvtx.dat"};
static const char *const titles[F_COUNT] = {"kernels", "memcpy", "memset", "NVTX ranges"};
static const char *const colours[F_COUNT] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};

struct tl {
    struct gp_report_tl d; /* the window and its boxes (timeline_data.c) */
    FILE *f[F_COUNT];
    int used[F_COUNT];
};

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static void box(struct tl *t, int file, uint64_t start, uint64_t end, double y, double half)
{
    if (end <= t->d.from || start >= t->d.to)
        return;
    if (start < t->d.from)
        start = t->d.from;
    if (end > t->d.to)
        end = t->d.to;
    fprintf(t->f[file], "%.9g %.6g %.9g %.6g\n", ms(start - t->d.from + (end - start) / 2), y,
            ms(end - start) / 2, half);
    t->used[file] = 1;
}

static void write_occupancy(struct tl *t)
{
    double width = (double)(t->d.to - t->d.from) / GP_TIMELINE_COLUMNS;
    for (size_t row = 0; row < t->d.r->kernels.nlanes; row++) {
        for (int f = 0; f < GP_TL_KINDS; f++) {
            const double *o = t->d.occ + (row * GP_TL_KINDS + (size_t)f) * GP_TIMELINE_COLUMNS;
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

static int write_data(struct tl *t, int dirfd, const struct gp_report_window *win, int *reduced,
                      char *err, size_t errlen)
{
    int rc = 0;
    for (int f = 0; f < F_COUNT; f++)
        if (!(t->f[f] = gp_report_plot_create(dirfd, data_names[f])))
            return -errno;
    rc = gp_report_tl_read(&t->d, win ? win->trace : NULL, GP_TIMELINE_MAX_BOXES,
                           GP_TIMELINE_COLUMNS, err, errlen);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < t->d.nranges; i++)
        box(t, F_NVTX, t->d.ranges[i].start, t->d.ranges[i].end,
            (double)t->d.r->kernels.nlanes + 0.2, 0.3);
    *reduced = t->d.occ != NULL;
    if (t->d.occ) {
        write_occupancy(t);
    } else {
        for (size_t i = 0; i < t->d.nboxes; i++) {
            const struct gp_report_tl_box *v = &t->d.boxes[i];
            box(t, v->kind, v->start, v->end, v->row, 0.35);
        }
    }
out:
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
    const struct gp_report_kernels *k = &t->d.r->kernels;
    const struct gp_report_model *m = t->d.r->model;
    FILE *f = gp_report_plot_create(dirfd, "plot.gp");
    if (!f)
        return -errno;
    int height = 160 + 36 * (int)(k->nlanes + 1);
    height = height < 400 ? 400 : height > 4000 ? 4000 : height;
    fprintf(f, "set terminal %s size 1600,%d noenhanced\n", svg ? "svg" : "pngcairo", height);
    fprintf(f, "set output '%s'\n", out_name);
    fprintf(f, "set title 'gpuprof: GPU activity from %.6f s to %.6f s (%s%s)'\n",
            ms(gp_report_model_rel_ns(m, t->d.from)) / 1e3, ms(gp_report_model_rel_ns(m, t->d.to)) / 1e3,
            t->d.why, reduced ? "; occupancy per pixel column" : "");
    fputs("set xlabel 'milliseconds into the window'\nset grid xtics\n"
          "set key outside below horizontal\nset style fill solid 0.85 noborder\n", f);
    fprintf(f, "set xrange [0:%.9g]\n", ms(t->d.to - t->d.from));
    fprintf(f, "set yrange [%.2f:%.2f]\n", -0.8, (double)k->nlanes + 0.8);
    fputs("set ytics (", f);
    for (size_t i = 0; i < k->nlanes; i++) {
        const struct gp_report_lane *l = &k->lanes[i];
        fprintf(f, "%s'device %" PRIu32 " stream %" PRIu32 "' %" PRIu32, i ? ", " : "", l->device,
                l->stream, t->d.order[i]);
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
    enum gp_report_plot_format fmt = gp_report_plot_format_of(path);
    const char *out_name = fmt == GP_REPORT_PLOT_SVG ? "out.svg" : "out.png";
    struct tl t;
    char dir[4096];
    int dirfd = -1, rc, reduced = 0;

    memset(&t, 0, sizeof(t));
    if (fmt == GP_REPORT_PLOT_NONE) {
        snprintf(err, errlen, "%s: the plot file must end in .png or .svg", path);
        return -EINVAL;
    }
    if ((rc = gp_report_tl_window(&t.d, r, win, err, errlen)) < 0) {
        gp_report_tl_fini(&t.d);
        return rc;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' ||
        (size_t)snprintf(dir, sizeof(dir), "%s/gpuprof-plot.XXXXXX", tmp) >= sizeof(dir))
        snprintf(dir, sizeof(dir), "/tmp/gpuprof-plot.XXXXXX");
    if (!mkdtemp(dir)) {
        rc = -errno;
        snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
        gp_report_tl_fini(&t.d);
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
    gp_report_tl_fini(&t.d);
    return rc;
}
