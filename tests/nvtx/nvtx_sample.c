/* nvtx_sample.c — a CUDA program annotated with NVTX (the toolkit's header-only nvtx3, as
 * PyTorch's torch.cuda.nvtx is), for tests/e2e/test_nvtx.py. It sets up nothing for NVTX:
 * whether its ranges reach a trace depends only on NVTX_INJECTION64_PATH. Its first NVTX call
 * is made on a second thread before any CUDA call (NVTX then loads its injection), the rest
 * after CUDA started:
 *   thread:   nvtxMarkA("before-cuda")                 (before CUPTI records markers)
 *   cudaMalloc 1 MiB
 *   nvtxRangePushA("step")
 *     kernel load_batch 5,000 ns
 *     nvtxRangePushA("forward")
 *       2 x kernel matmul 20,000 ns
 *     nvtxRangePop()
 *     nvtxMarkA("checkpoint")
 *     kernel optimizer 3,000 ns
 *   nvtxRangePop()
 *   id = nvtxRangeStartA("save"); kernel save 1,000 ns; nvtxRangeEnd(id)
 *   cudaFree
 * The kernels are described through the fake libcupti's hooks (tests/fakecuda/cupti), on
 * the copy the shim loaded or else FAKECUPTI_PATH, all on stream 7. stdout is the same with
 * and without the shim; NVTX_SAMPLE_ENV (when set) names a file that gets what the program
 * saw: "NVTX_INJECTION64_PATH=<value or (unset)>" and "nvtx_injections=<n>" (the fake's
 * count of InitializeInjectionNvtx2 calls it accepted, -1 without a fake). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime_api.h>
#include <nvtx3/nvToolsExt.h>

#include "fakecupti.h"

static fakecupti_emit_kernel_fn emit_kernel;
static fakecupti_stats_fn stats;

static void *fake_cupti; /* kept open for the program's life: its functions are called */

static void find_fake(void)
{
    void *h = dlopen("libcupti.so.13", RTLD_NOW | RTLD_NOLOAD);
    const char *path = getenv("FAKECUPTI_PATH");
    if (!h && path)
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    fake_cupti = h;
    emit_kernel = (fakecupti_emit_kernel_fn)dlsym(h, "fakecupti_emit_kernel");
    stats = (fakecupti_stats_fn)dlsym(h, "fakecupti_stats");
}

static void kernel(const char *name, uint64_t ns)
{
    struct fakecupti_kernel k = {
        .name = name, .stream = 7, .duration_ns = ns, .gap_ns = 500,
        .grid = {1, 1, 1}, .block = {32, 1, 1}, .registers = 8,
    };
    if (emit_kernel)
        emit_kernel(&k);
}

static void *first_nvtx_call(void *arg)
{
    (void)arg;
    nvtxMarkA("before-cuda");
    return NULL;
}

static void report_env(void)
{
    const char *out = getenv("NVTX_SAMPLE_ENV");
    if (!out)
        return;
    FILE *f = fopen(out, "w");
    if (!f)
        return;
    const char *v = getenv("NVTX_INJECTION64_PATH");
    long long injections = -1;
    if (stats) {
        struct fakecupti_stats st;
        stats(&st);
        injections = (long long)st.nvtx_injections;
    }
    fprintf(f, "NVTX_INJECTION64_PATH=%s\nnvtx_injections=%lld\n", v ? v : "(unset)", injections);
    fclose(f);
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, first_nvtx_call, NULL) != 0 || pthread_join(t, NULL) != 0) {
        fprintf(stderr, "nvtx_sample: cannot run a thread\n");
        return 1;
    }
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, 1u << 20);
    if (e != cudaSuccess) {
        fprintf(stderr, "nvtx_sample: cudaMalloc failed: %s\n", cudaGetErrorString(e));
        return 1;
    }
    find_fake();

    nvtxRangePushA("step");
    kernel("load_batch", 5000);
    nvtxRangePushA("forward");
    kernel("matmul", 20000);
    kernel("matmul", 20000);
    nvtxRangePop();
    nvtxMarkA("checkpoint");
    kernel("optimizer", 3000);
    nvtxRangePop();

    nvtxRangeId_t save = nvtxRangeStartA("save");
    kernel("save", 1000);
    nvtxRangeEnd(save);

    cudaFree(p);
    report_env();
    printf("nvtx_sample: 5 kernels described inside NVTX ranges\n");
    return 0;
}
