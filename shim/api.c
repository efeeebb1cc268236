/* api.c — the exported gpuprof_* functions (include/gpuprof.h). */
#include <errno.h>

#include "gpuprof.h"
#include "internal.h"

GP_EXPORT int gpuprof_flush(unsigned timeout_ms)
{
    if (atomic_load(&gp_shim_g.state) != GP_SHIM_ACTIVE)
        return -ESRCH;
    return gp_writer_flush_wait(timeout_ms);
}

GP_EXPORT const char *gpuprof_version(void) { return GPUPROF_VERSION_STRING; }
