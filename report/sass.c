/* sass.c — Tensor Core verdict, layer 4: what a kernel's machine code contains. A cubin is
 * disassembled by NVIDIA's nvdisasm (or cuobjdump -sass), found on PATH, in the toolkit or
 * in the pip wheels, and run through fork/exec with an argument vector (never a shell: the
 * path may come from a trace). The listing is read per function and its Tensor Core
 * instructions (HMMA, IMMA, DMMA, BMMA, QMMA, OMMA, HGMMA, IGMMA, QGMMA, BGMMA, UTC*MMA)
 * are counted against the CUDA-core FMAs (FFMA, HFMA2, DFMA). A Tensor Core opcode proves
 * the kernel has a Tensor Core path; none in a GEMM kernel means it runs on CUDA cores.
 * Opcodes per architecture: notes §4 (/work/shared/notes/tensor-cores.md). */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

static const char *const op_names[GP_SASS_OPS] = {
    "HMMA", "IMMA", "DMMA", "BMMA", "QMMA", "OMMA", "HGMMA", "IGMMA", "QGMMA", "BGMMA",
    "UTC*MMA", "FFMA", "HFMA2", "DFMA"};

const char *gp_report_sass_op_name(unsigned op)
{
    return op < GP_SASS_OPS ? op_names[op] : "?";
}

/* The family of a mnemonic ("HMMA.16816.F32", "UTCHMMA.2CTA", "HFMA2.MMA"), or -1. */
static int op_of(const char *mn)
{
    char base[32];
    size_t n = strcspn(mn, ".");
    if (n == 0 || n >= sizeof base)
        return -1;
    memcpy(base, mn, n);
    base[n] = '\0';
    for (unsigned i = 0; i < GP_SASS_FIRST_CC; i++)
        if (i != GP_SASS_UTCMMA && strcmp(base, op_names[i]) == 0)
            return (int)i;
    /* Blackwell tcgen05: UTCHMMA, UTCQMMA, UTCIMMA, UTCOMMA (not UTCBAR, UTCCP, ...) */
    if (n > 6 && strncmp(base, "UTC", 3) == 0 && strcmp(base + n - 3, "MMA") == 0)
        return GP_SASS_UTCMMA;
    if (strcmp(base, "FFMA") == 0 || strcmp(base, "FFMA2") == 0)
        return GP_SASS_FFMA;
    /* "HFMA2.MMA Rx, -RZ, RZ, imm" is the compiler's register move idiom, not math. */
    if (strcmp(base, "HFMA2") == 0)
        return strncmp(mn + n, ".MMA", 4) == 0 ? -1 : GP_SASS_HFMA2;
    if (strcmp(base, "DFMA") == 0)
        return GP_SASS_DFMA;
    return -1;
}

static struct gp_report_sass_func *func_new(struct gp_report_sass *s, const char *name, size_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct gp_report_sass_func *p = realloc(s->v, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        s->v = p;
        s->cap = cap;
    }
    struct gp_report_sass_func *f = &s->v[s->n];
    memset(f, 0, sizeof *f);
    f->name = strndup(name, len);
    if (f->name == NULL)
        return NULL;
    s->n++;
    return f;
}

/* "tensor (HMMA x 64, HGMMA x 2)", "cuda-core (FFMA x 3)", "unknown (...)". */
static void func_verdict(struct gp_report_sass_func *f)
{
    uint64_t tc = 0, cc = 0;
    for (unsigned i = 0; i < GP_SASS_OPS; i++)
        *(i < GP_SASS_FIRST_CC ? &tc : &cc) += f->count[i];
    f->cls = tc ? GP_KC_TENSOR : cc ? GP_KC_CUDA_CORE : GP_KC_UNKNOWN;
    if (f->cls == GP_KC_UNKNOWN) {
        snprintf(f->verdict, sizeof f->verdict, "unknown (no MMA or FMA instruction)");
        return;
    }
    unsigned from = tc ? 0 : GP_SASS_FIRST_CC, to = tc ? GP_SASS_FIRST_CC : GP_SASS_OPS;
    size_t len = (size_t)snprintf(f->verdict, sizeof f->verdict, "%s (",
                                  gp_report_kclass_name(f->cls));
    const char *sep = "";
    for (unsigned i = from; i < to && len < sizeof f->verdict; i++) {
        if (!f->count[i])
            continue;
        len += (size_t)snprintf(f->verdict + len, sizeof f->verdict - len, "%s%s x %llu", sep,
                                op_names[i], (unsigned long long)f->count[i]);
        sep = ", ";
    }
    if (len < sizeof f->verdict)
        snprintf(f->verdict + len, sizeof f->verdict - len, ")");
}

