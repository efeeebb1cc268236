/* cupti_int.h — what the CUPTI adapter's files share: the libcupti functions it calls
 * (loader.c finds them), the buffer pool (buffers.c), the record conversion (convert.c) and
 * the session state (session.c). Internal to cupti/. */
#ifndef GP_CUPTI_INT_H
#define GP_CUPTI_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cupti.h>

#include "gp_cupti.h"

/* ---- "loader.c": finding libcupti, never linking it -------------------------------- */
struct gp_cupti_api {
    CUptiResult (*GetVersion)(uint32_t *);
    CUptiResult (*GetResultString)(CUptiResult, const char **);
    CUptiResult (*Subscribe)(CUpti_SubscriberHandle *, CUpti_CallbackFunc, void *);
    CUptiResult (*Unsubscribe)(CUpti_SubscriberHandle);
    CUptiResult (*ActivityEnable)(CUpti_ActivityKind);
    CUptiResult (*ActivityRegisterCallbacks)(CUpti_BuffersCallbackRequestFunc,
                                             CUpti_BuffersCallbackCompleteFunc);
    CUptiResult (*ActivityFlushAll)(uint32_t);
    CUptiResult (*ActivityGetNextRecord)(uint8_t *, size_t, CUpti_Activity **);
    CUptiResult (*ActivityGetNumDroppedRecords)(CUcontext, uint32_t, size_t *);
    CUptiResult (*GetTimestamp)(uint64_t *);
    /* Optional: CUPTI's NVTX injection entry (NVTX_INJECTION64_PATH naming libcupti calls
     * it); NULL in a libcupti without it. 1 = NVTX calls now reach CUPTI, 0 = refused. */
    int (*InitializeInjectionNvtx2)(gp_nvtx_export_table_fn);
    /* Optional: external correlation (library calls tied to their kernels, session.c);
     * per-API record selection (CUDA 12.x+), else whole API kinds are enabled instead. */
    CUptiResult (*ActivityPushExternalCorrelationId)(CUpti_ExternalCorrelationKind, uint64_t);
    CUptiResult (*ActivityPopExternalCorrelationId)(CUpti_ExternalCorrelationKind, uint64_t *);
    CUptiResult (*ActivityEnableRuntimeApi)(CUpti_CallbackId, uint8_t);
    CUptiResult (*ActivityEnableDriverApi)(CUpti_CallbackId, uint8_t);
    void *handle;    /* its dlopen handle: counters.c resolves the profiling API from it */
    char path[4096]; /* the library's file, as the loader has it */
    const char *how; /* "already loaded", "GPUPROF_CUPTI", ... for the status line */
};

/* Finds libcupti in the documented order (loader.c, docs/architecture.md): a copy already
 * loaded, `option` (GPUPROF_CUPTI: a file or a directory; when set, nothing else is tried),
 * the toolkit roots (lib64/ and extras/CUPTI/lib64/ of each), a pip package next to the
 * loaded libcudart, the dynamic loader's own search. 0, or -ENOENT with the reason in why. */
GP_CUPTI_HIDDEN int gp_cupti_load(struct gp_cupti_api *api, const char *option,
                                  const char *const *roots, size_t nroots, char *why,
                                  size_t whylen);
/* The toolkit roots to search: $CUDA_HOME, $CUDA_PATH, /usr/local/cuda (NULL when unset). */
#define GP_CUPTI_NROOTS 3
GP_CUPTI_HIDDEN void gp_cupti_default_roots(const char *roots[GP_CUPTI_NROOTS]);

/* ---- "buffers.c": the bounded pool of activity buffers ----------------------------- */
/* nbufs buffers of buf_size bytes at most, allocated when CUPTI first asks for them and
 * never freed (CUPTI may still hold some at exit). decline: CUPTI copes with a refused
 * request (it then drops and counts records); older ones crash, so past the cap they get
 * one of a few spare buffers instead. */
