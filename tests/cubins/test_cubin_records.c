/* test_cubin_records.c — CUBIN records (docs/trace-format.md §3.5.4): a cubin larger than a
 * chunk is written as consecutive chunks and read back byte for byte with its fields; the
 * records of modules not saved carry no bytes; the writer refuses what it must not write;
 * the hash is 64-bit FNV-1a; and every kind of corrupt payload is rejected by the reader
 * with its own exact message, the records before it still delivered. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>

#include "trace_test_util.h"

#define BIG 150000u /* 2 full chunks of 65536 and one of 18928 */

static uint8_t *pattern(size_t n)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + i / 251);
    return p;
}

static void test_hash(void **state)
{
    (void)state;
    assert_true(gp_trace_cubin_hash("", 0) == UINT64_C(0xcbf29ce484222325));
    assert_true(gp_trace_cubin_hash("a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
    assert_true(gp_trace_cubin_hash("foobar", 6) == UINT64_C(0x85944171f73967e8));
    assert_string_equal(gp_trace_cubin_state_name(GP_CUBIN_OVER_CAP), "over-cap");
    assert_string_equal(gp_trace_cubin_state_name(4), "?");
}

static void test_roundtrip(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "cubins.gz");
    uint8_t *big = pattern(BIG);
    uint64_t h = gp_trace_cubin_hash(big, BIG);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    struct gp_trace_writer *w;
    struct gp_trace_header hdr = tt_header();
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    struct gp_cubin c = {.module_id = 7, .state = GP_CUBIN_SAVED, .hash = h, .size = BIG, .data = big};
    assert_int_equal(gp_trace_writer_cubin(w, &c), 0);
    c = (struct gp_cubin){.module_id = 8, .state = GP_CUBIN_DUPLICATE, .hash = h, .size = BIG};
    assert_int_equal(gp_trace_writer_cubin(w, &c), 0);
    c = (struct gp_cubin){.module_id = UINT32_MAX, .state = GP_CUBIN_OVER_CAP, .hash = 5,
                          .size = GP_TRACE_CUBIN_MAX_SIZE};
    assert_int_equal(gp_trace_writer_cubin(w, &c), 0);
    c = (struct gp_cubin){.module_id = 9, .state = GP_CUBIN_LOST, .hash = 0, .size = 1};
    assert_int_equal(gp_trace_writer_cubin(w, &c), 0);
    /* refused: no record written for these */
    c = (struct gp_cubin){.module_id = 1, .state = GP_CUBIN_STATES, .hash = 1, .size = 1};
    assert_int_equal(gp_trace_writer_cubin(w, &c), -EINVAL);
    c = (struct gp_cubin){.module_id = 1, .state = GP_CUBIN_LOST, .hash = 1, .size = 0};
    assert_int_equal(gp_trace_writer_cubin(w, &c), -EINVAL);
    c = (struct gp_cubin){.module_id = 1, .state = GP_CUBIN_SAVED, .hash = 1, .size = 4};
    assert_int_equal(gp_trace_writer_cubin(w, &c), -EINVAL); /* saved without bytes */
    c.size = GP_TRACE_CUBIN_MAX_SIZE + 1;
    c.state = GP_CUBIN_LOST;
    assert_int_equal(gp_trace_writer_cubin(w, &c), -EINVAL);
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);

    struct gp_trace_reader *r;
    char err[256] = "";
    assert_int_equal(gp_trace_reader_open(&r, path, err, sizeof err), 0);
    static const struct {
        uint32_t module, state;
        uint64_t hash, size, offset, len;
    } want[] = {
        {7, GP_CUBIN_SAVED, 0, BIG, 0, 65536},
        {7, GP_CUBIN_SAVED, 0, BIG, 65536, 65536},
        {7, GP_CUBIN_SAVED, 0, BIG, 131072, 18928},
        {8, GP_CUBIN_DUPLICATE, 0, BIG, 0, 0},
        {UINT32_MAX, GP_CUBIN_OVER_CAP, 5, GP_TRACE_CUBIN_MAX_SIZE, 0, 0},
        {9, GP_CUBIN_LOST, 0, 1, 0, 0},
    };
    size_t n = 0;
    struct gp_record rec;
    int rc;
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof err)) == 1) {
        if (rec.type != GP_REC_CUBIN)
            continue;
        assert_true(n < sizeof want / sizeof want[0]);
        struct gp_cubin got;
        gp_trace_record_cubin(&rec, &got);
        assert_int_equal(got.module_id, want[n].module);
        assert_int_equal(got.state, want[n].state);
        assert_true(got.hash == (want[n].module == 7 || want[n].module == 8 ? h : want[n].hash));
        assert_true(got.size == want[n].size);
        assert_true(got.offset == want[n].offset);
        assert_int_equal(got.len, want[n].len);
        if (got.len)
            assert_memory_equal(got.data, big + got.offset, got.len);
        else
            assert_null(got.data);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 6);
    assert_int_equal(gp_trace_reader_status(r), GP_TRACE_OK);
    gp_trace_reader_close(r);
    free(big);
}

