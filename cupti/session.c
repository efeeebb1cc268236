/* session.c — one CUPTI activity session per process: started from a program thread after
 * the first successful traced CUDA call (CUDA is initialised then, and it is never a
 * constructor), flushed by the writer thread at least once a second, force-flushed by an
 * atexit handler registered after CUDA initialised (so it runs before the runtime tears
 * down) and on the writer's flush requests (OOM), and converted into trace records on the
 * writer thread. What happened is kept as a status (recording, off, no CUPTI, another tool
 * holds it, failed) that the writer puts in the trace; problems are said once on stderr and
 * memory tracing goes on whatever CUPTI does. NVTX's first call (shim/nvtx_inject.c) may
 * load libcupti earlier, on any thread, to hand it NVTX's export table: the session then
 * uses that same copy. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cupti_int.h"
#include "internal.h"

enum { GP_CUPTI_IDLE = 0, GP_CUPTI_STARTING, GP_CUPTI_ON, GP_CUPTI_OFF };

static _Atomic int gp_cupti_state;
static _Atomic bool gp_cupti_exiting;  /* the exit flush is done: no more CUPTI calls */
static struct gp_cupti_api gp_api;
static const struct gp_cupti_api *_Atomic gp_api_ready; /* &gp_api once usable */
static _Atomic uint64_t gp_dropped;    /* CUPTI's dropped records not yet in the trace */
static _Atomic int64_t gp_offset_ns;   /* trace clock - CUPTI clock */
static pid_t gp_cupti_pid;

/* The status, written by the starting thread (or a fork), read by the writer. */
static struct {
    pthread_mutex_t mu;
    unsigned gen; /* bumped at each change */
    struct gp_activity_status st;
    char library[4096], reason[512];
} gp_status = {.mu = PTHREAD_MUTEX_INITIALIZER};
static unsigned gp_status_written; /* writer thread: the generation in this trace file */

/* libcupti is loaded once, by whichever comes first: the session's start (first CUDA call)
 * or an NVTX injection call (first NVTX call, any thread); both use that one copy, as a
 * second copy would not see the other's NVTX calls or subscriber. */
static pthread_mutex_t gp_load_mu = PTHREAD_MUTEX_INITIALIZER;
static int gp_load_rc = 1; /* 1: not tried yet, else gp_cupti_load's result */
static char gp_load_why[512];

/* Why NVTX ranges cannot reach the libcupti that was loaded: said once (status, stderr)
 * when the session records. */
static _Atomic int gp_nvtx_claimed, gp_nvtx_failed, gp_nvtx_noted;
static char gp_nvtx_why[512];

const struct gp_cupti_api *gp_cupti_api_loaded(void)
{
    return atomic_load_explicit(&gp_api_ready, memory_order_acquire);
}

void gp_cupti_note_dropped(uint64_t n) { atomic_fetch_add(&gp_dropped, n); }

static void set_status(uint32_t state, uint32_t version, uint64_t kinds, const char *library,
                       const char *reason)
{
    pthread_mutex_lock(&gp_status.mu);
    snprintf(gp_status.library, sizeof(gp_status.library), "%s", library ? library : "");
    snprintf(gp_status.reason, sizeof(gp_status.reason), "%s", reason ? reason : "");
    gp_status.st = (struct gp_activity_status){
        .state = state,
        .version = version,
        .kinds = kinds,
        .library = library ? gp_status.library : NULL,
        .reason = reason ? gp_status.reason : NULL,
    };
    gp_status.gen++;
    pthread_mutex_unlock(&gp_status.mu);
}

static int load_cupti(const char *option, char *why, size_t whylen)
{
    pthread_mutex_lock(&gp_load_mu);
    if (gp_load_rc == 1) {
        const char *roots[GP_CUPTI_NROOTS];
        gp_cupti_default_roots(roots);
        gp_load_rc = gp_cupti_load(&gp_api, option, roots, GP_CUPTI_NROOTS, gp_load_why,
                                   sizeof(gp_load_why));
    }
    int rc = gp_load_rc;
    snprintf(why, whylen, "%s", gp_load_why);
    pthread_mutex_unlock(&gp_load_mu);
    return rc;
}

