/* fakecupti.h — the test hooks of the fake libcupti.so.13 (tests/fakecuda/cupti). The fake
 * runtime launches no kernels, so test programs make the GPU activity themselves: they find
 * these functions with dlsym on the loaded fake (dlopen("libcupti.so.13", RTLD_NOLOAD)) and
 * each call produces one activity record, exactly as described, into the buffers the client
 * registered with cuptiActivityRegisterCallbacks, if its kind is enabled.
 *
 * Environment read by the fake (at load):
 *   FAKECUPTI_SUBSCRIBED=1      another tool already holds CUPTI: cuptiSubscribe fails with
 *                               CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED
 *   FAKECUPTI_ENABLE_FAIL=N     cuptiActivityEnable(N) fails with CUPTI_ERROR_NOT_COMPATIBLE
 *   FAKECUPTI_VERSION=N         what cuptiGetVersion says (default 130001)
 *
 * External correlation: cuptiActivityPushExternalCorrelationId / Pop keep a stack of ids per
 * thread and kind. A kernel emitted on a thread with ids pushed is preceded by one
 * EXTERNAL_CORRELATION record per kind (the innermost id, the kernel's correlation id) and
 * by an API record (RUNTIME, cudaLaunchKernel) — as the real library, only when
 * EXTERNAL_CORRELATION is enabled and so are launch API records (the RUNTIME or DRIVER kind,
 * or cudaLaunchKernel / cuLaunchKernel through cuptiActivityEnable{Runtime,Driver}Api).
 *
 * NVTX: InitializeInjectionNvtx2 (fake_cupti_nvtx.c) makes nvtxMarkA, nvtxRangeStartA/End and
 * nvtxRangePushA/Pop into MARKER records, as the real library does when it is NVTX's
 * injection. The copy in cupti-nonvtx/ next to this one's directory lacks that entry.
 *
 * Clock: like the real library's default, CLOCK_REALTIME in ns (or the client's timestamp
 * callback). Each stream is a queue: an activity starts gap_ns after the later of "now" and
 * the end of the stream's previous activity, and lasts exactly duration_ns. */
#ifndef FAKECUPTI_H
#define FAKECUPTI_H

#include <stdint.h>

struct fakecupti_kernel {
    const char *name; /* copied: one stable pointer per distinct name, as CUPTI does */
    uint32_t device, stream;
    uint64_t duration_ns, gap_ns;
    uint32_t grid[3], block[3];
    uint32_t registers, static_smem, dynamic_smem;
    uint32_t graph_id;
    uint64_t graph_node;
};

/* Each returns the record's correlation id, or 0 when the kind is not enabled (nothing
 * recorded) or the record was dropped for lack of a buffer (counted as CUPTI would). */
typedef uint32_t (*fakecupti_emit_kernel_fn)(const struct fakecupti_kernel *k);
/* copy_kind: CUpti_ActivityMemcpyKind (1 HtoD, 2 DtoH, 8 DtoD, ...) */
typedef uint32_t (*fakecupti_emit_memcpy_fn)(uint32_t device, uint32_t stream, uint8_t copy_kind,
                                             uint64_t bytes, uint64_t duration_ns);
typedef uint32_t (*fakecupti_emit_memset_fn)(uint32_t device, uint32_t stream, uint32_t value,
                                             uint64_t bytes, uint64_t duration_ns);
/* flags: CUpti_ActivityFlag MARKER_* (INSTANTANEOUS 1, START 2, END 4); name NULL for END */
typedef uint32_t (*fakecupti_emit_marker_fn)(const char *name, uint32_t id, uint32_t flags);
/* Ties external_id to the correlation id the next activity will get. */
typedef uint32_t (*fakecupti_emit_ext_corr_fn)(uint32_t external_kind, uint64_t external_id);
/* Activities CUPTI lost: reported by cuptiActivityGetNumDroppedRecords. */
typedef void (*fakecupti_drop_fn)(uint64_t records);
/* Counters for tests: buffers the client handed over, given back, declined. */
struct fakecupti_stats {
    uint64_t requested, completed, declined, records, dropped_total;
    uint32_t enabled_kinds_low;  /* bit k: activity kind k (< 32) enabled */
    uint64_t enabled_kinds_high; /* bit k - 32 */
    int subscribed;
    int timestamp_callback;      /* the client registered one */
    uint64_t distinct_buffers;   /* different buffer addresses handed over (counted to 64) */
    uint64_t most_held;          /* most buffers held by the fake at once */
    uint64_t nvtx_injections;    /* InitializeInjectionNvtx2 calls accepted (one per NVTX instance) */
    uint64_t api_calls;          /* every cupti* entry point called, whatever the result */
    uint64_t ext_pushes, ext_pops; /* cuptiActivity{Push,Pop}ExternalCorrelationId that succeeded */
    uint64_t ext_records;        /* EXTERNAL_CORRELATION records made for kernel launches */
    int launch_api_records;      /* launch API records asked for: 1 per API, 2 whole kinds */
};
typedef void (*fakecupti_stats_fn)(struct fakecupti_stats *out);

/* The hooks themselves (what the typedefs above point to). */
uint32_t fakecupti_emit_kernel(const struct fakecupti_kernel *k);
uint32_t fakecupti_emit_memcpy(uint32_t device, uint32_t stream, uint8_t copy_kind, uint64_t bytes,
                               uint64_t duration_ns);
uint32_t fakecupti_emit_memset(uint32_t device, uint32_t stream, uint32_t value, uint64_t bytes,
                               uint64_t duration_ns);
uint32_t fakecupti_emit_marker(const char *name, uint32_t id, uint32_t flags);
uint32_t fakecupti_emit_ext_corr(uint32_t external_kind, uint64_t external_id);
void fakecupti_drop(uint64_t records);
void fakecupti_stats(struct fakecupti_stats *out);
/* fake_cupti_resource.c: CUDA loaded a module (cuModuleLoad*, a lazy load at a first launch):
 * the subscriber's callback gets CUPTI_CB_DOMAIN_RESOURCE / CUPTI_CBID_RESOURCE_MODULE_LOADED
 * with a CUpti_ModuleResourceData {module_id, size, cubin} on the calling thread, when it
 * enabled that callback. 1 = delivered, 0 = not enabled. (FAKECUPTI_CALLBACK_FAIL=1 makes
 * cuptiEnableCallback fail with CUPTI_ERROR_NOT_COMPATIBLE.) */
typedef int (*fakecupti_load_module_fn)(uint32_t module_id, const void *cubin, uint64_t size);
int fakecupti_load_module(uint32_t module_id, const void *cubin, uint64_t size);

#endif
