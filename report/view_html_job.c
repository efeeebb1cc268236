/* view_html_job.c — the HTML page of a job of several processes (--html with several traces
 * or a directory; multi.c's summary): every process with its device peak and OOMs, the
 * peaks as a bar chart against their mean, the GPUs, the process that ran out of memory
 * first (on the wall clock) and the imbalance; and when the traces' labels carry batch=N,
 * the batch-size fit (fit.c): its numbers, the runs and an inline SVG of the points, the
 * line, the usable memory and the largest batch. Labels, hosts and file names are escaped. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "view_html.h"

#define BAR_W 860
#define BAR_H 240
#define BAR_L 80
#define BAR_B 40
#define BAR_COLOUR "#bcbd22"

static void who(FILE *f, const struct gp_report_proc *p)
{
    fprintf(f, "pid %" PRIu32, p->pid);
    if (p->label[0]) {
        fputs(" (", f);
        gp_report_html_esc(f, p->label);
        fputc(')', f);
    }
    fputs(" on ", f);
    gp_report_html_esc(f, p->host);
}

static void proc_table(FILE *f, const struct gp_report_multi *mu)
{
    char a[32], b[32], c[32];
    int torch = 0;
    for (size_t i = 0; i < mu->n; i++)
        torch |= mu->v[i].has_allocated;
    fprintf(f, "<h2>Processes: %zu</h2>\n<table class=\"procs\"><tr><th>pid</th><th>host</th>"
               "<th>label</th><th>peak device</th><th>at</th>%s<th>OOMs</th><th>first OOM</th>"
               "<th>trace</th></tr>\n", mu->n, torch ? "<th>PyTorch allocated peak</th>" : "");
    for (size_t i = 0; i < mu->n; i++) {
        const struct gp_report_proc *p = &mu->v[i];
        fprintf(f, "<tr><td class=\"n\">%" PRIu32 "</td><td>", p->pid);
        gp_report_html_esc(f, p->host);
        fputs("</td><td>", f);
        gp_report_html_esc(f, p->label);
        fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>",
                gp_report_fmt_bytes(a, sizeof a, p->peak_bytes),
                gp_report_fmt_secs(b, sizeof b, p->peak_rel_ns));
        if (torch)
            fprintf(f, "<td class=\"n\">%s</td>",
                    p->has_allocated ? gp_report_fmt_bytes(c, sizeof c, p->allocated_peak) : "");
        fprintf(f, "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">", p->ooms);
        if (p->ooms && p->first_oom_wall_ns)
            fprintf(f, "%s, %s", gp_report_fmt_secs(a, sizeof a, p->first_oom_rel_ns),
                    gp_report_fmt_bytes(b, sizeof b, p->first_oom_requested));
        fputs("</td><td><code>", f);
        gp_report_html_esc(f, p->path);
        fputs(p->truncated ? "</code> (truncated)</td></tr>\n" : "</code></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Each process's device peak as a bar, the mean dashed. */
static void peak_bars(FILE *f, const struct gp_report_multi *mu)
{
    char a[32];
    uint64_t top = mu->n ? mu->v[mu->max_i].peak_bytes : 0;
    if (!top)
        return;
    double plot_w = BAR_W - BAR_L - 10, plot_h = BAR_H - BAR_B - 10, slot = plot_w / (double)mu->n;
    fprintf(f, "<svg class=\"peaks\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
               "aria-label=\"device memory peak per process\">\n", BAR_W, BAR_H, BAR_W, BAR_H);
    fprintf(f, "<rect x=\"%d\" y=\"10\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
               "stroke=\"#999\"/>\n", BAR_L, plot_w, plot_h);
    fprintf(f, "<text x=\"%d\" y=\"16\" text-anchor=\"end\">%s</text>\n", BAR_L - 4,
            gp_report_fmt_bytes(a, sizeof a, top));
    fprintf(f, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">0</text>\n", BAR_L - 4, 10 + plot_h);
    for (size_t i = 0; i < mu->n; i++) {
        const struct gp_report_proc *p = &mu->v[i];
        double h = (double)p->peak_bytes / (double)top * plot_h, w = slot * 0.7;
        double x = BAR_L + slot * (double)i + slot * 0.15;
        fprintf(f, "<rect class=\"peak\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                   "fill=\"%s\"%s><title>", x, 10 + plot_h - h, w, h, BAR_COLOUR,
                i == mu->first_oom ? " stroke=\"#d62728\" stroke-width=\"3\"" : "");
        who(f, p);
        fprintf(f, ": %s</title></rect>\n", gp_report_fmt_bytes(a, sizeof a, p->peak_bytes));
        if (slot >= 40) /* room for the pid under the bar */
            fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%" PRIu32 "</text>\n",
                    x + w / 2, 10 + plot_h + 16, p->pid);
    }
    double my = 10 + plot_h - (double)mu->mean_peak / (double)top * plot_h;
    fprintf(f, "<line class=\"mean\" x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
               "stroke-dasharray=\"6 4\"><title>mean %s</title></line>\n", BAR_L, BAR_L + plot_w,
            my, my, gp_report_fmt_bytes(a, sizeof a, mu->mean_peak));
    fprintf(f, "<text x=\"%d\" y=\"%d\">process (pid); red outline: the first out of memory; "
               "dashed: the mean</text>\n</svg>\n", BAR_L, BAR_H - 6);
}

