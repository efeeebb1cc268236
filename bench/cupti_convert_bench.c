/* cupti_convert_bench.c — the cost of GPU activity tracing on the writer thread: buffers of
 * real CUPTI record structs (CUpti_ActivityKernel10, from the toolkit's header) converted by
 * the shim's converter (cupti/convert.c) and written by the trace writer, compression and
 * file writes included, on one core. The buffers hold a training loop: the same few hundred
 * kernels every step, in the same order, on two streams; gaps between kernels of GAP ns plus
 * up to GAP_JITTER ns, and durations within +-JITTER per mille of each kernel's own
 * (defaults 1500 ns + 0..2000 ns and +-20 per mille: more noise than a busy GPU shows).
 * Prints kernel records per second, by wall time and by the thread's CPU time, and bytes
 * per kernel record (targets: 5 M/s, at most 6).
 * Usage: cupti_convert_bench [records (20,000,000)] [kernels per step (300)]
 *                            [JITTER per mille (20)] [GAP ns (1500)] [GAP_JITTER ns (2000)] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cupti_int.h"

#define BUFFER_RECORDS 38000 /* an 8 MiB buffer of Kernel10 records */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall time, and this thread's CPU time: on a loaded machine the second is what one core
 * would give, the first also counts the time other processes held it. */
static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

int main(int argc, char **argv)
{
    uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000ull;
    unsigned kernels = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 300;
    uint64_t jitter_pm = argc > 3 ? strtoull(argv[3], NULL, 10) : 20;
    uint64_t gap = argc > 4 ? strtoull(argv[4], NULL, 10) : 1500;
    uint64_t gap_jitter = argc > 5 ? strtoull(argv[5], NULL, 10) : 2000;
    char path[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/gpuprof-cupti-bench.gz", tmp && *tmp ? tmp : "/tmp");
    if (kernels == 0 || total == 0 || jitter_pm > 500)
        return 2;

    /* The kernels of one step: names, launch shapes, base durations. */
    char (*names)[96] = calloc(kernels, sizeof(*names));
    uint64_t *base = calloc(kernels, sizeof(*base));
    CUpti_ActivityKernel10 *buf = calloc(BUFFER_RECORDS, sizeof(*buf));
    if (!names || !base || !buf)
        return 1;
    for (unsigned k = 0; k < kernels; k++) {
        snprintf(names[k], sizeof(names[k]),
                 "_ZN2at6native29vectorized_elementwise_kernelILi4ENS0_%uEEEviT0_T1_", k);
        base[k] = 3000 + rng() % 200000;
    }

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    struct gp_trace_header hdr = {.version = GP_TRACE_VERSION, .pid = 1, .ppid = 1,
                                  .realtime_ns = 1700000000000000000ull,
                                  .monotonic_ns = 5000000000ull, .host = "bench",
                                  .exe = "cupti_convert_bench", .cmdline = "", .label = ""};
    struct gp_trace_writer *w;
    if (gp_trace_writer_open(&w, fd, &hdr, NULL) < 0)
        return 1;

    uint64_t t = 1700000000000000000ull, done = 0;
    uint32_t corr = 1;
    unsigned k = 0;
    double busy = 0, cpu = 0;
    while (done < total) {
        /* Fill one buffer, as CUPTI would (not timed)... */
        size_t n = 0;
        for (; n < BUFFER_RECORDS && done + n < total; n++) {
            CUpti_ActivityKernel10 *r = &buf[n];
            memset(r, 0, sizeof(*r));
            r->kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
            t += gap + (gap_jitter ? rng() % (gap_jitter + 1) : 0);
            r->start = t;
            uint64_t jitter = base[k] * (rng() % (2 * jitter_pm + 1)) / 1000;
            r->end = t + base[k] - base[k] * jitter_pm / 1000 + jitter;
            t = r->end;
            r->deviceId = 0;
            r->contextId = 1;
            r->streamId = k % 8 == 7 ? 14 : 7;
            corr += 1 + (uint32_t)(rng() % 4 == 0);
            r->correlationId = corr;
            r->gridX = (int32_t)(1 + k * 13 % 4096);
            r->gridY = r->gridZ = 1;
            r->blockX = 128 << (k % 3);
            r->blockY = r->blockZ = 1;
            r->registersPerThread = (uint16_t)(16 + k % 48);
            r->staticSharedMemory = (int32_t)(k % 4 * 2048);
            r->name = names[k];
            k = (k + 1) % kernels;
        }
        /* ...then convert and write it, as the writer thread does (timed). */
        double t0 = now_s(), c0 = cpu_s();
        for (size_t i = 0; i < n; i++) {
            struct gp_activity a;
            if (gp_cupti_convert((const CUpti_Activity *)&buf[i], -1699999000000000000ll, &a) != 1 ||
                gp_trace_writer_activity(w, &a) < 0)
                return 1;
        }
        if (gp_trace_writer_flush(w) < 0) /* the shim flushes after each drain */
            return 1;
        busy += now_s() - t0;
        cpu += cpu_s() - c0;
        done += n;
    }
    uint64_t raw = gp_trace_writer_raw_bytes(w);
    double t0 = now_s(), c0 = cpu_s();
    if (gp_trace_writer_close(w) < 0)
        return 1;
    busy += now_s() - t0;
    cpu += cpu_s() - c0;
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    printf("%llu kernel records (%u kernels per step, +-%llu per mille, gaps %llu+%llu ns): "
           "%.2f M records/s on one core (%.2f M/s of its CPU time), "
           "%.2f bytes/record in the trace (%lld bytes; %.2f before compression)\n",
           (unsigned long long)total, kernels, (unsigned long long)jitter_pm,
           (unsigned long long)gap, (unsigned long long)gap_jitter, (double)total / busy / 1e6,
           (double)total / cpu / 1e6,
           (double)size / (double)total, (long long)size, (double)raw / (double)total);
    unlink(path);
    free(names);
    free(base);
    free(buf);
    return 0;
}
