/* make_html_trace.c — writes the traces check_html.py runs `gpuprof-report --html` on, with
 * the real trace writer (times in microseconds after the start):
 *   make_html_trace full OUT TEXT   every section of the page: the environment (INFO records:
 *       a driver older than the runtime, two GPUs, library versions), device memory with an
 *       OOM, PyTorch's allocator with an OOM, two cuBLAS calls (fp32 without TF32, fp16), GEMM
 *       kernels on two streams, a copy, NVTX "step" ranges three times (the timeline's window
 *       is the last one, 3000-4000 us); TEXT (hostile) is the label, the command line, the
 *       host, the first GPU's name, a kernel's name and an NVTX range's name.
 *   make_html_trace many OUT N      N kernels of 1 us inside the last step: past the page's
 *       box limit the timeline is drawn as occupancy per pixel column.
 * The numbers the test expects are stated next to the records that make them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_builder.h"

#define US 1000u
#define MiB (UINT64_C(1) << 20)

static const struct tb_stack site_w = { 2, { 0x401000, 0x402000 } };
static const struct tb_stack site_x = { 2, { 0x401100, 0x402000 } };

static int act(struct tb *tb, uint8_t type, const char *name, uint32_t stream, uint64_t s_us,
               uint64_t e_us, uint8_t kind, uint64_t bytes, uint64_t value)
{
    struct gp_activity a = { 0 };
    a.type = type;
    a.name = name;
    a.stream = stream;
    a.start_ns = TB_T0 + s_us * US;
    a.end_ns = TB_T0 + e_us * US;
    a.kind = kind;
    a.bytes = bytes;
    a.value = value;
    a.correlation = type == GP_REC_MARKER ? 0 : (uint32_t)s_us;
    return gp_trace_writer_activity(tb->w, &a);
}

static int range(struct tb *tb, const char *name, uint64_t id, uint64_t s_us, uint64_t e_us)
{
    return act(tb, GP_REC_MARKER, name, 0, s_us, s_us, 2, 0, id) |
           act(tb, GP_REC_MARKER, NULL, 0, e_us, e_us, 4, 0, id);
}

static int torch(struct tb *tb, unsigned action, uint64_t us, uint64_t ptr, uint64_t size,
                 uint64_t aux1, uint64_t aux2)
{
    return tb_event(tb, GP_REC_TORCH, action, 0, 0, us * US, size, ptr, aux1, aux2, NULL);
}

static int tstat(struct tb *tb, unsigned occasion, uint64_t us, unsigned stat, uint64_t value)
{
    return tb_event(tb, GP_REC_TORCH_STAT, stat, occasion, 0, us * US, value, 0, 0, 0, NULL);
}

/* A cuBLAS GEMM of m x n x k with all operands of one type (cudaDataType + 1). */
static int gemm(struct tb *tb, unsigned api, uint64_t us, uint64_t mnk, uint8_t type)
{
    struct gp_event *ev = calloc(1, gp_event_size(2));
    if (!ev)
        return -1;
    ev->type = GP_REC_LIBCALL;
    ev->api = (uint8_t)api;
    ev->tid = 77;
    ev->time_ns = TB_T0 + us * US;
    ev->size = ev->aux1 = ev->aux2 = mnk;
    ev->lib.batch = 1;
    ev->lib.lda = ev->lib.ldb = ev->lib.ldc = mnk;
    ev->lib.dur_ns = 10 * US;
    ev->lib.type_a = ev->lib.type_b = ev->lib.type_c = type;
    ev->lib.compute = 68; /* CUBLAS_COMPUTE_32F */
    ev->lib.algo = GP_LIB_UNKNOWN;
    ev->nframes = 2;
    memcpy(ev->ips, site_x.ips, sizeof(uint64_t) * 2);
    int rc = gp_trace_writer_event(tb->w, ev);
    free(ev);
    return rc;
}

static int info(struct tb *tb, const char *key, const char *value)
{
    return gp_trace_writer_info(tb->w, key, value);
}

static int open_run(struct tb *tb, const char *out, const char *text)
{
    struct gp_trace_header h;
    tb_header_defaults(&h);
    h.label = h.cmdline = h.host = text;
    return tb_open_path(tb, out, &h);
}

