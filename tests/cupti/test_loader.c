/* test_loader.c — finding libcupti (cupti/loader.c) in the layouts users have, built in a
 * scratch directory from symlinks to the fake libraries:
 *   toolkit        ROOT/lib64/libcupti.so.13
 *   extras         ROOT/extras/CUPTI/lib64/libcupti.so.13 (older toolkits)
 *   cu13           site-packages/nvidia/cu13/lib/{libcudart,libcupti}.so.13 (CUDA 13 wheels),
 *                  the runtime loaded first, as PyTorch does
 *   cu12           site-packages/nvidia/cuda_runtime/lib/libcudart + .../cuda_cupti/lib/libcupti
 *                  (the CUDA 12 wheels' layout)
 *   loaded         a libcupti the program loaded itself wins over everything
 *   option         GPUPROF_CUPTI naming the file, option_dir its directory
 *   option_missing GPUPROF_CUPTI naming nothing: no other place is tried
 *   real           the installed toolkit's own library (skipped, 77, without one)
 *   wheels         the real nvidia-cuda-runtime and nvidia-cuda-cupti wheels, unpacked as pip
 *                  does into a scratch site-packages, their libcudart loaded first: the wheels
 *                  (*.whl) are taken from $GPUPROF_CUPTI_WHEELS (skipped, 77, when unset)
 * Usage: test_cupti_loader LAYOUT FAKE_CUPTI FAKE_CUDART. Exit 0 on success. */
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cupti_int.h"

static char tmp[PATH_MAX];

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    (void)remove(path); /* best effort: a leftover temp file fails nothing */
    return 0;
}

static void cleanup(void)
{
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *what)
{
    fprintf(stderr, "test_cupti_loader: %s\n", what);
    exit(1);
}

/* mkdir -p of tmp/rel's directory, then the symlink tmp/rel -> target; returns the path. */
static const char *link_in(const char *rel, const char *target)
{
    static char path[2 * PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    for (char *p = path + strlen(tmp) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            die("mkdir");
        *p = '/';
    }
    if (symlink(target, path) < 0)
        die("symlink");
    return path;
}

static void same_file(const char *got, const char *want)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(got, a) || !realpath(want, b) || strcmp(a, b) != 0) {
        fprintf(stderr, "test_cupti_loader: found %s, wanted %s\n", got, want);
        exit(1);
    }
}

static void expect(int rc, const struct gp_cupti_api *api, const char *why, const char *path,
                   const char *how)
{
    if (rc != 0) {
        fprintf(stderr, "test_cupti_loader: not found: %s\n", why);
        exit(1);
    }
    same_file(api->path, path);
    if (strcmp(api->how, how) != 0) {
        fprintf(stderr, "test_cupti_loader: found by '%s', wanted '%s'\n", api->how, how);
        exit(1);
    }
    if (!api->GetVersion || !api->Subscribe || !api->ActivityEnable || !api->ActivityFlushAll ||
        !api->ActivityGetNextRecord || !api->ActivityGetNumDroppedRecords || !api->GetTimestamp ||
        !api->ActivityRegisterCallbacks || !api->GetResultString)
        die("a function was not resolved");
}

