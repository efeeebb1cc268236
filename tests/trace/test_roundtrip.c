/* test_roundtrip.c — everything written comes back: header fields, every record type,
 * every field of every event (times absolute again, ptr deltas undone, extreme values),
 * stacks rebuilt exactly, END totals; then a long random trace that crosses many chunk
 * boundaries, read with and without the inflate thread. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace_test_util.h"

static void check_event(const struct gp_trace_reader *r, const struct gp_record *rec,
                        const struct gp_event *ev)
{
    uint64_t ips[GP_TRACE_MAX_FRAMES + 1];

    assert_int_equal(rec->type, ev->type);
    assert_int_equal(rec->api, ev->api);
    assert_int_equal(rec->kind, ev->kind);
    assert_int_equal(rec->result, ev->result);
    assert_int_equal(rec->device, ev->device);
    assert_int_equal(rec->tid, ev->tid);
    assert_true(rec->time_ns == ev->time_ns);
    assert_true(rec->size == ev->size);
    assert_true(rec->ptr == ev->ptr);
    assert_true(rec->stream == ev->stream);
    assert_true(rec->aux1 == ev->aux1);
    assert_true(rec->aux2 == ev->aux2);
    size_t n = tt_stack(r, rec->stack, ips, GP_TRACE_MAX_FRAMES + 1);
    assert_int_equal(n, ev->nframes);
    if (n)
        assert_memory_equal(ips, ev->ips, n * sizeof(uint64_t));
    else
        assert_int_equal(rec->stack, 0);
}

static struct gp_event *make(unsigned depth, uint8_t type, uint8_t api, uint64_t time)
{
    struct gp_event *ev = tt_event(depth);
    ev->type = type;
    ev->api = api;
    ev->time_ns = time;
    return ev;
}

static void roundtrip_all_types(void)
{
    const char *dir = tt_dir;
    const char *path = tt_path(dir, "all.gz");
    struct gp_trace_header hdr = tt_header();
    const uint64_t t0 = hdr.monotonic_ns;
    struct gp_event *evs[10];
    struct gp_trace_writer *w;
    struct tt_trace t;

    evs[0] = make(3, GP_REC_ALLOC, GP_API_CUDA_MALLOC, t0 + 100);
    evs[0]->tid = 1234;
    evs[0]->size = 1 << 20;
    evs[0]->ptr = 0x7f0000200000ull;
    evs[0]->nframes = 3;
    evs[0]->ips[0] = 0x401010;
    evs[0]->ips[1] = 0x402020;
    evs[0]->ips[2] = 0x403030;

    evs[1] = make(3, GP_REC_FREE, GP_API_CUDA_FREE, t0 + 150);
    evs[1]->tid = 1234;
    evs[1]->ptr = 0x7f0000200000ull;
    evs[1]->nframes = 2; /* a suffix of the first stack's outer frames: shares nodes */
    evs[1]->ips[0] = 0x402020;
    evs[1]->ips[1] = 0x403030;

    evs[2] = make(3, GP_REC_ALLOC, GP_API_CUDA_MALLOC_PITCH, t0 + 151);
    evs[2]->tid = 99;
    evs[2]->device = 1;
    evs[2]->size = 4096 * 100;
    evs[2]->ptr = 0x7f0000000000ull; /* below the previous: negative delta */
    evs[2]->stream = 0xdeadbeefull;
    evs[2]->aux1 = 512; /* pitch */
    evs[2]->kind = GP_MEM_DEVICE;

    evs[3] = make(0, GP_REC_OOM, GP_API_CUDA_MALLOC_MANAGED, t0 + 10000);
    evs[3]->kind = GP_MEM_MANAGED;
    evs[3]->device = 3;
    evs[3]->result = 2;
    evs[3]->size = 80ull << 30;
    evs[3]->aux1 = 1ull << 30;
    evs[3]->aux2 = 80ull << 30;

    evs[4] = make(0, GP_REC_MEMINFO, GP_API_CUDA_MEM_GET_INFO, t0 + 9000); /* time goes back */
    evs[4]->size = 123456789;
    evs[4]->aux1 = 80ull << 30;
    evs[4]->device = -1;

    evs[5] = make(0, GP_REC_ALLOC, 255, 0); /* every field at its maximum, time at 0 */
    evs[5]->kind = 255;
    evs[5]->tid = UINT32_MAX;
    evs[5]->size = UINT64_MAX;
    evs[5]->ptr = UINT64_MAX;
    evs[5]->stream = UINT64_MAX;
    evs[5]->device = INT32_MIN;
    evs[5]->result = INT32_MIN;
    evs[5]->aux1 = UINT64_MAX;
    evs[5]->aux2 = UINT64_MAX;

    evs[6] = make(0, GP_REC_FREE, GP_API_CUDA_FREE_HOST, UINT64_MAX);
    evs[6]->kind = GP_MEM_HOST_PINNED;
    evs[6]->device = INT32_MAX;
    evs[6]->result = INT32_MAX;
    evs[6]->ptr = 1; /* wraps around from UINT64_MAX */

    evs[7] = make(0, GP_REC_FREE, GP_API_NONE, 5); /* nothing set at all */

    evs[8] = make(GP_TRACE_MAX_FRAMES, GP_REC_ALLOC, GP_API_CUDA_MALLOC_ASYNC, t0 + 20000);
    evs[8]->nframes = GP_TRACE_MAX_FRAMES;
    for (unsigned i = 0; i < GP_TRACE_MAX_FRAMES; i++)
        evs[8]->ips[i] = 0x7fff00000000ull + (uint64_t)i * 0x10; /* deepest stack allowed */
    evs[8]->ptr = 0x1000;
    evs[8]->stream = 7;

    evs[9] = make(3, GP_REC_ALLOC, GP_API_CUDA_MALLOC, t0 + 20001);
    memcpy(evs[9], evs[0], gp_event_size(3)); /* the very same stack: same id */
    evs[9]->time_ns = t0 + 20001;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    assert_int_equal(gp_trace_writer_module(w, "/usr/lib/libcudart.so.12", 0x7f1000000000ull,
                                            0x7f1000001000ull, 0x7f1000200000ull), 0);
    assert_int_equal(gp_trace_writer_module(w, "/opt/app/bin/train", 0, 0x400000, 0x500000), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(gp_trace_writer_event(w, evs[i]), 0);
    assert_int_equal(gp_trace_writer_dropped(w, 17), 0);
    assert_int_equal(gp_trace_writer_flush(w), 0);
    for (int i = 5; i < 10; i++)
        assert_int_equal(gp_trace_writer_event(w, evs[i]), 0);
    assert_int_equal(gp_trace_writer_dropped(w, 0), 0);
    assert_int_equal(gp_trace_writer_dropped(w, 1ull << 40), 0);
    assert_int_equal(gp_trace_writer_module(w, "/opt/app/bin/train", 5, 6, 7), 0);
    uint64_t file_bytes_before = gp_trace_writer_file_bytes(w);
    assert_int_equal(gp_trace_writer_close(w), 0);
    off_t size = lseek(fd, 0, SEEK_END);
    assert_true((uint64_t)size > file_bytes_before);
    close(fd);

    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    assert_int_equal(gp_trace_reader_status(t.r), GP_TRACE_OK);
    assert_true(gp_trace_reader_lost_bytes(t.r) == 0);
    assert_int_equal(gp_trace_reader_records(t.r), t.n);

    const struct gp_trace_header *h = gp_trace_reader_header(t.r);
    assert_int_equal(h->version, GP_TRACE_VERSION);
    assert_int_equal(h->pid, hdr.pid);
    assert_int_equal(h->ppid, hdr.ppid);
    assert_int_equal(h->stack_depth, hdr.stack_depth);
    assert_true(h->realtime_ns == hdr.realtime_ns);
    assert_true(h->monotonic_ns == hdr.monotonic_ns);
    assert_string_equal(h->host, hdr.host);
    assert_string_equal(h->exe, hdr.exe);
    assert_string_equal(h->cmdline, hdr.cmdline);
    assert_string_equal(h->label, hdr.label);

    size_t i = 0, ev = 0, frames = 0;
    uint32_t stack_of[10];
    /* STRING 1, MODULE 1, STRING 2, MODULE 2 */
    assert_int_equal(t.recs[i].type, GP_REC_STRING);
    assert_int_equal(t.recs[i].id, 1);
    assert_string_equal(gp_trace_reader_string(t.r, 1), "/usr/lib/libcudart.so.12");
    i++;
    assert_int_equal(t.recs[i].type, GP_REC_MODULE);
    assert_int_equal(t.recs[i].id, 1);
    assert_int_equal(t.recs[i].path, 1);
    assert_true(t.recs[i].load_bias == 0x7f1000000000ull);
    assert_true(t.recs[i].start == 0x7f1000001000ull);
    assert_true(t.recs[i].end == 0x7f1000200000ull);
    i++;
    assert_int_equal(t.recs[i].type, GP_REC_STRING);
    assert_int_equal(t.recs[i].id, 2);
    i++;
    assert_int_equal(t.recs[i].type, GP_REC_MODULE);
    assert_int_equal(t.recs[i].id, 2);
    assert_int_equal(t.recs[i].path, 2);
    assert_true(t.recs[i].start == 0x400000 && t.recs[i].end == 0x500000);
    i++;
    for (; i < t.n; i++) {
        const struct gp_record *rec = &t.recs[i];
        if (rec->type == GP_REC_FRAME) {
            frames++;
            assert_int_equal(rec->id, frames);
            const struct gp_stack_node *node = gp_trace_reader_frame(t.r, rec->id);
            assert_non_null(node);
            assert_int_equal(node->parent, rec->stack);
            assert_true(node->ip == rec->ptr);
            assert_true(node->parent < rec->id);
            continue;
        }
        if (rec->type == GP_REC_DROPPED || rec->type == GP_REC_MODULE || rec->type == GP_REC_END)
            break;
        assert_true(ev < 5);
        stack_of[ev] = rec->stack;
        check_event(t.r, rec, evs[ev++]);
    }
    assert_int_equal(ev, 5);
    assert_int_equal(t.recs[i].type, GP_REC_DROPPED);
    assert_true(t.recs[i].count == 17);
    for (i++; i < t.n; i++) {
        const struct gp_record *rec = &t.recs[i];
        if (rec->type == GP_REC_FRAME) {
            frames++;
            continue;
        }
        if (rec->type == GP_REC_DROPPED)
            break;
        assert_true(ev < 10);
        stack_of[ev] = rec->stack;
        check_event(t.r, rec, evs[ev++]);
    }
    assert_int_equal(ev, 10);
    /* Three nodes for the first stack; the second stack is its outer part (already in the
     * trie, node 2); 256 for the deep one; none for the repeat, which gets the same id. */
    assert_int_equal(frames, 3 + GP_TRACE_MAX_FRAMES);
    assert_int_equal(stack_of[0], 3);
    assert_int_equal(stack_of[1], 2);
    assert_int_equal(stack_of[9], stack_of[0]);
    assert_true(t.recs[i].count == 0);
    assert_int_equal(t.recs[i + 1].type, GP_REC_DROPPED);
    assert_true(t.recs[i + 1].count == 1ull << 40);
    assert_int_equal(t.recs[i + 2].type, GP_REC_MODULE);
    assert_int_equal(t.recs[i + 2].path, 2); /* interned: no second STRING */
    assert_int_equal(t.recs[i + 2].id, 3);
    assert_true(t.recs[i + 2].load_bias == 5);
    assert_int_equal(t.recs[i + 3].type, GP_REC_END);
    assert_true(t.recs[i + 3].aux1 == 10);
    assert_true(t.recs[i + 3].aux2 == 17 + (1ull << 40));
    assert_int_equal(i + 4, t.n);
    /* Reading past the end keeps returning 0. */
    struct gp_record extra;
    char err[64];
    assert_int_equal(gp_trace_reader_next(t.r, &extra, err, sizeof(err)), 0);

    tt_trace_free(&t);
    for (int k = 0; k < 10; k++)
        free(evs[k]);
}

