/* counters.c — GPUPROF_COUNTERS=1: the GPU's own count of Tensor Core work over the run
 * (docs/tensor-cores.md, layer 5), the one witness that needs neither kernel names nor
 * machine code. It uses CUPTI's Range Profiler (cupti_range_profiler.h, CUDA 12.6 and newer)
 * with its host API (cupti_profiler_host.h) for the chip's metric names, the config image
 * and the values: one user range, "run", pushed when the activity session starts and popped
 * by the exit handler, with user replay and one pass, so nothing is replayed and no kernel is
 * serialized by us. Metrics are taken only when the chip's base-metric list names them, and
 * only as many as fit in one pass.
 *
 * Every function is looked up in the libcupti already loaded; none missing is required for
 * the activity session, and any failure here leaves kernel and memory tracing as they were.
 * The counters are admin-only by default (NVIDIA's ERR_NVGPUCTRPERM): CUPTI then answers
 * CUPTI_ERROR_INSUFFICIENT_PRIVILEGES, recorded as counters.status = no_permission and said
 * once on stderr with the fix. What happened and the values are INFO records ("counters.*",
 * docs/tensor-cores.md) kept in a small table that the writer thread copies into the trace. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>

#include "cupti_int.h"
#include "internal.h"

/* cupti_profiler_host.h includes <string> and so compiles as C++ only: the parts used are
 * restated here field for field from CUDA 13.0's header (checked against it with a C++
 * compiler); structSize tells CUPTI which layout the caller means. */
typedef struct gp_host_object gp_host_object;
struct gp_host_init {
    size_t structSize;
    void *pPriv;
    int profilerType; /* CUpti_ProfilerType: 0 = CUPTI_PROFILER_TYPE_RANGE_PROFILER */
    const char *pChipName;
    const uint8_t *pCounterAvailabilityImage;
    gp_host_object *pHostObject;
};
struct gp_host_deinit {
    size_t structSize;
    void *pPriv;
    gp_host_object *pHostObject;
};
struct gp_host_base_metrics {
    size_t structSize;
    void *pPriv;
    gp_host_object *pHostObject;
    int metricType; /* CUpti_MetricType: COUNTER 0, RATIO 1, THROUGHPUT 2 */
    const char **ppMetricNames;
    size_t numMetrics;
};
struct gp_host_add_metrics {
    size_t structSize;
    void *pPriv;
    gp_host_object *pHostObject;
    const char **ppMetricNames;
    size_t numMetrics;
};
struct gp_host_config_size {
    size_t structSize;
    void *pPriv;
    gp_host_object *pHostObject;
    size_t configImageSize;
};
struct gp_host_config {
    size_t structSize;
    void *pPriv;
    gp_host_object *pHostObject;
    size_t configImageSize;
    uint8_t *pConfigImage;
};
struct gp_host_passes {
    size_t structSize;
    void *pPriv;
    size_t configImageSize;
    uint8_t *pConfigImage;
    size_t numOfPasses;
};
struct gp_host_evaluate {
    size_t structSize;
    void *pPriv;
    gp_host_object *pHostObject;
    const uint8_t *pCounterDataImage;
    size_t counterDataImageSize;
    size_t rangeIndex;
    const char **ppMetricNames;
    size_t numMetrics;
    double *pMetricValues;
};
#define GP_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
#define GP_PARAMS(type, last) {.structSize = GP_SIZE(type, last)}

