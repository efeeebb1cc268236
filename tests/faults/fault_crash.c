/* fault_crash: a program that dies of its own fault after allocating, to check that the
 * shim leaves its crash exactly as it was (same signal, same output) and that the trace is
 * readable up to the last flush.
 *
 *   fault_crash abort|segv [DELAY_MS]
 *
 * Allocates 3 blocks of 1 MiB (crash_site), prints one line, waits DELAY_MS (default 0) so
 * the shim's periodic flush can run, then calls abort() or stores through a pointer to a
 * PROT_NONE page (a real SIGSEGV, not undefined behaviour a sanitizer would catch first). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <cuda_runtime_api.h>

static int crash_site(void **blocks, int n)
{
    for (int i = 0; i < n; i++)
        if (cudaMalloc(&blocks[i], 1 << 20) != cudaSuccess)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "abort") != 0 && strcmp(argv[1], "segv") != 0)) {
        fprintf(stderr, "usage: fault_crash abort|segv [DELAY_MS]\n");
        return 2;
    }
    long delay_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    void *blocks[3];
    if (crash_site(blocks, 3) < 0) {
        fprintf(stderr, "fault_crash: cudaMalloc failed\n");
        return 1;
    }
    printf("fault_crash: 3 blocks allocated, now %s\n", argv[1]);
    fflush(stdout);
    if (delay_ms > 0) {
        struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (strcmp(argv[1], "abort") == 0)
        abort();
    volatile int *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if ((void *)page == MAP_FAILED)
        return 1;
    *page = 42;
    return 0; /* not reached */
}
