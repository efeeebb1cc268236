/* life_threads: threads and the end of a traced process — the input for gpuprof's
 * thread-lifecycle tests.
 *
 *   life_threads exit    main allocates at main_site (1 MiB, held), then runs
 *                        cudaMalloc(4096)/cudaFree pairs without end at churn_site; a second
 *                        thread waits until 2000 pairs are done, prints
 *                        "life_threads: exit from a thread" and calls exit(5) while main is
 *                        still allocating. Exit status 5.
 *   life_threads _exit   the same, but the thread waits 400 ms more and calls _exit(6): no
 *                        atexit handler runs. Exit status 6.
 *   life_threads many    32 threads: each does 500 cudaMalloc(4096)/cudaFree pairs at
 *                        pair_site; after a barrier each takes (t+1) x 8 KiB at held_site
 *                        (t = 0..31; 4,325,376 bytes in all, the exact device peak), after a
 *                        second barrier frees it. Exactly 16,032 allocations and 16,032
 *                        frees, nothing held at exit. Prints one line, exit status 0. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#define THREADS 32
#define PAIRS 500

static _Atomic long pairs_done;

static int main_site(void **p) { return cudaMalloc(p, (size_t)1 << 20) == cudaSuccess ? 0 : -1; }

static void churn_site(void)
{
    void *p = NULL;
    if (cudaMalloc(&p, 4096) == cudaSuccess && cudaFree(p) == cudaSuccess)
        atomic_fetch_add(&pairs_done, 1);
}

static void *exiter(void *arg)
{
    int hard = *(int *)arg;
    struct timespec step = {0, 1000000};
    while (atomic_load(&pairs_done) < 2000)
        nanosleep(&step, NULL);
    printf("life_threads: exit from a thread\n");
    fflush(stdout);
    if (hard) {
        struct timespec wait = {0, 400000000};
        nanosleep(&wait, NULL);
        _exit(6);
    }
    exit(5);
}

static int run_exit(int hard)
{
    void *held;
    if (main_site(&held) < 0)
        return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, exiter, &hard) != 0)
        return 1;
    for (;;)
        churn_site();
}

static pthread_barrier_t barrier;
static _Atomic long failures;

static void pair_site(void)
{
    void *p = NULL;
    if (cudaMalloc(&p, 4096) != cudaSuccess || cudaFree(p) != cudaSuccess)
        atomic_fetch_add(&failures, 1);
}

static void held_site(void **p, long t)
{
    if (cudaMalloc(p, (size_t)(t + 1) * 8192) != cudaSuccess)
        atomic_fetch_add(&failures, 1);
}

static void *worker(void *arg)
{
    long t = (long)(intptr_t)arg;
    for (int i = 0; i < PAIRS; i++)
        pair_site();
    pthread_barrier_wait(&barrier);
    void *p = NULL;
    held_site(&p, t);
    pthread_barrier_wait(&barrier);
    if (cudaFree(p) != cudaSuccess)
        atomic_fetch_add(&failures, 1);
    return NULL;
}

static int run_many(void)
{
    pthread_t th[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (long t = 0; t < THREADS; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0)
            return 1;
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    printf("life_threads: %d threads done, %ld failures\n", THREADS, atomic_load(&failures));
    return atomic_load(&failures) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "exit") == 0)
        return run_exit(0);
    if (strcmp(mode, "_exit") == 0)
        return run_exit(1);
    if (strcmp(mode, "many") == 0)
        return run_many();
    fprintf(stderr, "usage: life_threads exit|_exit|many\n");
    return 2;
}
