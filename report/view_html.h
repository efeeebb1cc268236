/* view_html.h — the single-file HTML report (--html, docs/views.md): the entry points
 * gpuprof-report's command line calls, and what the page's parts share. The page is split
 * by subject: view_html.c (page, run, environment), view_html_plot.c (memory plot and kernel
 * timeline as inline SVG), view_html_tables.c (the text report's tables), view_html_job.c
 * (several processes and the batch-size fit). Every trace string goes through
 * gp_report_html_esc. Errors are negative errno values; -EIO when writing failed. */
#ifndef GP_REPORT_VIEW_HTML_H
#define GP_REPORT_VIEW_HTML_H

#include "report.h"

/* One trace's page; win picks the kernel timeline's window as --plot-timeline does (NULL:
 * the default, the trace found among the open files). Needs options.timeline. */
int gp_report_view_html_window(FILE *f, struct gp_report *r, const struct gp_report_window *win);
/* The job page of several traces. fit: the batch-size fit of the traces (solved), or NULL;
 * fit_note: why there is no fit although the labels carry batch sizes, or NULL. */
int gp_report_view_html_job(FILE *f, const struct gp_report_multi *mu,
                            const struct gp_report_fit *fit, const char *fit_note);

/* ---- shared by the parts ---------------------------------------------------------- */
/* s as HTML text or attribute content: & < > " ' escaped, control characters and invalid
 * UTF-8 as '?'. NULL writes nothing. */
void gp_report_html_esc(FILE *f, const char *s);
/* <!DOCTYPE ...> to <h1>: the Content-Security-Policy, the style, the title (fixed text
 * title, then name escaped), the heading (fixed text). */
void gp_report_html_begin(FILE *f, const char *title, const char *name, const char *heading);
void gp_report_html_end(FILE *f);
/* A table cell with a stack: innermost frame (past the shim's own frames when skip_shim),
 * the rest folded in <details>. "view_html_tables.c" */
int gp_report_html_stack_cell(FILE *f, struct gp_report *r, uint32_t stack, int skip_shim);
/* "view_html_plot.c" */
void gp_report_html_memory_plot(FILE *f, const struct gp_report *r);
int gp_report_html_timeline(FILE *f, const struct gp_report *r, const struct gp_report_window *win);
/* "view_html_tables.c": peak sites, OOMs, PyTorch, top kernels, Tensor Cores. */
int gp_report_html_tables(FILE *f, struct gp_report *r);
/* "view_html_tensor.c": the Tensor Core section (nothing without GEMM calls or kernels). */
int gp_report_html_tensor(FILE *f, struct gp_report *r);
/* "view_html_fit.c": the fit's numbers, plot and runs. */
void gp_report_html_fit(FILE *f, const struct gp_report_fit *fit);

#endif