/* Appends the NVTX failure to a recording status and warns, once; either side may come
 * first (the failure, or the session reaching "on"), so both call it. */
static void note_nvtx(void)
{
    if (!atomic_load(&gp_nvtx_failed) || atomic_load(&gp_cupti_state) != GP_CUPTI_ON ||
        atomic_exchange(&gp_nvtx_noted, 1))
        return;
    pthread_mutex_lock(&gp_status.mu);
    size_t len = strlen(gp_status.reason);
    snprintf(gp_status.reason + len, sizeof(gp_status.reason) - len,
             "; NVTX ranges are not recorded: %.200s", gp_nvtx_why);
    gp_status.st.reason = gp_status.reason;
    gp_status.gen++;
    pthread_mutex_unlock(&gp_status.mu);
    gp_shim_warn("NVTX ranges are not recorded: %s", gp_nvtx_why);
    gp_writer_wake();
}

static void nvtx_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void nvtx_failed(const char *fmt, ...)
{
    if (atomic_exchange(&gp_nvtx_claimed, 1))
        return; /* the first reason is kept */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gp_nvtx_why, sizeof(gp_nvtx_why), fmt, ap);
    va_end(ap);
    atomic_store(&gp_nvtx_failed, 1);
    note_nvtx();
}

static bool env_off(const char *name)
{
    const char *v = getenv(name);
    bool on = true;
    return v != NULL && gp_shim_parse_bool(v, &on) == 0 && !on;
}

int gp_cupti_nvtx_inject(gp_nvtx_export_table_fn get_export_table)
{
    /* The options are parsed at the first CUDA call, which may not have come yet. */
    if (!get_export_table || env_off("GPUPROF_ENABLE") || env_off("GPUPROF_KERNELS"))
        return 0;
    int saved = errno, ok = 0;
    char why[512];
    gp_shim_in_hook++; /* what libcupti does while loading is not the program's */
    if (load_cupti(getenv("GPUPROF_CUPTI"), why, sizeof(why)) < 0) {
        /* no libcupti: the session says so at the first CUDA call, kernels are missing too */
    } else if (!gp_api.InitializeInjectionNvtx2) {
        nvtx_failed("%.300s has no InitializeInjectionNvtx2", gp_api.path);
    } else if ((ok = gp_api.InitializeInjectionNvtx2(get_export_table)) == 0) {
        nvtx_failed("InitializeInjectionNvtx2 of %.300s refused NVTX", gp_api.path);
    }
    gp_shim_in_hook--;
    errno = saved;
    return ok;
}

static const char *result_name(CUptiResult r)
{
    const char *s = NULL;
    if (gp_api.GetResultString(r, &s) != CUPTI_SUCCESS || !s)
        return "an unknown CUPTI error";
    return s;
}

