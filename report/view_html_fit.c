/* view_html_fit.c — the batch-size fit (fit.c) on the HTML job page: the numbers `gpuprof-report
 * fit` prints (view_fit.c), the runs with their distance from the line, and an inline SVG of
 * the runs' peaks, the fitted line, the usable memory, the device total and the largest
 * batch. File names are escaped; the drawing holds numbers only. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "view_html.h"

#define FIT_W 860
#define FIT_H 340
#define FIT_L 80
#define FIT_B 40
#define FIT_POINT "#8c564b"
#define FIT_LINE "#e377c2"

/* Bytes with a sign, "-1.50 GiB" style. */
static const char *fmt_signed(char *buf, size_t len, double v)
{
    double a = v < 0 ? -v + 0.5 : v + 0.5;
    uint64_t m = !(a > 0) ? 0 : a >= 0x1p64 ? UINT64_MAX : (uint64_t)a; /* saturated, not UB */
    if (v > -0.5)
        return gp_report_fmt_bytes(buf, len, m);
    buf[0] = '-';
    gp_report_fmt_bytes(buf + 1, len - 1, m);
    return buf;
}

static void kv(FILE *f, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void kv(FILE *f, const char *key, const char *fmt, ...)
{
    va_list ap;
    fprintf(f, "<tr><th>%s</th><td>", key);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap); /* numbers and fixed text only */
    va_end(ap);
    fputs("</td></tr>\n", f);
}

static double line_at(const struct gp_report_fit *fit, double b)
{
    return (double)fit->fixed_bytes + (double)fit->per_sample_bytes * b;
}

static void numbers(FILE *f, const struct gp_report_fit *fit)
{
    char a[48], b[48], c[48], d[48], e[48];
    fputs("<table class=\"kv fit\">\n", f);
    kv(f, "Peak used", "%s", fit->source == GP_FIT_ALLOCATED
                                 ? "PyTorch's allocated peak (bytes in live tensors) of each run"
                                 : "the device memory each process held (reserved)");
    kv(f, "Fixed memory", "%s (%" PRId64 " bytes)", fmt_signed(a, sizeof a, (double)fit->fixed_bytes),
       fit->fixed_bytes);
    kv(f, "Memory per sample", "%s (%" PRId64 " bytes)",
       fmt_signed(a, sizeof a, (double)fit->per_sample_bytes), fit->per_sample_bytes);
    kv(f, "Farthest run from the line", "%s (%" PRIu64 " bytes)%s",
       gp_report_fmt_bytes(a, sizeof a, fit->residual_bytes), fit->residual_bytes,
       fit->n == 2 ? "; two runs: the line goes through both" : "");
    kv(f, "Device memory", "%s", gp_report_fmt_bytes(a, sizeof a, fit->device_total));
    kv(f, "Headroom", "%u.%02u%% (%u.%02u%% asked + %u.%02u%% fragmentation), leaving %s usable",
       fit->headroom_units / 100, fit->headroom_units % 100, fit->headroom_base / 100,
       fit->headroom_base % 100, fit->frag_units / 100, fit->frag_units % 100,
       gp_report_fmt_bytes(b, sizeof b, fit->kept_bytes));
    static const char *const ctx_how[] = {
        [GP_FIT_CONTEXT_DEFAULT] = "not measured: the default allowance",
        [GP_FIT_CONTEXT_MEMINFO] = "measured by cudaMemGetInfo",
        [GP_FIT_CONTEXT_ADAPTER] = "from PyTorch's statistics",
        [GP_FIT_CONTEXT_OPTION] = "given with --context-bytes",
    };
    unsigned src = (unsigned)fit->other_context_source;
    kv(f, "Other memory", "%s (%s outside PyTorch + %s CUDA context, %s + %s other processes; the "
       "most of the runs), leaving %s usable",
       gp_report_fmt_bytes(a, sizeof a, fit->other_bytes),
       gp_report_fmt_bytes(b, sizeof b, fit->other_non_torch),
       gp_report_fmt_bytes(c, sizeof c, fit->other_context),
       ctx_how[src < sizeof ctx_how / sizeof ctx_how[0] ? src : GP_FIT_CONTEXT_DEFAULT],
       gp_report_fmt_bytes(d, sizeof d, fit->other_processes),
       gp_report_fmt_bytes(e, sizeof e, fit->usable_bytes));
    if (!fit->have_max)
        kv(f, "Largest batch", "%s", "cannot say: peak memory does not grow with the batch size");
    else if (fit->max_batch == 0)
        kv(f, "Largest batch", "none fits: batch 1 would need %s",
           fmt_signed(a, sizeof a, line_at(fit, 1)));
    else
        kv(f, "Largest batch", "<strong id=\"max-batch\">%" PRIu64 "</strong>: %s of the %s usable; "
           "batch %" PRIu64 " would need %s", fit->max_batch,
           fmt_signed(a, sizeof a, line_at(fit, (double)fit->max_batch)),
           gp_report_fmt_bytes(b, sizeof b, fit->usable_bytes), fit->max_batch + 1,
           fmt_signed(c, sizeof c, line_at(fit, (double)fit->max_batch + 1)));
    fputs("</table>\n", f);
    if (fit->nonlinear_residual || fit->nonlinear_quadratic)
        fprintf(f, "<div class=\"warn\">Warning: growth is not linear (%s); treat the largest batch "
                   "as a rough guess.</div>\n",
                fit->nonlinear_quadratic > 0   ? "memory grows faster than linearly"
                : fit->nonlinear_quadratic < 0 ? "memory grows slower than linearly"
                                               : "the runs stray from the line by more than 2%");
}

