/* fault_alloc: allocates and frees device memory in a loop; the input for the faults that
 * hit the trace file rather than the program (full disk, file size limit, read-only or
 * hostile output paths, symlinks).
 *
 *   fault_alloc [PAIRS [KEEP]]
 *
 * PAIRS (default 1000) pairs of cudaMalloc(4096) + cudaFree, then KEEP (default 2) blocks of
 * 1 MiB kept until exit (freed before it). Prints one line and returns 0, or 1 if any call
 * failed. Exact numbers for the trace: PAIRS + KEEP allocations, as many frees. */
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime_api.h>

static int alloc_pairs(long pairs)
{
    int failed = 0;
    for (long i = 0; i < pairs; i++) {
        void *p = NULL;
        if (cudaMalloc(&p, 4096) != cudaSuccess || cudaFree(p) != cudaSuccess)
            failed = 1;
    }
    return failed;
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    long keep = argc > 2 ? strtol(argv[2], NULL, 10) : 2;
    void *kept[16] = {0};
    int failed = 0;
    if (pairs < 0 || keep < 0 || keep > 16) {
        fprintf(stderr, "usage: fault_alloc [PAIRS [KEEP<=16]]\n");
        return 2;
    }
    for (long i = 0; i < keep; i++)
        failed |= cudaMalloc(&kept[i], 1 << 20) != cudaSuccess;
    failed |= alloc_pairs(pairs);
    for (long i = 0; i < keep; i++)
        failed |= cudaFree(kept[i]) != cudaSuccess;
    printf("fault_alloc: %ld pairs, %ld kept blocks, %s\n", pairs, keep,
           failed ? "some calls failed" : "all calls succeeded");
    return failed;
}
