/* loader.c — finds libcupti at run time; libgpuprof.so never links it, so a program without
 * CUPTI (or without a GPU) loads the shim all the same. The order, first hit wins:
 *   1. a copy the process already loaded (PyTorch loads its nvidia-cuda-cupti package's):
 *      two copies of CUPTI in one process would fight over the one subscriber;
 *   2. GPUPROF_CUPTI, a file or a directory; when set, nothing else is tried;
 *   3. the toolkit: $CUDA_HOME, $CUDA_PATH, /usr/local/cuda, each in lib64/ and
 *      extras/CUPTI/lib64/;
 *   4. a pip package next to the loaded libcudart: the same directory (CUDA 13 wheels put
 *      every library in nvidia/cu13/lib/) or ../../cuda_cupti/lib/ (CUDA 12 wheels:
 *      nvidia/cuda_runtime/lib/ and nvidia/cuda_cupti/lib/);
 *   5. the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache).
 * The major version follows the loaded runtime: .12 first when libcudart.so.12 is loaded
 * and libcudart.so.13 is not, else .13 first. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cupti_int.h"

/* Path of a loaded object by soname, or 0. */
static int loaded_path(const char *soname, char *out, size_t outlen, void **handle)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
    struct link_map *lm = NULL;
    if (!h)
        return 0;
    if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm || !lm->l_name || !lm->l_name[0])
        snprintf(out, outlen, "%s", soname);
    else
        snprintf(out, outlen, "%s", lm->l_name);
    if (handle)
        *handle = h;
    else
        dlclose(h); /* NOLOAD took a reference; the object stays loaded */
    return 1;
}

#define GP_SYM(api, name)                                                                          \
    (((api)->name = (__typeof__((api)->name))dlsym(h, "cupti" #name)) != NULL)

/* Resolves the functions from h; 0, or -ENOENT naming the first one missing. */
static int resolve(void *h, struct gp_cupti_api *api, char *why, size_t whylen)
{
    const char *missing = NULL;
    api->handle = h;
    if (!GP_SYM(api, GetVersion))
        missing = "cuptiGetVersion";
    else if (!GP_SYM(api, GetResultString))
        missing = "cuptiGetResultString";
    else if (!GP_SYM(api, Subscribe))
        missing = "cuptiSubscribe";
    else if (!GP_SYM(api, ActivityEnable))
        missing = "cuptiActivityEnable";
    else if (!GP_SYM(api, ActivityRegisterCallbacks))
        missing = "cuptiActivityRegisterCallbacks";
    else if (!GP_SYM(api, ActivityFlushAll))
        missing = "cuptiActivityFlushAll";
    else if (!GP_SYM(api, ActivityGetNextRecord))
        missing = "cuptiActivityGetNextRecord";
    else if (!GP_SYM(api, ActivityGetNumDroppedRecords))
        missing = "cuptiActivityGetNumDroppedRecords";
    else if (!GP_SYM(api, GetTimestamp))
        missing = "cuptiGetTimestamp";
    if (missing) {
        snprintf(why, whylen, "%.300s has no %s", api->path, missing);
        return -ENOENT;
    }
    (void)GP_SYM(api, Unsubscribe); /* optional */
    /* optional: without them library calls are not tied to their kernels */
    (void)GP_SYM(api, ActivityPushExternalCorrelationId);
    (void)GP_SYM(api, ActivityPopExternalCorrelationId);
    (void)GP_SYM(api, ActivityEnableRuntimeApi);
    (void)GP_SYM(api, ActivityEnableDriverApi);
    /* optional: without it NVTX ranges cannot reach this CUPTI (session.c says so) */
    api->InitializeInjectionNvtx2 =
        (__typeof__(api->InitializeInjectionNvtx2))dlsym(h, "InitializeInjectionNvtx2");
    return 0;
}

/* dlopen + resolve of one file; 0, -ENOENT (no such file: look further) or -EINVAL (it is
 * there but unusable: the reason in why, look further all the same). */
static int try_file(const char *path, struct gp_cupti_api *api, const char *how, char *why,
                    size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISDIR(st.st_mode))
        return -ENOENT;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, whylen, "cannot load %.300s: %.200s", path, e ? e : "unknown error");
        return -EINVAL;
    }
    snprintf(api->path, sizeof(api->path), "%s", path);
    api->how = how;
    /* A library without the functions stays loaded: unloading CUPTI is never safe. */
    return resolve(h, api, why, whylen) == 0 ? 0 : -EINVAL;
}

