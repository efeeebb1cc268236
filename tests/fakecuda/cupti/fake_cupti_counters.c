/* fake_cupti_counters.c — the part of CUPTI's profiling API that gpuprof's GPUPROF_COUNTERS=1
 * drives (cupti/counters.c): cuptiProfilerInitialize, cuptiDeviceGetChipName, the counter
 * availability image, the host API (cupti_profiler_host.h: base metrics, config image,
 * passes, evaluation) and the Range Profiler (cupti_range_profiler.h). It checks the order
 * of the calls the way the real library's state machine would refuse them (enable before
 * configuring, configure before start, a range pushed and popped inside start/stop, decode
 * after stop), so a client that drives it wrongly gets errors, not values.
 *
 * FAKECUPTI_COUNTERS (read at each call):
 *   values (default)  chip GA100, whose base metrics name HMMA cycles and tensor-pipe
 *                     instructions: 37.5 % and 123456
 *   hopper            chip GH100, naming all four metrics gpuprof knows (tensor pipe 41.25 %,
 *                     HMMA 3.5 %, GMMA 40 %, instructions 987654); more than 3 metrics need
 *                     2 passes
 *   idle              as values, but every metric reads 0 (no Tensor Core work)
 *   denied            cuptiProfilerGetCounterAvailability: CUPTI_ERROR_INSUFFICIENT_PRIVILEGES
 *   denied_start      cuptiRangeProfilerStart: CUPTI_ERROR_INSUFFICIENT_PRIVILEGES
 *   nometrics         chip TU117, no Tensor Core metric in its lists
 * FAKECUPTI_COUNTERS_STATS=FILE: at unload, "calls=N ranges=R" (counter API calls made,
 * ranges decoded) into FILE, so a test can see that GPUPROF_COUNTERS=0 made no call.
 *
 * cupti_profiler_host.h compiles as C++ only, so its structs are restated here, field for
 * field, from CUDA 13.0's header. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>

#include "fake_cupti_int.h"

typedef struct fake_host fake_host;
struct host_init {
    size_t structSize;
    void *pPriv;
    int profilerType;
    const char *pChipName;
    const uint8_t *pCounterAvailabilityImage;
    fake_host *pHostObject;
};
struct host_deinit {
    size_t structSize;
    void *pPriv;
    fake_host *pHostObject;
};
struct host_base_metrics {
    size_t structSize;
    void *pPriv;
    fake_host *pHostObject;
    int metricType;
    const char **ppMetricNames;
    size_t numMetrics;
};
struct host_add_metrics {
    size_t structSize;
    void *pPriv;
    fake_host *pHostObject;
    const char **ppMetricNames;
    size_t numMetrics;
};
struct host_config_size {
    size_t structSize;
    void *pPriv;
    fake_host *pHostObject;
    size_t configImageSize;
};
struct host_config {
    size_t structSize;
    void *pPriv;
    fake_host *pHostObject;
    size_t configImageSize;
    uint8_t *pConfigImage;
};
struct host_passes {
    size_t structSize;
    void *pPriv;
    size_t configImageSize;
    uint8_t *pConfigImage;
    size_t numOfPasses;
};
struct host_evaluate {
    size_t structSize;
    void *pPriv;
    fake_host *pHostObject;
    const uint8_t *pCounterDataImage;
    size_t counterDataImageSize;
    size_t rangeIndex;
    const char **ppMetricNames;
    size_t numMetrics;
    double *pMetricValues;
};

#define MAX_METRICS 8
struct fake_host {
    char chip[16];
    size_t nmetrics;
    char metrics[MAX_METRICS][96];
};

/* The counter data image: a header the fake writes and checks, then room for nothing. */
struct data_image {
    char magic[8]; /* "FKDATA" */
    size_t nmetrics, ranges;
};
#define CONFIG_MAGIC "FKCONFIG"

static struct {
    pthread_mutex_t mu;
    int initialized;
    int enabled, configured, started, pushed, popped, stopped;
    size_t ranges_decoded;
    uint8_t *data;   /* the client's counter data image, as configured */
    uint64_t calls;  /* every counter API call */
} fc = {.mu = PTHREAD_MUTEX_INITIALIZER};
static CUpti_RangeProfiler_Object *const fake_object = (CUpti_RangeProfiler_Object *)&fc;

