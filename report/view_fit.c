/* view_fit.c — the batch-size fit (fit.c) for people (text), for scripts (JSON, see
 * docs/json-schema.md "Batch-size fit") and as a gnuplot drawing of the runs' peaks, the
 * fitted line, the usable memory and the largest batch.
 * Plot safety is view_plot.c's: gnuplot runs without a shell in a private directory. The
 * script holds only fixed text and numbers; file names and labels (from the command line
 * and the traces) never reach it, so there is nothing in it to escape. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

static const char *source_name(int source)
{
    return source == GP_FIT_ALLOCATED ? "allocated" : "reserved";
}

/* Bytes with a sign, "-1.50 GiB" style. */
static const char *fmt_signed(char *buf, size_t len, int64_t v)
{
    if (v >= 0)
        return gp_report_fmt_bytes(buf, len, (uint64_t)v);
    buf[0] = '-';
    gp_report_fmt_bytes(buf + 1, len - 1, (uint64_t)0 - (uint64_t)v);
    return buf;
}

/* "12.34%" from units of 1/10000. */
static const char *fmt_pct(char *buf, size_t len, uint32_t units)
{
    snprintf(buf, len, "%u.%02u%%", units / 100, units % 100);
    return buf;
}

/* fixed + per_sample * b in the rounded integers max_batch uses (never below 0; saturated,
 * as a hostile trace's peaks can put it past 2^63). */
static uint64_t need_for(const struct gp_report_fit *f, uint64_t b)
{
    int64_t prod, v;
    if (b > INT64_MAX || __builtin_mul_overflow(f->per_sample_bytes, (int64_t)b, &prod) ||
        __builtin_add_overflow(f->fixed_bytes, prod, &v))
        return f->per_sample_bytes > 0 ? UINT64_MAX : 0;
    return v > 0 ? (uint64_t)v : 0;
}

/* A double rounded to bytes, saturated: converting one out of range would be undefined. */
static uint64_t bytes_of(double v)
{
    return !(v > 0) ? 0 : v + 0.5 >= 0x1p64 ? UINT64_MAX : (uint64_t)(v + 0.5);
}

#define TEXT_WIDTH 96
#define TEXT_INDENT 19 /* where the words after a heading start */

/* One statement: the heading padded to TEXT_INDENT, then the formatted words wrapped at
 * TEXT_WIDTH with continuation lines indented. Trace strings never go through here. */
