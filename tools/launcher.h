/* launcher.h — what the files of the `gpuprof` launcher share: finding the trace files a
 * run wrote (launcher_traces.c). */
#ifndef GP_LAUNCHER_H
#define GP_LAUNCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One trace file: its path and identity, so a file that existed before the run (or was
 * replaced during it) can be told apart from one the run created. */
struct gp_trace_file {
    char *path;
    dev_t dev;
    ino_t ino;
};

struct gp_trace_list {
    struct gp_trace_file *files;
    size_t count;
};

/* True when tmpl is a GPUPROF_OUTPUT template the shim accepts: only %p %h %r %% escapes,
 * not empty. */
bool gp_template_valid(const char *tmpl);

/* Lists the regular files matching the absolute template tmpl as the shim would expand it
 * (%p and %r any digits, %h this host), with or without the ".N" suffix the shim adds on a
 * name clash. Sorted by name, numbers in natural order. Returns 0 or -errno. */
int gp_traces_list(const char *tmpl, struct gp_trace_list *out);

/* Removes from now every file also in before (same path, same file). */
void gp_traces_subtract(struct gp_trace_list *now, const struct gp_trace_list *before);

void gp_traces_free(struct gp_trace_list *l);

#endif
