/* view_torch.c — PyTorch's allocator in the text and JSON views (analysis_torch.c): the
 * "PyTorch memory" section (allocated against reserved per device, fragmentation, allocator
 * settings, lost events) and "Out of memory (PyTorch)" with each OOM's numbers, the live
 * blocks by Python stack and the advice; the JSON "torch" object (docs/json-schema.md).
 * Text sections appear only when the adapter ran; every trace string goes through
 * gp_report_fputs_safe or the JSON writer's escaping. */
#include <errno.h>
#include <inttypes.h>

#include "report.h"

#define TORCH_TEXT_FRAMES 8

static const char *bytes(char *buf, size_t len, uint64_t v)
{
    char b[32];
    snprintf(buf, len, "%s (%" PRIu64 " bytes)", gp_report_fmt_bytes(b, sizeof(b), v), v);
    return buf;
}

static double rel_s(const struct gp_report *r, uint64_t abs_ns)
{
    return (double)gp_report_model_rel_ns(r->model, abs_ns) / 1e9;
}

static int print_frames(FILE *f, struct gp_report *r, const char *indent, uint32_t stack)
{
    struct gp_report_frame fr[GP_TRACE_MAX_FRAMES];
    int n = gp_report_symbolize_stack(r->sym, stack, fr, GP_TRACE_MAX_FRAMES);
    if (n < 0)
        return n;
    if (n == 0)
        fprintf(f, "%s(no Python stack recorded)\n", indent);
    for (int i = 0; i < n && i < TORCH_TEXT_FRAMES; i++) {
        fputs(indent, f);
        gp_report_fputs_safe(f, fr[i].function);
        fputs(" (", f);
        gp_report_fputs_safe(f, fr[i].file ? fr[i].file : "?");
        fprintf(f, ":%" PRIu32 ")\n", fr[i].line);
    }
    if (n > TORCH_TEXT_FRAMES)
        fprintf(f, "%s... %d more frames\n", indent, n - TORCH_TEXT_FRAMES);
    return 0;
}

static const char *setting(int v, const char *on, const char *off)
{
    return v < 0 ? "unknown" : v ? on : off;
}

static void print_devices(FILE *f, const struct gp_report *r)
{
    const struct gp_report_torch *t = &r->torch;
    char a[64], b[64], c[64], s[48];
    for (unsigned d = 0; d < GP_REPORT_TORCH_DEVICES; d++) {
        const struct gp_report_torch_dev *dv = &t->dev[d];
        if (!dv->used)
            continue;
        fprintf(f, "  device %u: allocated peak %s at %s, reserved peak %s\n", d,
                bytes(a, sizeof(a), dv->allocated_peak),
                gp_report_fmt_secs(s, sizeof(s), gp_report_model_rel_ns(r->model, dv->allocated_peak_ns)),
                bytes(b, sizeof(b), dv->segments_peak));
        fprintf(f, "    fragmentation (reserved - allocated) at most %s; at the end allocated %s, "
                   "reserved %s\n",
                bytes(a, sizeof(a), dv->frag_peak), bytes(b, sizeof(b), dv->allocated),
                bytes(c, sizeof(c), dv->segments));
        /* PyTorch's own peak against the replay: more than 1% apart means lost events or a
         * peak reset by the program. */
        uint64_t st = dv->stat[GP_TSTAT_ALLOCATED_PEAK], rp = dv->allocated_peak_replayed;
        if (dv->have_stat[GP_TSTAT_ALLOCATED_PEAK] && st > rp && st - rp > rp / 100)
            fprintf(f, "    WARNING: PyTorch's own allocated peak %s is above the replayed %s: "
                       "allocator events were lost; the peak shown is PyTorch's\n",
                    bytes(a, sizeof(a), st), bytes(b, sizeof(b), rp));
        else if (dv->have_stat[GP_TSTAT_ALLOCATED_PEAK] && rp > st && rp - st > st / 100)
            fprintf(f, "    note: PyTorch's own allocated peak %s is below the replayed %s: the "
                       "program reset its peak statistics (reset_peak_memory_stats)\n",
                    bytes(a, sizeof(a), st), bytes(b, sizeof(b), rp));
    }
}