/* The functions used, each with the struct it takes. */
#define GP_CNT_FNS(X)                                                                          \
    X(ProfilerInitialize, CUpti_Profiler_Initialize_Params)                                    \
    X(ProfilerDeInitialize, CUpti_Profiler_DeInitialize_Params)                                \
    X(DeviceGetChipName, CUpti_Device_GetChipName_Params)                                      \
    X(ProfilerGetCounterAvailability, CUpti_Profiler_GetCounterAvailability_Params)            \
    X(ProfilerHostInitialize, struct gp_host_init)                                             \
    X(ProfilerHostDeinitialize, struct gp_host_deinit)                                         \
    X(ProfilerHostGetBaseMetrics, struct gp_host_base_metrics)                                 \
    X(ProfilerHostConfigAddMetrics, struct gp_host_add_metrics)                                \
    X(ProfilerHostGetConfigImageSize, struct gp_host_config_size)                              \
    X(ProfilerHostGetConfigImage, struct gp_host_config)                                       \
    X(ProfilerHostGetNumOfPasses, struct gp_host_passes)                                       \
    X(ProfilerHostEvaluateToGpuValues, struct gp_host_evaluate)                                \
    X(RangeProfilerEnable, CUpti_RangeProfiler_Enable_Params)                                  \
    X(RangeProfilerDisable, CUpti_RangeProfiler_Disable_Params)                                \
    X(RangeProfilerGetCounterDataSize, CUpti_RangeProfiler_GetCounterDataSize_Params)          \
    X(RangeProfilerCounterDataImageInitialize,                                                 \
      CUpti_RangeProfiler_CounterDataImage_Initialize_Params)                                  \
    X(RangeProfilerSetConfig, CUpti_RangeProfiler_SetConfig_Params)                            \
    X(RangeProfilerStart, CUpti_RangeProfiler_Start_Params)                                    \
    X(RangeProfilerStop, CUpti_RangeProfiler_Stop_Params)                                      \
    X(RangeProfilerPushRange, CUpti_RangeProfiler_PushRange_Params)                            \
    X(RangeProfilerPopRange, CUpti_RangeProfiler_PopRange_Params)                              \
    X(RangeProfilerDecodeData, CUpti_RangeProfiler_DecodeData_Params)                          \
    X(RangeProfilerGetCounterDataInfo, CUpti_RangeProfiler_GetCounterDataInfo_Params)

#define GP_FN_FIELD(name, type) CUptiResult (*name)(type *);
struct gp_cnt_fns {
    GP_CNT_FNS(GP_FN_FIELD)
};

/* Tensor Core metrics, most telling first (the last ones are dropped when one pass cannot
 * hold them all). Names from Nsight Compute's tables (notes/tensor-cores.md §3): the tensor
 * pipe as a whole, HMMA (Volta to Ada, and Hopper's non-warpgroup MMA), Hopper's GMMA, and
 * the warp-level instructions issued to the pipe. */
static const char *const gp_cnt_candidates[] = {
    "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active",
    "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
    "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active",
    "sm__inst_executed_pipe_tensor.sum",
};
#define GP_CNT_MAX (sizeof gp_cnt_candidates / sizeof gp_cnt_candidates[0])

enum { GP_CNT_IDLE, GP_CNT_RUNNING, GP_CNT_DONE };

/* Set up and read on the starting thread and the exit handler, one after the other. */
static struct {
    _Atomic int state;
    struct gp_cnt_fns f;
    const struct gp_cupti_api *api;
    int initialized; /* cuptiProfilerInitialize succeeded */
    gp_host_object *host;
    CUpti_RangeProfiler_Object *obj;
    uint8_t *avail, *config, *data;
    size_t config_size, data_size;
    const char *metrics[GP_CNT_MAX];
    size_t nmetrics;
    char chip[64];
} gp_cnt;

/* INFO records for the writer; a changed value is appended again (the report keeps the
 * latest value of a key). */
#define GP_CNT_INFO 24
static struct {
    pthread_mutex_t mu;
    char key[GP_CNT_INFO][112];
    char value[GP_CNT_INFO][200];
    unsigned n;
} gp_cnt_info = {.mu = PTHREAD_MUTEX_INITIALIZER};
static unsigned gp_cnt_written; /* writer thread: entries in this trace file */

static void put(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *key, const char *fmt, ...)
{
    pthread_mutex_lock(&gp_cnt_info.mu);
    if (gp_cnt_info.n < GP_CNT_INFO) {
        va_list ap;
        va_start(ap, fmt);
        snprintf(gp_cnt_info.key[gp_cnt_info.n], sizeof gp_cnt_info.key[0], "counters.%s", key);
        vsnprintf(gp_cnt_info.value[gp_cnt_info.n], sizeof gp_cnt_info.value[0], fmt, ap);
        va_end(ap);
        gp_cnt_info.n++;
    }
    pthread_mutex_unlock(&gp_cnt_info.mu);
}

