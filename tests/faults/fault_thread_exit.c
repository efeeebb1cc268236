/* fault_thread_exit: a worker thread ends the whole process with _exit() while other threads
 * are still allocating: no atexit handler, no destructor runs, so the shim's writer thread
 * simply vanishes. The exit status must stay the program's and the trace must be readable
 * up to the shim's last periodic flush.
 *
 *   fault_thread_exit [DELAY_MS]
 *
 * main_site allocates 2 blocks of 1 MiB; 3 churn threads run cudaMalloc(4096)/cudaFree pairs
 * without end; the exiting thread does 1000 such pairs (exit_site), waits DELAY_MS (default
 * 200) and calls _exit(7). Prints two lines before that. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#define CHURNERS 3

static long delay_ms = 200;

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

static void exit_site(void)
{
    for (int i = 0; i < 1000; i++) {
        void *p = NULL;
        if (cudaMalloc(&p, 4096) == cudaSuccess)
            cudaFree(p);
    }
}

static void *exiter(void *arg)
{
    (void)arg;
    exit_site();
    struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    printf("fault_thread_exit: calling _exit(7) from a thread\n");
    fflush(stdout);
    _exit(7);
}

static int main_site(void **blocks)
{
    return cudaMalloc(&blocks[0], 1 << 20) != cudaSuccess || cudaMalloc(&blocks[1], 1 << 20) != cudaSuccess;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        delay_ms = strtol(argv[1], NULL, 10);
    void *blocks[2];
    if (main_site(blocks) != 0) {
        fprintf(stderr, "fault_thread_exit: cudaMalloc failed\n");
        return 1;
    }
    printf("fault_thread_exit: 2 blocks allocated, starting threads\n");
    fflush(stdout);
    pthread_t t;
    for (int i = 0; i < CHURNERS; i++)
        if (pthread_create(&t, NULL, churn, NULL) != 0)
            return 1;
    if (pthread_create(&t, NULL, exiter, NULL) != 0)
        return 1;
    pthread_join(t, NULL); /* never returns: the exiter ends the process */
    return 1;
}
