/* view_html_tables.c — the tables of the text report on the HTML page: the call sites at
 * the device memory peak, every OOM the shim saw with the live memory by call site, PyTorch's
 * allocator (peaks, settings, each OOM with its numbers, live blocks and advice), the top
 * kernels and the Tensor Core section (layer 1 per call site, layer 3 per kernel class).
 * Stacks show their innermost frame, the rest folded in <details>. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "view_html.h"

static void frame(FILE *f, const struct gp_report_frame *fr)
{
    fputs("<code>", f);
    gp_report_html_esc(f, fr->function);
    fputs("</code> ", f);
    if (fr->file) {
        gp_report_html_esc(f, fr->file);
        fprintf(f, ":%" PRIu32, fr->line);
    } else if (fr->module) {
        gp_report_html_esc(f, fr->module);
        fprintf(f, "+0x%" PRIx64, fr->offset);
    } else {
        fprintf(f, "0x%" PRIx64, fr->ip);
    }
}

int gp_report_html_stack_cell(FILE *f, struct gp_report *r, uint32_t stack, int skip_shim)
{
    static struct gp_report_frame fr[GP_TRACE_MAX_FRAMES];
    int n = gp_report_symbolize_stack(r->sym, stack, fr, GP_TRACE_MAX_FRAMES), skip = 0;
    if (n < 0)
        return n;
    while (skip_shim && skip < n && gp_report_frame_is_shim(&fr[skip]))
        skip++;
    fputs("<td>", f);
    if (n - skip <= 0) {
        fputs("(no stack recorded)</td>", f);
        return 0;
    }
    fputs("<details><summary>", f);
    frame(f, &fr[skip]);
    fputs("</summary><ol>", f);
    for (int i = skip + 1; i < n; i++) {
        fputs("<li>", f);
        frame(f, &fr[i]);
        fputs("</li>", f);
    }
    fputs("</ol></details></td>", f);
    return 0;
}

static int stack_cell(FILE *f, struct gp_report *r, uint32_t stack)
{
    return gp_report_html_stack_cell(f, r, stack, 0);
}

static int peak_table(FILE *f, struct gp_report *r)
{
    const struct gp_report_peak *p = &r->peak;
    char a[32], b[32];
    fprintf(f, "<h2>Peak device memory: %s at %s</h2>\n",
            gp_report_fmt_bytes(a, sizeof(a), p->bytes[GP_MEM_DEVICE]),
            gp_report_fmt_secs(b, sizeof(b), gp_report_model_rel_ns(r->model, p->time_ns[GP_MEM_DEVICE])));
    if (!p->sites.n) {
        fputs("<p>No call site held device memory.</p>\n", f);
        return 0;
    }
    fprintf(f, "<p>Call sites holding it, largest first (%zu of %zu).</p>\n", p->sites.n,
            p->sites.total_sites);
    fputs("<table class=\"sites\"><tr><th>bytes</th><th>allocations</th><th>call site</th></tr>\n", f);
    for (size_t i = 0; i < p->sites.n; i++) {
        fprintf(f, "<tr><td class=\"n\">%s</td><td class=\"n\">%" PRIu64 "</td>",
                gp_report_fmt_bytes(a, sizeof(a), p->sites.v[i].bytes), p->sites.v[i].count);
        int rc = stack_cell(f, r, p->sites.v[i].stack);
        if (rc < 0)
            return rc;
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    return 0;
}

/* Live sites as a nested table (the OOM's forensics). */
static int sites_table(FILE *f, struct gp_report *r, const struct gp_report_site_list *l,
                       const char *bytes_head, const char *count_head, const char *stack_head)
{
    char a[32];
    if (!l->n)
        return 0;
    fprintf(f, "<table class=\"sites\"><tr><th>%s</th><th>%s</th><th>%s</th></tr>\n", bytes_head,
            count_head, stack_head);
    for (size_t k = 0; k < l->n; k++) {
        fprintf(f, "<tr><td class=\"n\">%s</td><td class=\"n\">%" PRIu64 "</td>",
                gp_report_fmt_bytes(a, sizeof(a), l->v[k].bytes), l->v[k].count);
        int rc = stack_cell(f, r, l->v[k].stack);
        if (rc < 0)
            return rc;
        fputs("</tr>\n", f);
    }
    if (l->total_sites > l->n)
        fprintf(f, "<tr><td colspan=\"3\">... %zu more sites</td></tr>\n", l->total_sites - l->n);
    fputs("</table>\n", f);
    return 0;
}

