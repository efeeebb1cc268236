/* oom_truth: runs the device out of memory and prints its own ground truth, for tools/gpu-check
 * to compare with gpuprof's OOM forensics on a real GPU, where the numbers depend on the device
 * (samples/oom is the same program with numbers fixed by the stand-in's size).
 *
 * cudaMemGetInfo once (the device total), then grow_blocks: 1 GiB (1,073,741,824 bytes)
 * cudaMalloc calls until one fails (at most 1024); right after the failure cudaMemGetInfo again
 * (free memory at the OOM: the failed call took nothing). Then everything is freed.
 *
 * Exact numbers, n = the successful calls printed as "blocks":
 *   one failed cudaMalloc of 1,073,741,824 bytes (cudaErrorMemoryAllocation), preceded by n
 *   successful ones, all from grow_blocks; live at the failure: n x 1,073,741,824 bytes, which is
 *   also the device peak; held at exit: 0; device total: "total_bytes"
 *   under the stand-ins with FAKECUDA_DEVICE_MEM=4G: n = 4, total 4,294,967,296, free at the
 *   OOM 0
 * Prints one JSON line to stdout; returns 1 after an OOM (like samples/oom), 0 if the 1024
 * blocks all fit, 2 on any other error. */
#include <stdio.h>

#include <cuda_runtime_api.h>

#define GIB ((size_t)1 << 30)
#define MAX_BLOCKS 1024

/* Fills blocks[] until cudaMalloc fails; returns how many succeeded and the failing code. */
static int grow_blocks(void **blocks, cudaError_t *failure)
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
    size_t free_start = 0, total = 0, free_at_oom = 0, total_at_oom = 0;
    cudaError_t err = cudaMemGetInfo(&free_start, &total);
    if (err != cudaSuccess) {
        fprintf(stderr, "oom_truth: cudaMemGetInfo failed: %s\n", cudaGetErrorString(err));
        return 2;
    }
    cudaError_t failure = cudaSuccess;
    int n = grow_blocks(blocks, &failure);
    if (failure != cudaSuccess) {
        err = cudaMemGetInfo(&free_at_oom, &total_at_oom);
        if (err != cudaSuccess) {
            fprintf(stderr, "oom_truth: cudaMemGetInfo after the OOM failed: %s\n",
                    cudaGetErrorString(err));
            return 2;
        }
    }
    printf("{\"sample\": \"oom_truth\", \"blocks\": %d, \"block_bytes\": %zu, \"live_bytes\": %zu, "
           "\"failed_bytes\": %zu, \"error\": \"%s\", \"total_bytes\": %zu, "
           "\"free_bytes_at_start\": %zu, \"free_bytes_at_oom\": %zu}\n",
           n, GIB, (size_t)n * GIB, failure != cudaSuccess ? GIB : (size_t)0,
           cudaGetErrorName(failure), total, free_start, free_at_oom);
    fflush(stdout);
    for (int i = 0; i < n; i++)
        cudaFree(blocks[i]);
    if (failure == cudaSuccess)
        return 0;
    return failure == cudaErrorMemoryAllocation ? 1 : 2;
}
