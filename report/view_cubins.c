/* view_cubins.c — the layer-4 part of the Tensor Core answer in the text and JSON views:
 * what the trace's cubins (GPUPROF_CUBINS=1) say about each kernel that ran, from the
 * count of Tensor Core and FMA instructions in its machine code (analysis_cubins.c,
 * docs/tensor-cores.md). The text section has the counts only: the verdict of each kernel is
 * printed in the Tensor Cores section (view_tensor.c), where it overrides the kernel's name;
 * the JSON object lists them all. Nothing in text and null in JSON without CUBIN records. */
#include <errno.h>
#include <stdlib.h>

#include "report.h"

static const char *status_name(int status)
{
    switch (status) {
    case GP_CUBINS_DONE: return "done";
    case GP_CUBINS_NO_TOOL: return "no-disassembler";
    case GP_CUBINS_NOT_SAVED: return "not-saved";
    case GP_CUBINS_FAILED: return "failed";
    default: return "absent";
    }
}

static const char *kernel_raw(const struct gp_report *r, uint32_t id)
{
    const char *s = id ? gp_trace_reader_string(r->model->reader, id) : NULL;
    return s ? s : "(unnamed)";
}

static void text_counts(FILE *f, const struct gp_report_cubins *c)
{
    char a[32], b[32];
    fprintf(f, "  modules loaded: %llu; cubins saved: %llu (%s)",
            (unsigned long long)c->modules, (unsigned long long)c->saved,
            gp_report_fmt_bytes(a, sizeof a, c->saved_bytes));
    if (c->duplicates)
        fprintf(f, ", %llu the same code again", (unsigned long long)c->duplicates);
    if (c->over_cap)
        fprintf(f, ", %llu not saved past GPUPROF_CUBINS_MAX (%s)",
                (unsigned long long)c->over_cap, gp_report_fmt_bytes(b, sizeof b, c->over_cap_bytes));
    if (c->lost)
        fprintf(f, ", %llu not saved (no memory, or too many modules)", (unsigned long long)c->lost);
    if (c->incomplete)
        fprintf(f, ", %llu incomplete", (unsigned long long)c->incomplete);
    fputc('\n', f);
}

int gp_report_view_text_cubins(FILE *f, struct gp_report *r)
{
    const struct gp_report_cubins *c = r->cubins;
    if (!c || c->status == GP_CUBINS_ABSENT)
        return 0;
    fprintf(f, "\nTensor Cores (layer 4: the kernels' machine code)\n");
    text_counts(f, c);
    if (c->status == GP_CUBINS_NO_TOOL || c->status == GP_CUBINS_FAILED) {
        fprintf(f, "  %s\n", c->why);
        return ferror(f) ? -EIO : 0;
    }
    if (c->status != GP_CUBINS_DONE)
        return ferror(f) ? -EIO : 0;
    fprintf(f, "  disassembled %llu of %llu cubins with ", (unsigned long long)c->disassembled,
            (unsigned long long)c->saved);
    gp_report_fputs_safe(f, c->tool);
    fputc('\n', f);
    if (c->failed) {
        fprintf(f, "  %llu failed (%llu timed out), first: ", (unsigned long long)c->failed,
                (unsigned long long)c->timed_out);
        gp_report_fputs_safe(f, c->first_error);
        fputc('\n', f);
    }
    fprintf(f, "  kernels that ran: %llu, found in the cubins: %zu\n",
            (unsigned long long)c->kernel_names, c->nkernels);
    /* each kernel's verdict is shown once, in the Tensor Cores section (view_tensor.c), where
     * it decides before the kernel's name */
    gp_report_tensor_resolve(r);
    if (r->tensor.mc_kernels)
        fprintf(f, "  the machine code decided %llu kernel%s: see the Tensor Cores section above "
                   "(--json lists every kernel found under \"cubins\")\n",
                (unsigned long long)r->tensor.mc_kernels, r->tensor.mc_kernels == 1 ? "" : "s");
    else if (c->nkernels)
        fprintf(f, "  no kernel's class is decided by its machine code (no MMA or FMA "
                   "instruction, or cubins that disagree); --json lists them under \"cubins\"\n");
    return ferror(f) ? -EIO : 0;
}

int gp_report_view_json_cubins(struct gp_report_json *j, struct gp_report *r)
{
    const struct gp_report_cubins *c = r->cubins;
    if (!c || c->status == GP_CUBINS_ABSENT) {
        gp_report_json_null(j, "cubins");
        return 0;
    }
    gp_report_json_object_begin(j, "cubins");
    gp_report_json_string(j, "status", status_name(c->status));
    if (c->why[0])
        gp_report_json_string(j, "message", c->why);
    else
        gp_report_json_null(j, "message");
    if (c->tool[0])
        gp_report_json_string(j, "tool", c->tool);
    else
        gp_report_json_null(j, "tool");
    gp_report_json_u64(j, "modules", c->modules);
    gp_report_json_u64(j, "saved", c->saved);
    gp_report_json_u64(j, "saved_bytes", c->saved_bytes);
    gp_report_json_u64(j, "duplicates", c->duplicates);
    gp_report_json_u64(j, "over_cap", c->over_cap);
    gp_report_json_u64(j, "over_cap_bytes", c->over_cap_bytes);
    gp_report_json_u64(j, "lost", c->lost);
    gp_report_json_u64(j, "incomplete", c->incomplete);
    gp_report_json_u64(j, "disassembled", c->disassembled);
    gp_report_json_u64(j, "failed", c->failed);
    gp_report_json_u64(j, "timed_out", c->timed_out);
    if (c->first_error[0])
        gp_report_json_string(j, "first_error", c->first_error);
    else
        gp_report_json_null(j, "first_error");
    gp_report_json_u64(j, "kernel_names", c->kernel_names);
    gp_report_json_array_begin(j, "kernels");
    for (size_t i = 0; i < c->nkernels; i++) {
        const struct gp_report_cubin_kernel *k = &c->kernels[i];
        const char *raw = kernel_raw(r, k->name_id);
        char *dm = gp_report_demangle(raw);
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "name", dm ? dm : raw);
        gp_report_json_string(j, "mangled", raw);
        gp_report_json_string(j, "class", gp_report_kclass_name(k->cls));
        gp_report_json_string(j, "verdict", k->verdict);
        gp_report_json_string(j, "layer", "machine code");
        gp_report_json_u64(j, "cubins", k->cubins);
        gp_report_json_u64(j, "calls", k->calls);
        gp_report_json_u64(j, "time_ns", k->time_ns);
        gp_report_json_object_end(j);
        free(dm);
    }
    gp_report_json_array_end(j);
    gp_report_json_object_end(j);
    return 0;
}
