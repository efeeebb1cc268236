/* fault_oom_kill: the program is killed (SIGKILL, no handler can run) right after an
 * allocation fails for lack of memory, while two other threads keep the shim's writer busy
 * with allocations. The shim flushes the trace before the failing call returns, so the OOM
 * must be on disk whatever the writer was doing at that moment.
 *
 *   fault_oom_kill
 *
 * 2 churn threads run cudaMalloc(4096)/cudaFree pairs without end; after 20 ms the main
 * thread asks for 1 PiB (oom_site), prints the error and kills itself with SIGKILL. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include <cuda_runtime_api.h>

static void *churn(void *arg)
{
    (void)arg;
    for (;;) {
        void *p = NULL;
        if (cudaMalloc(&p, 4096) == cudaSuccess)
            cudaFree(p);
    }
    return NULL;
}

static cudaError_t oom_site(void **p) { return cudaMalloc(p, (size_t)1 << 50); }

int main(void)
{
    pthread_t t;
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t, NULL, churn, NULL) != 0)
            return 1;
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    void *p = NULL;
    cudaError_t rc = oom_site(&p);
    printf("fault_oom_kill: cudaMalloc(1 PiB): %s\n", cudaGetErrorName(rc));
    fflush(stdout);
    raise(SIGKILL);
    return 1;
}
