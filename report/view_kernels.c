/* view_kernels.c — the GPU activity part of the text and JSON views: whether kernels were
 * recorded (and why not), the top kernels by total GPU time with demangled names, per device
 * and per stream totals, copies by direction with their bandwidth, the GPU busy share and its
 * longest idle gaps, and dropped-record warnings. docs/json-schema.md ("kernels") is the JSON
 * contract. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "report.h"

/* ns as people read a duration: 850 ns, 12.3 us, 4.567 ms, 1.234 s */
static const char *fmt_dur(char *buf, size_t len, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, len, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, len, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.3f s", (double)ns / 1e9);
    return buf;
}

static double frac(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

/* bytes per second, 0 when untimed */
static double bandwidth(const struct gp_report_copy_stat *c)
{
    return c->time_ns ? (double)c->bytes * 1e9 / (double)c->time_ns : 0.0;
}

static const char *kernel_name(const struct gp_report *r, uint32_t id)
{
    const char *s = id ? gp_trace_reader_string(r->model->reader, id) : NULL;
    return s ? s : "(unnamed)";
}

static void print_status_line(FILE *f, const struct gp_report_kernels *k)
{
    fputs("\nGPU activity", f);
    if (k->have_status) {
        fprintf(f, " (CUPTI %s", gp_report_act_state_name(k->status.state));
        if (k->status.reason && k->status.state == GP_ACT_RECORDING) {
            fputs(": ", f);
            gp_report_fputs_safe(f, k->status.reason);
        }
        fputc(')', f);
    }
    fputs("\n", f);
}

int gp_report_view_text_kernels(FILE *f, const struct gp_report *r)
{
    const struct gp_report_kernels *k = &r->kernels;
    char a[32], b[32], c[32], d[32], v[256];
    print_status_line(f, k);
    const char *verdict = gp_report_kernels_verdict(k, r->model, v, sizeof(v));
    if (verdict) {
        fputs("  ", f);
        gp_report_fputs_safe(f, verdict);
        fputs("\n", f);
    }
    if (k->kernels) {
        fprintf(f, "  %" PRIu64 " kernels (%zu distinct), %s of GPU time; GPU busy %.1f %% of %s\n",
                k->kernels, k->distinct, fmt_dur(a, sizeof(a), k->gpu_time_ns),
                100.0 * frac(k->busy_ns, k->wall_ns), fmt_dur(b, sizeof(b), k->wall_ns));
        fprintf(f, "  top kernels by total GPU time:\n");
        fprintf(f, "    %12s %8s %12s %12s %12s %6s  %s\n", "total", "calls", "mean", "min", "max",
                "share", "kernel");
        for (size_t i = 0; i < k->ntop; i++) {
            const struct gp_report_kernel_stat *s = &k->top[i];
            char *dm = gp_report_demangle(kernel_name(r, s->name_id));
            char e[32];
            fprintf(f, "    %12s %8" PRIu64 " %12s %12s %12s %5.1f%%  ", fmt_dur(a, sizeof(a), s->total_ns),
                    s->calls, fmt_dur(b, sizeof(b), s->calls ? s->total_ns / s->calls : 0),
                    fmt_dur(c, sizeof(c), s->min_ns), fmt_dur(e, sizeof(e), s->max_ns),
                    100.0 * frac(s->total_ns, k->gpu_time_ns));
            gp_report_fputs_safe(f, dm ? dm : kernel_name(r, s->name_id));
            fputs("\n", f);
            free(dm);
        }
        if (k->distinct > k->ntop)
            fprintf(f, "    ... %zu more kernels\n", k->distinct - k->ntop);
        if (k->untimed)
            fprintf(f, "  %" PRIu64 " kernels had no timestamps (CUPTI lacked device memory)\n", k->untimed);
    }
    for (size_t i = 0; i < k->ngpus; i++) {
        const struct gp_report_gpu *g = &k->gpus[i];
        fprintf(f, "  device %" PRIu32 ": %" PRIu64 " kernels, %s of kernel time, busy %.1f %%\n",
                g->device, g->kernels, fmt_dur(a, sizeof(a), g->kernel_ns), 100.0 * frac(g->busy_ns, k->wall_ns));
    }
    for (size_t i = 0; i < k->nlanes; i++) {
        const struct gp_report_lane *l = &k->lanes[i];
        fprintf(f, "    stream %" PRIu32 " (device %" PRIu32 "): %" PRIu64 " kernels in %s, %" PRIu64
                " copies and memsets in %s\n", l->stream, l->device, l->kernels,
                fmt_dur(a, sizeof(a), l->kernel_ns), l->copies, fmt_dur(b, sizeof(b), l->copy_ns));
    }
    for (unsigned i = 0; i < GP_REPORT_COPY_KINDS; i++) {
        const struct gp_report_copy_stat *s = &k->memcpy[i];
        if (!s->count)
            continue;
        fprintf(f, "  memcpy %s: %" PRIu64 " copies, %s in %s (%s/s)\n", gp_report_copy_kind_name(i),
                s->count, gp_report_fmt_bytes(a, sizeof(a), s->bytes), fmt_dur(b, sizeof(b), s->time_ns),
                gp_report_fmt_bytes(d, sizeof(d), bandwidth(s) < 0x1p64 ? (uint64_t)bandwidth(s) : UINT64_MAX));
    }
    if (k->memset.count)
        fprintf(f, "  memset: %" PRIu64 " calls, %s in %s\n", k->memset.count,
                gp_report_fmt_bytes(a, sizeof(a), k->memset.bytes), fmt_dur(b, sizeof(b), k->memset.time_ns));
    if (k->ngaps) {
        fputs("  longest GPU idle gaps:", f);
        for (size_t i = 0; i < k->ngaps; i++)
            fprintf(f, "%s %s at %s", i ? "," : "",
                    fmt_dur(a, sizeof(a), k->gaps[i].end - k->gaps[i].start),
                    gp_report_fmt_secs(b, sizeof(b), gp_report_model_rel_ns(r->model, k->gaps[i].start)));
        fputs("\n", f);
    }
    if (k->dropped_records)
        fprintf(f, "  warning: CUPTI dropped %" PRIu64 " activity records: GPU figures are lower bounds\n",
                k->dropped_records);
    if (k->busy_approx_ns)
        fprintf(f, "  note: %s of activity arrived too far out of time order to merge exactly: "
                "GPU busy lies between the figure above and that much more\n",
                fmt_dur(a, sizeof(a), k->busy_approx_ns));
    if (k->lanes_lost || k->gpus_lost)
        fprintf(f, "  note: %" PRIu64 " activities past %u streams or %u devices are in the totals only\n",
                k->lanes_lost > k->gpus_lost ? k->lanes_lost : k->gpus_lost, GP_REPORT_MAX_LANES,
                GP_REPORT_MAX_GPUS);
    return ferror(f) ? -EIO : 0;
}

static void json_copy(struct gp_report_json *j, const char *key, const char *direction,
                      const struct gp_report_copy_stat *s)
{
    gp_report_json_object_begin(j, key);
    if (direction)
        gp_report_json_string(j, "direction", direction);
    gp_report_json_u64(j, "count", s->count);
    gp_report_json_u64(j, "bytes", s->bytes);
    gp_report_json_u64(j, "time_ns", s->time_ns);
    gp_report_json_double(j, "bandwidth_bytes_per_s", bandwidth(s));
    gp_report_json_object_end(j);
}

static void json_kinds(struct gp_report_json *j, uint64_t kinds)
{
    gp_report_json_array_begin(j, "activity_kinds");
    for (unsigned t = GP_REC_ACT_FIRST; t <= GP_REC_ACT_LAST; t++)
        if (kinds >> (t - GP_REC_ACT_FIRST) & 1)
            gp_report_json_string(j, NULL, gp_trace_activity_type_name(t));
    gp_report_json_array_end(j);
}

void gp_report_view_json_kernels(struct gp_report_json *j, const struct gp_report *r)
{
    const struct gp_report_kernels *k = &r->kernels;
    const struct gp_report_model *m = r->model;
    char v[256];
    gp_report_json_object_begin(j, "kernels");
    gp_report_json_string(j, "status", k->have_status ? gp_report_act_state_name(k->status.state) : "unknown");
    gp_report_json_string(j, "status_reason", k->have_status ? k->status.reason : NULL);
    gp_report_json_string(j, "cupti_library", k->have_status ? k->status.library : NULL);
    gp_report_json_u64(j, "cupti_version", k->have_status ? k->status.version : 0);
    json_kinds(j, k->have_status ? k->status.kinds : 0);
    gp_report_json_string(j, "verdict", gp_report_kernels_verdict(k, m, v, sizeof(v)));
    gp_report_json_u64(j, "count", k->kernels);
    gp_report_json_u64(j, "distinct", k->distinct);
    gp_report_json_u64(j, "untimed", k->untimed);
    gp_report_json_u64(j, "gpu_time_ns", k->gpu_time_ns);
    gp_report_json_u64(j, "busy_ns", k->busy_ns);
    gp_report_json_u64(j, "wall_ns", k->wall_ns);
    gp_report_json_double(j, "busy_fraction", frac(k->busy_ns, k->wall_ns));
    gp_report_json_bool(j, "busy_exact", k->busy_approx_ns == 0);
    gp_report_json_u64(j, "first_ns", k->first_ns ? gp_report_model_rel_ns(m, k->first_ns) : 0);
    gp_report_json_u64(j, "last_ns", k->last_ns ? gp_report_model_rel_ns(m, k->last_ns) : 0);
    gp_report_json_u64(j, "dropped_records", k->dropped_records);

    gp_report_json_array_begin(j, "top");
    for (size_t i = 0; i < k->ntop; i++) {
        const struct gp_report_kernel_stat *s = &k->top[i];
        const char *raw = kernel_name(r, s->name_id);
        char *dm = gp_report_demangle(raw);
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "name", dm ? dm : raw);
        gp_report_json_string(j, "mangled", raw);
        gp_report_json_u64(j, "calls", s->calls);
        gp_report_json_u64(j, "total_ns", s->total_ns);
        gp_report_json_u64(j, "mean_ns", s->calls ? s->total_ns / s->calls : 0);
        gp_report_json_u64(j, "min_ns", s->min_ns);
        gp_report_json_u64(j, "max_ns", s->max_ns);
        gp_report_json_double(j, "share", frac(s->total_ns, k->gpu_time_ns));
        gp_report_json_object_end(j);
        free(dm);
    }
    gp_report_json_array_end(j);

    gp_report_json_array_begin(j, "by_device");
    for (size_t i = 0; i < k->ngpus; i++) {
        const struct gp_report_gpu *g = &k->gpus[i];
        gp_report_json_object_begin(j, NULL);
        gp_report_json_u64(j, "device", g->device);
        gp_report_json_u64(j, "kernels", g->kernels);
        gp_report_json_u64(j, "kernel_ns", g->kernel_ns);
        gp_report_json_u64(j, "busy_ns", g->busy_ns);
        gp_report_json_double(j, "busy_fraction", frac(g->busy_ns, k->wall_ns));
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);

    gp_report_json_array_begin(j, "by_stream");
    for (size_t i = 0; i < k->nlanes; i++) {
        const struct gp_report_lane *l = &k->lanes[i];
        gp_report_json_object_begin(j, NULL);
        gp_report_json_u64(j, "device", l->device);
        gp_report_json_u64(j, "stream", l->stream);
        gp_report_json_u64(j, "kernels", l->kernels);
        gp_report_json_u64(j, "kernel_ns", l->kernel_ns);
        gp_report_json_u64(j, "copies", l->copies);
        gp_report_json_u64(j, "copy_ns", l->copy_ns);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);

    gp_report_json_array_begin(j, "memcpy");
    for (unsigned i = 0; i < GP_REPORT_COPY_KINDS; i++)
        if (k->memcpy[i].count)
            json_copy(j, NULL, gp_report_copy_kind_name(i), &k->memcpy[i]);
    gp_report_json_array_end(j);
    json_copy(j, "memset", NULL, &k->memset);

    gp_report_json_array_begin(j, "idle_gaps");
    for (size_t i = 0; i < k->ngaps; i++) {
        gp_report_json_object_begin(j, NULL);
        gp_report_json_u64(j, "start_ns", gp_report_model_rel_ns(m, k->gaps[i].start));
        gp_report_json_u64(j, "end_ns", gp_report_model_rel_ns(m, k->gaps[i].end));
        gp_report_json_u64(j, "duration_ns", k->gaps[i].end - k->gaps[i].start);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);

    gp_report_json_u64(j, "nvtx_markers", k->markers);
    gp_report_json_u64(j, "nvtx_ranges", k->nranges);
    gp_report_json_u64(j, "synchronizations", k->syncs);
    gp_report_json_u64(j, "synchronization_ns", k->sync_ns);
    gp_report_json_u64(j, "overhead_ns", k->overhead_ns);
    gp_report_json_u64(j, "external_correlations", k->ext_corrs);
    gp_report_json_object_begin(j, "cupti_memory");
    gp_report_json_u64(j, "allocs", k->gpu_allocs);
    gp_report_json_u64(j, "frees", k->gpu_frees);
    gp_report_json_u64(j, "alloc_bytes", k->gpu_alloc_bytes);
    gp_report_json_u64(j, "pool_operations", k->pool_ops);
    gp_report_json_object_end(j);
    gp_report_json_object_end(j);
}
