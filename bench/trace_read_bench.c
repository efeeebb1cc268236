/* trace_read_bench.c — writes a synthetic trace of N events (default 10 million) with the
 * real writer, then times reading it back the way a report would: every record through
 * gp_trace_reader_next, with a small per-event summary so the decode cannot be skipped.
 * Prints write speed, compressed and raw bytes per event, and read speed with the inflate
 * thread and without it (GPUPROF_TRACE_THREADS=0). Two workloads:
 *   mixed: 16 stacks, 4 threads, sizes 1-128 MiB, 16 possible addresses per site (default)
 *   loop:  one cudaMalloc/cudaFree pair repeated: same 20-frame stack, size and address
 * Times are jittered in both, as real call times are.
 * Usage: trace_read_bench [events] [mixed|loop] [trace path]  (default path in $TMPDIR)
 *        trace_read_bench 0 - <trace path>   only times reading an existing trace */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gp_trace.h"

#define BENCH_DEPTH 20
#define BENCH_STACKS 16
#define BENCH_FLUSH_EVERY 100000 /* like a shim flushing every ~100 ms under heavy load */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic, so every run writes the same trace. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Module hook: one module covering all synthetic ips, written before the first frame. */
static void new_ip(void *ctx, struct gp_trace_writer *w, uint64_t ip)
{
    int *announced = ctx;
    (void)ip;
    if (!*announced) {
        gp_trace_writer_module(w, "/usr/lib/libbench.so", 0x7f0000000000ull, 0x7f0000000000ull,
                               0x7f0001000000ull);
        *announced = 1;
    }
}

static int write_trace(const char *path, uint64_t nevents, int loop)
{
    struct gp_trace_header hdr = {
        .pid = 4242, .ppid = 1, .stack_depth = BENCH_DEPTH, .realtime_ns = 1700000000000000000ull,
        .monotonic_ns = 1000000000ull, .host = "bench", .exe = "/usr/bin/bench",
        .cmdline = "bench --alloc-loop", .label = ""};
    struct gp_trace_writer *w = NULL;
    struct gp_event *ev = calloc(1, gp_event_size(BENCH_DEPTH));
    uint64_t stacks[BENCH_STACKS][BENCH_DEPTH];
    uint64_t live[BENCH_STACKS] = {0};
    int announced = 0;
    int rc = -ENOMEM;
    int fd = -1;

    if (!ev)
        goto out;
    /* Stacks share their outer 15 frames (main, framework) and differ inside. */
    for (int s = 0; s < BENCH_STACKS; s++)
        for (int f = 0; f < BENCH_DEPTH; f++)
            stacks[s][f] = 0x7f0000001000ull + (uint64_t)f * 0x140 +
                           (f < 5 ? (uint64_t)s * 0x10000 : 0);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = gp_trace_writer_open(&w, fd, &hdr, NULL);
    if (rc < 0)
        goto out;
    gp_trace_writer_set_new_ip_hook(w, new_ip, &announced);

    double t0 = now_s();
    uint64_t t = hdr.monotonic_ns;
    for (uint64_t i = 0; i < nevents && rc == 0; i++) {
        uint64_t r = rng();
        int s = loop ? 0 : (int)((i / 2) % BENCH_STACKS);
        t += 300 + (r & 2047); /* jittered spacing, like real calls */
        ev->time_ns = t;
        ev->tid = 7000 + (uint32_t)(s & 3);
        ev->device = 0;
        ev->kind = GP_MEM_DEVICE;
        ev->nframes = BENCH_DEPTH;
        memcpy(ev->ips, stacks[s], sizeof(stacks[s]));
        if ((i & 1) == 0) {
            ev->type = GP_REC_ALLOC;
            ev->api = GP_API_CUDA_MALLOC;
            ev->size = (uint64_t)1 << (20 + (s & 7));
            live[s] = 0x7f4000000000ull + (uint64_t)s * 0x40000000ull +
                      (loop ? 0 : ((r >> 16) & 0xf) * 0x200000);
            ev->ptr = live[s];
        } else {
            ev->type = GP_REC_FREE;
            ev->api = GP_API_CUDA_FREE;
            ev->size = 0;
            ev->ptr = live[s];
        }
        rc = gp_trace_writer_event(w, ev);
        if (rc == 0 && i % BENCH_FLUSH_EVERY == BENCH_FLUSH_EVERY - 1)
            rc = gp_trace_writer_flush(w);
    }
    double t1 = now_s();
    uint64_t raw = gp_trace_writer_raw_bytes(w);
    if (rc == 0) {
        rc = gp_trace_writer_close(w);
        w = NULL;
    }
    double t2 = now_s();
    if (rc < 0)
        goto out;
    off_t file = lseek(fd, 0, SEEK_END);
    printf("write: %llu events in %.3f s = %.2f M events/s\n", (unsigned long long)nevents,
           t2 - t0, (double)nevents / (t2 - t0) / 1e6);
    printf("size:  %.3f bytes/event compressed, %.2f bytes/event raw (ratio %.1f)\n",
           (double)file / (double)nevents, (double)raw / (double)nevents,
           (double)raw / (double)file);
    (void)t1;
out:
    gp_trace_writer_abandon(w);
    if (fd >= 0)
        close(fd);
    free(ev);
    return rc;
}

