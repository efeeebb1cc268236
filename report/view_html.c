/* view_html.c — one self-contained HTML page to share (--html FILE): the run, the device
 * memory plot drawn here as inline SVG (no gnuplot), the call sites at the peak, every OOM
 * and the top kernels. No scripts, no external resources (a Content-Security-Policy says
 * so to the browser); every string from the trace is HTML-escaped, with invalid UTF-8 and
 * control characters shown as '?'. docs/views.md describes it. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

#define PLOT_W 860
#define PLOT_H 300
#define PLOT_L 80 /* left margin, for the axis labels */
#define PLOT_B 30 /* bottom margin */

/* s as HTML text or attribute content. */
static void esc(FILE *f, const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = gp_report_utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (len == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
            fputc('?', f);
            i += len ? len : 1;
            continue;
        }
        switch (cp) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fwrite(s + i, 1, len, f);
        }
        i += len;
    }
}

static void row(FILE *f, const char *key, const char *value)
{
    fprintf(f, "<tr><th>%s</th><td>", key);
    esc(f, value);
    fputs("</td></tr>\n", f);
}

static void frame(FILE *f, const struct gp_report_frame *fr)
{
    fputs("<code>", f);
    esc(f, fr->function);
    fputs("</code> ", f);
    if (fr->file) {
        esc(f, fr->file);
        fprintf(f, ":%" PRIu32, fr->line);
    } else if (fr->module) {
        esc(f, fr->module);
        fprintf(f, "+0x%" PRIx64, fr->offset);
    } else {
        fprintf(f, "0x%" PRIx64, fr->ip);
    }
}

/* The innermost frame, the rest folded away. */
static int stack_cell(FILE *f, struct gp_report *r, uint32_t stack)
{
    struct gp_report_frame fr[GP_TRACE_MAX_FRAMES];
    int n = gp_report_symbolize_stack(r->sym, stack, fr, GP_TRACE_MAX_FRAMES);
    if (n < 0)
        return n;
    fputs("<td>", f);
    if (n == 0) {
        fputs("(no stack recorded)</td>", f);
        return 0;
    }
    fputs("<details><summary>", f);
    frame(f, &fr[0]);
    fputs("</summary><ol>", f);
    for (int i = 1; i < n; i++) {
        fputs("<li>", f);
        frame(f, &fr[i]);
        fputs("</li>", f);
    }
    fputs("</ol></details></td>", f);
    return 0;
}

static void run_table(FILE *f, const struct gp_report *r)
{
    const struct gp_report_model *m = r->model;
    char buf[64], day[40];
    fputs("<h2>Run</h2>\n<table class=\"kv\">\n", f);
    snprintf(buf, sizeof(buf), "%" PRIu32, m->run.pid);
    row(f, "Process", buf);
    row(f, "Host", m->run.host);
    row(f, "Executable", m->run.exe);
    row(f, "Command line", m->run.cmdline);
    row(f, "Label", m->run.label);
    time_t t = (time_t)(m->run.realtime_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&t, &tm) && strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S UTC", &tm))
        row(f, "Started", day);
    row(f, "Duration", gp_report_fmt_secs(buf, sizeof(buf), gp_report_model_rel_ns(m, m->run.last_ns)));
    if (m->device_total_bytes)
        row(f, "Device memory", gp_report_fmt_bytes(buf, sizeof(buf), m->device_total_bytes));
    const struct gp_report_kernels *k = &r->kernels;
    if (k->have_status) {
        snprintf(buf, sizeof(buf), "%s (CUPTI %" PRIu32 ")", gp_report_act_state_name(k->status.state),
                 k->status.version);
        row(f, "GPU activity", buf);
        if (k->status.reason)
            row(f, "GPU activity note", k->status.reason);
    }
    if (m->health.truncated)
        row(f, "Trace", "truncated: the program did not exit cleanly; showing what was read");
    fputs("</table>\n", f);
}

static uint64_t px(uint64_t v, uint64_t max, uint64_t span)
{
    return max ? (uint64_t)((double)v / (double)max * (double)span) : 0;
}

/* Last bucket in use of a series (SIZE_MAX when none). */
static size_t last_bucket(const struct gp_report_series *s)
{
    size_t last = SIZE_MAX;
    for (size_t i = 0; s && i < GP_REPORT_SERIES_BUCKETS; i++)
        if (s->b[i].used || s->b[i].oom)
            last = i;
    return last;
}

