/* alloc_loop.c — N cudaMalloc/cudaFree pairs (argv[1], default 1,000,000) called from a
 * few nested frames, for measuring the shim's cost per intercepted event. Built twice:
 * with -DGP_BENCH_MALLOC it does malloc/free instead, the equivalent loop for heaptrack. */
#include <stdio.h>
#include <stdlib.h>

#ifdef GP_BENCH_MALLOC
#define GP_ALLOC(p, n) ((*(p) = malloc(n)) == NULL)
#define GP_FREE(p) free(p)
#else
#include <cuda_runtime_api.h>
#define GP_ALLOC(p, n) (cudaMalloc((p), (n)) != cudaSuccess)
#define GP_FREE(p) cudaFree(p)
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
    void *warm; /* first call creates the context: keep it out of the loop */
    if (cudaMalloc(&warm, 1) == cudaSuccess)
        cudaFree(warm);
#endif
    return nest(6, n);
}