/* A stream: preamble, one valid CUBIN record, then payload p as a CUBIN record, END. */
static void expect_corrupt(const struct tt_buf *payload, const char *why)
{
    struct tt_buf b = {0}, ok = {0}, end = {0};
    tt_put_preamble(&b, 1);
    tt_put_varint(&ok, GP_CUBIN_SAVED);
    tt_put_varint(&ok, 1);   /* module */
    tt_put_varint(&ok, 99);  /* hash */
    tt_put_varint(&ok, 3);   /* size */
    tt_put_varint(&ok, 0);   /* offset */
    tt_put_varint(&ok, 3);   /* length */
    tt_put(&ok, "abc", 3);
    tt_put_varint(&ok, 42);  /* a field of a later version: skipped */
    tt_put_record(&b, GP_REC_CUBIN, &ok);
    size_t off = b.len;
    tt_put_record(&b, GP_REC_CUBIN, payload);
    tt_put_varint(&end, 0);
    tt_put_varint(&end, 0);
    tt_put_record(&b, GP_REC_END, &end);
    const char *path = tt_path(tt_dir, "bad.gz");
    tt_write_gz(path, b.p, b.len);
    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.n, 1); /* the valid record before it */
    assert_int_equal(t.recs[0].type, GP_REC_CUBIN);
    assert_int_equal(t.recs[0].count, 3);
    char msg[256];
    snprintf(msg, sizeof msg, "corrupt trace: CUBIN record at offset %zu: %s", off, why);
    assert_string_equal(t.err, msg);
    assert_int_equal(t.rc, -EBADMSG);
    tt_trace_free(&t);
    tt_buf_free(&b);
    tt_buf_free(&ok);
    tt_buf_free(&end);
}

/* A payload from six field values and len data bytes. */
static void payload(struct tt_buf *p, uint64_t state, uint64_t module, uint64_t size,
                    uint64_t offset, uint64_t len, size_t data)
{
    p->len = 0;
    tt_put_varint(p, state);
    tt_put_varint(p, module);
    tt_put_varint(p, 1234);
    tt_put_varint(p, size);
    tt_put_varint(p, offset);
    tt_put_varint(p, len);
    for (size_t i = 0; i < data; i++)
        tt_put_u8(p, (uint8_t)i);
}

static void test_corrupt(void **state)
{
    (void)state;
    struct tt_buf p = {0};
    payload(&p, 4, 1, 10, 0, 0, 0);
    expect_corrupt(&p, "unknown cubin state");
    payload(&p, GP_CUBIN_LOST, UINT64_C(1) << 32, 10, 0, 0, 0);
    expect_corrupt(&p, "value out of range");
    payload(&p, GP_CUBIN_LOST, 1, 0, 0, 0, 0);
    expect_corrupt(&p, "cubin size out of range");
    payload(&p, GP_CUBIN_SAVED, 1, GP_TRACE_CUBIN_MAX_SIZE + 1, 0, 1, 1);
    expect_corrupt(&p, "cubin size out of range");
    payload(&p, GP_CUBIN_DUPLICATE, 1, 10, 0, 2, 2);
    expect_corrupt(&p, "bytes in a cubin that was not saved");
    payload(&p, GP_CUBIN_OVER_CAP, 1, 10, 4, 0, 0);
    expect_corrupt(&p, "bytes in a cubin that was not saved");
    payload(&p, GP_CUBIN_SAVED, 1, 10, 8, 4, 4); /* past the end of the cubin */
    expect_corrupt(&p, "chunk outside its cubin");
    payload(&p, GP_CUBIN_SAVED, 1, 10, 0, 0, 0); /* a saved chunk without bytes */
    expect_corrupt(&p, "chunk outside its cubin");
    payload(&p, GP_CUBIN_SAVED, 1, 10, 10, 1, 1);
    expect_corrupt(&p, "chunk outside its cubin");
    payload(&p, GP_CUBIN_SAVED, 1, 10, 0, 5, 4); /* says 5 bytes, has 4 */
    expect_corrupt(&p, "payload too short");
    payload(&p, GP_CUBIN_SAVED, 1, 10, 0, 5, 0);
    p.len = 3; /* cut inside the hash */
    expect_corrupt(&p, "payload too short");
    p.len = 0;
    tt_put(&p, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 10); /* bits beyond 64 */
    expect_corrupt(&p, "bad varint");
    tt_buf_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