struct plot_box {
    uint64_t tmax, ymax, w, h;
};
#define X(t) (PLOT_L + px((t), box->tmax, box->w))
#define Y(v) (10 + box->h - px((v), box->ymax, box->h))

/* A step line through each bucket's max and last value, downsampled per bucket so a short
 * spike still shows. A band is closed down to zero (filled under the line). */
static void step_points(FILE *f, const struct plot_box *box, const struct gp_report_series *s,
                        int band)
{
    uint64_t prev = 0;
    fprintf(f, "%" PRIu64 ",%" PRIu64, X(0), Y(0));
    for (size_t i = 0; i < GP_REPORT_SERIES_BUCKETS; i++) {
        const struct gp_report_bucket *bk = &s->b[i];
        if (!bk->used)
            continue;
        uint64_t t0 = i * s->width_ns, t1 = t0 + s->width_ns;
        if (t1 > box->tmax)
            t1 = box->tmax;
        fprintf(f, " %" PRIu64 ",%" PRIu64 " %" PRIu64 ",%" PRIu64 " %" PRIu64 ",%" PRIu64, X(t0),
                Y(prev), X(t0), Y(bk->max), X(t1), Y(bk->last));
        prev = bk->last;
    }
    fprintf(f, " %" PRIu64 ",%" PRIu64, X(box->tmax), Y(prev));
    if (band)
        fprintf(f, " %" PRIu64 ",%" PRIu64, X(box->tmax), Y(0));
    fputs("\"/>\n", f);
}

static void oom_marks(FILE *f, const struct plot_box *box, const struct gp_report_series *s,
                      const char *cls, const char *what)
{
    char a[32];
    for (size_t i = 0; i < GP_REPORT_SERIES_BUCKETS; i++) {
        if (!s->b[i].oom)
            continue;
        fprintf(f, "<circle class=\"%s\" cx=\"%" PRIu64 "\" cy=\"%" PRIu64 "\" r=\"5\" "
                   "fill=\"#d62728\"><title>OOM with %s %s</title></circle>\n",
                cls, X(i * s->width_ns), Y(s->b[i].oom_live),
                gp_report_fmt_bytes(a, sizeof(a), s->b[i].oom_live), what);
    }
}

/* Device memory held over time from the bounded series: the process's reserved memory as a
 * step line, red marks at OOMs, the device total dashed when known; with PyTorch's adapter
 * also PyTorch's allocated bytes (green), memory outside PyTorch as a shaded band and
 * PyTorch's OOMs at its allocated level. */
