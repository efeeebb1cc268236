/* alloc_loop.c — N cudaMalloc/cudaFree pairs (argv[1], default 1,000,000) called from a
 * few nested frames, for measuring the shim's cost per intercepted event. With argv[2]
 * "driver" the pairs are cuMemAlloc_v2/cuMemFree_v2 fetched through
 * cudaGetDriverEntryPointByVersion (the driver layer, as PyTorch and cuBLAS reach it).
 * Built twice: with -DGP_BENCH_MALLOC it does malloc/free instead, the equivalent loop
 * for heaptrack. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef GP_BENCH_MALLOC
#define GP_ALLOC(p, n) ((*(p) = malloc(n)) == NULL)
#define GP_FREE(p) free(p)
#else
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <string.h>
static CUresult (*drv_alloc)(CUdeviceptr *, size_t);
static CUresult (*drv_free)(CUdeviceptr);
static int bench_alloc(void **p, size_t n)
{
    if (drv_alloc == NULL)
        return cudaMalloc(p, n) != cudaSuccess;
    CUdeviceptr d = 0;
    CUresult r = drv_alloc(&d, n);
    *p = (void *)(uintptr_t)d;
    return r != CUDA_SUCCESS;
}
static void bench_free(void *p)
{
    if (drv_free == NULL)
        cudaFree(p);
    else
        drv_free((CUdeviceptr)(uintptr_t)p);
}
#define GP_ALLOC(p, n) bench_alloc((p), (n))
#define GP_FREE(p) bench_free(p)
#endif

/* Volatile depth keeps the compiler from folding the nesting away: both loops unwind
 * through the same eight frames. */
static volatile int depth_left;
static void *volatile sink; /* keeps the compiler from deleting a malloc/free pair */

__attribute__((noinline)) static int pairs(long n)
{
    for (long i = 0; i < n; i++) {
        void *p;
        if (GP_ALLOC(&p, 4096))
            return 1;
        sink = p;
        GP_FREE(p);
    }
    return 0;
}

__attribute__((noinline)) static int nest(int d, long n)
{
    if (d <= 0)
        return pairs(n);
    int r = nest(d - 1, n);
    depth_left = d;
    return r;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (n < 0) {
        fprintf(stderr, "usage: %s [pairs]\n", argv[0]);
        return 2;
    }
#ifndef GP_BENCH_MALLOC
    if (argc > 2 && strcmp(argv[2], "driver") == 0) {
        void *a = NULL, *f = NULL;
        enum cudaDriverEntryPointQueryResult q;
        if (cudaGetDriverEntryPointByVersion("cuMemAlloc", &a, 12000, cudaEnableDefault, &q) != cudaSuccess ||
            cudaGetDriverEntryPointByVersion("cuMemFree", &f, 12000, cudaEnableDefault, &q) != cudaSuccess ||
            a == NULL || f == NULL) {
            fprintf(stderr, "alloc_loop: no driver entry points\n");
            return 1;
        }
        drv_alloc = (CUresult(*)(CUdeviceptr *, size_t))a;
        drv_free = (CUresult(*)(CUdeviceptr))f;
    }
    void *warm; /* first call creates the context: keep it out of the loop */
    if (cudaMalloc(&warm, 1) == cudaSuccess)
        cudaFree(warm);
#endif
    return nest(6, n);
}
