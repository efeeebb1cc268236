/* view_text.c — the summary for people: what ran, the device memory peak and who held
 * it, the managed and pinned peaks, what was still held at exit, every OOM with the
 * memory live at that moment, and warnings when the trace is incomplete. */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include <string.h>

#include "report.h"

#define TEXT_MAX_FRAMES 16 /* deeper frames are summarized in one line */

static const char *const kind_label[GP_MEM_KIND_COUNT] = {
    [GP_MEM_DEVICE] = "device",
    [GP_MEM_MANAGED] = "managed",
    [GP_MEM_HOST_PINNED] = "pinned host",
    [GP_MEM_PHYSICAL] = "physical (cuMemCreate, part of device)",
    [GP_MEM_ADDRESS_RANGE] = "reserved address space (no memory)",
    [GP_MEM_MAPPING] = "mapped (cuMemMap)",
};

static void print_bytes(FILE *f, uint64_t bytes)
{
    char buf[32];
    fprintf(f, "%s (%" PRIu64 " bytes)", gp_report_fmt_bytes(buf, sizeof(buf), bytes), bytes);
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

static void print_frame(FILE *f, const char *indent, const struct gp_report_frame *fr)
{
    fprintf(f, "%s      ", indent);
    gp_report_fputs_safe(f, fr->function);
    fputs(" (", f);
    if (fr->file) {
        gp_report_fputs_safe(f, fr->file);
        fprintf(f, ":%" PRIu32, fr->line);
    } else if (fr->module) {
        gp_report_fputs_safe(f, fr->module);
        fprintf(f, "+0x%" PRIx64, fr->offset);
    } else {
        fprintf(f, "0x%" PRIx64, fr->ip);
    }
    fputs(fr->python ? ") [Python]\n" : ")\n", f);
}

static int print_stack(FILE *f, const char *indent, struct gp_report *r, uint32_t stack)
{
    struct gp_report_frame frames[GP_TRACE_MAX_FRAMES];
    int n = gp_report_symbolize_stack(r->sym, stack, frames, GP_TRACE_MAX_FRAMES);
    if (n < 0)
        return n;
    if (n == 0)
        fprintf(f, "%s      (no stack recorded)\n", indent);
    /* Python frames come first; each part gets its own limit so a deep Python stack
     * does not hide the native frame that called CUDA. */
    int npy = 0;
    while (npy < n && frames[npy].python)
        npy++;
    /* Under Python frames the user's question is which line of the script: the native
     * frames are shown on request (--native), except the innermost, which called CUDA. */
    int native = npy > 0 && !r->native ? (n > npy ? 1 : 0) : n - npy;
    for (int part = 0, from = 0, to = npy; part < 2; part++, from = npy, to = npy + native) {
        for (int i = from; i < to && i < from + TEXT_MAX_FRAMES; i++)
            print_frame(f, indent, &frames[i]);
        if (to - from > TEXT_MAX_FRAMES)
            fprintf(f, "%s      ... %d more %sframes\n", indent, to - from - TEXT_MAX_FRAMES,
                    part == 0 ? "Python " : "");
    }
    if (npy > 0 && n - npy > native)
        fprintf(f, "%s      ... %d native frames (--native shows them)\n", indent, n - npy - native);
    return 0;
}

static void print_libs(FILE *f, const char *indent, const struct gp_report *r,
                       const struct gp_report_site_list *l)
{
    if (l->nlibs == 0)
        return;
    fprintf(f, "%sby library:", indent);
    for (size_t i = 0; i < l->nlibs; i++) {
        const struct gp_report_lib *lib = &l->libs[i];
        const char *path = lib->module >= 0 ? r->model->modules[lib->module].path : "(unknown)";
        const char *base = strrchr(path, '/');
        fputs(i ? ", " : " ", f);
        print_bytes(f, lib->bytes);
        fputc(' ', f);
        gp_report_fputs_safe(f, base ? base + 1 : path);
    }
    fputc('\n', f);
}

static int print_sites(FILE *f, const char *indent, struct gp_report *r,
                       const struct gp_report_site_list *l)
{
    print_libs(f, indent, r, l);
    for (size_t i = 0; i < l->n; i++) {
        fprintf(f, "%s#%zu ", indent, i + 1);
        print_bytes(f, l->v[i].bytes);
        fprintf(f, " in %" PRIu64 " allocation%s\n", l->v[i].count, plural(l->v[i].count));
        int rc = print_stack(f, indent, r, l->v[i].stack);
        if (rc < 0)
            return rc;
    }
    if (l->total_sites > l->n)
        fprintf(f, "%s... %zu more sites\n", indent, l->total_sites - l->n);
    return 0;
}

static void print_run(FILE *f, const struct gp_report_model *m)
{
    const struct gp_report_run *run = &m->run;
    char when[64] = "?", dur[48];
    time_t secs = (time_t)(run->realtime_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);

    fputs("gpuprof report\n  program  ", f);
    gp_report_fputs_safe(f, run->exe);
    fprintf(f, " (pid %" PRIu32 ", parent %" PRIu32 ")\n  command  ", run->pid, run->ppid);
    gp_report_fputs_safe(f, run->cmdline);
    fputs("\n  host     ", f);
    gp_report_fputs_safe(f, run->host);
    if (run->label[0]) {
        fputs("\n  label    ", f);
        gp_report_fputs_safe(f, run->label);
    }
    fprintf(f, "\n  started  %s, ran %s\n", when,
            gp_report_fmt_secs(dur, sizeof(dur), gp_report_model_rel_ns(m, run->last_ns)));
    fprintf(f,
            "  events   %" PRIu64 " allocations, %" PRIu64 " frees, %" PRIu64
            " failed allocations, %" PRIu64 " frees of unknown pointers\n",
            m->counts.allocs, m->counts.frees, m->counts.failed_allocs, m->counts.unknown_frees);
    if (m->counts.driver_allocs > 0 && m->counts.runtime_allocs == 0)
        fputs("  note     every allocation was seen at the driver layer (cu* calls), none through the\n"
              "           CUDA runtime API: the program allocates with the driver API, or its runtime\n"
              "           is linked statically, in which case runtime-level detail (which cuda* call)\n"
              "           is not available\n",
              f);
}

static int print_peaks(FILE *f, struct gp_report *r)
{
    const struct gp_report_peak *p = &r->peak;
    char t[48];
    for (unsigned k = 0; k < GP_MEM_KIND_COUNT; k++) {
        if (k > GP_MEM_HOST_PINNED && p->bytes[k] == 0) /* driver-only kinds: when used */
            continue;
        fprintf(f, "\nPeak %s memory%s: ", kind_label[k], k == GP_MEM_DEVICE ? " reserved" : "");
        print_bytes(f, p->bytes[k]);
        if (p->bytes[k])
            fprintf(
                f, " at %s",
                gp_report_fmt_secs(t, sizeof(t), gp_report_model_rel_ns(r->model, p->time_ns[k])));
        fputc('\n', f);
        if (k == GP_MEM_DEVICE && p->sites.total_sites) {
            fprintf(f, "  sites holding it, largest first (%zu of %zu):\n", p->sites.n,
                    p->sites.total_sites);
            int rc = print_sites(f, "  ", r, &p->sites);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static void print_pools(FILE *f, const struct gp_report_model *m)
{
    char t[48];
    if (m->pools.n == 0)
        return;
    fprintf(f, "\nMemory pools (stream-ordered allocations): %zu pool%s, reserved at most ",
            m->pools.n, m->pools.n == 1 ? "" : "s");
    print_bytes(f, m->pools.peak);
    fprintf(f, " at %s, ", gp_report_fmt_secs(t, sizeof(t), gp_report_model_rel_ns(m, m->pools.peak_time_ns)));
    print_bytes(f, m->pools.reserved);
    fputs(" at exit\n", f);
}

static int print_leaks(FILE *f, struct gp_report *r)
{
    fputs("\nMemory still held at exit:\n", f);
    for (unsigned k = 0; k < GP_MEM_KIND_COUNT; k++) {
        const struct gp_report_site_list *l = &r->leaks.kind[k];
        if (k > GP_MEM_HOST_PINNED && !l->total_sites)
            continue;
        fprintf(f, "  %s: ", kind_label[k]);
        if (!l->total_sites) {
            fputs("none\n", f);
            continue;
        }
        print_bytes(f, l->total_bytes);
        fprintf(f, " in %" PRIu64 " allocation%s at %zu site%s\n", l->total_count,
                plural(l->total_count), l->total_sites, plural(l->total_sites));
        int rc = print_sites(f, "    ", r, l);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* What NVML said other processes held at the OOM; nothing when it could not say. */
static void print_others(FILE *f, const struct gp_report_oom_event *e)
{
    char a[32];
    if (!e->have_others)
        return;
    fprintf(f, "    other processes on GPU %" PRId32 ": ", e->device);
    if (e->others_count == 0) {
        fputs("none\n", f);
    } else {
        fprintf(f, "%" PRIu64 " process%s, ", e->others_count, e->others_count == 1 ? "" : "es");
        print_bytes(f, e->others_bytes);
        fprintf(f, " (largest: pid %" PRIu64 ", %s)\n", e->others_largest_pid,
                gp_report_fmt_bytes(a, sizeof(a), e->others_largest_bytes));
    }
    if (!e->self_nvml_bytes && e->others_count)
        fputs("      (NVML did not list this process: in a container it may be one of them)\n", f);
    if (e->others_advice[0])
        fprintf(f, "    advice: %s\n", e->others_advice);
}

static int print_ooms(FILE *f, struct gp_report *r)
{
    const struct gp_report_oom *o = &r->oom;
    char t[48], a[32], b[32];
    if (!o->total)
        return 0;
    fprintf(f, "\nOut-of-memory events: %" PRIu64 "\n", o->total);
    for (size_t i = 0; i < o->n; i++) {
        const struct gp_report_oom_event *e = &o->v[i];
        fprintf(f, "  OOM %zu at %s: %s of ", i + 1,
                gp_report_fmt_secs(t, sizeof(t), gp_report_model_rel_ns(r->model, e->time_ns)),
                gp_trace_api_name(e->api));
        print_bytes(f, e->requested);
        fprintf(f, " failed on device %" PRId32 "\n", e->device);
        fprintf(f, "    the device reported %s free of %s; live in the trace: ",
                gp_report_fmt_bytes(a, sizeof(a), e->device_free),
                gp_report_fmt_bytes(b, sizeof(b), e->device_total));
        print_bytes(f, e->live_bytes);
        fputc('\n', f);
        print_others(f, e);
        fputs("    failing call:\n", f);
        int rc = print_stack(f, "  ", r, e->stack);
        if (rc < 0)
            return rc;
        if (e->sites.total_sites) {
            fprintf(f, "    live device memory by site (%zu of %zu):\n", e->sites.n,
                    e->sites.total_sites);
            rc = print_sites(f, "      ", r, &e->sites);
            if (rc < 0)
                return rc;
        }
    }
    if (o->total > o->n)
        fprintf(f, "  ... %" PRIu64 " more OOM events not shown\n", o->total - o->n);
    return 0;
}

static void print_warnings(FILE *f, const struct gp_report_model *m)
{
    const struct gp_report_health *h = &m->health;
    if (h->dropped_events || h->truncated || m->counts.replaced_allocs)
        fputc('\n', f);
    if (h->dropped_events)
        fprintf(f,
                "WARNING: %" PRIu64 " events were dropped while profiling; the figures above "
                "may be incomplete\n",
                h->dropped_events);
    if (m->counts.replaced_allocs)
        fprintf(f,
                "WARNING: %" PRIu64 " allocations reused a pointer that was still live: "
                "their frees were not recorded\n",
                m->counts.replaced_allocs);
    if (h->truncated)
        fprintf(f,
                "WARNING: the trace is truncated (%" PRIu64 " records read, %" PRIu64
                " compressed bytes lost); this report covers what was read\n",
                h->records, h->lost_bytes);
}

int gp_report_view_text(FILE *f, struct gp_report *r)
{
    print_run(f, r->model);
    int rc = gp_report_view_text_env(f, r);
    if (rc == 0)
        rc = print_peaks(f, r);
    if (rc == 0) {
        print_pools(f, r->model);
        rc = print_leaks(f, r);
    }
    if (rc == 0)
        rc = print_ooms(f, r);
    if (rc == 0)
        rc = gp_report_view_text_torch(f, r);
    if (rc == 0)
        rc = gp_report_view_text_kernels(f, r);
    if (rc == 0)
        rc = gp_report_view_text_tensor(f, r);
    if (rc == 0)
        rc = gp_report_view_text_cubins(f, r);
    if (rc == 0)
        rc = gp_report_view_text_counters(f, r);
    if (rc < 0)
        return rc;
    print_warnings(f, r->model);
    return ferror(f) ? -EIO : 0;
}