static int oom_table(FILE *f, struct gp_report *r)
{
    const struct gp_report_oom *o = &r->oom;
    char a[32], b[32], c[32], d[32];
    fprintf(f, "<h2>Out of memory: %" PRIu64 "</h2>\n", o->total);
    if (!o->n)
        return 0;
    fputs("<table class=\"oom\"><tr><th>time</th><th>API</th><th>device</th><th>asked for</th>"
          "<th>held (traced)</th><th>device free / total</th><th>call site</th></tr>\n", f);
    for (size_t i = 0; i < o->n; i++) {
        const struct gp_report_oom_event *e = &o->v[i];
        fprintf(f, "<tr><td class=\"n\">%s</td><td>", gp_report_fmt_secs(a, sizeof(a),
                                                   gp_report_model_rel_ns(r->model, e->time_ns)));
        gp_report_html_esc(f, gp_trace_api_name(e->api));
        fprintf(f, "</td><td class=\"n\">%" PRId32 "</td><td class=\"n\">%s</td><td class=\"n\">%s"
                   "</td><td class=\"n\">%s / %s</td>", e->device,
                gp_report_fmt_bytes(b, sizeof(b), e->requested),
                gp_report_fmt_bytes(c, sizeof(c), e->live_bytes),
                gp_report_fmt_bytes(d, sizeof(d), e->device_free),
                gp_report_fmt_bytes(a, sizeof(a), e->device_total));
        int rc = stack_cell(f, r, e->stack);
        if (rc < 0)
            return rc;
        fputs("</tr>\n", f);
        if (!e->sites.n)
            continue;
        fputs("<tr><td colspan=\"7\">Live device memory by call site:\n", f);
        if ((rc = sites_table(f, r, &e->sites, "live bytes", "allocations", "call site")) < 0)
            return rc;
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    if (o->total > o->n)
        fprintf(f, "<p>... %" PRIu64 " more OOM events not shown.</p>\n", o->total - o->n);
    return 0;
}

static const char *const kind_label[GP_MEM_KIND_COUNT] = {
    [GP_MEM_DEVICE] = "device",
    [GP_MEM_MANAGED] = "managed",
    [GP_MEM_HOST_PINNED] = "pinned host",
    [GP_MEM_PHYSICAL] = "physical (cuMemCreate, part of device)",
    [GP_MEM_ADDRESS_RANGE] = "reserved address space (no memory)",
    [GP_MEM_MAPPING] = "mapped (cuMemMap)",
};

/* What was still held at exit, per memory kind, with the largest sites. */
static int leak_tables(FILE *f, struct gp_report *r)
{
    char a[32];
    fputs("<h2>Memory still held at exit</h2>\n<table class=\"leaks\"><tr><th>memory</th>"
          "<th>bytes</th><th>allocations</th><th>sites</th></tr>\n", f);
    for (unsigned k = 0; k < GP_MEM_KIND_COUNT; k++) {
        const struct gp_report_site_list *l = &r->leaks.kind[k];
        if (k > GP_MEM_HOST_PINNED && !l->total_sites)
            continue;
        fprintf(f, "<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%" PRIu64 "</td>"
                   "<td class=\"n\">%zu</td></tr>\n", kind_label[k],
                gp_report_fmt_bytes(a, sizeof a, l->total_bytes), l->total_count, l->total_sites);
        if (!l->n)
            continue;
        fputs("<tr><td colspan=\"4\">", f);
        int rc = sites_table(f, r, l, "bytes", "allocations", "call site");
        if (rc < 0)
            return rc;
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    return 0;
}

static const char *bytes_or(char *buf, size_t len, int known, uint64_t v)
{
    if (!known) {
        snprintf(buf, len, "unknown");
        return buf;
    }
    return gp_report_fmt_bytes(buf, len, v);
}

static const char *setting(int v, const char *on, const char *off)
{
    return v < 0 ? "unknown" : v ? on : off;
}

static void torch_summary(FILE *f, const struct gp_report_torch *t)
{
    char a[32], b[32], c[32], d[32], e[32];
    fputs("<h2>PyTorch memory</h2>\n<p>Allocated = in tensors, reserved = PyTorch's cached "
          "segments. ", f);
    if (t->torch_version)
        fprintf(f, "torch %u.%u.%u, ", t->torch_version / 10000, t->torch_version / 100 % 100,
                t->torch_version % 100);
    fprintf(f, "allocator %s, expandable_segments %s; %" PRIu64 " allocator events.</p>\n",
            setting(t->backend_async, "cudaMallocAsync", "native"),
            setting(t->expandable, "on", "off"), t->events);
    fputs("<table class=\"torch\"><tr><th>device</th><th>allocated peak</th><th>reserved peak</th>"
          "<th>fragmentation peak</th><th>allocated / reserved at the end</th></tr>\n", f);
    for (unsigned i = 0; i < GP_REPORT_TORCH_DEVICES; i++)
        if (t->dev[i].used)
            fprintf(f, "<tr><td class=\"n\">%u</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                       "<td class=\"n\">%s</td><td class=\"n\">%s / %s</td></tr>\n", i,
                    gp_report_fmt_bytes(a, sizeof(a), t->dev[i].allocated_peak),
                    gp_report_fmt_bytes(b, sizeof(b), t->dev[i].segments_peak),
                    gp_report_fmt_bytes(c, sizeof(c), t->dev[i].frag_peak),
                    gp_report_fmt_bytes(d, sizeof(d), t->dev[i].allocated),
                    gp_report_fmt_bytes(e, sizeof(e), t->dev[i].segments));
    fputs("</table>\n", f);
    if (t->history_lost)
        fprintf(f, "<div class=\"warn\">Warning: the adapter missed %" PRIu64 " allocator events "
                   "(history_lost).</div>\n", t->history_lost);
}

/* One PyTorch OOM's numbers as a key/value table, its live blocks and the advice. */
static int torch_oom(FILE *f, struct gp_report *r, size_t i)
{
    const struct gp_report_torch_oom *o = &r->torch.ooms[i];
    char a[32], b[32], s[48];
    fprintf(f, "<h3>OOM %zu at %s on device %" PRId32 ": %s</h3>\n", i + 1,
            gp_report_fmt_secs(s, sizeof(s), gp_report_model_rel_ns(r->model, o->time_ns)), o->device,
            o->fatal ? "fatal (the process died of it)"
            : o->recovered ? "recovered (PyTorch allocated again afterwards)"
                           : "not followed by more allocations");
    fputs("<table class=\"kv torch-oom\">\n", f);
    fprintf(f, "<tr><th>request</th><td class=\"n\">%s</td></tr>\n",
            gp_report_fmt_bytes(a, sizeof(a), o->request));
    fprintf(f, "<tr><th>segment tried</th><td class=\"n\">%s</td></tr>\n",
            bytes_or(a, sizeof(a), o->have & GP_TORCH_HAVE_SEGMENT, o->segment_request));
    fprintf(f, "<tr><th>device free / total</th><td class=\"n\">%s / %s</td></tr>\n",
            bytes_or(a, sizeof(a), o->have & GP_TORCH_HAVE_FREE, o->device_free),
            bytes_or(b, sizeof(b), o->have & GP_TORCH_HAVE_TOTAL, o->device_total));
    fprintf(f, "<tr><th>PyTorch allocated / reserved</th><td class=\"n\">%s / %s</td></tr>\n",
            gp_report_fmt_bytes(a, sizeof(a), o->allocated), gp_report_fmt_bytes(b, sizeof(b), o->reserved));
    fprintf(f, "<tr><th>inactive split / largest free block</th><td class=\"n\">%s / %s</td></tr>\n",
            bytes_or(a, sizeof(a), o->have & GP_TORCH_HAVE_INACTIVE, o->inactive_split),
            bytes_or(b, sizeof(b), o->have & GP_TORCH_HAVE_LARGEST, o->largest_free));
    fprintf(f, "<tr><th>process held / outside PyTorch</th><td class=\"n\">%s / %s</td></tr>\n",
            gp_report_fmt_bytes(a, sizeof(a), o->process_device),
            gp_report_fmt_bytes(b, sizeof(b), o->non_torch));
    fprintf(f, "<tr><th>other processes</th><td class=\"n\">%s</td></tr>\n",
            bytes_or(a, sizeof(a), o->have & GP_TORCH_HAVE_OTHER, o->other_processes));
    fprintf(f, "<tr><th>allocated growth before</th><td class=\"n\">%s in %s</td></tr>\n",
            gp_report_fmt_bytes(a, sizeof(a), o->growth_bytes),
            gp_report_fmt_secs(s, sizeof(s), o->growth_ns));
    fputs("<tr><th>failing allocation</th>", f);
    int rc = stack_cell(f, r, o->stack);
    if (rc < 0)
        return rc;
    fputs("</tr>\n</table>\n", f);
    if ((rc = sites_table(f, r, &o->sites, "live bytes", "blocks", "Python stack")) < 0)
        return rc;
    if (o->nadvice)
        fputs("<p>Advice:</p>\n<ol class=\"advice\">", f);
    for (size_t k = 0; k < o->nadvice; k++) {
        fputs("<li>", f);
        gp_report_html_esc(f, o->advice[k].text);
        fputs("</li>", f);
    }
    if (o->nadvice)
        fputs("</ol>\n", f);
    return 0;
}

/* PyTorch's allocator (analysis_torch.c): only when the adapter ran. */
static int torch_tables(FILE *f, struct gp_report *r)
{
    const struct gp_report_torch *t = &r->torch;
    if (!t->present)
        return 0;
    torch_summary(f, t);
    if (!t->ooms_total)
        return 0;
    fprintf(f, "<h2>Out of memory (PyTorch): %" PRIu64 "</h2>\n", t->ooms_total);
    for (size_t i = 0; i < t->nooms; i++) {
        int rc = torch_oom(f, r, i);
        if (rc < 0)
            return rc;
    }
    if (t->ooms_total > t->nooms)
        fprintf(f, "<p>... %" PRIu64 " more OOM events not shown.</p>\n", t->ooms_total - t->nooms);
    return 0;
}

static const char *kernel_name(const struct gp_report *r, uint32_t id)
{
    return id ? gp_trace_reader_string(r->model->reader, id) : NULL;
}

/* A kernel's name, demangled when it can be, in <code>. */
static void kernel_code(FILE *f, const struct gp_report *r, uint32_t id)
{
    const char *raw = kernel_name(r, id);
    char *dm = raw ? gp_report_demangle(raw) : NULL;
    fputs("<code>", f);
    gp_report_html_esc(f, dm ? dm : raw ? raw : "(unnamed kernel)");
    fputs("</code>", f);
    free(dm);
}

static void kernel_table(FILE *f, const struct gp_report *r)
{
    const struct gp_report_kernels *k = &r->kernels;
    char a[32], b[32];
    if (!k->ntop)
        return;
    fprintf(f, "<h2>Top kernels by GPU time (%zu of %zu)</h2>\n", k->ntop, k->distinct);
    fprintf(f, "<p>%" PRIu64 " kernels, %s of GPU time; GPU busy %.1f %% of %s.</p>\n", k->kernels,
            gp_report_fmt_secs(a, sizeof(a), k->gpu_time_ns),
            k->wall_ns ? 100.0 * (double)k->busy_ns / (double)k->wall_ns : 0.0,
            gp_report_fmt_secs(b, sizeof(b), k->wall_ns));
    fputs("<table class=\"kernels\"><tr><th>kernel</th><th>calls</th><th>total</th>"
          "<th>mean</th></tr>\n", f);
    for (size_t i = 0; i < k->ntop; i++) {
        const struct gp_report_kernel_stat *s = &k->top[i];
        fputs("<tr><td>", f);
        kernel_code(f, r, s->name_id);
        fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td></tr>\n", s->calls,
                gp_report_fmt_secs(a, sizeof(a), s->total_ns),
                gp_report_fmt_secs(b, sizeof(b), s->calls ? s->total_ns / s->calls : 0));
    }
    fputs("</table>\n", f);
}

int gp_report_html_tables(FILE *f, struct gp_report *r)
{
    int rc = peak_table(f, r);
    if (rc == 0)
        rc = leak_tables(f, r);
    if (rc == 0)
        rc = oom_table(f, r);
    if (rc == 0)
        rc = torch_tables(f, r);
    if (rc < 0)
        return rc;
    kernel_table(f, r);
    return gp_report_html_tensor(f, r);
}
