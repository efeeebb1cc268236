/* view_html_tensor.c — the Tensor Cores section of the HTML page, as view_tensor.c prints it
 * for the text view: the one-line answer first (with the hardware counters' number and any
 * contradiction), layer 1 (what each cuBLAS/cuDNN call asked for: verdicts by class and by
 * precision, each call site with its shape, its final verdict, the layer that decided and
 * why), the kernels by class (layer 4, the machine code, where a saved cubin decides; else
 * layer 3, the name table), and what layers 4 and 5 did (cubins, counters) when the run
 * recorded them. Shown only when the trace has library calls or GEMM/conv kernels. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
          "<th>precision</th><th>API</th><th>shape m x n x k</th><th>why</th><th>ran on</th>"
          "<th>call site</th></tr>\n", f);
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
        /* the final verdict and its layer; what was asked too when the kernels decided */
        fputs("</td><td>(layer ", f);
        gp_report_html_esc(f, s->final_layer ? s->final_layer : s->verdict.layer);
        fputs(") ", f);
        gp_report_html_esc(f, s->why[0] ? s->why : s->verdict.reason);
        if (s->ran != GP_KC_UNKNOWN) {
            fputs("; asked (layer ", f);
            gp_report_html_esc(f, s->verdict.layer);
            fputs(") ", f);
            gp_report_html_esc(f, s->verdict.reason);
        }
        fprintf(f, "</td><td>%s</td>",
                s->ran == GP_KC_UNKNOWN ? "" : gp_report_kclass_name(s->ran));
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
    uint64_t gemm = ns[GP_KC_TENSOR] + ns[GP_KC_CUDA_CORE];
    char a[32], b[32], c[32], d[32];
    fprintf(f, "<h3>%s</h3>\n<p class=\"tc-share\">GEMM/conv kernels: %s of "
               "GPU time, %.1f%% on Tensor Core kernels (%s), %.1f%% on CUDA-core kernels (%s). "
               "Other kernels (not classified by %s): %s.</p>\n",
            t->mc_kernels ? "Kernels: layer 4 (machine code) where a saved cubin has the kernel, "
                            "else layer 3 (its name)"
                          : "Layer 3: kernel names",
            gp_report_fmt_secs(a, sizeof a, gemm), pct(ns[GP_KC_TENSOR], gemm),
            gp_report_fmt_secs(b, sizeof b, ns[GP_KC_TENSOR]), pct(ns[GP_KC_CUDA_CORE], gemm),
            gp_report_fmt_secs(c, sizeof c, ns[GP_KC_CUDA_CORE]),
            t->mc_kernels ? "name or machine code" : "name",
            gp_report_fmt_secs(d, sizeof d, ns[GP_KC_UNKNOWN]));
    if (t->mc_kernels)
        fprintf(f, "<p class=\"tc-by-name\">By name alone (layer 3): %s of GEMM/conv kernels, "
                   "%.1f%% on Tensor Core kernels; the machine code decided %" PRIu64 " kernel%s.</p>\n",
                gp_report_fmt_secs(a, sizeof a, t->name_gemm_time_ns), 100.0 * t->name_tc_fraction,
                t->mc_kernels, t->mc_kernels == 1 ? "" : "s");
    fputs("<table class=\"tc-kernels\"><tr><th>class</th><th>GPU time</th><th>calls</th>"
          "<th>kernel</th><th>why</th></tr>\n", f);
    for (unsigned cls = GP_KC_TENSOR; cls <= GP_KC_CUDA_CORE; cls++) {
        size_t shown = 0;
        for (size_t i = 0; i < t->nkernels && shown < HTML_TC_KERNELS; i++) {
            const struct gp_report_tc_kernel *k = &t->kernels[i];
            if (k->cls != cls)
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
            if (k->mc) {
                fputs("(layer machine code) ", f);
                gp_report_html_esc(f, k->mc);
                fprintf(f, "; its name says %s (", gp_report_kclass_name(k->verdict.cls));
                gp_report_html_esc(f, k->verdict.rule);
                fputs(")", f);
            } else {
                gp_report_html_esc(f, k->verdict.rule);
                fputs(": ", f);
                gp_report_html_esc(f, k->verdict.reason);
            }
            fputs("</td></tr>\n", f);
        }
    }
    fputs("</table>\n", f);
}

