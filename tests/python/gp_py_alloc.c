/* gp_py_alloc.c — a tiny CUDA library for the Python stack tests and benchmark, loaded
 * with ctypes (CDLL: the GIL is released around each call; PyDLL: it is held). Its
 * allocations are kept, so each shows up as memory still held at exit, at the call site
 * of its Python caller. Built like the samples: no inlining, frame pointers kept. */
#include <stddef.h>

#include <cuda_runtime_api.h>

/* One cudaMalloc of size bytes, never freed. 0, or the CUDA error code. */
int gp_py_alloc(size_t size);
int gp_py_alloc(size_t size)
{
    void *p = NULL;
    return (int)cudaMalloc(&p, size);
}

/* n cudaMalloc/cudaFree pairs of size bytes: the per-event cost, measured under one
 * fixed Python stack (bench/python_stacks.sh). */
int gp_py_churn(long n, size_t size);
int gp_py_churn(long n, size_t size)
{
    for (long i = 0; i < n; i++) {
        void *p = NULL;
        int rc = (int)cudaMalloc(&p, size);
        if (rc != 0)
            return rc;
        cudaFree(p);
    }
    return 0;
}
