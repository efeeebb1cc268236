/* gp_cupti.h — what the shim asks of the CUPTI adapter (cupti/, linked into libgpuprof.so).
 * docs/architecture.md ("GPU activity") describes the threads and buffers. Every function is
 * cheap and does nothing until the adapter has started, and none takes a lock of the shim's. */
#ifndef GP_CUPTI_H
#define GP_CUPTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gp_trace.h"

#define GP_CUPTI_HIDDEN __attribute__((visibility("hidden")))

/* Program thread, after a traced CUDA call returned success (so CUDA is initialised), with
 * the shim's re-entry guard held and no shim lock: the first call finds and starts CUPTI
 * (GPUPROF_KERNELS, GPUPROF_CUPTI); later calls are one atomic load. */
GP_CUPTI_HIDDEN void gp_cupti_after_cuda_call(void);

/* NVTX's export-table getter (nvtx3's NvtxGetExportTableFunc_t), handed to an injection. */
typedef const void *(*gp_nvtx_export_table_fn)(uint32_t table_id);
/* Any thread, possibly before CUDA is initialised: an NVTX instance's first call found
 * libgpuprof.so in NVTX_INJECTION64_PATH (shim/nvtx_inject.c). Loads the libcupti the
 * activity session will use (never initialising CUDA) and hands the export table to its
 * InitializeInjectionNvtx2. Returns that result, or 0 ("no injection": NVTX turns its calls
 * into no-ops) when kernel tracing is off, there is no libcupti or it lacks the entry. */
GP_CUPTI_HIDDEN int gp_cupti_nvtx_inject(gp_nvtx_export_table_fn get_export_table);

/* Program thread, around an intercepted library call (cuBLAS, cuDNN; outermost only), no
 * shim lock held: pushes a fresh id (1, 2, ... per process) as this thread's external
 * correlation id of kind GP_CUPTI_EXT_KIND, so CUPTI writes an EXT_CORR record (id ->
 * correlation id) for each kernel launch made under it. Returns the id when pushed (then
 * gp_cupti_ext_pop must follow on the same thread); 0, at the cost of one atomic load,
 * when the session is not recording. Never loads or starts CUPTI. The first push also asks
 * CUPTI for the launch API records external correlation needs (session.c). */
GP_CUPTI_HIDDEN uint64_t gp_cupti_ext_push(void);
GP_CUPTI_HIDDEN void gp_cupti_ext_pop(void);
/* CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM2: Kineto (torch.profiler) uses CUSTOM0/1. */
#define GP_CUPTI_EXT_KIND 5

/* Writer thread. A new trace file was opened: its status record is written again. */
GP_CUPTI_HIDDEN void gp_cupti_trace_opened(void);
/* Asks CUPTI to hand back buffers: the ones whose records are complete, or (forced) all of
 * them. Nothing after the exit flush, when CUDA may be tearing down. */
GP_CUPTI_HIDDEN void gp_cupti_flush(bool forced);
/* Converts every buffer CUPTI handed back into trace records (w NULL: only gives the
 * buffers back to the pool, the trace being off), and writes the status and dropped
 * counts when they changed. Returns records written, or a writer error. */
GP_CUPTI_HIDDEN int gp_cupti_drain(struct gp_trace_writer *w);

/* "cubin.c", GPUPROF_CUBINS=1. Program thread, inside CUPTI's module-loaded callback: hashes
 * the cubin, copies it when its content is new and GPUPROF_CUBINS_MAX allows, and queues it
 * for the writer (never blocks on the writer, no CUDA call). Nothing before the callback was
 * enabled. */
GP_CUPTI_HIDDEN void gp_cupti_cubin_loaded(uint32_t module_id, const void *cubin, size_t size);
/* Writer thread: writes queued cubins as CUBIN records (w NULL: only frees them), a bounded
 * amount per call. Returns modules written, or a writer error. */
GP_CUPTI_HIDDEN int gp_cupti_cubin_drain(struct gp_trace_writer *w);

#endif
