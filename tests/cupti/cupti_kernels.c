/* cupti_kernels.c — a CUDA program whose GPU activity is known exactly, for the kernel
 * tracing tests (tests/e2e/test_kernels*.py). The fake runtime launches nothing, so the
 * activity is made through the fake libcupti's hooks (tests/fakecuda/cupti/fakecupti.h): the
 * program finds the libcupti.so.13 the shim loaded, or loads FAKECUPTI_PATH itself after its
 * first CUDA call (when the shim did not: tracing off, CUPTI missing...), and describes each
 * activity. Its output never depends on what CUPTI recorded, so it is the same with and
 * without the shim.
 *
 * cupti_kernels run      the standard set, then frees everything:
 *   stream 13: 10 x _Z10vector_addPKfS0_Pfi 10,000 ns (grid 256x1x1, block 256x1x1, 32 regs)
 *              20 x relu_kernel 2,000 ns (grid 128, block 128, 16 regs)
 *   stream 14:  5 x _Z4gemmILi128EEvPKfS1_Pfiii 100,000 ns (grid 64x64x1, block 16x16x1,
 *              96 regs, 8192 static + 4096 dynamic shared bytes, graph 3 node 77)
 *   35 kernels, 640,000 ns of kernel time
 *   memcpy HtoD 3 x 1,048,576 bytes, 100,000 ns each; DtoH 2 x 4,096 bytes, 5,000 ns each
 *   memset 1 x 65,536 bytes, 8,000 ns
 *   NVTX: range "step" (id 1) around it all, an instant mark "checkpoint": 3 markers, 1 range
 *   1 external correlation (CUSTOM2, id 42); 7 records reported dropped by CUPTI
 *   device memory: cudaMalloc 4 MiB + 1 MiB, both freed
 * cupti_kernels exit     cudaMalloc 1 MiB, 5 x relu_kernel, exit(0) at once (nothing freed)
 * cupti_kernels kill     cudaMalloc 1 MiB, 4 x relu_kernel, sleeps 1.5 s, SIGKILLs itself
 * cupti_kernels oom      cudaMalloc 1 MiB, 3 x relu_kernel, a cudaMalloc of 1 PiB that fails,
 *                        then SIGKILL at once: only the flush at the OOM can save the kernels
 * cupti_kernels flood N  cudaMalloc 1 MiB, N x relu_kernel as fast as possible, then the fake's
 *                        buffer counters as "requested completed declined distinct" into the
 *                        file FAKECUPTI_STATS (when set)
 * With "preload" first, the fake is loaded before the first CUDA call, as PyTorch loads its
 * libcupti. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

#include "fakecupti.h"

static struct {
    fakecupti_emit_kernel_fn kernel;
    fakecupti_emit_memcpy_fn memcpy;
    fakecupti_emit_memset_fn memset;
    fakecupti_emit_marker_fn marker;
    fakecupti_emit_ext_corr_fn ext_corr;
    fakecupti_drop_fn drop;
    fakecupti_stats_fn stats;
} fake;

static void *load_fake(int load)
{
    void *h = dlopen("libcupti.so.13", RTLD_NOW | RTLD_NOLOAD);
    const char *path = getenv("FAKECUPTI_PATH");
    if (!h && load && path)
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    return h;
}

/* The hooks of the loaded fake; all NULL (nothing made) without one. */
static void find_hooks(void)
{
    void *h = load_fake(1);
    if (!h)
        return;
    fake.kernel = (fakecupti_emit_kernel_fn)dlsym(h, "fakecupti_emit_kernel");
    fake.memcpy = (fakecupti_emit_memcpy_fn)dlsym(h, "fakecupti_emit_memcpy");
    fake.memset = (fakecupti_emit_memset_fn)dlsym(h, "fakecupti_emit_memset");
    fake.marker = (fakecupti_emit_marker_fn)dlsym(h, "fakecupti_emit_marker");
    fake.ext_corr = (fakecupti_emit_ext_corr_fn)dlsym(h, "fakecupti_emit_ext_corr");
    fake.drop = (fakecupti_drop_fn)dlsym(h, "fakecupti_drop");
    fake.stats = (fakecupti_stats_fn)dlsym(h, "fakecupti_stats");
    if (!fake.kernel || !fake.memcpy || !fake.memset || !fake.marker || !fake.ext_corr ||
        !fake.drop || !fake.stats) {
        fprintf(stderr, "cupti_kernels: the loaded libcupti.so.13 is not the fake\n");
        exit(2);
    }
}

static void kernel(const char *name, uint32_t stream, uint64_t ns, uint32_t grid, uint32_t block,
                   uint32_t regs)
{
    struct fakecupti_kernel k = {
        .name = name, .device = 0, .stream = stream, .duration_ns = ns, .gap_ns = 1000,
        .grid = {grid, 1, 1}, .block = {block, 1, 1}, .registers = regs,
    };
    if (fake.kernel)
        fake.kernel(&k);
}