static void plot(FILE *f, const struct gp_report *r)
{
    const struct gp_report_series *s = r->timeline.series;
    const struct gp_report_model *m = r->model;
    const struct gp_report_torch *t = &r->torch;
    const struct gp_report_series *al = t->present ? t->allocated_series : NULL;
    const struct gp_report_series *nt = t->present ? t->non_torch_series : NULL;
    char a[32], b[32];
    fputs("<h2>Device memory over time</h2>\n", f);
    size_t last = last_bucket(s);
    if (last == SIZE_MAX) {
        fputs("<p>No device memory was allocated.</p>\n", f);
        return;
    }
    struct plot_box bx = { .tmax = (last + 1) * s->width_ns, .w = PLOT_W - PLOT_L - 10,
                           .h = PLOT_H - PLOT_B - 10 };
    const struct plot_box *box = &bx;
    uint64_t end = gp_report_model_rel_ns(m, m->run.last_ns);
    if (end > bx.tmax)
        bx.tmax = end;
    uint64_t total = m->device_total_bytes > t->device_total_bytes ? m->device_total_bytes
                                                                   : t->device_total_bytes;
    bx.ymax = s->max_value > total ? s->max_value : total;
    const struct gp_report_series *all[] = { s, al, nt };
    for (size_t k = 0; k < 3; k++) {
        size_t l = last_bucket(all[k]);
        if (l == SIZE_MAX)
            continue;
        if ((l + 1) * all[k]->width_ns > bx.tmax && k > 0)
            bx.tmax = (l + 1) * all[k]->width_ns;
        if (all[k]->max_value > bx.ymax)
            bx.ymax = all[k]->max_value;
        for (size_t i = 0; i <= l; i++)
            if (all[k]->b[i].oom && all[k]->b[i].oom_live > bx.ymax)
                bx.ymax = all[k]->b[i].oom_live;
    }
    if (!bx.ymax)
        bx.ymax = 1;
    fprintf(f, "<svg class=\"plot\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
               "aria-label=\"device memory held over time\">\n", PLOT_W, PLOT_H, PLOT_W, PLOT_H);
    fprintf(f, "<rect x=\"%d\" y=\"10\" width=\"%" PRIu64 "\" height=\"%" PRIu64
               "\" fill=\"#fafafa\" stroke=\"#999\"/>\n", PLOT_L, bx.w, bx.h);
    fprintf(f, "<text x=\"%d\" y=\"16\" text-anchor=\"end\">%s</text>\n", PLOT_L - 4,
            gp_report_fmt_bytes(a, sizeof(a), bx.ymax));
    fprintf(f, "<text x=\"%d\" y=\"%" PRIu64 "\" text-anchor=\"end\">0</text>\n", PLOT_L - 4, 10 + bx.h);
    fprintf(f, "<text x=\"%d\" y=\"%d\">0 s</text>\n", PLOT_L, PLOT_H - 8);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", PLOT_W - 10, PLOT_H - 8,
            gp_report_fmt_secs(b, sizeof(b), bx.tmax));
    if (total)
        fprintf(f, "<line class=\"total\" x1=\"%d\" x2=\"%" PRIu64 "\" y1=\"%" PRIu64 "\" y2=\"%"
                   PRIu64 "\" stroke=\"#555\" stroke-dasharray=\"6 4\"><title>device total %s"
                   "</title></line>\n", PLOT_L, PLOT_L + bx.w, Y(total), Y(total),
                gp_report_fmt_bytes(a, sizeof(a), total));
    if (nt && last_bucket(nt) != SIZE_MAX) {
        fputs("<polyline class=\"nontorch\" fill=\"#ff7f0e\" fill-opacity=\"0.3\" "
              "stroke=\"none\" points=\"", f);
        step_points(f, box, nt, 1);
    }
    fputs("<polyline class=\"memory\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" "
          "points=\"", f);
    step_points(f, box, s, 0);
    if (al && last_bucket(al) != SIZE_MAX) {
        fputs("<polyline class=\"allocated\" fill=\"none\" stroke=\"#2ca02c\" "
              "stroke-width=\"1.5\" points=\"", f);
        step_points(f, box, al, 0);
    }
    oom_marks(f, box, s, "oom", "held");
    if (al)
        oom_marks(f, box, al, "torch-oom", "allocated by PyTorch");
    fputs("</svg>\n", f);
    if (al)
        fputs("<p>Blue: device memory the process held (reserved). Green: allocated by PyTorch "
              "(in tensors). Shaded: held outside PyTorch's allocator. Dashed: device total.</p>\n", f);
}
#undef X
#undef Y

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
        esc(f, gp_trace_api_name(e->api));
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

/* PyTorch's allocator (analysis_torch.c): peaks per device, then each OOM with its numbers,
 * the live blocks by Python stack and the advice. Only when the adapter ran. */
