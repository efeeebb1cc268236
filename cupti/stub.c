/* stub.c — the CUPTI adapter when gpuprof was built without the CUPTI headers: GPU activity
 * is never recorded, and the trace says why. */
#include "gp_cupti.h"
#include "internal.h"

static _Atomic int gp_cupti_started;
static unsigned gp_written; /* writer thread: 1 once this trace has the status */

void gp_cupti_after_cuda_call(void)
{
    if (atomic_exchange(&gp_cupti_started, 1) == 0)
        gp_writer_wake();
}

void gp_cupti_trace_opened(void) { gp_written = 0; }

void gp_cupti_flush(bool forced) { (void)forced; }

int gp_cupti_drain(struct gp_trace_writer *w)
{
    if (!atomic_load(&gp_cupti_started) || gp_written)
        return 0;
    gp_written = 1;
    struct gp_activity_status st = {
        .state = gp_shim_g.opt.kernels ? GP_ACT_NO_CUPTI : GP_ACT_OFF,
        .reason = gp_shim_g.opt.kernels ? "gpuprof was built without the CUPTI headers"
                                        : "GPUPROF_KERNELS=0",
    };
    return w ? gp_trace_writer_activity_status(w, &st) : 0;
}

/* Without CUPTI nothing can record NVTX ranges: NVTX runs as without an injection. */
int gp_cupti_nvtx_inject(gp_nvtx_export_table_fn get_export_table)
{
    (void)get_export_table;
    return 0;
}

/* Without CUPTI no kernel is recorded, so there is nothing to tie library calls to. */
uint64_t gp_cupti_ext_push(void) { return 0; }

void gp_cupti_ext_pop(void) {}