static void gemm(void)
{
    struct fakecupti_kernel k = {
        .name = "_Z4gemmILi128EEvPKfS1_Pfiii", .device = 0, .stream = 14,
        .duration_ns = 100000, .gap_ns = 2000, .grid = {64, 64, 1}, .block = {16, 16, 1},
        .registers = 96, .static_smem = 8192, .dynamic_smem = 4096, .graph_id = 3,
        .graph_node = 77,
    };
    if (fake.kernel)
        fake.kernel(&k);
}

static void *must_malloc(size_t n)
{
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, n);
    if (e != cudaSuccess) {
        fprintf(stderr, "cupti_kernels: cudaMalloc(%zu) failed: %s\n", n, cudaGetErrorString(e));
        exit(1);
    }
    return p;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int run(void)
{
    void *a = must_malloc(4u << 20);
    void *b = must_malloc(1u << 20);
    find_hooks();
    if (fake.marker)
        fake.marker("step", 1, 2);
    for (int i = 0; i < 3; i++)
        if (fake.memcpy)
            fake.memcpy(0, 13, 1, 1048576, 100000);
    for (int i = 0; i < 10; i++)
        kernel("_Z10vector_addPKfS0_Pfi", 13, 10000, 256, 256, 32);
    if (fake.ext_corr)
        fake.ext_corr(5, 42);
    for (int i = 0; i < 5; i++)
        gemm();
    if (fake.marker)
        fake.marker("checkpoint", 0, 1);
    for (int i = 0; i < 20; i++)
        kernel("relu_kernel", 13, 2000, 128, 128, 16);
    if (fake.memset)
        fake.memset(0, 13, 0, 65536, 8000);
    for (int i = 0; i < 2; i++)
        if (fake.memcpy)
            fake.memcpy(0, 13, 2, 4096, 5000);
    if (fake.drop)
        fake.drop(7);
    if (fake.marker)
        fake.marker(NULL, 1, 4);
    sleep_ms(20); /* the queued activity ends before the frees, as after a synchronize */
    cudaFree(a);
    cudaFree(b);
    printf("cupti_kernels: 35 kernels, 5 copies, 1 memset described; 5 MiB allocated and freed\n");
    return 0;
}

static int flood(long n)
{
    (void)must_malloc(1u << 20);
    find_hooks();
    for (long i = 0; i < n; i++)
        kernel("relu_kernel", 13, 2000, 128, 128, 16);
    const char *out = getenv("FAKECUPTI_STATS");
    if (out && fake.stats) {
        /* give the shim a moment to take the last full buffers back */
        sleep_ms(50);
        struct fakecupti_stats st;
        fake.stats(&st);
        FILE *f = fopen(out, "w");
        if (f) {
            fprintf(f, "%llu %llu %llu %llu\n", (unsigned long long)st.requested,
                    (unsigned long long)st.completed, (unsigned long long)st.declined,
                    (unsigned long long)st.distinct_buffers);
            fclose(f);
        }
    }
    printf("cupti_kernels: %ld kernels described\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    int a = 1;
    if (a < argc && strcmp(argv[a], "preload") == 0) {
        if (!load_fake(1)) {
            fprintf(stderr, "cupti_kernels: cannot load FAKECUPTI_PATH\n");
            return 2;
        }
        a++;
    }
    const char *mode = a < argc ? argv[a] : "run";
    if (strcmp(mode, "run") == 0)
        return run();
    if (strcmp(mode, "flood") == 0)
        return flood(a + 1 < argc ? atol(argv[a + 1]) : 10000);
    (void)must_malloc(1u << 20);
    find_hooks();
    if (strcmp(mode, "exit") == 0) {
        for (int i = 0; i < 5; i++)
            kernel("relu_kernel", 13, 2000, 128, 128, 16);
        printf("cupti_kernels: 5 kernels, then exit\n");
        fflush(stdout);
        exit(0);
    }
    if (strcmp(mode, "kill") == 0) {
        for (int i = 0; i < 4; i++)
            kernel("relu_kernel", 13, 2000, 128, 128, 16);
        printf("cupti_kernels: 4 kernels, then SIGKILL\n");
        fflush(stdout);
        sleep_ms(1500);
        raise(SIGKILL);
    }
    if (strcmp(mode, "oom") == 0) {
        for (int i = 0; i < 3; i++)
            kernel("relu_kernel", 13, 2000, 128, 128, 16);
        void *p = NULL;
        cudaError_t e = cudaMalloc(&p, (size_t)1 << 50);
        printf("cupti_kernels: 3 kernels, then cudaMalloc(1 PiB): %s\n", cudaGetErrorName(e));
        fflush(stdout);
        raise(SIGKILL);
    }
    fprintf(stderr, "usage: cupti_kernels [preload] run|exit|kill|oom|flood N\n");
    return 2;
}
