/* user_inject.c — libgp_nvtx_user.so, a stand-in for an NVTX injection library the user
 * (or Nsight) chose with NVTX_INJECTION64_PATH, for tests/e2e/test_nvtx.py: gpuprof must
 * leave that choice alone. Its InitializeInjectionNvtx2 handles nvtxMarkA, nvtxRangePushA and
 * nvtxRangeStartA by appending "mark NAME", "push NAME", "start NAME" lines to the file
 * GP_NVTX_USER_LOG, so the test sees which NVTX calls reached it. */
#include <stdio.h>
#include <stdlib.h>

#define NVTX_NO_IMPL /* the tool side: types and ids only */
#include <nvtx3/nvToolsExt.h>

static void log_line(const char *what, const char *name)
{
    const char *path = getenv("GP_NVTX_USER_LOG");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f)
        return;
    fprintf(f, "%s %s\n", what, name ? name : "(null)");
    fclose(f);
}

static void NVTX_API user_mark_a(const char *message) { log_line("mark", message); }

static int NVTX_API user_push_a(const char *message)
{
    log_line("push", message);
    return 0;
}

static nvtxRangeId_t NVTX_API user_start_a(const char *message)
{
    log_line("start", message);
    return 1;
}

__attribute__((visibility("default"))) int NVTX_API
InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_export_table);
int NVTX_API InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_export_table)
{
    const NvtxExportTableCallbacks *cb = get_export_table(NVTX_ETID_CALLBACKS);
    NvtxFunctionTable table = NULL;
    unsigned size = 0;
    if (!cb || !cb->GetModuleFunctionTable ||
        !cb->GetModuleFunctionTable(NVTX_CB_MODULE_CORE, &table, &size) || !table ||
        size <= NVTX_CBID_CORE_RangePushA)
        return 0;
    *table[NVTX_CBID_CORE_MarkA] = (NvtxFunctionPointer)user_mark_a;
    *table[NVTX_CBID_CORE_RangePushA] = (NvtxFunctionPointer)user_push_a;
    *table[NVTX_CBID_CORE_RangeStartA] = (NvtxFunctionPointer)user_start_a;
    log_line("init", "user injection");
    return 1;
}