/* The instruction of a listing line: after the hex offset in a C comment, an optional "{"
 * (dual issue) and predicate ("@!P0"). NULL when the line holds no instruction. */
static const char *instruction(const char *line)
{
    const char *p = strstr(line, "/*");
    if (p == NULL)
        return NULL;
    p += 2;
    const char *h = p;
    while (isxdigit((unsigned char)*p))
        p++;
    if (p == h || strncmp(p, "*/", 2) != 0)
        return NULL;
    p += 2;
    while (*p == ' ' || *p == '\t' || *p == '{')
        p++;
    if (*p == '@') {
        while (*p && *p != ' ' && *p != '\t')
            p++;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    return isupper((unsigned char)*p) ? p : NULL;
}

int gp_report_sass_parse(FILE *in, struct gp_report_sass *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    struct gp_report_sass_func *cur = NULL;
    while ((n = getline(&line, &cap, in)) >= 0) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        /* nvdisasm: ".text.<name>:"; cuobjdump: "Function : <name>" */
        const char *name = NULL;
        size_t len = 0;
        if (strncmp(p, ".text.", 6) == 0 && (len = strcspn(p + 6, ": \t\r\n")) > 0 &&
            p[6 + len] == ':') {
            name = p + 6;
        } else if (strncmp(p, "Function : ", 11) == 0) {
            name = p + 11;
            len = strcspn(name, " \t\r\n");
        }
        if (name && len) {
            if (cur)
                func_verdict(cur);
            if ((cur = func_new(out, name, len)) == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            continue;
        }
        const char *ins = cur ? instruction(p) : NULL;
        if (ins == NULL)
            continue;
        char mn[48];
        size_t m = strspn(ins, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
        if (m == 0 || m >= sizeof mn)
            continue;
        memcpy(mn, ins, m);
        mn[m] = '\0';
        cur->instructions++;
        int op = op_of(mn);
        if (op >= 0)
            cur->count[op]++;
    }
    if (cur)
        func_verdict(cur);
    if (ferror(in))
        rc = -EIO;
out:
    free(line);
    return rc;
}

static int executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static int try_path(char *buf, size_t len, const char *dir, const char *rel)
{
    if (dir == NULL || *dir == '\0')
        return 0;
    int n = snprintf(buf, len, "%s/%s", dir, rel);
    return n > 0 && (size_t)n < len && executable(buf);
}

/* Each directory of a ':'-separated list. */
static int try_list(char *buf, size_t len, const char *list, const char *rel)
{
    if (list == NULL)
        return 0;
    char dir[4096];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && n < sizeof dir) {
            memcpy(dir, p, n);
            dir[n] = '\0';
            if (try_path(buf, len, dir, rel))
                return 1;
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return 0;
}

/* site-packages directories where pip puts the nvidia wheels. */
static int try_site(char *buf, size_t len, const char *rel)
{
    const char *home = getenv("HOME"), *venv = getenv("VIRTUAL_ENV"),
               *conda = getenv("CONDA_PREFIX");
    const char *roots[] = {venv, conda, home, "/usr/local", "/usr"};
    const char *subs[] = {"lib/python3*/site-packages", "lib/python3*/dist-packages",
                          ".local/lib/python3*/site-packages",
                          ".pyenv/versions/*/lib/python3*/site-packages", "lib/python3/dist-packages"};
    if (try_list(buf, len, getenv("PYTHONPATH"), rel))
        return 1;
    for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
        for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
            char pat[4096];
            glob_t g;
            if (roots[r] == NULL || *roots[r] == '\0' ||
                snprintf(pat, sizeof pat, "%s/%s", roots[r], subs[s]) >= (int)sizeof pat)
                continue;
            if (glob(pat, 0, NULL, &g) != 0)
                continue;
            int found = 0;
            for (size_t i = 0; i < g.gl_pathc && !found; i++)
                found = try_path(buf, len, g.gl_pathv[i], rel);
            globfree(&g);
            if (found)
                return 1;
        }
    }
    return 0;
}

