/* fault_fork: the main thread forks while worker threads are allocating. Both processes must
 * exit normally, the parent's trace must hold exactly the parent's events and the child, if
 * it calls CUDA, must get a trace of its own with exactly its events.
 *
 *   fault_fork quiet|cuda
 *
 * 4 worker threads each run 20000 cudaMalloc(4096)/cudaFree pairs (worker_site). Once every
 * worker has done 100 pairs, the main thread forks.
 *   quiet: the workers call CUDA freely, so the fork can land while threads are inside the
 *          shim; the child makes no CUDA call (as with a real GPU, where a forked child cannot
 *          use the parent's CUDA context) and exits with exit(0).
 *   cuda:  each worker call is made under a program mutex that the program's own
 *          pthread_atfork handler takes, so the fork never lands while the CUDA stand-in holds
 *          its lock; the child then makes 3 cudaMalloc(1 MiB) + cudaFree pairs (child_site).
 * The parent waits for the child, joins the workers and prints one line; it returns 0 when
 * everything succeeded and the child exited 0. Parent trace: 80000 allocations, 80000 frees.
 * Child trace (cuda): 3 allocations, 3 frees. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#define THREADS 4
#define PAIRS 20000

static int cuda_child;
static pthread_mutex_t cuda_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long started;
static atomic_int failed;

static void lock_cuda(void) { pthread_mutex_lock(&cuda_lock); }
static void unlock_cuda(void) { pthread_mutex_unlock(&cuda_lock); }

static cudaError_t guarded_malloc(void **p, size_t n)
{
    if (cuda_child)
        lock_cuda();
    cudaError_t rc = cudaMalloc(p, n);
    if (cuda_child)
        unlock_cuda();
    return rc;
}

static cudaError_t guarded_free(void *p)
{
    if (cuda_child)
        lock_cuda();
    cudaError_t rc = cudaFree(p);
    if (cuda_child)
        unlock_cuda();
    return rc;
}

static void *worker_site(void *arg)
{
    (void)arg;
    for (int i = 0; i < PAIRS; i++) {
        void *p = NULL;
        if (guarded_malloc(&p, 4096) != cudaSuccess || guarded_free(p) != cudaSuccess)
            atomic_store(&failed, 1);
        if (i == 100)
            atomic_fetch_add(&started, 1);
    }
    return NULL;
}

static int child_site(void)
{
    void *p[3];
    for (int i = 0; i < 3; i++)
        if (cudaMalloc(&p[i], 1 << 20) != cudaSuccess)
            return 1;
    for (int i = 0; i < 3; i++)
        if (cudaFree(p[i]) != cudaSuccess)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "quiet") != 0 && strcmp(argv[1], "cuda") != 0)) {
        fprintf(stderr, "usage: fault_fork quiet|cuda\n");
        return 2;
    }
    cuda_child = strcmp(argv[1], "cuda") == 0;
    if (cuda_child)
        pthread_atfork(lock_cuda, unlock_cuda, unlock_cuda);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        if (pthread_create(&threads[t], NULL, worker_site, NULL) != 0)
            return 1;
    while (atomic_load(&started) < THREADS)
        sched_yield();
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        if (!cuda_child) {
            printf("fault_fork child: no CUDA call\n");
            exit(0);
        }
        int rc = child_site();
        printf("fault_fork child: 3 pairs %s\n", rc ? "failed" : "done");
        exit(rc);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = -1;
            break;
        }
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !atomic_load(&failed);
    printf("fault_fork: child %s; %d threads x %d pairs %s\n",
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "exited 0" : "failed", THREADS, PAIRS,
           atomic_load(&failed) ? "had failures" : "done");
    return ok ? 0 : 1;
}
