/* cubin_kernels.c — a CUDA program that loads real cubins and launches their kernels, for the
 * layer-4 end-to-end test (test_cubins.py). The fake runtime loads and launches nothing, so
 * the program plays both through the fake libcupti's hooks (tests/fakecuda/cupti/fakecupti.h):
 * after its first CUDA call it "loads" each cubin named on the command line on two devices
 * (module ids 1, 2, ... on device 0, then again on device 1: the same bytes twice, as PyTorch
 * loads its modules once per device), then describes these kernels:
 *   device 0, stream 7: 3 x tc_mma_f16 4,000 ns, 1 x tc_mma_s8 3,000 ns,
 *                       1 x tc_mma_f64 2,500 ns, 2 x tc_wmma_f16 5,000 ns
 *   device 1, stream 9: 4 x cc_axpy 500 ns, 1 x relu_kernel 1,000 ns (in no cubin)
 * (names from tests/sass/tc_kernels.cu and cc_kernels.cu, which are extern "C"). Its output
 * never depends on what was recorded, so it is the same with and without the shim.
 *   cubin_kernels CUBIN...   (FAKECUPTI_PATH: the fake to load when the shim did not) */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_runtime_api.h>

#include "fakecupti.h"

static fakecupti_emit_kernel_fn emit_kernel;
static fakecupti_load_module_fn load_module;
static void *fake_cupti; /* kept open: its functions are called until exit */

static void find_hooks(void)
{
    void *h = dlopen("libcupti.so.13", RTLD_NOW | RTLD_NOLOAD);
    const char *path = getenv("FAKECUPTI_PATH");
    if (!h && path)
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    fake_cupti = h;
    emit_kernel = (fakecupti_emit_kernel_fn)dlsym(h, "fakecupti_emit_kernel");
    load_module = (fakecupti_load_module_fn)dlsym(h, "fakecupti_load_module");
    if (!emit_kernel || !load_module) {
        fprintf(stderr, "cubin_kernels: the loaded libcupti.so.13 is not the fake\n");
        exit(2);
    }
}

static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
        (buf = malloc((size_t)n)) == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cubin_kernels: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void kernel(const char *name, uint32_t device, uint32_t stream, uint64_t ns, int times)
{
    struct fakecupti_kernel k = {.name = name, .device = device, .stream = stream,
                                 .duration_ns = ns, .gap_ns = 1000, .grid = {1, 1, 1},
                                 .block = {32, 1, 1}, .registers = 32};
    for (int i = 0; i < times && emit_kernel; i++)
        emit_kernel(&k);
}

int main(int argc, char **argv)
{
    void *p = NULL;
    if (cudaMalloc(&p, 1u << 20) != cudaSuccess) {
        fprintf(stderr, "cubin_kernels: cudaMalloc failed\n");
        return 1;
    }
    find_hooks();
    uint32_t module = 1;
    for (int device = 0; device < 2; device++) {
        for (int i = 1; i < argc; i++) {
            size_t len;
            void *cubin = read_file(argv[i], &len);
            if (load_module)
                (void)load_module(module, cubin, len);
            module++;
            free(cubin); /* the callback had to copy it */
        }
    }
    kernel("tc_mma_f16", 0, 7, 4000, 3);
    kernel("tc_mma_s8", 0, 7, 3000, 1);
    kernel("tc_mma_f64", 0, 7, 2500, 1);
    kernel("tc_wmma_f16", 0, 7, 5000, 2);
    kernel("cc_axpy", 1, 9, 500, 4);
    kernel("relu_kernel", 1, 9, 1000, 1);
    struct timespec ts = {0, 20000000}; /* the described kernels end before the free */
    nanosleep(&ts, NULL);
    cudaFree(p);
    printf("cubin_kernels: %d modules loaded, 12 kernels described\n", 2 * (argc - 1));
    return 0;
}
