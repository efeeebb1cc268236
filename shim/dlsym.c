/* dlsym.c — the C half of the dlsym interposer (the trampoline is dlsym_x86_64.S).
 * Libraries that carry their own static CUDA runtime (cuBLAS, cuDNN, NCCL, CUPTI) and
 * the shared runtime itself reach the driver with dlopen("libcuda.so.1") followed by
 * dlsym(handle, "cuGetProcAddress_v2") — no symbol interposition can see those calls.
 * The filter hands back our wrapper for the driver entry points we trace and lets
 * every other lookup through untouched. */
#include <dlfcn.h>
#include <stddef.h>

#include "hooks_driver.h"
#include "internal.h"

GP_HIDDEN void *(*gp_real_dlsym)(void *, const char *);

/* Called by the trampoline before anything else, so gp_real_dlsym is never NULL when
 * it is jumped to. dlvsym is not interposed, so calling it here reaches glibc's. */
static void gp_dlsym_resolve(void)
{
    static const char *const versions[] = {"GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17"};
    void *p = NULL;
    for (size_t i = 0; p == NULL && i < sizeof versions / sizeof versions[0]; i++)
        p = dlvsym(RTLD_NEXT, "dlsym", versions[i]);
    __atomic_store_n(&gp_real_dlsym, (void *(*)(void *, const char *))p, __ATOMIC_RELEASE);
}

GP_HIDDEN void *gp_dlsym_filter(void *handle, const char *name);
void *gp_dlsym_filter(void *handle, const char *name)
{
    if (GP_UNLIKELY(__atomic_load_n(&gp_real_dlsym, __ATOMIC_ACQUIRE) == NULL))
        gp_dlsym_resolve();
    /* RTLD_NEXT depends on who asked: only the tail jump gets it right. */
    if (handle == RTLD_NEXT || name == NULL || name[0] != 'c' || name[1] != 'u')
        return NULL;
    int idx = gp_driver_index(name);
    if (idx < 0)
        return NULL;
    void *real = gp_real_dlsym(handle, name);
    if (real == NULL || gp_driver_is_ours(real))
        return NULL;
    return gp_driver_wrap(idx, real);
}
