/* view_multi.c — the job summary of several processes (gpuprof-report DIR, or several
 * traces): one line per process with its device peak and OOMs, which process ran out of
 * memory first (on the wall clock), and how unevenly the peaks are spread; as text or as
 * JSON (docs/json-schema.md, "Job summary"). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "report.h"

static void who(FILE *f, const struct gp_report_proc *p)
{
    fprintf(f, "pid %" PRIu32, p->pid);
    if (p->label[0]) {
        fputs(" (", f);
        gp_report_fputs_safe(f, p->label);
        fputc(')', f);
    }
    fputs(" on ", f);
    gp_report_fputs_safe(f, p->host);
}

int gp_report_view_multi_text(FILE *f, const struct gp_report_multi *mu)
{
    char a[32], b[32], c[64];
    fprintf(f, "gpuprof job report: %zu processes\n\n", mu->n);
    fprintf(f, "  %-8s %-16s %-12s %12s %12s %6s  %s\n", "pid", "host", "label", "peak device",
            "at", "OOMs", "trace");
    for (size_t i = 0; i < mu->n; i++) {
        const struct gp_report_proc *p = &mu->v[i];
        fprintf(f, "  %-8" PRIu32 " ", p->pid);
        gp_report_fputs_safe(f, p->host);
        fprintf(f, "%*s", p->host[0] && strlen(p->host) < 16 ? (int)(17 - strlen(p->host)) : 1, "");
        gp_report_fputs_safe(f, p->label);
        fprintf(f, "%*s", strlen(p->label) < 12 ? (int)(13 - strlen(p->label)) : 1, "");
        fprintf(f, "%12s %12s %6" PRIu64 "  ", gp_report_fmt_bytes(a, sizeof(a), p->peak_bytes),
                gp_report_fmt_secs(b, sizeof(b), p->peak_rel_ns), p->ooms);
        gp_report_fputs_safe(f, p->path);
        fputs(p->truncated ? " (truncated)\n" : "\n", f);
    }
    fputc('\n', f);
    if (mu->ngpus) {
        fputs("Per GPU (device memory held; one process's largest peak, and the sum of the\n"
              "peaks of all processes on it, the most they can have held at once):\n", f);
        for (size_t g = 0; g < mu->ngpus; g++) {
            const struct gp_report_job_gpu *jg = &mu->gpus[g];
            fputs("  ", f);
            gp_report_fputs_safe(f, jg->host);
            if (jg->device >= 0)
                fprintf(f, " GPU %" PRId32, jg->device);
            else
                fputs(" GPU ?", f);
            fprintf(f, ": %zu process%s, largest %s (pid %" PRIu32 "), sum %s\n", jg->processes,
                    jg->processes == 1 ? "" : "es", gp_report_fmt_bytes(a, sizeof(a), jg->max_peak),
                    mu->v[jg->max_i].pid, gp_report_fmt_bytes(b, sizeof(b), jg->sum_peaks));
        }
        fputc('\n', f);
    }
    if (mu->first_oom == SIZE_MAX) {
        fputs("Out of memory: no process ran out of device memory.\n", f);
    } else {
        const struct gp_report_proc *p = &mu->v[mu->first_oom];
        fputs("First out of memory: ", f);
        who(f, p);
        fprintf(f, ", at %s (%s after it started), device %" PRId32 ", asking for %s\n",
                gp_report_fmt_wall(c, sizeof(c), p->first_oom_wall_ns),
                gp_report_fmt_secs(a, sizeof(a), p->first_oom_rel_ns), p->first_oom_device,
                gp_report_fmt_bytes(b, sizeof(b), p->first_oom_requested));
    }
    if (mu->n) {
        const struct gp_report_proc *hi = &mu->v[mu->max_i], *lo = &mu->v[mu->min_i];
        fprintf(f, "Device memory imbalance: largest peak %s (", gp_report_fmt_bytes(a, sizeof(a),
                                                                                   hi->peak_bytes));
        who(f, hi);
        fprintf(f, "), smallest %s (", gp_report_fmt_bytes(b, sizeof(b), lo->peak_bytes));
        who(f, lo);
        fprintf(f, "), mean %s: the largest is %.2fx the mean\n",
                gp_report_fmt_bytes(c, sizeof(c), mu->mean_peak), mu->imbalance);
    }
    return ferror(f) ? -EIO : 0;
}

static void proc_json(struct gp_report_json *j, const char *key, const struct gp_report_multi *mu,
                      size_t i)
{
    if (i == SIZE_MAX) {
        gp_report_json_null(j, key);
        return;
    }
    const struct gp_report_proc *p = &mu->v[i];
    gp_report_json_object_begin(j, key);
    gp_report_json_u64(j, "index", i);
    gp_report_json_u64(j, "pid", p->pid);
    gp_report_json_string(j, "host", p->host);
    gp_report_json_string(j, "label", p->label);
    gp_report_json_object_end(j);
}

int gp_report_view_multi_json(FILE *f, const struct gp_report_multi *mu)
{
    struct gp_report_json j;
    gp_report_json_init(&j, f);
    gp_report_json_object_begin(&j, NULL);
    gp_report_json_u64(&j, "schema_version", GP_REPORT_JSON_SCHEMA_VERSION);
    gp_report_json_string(&j, "kind", "job");
    gp_report_json_array_begin(&j, "processes");
    for (size_t i = 0; i < mu->n; i++) {
        const struct gp_report_proc *p = &mu->v[i];
        gp_report_json_object_begin(&j, NULL);
        gp_report_json_string(&j, "trace", p->path);
        gp_report_json_u64(&j, "pid", p->pid);
        gp_report_json_string(&j, "host", p->host);
        gp_report_json_string(&j, "label", p->label);
        gp_report_json_u64(&j, "start_realtime_ns", p->start_wall_ns);
        gp_report_json_u64(&j, "duration_ns", p->duration_ns);
        gp_report_json_u64(&j, "peak_reserved_bytes", p->peak_bytes);
        gp_report_json_u64(&j, "peak_time_ns", p->peak_rel_ns);
        gp_report_json_u64(&j, "peak_realtime_ns", p->peak_wall_ns);
        gp_report_json_u64(&j, "device_total_bytes", p->device_total);
        gp_report_json_u64(&j, "oom_count", p->ooms);
        if (p->ooms && p->first_oom_wall_ns) {
            gp_report_json_object_begin(&j, "first_oom");
            gp_report_json_u64(&j, "time_ns", p->first_oom_rel_ns);
            gp_report_json_u64(&j, "realtime_ns", p->first_oom_wall_ns);
            gp_report_json_i64(&j, "device", p->first_oom_device);
            gp_report_json_u64(&j, "requested_bytes", p->first_oom_requested);
            gp_report_json_object_end(&j);
        } else {
            gp_report_json_null(&j, "first_oom");
        }
        gp_report_json_array_begin(&j, "gpus");
        for (unsigned k = 0; k < p->ngpus; k++) {
            gp_report_json_object_begin(&j, NULL);
            if (p->gpus[k].device >= 0)
                gp_report_json_i64(&j, "device", p->gpus[k].device);
            else
                gp_report_json_null(&j, "device");
            gp_report_json_u64(&j, "peak_reserved_bytes", p->gpus[k].peak_bytes);
            gp_report_json_u64(&j, "peak_time_ns", p->gpus[k].peak_rel_ns);
            gp_report_json_object_end(&j);
        }
        gp_report_json_array_end(&j);
        if (p->has_allocated)
            gp_report_json_u64(&j, "peak_allocated_bytes", p->allocated_peak);
        else
            gp_report_json_null(&j, "peak_allocated_bytes");
        gp_report_json_bool(&j, "truncated", p->truncated);
        gp_report_json_object_end(&j);
    }
    gp_report_json_array_end(&j);
    gp_report_json_object_begin(&j, "job");
    gp_report_json_u64(&j, "process_count", mu->n);
    proc_json(&j, "first_oom", mu, mu->first_oom);
    gp_report_json_object_begin(&j, "imbalance");
    proc_json(&j, "largest", mu, mu->max_i);
    proc_json(&j, "smallest", mu, mu->min_i);
    gp_report_json_u64(&j, "max_peak_bytes", mu->n ? mu->v[mu->max_i].peak_bytes : 0);
    gp_report_json_u64(&j, "min_peak_bytes", mu->n ? mu->v[mu->min_i].peak_bytes : 0);
    gp_report_json_u64(&j, "mean_peak_bytes", mu->mean_peak);
    gp_report_json_double(&j, "max_over_mean", mu->imbalance);
    gp_report_json_object_end(&j);
    gp_report_json_array_begin(&j, "gpus");
    for (size_t g = 0; g < mu->ngpus; g++) {
        const struct gp_report_job_gpu *jg = &mu->gpus[g];
        gp_report_json_object_begin(&j, NULL);
        gp_report_json_string(&j, "host", jg->host);
        if (jg->device >= 0)
            gp_report_json_i64(&j, "device", jg->device);
        else
            gp_report_json_null(&j, "device");
        gp_report_json_u64(&j, "processes", jg->processes);
        gp_report_json_u64(&j, "max_peak_reserved_bytes", jg->max_peak);
        gp_report_json_u64(&j, "max_peak_pid", mu->v[jg->max_i].pid);
        gp_report_json_u64(&j, "sum_peak_reserved_bytes", jg->sum_peaks);
        gp_report_json_object_end(&j);
    }
    gp_report_json_array_end(&j);
    gp_report_json_object_end(&j);
    gp_report_json_object_end(&j);
    fputc('\n', f);
    return ferror(f) ? -EIO : 0;
}
