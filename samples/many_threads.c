/* many_threads: a CUDA runtime program hammering the allocator from several host threads; an
 * end-to-end test input for gpuprof's thread safety and overhead.
 *
 * 8 pthreads each run worker_alloc: 10,000 pairs of cudaMalloc(4096) + cudaFree.
 *
 * Exact numbers:
 *   80,000 cudaMalloc calls and 80,000 cudaFree calls, all from worker_alloc;
 *   327,680,000 bytes requested in total (80,000 x 4,096);
 *   held at exit: 0.
 *   The device peak depends on scheduling: between 4,096 and 32,768 bytes (at most one block
 *   per thread is live at once). 4,096 is a multiple of 512, so the fake charges the same.
 * Prints one line to stdout and returns 0 (1 if any call failed). */
#include <pthread.h>
#include <stdio.h>

#include <cuda_runtime_api.h>

#define THREADS 8
#define PAIRS 10000
#define BLOCK ((size_t)4096)

struct worker {
    pthread_t thread;
    long done;   /* completed pairs */
    long failed; /* calls that returned an error */
};

static void *worker_alloc(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PAIRS; i++) {
        void *p = NULL;
        if (cudaMalloc(&p, BLOCK) != cudaSuccess) {
            w->failed++;
            continue;
        }
        if (cudaFree(p) != cudaSuccess)
            w->failed++;
        else
            w->done++;
    }
    return NULL;
}

int main(void)
{
    struct worker workers[THREADS] = {0};
    for (int t = 0; t < THREADS; t++) {
        if (pthread_create(&workers[t].thread, NULL, worker_alloc, &workers[t]) != 0) {
            fprintf(stderr, "many_threads: pthread_create failed\n");
            return 1;
        }
    }
    long done = 0, failed = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(workers[t].thread, NULL);
        done += workers[t].done;
        failed += workers[t].failed;
    }
    printf("many_threads: %d threads x %d cudaMalloc(%zu)/cudaFree pairs: %ld pairs done, "
           "%zu bytes allocated in total, %ld failures\n",
           THREADS, PAIRS, BLOCK, done, (size_t)done * BLOCK, failed);
    return failed == 0 ? 0 : 1;
}