GP_CUPTI_HIDDEN int gp_cupti_pool_init(size_t buf_size, unsigned nbufs, int decline);
GP_CUPTI_HIDDEN void CUPTIAPI gp_cupti_buffer_requested(uint8_t **buffer, size_t *size,
                                                        size_t *max_records);
GP_CUPTI_HIDDEN void CUPTIAPI gp_cupti_buffer_completed(CUcontext ctx, uint32_t stream,
                                                        uint8_t *buffer, size_t size,
                                                        size_t valid);
/* Writer thread: the oldest buffer CUPTI gave back (1, its index, memory and valid bytes)
 * or 0; gp_cupti_pool_release returns it to the pool once its records are converted. */
GP_CUPTI_HIDDEN int gp_cupti_pool_take(unsigned *idx, uint8_t **mem, size_t *valid);
GP_CUPTI_HIDDEN void gp_cupti_pool_release(unsigned idx);
/* Forked child: buffers handed back but not yet converted belong to the parent's trace. */
GP_CUPTI_HIDDEN void gp_cupti_pool_forget(void);
GP_CUPTI_HIDDEN uint64_t gp_cupti_pool_declined(void); /* requests refused so far */

/* ---- "convert.c": one CUPTI record -> one trace activity --------------------------- */
/* offset_ns is added to CUPTI's timestamps to put them on the trace clock (0 stays 0:
 * "not timed"). Reads only the fields the CUDA 12.0 record versions already had, so the
 * records of libcupti.so.12 and of later 13.x versions (which append fields) convert alike.
 * Returns 1, or 0 for a kind that is not recorded. */
GP_CUPTI_HIDDEN int gp_cupti_convert(const CUpti_Activity *rec, int64_t offset_ns,
                                     struct gp_activity *out);
/* The activity kinds enabled, each with the trace record type its records become. */
struct gp_cupti_kind {
    CUpti_ActivityKind kind;
    uint8_t type;
    int required; /* without it there is nothing to record */
};
extern GP_CUPTI_HIDDEN const struct gp_cupti_kind gp_cupti_kinds[];
extern GP_CUPTI_HIDDEN const unsigned gp_cupti_nkinds;

/* ---- "session.c" -------------------------------------------------------------------- */
/* Completed buffers and dropped records are counted here for the writer to pick up. */
GP_CUPTI_HIDDEN void gp_cupti_note_dropped(uint64_t n);
GP_CUPTI_HIDDEN const struct gp_cupti_api *gp_cupti_api_loaded(void);

/* ---- "cubin.c": GPUPROF_CUBINS=1 ------------------------------------------------------ */
/* Starting thread, once subscribed: enables the module-loaded resource callback on sub
 * when GPUPROF_CUBINS=1 (one warning when CUPTI refuses). */
GP_CUPTI_HIDDEN void gp_cupti_cubin_start(CUpti_SubscriberHandle sub);
/* The subscriber callback's CUPTI_CB_DOMAIN_RESOURCE calls: MODULE_LOADED saves the cubin. */
GP_CUPTI_HIDDEN void gp_cupti_cubin_callback(CUpti_CallbackId cbid, const void *data);

/* ---- "counters.c": GPUPROF_COUNTERS=1, Tensor Core hardware counters -------------------- */
/* Starting thread, once the session records (CUDA initialised, a context current): sets up
 * the Range Profiler over the whole run; a refusal is recorded and said once. Nothing at
 * all, not one CUPTI call, unless GPUPROF_COUNTERS=1. */
GP_CUPTI_HIDDEN void gp_cupti_counters_start(void);
/* The exit handler, before the activity flush: ends the run's range, reads the values. */
GP_CUPTI_HIDDEN void gp_cupti_counters_stop(void);
/* Writer thread: the INFO records not yet in this trace file (w NULL: none). */
GP_CUPTI_HIDDEN int gp_cupti_counters_drain(struct gp_trace_writer *w);
GP_CUPTI_HIDDEN void gp_cupti_counters_trace_opened(void);

#endif
