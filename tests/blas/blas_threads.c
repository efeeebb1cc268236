/* blas_threads.c — cuBLAS from several threads at once, each on its own handle: even threads
 * put theirs in TF32 math mode, odd threads leave the default, then each makes the same
 * fp32 GEMM many times. Every call must be recorded with its own handle's math mode
 * (tests/e2e/test_blas_report.py checks the counts). Usage: blas_threads THREADS CALLS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <cublas_v2.h>

static int calls;

static void *worker(void *arg)
{
    long id = (long)arg;
    cublasHandle_t h;
    float f = 1;
    if (cublasCreate_v2(&h) != CUBLAS_STATUS_SUCCESS)
        return (void *)1;
    if (id % 2 == 0 && cublasSetMathMode(h, CUBLAS_TF32_TENSOR_OP_MATH) != CUBLAS_STATUS_SUCCESS)
        return (void *)1;
    for (int i = 0; i < calls; i++)
        if (cublasSgemm_v2(h, CUBLAS_OP_N, CUBLAS_OP_N, 64, 64, 64, &f, &f, 64, &f, 64, &f, &f,
                           64) != CUBLAS_STATUS_SUCCESS)
            return (void *)1;
    /* Handles are not destroyed: a handle freed while others are created could be reused
     * at the same address by the other parity, which is legal but makes the counts vary. */
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 8;
    calls = argc > 2 ? atoi(argv[2]) : 1000;
    pthread_t t[64];
    if (n < 1 || n > 64)
        return 2;
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 1;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad |= r != NULL;
    }
    if (bad)
        fprintf(stderr, "a cuBLAS call failed\n");
    return bad;
}
