/* stack.h — capturing a call stack. Every shim frame between the program and
 * unw_backtrace is one more frame to unwind and throw away on every event, so the event
 * code is inlined around this one call. */
#ifndef GP_SHIM_STACK_H
#define GP_SHIM_STACK_H

#include "internal.h"

/* Fills ips with up to max program frames (the shim's own frames removed). Kept out of
 * line on purpose: libunwind's fast trace cache handles this small frame, but falls back
 * to slow DWARF unwinding (twice the cost, measured) when the buffer lives in a larger
 * caller's frame. */
GP_HIDDEN unsigned gp_stack_capture(uint64_t *ips, unsigned max);

#endif
