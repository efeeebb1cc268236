/* view_tensor.c — the "Tensor Cores" section of the text and JSON views: layer-1 verdicts
 * per call site (analysis_tensor.c), with counts, FLOPs, the layer that decided and why.
 * The text section appears only when the trace has library calls; the JSON object is
 * always there (docs/json-schema.md, "tensor_cores"). Frames inside libgpuprof.so (the
 * hook itself) are left out of the stacks shown. */
#include <errno.h>
#include <string.h>

#include "report.h"

#define GP_TC_TEXT_FRAMES 3

static int is_shim_frame(const struct gp_report_frame *f)
{
    if (f->python || f->module == NULL)
        return 0;
    const char *base = strrchr(f->module, '/');
    base = base ? base + 1 : f->module;
    return strncmp(base, "libgpuprof", 10) == 0;
}

/* The stack of a site without the shim's own frames; returns the count or -errno. */
static int site_frames(struct gp_report *r, uint32_t stack, struct gp_report_frame *out, size_t max)
{
    int n = gp_report_symbolize_stack(r->sym, stack, out, max);
    if (n < 0)
        return n;
    int skip = 0;
    while (skip < n && is_shim_frame(&out[skip]))
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

int gp_report_view_text_tensor(FILE *f, struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    static struct gp_report_frame frames[GP_TRACE_MAX_FRAMES];
    if (t->calls == 0)
        return 0;
    fprintf(f, "\nTensor Cores (layer 1: what each library call asked for)\n");
    fprintf(f, "  %llu GEMM call%s, %.0f FLOP\n", (unsigned long long)t->calls,
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
        fprintf(f, "\n      why (layer %s): ", s->verdict.layer);
        gp_report_fputs_safe(f, s->verdict.reason);
        fputc('\n', f);
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

int gp_report_view_json_tensor(struct gp_report_json *j, struct gp_report *r)
{
    const struct gp_report_tensor *t = &r->tensor;
    int rc;
    gp_report_json_object_begin(j, "tensor_cores");
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
        if ((rc = json_frames(j, r, s->stack)) < 0)
            return rc;
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    /* The list: the sites that cannot have used Tensor Cores, and why. */
    gp_report_json_array_begin(j, "sites_without_tc");
    for (size_t i = 0; i < t->nsites; i++) {
        const struct gp_report_tc_site *s = &t->sites[i];
        if (s->verdict.cls != GP_TC_NOT_ALLOWED && s->verdict.cls != GP_TC_DEFEATED)
            continue;
        gp_report_json_object_begin(j, NULL);
        if ((rc = json_frames(j, r, s->stack)) < 0)
            return rc;
        gp_report_json_u64(j, "calls", s->calls);
        gp_report_json_string(j, "reason", s->verdict.reason);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    gp_report_json_u64(j, "sites_lost_calls", t->sites_lost);
    gp_report_json_object_end(j);
    return 0;
}
