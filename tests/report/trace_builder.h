/* trace_builder.h — writes small synthetic traces with the real trace writer, for the
 * report tests: made-up instruction pointers and modules, times relative to a fixed
 * start (TB_T0), and helpers for the events the report cares about. */
#ifndef GP_TEST_TRACE_BUILDER_H
#define GP_TEST_TRACE_BUILDER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "gp_trace.h"

#define TB_T0 UINT64_C(5000000000) /* the header's monotonic_ns */

struct tb {
    struct gp_trace_writer *w;
    int fd;
    char path[PATH_MAX];
};

/* A stack, innermost first. */
struct tb_stack {
    size_t n;
    uint64_t ips[8];
};

void tb_header_defaults(struct gp_trace_header *h);
/* Creates a temporary trace file; hdr NULL = defaults. 0 or negative errno. */
int tb_open(struct tb *tb, const struct gp_trace_header *hdr);
/* Same, at path (replaced if it exists). */
int tb_open_path(struct tb *tb, const char *path, const struct gp_trace_header *hdr);
/* Any event; st may be NULL. time is relative to TB_T0. */
int tb_event(struct tb *tb, uint8_t type, unsigned api, unsigned kind, int32_t result,
             uint64_t time, uint64_t size, uint64_t ptr, uint64_t aux1, uint64_t aux2,
             const struct tb_stack *st);
int tb_alloc(struct tb *tb, uint64_t time, unsigned kind, uint64_t ptr, uint64_t size,
             const struct tb_stack *st);
int tb_free(struct tb *tb, uint64_t time, uint64_t ptr);
int tb_oom(struct tb *tb, uint64_t time, uint64_t size, uint64_t dev_free, uint64_t dev_total,
           const struct tb_stack *st);
/* Writes END and closes: a complete trace. */
int tb_close(struct tb *tb);
/* Flushes and stops without END: a truncated trace. */
int tb_cut(struct tb *tb);
void tb_remove(struct tb *tb);

#endif
