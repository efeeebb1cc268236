/* life_crash: a traced program that dies of (or survives) a fatal signal — the input for
 * gpuprof's signal tests. Every mode first allocates 3 blocks of 1 MiB at crash_site and
 * prints "life_crash: MODE: 3 blocks allocated".
 *
 *   segv     stores through a pointer to a PROT_NONE page: dies of SIGSEGV
 *   abort    calls abort(): dies of SIGABRT
 *   bus      raise(SIGBUS) (a signal sent, not a fault): dies of SIGBUS
 *   chain    installs its own SIGSEGV handler BEFORE its first CUDA call, then faults; the
 *            handler checks the fault address and code, prints "life_crash: handler: ..."
 *            (write(2), it runs in a signal handler) and calls _exit(3)
 *   recover  the same handler, but it makes the page writable and returns, so the store
 *            succeeds; then 1 more MiB at after_site, everything freed, "life_crash:
 *            recovered" printed, exit status 0
 * Output is flushed before the signal, so it is the same with or without gpuprof. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#define MIB ((size_t)1 << 20)

static char *guard_page;
static long page_size;
static int recover_mode;

static int crash_site(void **blocks)
{
    for (int i = 0; i < 3; i++)
        if (cudaMalloc(&blocks[i], MIB) != cudaSuccess)
            return -1;
    return 0;
}

static int after_site(void **p) { return cudaMalloc(p, MIB) == cudaSuccess ? 0 : -1; }

static void say(const char *s)
{
    ssize_t n = write(STDOUT_FILENO, s, strlen(s));
    (void)n;
}

static void on_segv(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    char *addr = info->si_addr;
    bool ours = sig == SIGSEGV && addr == guard_page + 8 && info->si_code == SEGV_ACCERR;
    say(ours ? "life_crash: handler: SIGSEGV at the guard page, SEGV_ACCERR\n"
             : "life_crash: handler: UNEXPECTED signal details\n");
    if (!recover_mode || !ours)
        _exit(3);
    mprotect(guard_page, (size_t)page_size, PROT_READ | PROT_WRITE);
}

int main(int argc, char **argv)
{
    static const char *const modes[] = {"segv", "abort", "bus", "chain", "recover"};
    const char *mode = argc > 1 ? argv[1] : "";
    bool known = false;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        known = known || strcmp(mode, modes[i]) == 0;
    if (!known) {
        fprintf(stderr, "usage: life_crash segv|abort|bus|chain|recover\n");
        return 2;
    }
    page_size = sysconf(_SC_PAGESIZE);
    guard_page = mmap(NULL, (size_t)page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard_page == MAP_FAILED)
        return 1;
    recover_mode = strcmp(mode, "recover") == 0;
    if (strcmp(mode, "chain") == 0 || recover_mode) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
    }
    void *blocks[3];
    if (crash_site(blocks) < 0) {
        fprintf(stderr, "life_crash: cudaMalloc failed\n");
        return 1;
    }
    printf("life_crash: %s: 3 blocks allocated\n", mode);
    fflush(stdout);
    if (strcmp(mode, "abort") == 0)
        abort();
    if (strcmp(mode, "bus") == 0)
        raise(SIGBUS);
    *(volatile char *)(guard_page + 8) = 1; /* segv, chain, recover */
    void *more;
    if (after_site(&more) < 0)
        return 1;
    for (int i = 0; i < 3; i++)
        cudaFree(blocks[i]);
    cudaFree(more);
    printf("life_crash: recovered\n");
    return 0;
}
