/* view_tensor.c — the "Tensor Cores" section of the text and JSON views: the one-line answer
 * first (final kernel classes, the hardware counters' number, a contradiction between them),
 * layer-1 verdicts per call site (analysis_tensor.c), with counts, FLOPs, the layer that
 * decided and why, and GPU time on Tensor Core vs CUDA-core kernels by their class (layer 4,
 * the machine code, where a cubin decides; else layer 3, the kernel-name table).
 * The text section appears only when the trace has library calls or GEMM/conv kernels the
 * table knows; the JSON object is always there (docs/json-schema.md, "tensor_cores";
 * docs/tensor-cores.md). Frames inside libgpuprof.so (the hook itself) are left out of the
 * stacks shown. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define GP_TC_TEXT_FRAMES 3

/* The stack of a site without the shim's own frames; returns the count or -errno. */
static int site_frames(struct gp_report *r, uint32_t stack, struct gp_report_frame *out, size_t max)
{
    int n = gp_report_symbolize_stack(r->sym, stack, out, max);
    if (n < 0)
        return n;
    int skip = 0;
    while (skip < n && gp_report_frame_is_shim(&out[skip]))
        skip++;
    memmove(out, out + skip, (size_t)(n - skip) * sizeof *out);
    return n - skip;
}

static void shape(FILE *f, const struct gp_report_tc_site *s)
{
    if (s->m == 0 && s->n == 0 && s->k == 0)
        return;
    fprintf(f, " %llux%llux%llu", (unsigned long long)s->m, (unsigned long long)s->n,
            (unsigned long long)s->k);
    if (s->batch > 1)
        fprintf(f, " x%llu", (unsigned long long)s->batch);
}

