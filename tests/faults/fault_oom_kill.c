/* fault_oom_kill: the program is killed (SIGKILL, no handler can run) right after an
 * allocation fails for lack of memory, while two other threads keep the shim's writer busy
 * with allocations. The shim flushes the trace before the failing call returns, so the OOM
 * must be on disk whatever the writer was doing at that moment.
 *
 *   fault_oom_kill
 *
 * The main thread makes one cudaMalloc/cudaFree pair (so the shim is set up), starts 2 churn
 * threads running cudaMalloc(4096)/cudaFree pairs without end, waits until each has done 100,
 * then asks for 1 PiB (oom_site), prints the error and kills itself with SIGKILL. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>

#include <cuda_runtime_api.h>

#define CHURNERS 2

static atomic_int warm;

static void *churn(void *arg)
{
    (void)arg;
    for (long i = 0;; i++) {
        void *p = NULL;
        if (cudaMalloc(&p, 4096) == cudaSuccess)
            cudaFree(p);
        if (i == 100)
            atomic_fetch_add(&warm, 1);
    }
    return NULL;
}

static cudaError_t oom_site(void **p) { return cudaMalloc(p, (size_t)1 << 50); }

int main(void)
{
    void *p = NULL;
    if (cudaMalloc(&p, 4096) != cudaSuccess || cudaFree(p) != cudaSuccess)
        return 1;
    pthread_t t;
    for (int i = 0; i < CHURNERS; i++)
        if (pthread_create(&t, NULL, churn, NULL) != 0)
            return 1;
    while (atomic_load(&warm) < CHURNERS)
        sched_yield();
    cudaError_t rc = oom_site(&p);
    printf("fault_oom_kill: cudaMalloc(1 PiB): %s\n", cudaGetErrorName(rc));
    fflush(stdout);
    raise(SIGKILL);
    return 1;
}
