/* view_counters.c — Tensor Cores, layer 5: what the GPU's own performance counters said over
 * the run (GPUPROF_COUNTERS=1, cupti/counters.c), from the trace's "counters.*" INFO records
 * (docs/tensor-cores.md); gp_report_counters_tensor gives the Tensor Cores headline its
 * number (view_tensor.c). Printed after the layer-4 section; the JSON object is
 * "tensor_counters" (null when the run did not ask for counters). Every string comes from
 * the trace and is printed escaped. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define GP_COUNTERS_METRIC "counters.metric."

/* What a metric measures, for the metrics the shim asks for; others print by name. */
static const struct {
    const char *name, *label;
    int pct;
} gp_counter_labels[] = {
    {"sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active",
     "Tensor Core pipe busy (every MMA kind)", 1},
    {"sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
     "Tensor Core pipe busy with HMMA", 1},
    {"sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active",
     "Tensor Core pipe busy with GMMA (Hopper warpgroup MMA)", 1},
    {"sm__inst_executed_pipe_tensor.sum", "Tensor Core instructions executed (per warp)", 0},
};

static const char gp_counters_fix[] =
    "run as root or with CAP_SYS_ADMIN, or let every user read the counters: put the line "
    "\"options nvidia NVreg_RestrictProfilingToAdminUsers=0\" in a file under /etc/modprobe.d/ "
    "(e.g. nvidia-profiling.conf), then reload the nvidia kernel module or reboot; Nsight "
    "Compute needs the same";

const char *gp_report_counters_fix(void)
{
    return gp_counters_fix;
}

static const char *info(const struct gp_report *r, const char *key)
{
    return gp_report_model_info(r->model, key);
}

/* 1 when a collected metric saw Tensor Core work, 0 when all were zero, -1 without values. */
static int tensor_work_seen(const struct gp_report *r)
{
    int seen = -1;
    const struct gp_report_model *m = r->model;
    for (size_t i = 0; i < m->ninfo; i++) {
        if (strncmp(m->info[i].key, GP_COUNTERS_METRIC, strlen(GP_COUNTERS_METRIC)) != 0)
            continue;
        double v = strtod(m->info[i].value, NULL);
        seen = seen == 1 || (isfinite(v) && v > 0) ? 1 : 0;
    }
    return seen;
}

int gp_report_counters_tensor(const struct gp_report *r, struct gp_report_tc_counters *out)
{
    static const struct {
        const char *name, *what;
    } pct[] = {{"sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active", "every MMA kind"},
               {"sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active", "HMMA"},
               {"sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active", "GMMA"}};
    const char *status = info(r, "counters.status");
    int seen = tensor_work_seen(r);
    memset(out, 0, sizeof *out);
    if (!status || strcmp(status, "collected") != 0 || seen < 0)
        return 0;
    out->seen = seen;
    /* the whole pipe when the chip has it; else the busier of its two kinds (a lower bound) */
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
        char key[160];
        snprintf(key, sizeof key, GP_COUNTERS_METRIC "%s", pct[i].name);
        const char *v = info(r, key);
        double d = v ? strtod(v, NULL) : NAN;
        if (!isfinite(d))
            continue;
        if (!out->has_pct || (out->what != pct[0].what && d > out->pct)) {
            out->has_pct = 1;
            out->pct = d;
            out->what = pct[i].what;
        }
    }
    const char *inst = info(r, GP_COUNTERS_METRIC "sm__inst_executed_pipe_tensor.sum");
    if (inst && isfinite(strtod(inst, NULL))) {
        out->has_inst = 1;
        out->inst = strtod(inst, NULL);
    }
    return 1;
}

static void text_metric(FILE *f, const char *name, const char *value)
{
    double v = strtod(value, NULL);
    for (size_t i = 0; i < sizeof gp_counter_labels / sizeof gp_counter_labels[0]; i++) {
        if (strcmp(gp_counter_labels[i].name, name) != 0)
            continue;
        if (gp_counter_labels[i].pct)
            fprintf(f, "  %s: %.4g%% of active SM cycles\n", gp_counter_labels[i].label, v);
        else
            fprintf(f, "  %s: %.0f\n", gp_counter_labels[i].label, v);
        fprintf(f, "    (%s)\n", gp_counter_labels[i].name);
        return;
    }
    fprintf(f, "  ");
    gp_report_fputs_safe(f, name);
    fprintf(f, ": %.6g\n", v);
}