static void runs(FILE *f, const struct gp_report_fit *fit)
{
    char a[48], b[48], c[48];
    fputs("<table class=\"fit-runs\"><tr><th>batch</th><th>peak</th><th>on the line</th>"
          "<th>off by</th><th>trace</th></tr>\n", f);
    for (size_t i = 0; i < fit->n; i++) {
        const struct gp_report_fit_point *p = &fit->v[i];
        double line = fit->fixed + fit->per_sample * (double)p->batch;
        fprintf(f, "<tr><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%s</td><td class=\"n\">%s"
                   "</td><td class=\"n\">%s</td><td><code>", p->batch,
                gp_report_fmt_bytes(a, sizeof a, p->peak_bytes), fmt_signed(b, sizeof b, line),
                fmt_signed(c, sizeof c, (double)p->peak_bytes - line));
        gp_report_html_esc(f, p->file);
        fputs(p->truncated ? "</code> (truncated)</td></tr>\n" : "</code></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void plot(FILE *f, const struct gp_report_fit *fit)
{
    char a[48];
    double xmax = 1, ytop = (double)(fit->device_total > fit->max_peak ? fit->device_total
                                                                       : fit->max_peak);
    for (size_t i = 0; i < fit->n; i++)
        if ((double)fit->v[i].batch > xmax)
            xmax = (double)fit->v[i].batch;
    if (fit->have_max && (double)fit->max_batch > xmax)
        xmax = (double)fit->max_batch;
    xmax *= 1.15;
    ytop = ytop > 0 ? ytop * 1.1 : 1;
    double pw = FIT_W - FIT_L - 10, ph = FIT_H - FIT_B - 10;
#define FX(b) (FIT_L + (b) / xmax * pw)
#define FY(v) (10 + ph - ((v) < 0 ? 0 : (v) > ytop ? ytop : (v)) / ytop * ph)
    fprintf(f, "<svg class=\"fitplot\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\" aria-label=\"peak memory by batch size\">\n", FIT_W, FIT_H, FIT_W, FIT_H);
    fprintf(f, "<rect x=\"%d\" y=\"10\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
               "stroke=\"#999\"/>\n", FIT_L, pw, ph);
    fprintf(f, "<text x=\"%d\" y=\"16\" text-anchor=\"end\">%s</text>\n", FIT_L - 4,
            gp_report_fmt_bytes(a, sizeof a, ytop >= 0x1p64 ? UINT64_MAX : (uint64_t)ytop));
    fprintf(f, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">0</text>\n", FIT_L - 4, 10 + ph);
    fprintf(f, "<text x=\"%d\" y=\"%.0f\">0</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">"
               "batch %.0f</text>\n", FIT_L, 10 + ph + 16, FIT_L + pw, 10 + ph + 16, xmax);
    fprintf(f, "<line class=\"total\" x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
               "stroke-dasharray=\"2 3\"><title>device total</title></line>\n", FIT_L, FIT_L + pw,
            FY((double)fit->device_total), FY((double)fit->device_total));
    fprintf(f, "<line class=\"usable\" x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#2ca02c\" "
               "stroke-dasharray=\"6 4\" stroke-width=\"2\"><title>usable (total less headroom "
               "and other memory)</title></line>\n", FIT_L, FIT_L + pw, FY((double)fit->usable_bytes),
            FY((double)fit->usable_bytes));
    /* the line, cut where it leaves the plot */
    fprintf(f, "<polyline class=\"fitline\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
            FIT_LINE);
    for (int s = 0; s <= 100; s++) {
        double b = xmax * s / 100;
        fprintf(f, "%s%.1f,%.1f", s ? " " : "", FX(b), FY(line_at(fit, b)));
    }
    fputs("\"/>\n", f);
    if (fit->have_max && fit->max_batch > 0)
        fprintf(f, "<line class=\"maxbatch\" x1=\"%.1f\" x2=\"%.1f\" y1=\"10\" y2=\"%.0f\" "
                   "stroke=\"#9467bd\" stroke-dasharray=\"2 2\"/><text x=\"%.1f\" y=\"24\" "
                   "text-anchor=\"end\">largest batch %" PRIu64 "</text>\n",
                FX((double)fit->max_batch), FX((double)fit->max_batch), 10 + ph,
                FX((double)fit->max_batch) - 4, fit->max_batch);
    for (size_t i = 0; i < fit->n; i++)
        fprintf(f, "<circle class=\"run\" cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\"><title>batch %"
                   PRIu64 ": %s</title></circle>\n", FX((double)fit->v[i].batch),
                FY((double)fit->v[i].peak_bytes), FIT_POINT, fit->v[i].batch,
                gp_report_fmt_bytes(a, sizeof a, fit->v[i].peak_bytes));
    fprintf(f, "<text x=\"%d\" y=\"%d\">dots: runs; line: fixed + per sample x batch; green "
               "dashed: usable; red dotted: device total</text>\n</svg>\n", FIT_L, FIT_H - 6);
#undef FX
#undef FY
}

void gp_report_html_fit(FILE *f, const struct gp_report_fit *fit)
{
    fprintf(f, "<h2>Batch-size fit: %zu runs</h2>\n<p>Peak memory = fixed + per sample x batch, "
               "from the batch=N of each trace's label.</p>\n", fit->n);
    numbers(f, fit);
    plot(f, fit);
    runs(f, fit);
}
