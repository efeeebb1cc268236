/* make_perfetto_trace.c — writes the traces check_perfetto.py runs gpuprof-report --perfetto
 * and --csv on (times in microseconds after the start):
 *   make_perfetto_trace flows OUT
 *       cuBLAS/cuDNN calls (LIBCALL) on two threads, two of them carrying an external id
 *       (ext_id); EXT_CORR records tying CUPTI correlation ids to those ids (kind 5, the kind
 *       gpuprof pushes, and one of kind 3 that must be ignored); the kernels they launched;
 *       PyTorch allocator events (TORCH) for the allocated and reserved counters.
 *   make_perfetto_trace many OUT N
 *       N kernels on 4 streams in steps of 1000, written stream by stream within a step as
 *       CUPTI buffers interleave them, an NVTX range and a cudaMalloc/cudaFree per step: the
 *       memory-bound test's input.
 *   make_perfetto_trace rss PROGRAM ARGS...
 *       runs PROGRAM and prints "rss KIB status N" on stderr: its peak resident set. Measured
 *       from this small process because a child's peak counts the memory of the process it
 *       was forked from (Linux keeps the high-water mark across exec), and Python's is large. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_builder.h"

#define US UINT64_C(1000)

static int libcall(struct tb *tb, unsigned api, uint32_t tid, uint64_t s_us, uint64_t e_us,
                   uint64_t m, uint64_t n, uint64_t k, uint64_t ext)
{
    struct gp_event *ev = calloc(1, gp_event_size(0));
    if (!ev)
        return -1;
    ev->type = GP_REC_LIBCALL;
    ev->api = (uint8_t)api;
    ev->kind = 0; /* CUBLAS_DEFAULT_MATH */
    ev->tid = tid;
    ev->time_ns = TB_T0 + e_us * US; /* recorded when the call returns */
    ev->size = m;
    ev->aux1 = n;
    ev->aux2 = k;
    ev->lib.ext_id = ext;
    ev->lib.batch = 1;
    ev->lib.dur_ns = (e_us - s_us) * US;
    ev->lib.type_a = ev->lib.type_b = ev->lib.type_c = 1; /* CUDA_R_32F + 1 */
    ev->lib.compute = 68;                                  /* CUBLAS_COMPUTE_32F */
    ev->lib.algo = GP_LIB_UNKNOWN;
    int rc = gp_trace_writer_event(tb->w, ev);
    free(ev);
    return rc;
}

static int kernel(struct tb *tb, const char *name, uint32_t stream, uint64_t s_ns, uint64_t e_ns,
                  uint32_t corr)
{
    struct gp_activity a = {0};
    a.type = GP_REC_KERNEL;
    a.name = name;
    a.stream = stream;
    a.start_ns = TB_T0 + s_ns;
    a.end_ns = TB_T0 + e_ns;
    a.correlation = corr;
    return gp_trace_writer_activity(tb->w, &a);
}

static int ext_corr(struct tb *tb, unsigned kind, uint64_t ext, uint32_t corr)
{
    struct gp_activity a = {0};
    a.type = GP_REC_EXT_CORR;
    a.kind = (uint8_t)kind;
    a.value = ext;
    a.correlation = corr;
    return gp_trace_writer_activity(tb->w, &a);
}

static int marker(struct tb *tb, const char *name, uint8_t kind, uint64_t id, uint64_t t_ns)
{
    struct gp_activity a = {0};
    a.type = GP_REC_MARKER;
    a.name = name;
    a.kind = kind;
    a.value = id;
    a.start_ns = a.end_ns = TB_T0 + t_ns;
    return gp_trace_writer_activity(tb->w, &a);
}

static int torch(struct tb *tb, unsigned action, uint64_t us, uint64_t size, uint64_t ptr)
{
    return tb_event(tb, GP_REC_TORCH, action, 0, 0, us * US, size, ptr, 0, 0, NULL);
}

