/* view_html_tensor.c — the Tensor Cores section of the HTML page, as view_tensor.c prints it
 * for the text view: layer 1 (what each cuBLAS/cuDNN call asked for: verdicts by class and by
 * precision, each call site with its shape and why), and layer 3 (GPU time of GEMM/conv
 * kernels by the kernel-name table, the longest kernels of each class with the rule that
 * decided). Shown only when the trace has library calls or GEMM/conv kernels the table knows. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "view_html.h"

#define HTML_TC_KERNELS 10 /* kernels listed per class */

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void totals_table(FILE *f, const char *cls, const char *head, const char *const *names,
                         const struct gp_report_tc_total *v, size_t n)
{
    fprintf(f, "<table class=\"%s\"><tr><th>%s</th><th>calls</th><th>FLOP</th></tr>\n", cls, head);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        gp_report_html_esc(f, names ? names[i] : v[i].name);
        fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%.0f</td></tr>\n",
                v[i].calls, v[i].flops);
    }
    fputs("</table>\n", f);
}

static int layer1(FILE *f, struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    const char *classes[GP_TC_CLASSES];
    for (unsigned c = 0; c < GP_TC_CLASSES; c++)
        classes[c] = gp_report_tc_class_name(c);
    fprintf(f, "<h3>Layer 1: what each library call asked for</h3>\n<p>%" PRIu64 " matrix-product and convolution call%s, "
               "%.0f FLOP.</p>\n", t->calls, t->calls == 1 ? "" : "s", t->flops);
    totals_table(f, "tc-verdicts", "verdict", classes, t->by_class, GP_TC_CLASSES);
    totals_table(f, "tc-precisions", "precision", NULL, t->by_prec, t->nprec);
    fputs("<table class=\"tc-sites\"><tr><th>verdict</th><th>calls</th><th>FLOP</th>"
          "<th>precision</th><th>API</th><th>shape m x n x k</th><th>why</th><th>call site</th>"
          "</tr>\n", f);
    for (size_t i = 0; i < t->nsites; i++) {
        const struct gp_report_tc_site *s = &t->sites[i];
        fprintf(f, "<tr><td>%s</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%.0f</td><td>",
                gp_report_tc_class_name(s->verdict.cls), s->calls, s->flops);
        gp_report_html_esc(f, s->verdict.precision);
        fputs("</td><td>", f);
        gp_report_html_esc(f, gp_trace_lib_api_name(s->api));
        fputs("</td><td class=\"n\">", f);
        if (s->m || s->n || s->k)
            fprintf(f, "%" PRIu64 "x%" PRIu64 "x%" PRIu64, s->m, s->n, s->k);
        if (s->batch > 1)
            fprintf(f, " x%" PRIu64, s->batch);
        fputs("</td><td>(layer ", f);
        gp_report_html_esc(f, s->verdict.layer);
        fputs(") ", f);
        gp_report_html_esc(f, s->verdict.reason);
        fputs("</td>", f);
        int rc = gp_report_html_stack_cell(f, r, s->stack, 1);
        if (rc < 0)
            return rc;
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    if (t->sites_lost)
        fprintf(f, "<p>%" PRIu64 " calls beyond %d sites are counted above but not listed.</p>\n",
                t->sites_lost, GP_REPORT_TC_MAX_SITES);
    return 0;
}

static void layer3(FILE *f, const struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    const uint64_t *ns = t->kernel_ns;
    char a[32], b[32], c[32], d[32];
    fprintf(f, "<h3>Layer 3: kernel names</h3>\n<p class=\"tc-share\">GEMM/conv kernels: %s of "
               "GPU time, %.1f%% on Tensor Core kernels (%s), %.1f%% on CUDA-core kernels (%s). "
               "Other kernels (not classified by name): %s.</p>\n",
            gp_report_fmt_secs(a, sizeof a, t->name_gemm_time_ns), 100.0 * t->name_tc_fraction,
            gp_report_fmt_secs(b, sizeof b, ns[GP_KC_TENSOR]),
            pct(ns[GP_KC_CUDA_CORE], t->name_gemm_time_ns),
            gp_report_fmt_secs(c, sizeof c, ns[GP_KC_CUDA_CORE]),
            gp_report_fmt_secs(d, sizeof d, ns[GP_KC_UNKNOWN]));
    fputs("<table class=\"tc-kernels\"><tr><th>class</th><th>GPU time</th><th>calls</th>"
          "<th>kernel</th><th>why</th></tr>\n", f);
    for (unsigned cls = GP_KC_TENSOR; cls <= GP_KC_CUDA_CORE; cls++) {
        size_t shown = 0;
        for (size_t i = 0; i < t->nkernels && shown < HTML_TC_KERNELS; i++) {
            const struct gp_report_tc_kernel *k = &t->kernels[i];
            if (k->verdict.cls != cls)
                continue;
            shown++;
            const char *raw = k->name_id ? gp_trace_reader_string(r->model->reader, k->name_id) : NULL;
            char *dm = raw ? gp_report_demangle(raw) : NULL;
            fprintf(f, "<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%" PRIu64
                       "</td><td><code>", gp_report_kclass_name(cls),
                    gp_report_fmt_secs(a, sizeof a, k->time_ns), k->calls);
            gp_report_html_esc(f, dm ? dm : raw ? raw : "(unnamed)");
            free(dm);
            fputs("</code></td><td>", f);
            gp_report_html_esc(f, k->verdict.rule);
            fputs(": ", f);
            gp_report_html_esc(f, k->verdict.reason);
            fputs("</td></tr>\n", f);
        }
    }
    fputs("</table>\n", f);
}

int gp_report_html_tensor(FILE *f, struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    if (!t->calls && !t->name_gemm_time_ns)
        return 0;
    fputs("<h2>Tensor Cores</h2>\n", f);
    if (t->calls) {
        int rc = layer1(f, r);
        if (rc < 0)
            return rc;
    }
    if (t->name_gemm_time_ns)
        layer3(f, r);
    return ferror(f) ? -EIO : 0;
}