static const char *result_name(CUptiResult r, char *buf, size_t len)
{
    const char *s = NULL;
    /* Named here: the message depends on them, whatever GetResultString knows. */
    if (r == CUPTI_ERROR_INSUFFICIENT_PRIVILEGES)
        return "CUPTI_ERROR_INSUFFICIENT_PRIVILEGES";
    if (r == CUPTI_ERROR_VIRTUALIZED_DEVICE_INSUFFICIENT_PRIVILEGES)
        return "CUPTI_ERROR_VIRTUALIZED_DEVICE_INSUFFICIENT_PRIVILEGES";
    if (gp_cnt.api->GetResultString(r, &s) == CUPTI_SUCCESS && s)
        return s;
    snprintf(buf, len, "CUPTI error %d", (int)r);
    return buf;
}

/* Releases whatever was set up, in reverse order. Only on the thread that set it up or the
 * exit handler, never both at once. */
static void teardown(void)
{
    if (gp_cnt.obj) {
        CUpti_RangeProfiler_Disable_Params p =
            GP_PARAMS(CUpti_RangeProfiler_Disable_Params, pRangeProfilerObject);
        p.pRangeProfilerObject = gp_cnt.obj;
        (void)gp_cnt.f.RangeProfilerDisable(&p);
        gp_cnt.obj = NULL;
    }
    if (gp_cnt.host) {
        struct gp_host_deinit p = GP_PARAMS(struct gp_host_deinit, pHostObject);
        p.pHostObject = gp_cnt.host;
        (void)gp_cnt.f.ProfilerHostDeinitialize(&p);
        gp_cnt.host = NULL;
    }
    if (gp_cnt.initialized) {
        CUpti_Profiler_DeInitialize_Params p = GP_PARAMS(CUpti_Profiler_DeInitialize_Params, pPriv);
        (void)gp_cnt.f.ProfilerDeInitialize(&p);
        gp_cnt.initialized = 0;
    }
    free(gp_cnt.avail);
    free(gp_cnt.config);
    free(gp_cnt.data);
    gp_cnt.avail = gp_cnt.config = gp_cnt.data = NULL;
}