static int make_flows(const char *out)
{
    struct tb tb;
    int rc = tb_open_path(&tb, out, NULL);
    if (rc < 0)
        return rc;
    const uint64_t MiB = 1u << 20;
    struct gp_activity_status st = {.state = GP_ACT_RECORDING, .version = 1};
    rc |= gp_trace_writer_activity_status(tb.w, &st);
    /* thread 77: a GEMM with ext id 501 (its workspace allocated inside it), a convolution
     * with ext id 502; thread 78: a GEMM with no id */
    rc |= tb_event(&tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, 0, 1020 * US, 1 * MiB,
                   0x7f0000000000, 0, 0, NULL);
    rc |= libcall(&tb, GP_LIB_SGEMM, 77, 1000, 1100, 128, 256, 64, 501);
    rc |= libcall(&tb, GP_LIB_GEMM_EX, 78, 1150, 1250, 100, 1, 30, 0);
    rc |= tb_event(&tb, GP_REC_FREE, GP_API_CUDA_FREE, GP_MEM_DEVICE, 0, 1280 * US, 0,
                   0x7f0000000000, 0, 0, NULL);
    rc |= libcall(&tb, GP_LIB_CONV_FWD, 77, 1200, 1300, 4096, 64, 576, 502);
    /* PyTorch: an 8 MiB segment, blocks of 1 and 2 MiB, the first let go */
    rc |= torch(&tb, GP_TORCH_SEGMENT_ALLOC, 1100, 8 * MiB, 0xa0000000);
    rc |= torch(&tb, GP_TORCH_ALLOC, 1200, 1 * MiB, 0xa0000000);
    rc |= torch(&tb, GP_TORCH_ALLOC, 1300, 2 * MiB, 0xa0100000);
    rc |= torch(&tb, GP_TORCH_FREE_REQUESTED, 1400, 1 * MiB, 0xa0000000);
    rc |= torch(&tb, GP_TORCH_FREE_COMPLETED, 1450, 1 * MiB, 0xa0000000);
    /* CUPTI: the ids, then the kernels (one arriving out of start order) */
    rc |= ext_corr(&tb, 5, 501, 10);
    rc |= ext_corr(&tb, 5, 501, 11);
    rc |= ext_corr(&tb, 5, 502, 12);
    rc |= ext_corr(&tb, 3, 501, 13); /* PyTorch's kind: no arrow */
    rc |= kernel(&tb, "sgemm_a", 7, 1050 * US, 1080 * US, 10);
    rc |= kernel(&tb, "conv", 8, 1250 * US, 1400 * US, 12);
    rc |= kernel(&tb, "other", 7, 1130 * US, 1140 * US, 13);
    rc |= kernel(&tb, "sgemm_b", 7, 1090 * US, 1120 * US, 11);
    rc |= kernel(&tb, "nolink", 7, 1300 * US, 1310 * US, 14);
    int rc2 = tb_close(&tb);
    return rc ? -1 : rc2;
}

static int make_many(const char *out, uint64_t n)
{
    static const char *const names[8] = {"_Z5gemm0v", "_Z5gemm1v", "relu", "softmax",
                                          "layernorm", "copy_kernel", "reduce", "dropout"};
    struct tb tb;
    int rc = tb_open_path(&tb, out, NULL);
    if (rc < 0)
        return rc;
    struct gp_activity_status st = {.state = GP_ACT_RECORDING, .version = 1};
    rc |= gp_trace_writer_activity_status(tb.w, &st);
    uint32_t corr = 1;
    for (uint64_t step = 0, done = 0; done < n && rc == 0; step++) {
        uint64_t t0 = 10000 + step * 1000 * US; /* a step: 1000 us */
        rc |= tb_event(&tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC, GP_MEM_DEVICE, 0, t0, 1u << 20,
                       0x7f0000000000, 0, 0, NULL);
        rc |= marker(&tb, "step", 2, step + 1, t0);
        for (uint32_t s = 0; s < 4 && done < n; s++) {
            for (uint32_t i = 0; i < 250 && done < n; i++, done++) {
                uint64_t ks = t0 + i * 3 * US + s * 100;
                rc |= kernel(&tb, names[(i + s) % 8], 7 + s, ks, ks + 2 * US, corr++);
            }
        }
        rc |= marker(&tb, NULL, 4, step + 1, t0 + 800 * US);
        rc |= tb_event(&tb, GP_REC_FREE, GP_API_CUDA_FREE, GP_MEM_DEVICE, 0, t0 + 900 * US, 0,
                       0x7f0000000000, 0, 0, NULL);
    }
    int rc2 = tb_close(&tb);
    return rc ? -1 : rc2;
}

static int rss(char **argv)
{
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid)
        return 1;
    fprintf(stderr, "rss %ld status %d\n", ru.ru_maxrss,
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "rss") == 0)
        return rss(argv + 2);
    if (argc == 3 && strcmp(argv[1], "flows") == 0)
        return make_flows(argv[2]) ? 1 : 0;
    if (argc == 4 && strcmp(argv[1], "many") == 0)
        return make_many(argv[2], strtoull(argv[3], NULL, 10)) ? 1 : 0;
    fprintf(stderr, "usage: make_perfetto_trace flows OUT | many OUT N | rss PROGRAM ARGS...\n");
    return 2;
}