static const char *mode(void)
{
    const char *m = getenv("FAKECUPTI_COUNTERS");
    return m && *m ? m : "values";
}

static int is(const char *m) { return strcmp(mode(), m) == 0; }

/* Counts the call, checks structSize; 0 or an error. */
static CUptiResult enter(const void *params)
{
    fake_api_call();
    pthread_mutex_lock(&fc.mu);
    fc.calls++;
    pthread_mutex_unlock(&fc.mu);
    return params && *(const size_t *)params ? CUPTI_SUCCESS : CUPTI_ERROR_INVALID_PARAMETER;
}

#define ENTER(p)                                                                               \
    do {                                                                                       \
        CUptiResult r_ = enter(p);                                                             \
        if (r_ != CUPTI_SUCCESS)                                                               \
            return r_;                                                                         \
    } while (0)

static const char *chip(void) { return is("hopper") ? "GH100" : is("nometrics") ? "TU117" : "GA100"; }

/* Base metrics of the chip by type (0 counter, 1 ratio, 2 throughput). */
static const char *const ga100_counters[] = {"sm__cycles_active", "sm__pipe_tensor_op_hmma_cycles_active",
                                             "sm__inst_executed_pipe_tensor", "sm__pipe_fma_cycles_active"};
static const char *const gh100_counters[] = {"sm__cycles_active", "sm__pipe_tensor_cycles_active",
                                             "sm__pipe_tensor_op_hmma_cycles_active",
                                             "sm__pipe_tensor_op_gmma_cycles_active",
                                             "sm__inst_executed_pipe_tensor"};
static const char *const tu117_counters[] = {"sm__cycles_active", "sm__pipe_fma_cycles_active"};
static const char *const ratios[] = {"sm__warps_active"};

static double value_of(const char *metric)
{
    static const struct { const char *chip, *name; double v; } t[] = {
        {"GA100", "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active", 37.5},
        {"GA100", "sm__inst_executed_pipe_tensor.sum", 123456},
        {"GH100", "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active", 41.25},
        {"GH100", "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active", 3.5},
        {"GH100", "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active", 40},
        {"GH100", "sm__inst_executed_pipe_tensor.sum", 987654},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].chip, chip()) == 0 && strcmp(t[i].name, metric) == 0)
            return is("idle") ? 0 : t[i].v;
    return -1;
}