int gp_report_view_text_counters(FILE *f, struct gp_report *r)
{
    const char *status = info(r, "counters.status");
    const char *reason = info(r, "counters.reason"), *chip = info(r, "counters.chip");
    const char *dev = info(r, "counters.device");
    if (!status)
        return 0;
    fprintf(f, "\nTensor Cores (layer 5: hardware counters over the whole run");
    if (dev) {
        fprintf(f, ", device ");
        gp_report_fputs_safe(f, dev);
    }
    if (chip && chip[0]) {
        fprintf(f, ", chip ");
        gp_report_fputs_safe(f, chip);
    }
    fprintf(f, ")\n");
    if (strcmp(status, "collected") == 0) {
        const struct gp_report_model *m = r->model;
        for (size_t i = 0; i < m->ninfo; i++)
            if (strncmp(m->info[i].key, GP_COUNTERS_METRIC, strlen(GP_COUNTERS_METRIC)) == 0)
                text_metric(f, m->info[i].key + strlen(GP_COUNTERS_METRIC), m->info[i].value);
        if (tensor_work_seen(r) == 1)
            fprintf(f, "  verdict (layer 5): the GPU's counters saw Tensor Core work in this run\n");
        else
            fprintf(f, "  verdict (layer 5): the GPU's counters saw no Tensor Core work in this "
                       "run: nothing ran on Tensor Cores\n");
    } else if (strcmp(status, "started") == 0) {
        fprintf(f, "  no values: the run ended before gpuprof's exit handler read the counters "
                   "(killed, _exit, exec, or a crash)\n");
    } else if (strcmp(status, "no_permission") == 0) {
        fprintf(f, "  not collected: no permission to read the GPU's performance counters (");
        gp_report_fputs_safe(f, reason ? reason : "");
        fprintf(f, ")\n  fix: %s\n", gp_counters_fix);
    } else {
        fprintf(f, "  not collected (");
        gp_report_fputs_safe(f, status);
        fprintf(f, "): ");
        gp_report_fputs_safe(f, reason ? reason : "");
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}

int gp_report_view_json_counters(struct gp_report_json *j, struct gp_report *r)
{
    const char *status = info(r, "counters.status");
    if (!status) {
        gp_report_json_null(j, "tensor_counters");
        return 0;
    }
    const char *dev = info(r, "counters.device");
    gp_report_json_object_begin(j, "tensor_counters");
    gp_report_json_string(j, "status", status);
    gp_report_json_string(j, "reason", info(r, "counters.reason"));
    gp_report_json_string(j, "fix", strcmp(status, "no_permission") == 0 ? gp_counters_fix : NULL);
    gp_report_json_string(j, "scope", info(r, "counters.scope"));
    gp_report_json_string(j, "chip", info(r, "counters.chip"));
    if (dev)
        gp_report_json_i64(j, "device", strtoll(dev, NULL, 10));
    else
        gp_report_json_null(j, "device");
    gp_report_json_array_begin(j, "metrics");
    const struct gp_report_model *m = r->model;
    for (size_t i = 0; i < m->ninfo; i++) {
        if (strncmp(m->info[i].key, GP_COUNTERS_METRIC, strlen(GP_COUNTERS_METRIC)) != 0)
            continue;
        double v = strtod(m->info[i].value, NULL);
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "name", m->info[i].key + strlen(GP_COUNTERS_METRIC));
        /* counts stay exact (json_double keeps 6 digits) */
        if (isfinite(v) && v >= 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v)
            gp_report_json_u64(j, "value", (uint64_t)v);
        else
            gp_report_json_double(j, "value", v);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    int seen = tensor_work_seen(r);
    if (seen < 0)
        gp_report_json_null(j, "tensor_work_seen");
    else
        gp_report_json_bool(j, "tensor_work_seen", seen);
    gp_report_json_object_end(j);
    return 0;
}