static void say(FILE *o, const char *head, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(FILE *o, const char *head, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    int col = fprintf(o, "%-*s", TEXT_INDENT, head);
    for (const char *p = buf; *p;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (!len)
            break;
        if (col > TEXT_INDENT && col + 1 + (int)len > TEXT_WIDTH)
            col = fprintf(o, "\n%*s", TEXT_INDENT, "") - 1;
        else if (col > TEXT_INDENT)
            col += fprintf(o, " ");
        fwrite(p, 1, len, o);
        col += (int)len;
        p += len;
    }
    fputc('\n', o);
}

static void text_source(FILE *o, const struct gp_report_fit *f)
{
    size_t torch = 0;
    for (size_t i = 0; i < f->n; i++)
        torch += f->v[i].torch != 0;
    if (f->source == GP_FIT_ALLOCATED)
        say(o, "Peak used:", "PyTorch's allocated peak (bytes in live tensors) of each run.");
    else if (torch)
        say(o, "Peak used:", "the device memory each process held (reserved): the PyTorch "
            "adapter ran in only %zu of the %zu runs, and the two kinds of peak do not mix.",
            torch, f->n);
    else
        say(o, "Peak used:", "the device memory each process held (reserved); the traces have "
            "no PyTorch adapter records, so no allocated peak.");
}

static void text_points(FILE *o, const struct gp_report_fit *f)
{
    char a[48], b[48], c[48];
    fprintf(o, "\n  %8s  %12s  %12s  %12s  %s\n", "batch", "peak", "on the line", "off by",
            "trace");
    for (size_t i = 0; i < f->n; i++) {
        const struct gp_report_fit_point *p = &f->v[i];
        double line = f->fixed + f->per_sample * (double)p->batch;
        double off = (double)p->peak_bytes - line;
        uint64_t line_b = bytes_of(line), off_m = bytes_of(off < 0 ? -off : off);
        int64_t off_b = off_m > INT64_MAX ? (off < 0 ? -INT64_MAX : INT64_MAX)
                                          : off < 0 ? -(int64_t)off_m : (int64_t)off_m;
        fprintf(o, "  %8" PRIu64 "  %12s  %12s  %12s  ", p->batch,
                gp_report_fmt_bytes(a, sizeof(a), p->peak_bytes),
                gp_report_fmt_bytes(b, sizeof(b), line_b), fmt_signed(c, sizeof(c), off_b));
        gp_report_fputs_safe(o, p->file);
        fputs(p->truncated ? " (truncated trace)\n" : "\n", o);
    }
    fputc('\n', o);
}

static void text_linearity(FILE *o, const struct gp_report_fit *f)
{
    char a[48], b[48];
    if (f->n == 2) {
        say(o, "Fit:", "two runs: the line goes through both exactly. A run at a third batch "
            "size would show whether growth is linear.");
        return;
    }
    say(o, "Fit:", "least squares over %zu runs; the farthest is %s off the line%s%s", f->n,
        gp_report_fmt_bytes(a, sizeof(a), f->residual_bytes),
        f->residual_bytes == 0 ? ": the points lie on it." : " (the residual).",
        f->ndistinct < 3 ? " Only two distinct batch sizes: add a run at a third to judge "
                           "whether growth is linear."
                         : "");
    if (f->nonlinear_residual)
        say(o, "Warning:", "growth is not linear: the runs stray from the line by up to %s, "
            "more than 2%% of the largest peak (%s). Treat the largest batch below as a rough "
            "guess.",
            gp_report_fmt_bytes(a, sizeof(a), f->residual_bytes),
            gp_report_fmt_bytes(b, sizeof(b), f->max_peak));
    if (f->nonlinear_quadratic)
        say(o, "Warning:", "growth is not linear: a quadratic term explains the runs clearly "
            "better than a line; memory grows %s than linearly with the batch size, so the "
            "largest batch below is %s.",
            f->nonlinear_quadratic > 0 ? "faster" : "slower",
            f->nonlinear_quadratic > 0 ? "optimistic (try it before relying on it)" : "cautious");
}

static const char *context_how(int source)
{
    switch (source) {
    case GP_FIT_CONTEXT_MEMINFO:
        return "(device total - free - this process's allocations, at its first cudaMemGetInfo)";
    case GP_FIT_CONTEXT_ADAPTER:
        return "(device total - free - this process's allocations, from PyTorch's statistics)";
    case GP_FIT_CONTEXT_OPTION:
        return "(given with --context-bytes)";
    default:
        return "(not measured: the trace has no cudaMemGetInfo answer, so this is the default "
               "allowance; set it with --context-bytes)";
    }
}

/* The memory the batch competes with that no fitted peak holds, in one statement. */
static void text_other(FILE *o, const struct gp_report_fit *f)
{
    char a[48], b[48], c[48], d[48], e[48], nt[160] = "", others[96] = "";
    if (f->source == GP_FIT_ALLOCATED)
        snprintf(nt, sizeof(nt), "%s outside PyTorch's allocator (the process's device peak - "
                 "PyTorch's reserved peak) + ",
                 gp_report_fmt_bytes(c, sizeof(c), f->other_non_torch));
    if (f->other_processes)
        snprintf(others, sizeof(others), " + %s held by other processes (NVML)",
                 gp_report_fmt_bytes(e, sizeof(e), f->other_processes));
    say(o, "Other memory:", "%s also kept free, leaving %s usable: the most any run (batch %"
        PRIu64 ") held beside its peak = %s%s CUDA context and other memory on the device %s%s.%s",
        gp_report_fmt_bytes(a, sizeof(a), f->other_bytes),
        gp_report_fmt_bytes(b, sizeof(b), f->usable_bytes), f->v[f->other_run].batch, nt,
        gp_report_fmt_bytes(d, sizeof(d), f->other_context), context_how(f->other_context_source),
        others,
        f->source == GP_FIT_RESERVED ? " The process's own allocations outside PyTorch are in its "
                                       "reserved peak already."
                                     : "");
}

static void text_limit(FILE *o, const struct gp_report_fit *f)
{
    char a[48], b[48], c[48], d[48];
    say(o, "Device memory:", "%s%s%s.", gp_report_fmt_bytes(a, sizeof(a), f->device_total),
        f->device_total_opt ? " (given with --device-total)" : "",
        f->totals_differ && !f->device_total_opt
            ? " (the runs saw different totals; the smallest is used)"
            : "");
    if (f->frag_units)
        fmt_pct(c, sizeof(c), f->frag_units);
    say(o, "Headroom:", "%s kept free (%s asked%s%s%s), leaving %s.",
        fmt_pct(a, sizeof(a), f->headroom_units), fmt_pct(b, sizeof(b), f->headroom_base),
        f->frag_units ? " + " : "; no fragmentation allowance", f->frag_units ? c : "",
        f->frag_units ? " for the fragmentation seen: PyTorch's reserved but unallocated memory "
                        "next to its allocated peak, as a share of its reserved peak"
                      : "",
        gp_report_fmt_bytes(d, sizeof(d), f->kept_bytes));
    text_other(o, f);
    if (!f->have_max) {
        say(o, "Largest batch:", "cannot say: peak memory does not grow with the batch size in "
            "these runs (%s per sample). Check the batch sizes (labels or --batch) and that the "
            "runs differ only in batch size.",
            fmt_signed(a, sizeof(a), f->per_sample_bytes));
        return;
    }
    if (f->max_batch == 0) {
        say(o, "Largest batch:", "none fits: batch 1 would need %s of the %s usable.",
            gp_report_fmt_bytes(a, sizeof(a), need_for(f, 1)),
            gp_report_fmt_bytes(b, sizeof(b), f->usable_bytes));
        return;
    }
    uint64_t next = need_for(f, f->max_batch + 1);
    say(o, "Largest batch:", "%" PRIu64 ": fixed + per sample x %" PRIu64 " = %s of the %s "
        "usable; batch %" PRIu64 " would need %s, %s too much.",
        f->max_batch, f->max_batch, gp_report_fmt_bytes(a, sizeof(a), need_for(f, f->max_batch)),
        gp_report_fmt_bytes(b, sizeof(b), f->usable_bytes), f->max_batch + 1,
        gp_report_fmt_bytes(c, sizeof(c), next),
        gp_report_fmt_bytes(d, sizeof(d), next - f->usable_bytes));
}

int gp_report_view_fit_text(FILE *o, const struct gp_report_fit *f)
{
    char a[48], b[48];
    fprintf(o, "gpuprof batch-size fit: %zu runs, peak = fixed + per sample x batch\n", f->n);
    text_source(o, f);
    text_points(o, f);
    say(o, "Fixed memory:", "%s (%" PRId64 " bytes): held whatever the batch size (weights, "
        "optimizer state, workspaces%s).%s",
        fmt_signed(a, sizeof(a), f->fixed_bytes), f->fixed_bytes,
        f->source == GP_FIT_RESERVED ? ", the allocator's cache" : "",
        f->fixed_bytes < 0 ? " Below zero: the runs do not follow one line well (see the fit)."
                           : "");
    say(o, "Memory per sample:", "%s (%" PRId64 " bytes) more peak memory for each sample "
        "added to the batch.",
        fmt_signed(b, sizeof(b), f->per_sample_bytes), f->per_sample_bytes);
    text_linearity(o, f);
    text_limit(o, f);
    return ferror(o) ? -EIO : 0;
}

int gp_report_view_fit_json(FILE *o, const struct gp_report_fit *f)
{
    struct gp_report_json j;
    gp_report_json_init(&j, o);
    gp_report_json_object_begin(&j, NULL);
    gp_report_json_i64(&j, "fixed_bytes", f->fixed_bytes);
    gp_report_json_i64(&j, "per_sample_bytes", f->per_sample_bytes);
    if (f->have_max)
        gp_report_json_u64(&j, "max_batch", f->max_batch);
    else
        gp_report_json_null(&j, "max_batch");
    gp_report_json_double(&j, "headroom_fraction",
                          (double)f->headroom_units / (double)GP_REPORT_FIT_UNITS);
    gp_report_json_u64(&j, "device_total_bytes", f->device_total);
    gp_report_json_u64(&j, "residual_bytes", f->residual_bytes);
    gp_report_json_u64(&j, "other_bytes", f->other_bytes);
    gp_report_json_object_begin(&j, "other");
    gp_report_json_u64(&j, "non_torch_bytes", f->other_non_torch);
    gp_report_json_u64(&j, "context_bytes", f->other_context);
    gp_report_json_u64(&j, "other_processes_bytes", f->other_processes);
    gp_report_json_string(&j, "context_source",
                          gp_report_fit_context_name(f->other_context_source));
    gp_report_json_u64(&j, "batch", f->v[f->other_run].batch);
    gp_report_json_object_end(&j);
    gp_report_json_u64(&j, "usable_bytes", f->usable_bytes);
    gp_report_json_bool(&j, "linear", f->linear);
    gp_report_json_string(&j, "peak_source", source_name(f->source));
    gp_report_json_array_begin(&j, "points");
    for (size_t i = 0; i < f->n; i++) {
        gp_report_json_object_begin(&j, NULL);
        gp_report_json_string(&j, "file", f->v[i].file);
        gp_report_json_u64(&j, "batch", f->v[i].batch);
        gp_report_json_u64(&j, "peak_bytes", f->v[i].peak_bytes);
        gp_report_json_string(&j, "source", source_name(f->source));
        gp_report_json_u64(&j, "other_bytes", f->v[i].other_bytes);
        gp_report_json_object_end(&j);
    }
    gp_report_json_array_end(&j);
    gp_report_json_object_end(&j);
    return ferror(o) ? -EIO : 0;
}

/* ---- plot ----------------------------------------------------------------------------- */
static const char *const points_file = "points.dat";
static const char *const script_file = "plot.gp";

static double unit_for(uint64_t max, const char **name)
{
    static const char *const names[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    double div = 1;
    size_t u = 0;
    while (u + 1 < sizeof(names) / sizeof(names[0]) && (double)max >= div * 1024.0) {
        div *= 1024.0;
        u++;
    }
    *name = names[u];
    return div;
}

static int write_points(int dirfd, const struct gp_report_fit *f, double div)
{
    FILE *d = gp_report_plot_create(dirfd, points_file);
    if (!d)
        return -errno;
    for (size_t i = 0; i < f->n; i++)
        fprintf(d, "%" PRIu64 " %.9g\n", f->v[i].batch, (double)f->v[i].peak_bytes / div);
    return gp_report_plot_close(d);
}

static int write_fit_script(int dirfd, const struct gp_report_fit *f, int svg, const char *out_name)
{
    const char *unit;
    uint64_t top = f->device_total > f->max_peak ? f->device_total : f->max_peak;
    double div = unit_for(top, &unit), xmax = 1;
    for (size_t i = 0; i < f->n; i++)
        if ((double)f->v[i].batch > xmax)
            xmax = (double)f->v[i].batch;
    if (f->have_max && (double)f->max_batch > xmax)
        xmax = (double)f->max_batch;
    int rc = write_points(dirfd, f, div);
    if (rc < 0)
        return rc;
    FILE *s = gp_report_plot_create(dirfd, script_file);
    if (!s)
        return -errno;
    fputs(svg ? "set terminal svg size 1280,720 noenhanced\n"
              : "set terminal pngcairo size 1280,720 noenhanced\n",
          s);
    fprintf(s, "set output '%s'\n", out_name); /* a fixed name of ours */
    fputs("set title 'gpuprof: peak memory by batch size'\n"
          "set xlabel 'batch size'\n",
          s);
    fprintf(s, "set ylabel 'peak memory (%s)'\n", unit); /* from a fixed table */
    fputs("set grid\nset key outside below horizontal\nset samples 400\n", s);
    fprintf(s, "set xrange [0:%.9g]\n", xmax * 1.15);
    fprintf(s, "set yrange [0:%.9g]\n", (double)top / div * 1.1);
    fprintf(s, "fit_line(x) = %.17g + %.17g * x\n", (double)f->fixed_bytes / div,
            (double)f->per_sample_bytes / div);
    if (f->have_max && f->max_batch > 0)
        fprintf(s, "set arrow 1 from %" PRIu64 ", graph 0 to %" PRIu64 ", graph 1 nohead "
                   "dt 3 lc rgb '#9467bd'\n"
                   "set label 1 'largest batch %" PRIu64 "' at %" PRIu64 ", graph 0.95 right "
                   "offset -1,0\n",
                f->max_batch, f->max_batch, f->max_batch, f->max_batch);
    fprintf(s, "plot '%s' using 1:2 with points pt 7 ps 1.8 lc rgb '#1f77b4' title '%s', \\\n",
            points_file,
            f->source == GP_FIT_ALLOCATED ? "runs (allocated peak)" : "runs (reserved peak)");
    fputs("  fit_line(x) with lines lw 2 lc rgb '#ff7f0e' title 'fixed + per sample x batch', "
          "\\\n",
          s);
    fprintf(s, "  %.17g with lines dt 2 lw 2 lc rgb '#2ca02c' title 'usable (total less "
               "headroom and other memory)', \\\n",
            (double)f->usable_bytes / div);
    fprintf(s, "  %.17g with lines dt 4 lw 1 lc rgb '#d62728' title 'device total'\n",
            (double)f->device_total / div);
    fputs("unset output\n", s);
    return gp_report_plot_close(s);
}

int gp_report_view_fit_plot(const char *path, const struct gp_report_fit *f, char *err,
                            size_t errlen)
{
    enum gp_report_plot_format fmt = gp_report_plot_format_of(path);
    const char *out_name = fmt == GP_REPORT_PLOT_SVG ? "out.svg" : "out.png";
    const char *names[] = { points_file, script_file, "gnuplot.log", out_name };
    char dir[4096];
    int dirfd = -1, rc;

    if (fmt == GP_REPORT_PLOT_NONE) {
        snprintf(err, errlen, "%s: the plot file must end in .png or .svg", path);
        return -EINVAL;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' ||
        (size_t)snprintf(dir, sizeof(dir), "%s/gpuprof-plot.XXXXXX", tmp) >= sizeof(dir))
        snprintf(dir, sizeof(dir), "/tmp/gpuprof-plot.XXXXXX");
    if (!mkdtemp(dir)) {
        rc = -errno;
        snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
        return rc;
    }
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot open the temporary directory: %s", strerror(errno));
        goto out;
    }
    rc = write_fit_script(dirfd, f, fmt == GP_REPORT_PLOT_SVG, out_name);
    if (rc < 0) {
        snprintf(err, errlen, "cannot write the plot data: %s", strerror(-rc));
        goto out;
    }
    rc = gp_report_plot_run(dir, err, errlen);
    if (rc == 0)
        rc = gp_report_plot_copy(dirfd, out_name, path, err, errlen);
out:
    if (dirfd >= 0) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            unlinkat(dirfd, names[i], 0);
        close(dirfd);
    }
    rmdir(dir);
    return rc;
}
