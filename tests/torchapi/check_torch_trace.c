/* check_torch_trace.c — reads the trace torch_api_sample.c left and checks its TORCH and
 * TORCH_STAT records field by field: exactly the events the API accepted, in order, with
 * their times moved from the wall clock onto the trace clock, and their frames. */
#include <stdio.h>
#include <string.h>

#include "gp_trace.h"

static int fails;
#define EQ(got, want, what)                                                                        \
    do {                                                                                           \
        if ((long long)(got) != (long long)(want)) {                                               \
            fprintf(stderr, "record %u %s: got %lld, want %lld\n", n, what, (long long)(got),     \
                    (long long)(want));                                                            \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

struct want {
    unsigned type, api, kind;
    int device;
    unsigned long long ptr, size, stream, aux1, aux2;
    unsigned nframes, line0, line1;
};

static const struct want wants[] = {
    {GP_REC_TORCH, GP_TORCH_ALLOC, 0, 0, 0x7f0000200000ull, 4096, 7, 0, 0, 2, 42, 7},
    {GP_REC_TORCH, GP_TORCH_FREE_REQUESTED, 0, 0, 0x7f0000200000ull, 4096, 7, 0, 0, 0, 0, 0},
    {GP_REC_TORCH, GP_TORCH_OOM, 0, -1, 0, 1ull << 30, 0, 123, 2ull << 30, 0, 0, 0},
    {GP_REC_TORCH, GP_TORCH_SEGMENT_ALLOC, 0, 1, 0x7f0000400000ull, 2097152, 0, 0, 0, 0, 0, 0},
    {GP_REC_TORCH_STAT, GP_TSTAT_REQUEST, GP_TORCH_AT_OOM, 0, 0, 1ull << 30, 0, 0, 0, 0, 0, 0},
    {GP_REC_TORCH_STAT, GP_TSTAT_FATAL, GP_TORCH_AT_EXIT, 1, 0, 1, 0, 0, 0, 0, 0, 0},
};
#define NWANT (sizeof wants / sizeof wants[0])

int main(int argc, char **argv)
{
    char err[256];
    struct gp_trace_reader *r;
    struct gp_record rec;
    unsigned n = 0;
    uint64_t times[NWANT] = {0};
    int rc;
    if (argc != 2 || gp_trace_reader_open(&r, argv[1], err, sizeof err) < 0) {
        fprintf(stderr, "usage: check_torch_trace TRACE (%s)\n", argc == 2 ? err : "");
        return 2;
    }
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof err)) > 0) {
        if (rec.type != GP_REC_TORCH && rec.type != GP_REC_TORCH_STAT)
            continue;
        if (n >= NWANT) {
            fprintf(stderr, "more TORCH records than the %zu accepted\n", NWANT);
            return 1;
        }
        const struct want *w = &wants[n];
        EQ(rec.type, w->type, "type");
        EQ(rec.api, w->api, "api");
        EQ(rec.kind, w->kind, "kind");
        EQ(rec.device, w->device, "device");
        EQ(rec.ptr, w->ptr, "ptr");
        EQ(rec.size, w->size, "size");
        EQ(rec.stream, w->stream, "stream");
        EQ(rec.aux1, w->aux1, "aux1");
        EQ(rec.aux2, w->aux2, "aux2");
        unsigned depth = 0, lines[2] = {0, 0};
        for (uint32_t s = rec.stack; s != 0 && depth < 8; depth++) {
            const struct gp_stack_node *node = gp_trace_reader_frame(r, s);
            if (!node)
                break;
            uint32_t id = gp_trace_pyframe_id(node->ip);
            const struct gp_trace_pyframe *pf = id ? gp_trace_reader_pyframe(r, id) : NULL;
            if (!pf) {
                fprintf(stderr, "record %u: frame %u is not a Python frame\n", n, depth);
                fails++;
                break;
            }
            if (depth < 2)
                lines[depth] = pf->line;
            if (pf->file != NULL || pf->function != NULL) {
                fprintf(stderr, "record %u: frame %u names a function no handle gave\n", n, depth);
                fails++;
            }
            s = node->parent;
        }
        EQ(depth, w->nframes, "frames");
        EQ(lines[0], w->line0, "innermost line");
        EQ(lines[1], w->line1, "second line");
        times[n] = rec.time_ns;
        n++;
    }
    if (rc < 0) {
        fprintf(stderr, "read error: %s\n", err);
        return 1;
    }
    if (n != NWANT) {
        fprintf(stderr, "%u TORCH records, want %zu\n", n, NWANT);
        return 1;
    }
    /* The alloc was stamped a second before the free on the wall clock. */
    uint64_t gap = times[1] - times[0];
    if (times[1] < times[0] || gap < 990000000ull || gap > 1100000000ull) {
        fprintf(stderr, "alloc to free: %llu ns, want about 1 s\n", (unsigned long long)gap);
        fails++;
    }
    gp_trace_reader_close(r);
    return fails ? 1 : 0;
}
