/* analysis_libraries.c — which library took the memory: each site is charged to the
 * module of its innermost frame, the code that called the CUDA API (the program,
 * libc10_cuda.so for PyTorch's allocator, libcublas.so for its workspace, NCCL...). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int lib_cmp(const void *a, const void *b)
{
    const struct gp_report_lib *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return (x->module > y->module) - (x->module < y->module);
}

int gp_report_site_list_libraries(struct gp_report_site_list *out, const struct gp_report_site *v,
                                  size_t n, const struct gp_report_model *m)
{
    struct gp_report_modmap mm = {0};
    struct gp_report_lib *libs = NULL;
    size_t nlibs = 0;
    int rc = gp_report_modmap_build(&mm, m->modules, m->nmodules);
    if (rc < 0)
        goto out;
    /* one slot per module, plus the last for "no module / no stack" */
    libs = calloc(m->nmodules + 1, sizeof(*libs));
    if (!libs) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i <= m->nmodules; i++)
        libs[i].module = i < m->nmodules ? (int32_t)i : -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t ip;
        int32_t mod = -1;
        if (gp_report_model_stack(m, v[i].stack, &ip, 1) == 1)
            mod = gp_report_modmap_find(&mm, ip - 1); /* ip is a return address */
        struct gp_report_lib *l = &libs[mod >= 0 ? (size_t)mod : m->nmodules];
        l->bytes += v[i].bytes;
        l->count += v[i].count;
    }
    /* The same library may be listed more than once (re-recorded after a dlopen):
     * merge by path, then drop empty entries. */
    for (size_t i = 0; i < m->nmodules; i++) {
        if (!libs[i].count)
            continue;
        for (size_t j = 0; j < i; j++) {
            if (libs[j].count && strcmp(m->modules[j].path, m->modules[i].path) == 0) {
                libs[j].bytes += libs[i].bytes;
                libs[j].count += libs[i].count;
                libs[i].bytes = libs[i].count = 0;
                break;
            }
        }
    }
    for (size_t i = 0; i <= m->nmodules; i++)
        if (libs[i].count)
            libs[nlibs++] = libs[i];
    if (nlibs)
        qsort(libs, nlibs, sizeof(*libs), lib_cmp);
    free(out->libs);
    out->libs = libs;
    out->nlibs = nlibs;
    libs = NULL;
out:
    free(libs);
    gp_report_modmap_fini(&mm);
    return rc;
}
