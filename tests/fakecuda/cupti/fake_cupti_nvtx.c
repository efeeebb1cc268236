/* fake_cupti_nvtx.c — the fake libcupti as NVTX's injection library, as the real one is
 * when NVTX_INJECTION64_PATH names it (or a tool forwards NVTX's call to it): its
 * InitializeInjectionNvtx2 takes NVTX's export table, installs handlers in the CORE module's
 * function table, and each handled call becomes a MARKER activity record (CUpti_ActivityMarker2,
 * through fakecupti_emit_marker) when the client enabled that kind — calls made before are
 * lost, as they would be. Handled: nvtxMarkA, nvtxRangeStartA/nvtxRangeEnd and
 * nvtxRangePushA/nvtxRangePop (a per-thread stack; a START record at the push, an END record
 * with the same id at the pop). Every range gets a fresh id.
 * Built without it (FAKECUPTI_NO_NVTX) for the copy that stands for a CUPTI lacking the entry. */
#ifndef FAKECUPTI_NO_NVTX

#include <stdatomic.h>

#define NVTX_NO_IMPL /* the types and ids only: this is the tool side */
#include <nvtx3/nvToolsExt.h>

#include "fake_cupti_int.h"

#define FAKE_NVTX_DEPTH 64 /* deeper pushes are counted but not recorded */

static _Atomic uint32_t fake_nvtx_next = 1;
static __thread uint32_t fake_nvtx_stack[FAKE_NVTX_DEPTH];
static __thread int fake_nvtx_depth;

static uint32_t new_id(void) { return atomic_fetch_add(&fake_nvtx_next, 1); }

static void NVTX_API fake_mark_a(const char *message)
{
    (void)fakecupti_emit_marker(message, new_id(), CUPTI_ACTIVITY_FLAG_MARKER_INSTANTANEOUS);
}

static nvtxRangeId_t NVTX_API fake_range_start_a(const char *message)
{
    uint32_t id = new_id();
    (void)fakecupti_emit_marker(message, id, CUPTI_ACTIVITY_FLAG_MARKER_START);
    return id;
}

static void NVTX_API fake_range_end(nvtxRangeId_t id)
{
    (void)fakecupti_emit_marker(NULL, (uint32_t)id, CUPTI_ACTIVITY_FLAG_MARKER_END);
}

/* NVTX's contract: the 0-based level of the range pushed, of the range popped, or < 0. */
static int NVTX_API fake_range_push_a(const char *message)
{
    int level = fake_nvtx_depth++;
    if (level < FAKE_NVTX_DEPTH) {
        fake_nvtx_stack[level] = new_id();
        (void)fakecupti_emit_marker(message, fake_nvtx_stack[level],
                                    CUPTI_ACTIVITY_FLAG_MARKER_START);
    }
    return level;
}

static int NVTX_API fake_range_pop(void)
{
    if (fake_nvtx_depth == 0)
        return -1;
    int level = --fake_nvtx_depth;
    if (level < FAKE_NVTX_DEPTH)
        (void)fakecupti_emit_marker(NULL, fake_nvtx_stack[level], CUPTI_ACTIVITY_FLAG_MARKER_END);
    return level;
}

/* Points slot `id` of a module's table at fn, when NVTX's table has that slot. */
static void install(NvtxFunctionTable table, unsigned size, unsigned id, NvtxFunctionPointer fn)
{
    if (id < size && table[id])
        *table[id] = fn;
}

__attribute__((visibility("default"))) int NVTX_API
InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_export_table);
int NVTX_API InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_export_table)
{
    if (!get_export_table)
        return 0;
    const NvtxExportTableCallbacks *cb = get_export_table(NVTX_ETID_CALLBACKS);
    if (!cb || cb->struct_size < sizeof(*cb) || !cb->GetModuleFunctionTable)
        return 0;
    NvtxFunctionTable table = NULL;
    unsigned size = 0;
    if (!cb->GetModuleFunctionTable(NVTX_CB_MODULE_CORE, &table, &size) || !table)
        return 0;
    install(table, size, NVTX_CBID_CORE_MarkA, (NvtxFunctionPointer)fake_mark_a);
    install(table, size, NVTX_CBID_CORE_RangeStartA, (NvtxFunctionPointer)fake_range_start_a);
    install(table, size, NVTX_CBID_CORE_RangeEnd, (NvtxFunctionPointer)fake_range_end);
    install(table, size, NVTX_CBID_CORE_RangePushA, (NvtxFunctionPointer)fake_range_push_a);
    install(table, size, NVTX_CBID_CORE_RangePop, (NvtxFunctionPointer)fake_range_pop);
    /* A tool says which NVTX version it implements (NVTX ignores it today). */
    const NvtxExportTableVersionInfo *v = get_export_table(NVTX_ETID_VERSIONINFO);
    if (v && v->struct_size >= sizeof(*v) && v->SetInjectionNvtxVersion)
        v->SetInjectionNvtxVersion(NVTX_VERSION);
    pthread_mutex_lock(&fake_cupti_g.mu);
    fake_cupti_g.stats.nvtx_injections++;
    pthread_mutex_unlock(&fake_cupti_g.mu);
    return 1;
}

#else
typedef int fake_cupti_nvtx_left_out; /* ISO C wants something in a translation unit */
#endif
