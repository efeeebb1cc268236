/* view_html.c — one self-contained HTML page to share (--html FILE): the page itself (a
 * Content-Security-Policy that forbids scripts and any external resource), the run, its
 * environment with the driver check made prominent, then the plots (view_html_plot.c) and
 * the tables of the text report (view_html_tables.c). Every string from the trace is
 * HTML-escaped, with invalid UTF-8 and control characters shown as '?'. docs/views.md
 * describes the page. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "view_html.h"

void gp_report_html_esc(FILE *f, const char *s)
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

void gp_report_html_begin(FILE *f, const char *title, const char *name, const char *heading)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n<title>", f);
    fputs(title, f);
    gp_report_html_esc(f, name);
    fputs("</title>\n<style>\n"
          "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}\n"
          "table{border-collapse:collapse;margin:.5em 0}\n"
          "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\n"
          "td.n{text-align:right;white-space:nowrap}\n"
          "table.kv th{background:#f4f4f4}\n"
          "svg text{font-size:12px;fill:#333}\nsvg text.lbl{fill:#fff;font-size:11px}\n"
          "code{word-break:break-all}\n"
          ".warn{background:#fdecea;border:2px solid #d62728;padding:.5em 1em;margin:1em 0;"
          "font-weight:bold}\n"
          ".note{color:#555}\n"
          "</style>\n</head>\n<body>\n<h1>", f);
    fputs(heading, f);
    fputs("</h1>\n", f);
}

void gp_report_html_end(FILE *f)
{
    fputs("</body>\n</html>\n", f);
}

static void row(FILE *f, const char *key, const char *value)
{
    fprintf(f, "<tr><th>%s</th><td>", key);
    gp_report_html_esc(f, value);
    fputs("</td></tr>\n", f);
}

static void run_table(FILE *f, const struct gp_report *r)
{
    const struct gp_report_model *m = r->model;
    char buf[64], day[40];
    fputs("<h2>Run</h2>\n<table class=\"kv run\">\n", f);
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
    snprintf(buf, sizeof(buf), "%" PRIu64 " allocations, %" PRIu64 " frees, %" PRIu64 " failed",
             m->counts.allocs, m->counts.frees, m->counts.failed_allocs);
    row(f, "Events", buf);
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

static const char *info(const struct gp_report *r, const char *key)
{
    return gp_report_model_info(r->model, key);
}

/* The environment as INFO records state it (view_env.c prints the same for the text view). */
static void env_table(FILE *f, const struct gp_report *r)
{
    char a[48], key[64];
    const char *drv = info(r, "cuda.driver_version"), *rt = info(r, "cuda.runtime_version");
    const char *count = info(r, "gpu.count");
    unsigned ngpus = count && *count >= '0' && *count <= '9' ? (unsigned)strtoul(count, NULL, 10) : 0;
    ngpus = ngpus > 16 ? 16 : ngpus;
    uint32_t tv = r->torch.torch_version;
    static const char *const libs[][2] = {
        {"cublas.version", "cuBLAS"}, {"cudnn.version", "cuDNN"}, {"nccl.version", "NCCL"}};
    fputs("<h2>Environment</h2>\n", f);
    if (!drv && !rt && !ngpus && !tv && !info(r, "nvidia.kernel_driver") &&
        !info(r, libs[0][0]) && !info(r, libs[1][0]) && !info(r, libs[2][0])) {
        fputs("<p class=\"note\">The trace does not record the environment (an older trace, or "
              "CUDA never answered).</p>\n", f);
        return;
    }
    fputs("<table class=\"kv env\">\n", f);
    for (unsigned i = 0; i < ngpus; i++) {
        const char *name, *mem, *cc;
        snprintf(key, sizeof key, "gpu.%u.name", i);
        name = info(r, key);
        snprintf(key, sizeof key, "gpu.%u.memory_bytes", i);
        mem = info(r, key);
        snprintf(key, sizeof key, "gpu.%u.compute_capability", i);
        cc = info(r, key);
        fprintf(f, "<tr><th>GPU %u</th><td>", i);
        gp_report_html_esc(f, name ? name : "?");
        if (mem && *mem >= '0' && *mem <= '9')
            fprintf(f, ", %s", gp_report_fmt_bytes(a, sizeof a, strtoull(mem, NULL, 10)));
        if (cc) {
            fputs(", compute capability ", f);
            gp_report_html_esc(f, cc);
        }
        fputs("</td></tr>\n", f);
    }
    if (drv)
        row(f, "CUDA driver supports", gp_report_env_cuda_version(a, sizeof a, drv) ? a : drv);
    if (rt)
        row(f, "CUDA runtime", gp_report_env_cuda_version(a, sizeof a, rt) ? a : rt);
    else if (drv)
        row(f, "CUDA runtime", "? (static or not found)");
    row(f, "NVIDIA driver", info(r, "nvidia.kernel_driver"));
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
        if (info(r, libs[i][0]))
            row(f, libs[i][1], info(r, libs[i][0]));
    if (tv) {
        snprintf(a, sizeof a, "%u.%u.%u", tv / 10000, tv / 100 % 100, tv % 100);
        row(f, "PyTorch", a);
    }
    fputs("</table>\n", f);
}

/* What must not be missed, above everything else: the driver check, an incomplete trace. */
static void warnings(FILE *f, const struct gp_report *r)
{
    const struct gp_report_health *h = &r->model->health;
    char warn[400];
    if (gp_report_env_driver_check(r->model, warn, sizeof warn)) {
        fputs("<div class=\"warn\" id=\"driver-warning\">Warning: ", f);
        gp_report_html_esc(f, warn);
        fputs("</div>\n", f);
    }
    if (h->dropped_events)
        fprintf(f, "<div class=\"warn\">Warning: %" PRIu64 " events were dropped while "
                   "profiling; the figures below may be incomplete.</div>\n", h->dropped_events);
    if (h->truncated)
        fprintf(f, "<div class=\"warn\">Warning: the trace is truncated (%" PRIu64 " records "
                   "read); this page covers what was read.</div>\n", h->records);
}

int gp_report_view_html_window(FILE *f, struct gp_report *r, const struct gp_report_window *win)
{
    const struct gp_report_run *run = &r->model->run;
    gp_report_html_begin(f, "gpuprof report: ", run->label && run->label[0] ? run->label : run->exe,
                         "gpuprof report");
    warnings(f, r);
    run_table(f, r);
    env_table(f, r);
    gp_report_html_memory_plot(f, r);
    int rc = gp_report_html_timeline(f, r, win);
    if (rc == 0)
        rc = gp_report_html_tables(f, r);
    gp_report_html_end(f);
    if (rc == 0 && ferror(f))
        rc = -EIO;
    return rc;
}

int gp_report_view_html(FILE *f, struct gp_report *r)
{
    return gp_report_view_html_window(f, r, NULL);
}