static const char *kernel_name(const struct gp_report *r, uint32_t id)
{
    const char *s = id ? gp_trace_reader_string(r->model->reader, id) : NULL;
    return s ? s : "(unnamed)";
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Appends to buf (NUL-terminated, len bytes) without overflowing. */
static void add(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    if (n + 1 >= len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
}

/* The answer first: "Tensor Cores: 93% of matrix-product GPU time (fp16 78%, tf32 15%); 7%
 * on CUDA cores: 2 call sites, ...", from the final kernel classes (layer 4, else 3); then
 * what the counters measured (layer 5) and, when they disagree, that they do. */
void gp_report_tensor_answer(struct gp_report *r, struct gp_report_tc_answer *ans)
{
    struct gp_report_tensor *t = &r->tensor;
    gp_report_tensor_resolve(r);
    memset(ans, 0, sizeof *ans);
    char *h = ans->headline;
    size_t hl = sizeof ans->headline;
    if (t->gemm_time_ns == 0)
        return;
    ans->have = 1;
    uint64_t cc = t->gemm_time_ns - t->tc_time_ns, sites_cc = 0;
    if (t->attributed) {
        cc = 0;
        for (size_t i = 0; i < t->nsites; i++) {
            cc += t->sites[i].kc_ns[GP_KC_CUDA_CORE];
            sites_cc += t->sites[i].ran == GP_KC_CUDA_CORE;
        }
    }
    add(h, hl, "Tensor Cores: %.0f%% of matrix-product GPU time", 100.0 * t->tc_fraction);
    const char *sep = " (";
    for (size_t i = 0; t->attributed && i < t->nprec; i++) {
        if (t->by_prec[i].tc_time_ns == 0)
            continue;
        add(h, hl, "%s%s %.0f%%", sep, t->by_prec[i].name,
            pct(t->by_prec[i].tc_time_ns, t->gemm_time_ns));
        sep = ", ";
    }
    add(h, hl, "%s; %.0f%% on CUDA cores", *sep == ',' ? ")" : "", pct(cc, t->gemm_time_ns));
    if (sites_cc)
        add(h, hl, ": %llu call site%s, listed below with why", (unsigned long long)sites_cc,
            sites_cc == 1 ? "" : "s");
    if (!t->attributed)
        add(h, hl, " (every GEMM/conv kernel of the run; none tied to a library call)");

    struct gp_report_tc_counters c;
    if (!gp_report_counters_tensor(r, &c))
        return;
    if (c.has_pct) {
        int whole = strcmp(c.what, "every MMA kind") == 0; /* else only one MMA kind's share */
        add(h, hl, "; hardware counters: Tensor Core pipe busy %.4g%% of active SM cycles%s%s%s",
            c.pct, whole ? "" : " (", whole ? "" : c.what, whole ? "" : ")");
    } else if (c.has_inst)
        add(h, hl, "; hardware counters: %.0f Tensor Core instructions", c.inst);
    /* The counters measure what the pipe did; the kernels' classes say what their code
     * could do. Over the whole run, one of them is wrong when they disagree. */
    char a[32];
    uint64_t run_tc = t->kernel_ns[GP_KC_TENSOR];
    if (run_tc > 0 && c.seen == 0)
        snprintf(ans->contradiction, sizeof ans->contradiction,
                 "contradiction: the kernels say Tensor Cores (%s of GPU time in kernels classed "
                 "Tensor Core), but the hardware counters saw no Tensor Core work in this run; the "
                 "counters measure what the GPU did, so these kernels did not use Tensor Cores "
                 "(unless they ran on another device than the counted one)",
                 gp_report_fmt_secs(a, sizeof a, run_tc));
    else if (run_tc == 0 && c.seen == 1)
        snprintf(ans->contradiction, sizeof ans->contradiction,
                 "contradiction: no kernel was classed Tensor Core, but the hardware counters saw "
                 "Tensor Core work in this run; some kernel used Tensor Cores that neither its "
                 "name nor its machine code showed (a kernel of unknown class, or no cubin saved)");
}

static void text_answer(FILE *f, struct gp_report *r)
{
    struct gp_report_tc_answer ans;
    gp_report_tensor_answer(r, &ans);
    if (!ans.have)
        return;
    fprintf(f, "  ");
    gp_report_fputs_safe(f, ans.headline);
    fputc('\n', f);
    if (ans.contradiction[0])
        fprintf(f, "  %s\n", ans.contradiction);
}

/* Layers 3 and 4: GPU time by kernel class, and the longest kernels of each known class
 * with the layer that decided (the machine code when a cubin gives a class, else the name). */
static void text_kernels(FILE *f, struct gp_report *r, int answer)
{
    const struct gp_report_tensor *t = &r->tensor;
    char a[32], b[32], c[32];
    const uint64_t *ns = t->kernel_ns;
    uint64_t gemm = ns[GP_KC_TENSOR] + ns[GP_KC_CUDA_CORE];
    if (t->mc_kernels)
        fprintf(f, "\nTensor Cores by kernel (layer 4: machine code where a saved cubin has the "
                   "kernel, else layer 3: its name)\n");
    else
        fprintf(f, "\nTensor Cores (layer 3: kernel names)\n");
    if (answer)
        text_answer(f, r);
    fprintf(f, "  GEMM/conv kernels: %s of GPU time, %.1f%% on Tensor Core kernels (%s), "
               "%.1f%% on CUDA-core kernels (%s)\n",
            gp_report_fmt_secs(a, sizeof a, gemm), pct(ns[GP_KC_TENSOR], gemm),
            gp_report_fmt_secs(b, sizeof b, ns[GP_KC_TENSOR]), pct(ns[GP_KC_CUDA_CORE], gemm),
            gp_report_fmt_secs(c, sizeof c, ns[GP_KC_CUDA_CORE]));
    fprintf(f, "  other kernels (not classified by %s): %s\n",
            t->mc_kernels ? "name or machine code" : "name",
            gp_report_fmt_secs(a, sizeof a, ns[GP_KC_UNKNOWN]));
    if (t->mc_kernels)
        fprintf(f, "  by name alone (layer 3): %s of GEMM/conv kernels, %.1f%% on Tensor Core "
                   "kernels; the machine code decided %llu kernel%s\n",
                gp_report_fmt_secs(a, sizeof a, t->name_gemm_time_ns), 100.0 * t->name_tc_fraction,
                (unsigned long long)t->mc_kernels, t->mc_kernels == 1 ? "" : "s");
    for (unsigned cls = GP_KC_TENSOR; cls <= GP_KC_CUDA_CORE; cls++) {
        size_t shown = 0;
        for (size_t i = 0; i < t->nkernels && shown < GP_REPORT_TC_TEXT_KERNELS; i++) {
            const struct gp_report_tc_kernel *k = &t->kernels[i];
            if (k->cls != cls)
                continue;
            shown++;
            const char *raw = kernel_name(r, k->name_id);
            char *dm = gp_report_demangle(raw);
            fprintf(f, "    %-9s %s, %llu call%s  ", gp_report_kclass_name(cls),
                    gp_report_fmt_secs(a, sizeof a, k->time_ns), (unsigned long long)k->calls,
                    k->calls == 1 ? "" : "s");
            gp_report_fputs_safe(f, dm ? dm : raw);
            free(dm);
            if (k->mc)
                fprintf(f, "\n      why (layer machine code): %s; its name says %s (%s)\n", k->mc,
                        gp_report_kclass_name(k->verdict.cls), k->verdict.rule);
            else
                fprintf(f, "\n      why (layer kernel name): %s: %s\n", k->verdict.rule,
                        k->verdict.reason);
        }
    }
}

/* A site's kernels: "fp16 cublasGemmEx: 120 calls, 2.1 ms GPU, 98.0 TFLOP/s, ran on ...". */
static void text_site_kernels(FILE *f, const struct gp_report *r, const struct gp_report_tc_site *s)
{
    char a[32];
    fprintf(f, "      %s %s: %llu call%s, %s GPU, %.1f TFLOP/s, %s\n", s->verdict.precision,
            gp_trace_lib_api_name(s->api), (unsigned long long)s->calls, s->calls == 1 ? "" : "s",
            gp_report_fmt_secs(a, sizeof a, s->gpu_time_ns), s->tflops,
            s->ran == GP_KC_TENSOR      ? "ran on Tensor Cores"
            : s->ran == GP_KC_CUDA_CORE ? "ran on CUDA cores"
                                        : "kernels not classified by name");
    for (size_t i = 0; i < s->nkernels; i++) {
        const struct gp_report_tc_site_kernel *k = &s->kernels[i];
        const char *raw = kernel_name(r, k->name_id);
        char *dm = gp_report_demangle(raw);
        fprintf(f, "        %-9s %s, %llu call%s  ", gp_report_kclass_name(k->cls),
                gp_report_fmt_secs(a, sizeof a, k->time_ns), (unsigned long long)k->calls,
                k->calls == 1 ? "" : "s");
        gp_report_fputs_safe(f, dm ? dm : raw);
        if (k->mc)
            fprintf(f, "  (machine code: %s; its name says %s)", k->mc,
                    gp_report_kclass_name(k->name_cls));
        fputc('\n', f);
        free(dm);
    }
    if (s->other_calls)
        fprintf(f, "        %llu more kernel launches, %s\n", (unsigned long long)s->other_calls,
                gp_report_fmt_secs(a, sizeof a, s->other_ns));
}

int gp_report_view_text_tensor(FILE *f, struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    static struct gp_report_frame frames[GP_TRACE_MAX_FRAMES];
    char a[32];
    gp_report_tensor_resolve(r);
    uint64_t kernel_gemm = t->kernel_ns[GP_KC_TENSOR] + t->kernel_ns[GP_KC_CUDA_CORE];
    if (t->calls == 0) {
        if (kernel_gemm)
            text_kernels(f, r, 1);
        return ferror(f) ? -EIO : 0;
    }
    fprintf(f, "\nTensor Cores (layer 1: what each library call asked for)\n");
    text_answer(f, r);
    if (t->attributed)
        fprintf(f, "  (%s of GPU time in %llu kernels launched by %llu library calls, tied to "
                   "them by external correlation id)\n",
                gp_report_fmt_secs(a, sizeof a, t->gemm_time_ns),
                (unsigned long long)t->attributed_kernels, (unsigned long long)t->ext_calls);
    if (t->join_dropped)
        fprintf(f, "  warning: %llu correlation entries dropped at the report's bound; some "
                   "kernels are not attributed\n",
                (unsigned long long)t->join_dropped);
    fprintf(f, "  %llu matrix-product and convolution call%s, %.0f FLOP\n", (unsigned long long)t->calls,
            t->calls == 1 ? "" : "s", t->flops);
    fprintf(f, "  verdicts:");
    for (unsigned c = 0; c < GP_TC_CLASSES; c++)
        fprintf(f, "%s %s %llu (%.0f FLOP)", c ? "," : "", gp_report_tc_class_name(c),
                (unsigned long long)t->by_class[c].calls, t->by_class[c].flops);
    fprintf(f, "\n  by precision:");
    for (size_t i = 0; i < t->nprec; i++)
        fprintf(f, "%s %s %llu (%.0f FLOP)", i ? "," : "", t->by_prec[i].name,
                (unsigned long long)t->by_prec[i].calls, t->by_prec[i].flops);
    fprintf(f, "\n  call sites, most FLOPs first:\n");
    for (size_t i = 0; i < t->nsites; i++) {
        const struct gp_report_tc_site *s = &t->sites[i];
        fprintf(f, "    %-11s %llu call%s, %.0f FLOP, %s, %s",
                gp_report_tc_class_name(s->verdict.cls), (unsigned long long)s->calls,
                s->calls == 1 ? "" : "s", s->flops, s->verdict.precision,
                gp_trace_lib_api_name(s->api));
        shape(f, s);
        fprintf(f, "\n      why (layer %s): ", s->final_layer ? s->final_layer : s->verdict.layer);
        gp_report_fputs_safe(f, s->why[0] ? s->why : s->verdict.reason);
        fputc('\n', f);
        if (s->ran != GP_KC_UNKNOWN) {
            fprintf(f, "      asked (layer %s): ", s->verdict.layer);
            gp_report_fputs_safe(f, s->verdict.reason);
            fputc('\n', f);
        }
        if (s->kernel_calls)
            text_site_kernels(f, r, s);
        int n = site_frames(r, s->stack, frames, GP_TRACE_MAX_FRAMES);
        if (n < 0)
            return n;
        for (int k = 0; k < n && k < GP_TC_TEXT_FRAMES; k++) {
            fprintf(f, "      at ");
            gp_report_fputs_safe(f, frames[k].function);
            if (frames[k].file) {
                fprintf(f, " (");
                gp_report_fputs_safe(f, frames[k].file);
                fprintf(f, ":%u)", frames[k].line);
            }
            fputc('\n', f);
        }
    }
    if (t->sites_lost)
        fprintf(f, "  %llu calls beyond %d sites are counted above but not listed\n",
                (unsigned long long)t->sites_lost, GP_REPORT_TC_MAX_SITES);
    if (kernel_gemm)
        text_kernels(f, r, 0);
    return ferror(f) ? -EIO : 0;
}

/* FLOPs as an exact integer (json_double keeps 6 digits only). */
static void json_flops(struct gp_report_json *j, double v)
{
    if (v >= 0 && v < 18446744073709551615.0)
        gp_report_json_u64(j, "flops", (uint64_t)v);
    else
        gp_report_json_double(j, "flops", v);
}

static int json_frames(struct gp_report_json *j, struct gp_report *r, uint32_t stack)
{
    static struct gp_report_frame frames[GP_TRACE_MAX_FRAMES];
    int n = site_frames(r, stack, frames, GP_TRACE_MAX_FRAMES);
    if (n < 0)
        return n;
    gp_report_json_array_begin(j, "frames");
    for (int i = 0; i < n; i++) {
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "function", frames[i].function);
        gp_report_json_string(j, "file", frames[i].file);
        gp_report_json_u64(j, "line", frames[i].line);
        gp_report_json_string(j, "module", frames[i].module);
        if (frames[i].python)
            gp_report_json_bool(j, "python", 1);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    return 0;
}

/* A site's kernels and final verdict (docs/json-schema.md, tensor_cores.sites[]). */
static void json_site_kernels(struct gp_report_json *j, const struct gp_report *r,
                              const struct gp_report_tc_site *s)
{
    gp_report_json_string(j, "ran", s->ran == GP_KC_UNKNOWN ? "unknown"
                                                             : gp_report_kclass_name(s->ran));
    gp_report_json_string(j, "verdict_layer", s->final_layer);
    gp_report_json_string(j, "why", s->why);
    gp_report_json_u64(j, "gpu_time_ns", s->gpu_time_ns);
    if (s->gpu_time_ns)
        gp_report_json_double(j, "tflops", s->tflops);
    else
        gp_report_json_null(j, "tflops");
    gp_report_json_array_begin(j, "kernels");
    for (size_t i = 0; i < s->nkernels; i++) {
        const struct gp_report_tc_site_kernel *k = &s->kernels[i];
        const char *raw = kernel_name(r, k->name_id);
        char *dm = gp_report_demangle(raw);
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "name", dm ? dm : raw);
        gp_report_json_u64(j, "calls", k->calls);
        gp_report_json_u64(j, "time_ns", k->time_ns);
        gp_report_json_string(j, "verdict", gp_report_kclass_name(k->cls));
        gp_report_json_string(j, "layer", k->layer ? k->layer : "kernel name");
        gp_report_json_string(j, "machine_code", k->mc); /* null unless layer 4 decided */
        gp_report_json_string(j, "name_verdict", gp_report_kclass_name(k->name_cls));
        gp_report_json_object_end(j);
        free(dm);
    }
    gp_report_json_array_end(j);
    gp_report_json_u64(j, "other_kernel_calls", s->other_calls);
    gp_report_json_u64(j, "other_kernel_ns", s->other_ns);
}

/* Layer 3 (docs/tensor-cores.md, "JSON"): the three totals at the top, the
 * per-class totals and every Tensor Core or CUDA-core kernel under "kernels". */
static void json_kernels(struct gp_report_json *j, const struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    gp_report_json_u64(j, "gemm_time_ns", t->gemm_time_ns);
    gp_report_json_u64(j, "tc_time_ns", t->tc_time_ns);
    if (t->gemm_time_ns)
        gp_report_json_double(j, "tc_fraction", t->tc_fraction);
    else
        gp_report_json_null(j, "tc_fraction");
    gp_report_json_string(j, "time_source", t->attributed ? "attributed" : "kernel names");
    gp_report_json_object_begin(j, "attribution");
    gp_report_json_u64(j, "library_calls_with_id", t->ext_calls);
    gp_report_json_u64(j, "kernels", t->attributed_kernels);
    gp_report_json_u64(j, "time_ns", t->attributed_ns);
    gp_report_json_u64(j, "dropped", t->join_dropped);
    gp_report_json_object_end(j);
    gp_report_json_object_begin(j, "by_name");
    gp_report_json_u64(j, "gemm_time_ns", t->name_gemm_time_ns);
    gp_report_json_u64(j, "tc_time_ns", t->name_tc_time_ns);
    if (t->name_gemm_time_ns)
        gp_report_json_double(j, "tc_fraction", t->name_tc_fraction);
    else
        gp_report_json_null(j, "tc_fraction");
    gp_report_json_object_end(j);
    gp_report_json_object_begin(j, "kernels");
    gp_report_json_string(j, "layer", t->mc_kernels ? "machine code, else kernel name" : "kernel name");
    gp_report_json_u64(j, "machine_code_kernels", t->mc_kernels);
    gp_report_json_object_begin(j, "by_class");
    for (unsigned c = 0; c < GP_KC_CLASSES; c++) {
        gp_report_json_object_begin(j, gp_report_kclass_name(c));
        gp_report_json_u64(j, "calls", t->kernel_calls[c]);
        gp_report_json_u64(j, "time_ns", t->kernel_ns[c]);
        gp_report_json_object_end(j);
    }
    gp_report_json_object_end(j);
    gp_report_json_array_begin(j, "list");
    for (size_t i = 0; i < t->nkernels; i++) {
        const struct gp_report_tc_kernel *k = &t->kernels[i];
        if (k->cls == GP_KC_UNKNOWN)
            continue;
        const char *raw = kernel_name(r, k->name_id);
        char *dm = gp_report_demangle(raw);
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "name", dm ? dm : raw);
        gp_report_json_string(j, "mangled", raw);
        gp_report_json_string(j, "verdict", gp_report_kclass_name(k->cls));
        gp_report_json_string(j, "layer", k->layer);
        gp_report_json_string(j, "rule", k->verdict.rule); /* the name table's, either way */
        gp_report_json_string(j, "reason", k->mc ? k->mc : k->verdict.reason);
        gp_report_json_string(j, "name_verdict", gp_report_kclass_name(k->verdict.cls));
        gp_report_json_u64(j, "calls", k->calls);
        gp_report_json_u64(j, "time_ns", k->time_ns);
        gp_report_json_object_end(j);
        free(dm);
    }
    gp_report_json_array_end(j);
    gp_report_json_object_end(j);
}