static int read_trace(const char *path, const char *mode)
{
    struct gp_trace_reader *r = NULL;
    struct gp_record rec;
    char err[256];
    uint64_t events = 0, frees = 0, bytes = 0, deepest = 0;
    int rc;

    double t0 = now_s();
    rc = gp_trace_reader_open(&r, path, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "open: %s\n", err);
        return rc;
    }
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof(err))) > 0) {
        /* A token summary, so that every decoded field is used. */
        if (rec.type == GP_REC_ALLOC) {
            events++;
            bytes += rec.size;
            if (rec.stack > deepest)
                deepest = rec.stack;
        } else if (rec.type == GP_REC_FREE) {
            events++;
            frees += rec.ptr != 0;
        }
    }
    double t1 = now_s();
    if (rc < 0)
        fprintf(stderr, "read: %s\n", err);
    else
        printf("read (%s): %llu events in %.3f s = %.2f M events/s, status %s"
               " (%.0f GiB allocated, %llu frees, %llu stack nodes)\n",
               mode, (unsigned long long)events, t1 - t0, (double)events / (t1 - t0) / 1e6,
               gp_trace_reader_status(r) == GP_TRACE_OK ? "ok" : "truncated",
               (double)bytes / (1u << 30), (unsigned long long)frees,
               (unsigned long long)deepest);
    gp_trace_reader_close(r);
    return rc;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ull;
    int loop = argc > 2 && strcmp(argv[2], "loop") == 0;
    char tmp[4096];
    const char *path = argc > 3 ? argv[3] : NULL;
    int rc = 0;

    if (!path) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp, sizeof(tmp), "%s/gp_trace_bench.%d.gz", dir ? dir : "/tmp", (int)getpid());
        path = tmp;
    }
    /* 0 events and a path: only time reading an existing trace. */
    if (n > 0 || argc <= 3) {
        printf("workload: %s, %llu events\n", loop ? "loop" : "mixed", (unsigned long long)n);
        rc = write_trace(path, n, loop);
        if (rc < 0) {
            fprintf(stderr, "write failed: %s\n", strerror(-rc));
            goto out;
        }
    }
    for (int i = 0; i < 3 && rc >= 0; i++) {
        setenv("GPUPROF_TRACE_THREADS", "1", 1);
        rc = read_trace(path, "inflate thread");
    }
    for (int i = 0; i < 2 && rc >= 0; i++) {
        setenv("GPUPROF_TRACE_THREADS", "0", 1);
        rc = read_trace(path, "single thread ");
    }
out:
    if (path == tmp)
        unlink(tmp);
    return rc < 0 ? 1 : 0;
}