static void test_all_types_threaded(void **state)
{
    (void)state;
    setenv("GPUPROF_TRACE_THREADS", "1", 1);
    roundtrip_all_types();
}

static void test_all_types_single(void **state)
{
    (void)state;
    setenv("GPUPROF_TRACE_THREADS", "0", 1);
    roundtrip_all_types();
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* The i-th pseudo-random event, regenerated identically for writing and checking. */
static void random_event(struct gp_event *ev, uint64_t *time)
{
    uint64_t r = rng();
    static const uint8_t types[] = {GP_REC_ALLOC, GP_REC_FREE, GP_REC_MEMINFO, GP_REC_OOM};
    ev->type = types[r & 3];
    ev->api = (uint8_t)(1 + (r >> 2) % 12);
    ev->kind = (uint8_t)((r >> 6) % 3);
    ev->device = (int32_t)((r >> 8) % 5) - 1;
    ev->result = (r >> 11) & 1 ? 0 : (int32_t)((r >> 12) % 1000) - 500;
    ev->tid = (uint32_t)(1000 + ((r >> 22) & 7));
    *time += (r >> 25) & 0xfff;
    if (((r >> 37) & 15) == 0)
        *time -= 5000; /* out-of-order events from different threads */
    ev->time_ns = *time;
    uint64_t r2 = rng();
    ev->size = (r2 & 1) ? 0 : r2 >> 20;
    ev->ptr = (r2 & 2) ? 0 : 0x7f0000000000ull + ((r2 >> 8) & 0xffffff) * 256;
    ev->stream = (r2 & 4) ? 0 : r2 >> 40;
    ev->aux1 = (r2 & 8) ? 0 : r2 >> 3;
    ev->aux2 = (r2 & 16) ? 0 : r2 >> 30;
    uint64_t r3 = rng();
    ev->nframes = (uint16_t)(r3 % 24);
    /* One of 64 stack shapes, cut at a random depth; outer frames depend on the low bits
     * of the shape, so stacks share prefixes the way real call trees do. Few enough nodes
     * to stay under the writer's node cap. */
    unsigned shape = (unsigned)(r3 >> 8) & 63;
    for (unsigned f = 0; f < ev->nframes; f++) {
        unsigned d = ev->nframes - 1 - f; /* depth from the outermost frame */
        unsigned bit = d < 5 ? d : 5;
        ev->ips[f] = 0x400000 + d * 0x1000 + ((shape >> bit) & 1) * 0x10;
    }
}

static void roundtrip_random(void)
{
    const char *dir = tt_dir;
    const char *path = tt_path(dir, "random.gz");
    struct gp_trace_header hdr = tt_header();
    struct gp_event *ev = tt_event(24);
    struct gp_trace_writer *w;
    struct gp_trace_reader *r;
    struct gp_record rec;
    const uint64_t n = 300000;
    char err[256];
    char *cmd = malloc(200 * 1024 + 1);

    /* A header far larger than a decompression chunk. */
    memset(cmd, 'a', 200 * 1024);
    cmd[200 * 1024] = '\0';
    hdr.cmdline = cmd;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    rng_state = 0x1234567887654321ull;
    uint64_t time = hdr.monotonic_ns;
    for (uint64_t i = 0; i < n; i++) {
        random_event(ev, &time);
        assert_int_equal(gp_trace_writer_event(w, ev), 0);
        if (i % 50000 == 0) {
            /* Module paths of many sizes, some spanning chunk boundaries. */
            char *p = malloc(60000);
            size_t len = (size_t)((i * 7919 + 13) % 59999);
            memset(p, 'm', len);
            p[len] = '\0';
            assert_int_equal(gp_trace_writer_module(w, p, i, i, i + 1), 0);
            free(p);
        }
        if (i % 70000 == 0)
            assert_int_equal(gp_trace_writer_flush(w), 0);
    }
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);

    assert_int_equal(gp_trace_reader_open(&r, path, err, sizeof(err)), 0);
    assert_int_equal(strlen(gp_trace_reader_header(r)->cmdline), 200 * 1024);
    rng_state = 0x1234567887654321ull;
    time = hdr.monotonic_ns;
    uint64_t got = 0, modules = 0;
    int rc;
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof(err))) > 0) {
        if (rec.type == GP_REC_FRAME || rec.type == GP_REC_STRING)
            continue;
        if (rec.type == GP_REC_MODULE) {
            assert_true(rec.start == (got - 1) && rec.end == got);
            modules++;
            continue;
        }
        if (rec.type == GP_REC_END) {
            assert_true(rec.aux1 == n);
            continue;
        }
        random_event(ev, &time);
        check_event(r, &rec, ev);
        got++;
    }
    assert_int_equal(rc, 0);
    assert_true(got == n);
    assert_true(modules == n / 50000);
    assert_int_equal(gp_trace_reader_status(r), GP_TRACE_OK);
    gp_trace_reader_close(r);
    free(cmd);
    free(ev);
}

