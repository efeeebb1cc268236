/* demangle.c — kernel names as people write them. CUPTI reports the mangled symbol
 * (_Z10vector_addPKfS0_Pfi); the C++ runtime's own demangler, __cxa_demangle, turns it into
 * vector_add(float const*, float const*, float*, int). It is looked up at run time in
 * libstdc++ (already loaded, or loaded here), so gpuprof-report stays a C program that runs
 * without a C++ runtime and then shows mangled names. A demangler of our own would have to
 * follow every template and lambda form nvcc and the host compiler produce; the runtime's
 * is the reference for exactly the names it produced. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

typedef char *(*cxa_demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);

static cxa_demangle_fn find_demangler(void)
{
    static int looked;
    static cxa_demangle_fn fn;
    if (looked)
        return fn;
    looked = 1;
    void *p = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    if (!p) {
        static const char *const libs[] = {"libstdc++.so.6", "libc++abi.so.1", "libc++.so.1"};
        for (size_t i = 0; !p && i < sizeof(libs) / sizeof(libs[0]); i++) {
            void *h = dlopen(libs[i], RTLD_LAZY | RTLD_LOCAL);
            if (h)
                p = dlsym(h, "__cxa_demangle"); /* kept loaded: fn points into it */
        }
    }
    fn = (cxa_demangle_fn)p;
    return fn;
}

char *gp_report_demangle(const char *mangled)
{
    /* Itanium names start with _Z; anything else (extern "C" kernels) is already plain. */
    if (!mangled || strncmp(mangled, "_Z", 2) != 0)
        return NULL;
    cxa_demangle_fn fn = find_demangler();
    if (!fn)
        return NULL;
    int status = -1;
    char *out = fn(mangled, NULL, NULL, &status);
    if (status != 0) {
        free(out);
        return NULL;
    }
    return out;
}
