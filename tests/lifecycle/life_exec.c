/* life_exec: a traced program that execs — the input for gpuprof's exec tests.
 *
 *   life_exec chain [GEN]
 *     Generation GEN (default 0) allocates GEN+1 blocks of 1 MiB at gen_site, frees them,
 *     prints "life_exec: generation GEN peak N bytes", and below generation 2 replaces
 *     itself with generation GEN+1 (0 -> 1 with execv, 1 -> 2 with execle). Three images,
 *     one pid: three complete traces with device peaks of 1, 2 and 3 MiB.
 *
 *   life_exec fail
 *     Eight steps. Step i (0..7) allocates (i+1) MiB at step_site; after steps 0..6 one exec
 *     form is called and fails, in this order: execv, execvp, execve, execlp, execvpe (a
 *     missing file or command: ENOENT), execl, execle (a directory: EACCES). Each failure
 *     is printed with its return value and errno. Then every block is freed and
 *     "life_exec: fail done" printed; exit status 0. Under gpuprof: eight traces, one per
 *     step, each holding exactly that step's allocation (the last also all eight frees).
 * Every line is flushed before an exec, so the output is the same with or without gpuprof. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#define MIB ((size_t)1 << 20)

extern char **environ;

static int gen_site(int blocks)
{
    void *p[3];
    for (int i = 0; i < blocks; i++)
        if (cudaMalloc(&p[i], MIB) != cudaSuccess)
            return -1;
    for (int i = 0; i < blocks; i++)
        cudaFree(p[i]);
    return 0;
}

static int chain(int gen)
{
    if (gen_site(gen + 1) < 0) {
        fprintf(stderr, "life_exec: cudaMalloc failed\n");
        return 1;
    }
    printf("life_exec: generation %d peak %zu bytes\n", gen, (size_t)(gen + 1) * MIB);
    fflush(stdout);
    if (gen == 0) {
        char *const argv[] = {"life_exec", "chain", "1", NULL};
        execv("/proc/self/exe", argv);
    } else if (gen == 1) {
        execle("/proc/self/exe", "life_exec", "chain", "2", (char *)NULL, environ);
    } else {
        return 0;
    }
    fprintf(stderr, "life_exec: exec failed: %s\n", strerror(errno));
    return 1;
}

static int step_site(void **p, int i)
{
    return cudaMalloc(p, (size_t)(i + 1) * MIB) == cudaSuccess ? 0 : -1;
}

static void report(const char *what, int rc)
{
    int err = errno;
    printf("life_exec: %s returned %d, errno %s\n", what, rc,
           err == ENOENT ? "ENOENT" : err == EACCES ? "EACCES" : strerror(err));
    fflush(stdout);
}

static int fail(void)
{
    char *const argv[] = {"x", NULL};
    char *const envp[] = {"A=1", NULL};
    void *blocks[8];
    for (int i = 0; i < 8; i++) {
        if (step_site(&blocks[i], i) < 0) {
            fprintf(stderr, "life_exec: cudaMalloc failed\n");
            return 1;
        }
        errno = 0;
        switch (i) {
        case 0: report("execv", execv("/nonexistent/gpuprof-life", argv)); break;
        case 1: report("execvp", execvp("gpuprof-life-no-such-command", argv)); break;
        case 2: report("execve", execve("/nonexistent/gpuprof-life", argv, envp)); break;
        case 3: report("execlp", execlp("gpuprof-life-no-such-command", "x", (char *)NULL)); break;
        case 4: report("execvpe", execvpe("gpuprof-life-no-such-command", argv, envp)); break;
        case 5: report("execl", execl("/", "x", (char *)NULL)); break;
        case 6: report("execle", execle("/", "x", (char *)NULL, envp)); break;
        default: break;
        }
    }
    for (int i = 0; i < 8; i++)
        cudaFree(blocks[i]);
    printf("life_exec: fail done\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "chain") == 0)
        return chain(argc > 2 ? atoi(argv[2]) : 0);
    if (argc >= 2 && strcmp(argv[1], "fail") == 0)
        return fail();
    fprintf(stderr, "usage: life_exec chain [GEN] | fail\n");
    return 2;
}