static int torch_tables(FILE *f, struct gp_report *r)
{
    const struct gp_report_torch *t = &r->torch;
    char a[32], b[32], c[32], d[32];
    if (!t->present)
        return 0;
    fputs("<h2>PyTorch memory</h2>\n<table class=\"torch\"><tr><th>device</th>"
          "<th>allocated peak</th><th>reserved peak</th><th>fragmentation peak</th></tr>\n", f);
    for (unsigned i = 0; i < GP_REPORT_TORCH_DEVICES; i++)
        if (t->dev[i].used)
            fprintf(f, "<tr><td class=\"n\">%u</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                       "<td class=\"n\">%s</td></tr>\n", i,
                    gp_report_fmt_bytes(a, sizeof(a), t->dev[i].allocated_peak),
                    gp_report_fmt_bytes(b, sizeof(b), t->dev[i].segments_peak),
                    gp_report_fmt_bytes(c, sizeof(c), t->dev[i].frag_peak));
    fputs("</table>\n", f);
    if (!t->ooms_total)
        return 0;
    fprintf(f, "<h2>Out of memory (PyTorch): %" PRIu64 "</h2>\n", t->ooms_total);
    fputs("<table class=\"torch-oom\"><tr><th>time</th><th>device</th><th>request</th>"
          "<th>allocated / reserved</th><th>device free / total</th><th>outside PyTorch</th>"
          "<th>outcome</th><th>failing allocation</th></tr>\n", f);
    for (size_t i = 0; i < t->nooms; i++) {
        const struct gp_report_torch_oom *o = &t->ooms[i];
        fprintf(f, "<tr><td class=\"n\">%s</td><td class=\"n\">%" PRId32 "</td>"
                   "<td class=\"n\">%s</td>",
                gp_report_fmt_secs(a, sizeof(a), gp_report_model_rel_ns(r->model, o->time_ns)),
                o->device, gp_report_fmt_bytes(b, sizeof(b), o->request));
        fprintf(f, "<td class=\"n\">%s / %s</td>", gp_report_fmt_bytes(a, sizeof(a), o->allocated),
                gp_report_fmt_bytes(b, sizeof(b), o->reserved));
        fprintf(f, "<td class=\"n\">%s / %s</td><td class=\"n\">%s</td><td>%s</td>",
                bytes_or(c, sizeof(c), o->have & GP_TORCH_HAVE_FREE, o->device_free),
                bytes_or(d, sizeof(d), o->have & GP_TORCH_HAVE_TOTAL, o->device_total),
                gp_report_fmt_bytes(a, sizeof(a), o->non_torch),
                o->fatal ? "fatal" : o->recovered ? "recovered" : "no more allocations");
        int rc = stack_cell(f, r, o->stack);
        if (rc < 0)
            return rc;
        fputs("</tr>\n", f);
        if (o->sites.n || o->nadvice)
            fputs("<tr><td colspan=\"8\">", f);
        if (o->sites.n)
            fputs("<table class=\"sites\"><tr><th>live bytes</th><th>blocks</th>"
                  "<th>Python stack</th></tr>\n", f);
        for (size_t k = 0; k < o->sites.n; k++) {
            fprintf(f, "<tr><td class=\"n\">%s</td><td class=\"n\">%" PRIu64 "</td>",
                    gp_report_fmt_bytes(a, sizeof(a), o->sites.v[k].bytes), o->sites.v[k].count);
            rc = stack_cell(f, r, o->sites.v[k].stack);
            if (rc < 0)
                return rc;
            fputs("</tr>\n", f);
        }
        if (o->sites.n)
            fputs("</table>\n", f);
        if (o->nadvice)
            fputs("<ol class=\"advice\">", f);
        for (size_t k = 0; k < o->nadvice; k++) {
            fputs("<li>", f);
            esc(f, o->advice[k].text);
            fputs("</li>", f);
        }
        if (o->nadvice)
            fputs("</ol>", f);
        if (o->sites.n || o->nadvice)
            fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    return 0;
}

static void kernel_table(FILE *f, const struct gp_report *r)
{
    const struct gp_report_kernels *k = &r->kernels;
    char a[32], b[32];
    if (!k->ntop)
        return;
    fprintf(f, "<h2>Top kernels by GPU time (%zu of %zu)</h2>\n", k->ntop, k->distinct);
    fputs("<table class=\"kernels\"><tr><th>kernel</th><th>calls</th><th>total</th>"
          "<th>mean</th></tr>\n", f);
    for (size_t i = 0; i < k->ntop; i++) {
        const struct gp_report_kernel_stat *s = &k->top[i];
        const char *raw = s->name_id ? gp_trace_reader_string(r->model->reader, s->name_id) : NULL;
        char *dm = raw ? gp_report_demangle(raw) : NULL;
        fputs("<tr><td><code>", f);
        esc(f, dm ? dm : raw ? raw : "(unnamed kernel)");
        free(dm);
        fprintf(f, "</code></td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td></tr>\n", s->calls,
                gp_report_fmt_secs(a, sizeof(a), s->total_ns),
                gp_report_fmt_secs(b, sizeof(b), s->calls ? s->total_ns / s->calls : 0));
    }
    fputs("</table>\n", f);
}

int gp_report_view_html(FILE *f, struct gp_report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n<title>gpuprof report: ", f);
    esc(f, r->model->run.label && r->model->run.label[0] ? r->model->run.label : r->model->run.exe);
    fputs("</title>\n<style>\n"
          "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}\n"
          "table{border-collapse:collapse;margin:.5em 0}\n"
          "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\n"
          "td.n{text-align:right;white-space:nowrap}\n"
          "table.kv th{background:#f4f4f4}\n"
          "svg.plot text{font-size:12px;fill:#333}\n"
          "code{word-break:break-all}\n"
          "</style>\n</head>\n<body>\n<h1>gpuprof report</h1>\n", f);
    run_table(f, r);
    plot(f, r);
    int rc = peak_table(f, r);
    if (rc == 0)
        rc = oom_table(f, r);
    if (rc == 0)
        rc = torch_tables(f, r);
    if (rc == 0)
        kernel_table(f, r);
    fputs("</body>\n</html>\n", f);
    if (rc == 0 && ferror(f))
        rc = -EIO;
    return rc;
}
