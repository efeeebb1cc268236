/* make_views_trace.c — writes the traces the view tests (check_views.py) run
 * gpuprof-report on: allocation calls on two threads, an OOM, and CUPTI activity (kernels
 * on two streams, one pair overlapping without nesting, a copy, a memset, NVTX ranges,
 * two of them overlapping without nesting), a memory pool. Times are in microseconds after the start.
 *   make_views_trace timeline OUT [PID [LABEL [SCALE [SHIFT_US]]]]
 * LABEL also names a kernel and an NVTX range, and is the command line when not "unit" (for
 * escaping tests); SCALE multiplies the
 * allocation sizes (for several processes with different peaks); SHIFT_US moves the
 * header's wall clock (a host whose clock differs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_builder.h"

#define US 1000u

static const struct tb_stack site_a = { 2, { 0x401000, 0x402000 } };

static int call(struct tb *tb, uint8_t type, unsigned api, uint32_t tid, int32_t result,
                uint64_t us, uint64_t size, uint64_t ptr)
{
    struct gp_event *ev = calloc(1, gp_event_size(2));
    if (!ev)
        return -1;
    ev->type = type;
    ev->api = (uint8_t)api;
    ev->result = result;
    ev->tid = tid;
    ev->time_ns = TB_T0 + us * US;
    ev->size = size;
    ev->ptr = ptr;
    if (type == GP_REC_OOM) {
        ev->aux1 = 1u << 20;
        ev->aux2 = 16u << 20;
    }
    ev->nframes = 2;
    memcpy(ev->ips, site_a.ips, sizeof(uint64_t) * 2);
    int rc = gp_trace_writer_event(tb->w, ev);
    free(ev);
    return rc;
}

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

static int make_timeline(const char *out, uint32_t pid, const char *label, uint64_t scale,
                         int64_t shift_us)
{
    struct gp_trace_header h;
    struct tb tb;
    tb_header_defaults(&h);
    h.pid = pid;
    h.label = label;
    if (strcmp(label, "unit") != 0)
        h.cmdline = label; /* hostile strings reach every header string a view shows */
    h.realtime_ns += (uint64_t)(shift_us * 1000);
    int rc = tb_open_path(&tb, out, &h);
    if (rc < 0)
        return rc;
    const uint64_t MiB = 1u << 20;
    rc |= call(&tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC, 77, 0, 1000, 1 * MiB * scale, 0x7f0000000000);
    rc |= call(&tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC, 78, 0, 1500, 2 * MiB * scale, 0x7f0000400000);
    rc |= call(&tb, GP_REC_FREE, GP_API_CUDA_FREE, 77, 0, 2000, 0, 0x7f0000000000);
    rc |= call(&tb, GP_REC_ALLOC, GP_API_CUDA_MALLOC, 78, 2, 2500, 8 * MiB, 0);
    rc |= call(&tb, GP_REC_OOM, GP_API_CUDA_MALLOC, 78, 2, 2500, 8 * MiB, 0);
    /* a stream-ordered pool: 4 MiB reserved, 1 MiB of it in use, then none */
    rc |= tb_event(&tb, GP_REC_POOL, GP_API_CUDA_MALLOC_ASYNC, 0, 0, 2200 * US, 4 * MiB, 0x5000,
                   1 * MiB, 0, NULL);
    rc |= tb_event(&tb, GP_REC_POOL, GP_API_CUDA_FREE_ASYNC, 0, 0, 2800 * US, 4 * MiB, 0x5000, 0,
                   0, NULL);
    rc |= call(&tb, GP_REC_FREE, GP_API_CUDA_FREE, 78, 0, 3000, 0, 0x7f0000400000);

    struct gp_activity_status st = { .state = GP_ACT_RECORDING, .version = 1 };
    rc |= gp_trace_writer_activity_status(tb.w, &st);
    rc |= act(&tb, GP_REC_KERNEL, "_Z4gemmv", 7, 1000, 1800, 0, 0, 0);
    rc |= act(&tb, GP_REC_KERNEL, "overlap", 7, 1500, 2100, 0, 0, 0);
    rc |= act(&tb, GP_REC_KERNEL, label, 7, 2000, 2300, 0, 0, 0);
    rc |= act(&tb, GP_REC_MEMCPY, NULL, 9, 1200, 1400, 1, 4096, 0);
    rc |= act(&tb, GP_REC_MEMSET, NULL, 9, 1600, 1700, 1, 512, 0);
    rc |= range(&tb, "step", 1, 900, 2900);
    rc |= range(&tb, "fwd", 2, 1000, 1900);
    rc |= range(&tb, label, 3, 1800, 3000);
    int rc2 = tb_close(&tb);
    return rc ? rc : rc2;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "timeline") == 0)
        return make_timeline(argv[2], argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 4242,
                             argc > 4 ? argv[4] : "unit",
                             argc > 5 ? strtoull(argv[5], NULL, 10) : 1,
                             argc > 6 ? strtoll(argv[6], NULL, 10) : 0) ? 1 : 0;
    fprintf(stderr, "usage: make_views_trace timeline OUT [PID [LABEL [SCALE [SHIFT_US]]]]\n");
    return 2;
}
