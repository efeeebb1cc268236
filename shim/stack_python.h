/* stack_python.h — Python frames on events. When the process is CPython 3.9 to 3.13, each
 * event's stack also holds the calling thread's Python frames, read straight from the
 * interpreter's structures (no GIL, no reference counts, no call into Python) and turned
 * into keys that the writer thread resolves to file, function and line. See
 * stack_python.c for how, and docs/trace-format.md ("Python frames") for the format. */
#ifndef GP_SHIM_STACK_PYTHON_H
#define GP_SHIM_STACK_PYTHON_H

#include <string.h>

#include "internal.h"
#include "stack.h"

enum gp_py_mode { GP_PY_UNKNOWN = 0, GP_PY_INITING, GP_PY_ON, GP_PY_OFF };
extern GP_HIDDEN _Atomic int gp_py_mode;

/* Writes the calling thread's Python frames, innermost first, to the last n entries of
 * ips[0..depth) and returns n (at most max). Each entry is a key with GP_TRACE_PY_TAG set.
 * The first call finds the interpreter (or finds there is none, or it is off). */
GP_HIDDEN unsigned gp_py_capture(uint64_t *ips, unsigned depth, unsigned max);

/* A function named by the Python adapter (file, function: C strings, copied) for the
 * stacks it hands over: its table index (> 0; keys are GP_TRACE_PY_TAG | index << 32 |
 * line), or 0 when Python frames are off or the table is full. */
GP_HIDDEN uint32_t gp_py_register(const char *file, const char *function);

GP_HIDDEN bool gp_py_registered(uint32_t index); /* an index gp_py_register could have made */

/* The writer's resolver (gp_trace_writer_set_pyframe_resolver): key -> file, function, line. */
GP_HIDDEN int gp_py_resolve(void *ctx, uint64_t key, struct gp_trace_pyframe *out);

/* Line of the instruction at byte offset addr, from a line table ("stack_python_lines.c");
 * -1 when the table says it has none. */
GP_HIDDEN int gp_py_line_lnotab(const uint8_t *tab, size_t len, int firstlineno, int addr);
GP_HIDDEN int gp_py_line_linetable(const uint8_t *tab, size_t len, int firstlineno, int addr);
GP_HIDDEN int gp_py_line_locations(const uint8_t *tab, size_t len, int firstlineno, int addr);

/* An event's whole stack: native frames innermost first, then Python frames innermost
 * first (outermost in the trie: the Python code that was running when native code was
 * entered). Python frames get at most three quarters of depth (and always leave one
 * slot), taken first, so a deep Python stack still leaves room for the native frames
 * that called CUDA. Inlined into
 * the hook, like gp_stack_capture's call, so the unwinder sees no extra frame. */
static inline __attribute__((always_inline)) unsigned gp_stack_capture_all(uint64_t *ips,
                                                                            unsigned depth)
{
    unsigned npy = 0;
    if (GP_UNLIKELY(atomic_load_explicit(&gp_py_mode, memory_order_relaxed) != GP_PY_OFF) &&
        depth > 1)
        npy = gp_py_capture(ips, depth, depth - (depth >= 4 ? depth / 4 : 1));
    unsigned nnat = gp_stack_capture(ips, depth - npy);
    if (npy && nnat < depth - npy)
        memmove(ips + nnat, ips + depth - npy, npy * sizeof(*ips));
    return nnat + npy;
}

#endif
