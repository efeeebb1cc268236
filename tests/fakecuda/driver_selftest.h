/* Shared between the files of fakecuda_driver_selftest (driver_selftest.c, the lookups,
 * contexts and cuMemAlloc family; driver_selftest_vmm.c, the VMM API). */
#ifndef GPUPROF_FAKECUDA_DRIVER_SELFTEST_H
#define GPUPROF_FAKECUDA_DRIVER_SELFTEST_H

#include <stddef.h>

#include <cuda.h>

#include "check.h"

#define MIB ((size_t)1 << 20)

/* The driver function for `symbol` at CUDA 13.0 (default flags), fetched through
 * cuGetProcAddress_v2; a failed lookup is a failed check and NULL. */
void *drv_fn(const char *symbol);

/* Free bytes on the current context's device, by cuMemGetInfo_v2. */
size_t dev_free(void);

/* driver_selftest_vmm.c: the VMM round trip; expects device 0's primary context current. */
void check_vmm(size_t total, int devices);

#endif