static int print_summary(FILE *f, const struct gp_report *r)
{
    const struct gp_report_torch *t = &r->torch;
    fputs("\nPyTorch memory (allocated = in tensors, reserved = PyTorch's cached segments)\n", f);
    if (t->torch_version)
        fprintf(f, "  torch %u.%u.%u, ", t->torch_version / 10000, t->torch_version / 100 % 100,
                t->torch_version % 100);
    else
        fputs("  torch version unknown, ", f);
    fprintf(f, "allocator %s, expandable_segments %s\n",
            setting(t->backend_async, "cudaMallocAsync", "native"),
            setting(t->expandable, "on", "off"));
    print_devices(f, r);
    fprintf(f, "  %" PRIu64 " allocator events, %" PRIu64 " frees of blocks never seen allocated\n",
            t->events, t->unknown_frees);
    if (t->history_lost)
        fprintf(f, "  WARNING: the adapter missed %" PRIu64 " allocator events (history_lost); "
                   "allocated figures are from PyTorch's statistics where they are larger\n",
                t->history_lost);
    return 0;
}

static int print_oom(FILE *f, struct gp_report *r, size_t i)
{
    const struct gp_report_torch_oom *o = &r->torch.ooms[i];
    char a[64], b[64], c[64], s[48];
    fprintf(f, "  OOM %zu at %s on device %" PRId32 ": %s\n", i + 1,
            gp_report_fmt_secs(s, sizeof(s), gp_report_model_rel_ns(r->model, o->time_ns)), o->device,
            o->fatal ? "fatal (the process died of it)"
            : o->recovered ? "recovered (PyTorch allocated again afterwards)"
                           : "not followed by more allocations");
    fprintf(f, "    request %s", bytes(a, sizeof(a), o->request));
    if (o->have & GP_TORCH_HAVE_SEGMENT)
        fprintf(f, ", segment tried %s", bytes(b, sizeof(b), o->segment_request));
    fputc('\n', f);
    if (o->have & (GP_TORCH_HAVE_TOTAL | GP_TORCH_HAVE_FREE))
        fprintf(f, "    device total %s, free %s\n",
                o->have & GP_TORCH_HAVE_TOTAL ? bytes(a, sizeof(a), o->device_total) : "unknown",
                o->have & GP_TORCH_HAVE_FREE ? bytes(b, sizeof(b), o->device_free) : "unknown");
    fprintf(f, "    PyTorch allocated %s, reserved %s\n", bytes(a, sizeof(a), o->allocated),
            bytes(b, sizeof(b), o->reserved));
    if (o->have & (GP_TORCH_HAVE_INACTIVE | GP_TORCH_HAVE_LARGEST))
        fprintf(f, "    inactive split %s, largest free block %s\n",
                o->have & GP_TORCH_HAVE_INACTIVE ? bytes(a, sizeof(a), o->inactive_split) : "unknown",
                o->have & GP_TORCH_HAVE_LARGEST ? bytes(b, sizeof(b), o->largest_free) : "unknown");
    fprintf(f, "    this process held %s of device memory, %s of it outside PyTorch\n",
            bytes(a, sizeof(a), o->process_device), bytes(b, sizeof(b), o->non_torch));
    if ((o->have & GP_TORCH_HAVE_NVML) && o->other_processes_count)
        fprintf(f, "    other processes on GPU %" PRId32 ": %" PRIu64 " process%s, %s (largest: pid %"
                PRIu64 ", %s)\n", o->device, o->other_processes_count,
                o->other_processes_count == 1 ? "" : "es", bytes(c, sizeof(c), o->other_processes),
                o->other_largest_pid, gp_report_fmt_bytes(s, sizeof(s), o->other_largest_bytes));
    else if (o->have & GP_TORCH_HAVE_NVML)
        fprintf(f, "    other processes on GPU %" PRId32 ": none\n", o->device);
    else if (o->have & GP_TORCH_HAVE_OTHER)
        fprintf(f, "    other processes (and the CUDA context) %s\n",
                bytes(c, sizeof(c), o->other_processes));
    if (o->growth_bytes)
        fprintf(f, "    allocated grew by %s in the %s before\n", bytes(a, sizeof(a), o->growth_bytes),
                gp_report_fmt_secs(s, sizeof(s), o->growth_ns));
    else
        fputs("    allocated did not grow in the 5 s before\n", f);
    fputs("    failing allocation:\n", f);
    int rc = print_frames(f, r, "      ", o->stack);
    if (rc < 0)
        return rc;
    if (o->sites.total_sites)
        fprintf(f, "    live PyTorch blocks by Python stack (%zu of %zu):\n", o->sites.n,
                o->sites.total_sites);
    for (size_t k = 0; k < o->sites.n; k++) {
        fprintf(f, "      #%zu %s in %" PRIu64 " block%s\n", k + 1,
                bytes(a, sizeof(a), o->sites.v[k].bytes), o->sites.v[k].count,
                o->sites.v[k].count == 1 ? "" : "s");
        rc = print_frames(f, r, "        ", o->sites.v[k].stack);
        if (rc < 0)
            return rc;
    }
    if (o->nadvice)
        fputs("    advice:\n", f);
    for (size_t k = 0; k < o->nadvice; k++) {
        fputs("      - ", f);
        gp_report_fputs_safe(f, o->advice[k].text);
        fputc('\n', f);
    }
    return 0;
}