int gp_report_sass_find_tool(char *buf, size_t len)
{
    const char *env = getenv("GPUPROF_NVDISASM");
    if (env && *env) /* when set, nothing else is tried */
        return snprintf(buf, len, "%s", env) < (int)len && executable(buf) ? 0 : -ENOENT;
    static const char *const tools[] = {"nvdisasm", "cuobjdump"};
    static const char *const wheels[][2] = {{"nvidia/cu13/bin/nvdisasm", "nvidia/cuda_nvdisasm/bin/nvdisasm"},
                                            {"nvidia/cu13/bin/cuobjdump", "nvidia/cuda_cuobjdump/bin/cuobjdump"}};
    for (size_t t = 0; t < 2; t++) {
        char rel[64];
        snprintf(rel, sizeof rel, "bin/%s", tools[t]);
        if (try_list(buf, len, getenv("PATH"), tools[t]) ||
            try_path(buf, len, getenv("CUDA_HOME"), rel) ||
            try_path(buf, len, getenv("CUDA_PATH"), rel) ||
            try_path(buf, len, "/usr/local/cuda", rel) || try_site(buf, len, wheels[t][0]) ||
            try_site(buf, len, wheels[t][1]))
            return 0;
    }
    return -ENOENT;
}

static void first_line(FILE *f, char *err, size_t errlen, const char *tool, int status)
{
    char msg[200] = "";
    rewind(f);
    if (fgets(msg, sizeof msg, f))
        msg[strcspn(msg, "\r\n")] = '\0';
    snprintf(err, errlen, "%s exited with status %d%s%s", tool, status, msg[0] ? ": " : "", msg);
}

int gp_report_sass_count(const char *cubin_path, const char *tool, struct gp_report_sass *out,
                         char *err, size_t errlen)
{
    char found[sizeof out->tool], path[4096];
    int rc, fds[2] = {-1, -1}, status = 0;
    FILE *listing = NULL, *errf = NULL;
    pid_t pid = -1;

    memset(out, 0, sizeof *out);
    if (tool == NULL) {
        if (gp_report_sass_find_tool(found, sizeof found) < 0) {
            snprintf(err, errlen, "neither nvdisasm nor cuobjdump was found (PATH, CUDA_HOME, "
                                  "/usr/local/cuda, pip nvidia-cuda-nvdisasm; or set GPUPROF_NVDISASM)");
            return -ENOENT;
        }
        tool = found;
    }
    snprintf(out->tool, sizeof out->tool, "%s", tool);
    /* a path starting with '-' would be read as an option */
    if (snprintf(path, sizeof path, "%s%s", cubin_path[0] == '-' ? "./" : "", cubin_path) >=
        (int)sizeof path) {
        snprintf(err, errlen, "cubin path too long");
        return -ENAMETOOLONG;
    }
    const char *base = strrchr(tool, '/');
    base = base ? base + 1 : tool;
    int objdump = strstr(base, "cuobjdump") != NULL;
    char *const argv[] = {(char *)base, objdump ? "-sass" : "-c", path, NULL};

    if ((errf = tmpfile()) == NULL || pipe(fds) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot run %s: %s", tool, strerror(errno));
        goto out;
    }
    fflush(NULL);
    if ((pid = fork()) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot run %s: %s", tool, strerror(errno));
        goto out;
    }
    if (pid == 0) {
        if (dup2(fds[1], 1) < 0 || dup2(fileno(errf), 2) < 0)
            _exit(127);
        close(fds[0]);
        close(fds[1]);
        execv(tool, argv);
        _exit(127);
    }
    close(fds[1]);
    fds[1] = -1;
    if ((listing = fdopen(fds[0], "r")) == NULL) {
        rc = -errno;
        goto out;
    }
    fds[0] = -1;
    rc = gp_report_sass_parse(listing, out);
    fclose(listing);
    listing = NULL;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    pid = -1;
    if (rc < 0) {
        snprintf(err, errlen, "reading %s output: %s", tool, strerror(-rc));
        goto out;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        first_line(errf, err, errlen, tool, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        rc = -EINVAL;
    }
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (pid > 0) /* not reaped yet: its pipe is closed above, so it cannot block */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    if (errf)
        fclose(errf);
    if (rc < 0)
        gp_report_sass_fini(out);
    return rc;
}

void gp_report_sass_fini(struct gp_report_sass *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].name);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}