CUptiResult CUPTIAPI cuptiProfilerInitialize(CUpti_Profiler_Initialize_Params *p)
{
    ENTER(p);
    fc.initialized = 1;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerDeInitialize(CUpti_Profiler_DeInitialize_Params *p)
{
    ENTER(p);
    if (fc.enabled)
        return CUPTI_ERROR_INVALID_OPERATION; /* the range profiler is still on */
    fc.initialized = 0;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiDeviceGetChipName(CUpti_Device_GetChipName_Params *p)
{
    ENTER(p);
    if (!fc.initialized || p->deviceIndex >= 16)
        return CUPTI_ERROR_INVALID_PARAMETER;
    p->pChipName = chip();
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerGetCounterAvailability(CUpti_Profiler_GetCounterAvailability_Params *p)
{
    ENTER(p);
    if (!fc.initialized || !p->ctx)
        return CUPTI_ERROR_INVALID_PARAMETER;
    if (is("denied"))
        return CUPTI_ERROR_INSUFFICIENT_PRIVILEGES;
    if (p->pCounterAvailabilityImage) {
        if (p->counterAvailabilityImageSize < 16)
            return CUPTI_ERROR_INVALID_PARAMETER;
        memcpy(p->pCounterAvailabilityImage, "FKAVAIL", 8);
    }
    p->counterAvailabilityImageSize = 16;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostInitialize(struct host_init *p)
{
    ENTER(p);
    if (p->profilerType != 0 || !p->pChipName || strcmp(p->pChipName, chip()) != 0 ||
        !p->pCounterAvailabilityImage || memcmp(p->pCounterAvailabilityImage, "FKAVAIL", 8) != 0)
        return CUPTI_ERROR_INVALID_PARAMETER;
    fake_host *h = calloc(1, sizeof *h);
    if (!h)
        return CUPTI_ERROR_OUT_OF_MEMORY;
    snprintf(h->chip, sizeof h->chip, "%s", p->pChipName);
    p->pHostObject = h;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostDeinitialize(struct host_deinit *p)
{
    ENTER(p);
    if (!p->pHostObject)
        return CUPTI_ERROR_INVALID_PARAMETER;
    free(p->pHostObject);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostGetBaseMetrics(struct host_base_metrics *p)
{
    ENTER(p);
    if (!p->pHostObject || p->metricType < 0 || p->metricType > 2)
        return CUPTI_ERROR_INVALID_PARAMETER;
    static const char *none[1];
    const char *const *list = none;
    size_t n = 0;
    if (p->metricType == 0) {
        list = is("hopper") ? gh100_counters : is("nometrics") ? tu117_counters : ga100_counters;
        n = is("hopper") ? 5 : is("nometrics") ? 2 : 4;
    } else if (p->metricType == 1) {
        list = ratios, n = 1;
    }
    p->ppMetricNames = (const char **)list;
    p->numMetrics = n;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostConfigAddMetrics(struct host_add_metrics *p)
{
    ENTER(p);
    fake_host *h = p->pHostObject;
    if (!h || !p->ppMetricNames || h->nmetrics + p->numMetrics > MAX_METRICS)
        return CUPTI_ERROR_INVALID_PARAMETER;
    for (size_t i = 0; i < p->numMetrics; i++)
        if (value_of(p->ppMetricNames[i]) < 0)
            return CUPTI_ERROR_INVALID_METRIC_NAME;
    for (size_t i = 0; i < p->numMetrics; i++) /* accumulates, as the real one does */
        snprintf(h->metrics[h->nmetrics++], sizeof h->metrics[0], "%s", p->ppMetricNames[i]);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostGetConfigImageSize(struct host_config_size *p)
{
    ENTER(p);
    if (!p->pHostObject || !p->pHostObject->nmetrics)
        return CUPTI_ERROR_INVALID_OPERATION;
    p->configImageSize = 16;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostGetConfigImage(struct host_config *p)
{
    ENTER(p);
    if (!p->pHostObject || !p->pConfigImage || p->configImageSize < 16)
        return CUPTI_ERROR_INVALID_PARAMETER;
    memcpy(p->pConfigImage, CONFIG_MAGIC, 8);
    uint64_t n = p->pHostObject->nmetrics;
    memcpy(p->pConfigImage + 8, &n, sizeof n);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostGetNumOfPasses(struct host_passes *p)
{
    ENTER(p);
    uint64_t n;
    if (!p->pConfigImage || p->configImageSize < 16 || memcmp(p->pConfigImage, CONFIG_MAGIC, 8) != 0)
        return CUPTI_ERROR_INVALID_PARAMETER;
    memcpy(&n, p->pConfigImage + 8, sizeof n);
    p->numOfPasses = n > 3 ? 2 : 1;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerEnable(CUpti_RangeProfiler_Enable_Params *p)
{
    ENTER(p);
    if (!fc.initialized || !p->ctx || fc.enabled)
        return CUPTI_ERROR_INVALID_OPERATION;
    fc.enabled = 1;
    p->pRangeProfilerObject = fake_object;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerDisable(CUpti_RangeProfiler_Disable_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !fc.enabled)
        return CUPTI_ERROR_INVALID_OPERATION;
    fc.enabled = fc.configured = fc.started = 0;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerGetCounterDataSize(CUpti_RangeProfiler_GetCounterDataSize_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !p->numMetrics || !p->maxNumOfRanges ||
        p->maxNumRangeTreeNodes < p->maxNumOfRanges)
        return CUPTI_ERROR_INVALID_PARAMETER;
    p->counterDataSize = sizeof(struct data_image);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerCounterDataImageInitialize(
    CUpti_RangeProfiler_CounterDataImage_Initialize_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !p->pCounterData ||
        p->counterDataSize < sizeof(struct data_image))
        return CUPTI_ERROR_INVALID_PARAMETER;
    struct data_image d = {.magic = "FKDATA"};
    memcpy(p->pCounterData, &d, sizeof d);
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerSetConfig(CUpti_RangeProfiler_SetConfig_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !fc.enabled)
        return CUPTI_ERROR_INVALID_OPERATION;
    if (!p->pConfig || p->configSize < 16 || memcmp(p->pConfig, CONFIG_MAGIC, 8) != 0 ||
        !p->pCounterDataImage || memcmp(p->pCounterDataImage, "FKDATA", 6) != 0 ||
        p->range != CUPTI_UserRange || p->replayMode != CUPTI_UserReplay ||
        p->maxRangesPerPass < 1 || p->numNestingLevels != 1 || p->minNestingLevel != 1)
        return CUPTI_ERROR_INVALID_PARAMETER;
    fc.data = p->pCounterDataImage;
    fc.configured = 1;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerStart(CUpti_RangeProfiler_Start_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !fc.configured || fc.started)
        return CUPTI_ERROR_INVALID_OPERATION;
    if (is("denied_start"))
        return CUPTI_ERROR_INSUFFICIENT_PRIVILEGES;
    fc.started = 1;
    fc.pushed = fc.popped = fc.stopped = 0;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerPushRange(CUpti_RangeProfiler_PushRange_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !fc.started || fc.pushed || !p->pRangeName)
        return CUPTI_ERROR_INVALID_OPERATION;
    fc.pushed = 1;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerPopRange(CUpti_RangeProfiler_PopRange_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !fc.pushed || fc.popped)
        return CUPTI_ERROR_INVALID_OPERATION;
    fc.popped = 1;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerStop(CUpti_RangeProfiler_Stop_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !fc.started || fc.pushed != fc.popped)
        return CUPTI_ERROR_INVALID_OPERATION;
    fc.started = 0;
    fc.stopped = 1;
    p->isAllPassSubmitted = 1;
    p->passIndex = 1;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerDecodeData(CUpti_RangeProfiler_DecodeData_Params *p)
{
    ENTER(p);
    if (p->pRangeProfilerObject != fake_object || !fc.stopped || !fc.data)
        return CUPTI_ERROR_INVALID_OPERATION;
    struct data_image d;
    memcpy(&d, fc.data, sizeof d);
    d.ranges = fc.popped ? 1 : 0;
    memcpy(fc.data, &d, sizeof d);
    fc.ranges_decoded += d.ranges;
    p->numOfRangeDropped = 0;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiRangeProfilerGetCounterDataInfo(CUpti_RangeProfiler_GetCounterDataInfo_Params *p)
{
    ENTER(p);
    struct data_image d;
    if (!p->pCounterDataImage || p->counterDataImageSize < sizeof d)
        return CUPTI_ERROR_INVALID_PARAMETER;
    memcpy(&d, p->pCounterDataImage, sizeof d);
    p->numTotalRanges = d.ranges;
    return CUPTI_SUCCESS;
}

CUptiResult CUPTIAPI cuptiProfilerHostEvaluateToGpuValues(struct host_evaluate *p)
{
    ENTER(p);
    struct data_image d;
    if (!p->pHostObject || !p->pCounterDataImage || p->counterDataImageSize < sizeof d ||
        !p->pMetricValues || !p->ppMetricNames)
        return CUPTI_ERROR_INVALID_PARAMETER;
    memcpy(&d, p->pCounterDataImage, sizeof d);
    if (p->rangeIndex >= d.ranges)
        return CUPTI_ERROR_INVALID_PARAMETER;
    for (size_t i = 0; i < p->numMetrics; i++) {
        double v = value_of(p->ppMetricNames[i]);
        if (v < 0)
            return CUPTI_ERROR_INVALID_METRIC_NAME;
        p->pMetricValues[i] = v;
    }
    return CUPTI_SUCCESS;
}

__attribute__((destructor)) static void fake_counters_stats(void)
{
    const char *path = getenv("FAKECUPTI_COUNTERS_STATS");
    FILE *f = path && *path ? fopen(path, "w") : NULL;
    if (!f)
        return;
    fprintf(f, "calls=%llu ranges=%zu\n", (unsigned long long)fc.calls, fc.ranges_decoded);
    fclose(f);
}
