/* report_kernels_gen.c — writes a synthetic trace of N kernel records (with the real trace
 * writer) for bench/report_memory.sh: a training loop of 200 kernels per step on 4 streams,
 * each step inside an NVTX range "step", with idle gaps between steps and about 1 in 16
 * records arriving a few places out of time order, as CUPTI buffers of several streams do.
 * Usage: report_kernels_gen N PATH */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gp_trace.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: report_kernels_gen N PATH\n");
        return 2;
    }
    unsigned long long n = strtoull(argv[1], NULL, 10);
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(argv[2]);
        return 1;
    }
    struct gp_trace_header h = {0};
    h.version = GP_TRACE_VERSION;
    h.pid = 4242;
    h.realtime_ns = 1700000000000000000ull;
    h.monotonic_ns = 5000000000ull;
    h.host = "bench";
    h.exe = "report_kernels_gen";
    h.cmdline = "report_kernels_gen";
    h.label = "";
    struct gp_trace_writer *w;
    if (gp_trace_writer_open(&w, fd, &h, NULL) < 0)
        return 1;
    struct gp_activity_status st = {.state = GP_ACT_RECORDING, .version = 1};
    int rc = gp_trace_writer_activity_status(w, &st);
    char names[200][32];
    for (int i = 0; i < 200; i++)
        snprintf(names[i], sizeof(names[i]), "_Z6kernelILi%dEEvv", i);
    unsigned long long t = h.monotonic_ns + 1000000, step = 0;
    struct gp_activity held = {0};
    int have_held = 0;
    for (unsigned long long i = 0; i < n && rc == 0; i++) {
        unsigned k = (unsigned)(i % 200);
        if (k == 0) {
            t += 2000000; /* 2 ms between steps: the data loader */
            struct gp_activity m = {.type = GP_REC_MARKER, .kind = 2, .name = "step",
                                    .start_ns = t, .end_ns = t, .value = ++step};
            rc |= gp_trace_writer_activity(w, &m);
        }
        struct gp_activity a = {0};
        a.type = GP_REC_KERNEL;
        a.name = names[k];
        a.stream = 7 + k % 4;
        a.correlation = (uint32_t)i + 1;
        a.start_ns = t;
        a.end_ns = t + 5000 + (k * 37) % 20000;
        t += 3000 + (k * 13) % 4000;
        /* one in 16 is held back and written after the next one */
        if (!have_held && i % 16 == 5) {
            held = a;
            have_held = 1;
            continue;
        }
        rc |= gp_trace_writer_activity(w, &a);
        if (have_held) {
            rc |= gp_trace_writer_activity(w, &held);
            have_held = 0;
        }
        if (k == 199) {
            struct gp_activity m = {.type = GP_REC_MARKER, .kind = 4, .start_ns = t + 30000,
                                    .end_ns = t + 30000, .value = step};
            rc |= gp_trace_writer_activity(w, &m);
        }
    }
    if (have_held)
        rc |= gp_trace_writer_activity(w, &held);
    rc |= gp_trace_writer_close(w);
    close(fd);
    return rc ? 1 : 0;
}
