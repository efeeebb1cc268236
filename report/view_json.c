/* view_json.c — the machine summary (--json), the report's contract with scripts.
 * docs/json-schema.md describes every field; keep the two in step, and only add
 * fields within a schema version (bump GP_REPORT_JSON_SCHEMA_VERSION otherwise). */
#include <errno.h>

#include "report.h"

static const char *const kind_key[GP_MEM_KIND_COUNT] = {
    [GP_MEM_DEVICE] = "device",
    [GP_MEM_MANAGED] = "managed",
    [GP_MEM_HOST_PINNED] = "pinned_host",
    [GP_MEM_PHYSICAL] = "physical",
    [GP_MEM_ADDRESS_RANGE] = "address_range",
    [GP_MEM_MAPPING] = "mapping",
};

static int write_frames(struct gp_report_json *j, struct gp_report *r, uint32_t stack)
{
    struct gp_report_frame frames[GP_TRACE_MAX_FRAMES];
    int n = gp_report_symbolize_stack(r->sym, stack, frames, GP_TRACE_MAX_FRAMES);
    if (n < 0)
        return n;
    gp_report_json_array_begin(j, "frames");
    for (int i = 0; i < n; i++) {
        const struct gp_report_frame *f = &frames[i];
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "function", f->function);
        gp_report_json_string(j, "file", f->file);
        gp_report_json_u64(j, "line", f->line);
        gp_report_json_string(j, "module", f->module);
        /* A Python frame has no address; native frames stay as they always were. */
        if (f->python) {
            gp_report_json_bool(j, "python", 1);
        } else {
            gp_report_json_u64(j, "offset", f->offset);
            gp_report_json_u64(j, "ip", f->ip);
        }
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    return 0;
}

