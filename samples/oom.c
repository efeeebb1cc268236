/* oom: a CUDA runtime program that runs out of device memory; an end-to-end test input for
 * gpuprof's out-of-memory report.
 *
 * grow_cache allocates 1 GiB (1,073,741,824 bytes) blocks with cudaMalloc until one fails,
 * prints the error string to stderr, frees what it got and exits 1.
 *
 * Exact numbers under the fake runtime with FAKECUDA_DEVICE_MEM=4G (4,294,967,296 bytes):
 *   4 successful 1 GiB cudaMalloc calls, then the 5th returns cudaErrorMemoryAllocation (2,
 *   "out of memory") with a NULL pointer. The fake charges each request rounded up to 512
 *   bytes; 1 GiB is already a multiple of 512, so each block costs exactly 1 GiB, four of them
 *   use exactly the 4 GiB, free is then 0, and the 5th request (1 GiB > 0 free) fails.
 *   Live at the failure: 4,294,967,296 bytes, all from grow_cache (4 blocks); the failed request
 *   is 1,073,741,824 bytes. Held at exit: 0 (the blocks are freed before exiting).
 * With the fake's default 16G: 16 successes, the 17th fails.
 * Prints one line to stdout, the error to stderr, and returns 1. */
#include <stdio.h>

#include <cuda_runtime_api.h>

#define GIB ((size_t)1 << 30)

/* A bound so a machine with a huge device still ends (1 TiB). */
#define MAX_BLOCKS 1024

/* Fills blocks[] until cudaMalloc fails; returns how many succeeded and the failing code. */
static int grow_cache(void **blocks, cudaError_t *failure)
{
    int n = 0;
    *failure = cudaSuccess;
    while (n < MAX_BLOCKS) {
        void *p = NULL;
        cudaError_t err = cudaMalloc(&p, GIB);
        if (err != cudaSuccess) {
            *failure = err;
            break;
        }
        blocks[n++] = p;
    }
    return n;
}

int main(void)
{
    static void *blocks[MAX_BLOCKS];
    cudaError_t failure = cudaSuccess;
    int n = grow_cache(blocks, &failure);

    if (failure == cudaSuccess) {
        printf("oom: %d x 1 GiB cudaMalloc succeeded without running out\n", n);
    } else {
        printf("oom: %d x 1 GiB cudaMalloc succeeded, allocation %d failed with %s\n", n, n + 1,
               cudaGetErrorName(failure));
        fflush(stdout); /* the summary first, then the error, in a combined log */
        fprintf(stderr, "oom: cudaMalloc(%zu) failed: %s\n", GIB, cudaGetErrorString(failure));
    }
    for (int i = 0; i < n; i++)
        cudaFree(blocks[i]);
    return failure == cudaErrorMemoryAllocation ? 1 : 0;
}
