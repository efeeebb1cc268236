/* pyintern.h — the trace writer's tables for Python frames (internal to trace/ and its
 * tests): the owner's frame keys -> PYFRAME ids, and frame contents (file and function
 * string ids, line) -> PYFRAME ids, so a location is written once however many keys name
 * it. One small open-addressed map type serves both. */
#ifndef GP_TRACE_PYINTERN_H
#define GP_TRACE_PYINTERN_H

#include <stdint.h>

struct gp_trace_pyslot {
    uint64_t a, b; /* the key */
    uint32_t id;   /* 0 = empty slot */
};

struct gp_trace_pymap {
    struct gp_trace_pyslot *slots; /* NULL until the first put */
    uint32_t mask;
    uint32_t count;
};

/* The id stored for (a, b), or 0. */
uint32_t gp_trace_pymap_find(const struct gp_trace_pymap *m, uint64_t a, uint64_t b);
/* Stores id (non-zero) for a key known to be absent. 0 or -ENOMEM. */
int gp_trace_pymap_put(struct gp_trace_pymap *m, uint64_t a, uint64_t b, uint32_t id);
void gp_trace_pymap_free(struct gp_trace_pymap *m);

#endif