static int try_dir(const char *dir, const char *sub, const char *const names[2],
                   struct gp_cupti_api *api, const char *how, char *why, size_t whylen)
{
    char path[4096];
    for (int i = 0; i < 2; i++) {
        if ((size_t)snprintf(path, sizeof(path), "%s/%s%s", dir, sub, names[i]) >= sizeof(path))
            continue;
        if (try_file(path, api, how, why, whylen) == 0)
            return 0;
    }
    return -ENOENT;
}

void gp_cupti_default_roots(const char *roots[GP_CUPTI_NROOTS])
{
    roots[0] = getenv("CUDA_HOME");
    roots[1] = getenv("CUDA_PATH");
    roots[2] = "/usr/local/cuda";
}

int gp_cupti_load(struct gp_cupti_api *api, const char *option, const char *const *roots,
                  size_t nroots, char *why, size_t whylen)
{
    static const char *const v13[2] = {"libcupti.so.13", "libcupti.so.12"};
    static const char *const v12[2] = {"libcupti.so.12", "libcupti.so.13"};
    char rt[4096] = "";
    const char *const *names = v13;
    void *h = NULL;

    memset(api, 0, sizeof(*api));
    why[0] = '\0';
    if (!loaded_path("libcudart.so.13", rt, sizeof(rt), NULL) &&
        loaded_path("libcudart.so.12", rt, sizeof(rt), NULL))
        names = v12;

    /* 1. already loaded */
    for (int i = 0; i < 2; i++) {
        if (loaded_path(names[i], api->path, sizeof(api->path), &h)) {
            api->how = "already loaded by the program";
            return resolve(h, api, why, whylen);
        }
    }
    /* 2. GPUPROF_CUPTI, and nothing else */
    if (option && option[0]) {
        struct stat st;
        int rc = stat(option, &st) == 0 && S_ISDIR(st.st_mode)
                     ? try_dir(option, "", names, api, "GPUPROF_CUPTI", why, whylen)
                     : try_file(option, api, "GPUPROF_CUPTI", why, whylen);
        if (rc == 0)
            return 0;
        if (!why[0] || rc == -ENOENT)
            snprintf(why, whylen, "GPUPROF_CUPTI=%.300s: no libcupti there", option);
        return -ENOENT;
    }
    /* 3. the toolkit */
    for (size_t i = 0; i < nroots; i++) {
        if (!roots[i] || roots[i][0] != '/')
            continue;
        if (try_dir(roots[i], "lib64/", names, api, "the CUDA toolkit", why, whylen) == 0 ||
            try_dir(roots[i], "extras/CUPTI/lib64/", names, api, "the CUDA toolkit", why,
                    whylen) == 0)
            return 0;
    }
    /* 4. a pip wheel next to the runtime */
    char *slash = rt[0] == '/' ? strrchr(rt, '/') : NULL;
    if (slash) {
        *slash = '\0';
        if (try_dir(rt, "", names, api, "the pip package next to libcudart", why, whylen) == 0 ||
            try_dir(rt, "../../cuda_cupti/lib/", names, api, "the pip package next to libcudart",
                    why, whylen) == 0)
            return 0;
    }
    /* 5. the loader's search */
    for (int i = 0; i < 2; i++) {
        h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h) {
            loaded_path(names[i], api->path, sizeof(api->path), NULL);
            api->how = "the dynamic loader's search path";
            return resolve(h, api, why, whylen) == 0 ? 0 : -ENOENT;
        }
    }
    if (!why[0])
        snprintf(why, whylen,
                 "no libcupti.so.13 found (not loaded, not in $CUDA_HOME, /usr/local/cuda or "
                 "next to libcudart, not on the loader's path); set GPUPROF_CUPTI to its path");
    return -ENOENT;
}