static void gpu_table(FILE *f, const struct gp_report_multi *mu)
{
    char a[32], b[32];
    if (!mu->ngpus)
        return;
    fputs("<h2>GPUs</h2>\n<p>Device memory held: one process's largest peak, and the sum of "
          "the peaks of all processes on it (the most they can have held at once).</p>\n"
          "<table class=\"gpus\"><tr><th>host</th><th>GPU</th><th>processes</th><th>largest "
          "peak</th><th>of pid</th><th>sum of peaks</th></tr>\n", f);
    for (size_t g = 0; g < mu->ngpus; g++) {
        const struct gp_report_job_gpu *jg = &mu->gpus[g];
        fputs("<tr><td>", f);
        gp_report_html_esc(f, jg->host);
        if (jg->device >= 0)
            fprintf(f, "</td><td class=\"n\">%" PRId32 "</td>", jg->device);
        else
            fputs("</td><td class=\"n\">?</td>", f);
        fprintf(f, "<td class=\"n\">%zu</td><td class=\"n\">%s</td><td class=\"n\">%" PRIu32
                   "</td><td class=\"n\">%s</td></tr>\n", jg->processes,
                gp_report_fmt_bytes(a, sizeof a, jg->max_peak), mu->v[jg->max_i].pid,
                gp_report_fmt_bytes(b, sizeof b, jg->sum_peaks));
    }
    fputs("</table>\n", f);
}

static void summary(FILE *f, const struct gp_report_multi *mu)
{
    char a[32], b[32], c[64];
    if (mu->first_oom == SIZE_MAX) {
        fputs("<p id=\"first-oom\">Out of memory: no process ran out of device memory.</p>\n", f);
    } else {
        const struct gp_report_proc *p = &mu->v[mu->first_oom];
        fputs("<div class=\"warn\" id=\"first-oom\">First out of memory: ", f);
        who(f, p);
        fprintf(f, ", at %s (%s after it started), device %" PRId32 ", asking for %s</div>\n",
                gp_report_fmt_wall(c, sizeof(c), p->first_oom_wall_ns),
                gp_report_fmt_secs(a, sizeof(a), p->first_oom_rel_ns), p->first_oom_device,
                gp_report_fmt_bytes(b, sizeof(b), p->first_oom_requested));
    }
    if (!mu->n)
        return;
    const struct gp_report_proc *hi = &mu->v[mu->max_i], *lo = &mu->v[mu->min_i];
    fprintf(f, "<p id=\"imbalance\">Device memory imbalance: largest peak %s (",
            gp_report_fmt_bytes(a, sizeof(a), hi->peak_bytes));
    who(f, hi);
    fprintf(f, "), smallest %s (", gp_report_fmt_bytes(b, sizeof(b), lo->peak_bytes));
    who(f, lo);
    fprintf(f, "), mean %s: the largest is %.2fx the mean.</p>\n",
            gp_report_fmt_bytes(c, sizeof(c), mu->mean_peak), mu->imbalance);
}

int gp_report_view_html_job(FILE *f, const struct gp_report_multi *mu,
                            const struct gp_report_fit *fit, const char *fit_note)
{
    char name[64];
    snprintf(name, sizeof name, "%zu processes", mu->n);
    gp_report_html_begin(f, "gpuprof job report: ", name, "gpuprof job report");
    summary(f, mu);
    proc_table(f, mu);
    peak_bars(f, mu);
    gpu_table(f, mu);
    if (fit) {
        gp_report_html_fit(f, fit);
    } else if (fit_note) {
        fputs("<h2>Batch-size fit</h2>\n<p class=\"note\">No fit: ", f);
        gp_report_html_esc(f, fit_note);
        fputs("</p>\n", f);
    }
    gp_report_html_end(f);
    return ferror(f) ? -EIO : 0;
}
