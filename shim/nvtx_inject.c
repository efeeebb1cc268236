/* nvtx_inject.c — NVTX ranges and marks reach the trace with no setup by the user. CUPTI
 * records them (activity kind MARKER) only when it is NVTX's injection library: NVTX (the
 * header-only nvtx3 in PyTorch and in programs, or libnvToolsExt) reads
 * NVTX_INJECTION64_PATH at its first call, dlopens that library and calls its
 * InitializeInjectionNvtx2 with NVTX's export table. The load-time constructor points the
 * variable at libgpuprof.so itself when it is unset (a user's or Nsight's value is never
 * replaced), and the exported entry hands the table on to the libcupti the activity session
 * will use (cupti/session.c), so CUPTI sees every NVTX call from the first one.
 * The constructor does only getenv/realpath/setenv: no CUDA, no thread, no output.
 * GPUPROF_KERNELS=0 (or GPUPROF_ENABLE=0) leaves the environment alone. Children inherit the
 * variable, which is right: they load the shim through LD_PRELOAD too. */

#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "gp_cupti.h"
#include "internal.h"

#define GP_NVTX_ENV "NVTX_INJECTION64_PATH"

static bool env_off(const char *name)
{
    const char *v = getenv(name);
    bool on = true;
    return v != NULL && gp_shim_parse_bool(v, &on) == 0 && !on;
}

GP_EXPORT int InitializeInjectionNvtx2(gp_nvtx_export_table_fn get_export_table);

/* NVTX's entry, found by dlsym on the library NVTX_INJECTION64_PATH names. 0 means "no
 * injection": NVTX then turns every call into a no-op, as if the variable were unset. */
int InitializeInjectionNvtx2(gp_nvtx_export_table_fn get_export_table)
{
    /* A process that inherited the variable but not LD_PRELOAD has the shim only because
     * NVTX loaded it (RTLD_LOCAL): nothing traces there, so CUPTI is not loaded for it. The
     * main program's handle searches the global scope only (RTLD_DEFAULT would search the
     * caller's own scope too, which holds this library however it was loaded). */
    void *global = dlopen(NULL, RTLD_NOW);
    bool preloaded = global != NULL && dlsym(global, "InitializeInjectionNvtx2") ==
                                           (void *)InitializeInjectionNvtx2;
    if (global)
        dlclose(global);
    return preloaded ? gp_cupti_nvtx_inject(get_export_table) : 0;
}

__attribute__((constructor)) static void gp_shim_nvtx_boot(void)
{
    if (getenv(GP_NVTX_ENV) != NULL || env_off("GPUPROF_ENABLE") || env_off("GPUPROF_KERNELS"))
        return;
    Dl_info info;
    char path[PATH_MAX];
    /* Absolute and resolved: the program may change directory before its first NVTX call. */
    if (!dladdr((void *)&gp_shim_nvtx_boot, &info) || info.dli_fname == NULL ||
        realpath(info.dli_fname, path) == NULL)
        return;
    setenv(GP_NVTX_ENV, path, 0);
}