static int write_sites(struct gp_report_json *j, struct gp_report *r, const char *key,
                       const struct gp_report_site_list *l)
{
    gp_report_json_array_begin(j, key);
    for (size_t i = 0; i < l->n; i++) {
        gp_report_json_object_begin(j, NULL);
        gp_report_json_u64(j, "bytes", l->v[i].bytes);
        gp_report_json_u64(j, "count", l->v[i].count);
        gp_report_json_u64(j, "stack_id", l->v[i].stack);
        int rc = write_frames(j, r, l->v[i].stack);
        if (rc < 0)
            return rc;
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    return 0;
}

/* Memory per library (module of the frame that called CUDA), largest first. */
static void write_libs(struct gp_report_json *j, const struct gp_report_model *m, const char *key,
                       const struct gp_report_site_list *l)
{
    gp_report_json_array_begin(j, key);
    for (size_t i = 0; i < l->nlibs; i++) {
        const struct gp_report_lib *lib = &l->libs[i];
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "library", lib->module >= 0 ? m->modules[lib->module].path : NULL);
        gp_report_json_u64(j, "bytes", lib->bytes);
        gp_report_json_u64(j, "count", lib->count);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
}

static void write_run(struct gp_report_json *j, const struct gp_report_model *m)
{
    const struct gp_report_run *run = &m->run;
    gp_report_json_object_begin(j, "run");
    gp_report_json_u64(j, "pid", run->pid);
    gp_report_json_u64(j, "ppid", run->ppid);
    gp_report_json_string(j, "host", run->host);
    gp_report_json_string(j, "exe", run->exe);
    gp_report_json_string(j, "cmdline", run->cmdline);
    gp_report_json_string(j, "label", run->label);
    gp_report_json_u64(j, "start_realtime_ns", run->realtime_ns);
    gp_report_json_u64(j, "duration_ns", gp_report_model_rel_ns(m, run->last_ns));
    gp_report_json_u64(j, "stack_depth", run->stack_depth);
    gp_report_json_u64(j, "trace_version", run->version);
    gp_report_json_object_end(j);
}

static void write_events(struct gp_report_json *j, const struct gp_report_model *m)
{
    const struct gp_report_counts *c = &m->counts;
    gp_report_json_object_begin(j, "events");
    gp_report_json_u64(j, "allocs", c->allocs);
    gp_report_json_u64(j, "frees", c->frees);
    gp_report_json_u64(j, "failed_allocs", c->failed_allocs);
    gp_report_json_u64(j, "unknown_frees", c->unknown_frees);
    gp_report_json_u64(j, "null_frees", c->null_frees);
    gp_report_json_u64(j, "replaced_allocs", c->replaced_allocs);
    gp_report_json_u64(j, "meminfo", c->meminfo);
    gp_report_json_u64(j, "oom", c->oom);
    gp_report_json_object_begin(j, "allocs_by_kind");
    for (unsigned k = 0; k < GP_MEM_KIND_COUNT; k++)
        gp_report_json_u64(j, kind_key[k], c->allocs_by_kind[k]);
    gp_report_json_object_end(j);
    gp_report_json_u64(j, "runtime_allocs", c->runtime_allocs);
    gp_report_json_u64(j, "driver_allocs", c->driver_allocs);
    gp_report_json_bool(j, "driver_only", c->driver_allocs > 0 && c->runtime_allocs == 0);
    gp_report_json_object_end(j);
}

static int write_memory(struct gp_report_json *j, struct gp_report *r)
{
    const struct gp_report_peak *p = &r->peak;
    const struct gp_report_model *m = r->model;
    const struct gp_report_site_list *dev_leaks = &r->leaks.kind[GP_MEM_DEVICE];
    int rc;
    gp_report_json_object_begin(j, "memory");
    gp_report_json_u64(j, "peak_reserved_bytes", p->bytes[GP_MEM_DEVICE]);
    gp_report_json_u64(j, "peak_time_ns", gp_report_model_rel_ns(m, p->time_ns[GP_MEM_DEVICE]));
    gp_report_json_u64(j, "sites_at_peak", p->sites.total_sites);
    gp_report_json_object_begin(j, "pools");
    gp_report_json_u64(j, "count", m->pools.n);
    gp_report_json_u64(j, "peak_reserved_bytes", m->pools.peak);
    gp_report_json_u64(j, "peak_time_ns", m->pools.peak ? gp_report_model_rel_ns(m, m->pools.peak_time_ns) : 0);
    gp_report_json_u64(j, "reserved_at_exit_bytes", m->pools.reserved);
    gp_report_json_object_end(j);
    write_libs(j, m, "libraries_at_peak", &p->sites);
    rc = write_sites(j, r, "top_sites_at_peak", &p->sites);
    if (rc < 0)
        return rc;
    gp_report_json_u64(j, "leaked_bytes", dev_leaks->total_bytes);
    gp_report_json_u64(j, "leaked_count", dev_leaks->total_count);
    write_libs(j, m, "leaked_libraries", dev_leaks);
    rc = write_sites(j, r, "leaked_sites", dev_leaks);
    if (rc < 0)
        return rc;
    gp_report_json_array_begin(j, "devices"); /* device memory held per GPU */
    for (unsigned d = 0; d <= GP_REPORT_DEVICES; d++) {
        const struct gp_report_dev_mem *dm = &m->dev_mem[d];
        if (dm->peak == 0)
            continue;
        gp_report_json_object_begin(j, NULL);
        if (d == 0)
            gp_report_json_null(j, "device");
        else
            gp_report_json_u64(j, "device", d - 1);
        gp_report_json_u64(j, "peak_reserved_bytes", dm->peak);
        gp_report_json_u64(j, "peak_time_ns", gp_report_model_rel_ns(m, dm->peak_ns));
        gp_report_json_u64(j, "reserved_at_exit_bytes", dm->live);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    if (m->device_total_bytes)
        gp_report_json_u64(j, "device_total_bytes", m->device_total_bytes);
    else
        gp_report_json_null(j, "device_total_bytes");
    /* PyTorch's view (analysis_torch.c); null when its adapter did not run. */
    if (r->torch.present) {
        gp_report_json_u64(j, "peak_allocated_bytes", r->torch.peak_allocated_bytes);
        gp_report_json_u64(j, "peak_fragmentation_bytes", r->torch.peak_fragmentation_bytes);
    } else {
        gp_report_json_null(j, "peak_allocated_bytes");
        gp_report_json_null(j, "peak_fragmentation_bytes");
    }

    gp_report_json_object_begin(j, "by_kind");
    for (unsigned k = 0; k < GP_MEM_KIND_COUNT; k++) {
        const struct gp_report_site_list *l = &r->leaks.kind[k];
        gp_report_json_object_begin(j, kind_key[k]);
        gp_report_json_u64(j, "peak_bytes", p->bytes[k]);
        gp_report_json_u64(j, "peak_time_ns", gp_report_model_rel_ns(m, p->time_ns[k]));
        gp_report_json_u64(j, "leaked_bytes", l->total_bytes);
        gp_report_json_u64(j, "leaked_count", l->total_count);
        rc = write_sites(j, r, "leaked_sites", l);
        if (rc < 0)
            return rc;
        gp_report_json_object_end(j);
    }
    gp_report_json_object_end(j);
    gp_report_json_object_end(j);
    return 0;
}

/* Other processes from NVML (null when it did not answer) and the advice built on them. */
static void write_others(struct gp_report_json *j, const struct gp_report_oom_event *e)
{
    if (e->have_others) {
        gp_report_json_u64(j, "other_processes_bytes", e->others_bytes);
        gp_report_json_u64(j, "other_processes_count", e->others_count);
        if (e->others_count) {
            gp_report_json_object_begin(j, "other_processes_largest");
            gp_report_json_u64(j, "pid", e->others_largest_pid);
            gp_report_json_u64(j, "bytes", e->others_largest_bytes);
            gp_report_json_object_end(j);
        } else {
            gp_report_json_null(j, "other_processes_largest");
        }
        gp_report_json_u64(j, "process_nvml_bytes", e->self_nvml_bytes);
    } else {
        gp_report_json_null(j, "other_processes_bytes");
        gp_report_json_null(j, "other_processes_count");
        gp_report_json_null(j, "other_processes_largest");
        gp_report_json_null(j, "process_nvml_bytes");
    }
    gp_report_json_array_begin(j, "advice");
    if (e->others_advice[0]) {
        gp_report_json_object_begin(j, NULL);
        gp_report_json_string(j, "kind", "other_processes");
        gp_report_json_string(j, "text", e->others_advice);
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
}

static int write_oom(struct gp_report_json *j, struct gp_report *r)
{
    const struct gp_report_oom *o = &r->oom;
    gp_report_json_array_begin(j, "oom");
    for (size_t i = 0; i < o->n; i++) {
        const struct gp_report_oom_event *e = &o->v[i];
        gp_report_json_object_begin(j, NULL);
        gp_report_json_u64(j, "time_ns", gp_report_model_rel_ns(r->model, e->time_ns));
        gp_report_json_string(j, "api", gp_trace_api_name(e->api));
        gp_report_json_i64(j, "device", e->device);
        gp_report_json_u64(j, "requested_bytes", e->requested);
        gp_report_json_u64(j, "live_bytes", e->live_bytes);
        gp_report_json_u64(j, "device_free_bytes", e->device_free);
        gp_report_json_u64(j, "device_total_bytes", e->device_total);
        write_others(j, e);
        int rc = write_frames(j, r, e->stack);
        if (rc == 0) {
            write_libs(j, r->model, "libraries", &e->sites);
            rc = write_sites(j, r, "top_sites", &e->sites);
        }
        if (rc < 0)
            return rc;
        gp_report_json_object_end(j);
    }
    gp_report_json_array_end(j);
    gp_report_json_u64(j, "oom_total", o->total);
    return 0;
}

static void write_trace(struct gp_report_json *j, const struct gp_report_model *m)
{
    const struct gp_report_health *h = &m->health;
    gp_report_json_object_begin(j, "trace");
    gp_report_json_bool(j, "truncated", h->truncated);
    gp_report_json_u64(j, "dropped_events", h->dropped_events);
    gp_report_json_u64(j, "lost_bytes", h->lost_bytes);
    gp_report_json_u64(j, "records", h->records);
    gp_report_json_object_end(j);
}

int gp_report_view_json(FILE *f, struct gp_report *r)
{
    struct gp_report_json j;
    int rc;
    gp_report_json_init(&j, f);
    gp_report_json_object_begin(&j, NULL);
    gp_report_json_u64(&j, "schema_version", GP_REPORT_JSON_SCHEMA_VERSION);
    write_run(&j, r->model);
    gp_report_view_json_env(&j, r);
    write_events(&j, r->model);
    rc = write_memory(&j, r);
    if (rc == 0)
        rc = write_oom(&j, r);
    if (rc < 0)
        return rc;
    gp_report_view_json_kernels(&j, r);
    rc = gp_report_view_json_tensor(&j, r);
    if (rc == 0)
        rc = gp_report_view_json_cubins(&j, r);
    if (rc == 0)
        rc = gp_report_view_json_counters(&j, r);
    if (rc == 0)
        rc = gp_report_view_json_torch(&j, r);
    if (rc < 0)
        return rc;
    write_trace(&j, r->model);
    gp_report_json_object_end(&j);
    return ferror(f) ? -EIO : 0;
}