static int make_full(const char *out, const char *text)
{
    struct tb tb;
    int rc = open_run(&tb, out, text);
    if (rc < 0)
        return rc;
    /* Environment: CUDA 12.2 driver under a 12.4 runtime (the minor-version warning). */
    rc |= info(&tb, "cuda.driver_version", "12020");
    rc |= info(&tb, "cuda.runtime_version", "12040");
    rc |= info(&tb, "nvidia.kernel_driver", "535.104.05");
    rc |= info(&tb, "gpu.count", "2");
    rc |= info(&tb, "gpu.0.name", text);
    rc |= info(&tb, "gpu.0.memory_bytes", "85899345920");
    rc |= info(&tb, "gpu.0.compute_capability", "9.0");
    rc |= info(&tb, "gpu.1.name", "NVIDIA H100 80GB HBM3");
    rc |= info(&tb, "cublas.version", "12.4.5");
    rc |= info(&tb, "cudnn.version", "9.1.0");
    rc |= info(&tb, "nccl.version", "2.21.5");
    /* Device memory: 64 MiB (PyTorch's segment) + 12 MiB (a workspace) = peak 76 MiB at
     * 1000 us; an OOM of 32 MiB at 2500 us with 2 MiB free of 100 MiB. */
    rc |= tb_alloc(&tb, 500 * US, GP_MEM_DEVICE, 0x70000000, 64 * MiB, &site_w);
    rc |= tb_alloc(&tb, 1000 * US, GP_MEM_DEVICE, 0x90000000, 12 * MiB, &site_x);
    rc |= tb_oom(&tb, 2500 * US, 32 * MiB, 2 * MiB, 100 * MiB, &site_x);
    /* PyTorch: torch 2.4.1; 16 MiB then 40 MiB allocated in the segment; its OOM at 2600 us
     * asks for 32 MiB (allocated 56 MiB, reserved 64 MiB), fatal. */
    rc |= tstat(&tb, GP_TORCH_AT_START, 100, GP_TSTAT_TORCH_VERSION, 20401);
    rc |= tstat(&tb, GP_TORCH_AT_START, 100, GP_TSTAT_EXPANDABLE, 0);
    rc |= tstat(&tb, GP_TORCH_AT_START, 100, GP_TSTAT_BACKEND_ASYNC, 0);
    rc |= tstat(&tb, GP_TORCH_AT_START, 100, GP_TSTAT_DEVICE_TOTAL, 100 * MiB);
    rc |= torch(&tb, GP_TORCH_SEGMENT_ALLOC, 500, 0x70000000, 64 * MiB, 0, 0);
    rc |= torch(&tb, GP_TORCH_ALLOC, 600, 0x70000000, 16 * MiB, 0, 0);
    rc |= torch(&tb, GP_TORCH_ALLOC, 2000, 0x71000000, 40 * MiB, 0, 0);
    rc |= torch(&tb, GP_TORCH_OOM, 2600, 0, 32 * MiB, 2 * MiB, 32 * MiB);
    rc |= tstat(&tb, GP_TORCH_AT_OOM, 2600, GP_TSTAT_ALLOCATED, 56 * MiB);
    rc |= tstat(&tb, GP_TORCH_AT_OOM, 2600, GP_TSTAT_RESERVED, 64 * MiB);
    rc |= tstat(&tb, GP_TORCH_AT_OOM, 2600, GP_TSTAT_DEVICE_FREE, 2 * MiB);
    rc |= tstat(&tb, GP_TORCH_AT_EXIT, 4500, GP_TSTAT_FATAL, 1);
    /* cuBLAS: sgemm 128^3 fp32 (not allowed: 4194304 FLOP), GemmEx 256^3 fp16 (allowed). */
    rc |= gemm(&tb, GP_LIB_SGEMM, 3100, 128, 1);
    rc |= gemm(&tb, GP_LIB_GEMM_EX, 3200, 256, 3);
    /* GPU activity: three steps; in the last (3000-4000 us) a Tensor Core kernel of 300 us
     * and a CUDA-core one of 100 us on stream 7, the hostile one of 200 us and a copy on
     * stream 9. */
    struct gp_activity_status st = { .state = GP_ACT_RECORDING, .version = 1 };
    rc |= gp_trace_writer_activity_status(tb.w, &st);
    rc |= range(&tb, "step", 1, 1000, 2000);
    rc |= range(&tb, "step", 2, 2000, 3000);
    rc |= act(&tb, GP_REC_KERNEL, "early", 7, 1100, 1200, 0, 0, 0);
    rc |= act(&tb, GP_REC_KERNEL,
              "sm80_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize128x128x32_stage4_warpsize2x2x1_"
              "tensor16x8x16_kernel", 7, 3100, 3400, 0, 0, 0);
    rc |= act(&tb, GP_REC_KERNEL, "volta_sgemm_128x64_nn", 7, 3500, 3600, 0, 0, 0);
    rc |= act(&tb, GP_REC_KERNEL, text, 9, 3300, 3500, 0, 0, 0);
    rc |= act(&tb, GP_REC_MEMCPY, NULL, 9, 3600, 3700, 1, 4096, 0);
    rc |= range(&tb, text, 4, 3050, 3950);
    rc |= range(&tb, "step", 3, 3000, 4000);
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

static int make_many(const char *out, unsigned n)
{
    struct tb tb;
    int rc = open_run(&tb, out, "many");
    if (rc < 0)
        return rc;
    rc |= tb_alloc(&tb, 500 * US, GP_MEM_DEVICE, 0x70000000, 64 * MiB, &site_w);
    struct gp_activity_status st = { .state = GP_ACT_RECORDING, .version = 1 };
    rc |= gp_trace_writer_activity_status(tb.w, &st);
    rc |= range(&tb, "step", 1, 100, 1000);
    rc |= act(&tb, GP_REC_KERNEL, "first", 7, 200, 300, 0, 0, 0);
    /* kernels of 1 us every 2 us from 1000 us: stream 7 half busy over the window */
    for (unsigned i = 0; i < n; i++)
        rc |= act(&tb, GP_REC_KERNEL, "tiny", 7, 1000 + 2 * i, 1001 + 2 * i, 0, 0, 0);
    rc |= range(&tb, "step", 2, 1000, 1000 + 2 * n);
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc == 4 && strcmp(argv[1], "full") == 0)
        rc = make_full(argv[2], argv[3]) ? 1 : 0;
    else if (argc == 4 && strcmp(argv[1], "many") == 0)
        rc = make_many(argv[2], (unsigned)strtoul(argv[3], NULL, 10)) ? 1 : 0;
    else
        fprintf(stderr, "usage: make_html_trace full OUT TEXT | many OUT N\n");
    return rc;
}