/* Gives up on kernel tracing: status, one warning, and memory tracing goes on. */
static void give_up(uint32_t state, uint32_t version, const char *library, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void give_up(uint32_t state, uint32_t version, const char *library, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    set_status(state, version, 0, library, why);
    if (state != GP_ACT_OFF)
        gp_shim_warn("kernel activity is not recorded: %s; memory tracing goes on", why);
    atomic_store_explicit(&gp_cupti_state, GP_CUPTI_OFF, memory_order_release);
    gp_writer_wake();
}

/* The subscription is held so that no second tool records activity into our buffers; the
 * only domain ever enabled is RESOURCE, for GPUPROF_CUBINS=1 (cubin.c). */
static void CUPTIAPI gp_cupti_noop(void *userdata, CUpti_CallbackDomain domain,
                                   CUpti_CallbackId cbid, const void *data)
{
    (void)userdata;
    if (domain == CUPTI_CB_DOMAIN_RESOURCE)
        gp_cupti_cubin_callback(cbid, data);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CUPTI's clock (CLOCK_REALTIME on Linux) against the trace's (CLOCK_MONOTONIC), read
 * between two readings of ours. Its own timestamp callback is not used: it would move the
 * clock of every other CUPTI client in the process (torch.profiler) too. */
static int measure_offset(int64_t *off)
{
    uint64_t c, t0 = mono_ns();
    if (gp_api.GetTimestamp(&c) != CUPTI_SUCCESS)
        return -1;
    uint64_t t1 = mono_ns();
    *off = (int64_t)(t0 + (t1 - t0) / 2 - c);
    return 0;
}

static void gp_cupti_atexit(void)
{
    if (atomic_load(&gp_cupti_state) != GP_CUPTI_ON || getpid() != gp_cupti_pid)
        return;
    /* Before the runtime's own exit handlers (registered before ours, so run after) tear
     * CUDA down: hand back every buffer, then let the writer put them in the trace. */
    gp_shim_in_hook++; /* CUDA calls CUPTI makes now are not the program's */
    gp_cupti_counters_stop(); /* GPUPROF_COUNTERS=1: the run's values, while CUDA is up */
    atomic_store(&gp_cupti_exiting, true);
    (void)gp_api.ActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    size_t dropped = 0;
    if (gp_api.ActivityGetNumDroppedRecords(NULL, 0, &dropped) == CUPTI_SUCCESS && dropped)
        gp_cupti_note_dropped(dropped);
    gp_shim_in_hook--;
    (void)gp_writer_flush_wait(3000);
}

static void gp_cupti_atfork_child(void)
{
    if (atomic_load(&gp_cupti_state) != GP_CUPTI_ON)
        return;
    /* CUPTI does not follow a fork; what it collected is the parent's. */
    atomic_store(&gp_cupti_state, GP_CUPTI_OFF);
    pthread_mutex_init(&gp_status.mu, NULL);
    gp_cupti_pool_forget();
    atomic_store(&gp_dropped, 0);
    set_status(GP_ACT_STOPPED, gp_status.st.version, 0, gp_api.path,
               "a forked child: CUPTI records the parent process only");
}

static void gp_cupti_start(void)
{
    const struct gp_shim_options *o = &gp_shim_g.opt;
    char why[512];
    uint32_t version = 0;

    if (!o->kernels) {
        give_up(GP_ACT_OFF, 0, NULL, "GPUPROF_KERNELS=0");
        return;
    }
    if (load_cupti(o->cupti, why, sizeof(why)) < 0) {
        give_up(GP_ACT_NO_CUPTI, 0, gp_api.path[0] ? gp_api.path : NULL, "%s", why);
        return;
    }
    const char *lib = gp_api.path;
    (void)gp_api.GetVersion(&version);
    CUpti_SubscriberHandle sub = NULL;
    CUptiResult r = gp_api.Subscribe(&sub, gp_cupti_noop, NULL);
    if (r == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED) {
        give_up(GP_ACT_BUSY, version, lib,
                "another tool already holds CUPTI (a profiler such as Nsight or torch.profiler, "
                "compute-sanitizer or a debugger)");
        return;
    }
    if (r != CUPTI_SUCCESS) {
        give_up(GP_ACT_FAILED, version, lib, "cuptiSubscribe failed (%s)", result_name(r));
        return;
    }
    /* CUPTI copes with a refused buffer request from version 27 (CUDA 12.9) on. */
    if (gp_cupti_pool_init((size_t)o->cupti_buffer, o->cupti_buffers, version >= 27) < 0) {
        give_up(GP_ACT_FAILED, version, lib, "no memory for the activity buffer pool");
        goto unsubscribe;
    }
    int64_t off = 0;
    if (measure_offset(&off) < 0) {
        give_up(GP_ACT_FAILED, version, lib, "cuptiGetTimestamp failed");
        goto unsubscribe;
    }
    atomic_store(&gp_offset_ns, off);
    gp_cupti_pid = getpid();
    atomic_store_explicit(&gp_api_ready, &gp_api, memory_order_release);
    r = gp_api.ActivityRegisterCallbacks(gp_cupti_buffer_requested, gp_cupti_buffer_completed);
    if (r != CUPTI_SUCCESS) {
        give_up(GP_ACT_FAILED, version, lib, "cuptiActivityRegisterCallbacks failed (%s)",
                result_name(r));
        goto unsubscribe;
    }
    uint64_t kinds = 0;
    char missing[256] = "";
    for (unsigned i = 0; i < gp_cupti_nkinds; i++) {
        const struct gp_cupti_kind *k = &gp_cupti_kinds[i];
        r = gp_api.ActivityEnable(k->kind);
        if (r == CUPTI_SUCCESS) {
            kinds |= 1ull << (k->type - GP_REC_ACT_FIRST);
            continue;
        }
        if (k->required) {
            if (r == CUPTI_ERROR_NOT_COMPATIBLE || r == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED)
                give_up(GP_ACT_BUSY, version, lib,
                        "CUPTI cannot record kernels (%s): another tool is using it", result_name(r));
            else
                give_up(GP_ACT_FAILED, version, lib, "cuptiActivityEnable(CONCURRENT_KERNEL) failed (%s)",
                        result_name(r));
            goto unsubscribe;
        }
        size_t len = strlen(missing);
        snprintf(missing + len, sizeof(missing) - len, "%s%s", len ? ", " : "",
                 gp_trace_activity_type_name(k->type));
    }
    gp_cupti_cubin_start(sub); /* GPUPROF_CUBINS=1: the module-loaded callback (cubin.c) */
    gp_cupti_counters_start(); /* GPUPROF_COUNTERS=1: Tensor Core counters (counters.c) */
    pthread_atfork(NULL, NULL, gp_cupti_atfork_child);
    atexit(gp_cupti_atexit);
    snprintf(why, sizeof(why), "libcupti from %s%s%s", gp_api.how,
             missing[0] ? "; not enabled: " : "", missing);
    set_status(GP_ACT_RECORDING, version, kinds, lib, why);
    atomic_store(&gp_cupti_state, GP_CUPTI_ON);
    gp_writer_wake();
    note_nvtx(); /* an NVTX injection that failed before CUDA started */
    return;
unsubscribe:
    if (gp_api.Unsubscribe)
        (void)gp_api.Unsubscribe(sub);
}

void gp_cupti_after_cuda_call(void)
{
    int s = atomic_load_explicit(&gp_cupti_state, memory_order_relaxed);
    if (GP_LIKELY(s != GP_CUPTI_IDLE))
        return;
    if (!atomic_compare_exchange_strong(&gp_cupti_state, &s, GP_CUPTI_STARTING))
        return; /* another thread is starting it: it need not be ready for this call */
    int saved = errno;
    gp_cupti_start();
    errno = saved;
}

void gp_cupti_trace_opened(void)
{
    gp_status_written = 0;
    gp_cupti_counters_trace_opened();
}

void gp_cupti_flush(bool forced)
{
    if (atomic_load_explicit(&gp_cupti_state, memory_order_acquire) != GP_CUPTI_ON ||
        atomic_load(&gp_cupti_exiting))
        return;
    (void)gp_api.ActivityFlushAll(forced ? CUPTI_ACTIVITY_FLAG_FLUSH_FORCED : 0);
}

/* Converts one buffer's records; returns how many, or a writer error. */
static int convert_buffer(struct gp_trace_writer *w, uint8_t *mem, size_t valid, int64_t off)
{
    CUpti_Activity *rec = NULL;
    struct gp_activity a;
    int n = 0;
    /* MAX_LIMIT_REACHED ends the buffer; INVALID_KIND means an incomplete record: the
     * rest of the buffer cannot be walked either. */
    while (gp_api.ActivityGetNextRecord(mem, valid, &rec) == CUPTI_SUCCESS) {
        if (!gp_cupti_convert(rec, off, &a))
            continue;
        int rc = gp_trace_writer_activity(w, &a);
        if (rc < 0)
            return rc;
        n++;
    }
    return n;
}

int gp_cupti_drain(struct gp_trace_writer *w)
{
    int n = 0, rc = 0;
    unsigned gen;
    pthread_mutex_lock(&gp_status.mu);
    gen = gp_status.gen;
    struct gp_activity_status st = gp_status.st;
    char library[sizeof(gp_status.library)], reason[sizeof(gp_status.reason)];
    if (gen != gp_status_written) {
        memcpy(library, gp_status.library, sizeof(library));
        memcpy(reason, gp_status.reason, sizeof(reason));
    }
    pthread_mutex_unlock(&gp_status.mu);
    if (gen != gp_status_written) {
        st.library = st.library ? library : NULL;
        st.reason = st.reason ? reason : NULL;
        if (w && (rc = gp_trace_writer_activity_status(w, &st)) < 0)
            return rc;
        gp_status_written = gen;
    }
    if ((rc = gp_cupti_counters_drain(w)) < 0)
        return rc;
    if (!gp_cupti_api_loaded())
        return 0;
    int64_t off = atomic_load(&gp_offset_ns);
    unsigned idx;
    uint8_t *mem;
    size_t valid;
    while (gp_cupti_pool_take(&idx, &mem, &valid)) {
        if (w && rc >= 0) {
            rc = convert_buffer(w, mem, valid, off);
            n += rc > 0 ? rc : 0;
        }
        gp_cupti_pool_release(idx);
    }
    if (rc < 0)
        return rc;
    uint64_t dropped = atomic_exchange(&gp_dropped, 0);
    if (dropped && w && (rc = gp_trace_writer_activity_dropped(w, dropped)) < 0)
        return rc;
    return n;
}

/* ---- external correlation: library calls tied to the kernels they launch ----------- */
/* CUPTI writes an EXTERNAL_CORRELATION record only next to a driver or runtime API record
 * (cupti_activity.h, cuptiActivityPushExternalCorrelationId), so the first push also asks
 * for the launch APIs' records: a program that never calls cuBLAS or cuDNN pays nothing.
 * Per API where CUPTI can (cuptiActivityEnable{Runtime,Driver}Api), else the whole RUNTIME
 * and DRIVER kinds. Those API records are skipped at conversion (convert.c). */
static _Atomic int gp_ext_setup; /* 0 not yet, 1 claimed by a thread */
static _Atomic uint64_t gp_ext_last; /* the last id handed out */

static const CUpti_CallbackId gp_launch_runtime[] = {
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_ptsz_v7000,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_ptsz_v11060,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_v9000,
    CUPTI_RUNTIME_TRACE_CBID_cudaLaunchCooperativeKernel_ptsz_v9000,
};
static const CUpti_CallbackId gp_launch_driver[] = {
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz,
};

static void ext_enable_launch_records(void)
{
    bool ok = gp_api.ActivityEnableRuntimeApi && gp_api.ActivityEnableDriverApi;
    for (size_t i = 0; ok && i < sizeof gp_launch_runtime / sizeof gp_launch_runtime[0]; i++)
        ok = gp_api.ActivityEnableRuntimeApi(gp_launch_runtime[i], 1) == CUPTI_SUCCESS;
    for (size_t i = 0; ok && i < sizeof gp_launch_driver / sizeof gp_launch_driver[0]; i++)
        ok = gp_api.ActivityEnableDriverApi(gp_launch_driver[i], 1) == CUPTI_SUCCESS;
    if (!ok) {
        (void)gp_api.ActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME);
        (void)gp_api.ActivityEnable(CUPTI_ACTIVITY_KIND_DRIVER);
    }
}

uint64_t gp_cupti_ext_push(void)
{
    if (GP_LIKELY(atomic_load_explicit(&gp_cupti_state, memory_order_acquire) != GP_CUPTI_ON) ||
        atomic_load_explicit(&gp_cupti_exiting, memory_order_relaxed) ||
        !gp_api.ActivityPushExternalCorrelationId || !gp_api.ActivityPopExternalCorrelationId)
        return 0;
    uint64_t id = atomic_fetch_add_explicit(&gp_ext_last, 1, memory_order_relaxed) + 1;
    int saved = errno;
    gp_shim_in_hook++; /* CUDA calls CUPTI makes now are not the program's */
    if (GP_UNLIKELY(atomic_load_explicit(&gp_ext_setup, memory_order_relaxed) == 0) &&
        atomic_exchange(&gp_ext_setup, 1) == 0)
        ext_enable_launch_records();
    bool ok = gp_api.ActivityPushExternalCorrelationId(
                  (CUpti_ExternalCorrelationKind)GP_CUPTI_EXT_KIND, id) == CUPTI_SUCCESS;
    gp_shim_in_hook--;
    errno = saved;
    return ok ? id : 0;
}

void gp_cupti_ext_pop(void)
{
    uint64_t last = 0;
    int saved = errno;
    gp_shim_in_hook++;
    (void)gp_api.ActivityPopExternalCorrelationId((CUpti_ExternalCorrelationKind)GP_CUPTI_EXT_KIND,
                                                  &last);
    gp_shim_in_hook--;
    errno = saved;
}