int gp_report_view_json_tensor(struct gp_report_json *j, struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    struct gp_report_tc_answer ans;
    int rc;
    gp_report_tensor_answer(r, &ans); /* resolves layer 4 first */
    gp_report_json_object_begin(j, "tensor_cores");
    gp_report_json_string(j, "headline", ans.have ? ans.headline : NULL);
    gp_report_json_string(j, "contradiction", ans.contradiction[0] ? ans.contradiction : NULL);
    gp_report_json_u64(j, "calls", t->calls);
    json_flops(j, t->flops);
    gp_report_json_object_begin(j, "by_verdict");
    for (unsigned c = 0; c < GP_TC_CLASSES; c++) {
        gp_report_json_object_begin(j, gp_report_tc_class_name(c));
        gp_report_json_u64(j, "calls", t->by_class[c].calls);
        json_flops(j, t->by_class[c].flops);
        gp_report_json_object_end(j);
    }
    gp_report_json_object_end(j);
    gp_report_json_object_begin(j, "by_precision");
    for (size_t i = 0; i < t->nprec; i++) {
        gp_report_json_object_begin(j, t->by_prec[i].name);
        gp_report_json_u64(j, "calls", t->by_prec[i].calls);
        json_flops(j, t->by_prec[i].flops);
        gp_report_json_u64(j, "gpu_time_ns", t->by_prec[i].gpu_time_ns);
        gp_report_json_u64(j, "tc_time_ns", t->by_prec[i].tc_time_ns);
        if (t->by_prec[i].gpu_time_ns)
            gp_report_json_double(j, "tc_fraction", (double)t->by_prec[i].tc_time_ns /
                                                        (double)t->by_prec[i].gpu_time_ns);
        else
            gp_report_json_null(j, "tc_fraction");
        gp_report_json_object_end(j);
    }
    gp_report_json_object_end(j);
    gp_report_json_array_begin(j, "sites");
    for (size_t i = 0; i < t->nsites; i++) {
        const struct gp_report_tc_site *s = &t->sites[i];
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "api", gp_trace_lib_api_name(s->api));
        gp_report_json_string(j, "verdict", gp_report_tc_class_name(s->verdict.cls));
        gp_report_json_string(j, "layer", s->verdict.layer);
        gp_report_json_string(j, "precision", s->verdict.precision);
        gp_report_json_string(j, "reason", s->verdict.reason);
        gp_report_json_u64(j, "calls", s->calls);
        json_flops(j, s->flops);
        gp_report_json_u64(j, "host_ns", s->host_ns);
        gp_report_json_u64(j, "m", s->m);
        gp_report_json_u64(j, "n", s->n);
        gp_report_json_u64(j, "k", s->k);
        gp_report_json_u64(j, "batch", s->batch);
        gp_report_json_u64(j, "stack_id", s->stack);
        json_site_kernels(j, r, s);
        if ((rc = json_frames(j, r, s->stack)) < 0)
            return rc;
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    /* The list: the sites that cannot have used Tensor Cores, and why. */
    gp_report_json_array_begin(j, "sites_without_tc");
    for (size_t i = 0; i < t->nsites; i++) {
        const struct gp_report_tc_site *s = &t->sites[i];
        /* the kernels, where tied to the site, decide; else what was asked */
        if (s->ran == GP_KC_TENSOR ||
            (s->ran == GP_KC_UNKNOWN && s->verdict.cls != GP_TC_NOT_ALLOWED &&
             s->verdict.cls != GP_TC_DEFEATED))
            continue;
        gp_report_json_object_begin(j, NULL);
        if ((rc = json_frames(j, r, s->stack)) < 0)
            return rc;
        gp_report_json_u64(j, "calls", s->calls);
        gp_report_json_string(j, "reason", s->why);
        gp_report_json_string(j, "verdict_layer", s->final_layer);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    gp_report_json_u64(j, "sites_lost_calls", t->sites_lost);
    json_kernels(j, r);
    gp_report_json_object_end(j);
    return 0;
}
