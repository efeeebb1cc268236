/* python_boot.c — puts gpuprof's Python adapter in front of a Python program with no change
 * to it: when the preloaded process is a CPython interpreter, the load-time constructor
 * prepends the adapter's directory (gpuprof-python/, next to libgpuprof.so) to PYTHONPATH.
 * CPython reads the environment after shared-library constructors ran, imports the
 * adapter's sitecustomize at start-up, and that one chain-loads any sitecustomize the user
 * had. The adapter does nothing until the program imports torch and CUDA starts.
 * Only getenv/setenv and file-system checks happen here: no CUDA, no thread, no output.
 * GPUPROF_TORCH=0 (or GPUPROF_ENABLE=0) leaves the environment alone. */

#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define GP_PY_DIR "gpuprof-python"

static bool env_off(const char *name)
{
    const char *v = getenv(name);
    bool on = true;
    return v != NULL && gp_shim_parse_bool(v, &on) == 0 && !on;
}

/* python, python3, python3.12, python3.12d, pypy excluded: the adapter needs CPython. */
static bool is_cpython(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    if (strncmp(base, "python", 6) != 0)
        return false;
    for (const char *p = base + 6; *p; p++)
        if (!(*p == '.' || (*p >= '0' && *p <= '9') || *p == 'd' || *p == 'm' || *p == 't'))
            return false;
    return true;
}

/* Whether dir is already the first entry of path (a child process inherits the change). */
static bool first_entry(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == ':' || path[n] == '\0');
}

int gp_shim_python_dir(char *out, size_t len)
{
    Dl_info info;
    if (!dladdr((void *)&gp_shim_python_dir, &info) || info.dli_fname == NULL ||
        info.dli_fname[0] != '/')
        return -1;
    const char *slash = strrchr(info.dli_fname, '/');
    int n = snprintf(out, len, "%.*s/" GP_PY_DIR, (int)(slash - info.dli_fname), info.dli_fname);
    if (n < 0 || (size_t)n >= len)
        return -1;
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/sitecustomize.py", out);
    return access(probe, R_OK) == 0 ? 0 : -1;
}

__attribute__((constructor)) static void gp_shim_python_boot(void)
{
    if (env_off("GPUPROF_ENABLE") || env_off("GPUPROF_TORCH") || !is_cpython())
        return;
    char dir[PATH_MAX];
    if (gp_shim_python_dir(dir, sizeof dir) < 0 || strchr(dir, ':') != NULL)
        return; /* no adapter installed, or a directory PYTHONPATH cannot name */
    const char *old = getenv("PYTHONPATH");
    if (old != NULL && first_entry(old, dir))
        return;
    char val[8192];
    int n = old && *old ? snprintf(val, sizeof val, "%s:%s", dir, old)
                        : snprintf(val, sizeof val, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof val)
        return;
    setenv("PYTHONPATH", val, 1);
}