/* Layer 4: what the cubins gave (their counts; the verdicts are in the kernels' table). */
static void layer4(FILE *f, const struct gp_report *r)
{
    const struct gp_report_cubins *c = r->cubins;
    if (!c || c->status == GP_CUBINS_ABSENT)
        return;
    fprintf(f, "<h3>Layer 4: the kernels' machine code</h3>\n<p class=\"tc-cubins\">Modules "
               "loaded: %" PRIu64 "; cubins saved: %" PRIu64 ". ", c->modules, c->saved);
    if (c->status == GP_CUBINS_DONE) {
        fprintf(f, "Disassembled %" PRIu64 " of %" PRIu64 " with <code>", c->disassembled, c->saved);
        gp_report_html_esc(f, c->tool);
        fprintf(f, "</code>; %zu kernel%s found in the cubins, %" PRIu64 " decided by their "
                   "machine code.", c->nkernels, c->nkernels == 1 ? "" : "s",
                r->tensor.mc_kernels);
    } else if (c->why[0]) {
        gp_report_html_esc(f, c->why);
    } else {
        fputs("No complete cubin to disassemble.", f);
    }
    fputs("</p>\n", f);
}

/* Layer 5: the counters' values, or why there are none. */
static void layer5(FILE *f, const struct gp_report *r)
{
    const struct gp_report_model *m = r->model;
    const char *status = gp_report_model_info(m, "counters.status");
    static const char metric[] = "counters.metric.";
    if (!status)
        return;
    fputs("<h3>Layer 5: hardware counters over the whole run</h3>\n", f);
    if (strcmp(status, "collected") == 0) {
        fputs("<table class=\"tc-counters\"><tr><th>metric</th><th>value</th></tr>\n", f);
        for (size_t i = 0; i < m->ninfo; i++) {
            if (strncmp(m->info[i].key, metric, sizeof metric - 1) != 0)
                continue;
            fputs("<tr><td><code>", f);
            gp_report_html_esc(f, m->info[i].key + sizeof metric - 1);
            fputs("</code></td><td class=\"n\">", f);
            gp_report_html_esc(f, m->info[i].value);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
        return;
    }
    const char *reason = gp_report_model_info(m, "counters.reason");
    fputs("<p class=\"tc-counters\">Not collected (", f);
    gp_report_html_esc(f, status);
    fputs(")", f);
    if (reason) {
        fputs(": ", f);
        gp_report_html_esc(f, reason);
    }
    fputs(".", f);
    if (strcmp(status, "no_permission") == 0) {
        fputs(" Fix: ", f);
        gp_report_html_esc(f, gp_report_counters_fix());
        fputs(".", f);
    }
    fputs("</p>\n", f);
}

int gp_report_html_tensor(FILE *f, struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    struct gp_report_tc_answer ans;
    gp_report_tensor_answer(r, &ans); /* layer 4 over layer 3 first */
    uint64_t gemm = t->kernel_ns[GP_KC_TENSOR] + t->kernel_ns[GP_KC_CUDA_CORE];
    if (!t->calls && !gemm)
        return 0;
    fputs("<h2>Tensor Cores</h2>\n", f);
    if (ans.have) {
        fputs("<p class=\"tc-answer\"><strong>", f);
        gp_report_html_esc(f, ans.headline);
        fputs("</strong></p>\n", f);
    }
    if (ans.contradiction[0]) {
        fputs("<p class=\"tc-contradiction\"><strong>", f);
        gp_report_html_esc(f, ans.contradiction);
        fputs("</strong></p>\n", f);
    }
    if (t->calls) {
        int rc = layer1(f, r);
        if (rc < 0)
            return rc;
    }
    if (gemm)
        layer3(f, r);
    layer4(f, r);
    layer5(f, r);
    return ferror(f) ? -EIO : 0;
}
