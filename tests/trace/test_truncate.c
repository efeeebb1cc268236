/* test_truncate.c — crash tolerance: a trace cut at every byte offset of its compressed
 * file (inside the gzip header, inside deflate blocks, inside records, inside the gzip
 * trailer) either fails to open with a message or reads without error up to the cut, and
 * every record written before a flush survives any cut after that flush. */
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

static void assert_same_record(const struct gp_record *a, const struct gp_record *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->api, b->api);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->result, b->result);
    assert_int_equal(a->device, b->device);
    assert_int_equal(a->tid, b->tid);
    assert_int_equal(a->stack, b->stack);
    assert_true(a->time_ns == b->time_ns);
    assert_true(a->size == b->size);
    assert_true(a->ptr == b->ptr);
    assert_true(a->stream == b->stream);
    assert_true(a->aux1 == b->aux1);
    assert_true(a->aux2 == b->aux2);
    assert_int_equal(a->path, b->path);
    assert_true(a->load_bias == b->load_bias);
    assert_true(a->start == b->start);
    assert_true(a->end == b->end);
    assert_true(a->count == b->count);
}

/* Writes a trace of nevents events with a flush after flush_after of them; returns the
 * file size at the flush. */
static size_t write_trace(const char *path, unsigned nevents, unsigned flush_after)
{
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    struct gp_event *ev = tt_event(6);
    size_t flushed = 0;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    assert_int_equal(gp_trace_writer_module(w, "/usr/lib/libcudart.so", 1, 2, 3), 0);
    for (unsigned i = 0; i < nevents; i++) {
        ev->type = (i & 1) ? GP_REC_FREE : GP_REC_ALLOC;
        ev->api = (i & 1) ? GP_API_CUDA_FREE : GP_API_CUDA_MALLOC;
        ev->time_ns = hdr.monotonic_ns + i * 1000 + (i * 7919) % 613;
        ev->tid = 500 + i % 3;
        ev->size = (i & 1) ? 0 : 4096u << (i % 9);
        ev->ptr = 0x7f0000000000ull + (uint64_t)(i / 2) * 0x100000;
        ev->nframes = (uint16_t)(1 + i % 6);
        for (unsigned f = 0; f < ev->nframes; f++)
            ev->ips[f] = 0x400000 + f * 0x40 + (i % 5) * (f == 0);
        assert_int_equal(gp_trace_writer_event(w, ev), 0);
        if (i + 1 == flush_after) {
            assert_int_equal(gp_trace_writer_dropped(w, 2), 0);
            assert_int_equal(gp_trace_writer_flush(w), 0);
            flushed = gp_trace_writer_file_bytes(w);
        }
    }
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);
    free(ev);
    return flushed;
}

/* Cuts the file at each offset in [0, size) stepping by step, reading every prefix. */
static void cut_everywhere(size_t step, unsigned nevents, unsigned flush_after)
{
    const char *dir = tt_dir;
    char full_path[4096], cut_path[4096];
    struct tt_trace full, cut;
    size_t size;
    char err[256];

    snprintf(full_path, sizeof(full_path), "%s", tt_path(dir, "full.gz"));
    snprintf(cut_path, sizeof(cut_path), "%s", tt_path(dir, "cut.gz"));
    size_t flushed = write_trace(full_path, nevents, flush_after);
    uint8_t *bytes = tt_read_file(full_path, &size);
    assert_true(flushed > 0 && flushed < size);

    tt_read_all(full_path, &full);
    assert_int_equal(full.rc, 0);
    assert_int_equal(gp_trace_reader_status(full.r), GP_TRACE_OK);

    /* What a cut exactly at the flush delivers: everything written before it. */
    tt_write_file(cut_path, bytes, flushed);
    tt_read_all(cut_path, &cut);
    assert_int_equal(cut.rc, 0);
    assert_int_equal(gp_trace_reader_status(cut.r), GP_TRACE_TRUNCATED);
    size_t before_flush = cut.n;
    /* STRING, MODULE, flush_after events, their FRAMEs, DROPPED. */
    assert_true(before_flush >= 2 + flush_after + 1);
    assert_int_equal(cut.recs[before_flush - 1].type, GP_REC_DROPPED);
    assert_true(gp_trace_reader_lost_bytes(cut.r) == 0);
    tt_trace_free(&cut);

    size_t opened = 0;
    for (size_t len = 0; len < size; len += step) {
        tt_write_file(cut_path, bytes, len);
        struct gp_trace_reader *r = NULL;
        err[0] = '\0';
        int rc = gp_trace_reader_open(&r, cut_path, err, sizeof(err));
        if (rc < 0) {
            /* Only a cut before the first flush (header) may keep the file from opening. */
            assert_true(len < flushed);
            assert_true(strlen(err) > 0);
            continue;
        }
        gp_trace_reader_close(r);
        opened++;
        tt_read_all(cut_path, &cut);
        if (cut.rc != 0)
            fail_msg("cut at %zu of %zu: %s", len, size, cut.err);
        assert_int_equal(gp_trace_reader_status(cut.r), GP_TRACE_TRUNCATED);
        assert_true(gp_trace_reader_lost_bytes(cut.r) <= len);
        assert_true(cut.n <= full.n);
        for (size_t i = 0; i < cut.n; i++)
            assert_same_record(&cut.recs[i], &full.recs[i]);
        if (len >= flushed)
            assert_true(cut.n >= before_flush);
        tt_trace_free(&cut);
    }
    assert_true(opened > 0);
    tt_trace_free(&full);
    free(bytes);
}

static void test_every_byte_threaded(void **state)
{
    (void)state;
    setenv("GPUPROF_TRACE_THREADS", "1", 1);
    cut_everywhere(1, 60, 30);
}

static void test_every_byte_single(void **state)
{
    (void)state;
    setenv("GPUPROF_TRACE_THREADS", "0", 1);
    cut_everywhere(1, 60, 30);
}

/* A trace spanning many decompression chunks, cut at a spread of offsets. */
static void test_large_sampled(void **state)
{
    (void)state;
    setenv("GPUPROF_TRACE_THREADS", "1", 1);
    cut_everywhere(4093, 60000, 45000);
}

/* Lost bytes are an estimate; a cut in the middle of the data loses about what follows. */
static void test_lost_bytes_estimate(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    char full_path[4096], cut_path[4096];
    struct tt_trace cut;
    size_t size;

    snprintf(full_path, sizeof(full_path), "%s", tt_path(dir, "full.gz"));
    snprintf(cut_path, sizeof(cut_path), "%s", tt_path(dir, "cut.gz"));
    size_t flushed = write_trace(full_path, 60000, 20000);
    uint8_t *bytes = tt_read_file(full_path, &size);
    /* Cut 40 bytes after the flush: those 40 bytes hold no complete record. */
    tt_write_file(cut_path, bytes, flushed + 40);
    tt_read_all(cut_path, &cut);
    assert_int_equal(cut.rc, 0);
    uint64_t lost = gp_trace_reader_lost_bytes(cut.r);
    assert_true(lost <= 40);
    tt_trace_free(&cut);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_threaded),
        cmocka_unit_test(test_every_byte_single),
        cmocka_unit_test(test_large_sampled),
        cmocka_unit_test(test_lost_bytes_estimate),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
