/* fault_stress: the shim under load — the input for gpuprof's stress tests.
 *
 *   fault_stress deep N     recurses N frames deep (deep_frame), then cudaMalloc(1 MiB) at
 *                           deep_site and frees it; prints "deep N done". Exit 0.
 *   fault_stress threads T S   T threads allocate and free (cudaMalloc 4096 / cudaFree) at
 *                           churn_site as fast as they can for S seconds; prints the exact
 *                           number of pairs done ("threads T pairs P"). Exit 0.
 *   fault_stress long P     P cudaMalloc/cudaFree pairs at long_site; prints the peak RSS
 *                           growth of the process (VmHWM) between pair 1,000,000 and the end,
 *                           in KiB: "long P rss_growth_kib K". Exit 0. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_runtime_api.h>

static int deep_site(void)
{
    void *p = NULL;
    if (cudaMalloc(&p, 1 << 20) != cudaSuccess)
        return 1;
    return cudaFree(p) != cudaSuccess;
}

/* volatile depth keeps the recursion a real one: no tail call, one frame per level */
static int deep_frame(volatile long left)
{
    if (left <= 0)
        return deep_site();
    int r = deep_frame(left - 1);
    return r + (int)(left & 0); /* use after the call: not a tail call */
}

static _Atomic long total_pairs;
static _Atomic int stop;

static void *churn_site(void *arg)
{
    (void)arg;
    long n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        void *p = NULL;
        if (cudaMalloc(&p, 4096) != cudaSuccess) {
            fprintf(stderr, "fault_stress: cudaMalloc failed\n");
            exit(1);
        }
        cudaFree(p);
        n++;
    }
    atomic_fetch_add(&total_pairs, n);
    return NULL;
}

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static int long_site(long pairs)
{
    long before = 0;
    for (long i = 0; i < pairs; i++) {
        void *p = NULL;
        if (cudaMalloc(&p, 4096) != cudaSuccess)
            return 1;
        cudaFree(p);
        if (i == 1000000)
            before = vm_hwm_kib();
    }
    printf("long %ld rss_growth_kib %ld\n", pairs, vm_hwm_kib() - before);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "deep") == 0) {
        long n = strtol(argv[2], NULL, 10);
        int r = deep_frame(n);
        printf("deep %ld done\n", n);
        return r;
    }
    if (argc >= 4 && strcmp(argv[1], "threads") == 0) {
        int t = atoi(argv[2]);
        int secs = atoi(argv[3]);
        pthread_t th[256];
        if (t < 1 || t > 256)
            return 2;
        for (int i = 0; i < t; i++)
            pthread_create(&th[i], NULL, churn_site, NULL);
        struct timespec ts = {secs, 0};
        nanosleep(&ts, NULL);
        atomic_store(&stop, 1);
        for (int i = 0; i < t; i++)
            pthread_join(th[i], NULL);
        printf("threads %d pairs %ld\n", t, atomic_load(&total_pairs));
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "long") == 0)
        return long_site(strtol(argv[2], NULL, 10));
    fprintf(stderr, "usage: fault_stress deep N | threads T SECONDS | long PAIRS\n");
    return 2;
}