/* Gives up on the counters: INFO status and reason, one warning, the rest untouched. */
static void give_up(const char *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void give_up(const char *status, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    teardown();
    atomic_store(&gp_cnt.state, GP_CNT_DONE);
    put("status", "%s", status);
    put("reason", "%s", why);
    if (strcmp(status, "no_permission") == 0)
        gp_shim_warn("Tensor Core counters (GPUPROF_COUNTERS=1) are not collected: the NVIDIA "
                     "driver lets only admin users read GPU performance counters (%.60s). Fix: "
                     "run as root or with CAP_SYS_ADMIN, or allow all users with 'options nvidia "
                     "NVreg_RestrictProfilingToAdminUsers=0' in a file in /etc/modprobe.d/, then "
                     "reload the nvidia module or reboot (Nsight Compute needs the same). Tracing "
                     "goes on",
                     strchr(why, ':') ? strchr(why, ':') + 2 : why);
    else
        gp_shim_warn("Tensor Core counters (GPUPROF_COUNTERS=1) are not collected: %s; kernel "
                     "and memory tracing go on", why);
    gp_writer_wake();
}

/* One CUPTI call of the set-up or read-out: 0, or -1 with the counters given up. */
static int check(const char *what, CUptiResult r)
{
    char buf[32];
    if (r == CUPTI_SUCCESS)
        return 0;
    const char *status = "failed";
    switch (r) {
    case CUPTI_ERROR_INSUFFICIENT_PRIVILEGES:
    case CUPTI_ERROR_VIRTUALIZED_DEVICE_INSUFFICIENT_PRIVILEGES:
        status = "no_permission";
        break;
    case CUPTI_ERROR_NOT_SUPPORTED:
    case CUPTI_ERROR_VIRTUALIZED_DEVICE_NOT_SUPPORTED:
    case CUPTI_ERROR_CONFIDENTIAL_COMPUTING_NOT_SUPPORTED:
    case CUPTI_ERROR_CMP_DEVICE_NOT_SUPPORTED:
    case CUPTI_ERROR_MIG_DEVICE_NOT_SUPPORTED:
    case CUPTI_ERROR_SLI_DEVICE_NOT_SUPPORTED:
    case CUPTI_ERROR_WSL_DEVICE_NOT_SUPPORTED:
        status = "unsupported";
        break;
    default:
        break;
    }
    give_up(status, "cupti%s: %s", what, result_name(r, buf, sizeof buf));
    return -1;
}

#define GP_FN_SYM(name, type)                                                                  \
    if (!(gp_cnt.f.name = (__typeof__(gp_cnt.f.name))dlsym(h, "cupti" #name)))                 \
        return "cupti" #name;
static const char *resolve(void *h)
{
    GP_CNT_FNS(GP_FN_SYM)
    return NULL;
}

/* The context the program's CUDA calls use on this thread, and its device ordinal, from a
 * libcuda already loaded (CUDA is initialised: the session starts after a CUDA call). */
static int current_context(CUcontext *ctx, int *dev)
{
    void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!h)
        return -1;
    CUresult (*get_current)(CUcontext *) = (CUresult(*)(CUcontext *))dlsym(h, "cuCtxGetCurrent");
    CUresult (*get_device)(CUdevice *) = (CUresult(*)(CUdevice *))dlsym(h, "cuCtxGetDevice");
    CUdevice d = 0;
    int ok = get_current && get_device && get_current(ctx) == CUDA_SUCCESS && *ctx &&
             get_device(&d) == CUDA_SUCCESS;
    dlclose(h); /* still loaded: NOLOAD took a reference to a loaded object only */
    *dev = (int)d;
    return ok ? 0 : -1;
}

/* Keeps the candidates the chip's base-metric lists name. */
static int choose_metrics(void)
{
    gp_cnt.nmetrics = 0;
    for (size_t c = 0; c < GP_CNT_MAX; c++) {
        const char *want = gp_cnt_candidates[c];
        size_t base = strcspn(want, ".");
        int found = 0;
        for (int type = 0; type < 3 && !found; type++) {
            struct gp_host_base_metrics p = GP_PARAMS(struct gp_host_base_metrics, numMetrics);
            p.pHostObject = gp_cnt.host;
            p.metricType = type;
            if (check("ProfilerHostGetBaseMetrics", gp_cnt.f.ProfilerHostGetBaseMetrics(&p)) < 0)
                return -1;
            for (size_t i = 0; i < p.numMetrics && !found; i++)
                found = p.ppMetricNames[i] && strlen(p.ppMetricNames[i]) == base &&
                        strncmp(p.ppMetricNames[i], want, base) == 0;
        }
        if (found)
            gp_cnt.metrics[gp_cnt.nmetrics++] = want;
    }
    return 0;
}

static int host_init(void)
{
    struct gp_host_init p = GP_PARAMS(struct gp_host_init, pHostObject);
    p.profilerType = 0; /* CUPTI_PROFILER_TYPE_RANGE_PROFILER */
    p.pChipName = gp_cnt.chip;
    p.pCounterAvailabilityImage = gp_cnt.avail;
    if (check("ProfilerHostInitialize", gp_cnt.f.ProfilerHostInitialize(&p)) < 0)
        return -1;
    gp_cnt.host = p.pHostObject;
    return 0;
}

/* The config image of the first n metrics and its number of passes; 0 or -1 (given up). */
static int config_image(size_t n, size_t *passes)
{
    struct gp_host_add_metrics a = GP_PARAMS(struct gp_host_add_metrics, numMetrics);
    a.pHostObject = gp_cnt.host;
    a.ppMetricNames = gp_cnt.metrics;
    a.numMetrics = n;
    if (check("ProfilerHostConfigAddMetrics", gp_cnt.f.ProfilerHostConfigAddMetrics(&a)) < 0)
        return -1;
    struct gp_host_config_size s = GP_PARAMS(struct gp_host_config_size, configImageSize);
    s.pHostObject = gp_cnt.host;
    if (check("ProfilerHostGetConfigImageSize", gp_cnt.f.ProfilerHostGetConfigImageSize(&s)) < 0)
        return -1;
    free(gp_cnt.config);
    gp_cnt.config_size = s.configImageSize;
    if (!(gp_cnt.config = calloc(1, s.configImageSize ? s.configImageSize : 1))) {
        give_up("failed", "no memory for a config image of %zu bytes", s.configImageSize);
        return -1;
    }
    struct gp_host_config c = GP_PARAMS(struct gp_host_config, pConfigImage);
    c.pHostObject = gp_cnt.host;
    c.configImageSize = gp_cnt.config_size;
    c.pConfigImage = gp_cnt.config;
    if (check("ProfilerHostGetConfigImage", gp_cnt.f.ProfilerHostGetConfigImage(&c)) < 0)
        return -1;
    struct gp_host_passes np = GP_PARAMS(struct gp_host_passes, numOfPasses);
    np.configImageSize = gp_cnt.config_size;
    np.pConfigImage = gp_cnt.config;
    if (check("ProfilerHostGetNumOfPasses", gp_cnt.f.ProfilerHostGetNumOfPasses(&np)) < 0)
        return -1;
    *passes = np.numOfPasses;
    return 0;
}

/* Host side: chip, counter availability, metrics, a one-pass config image. */
static int set_up_host(CUcontext ctx, int dev)
{
    CUpti_Device_GetChipName_Params cn = GP_PARAMS(CUpti_Device_GetChipName_Params, pChipName);
    cn.deviceIndex = (size_t)dev;
    if (check("DeviceGetChipName", gp_cnt.f.DeviceGetChipName(&cn)) < 0)
        return -1;
    snprintf(gp_cnt.chip, sizeof gp_cnt.chip, "%s", cn.pChipName ? cn.pChipName : "");
    put("chip", "%s", gp_cnt.chip);
    put("device", "%d", dev);
    /* Without permission this is where the driver usually says no. */
    CUpti_Profiler_GetCounterAvailability_Params av =
        GP_PARAMS(CUpti_Profiler_GetCounterAvailability_Params, pCounterAvailabilityImage);
    av.ctx = ctx;
    if (check("ProfilerGetCounterAvailability", gp_cnt.f.ProfilerGetCounterAvailability(&av)) < 0)
        return -1;
    if (!(gp_cnt.avail = calloc(1, av.counterAvailabilityImageSize + 1))) {
        give_up("failed", "no memory for the counter availability image");
        return -1;
    }
    av.pCounterAvailabilityImage = gp_cnt.avail;
    if (check("ProfilerGetCounterAvailability", gp_cnt.f.ProfilerGetCounterAvailability(&av)) < 0 ||
        host_init() < 0 || choose_metrics() < 0)
        return -1;
    if (gp_cnt.nmetrics == 0) {
        give_up("unsupported", "chip %s has none of the Tensor Core metrics gpuprof knows",
                gp_cnt.chip);
        return -1;
    }
    /* User replay cannot run the program twice: drop metrics until one pass holds them. */
    for (size_t n = gp_cnt.nmetrics;; n--) {
        size_t passes = 0;
        if (config_image(n, &passes) < 0)
            return -1;
        if (passes <= 1) {
            gp_cnt.nmetrics = n;
            return 0;
        }
        if (n == 1) {
            give_up("unsupported", "%s needs %zu passes, and a run is measured once",
                    gp_cnt.metrics[0], passes);
            return -1;
        }
        /* metrics added to a host object stay: a fresh one for the shorter list */
        struct gp_host_deinit d = GP_PARAMS(struct gp_host_deinit, pHostObject);
        d.pHostObject = gp_cnt.host;
        (void)gp_cnt.f.ProfilerHostDeinitialize(&d);
        gp_cnt.host = NULL;
        if (host_init() < 0)
            return -1;
    }
}

/* Target side: the range profiler on ctx, its counter data image, the run's range. */
static int set_up_target(CUcontext ctx)
{
    CUpti_RangeProfiler_Enable_Params en =
        GP_PARAMS(CUpti_RangeProfiler_Enable_Params, pRangeProfilerObject);
    en.ctx = ctx;
    if (check("RangeProfilerEnable", gp_cnt.f.RangeProfilerEnable(&en)) < 0)
        return -1;
    gp_cnt.obj = en.pRangeProfilerObject;
    CUpti_RangeProfiler_GetCounterDataSize_Params ds =
        GP_PARAMS(CUpti_RangeProfiler_GetCounterDataSize_Params, counterDataSize);
    ds.pRangeProfilerObject = gp_cnt.obj;
    ds.pMetricNames = gp_cnt.metrics;
    ds.numMetrics = gp_cnt.nmetrics;
    ds.maxNumOfRanges = 1;
    ds.maxNumRangeTreeNodes = 1;
    if (check("RangeProfilerGetCounterDataSize", gp_cnt.f.RangeProfilerGetCounterDataSize(&ds)) < 0)
        return -1;
    gp_cnt.data_size = ds.counterDataSize;
    if (!(gp_cnt.data = calloc(1, ds.counterDataSize ? ds.counterDataSize : 1))) {
        give_up("failed", "no memory for a counter data image of %zu bytes", ds.counterDataSize);
        return -1;
    }
    CUpti_RangeProfiler_CounterDataImage_Initialize_Params ci =
        GP_PARAMS(CUpti_RangeProfiler_CounterDataImage_Initialize_Params, pCounterData);
    ci.pRangeProfilerObject = gp_cnt.obj;
    ci.counterDataSize = gp_cnt.data_size;
    ci.pCounterData = gp_cnt.data;
    if (check("RangeProfilerCounterDataImageInitialize",
              gp_cnt.f.RangeProfilerCounterDataImageInitialize(&ci)) < 0)
        return -1;
    CUpti_RangeProfiler_SetConfig_Params sc =
        GP_PARAMS(CUpti_RangeProfiler_SetConfig_Params, targetNestingLevel);
    sc.pRangeProfilerObject = gp_cnt.obj;
    sc.configSize = gp_cnt.config_size;
    sc.pConfig = gp_cnt.config;
    sc.counterDataImageSize = gp_cnt.data_size;
    sc.pCounterDataImage = gp_cnt.data;
    sc.range = CUPTI_UserRange;
    sc.replayMode = CUPTI_UserReplay;
    sc.maxRangesPerPass = 1;
    sc.numNestingLevels = 1;
    sc.minNestingLevel = 1;
    sc.passIndex = 0;
    sc.targetNestingLevel = 1;
    if (check("RangeProfilerSetConfig", gp_cnt.f.RangeProfilerSetConfig(&sc)) < 0)
        return -1;
    CUpti_RangeProfiler_Start_Params st =
        GP_PARAMS(CUpti_RangeProfiler_Start_Params, pRangeProfilerObject);
    st.pRangeProfilerObject = gp_cnt.obj;
    if (check("RangeProfilerStart", gp_cnt.f.RangeProfilerStart(&st)) < 0)
        return -1;
    CUpti_RangeProfiler_PushRange_Params pr =
        GP_PARAMS(CUpti_RangeProfiler_PushRange_Params, pRangeName);
    pr.pRangeProfilerObject = gp_cnt.obj;
    pr.pRangeName = "run";
    return check("RangeProfilerPushRange", gp_cnt.f.RangeProfilerPushRange(&pr));
}

static void atfork_child(void)
{
    /* CUPTI does not follow a fork: the values will be the parent's. */
    pthread_mutex_init(&gp_cnt_info.mu, NULL);
    gp_cnt_info.n = 0;
    atomic_store(&gp_cnt.state, GP_CNT_DONE);
}

void gp_cupti_counters_start(void)
{
    if (!gp_shim_g.opt.counters || atomic_load(&gp_cnt.state) != GP_CNT_IDLE)
        return;
    gp_cnt.api = gp_cupti_api_loaded();
    atomic_store(&gp_cnt.state, GP_CNT_DONE); /* until the range runs */
    pthread_atfork(NULL, NULL, atfork_child);
    const char *missing = resolve(gp_cnt.api->handle);
    if (missing) {
        give_up("unsupported", "%.160s has no %s (the Range Profiler is in CUPTI 12.6 and newer)",
                gp_cnt.api->path, missing);
        return;
    }
    CUcontext ctx = NULL;
    int dev = 0;
    if (current_context(&ctx, &dev) < 0) {
        give_up("failed", "no CUDA context is current on the thread that started CUPTI");
        return;
    }
    CUpti_Profiler_Initialize_Params ip = GP_PARAMS(CUpti_Profiler_Initialize_Params, pPriv);
    if (check("ProfilerInitialize", gp_cnt.f.ProfilerInitialize(&ip)) < 0)
        return;
    gp_cnt.initialized = 1;
    if (set_up_host(ctx, dev) < 0 || set_up_target(ctx) < 0)
        return;
    put("scope", "run");
    put("status", "started");
    atomic_store(&gp_cnt.state, GP_CNT_RUNNING);
    gp_writer_wake();
}

void gp_cupti_counters_stop(void)
{
    int running = GP_CNT_RUNNING;
    if (!atomic_compare_exchange_strong(&gp_cnt.state, &running, GP_CNT_DONE))
        return;
    CUpti_RangeProfiler_PopRange_Params pp =
        GP_PARAMS(CUpti_RangeProfiler_PopRange_Params, pRangeProfilerObject);
    pp.pRangeProfilerObject = gp_cnt.obj;
    if (check("RangeProfilerPopRange", gp_cnt.f.RangeProfilerPopRange(&pp)) < 0)
        return;
    CUpti_RangeProfiler_Stop_Params sp =
        GP_PARAMS(CUpti_RangeProfiler_Stop_Params, isAllPassSubmitted);
    sp.pRangeProfilerObject = gp_cnt.obj;
    if (check("RangeProfilerStop", gp_cnt.f.RangeProfilerStop(&sp)) < 0)
        return;
    if (!sp.isAllPassSubmitted) {
        give_up("failed", "CUPTI asked for another pass, and a run is measured once");
        return;
    }
    CUpti_RangeProfiler_DecodeData_Params dd =
        GP_PARAMS(CUpti_RangeProfiler_DecodeData_Params, numOfRangeDropped);
    dd.pRangeProfilerObject = gp_cnt.obj;
    if (check("RangeProfilerDecodeData", gp_cnt.f.RangeProfilerDecodeData(&dd)) < 0)
        return;
    CUpti_RangeProfiler_GetCounterDataInfo_Params di =
        GP_PARAMS(CUpti_RangeProfiler_GetCounterDataInfo_Params, numTotalRanges);
    di.pCounterDataImage = gp_cnt.data;
    di.counterDataImageSize = gp_cnt.data_size;
    if (check("RangeProfilerGetCounterDataInfo", gp_cnt.f.RangeProfilerGetCounterDataInfo(&di)) < 0)
        return;
    if (di.numTotalRanges < 1) {
        give_up("failed", "the run's range was not recorded (%zu dropped)", dd.numOfRangeDropped);
        return;
    }
    double values[GP_CNT_MAX] = {0};
    struct gp_host_evaluate ev = GP_PARAMS(struct gp_host_evaluate, pMetricValues);
    ev.pHostObject = gp_cnt.host;
    ev.pCounterDataImage = gp_cnt.data;
    ev.counterDataImageSize = gp_cnt.data_size;
    ev.rangeIndex = 0;
    ev.ppMetricNames = gp_cnt.metrics;
    ev.numMetrics = gp_cnt.nmetrics;
    ev.pMetricValues = values;
    if (check("ProfilerHostEvaluateToGpuValues", gp_cnt.f.ProfilerHostEvaluateToGpuValues(&ev)) < 0)
        return;
    for (size_t i = 0; i < gp_cnt.nmetrics; i++) {
        char key[96];
        snprintf(key, sizeof key, "metric.%s", gp_cnt.metrics[i]);
        put(key, "%.15g", values[i]);
    }
    put("status", "collected");
    teardown();
    gp_writer_wake();
}

void gp_cupti_counters_trace_opened(void) { gp_cnt_written = 0; }

int gp_cupti_counters_drain(struct gp_trace_writer *w)
{
    char key[sizeof gp_cnt_info.key[0]], value[sizeof gp_cnt_info.value[0]];
    for (;;) {
        pthread_mutex_lock(&gp_cnt_info.mu);
        int more = gp_cnt_written < gp_cnt_info.n;
        if (more) {
            memcpy(key, gp_cnt_info.key[gp_cnt_written], sizeof key);
            memcpy(value, gp_cnt_info.value[gp_cnt_written], sizeof value);
        }
        pthread_mutex_unlock(&gp_cnt_info.mu);
        if (!more)
            return 0;
        if (w) {
            int rc = gp_trace_writer_info(w, key, value);
            if (rc < 0)
                return rc;
        }
        gp_cnt_written++;
    }
}