static void test_random_threaded(void **state)
{
    (void)state;
    setenv("GPUPROF_TRACE_THREADS", "1", 1);
    roundtrip_random();
}

static void test_random_single(void **state)
{
    (void)state;
    setenv("GPUPROF_TRACE_THREADS", "0", 1);
    roundtrip_random();
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(gp_trace_api_name(GP_API_CUDA_MALLOC), "cudaMalloc");
    assert_string_equal(gp_trace_api_name(GP_API_CUDA_FREE_ASYNC), "cudaFreeAsync");
    assert_string_equal(gp_trace_api_name(GP_API_CUDA_MEM_GET_INFO), "cudaMemGetInfo");
    assert_string_equal(gp_trace_api_name(GP_API_NONE), "?");
    assert_string_equal(gp_trace_api_name(GP_API_COUNT), "?");
    assert_string_equal(gp_trace_api_name(1000), "?");
    assert_string_equal(gp_trace_kind_name(GP_MEM_DEVICE), "device");
    assert_string_equal(gp_trace_kind_name(GP_MEM_MANAGED), "managed");
    assert_string_equal(gp_trace_kind_name(GP_MEM_HOST_PINNED), "host-pinned");
    assert_string_equal(gp_trace_kind_name(GP_MEM_KIND_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_types_threaded),
        cmocka_unit_test(test_all_types_single),
        cmocka_unit_test(test_random_threaded),
        cmocka_unit_test(test_random_single),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
