/* hooks_driver.h — the driver-layer hook table, shared by the dlsym interposer and the
 * cuGetProcAddress / cudaGetDriverEntryPoint wrappers. */
#ifndef GP_SHIM_HOOKS_DRIVER_H
#define GP_SHIM_HOOKS_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* Index of a traced driver entry point by its exported name ("cuMemAlloc_v2"), or -1. */
GP_HIDDEN int gp_driver_index(const char *exported_name);
/* Our wrapper for entry point idx calling real, or NULL when real cannot be wrapped
 * (another real function already owns the slot: never swap one for the other). */
GP_HIDDEN void *gp_driver_wrap(int idx, void *real);
/* Given what the driver returned for (symbol, cudaVersion, flags), the pointer to hand
 * to the caller: our wrapper for the exact variant returned, or pfn itself. */
GP_HIDDEN void *gp_driver_swap(const char *symbol, int cuda_version, uint64_t flags, void *pfn);
GP_HIDDEN bool gp_driver_is_ours(const void *fn);

#endif
