/* test_size.c — the format's compactness target, measured through the real writer:
 * 1,000,000 cudaMalloc/cudaFree pairs with the same 20-frame stack and size must cost at
 * most 12 bytes of compressed file per event. Times are jittered like real calls (an
 * evenly spaced loop would compress to almost nothing and prove little). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace_test_util.h"

#define PAIRS 1000000u
#define DEPTH 20

static void test_alloc_free_loop(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    const char *path = tt_path(dir, "loop.gz");
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    struct gp_event *ev = tt_event(DEPTH);
    uint64_t seed = 0x243F6A8885A308D3ull;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    ev->nframes = DEPTH;
    for (unsigned f = 0; f < DEPTH; f++)
        ev->ips[f] = 0x7f3a12000000ull + f * 0x1234 + (f & 3) * 0x100000;
    ev->tid = 41872;
    ev->kind = GP_MEM_DEVICE;
    uint64_t t = hdr.monotonic_ns;
    for (unsigned i = 0; i < 2 * PAIRS; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        /* 1-5 us between calls, with noise in the low bits as a real clock has. */
        t += 1000 + ((seed >> 33) % 4000);
        ev->time_ns = t;
        ev->type = (i & 1) ? GP_REC_FREE : GP_REC_ALLOC;
        ev->api = (i & 1) ? GP_API_CUDA_FREE : GP_API_CUDA_MALLOC;
        ev->size = (i & 1) ? 0 : 64u << 20;
        ev->ptr = 0x7f2e40000000ull; /* the allocator hands back the same block */
        assert_int_equal(gp_trace_writer_event(w, ev), 0);
        if (i % 200000 == 199999)
            assert_int_equal(gp_trace_writer_flush(w), 0); /* periodic flushes, as the shim */
    }
    assert_int_equal(gp_trace_writer_close(w), 0);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);

    double per_event = (double)size / (2.0 * PAIRS);
    printf("# %u events: %lld bytes, %.3f bytes/event\n", 2 * PAIRS, (long long)size, per_event);
    assert_true(per_event <= 12.0);

    /* And it reads back complete. */
    struct gp_trace_reader *r;
    struct gp_record rec;
    char err[256];
    uint64_t events = 0;
    int rc;
    assert_int_equal(gp_trace_reader_open(&r, path, err, sizeof(err)), 0);
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof(err))) > 0)
        events += rec.type == GP_REC_ALLOC || rec.type == GP_REC_FREE;
    assert_int_equal(rc, 0);
    assert_true(events == 2 * PAIRS);
    assert_int_equal(gp_trace_reader_status(r), GP_TRACE_OK);
    gp_trace_reader_close(r);
    free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_free_loop),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