int gp_report_view_text_torch(FILE *f, struct gp_report *r)
{
    const struct gp_report_torch *t = &r->torch;
    if (!t->present)
        return 0;
    int rc = print_summary(f, r);
    if (rc == 0 && t->ooms_total)
        fprintf(f, "\nOut of memory (PyTorch): %" PRIu64 "\n", t->ooms_total);
    for (size_t i = 0; rc == 0 && i < t->nooms; i++)
        rc = print_oom(f, r, i);
    if (rc == 0 && t->ooms_total > t->nooms)
        fprintf(f, "  ... %" PRIu64 " more OOM events not shown\n", t->ooms_total - t->nooms);
    return rc;
}

static void u64_or_null(struct gp_report_json *j, const char *key, int known, uint64_t v)
{
    if (known)
        gp_report_json_u64(j, key, v);
    else
        gp_report_json_null(j, key);
}

static int json_sites(struct gp_report_json *j, struct gp_report *r, const struct gp_report_site_list *l)
{
    struct gp_report_frame fr[GP_TRACE_MAX_FRAMES];
    gp_report_json_array_begin(j, "sites");
    for (size_t i = 0; i < l->n; i++) {
        int n = gp_report_symbolize_stack(r->sym, l->v[i].stack, fr, GP_TRACE_MAX_FRAMES);
        if (n < 0)
            return n;
        gp_report_json_object_begin(j, NULL);
        gp_report_json_u64(j, "bytes", l->v[i].bytes);
        gp_report_json_u64(j, "count", l->v[i].count);
        gp_report_json_array_begin(j, "frames");
        for (int k = 0; k < n; k++) {
            gp_report_json_object_begin(j, NULL);
            gp_report_json_string(j, "function", fr[k].function);
            gp_report_json_string(j, "file", fr[k].file);
            gp_report_json_u64(j, "line", fr[k].line);
            gp_report_json_object_end(j);
        }
        gp_report_json_array_end(j);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    return 0;
}

static int json_oom(struct gp_report_json *j, struct gp_report *r, const struct gp_report_torch_oom *o)
{
    gp_report_json_object_begin(j, NULL);
    gp_report_json_double(j, "time_s", rel_s(r, o->time_ns));
    gp_report_json_i64(j, "device", o->device);
    gp_report_json_u64(j, "request_bytes", o->request);
    u64_or_null(j, "segment_request_bytes", o->have & GP_TORCH_HAVE_SEGMENT, o->segment_request);
    u64_or_null(j, "device_total_bytes", o->have & GP_TORCH_HAVE_TOTAL, o->device_total);
    u64_or_null(j, "device_free_bytes", o->have & GP_TORCH_HAVE_FREE, o->device_free);
    gp_report_json_u64(j, "allocated_bytes", o->allocated);
    gp_report_json_u64(j, "reserved_bytes", o->reserved);
    u64_or_null(j, "inactive_split_bytes", o->have & GP_TORCH_HAVE_INACTIVE, o->inactive_split);
    u64_or_null(j, "largest_free_block_bytes", o->have & GP_TORCH_HAVE_LARGEST, o->largest_free);
    gp_report_json_u64(j, "non_torch_bytes", o->non_torch);
    u64_or_null(j, "other_processes_bytes", o->have & GP_TORCH_HAVE_OTHER, o->other_processes);
    gp_report_json_u64(j, "process_device_bytes", o->process_device);
    gp_report_json_bool(j, "recovered", o->recovered);
    gp_report_json_bool(j, "fatal", o->fatal);
    gp_report_json_u64(j, "growth_bytes", o->growth_bytes);
    gp_report_json_double(j, "growth_s", (double)o->growth_ns / 1e9);
    int rc = json_sites(j, r, &o->sites);
    if (rc < 0)
        return rc;
    gp_report_json_array_begin(j, "advice");
    for (size_t k = 0; k < o->nadvice; k++) {
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "kind", o->advice[k].kind);
        gp_report_json_string(j, "text", o->advice[k].text);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    /* Last, after the fields of the first layout; null unless NVML measured the bytes. */
    u64_or_null(j, "other_processes_count", o->have & GP_TORCH_HAVE_NVML, o->other_processes_count);
    gp_report_json_object_end(j);
    return 0;
}

static void json_devices(struct gp_report_json *j, const struct gp_report_torch *t)
{
    gp_report_json_array_begin(j, "devices");
    for (unsigned d = 0; d < GP_REPORT_TORCH_DEVICES; d++) {
        const struct gp_report_torch_dev *dv = &t->dev[d];
        if (!dv->used)
            continue;
        gp_report_json_object_begin(j, NULL);
        gp_report_json_u64(j, "device", d);
        gp_report_json_u64(j, "allocated_bytes", dv->allocated);
        gp_report_json_u64(j, "allocated_peak_bytes", dv->allocated_peak);
        gp_report_json_u64(j, "reserved_bytes", dv->segments);
        gp_report_json_u64(j, "reserved_peak_bytes", dv->segments_peak);
        gp_report_json_u64(j, "fragmentation_peak_bytes", dv->frag_peak);
        gp_report_json_object_begin(j, "stats");
        for (unsigned s = 1; s < GP_TSTAT_COUNT; s++)
            if (dv->have_stat[s])
                gp_report_json_u64(j, gp_trace_torch_stat_name(s), dv->stat[s]);
        gp_report_json_object_end(j);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
}

int gp_report_view_json_torch(struct gp_report_json *j, struct gp_report *r)
{
    const struct gp_report_torch *t = &r->torch;
    char ver[32];
    if (!t->present) {
        gp_report_json_null(j, "torch");
        return 0;
    }
    gp_report_json_object_begin(j, "torch");
    snprintf(ver, sizeof(ver), "%u.%u.%u", t->torch_version / 10000, t->torch_version / 100 % 100,
             t->torch_version % 100);
    gp_report_json_string(j, "version", t->torch_version ? ver : NULL);
    gp_report_json_u64(j, "events", t->events);
    gp_report_json_u64(j, "history_lost", t->history_lost);
    gp_report_json_u64(j, "unknown_frees", t->unknown_frees);
    if (t->expandable < 0)
        gp_report_json_null(j, "expandable_segments");
    else
        gp_report_json_bool(j, "expandable_segments", t->expandable);
    gp_report_json_string(j, "backend", t->backend_async < 0 ? NULL
                                        : t->backend_async ? "cudaMallocAsync"
                                                           : "native");
    gp_report_json_u64(j, "peak_allocated_bytes", t->peak_allocated_bytes);
    gp_report_json_double(j, "peak_allocated_time_s", rel_s(r, t->peak_allocated_ns));
    gp_report_json_u64(j, "peak_reserved_bytes", t->peak_reserved_bytes);
    gp_report_json_u64(j, "peak_fragmentation_bytes", t->peak_fragmentation_bytes);
    u64_or_null(j, "device_total_bytes", t->device_total_bytes != 0, t->device_total_bytes);
    if (t->label_batch)
        gp_report_json_u64(j, "label_batch", t->label_batch);
    else
        gp_report_json_null(j, "label_batch");
    json_devices(j, t);
    gp_report_json_array_begin(j, "ooms");
    for (size_t i = 0; i < t->nooms; i++) {
        int rc = json_oom(j, r, &t->ooms[i]);
        if (rc < 0)
            return rc;
    }
    gp_report_json_array_end(j);
    gp_report_json_u64(j, "oom_total", t->ooms_total);
    gp_report_json_object_end(j);
    return 0;
}