int main(int argc, char **argv)
{
    if (argc != 4)
        die("usage: test_cupti_loader LAYOUT FAKE_CUPTI FAKE_CUDART");
    /* symlinks in the scratch directory need absolute targets */
    static char cupti_abs[PATH_MAX], cudart_abs[PATH_MAX];
    if (!realpath(argv[2], cupti_abs) || !realpath(argv[3], cudart_abs))
        die("the fake libraries are not there");
    const char *layout = argv[1], *cupti = cupti_abs, *cudart = cudart_abs;
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof(tmp), "%s/gpuprof-cupti-XXXXXX", t && t[0] == '/' ? t : "/tmp");
    if (!mkdtemp(tmp))
        die("mkdtemp");
    atexit(cleanup);
    struct gp_cupti_api api;
    char why[512], root[PATH_MAX + 8];
    snprintf(root, sizeof(root), "%s/cuda", tmp);
    const char *roots[] = {"/nonexistent-cuda-home", root};
    const char *want = NULL, *how = "the CUDA toolkit";
    int rc;

    if (strcmp(layout, "toolkit") == 0) {
        want = link_in("cuda/lib64/libcupti.so.13", cupti);
        rc = gp_cupti_load(&api, NULL, roots, 2, why, sizeof(why));
    } else if (strcmp(layout, "extras") == 0) {
        link_in("cuda/lib64/libcudart.so.13", cudart);
        want = link_in("cuda/extras/CUPTI/lib64/libcupti.so.13", cupti);
        rc = gp_cupti_load(&api, "", roots, 2, why, sizeof(why));
    } else if (strcmp(layout, "cu13") == 0 || strcmp(layout, "cu12") == 0) {
        int cu13 = layout[3] == '3';
        const char *rt = link_in(cu13 ? "site-packages/nvidia/cu13/lib/libcudart.so.13"
                                       : "site-packages/nvidia/cuda_runtime/lib/libcudart.so.13",
                                 cudart);
        if (!dlopen(rt, RTLD_NOW | RTLD_GLOBAL))
            die(dlerror());
        want = link_in(cu13 ? "site-packages/nvidia/cu13/lib/libcupti.so.13"
                            : "site-packages/nvidia/cuda_cupti/lib/libcupti.so.13",
                       cupti);
        how = "the pip package next to libcudart";
        rc = gp_cupti_load(&api, NULL, roots, 1, why, sizeof(why));
    } else if (strcmp(layout, "loaded") == 0) {
        link_in("cuda/lib64/libcupti.so.13", cupti); /* would be found next, were it not */
        if (!dlopen(cupti, RTLD_NOW | RTLD_LOCAL))
            die(dlerror());
        want = cupti;
        how = "already loaded by the program";
        rc = gp_cupti_load(&api, "/nonexistent/libcupti.so.13", roots, 2, why, sizeof(why));
    } else if (strcmp(layout, "option") == 0 || strcmp(layout, "option_dir") == 0) {
        link_in("cuda/lib64/libcupti.so.13", cudart); /* the wrong library: must not be used */
        want = link_in("mine/libcupti.so.13", cupti);
        char dir[PATH_MAX + 8];
        snprintf(dir, sizeof(dir), "%s/mine", tmp);
        how = "GPUPROF_CUPTI";
        rc = gp_cupti_load(&api, layout[6] ? dir : want, roots, 2, why, sizeof(why));
    } else if (strcmp(layout, "option_missing") == 0) {
        link_in("cuda/lib64/libcupti.so.13", cupti);
        rc = gp_cupti_load(&api, "/nonexistent/libcupti.so.13", roots, 2, why, sizeof(why));
        if (rc != -ENOENT || !strstr(why, "GPUPROF_CUPTI=/nonexistent/libcupti.so.13")) {
            fprintf(stderr, "test_cupti_loader: rc %d, why '%s'\n", rc, why);
            return 1;
        }
        return 0;
    } else if (strcmp(layout, "wheels") == 0) {
        const char *wheels = getenv("GPUPROF_CUPTI_WHEELS");
        static char cmd[3 * PATH_MAX], rt[2 * PATH_MAX], cu[2 * PATH_MAX];
        if (!wheels || !*wheels)
            return 77;
        /* a wheel is a zip of its site-packages files: pip unpacks it just so */
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && for w in '%s'/nvidia_cuda_runtime-*.whl '%s'/nvidia_cuda_cupti-*.whl; do "
                 "python3 -m zipfile -e \"$w\" site-packages || exit 1; done", tmp, wheels, wheels);
        if (system(cmd) != 0)
            die("cannot unpack the wheels");
        snprintf(rt, sizeof(rt), "%s/site-packages/nvidia/cu13/lib/libcudart.so.13", tmp);
        snprintf(cu, sizeof(cu), "%s/site-packages/nvidia/cu13/lib/libcupti.so.13", tmp);
        if (!dlopen(rt, RTLD_NOW | RTLD_GLOBAL))
            die(dlerror());
        want = cu;
        how = "the pip package next to libcudart";
        rc = gp_cupti_load(&api, NULL, roots, 1, why, sizeof(why));
    } else if (strcmp(layout, "real") == 0) {
        const char *real[] = {"/usr/local/cuda"};
        if (access("/usr/local/cuda/lib64/libcupti.so.13", R_OK) == 0)
            want = "/usr/local/cuda/lib64/libcupti.so.13";
        else if (access("/usr/local/cuda/extras/CUPTI/lib64/libcupti.so.13", R_OK) == 0)
            want = "/usr/local/cuda/extras/CUPTI/lib64/libcupti.so.13";
        else
            return 77;
        rc = gp_cupti_load(&api, NULL, real, 1, why, sizeof(why));
    } else {
        die("unknown layout");
    }
    expect(rc, &api, why, want, how);
    printf("test_cupti_loader %s: %s (%s)\n", layout, api.path, api.how);
    return 0;
}
