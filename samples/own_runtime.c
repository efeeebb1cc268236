/* own_runtime: a program whose device memory comes from two places, like a PyTorch process
 * using cuBLAS: its own cudaMalloc through the shared libcudart, and a library with a static
 * CUDA runtime (libworkspace.so, see libworkspace.c) that reaches the driver only through
 * dlopen + cuGetProcAddress_v2. An end-to-end test input for charging memory to the library
 * that took it.
 *
 * Timeline:
 *   site_main_alloc  cudaMalloc 8 MiB (8,388,608 bytes)                 live  8,388,608
 *   workspace_create -> libworkspace.so's workspace_alloc:
 *                    cuMemAlloc_v2 32 MiB (33,554,432 bytes)            live 41,943,040  <- PEAK
 *   cudaMemGetInfo (once, at the peak)
 *   workspace_destroy (cuMemFree_v2), cudaFree                          live          0
 *
 * Exact numbers:
 *   device peak 41,943,040 bytes (40 MiB): 8,388,608 from site_main_alloc in own_runtime
 *     (1 cudaMalloc), 33,554,432 from workspace_alloc in libworkspace.so (1 cuMemAlloc_v2
 *     reached through cuGetProcAddress_v2; libworkspace.so makes no cuda* call)
 *   under the fake (default 16G): cudaMemGetInfo at the peak = 41,943,040 of 17,179,869,184
 *     bytes used (both sizes are multiples of 512, charged exactly)
 *   held at exit: 0
 * Prints one line to stdout and returns 0. */
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime_api.h>

#include "libworkspace.h"

#define MIB ((size_t)1 << 20)

#define CHECK_CUDA(call)                                                                     \
    do {                                                                                     \
        cudaError_t err_ = (call);                                                           \
        if (err_ != cudaSuccess) {                                                           \
            fprintf(stderr, "own_runtime: %s failed: %s\n", #call, cudaGetErrorString(err_)); \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

static void *site_main_alloc(void)
{
    void *p = NULL;
    CHECK_CUDA(cudaMalloc(&p, 8 * MIB));
    return p;
}

int main(void)
{
    void *mine = site_main_alloc();
    size_t library = workspace_create();
    if (library == 0)
        return 1;

    size_t free_bytes = 0, total_bytes = 0;
    CHECK_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes));

    workspace_destroy();
    CHECK_CUDA(cudaFree(mine));
    printf("own_runtime: device peak %zu bytes (%zu by cudaMalloc in site_main_alloc, %zu by "
           "libworkspace.so through the driver), cudaMemGetInfo %zu of %zu bytes used at the "
           "peak, 0 bytes held at exit\n",
           8 * MIB + library, 8 * MIB, library, total_bytes - free_bytes, total_bytes);
    return 0;
}
