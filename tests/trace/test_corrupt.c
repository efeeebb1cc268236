/* test_corrupt.c — every way a file can fail to be a good trace gets its own exact,
 * one-line message (without the file name), and forward compatibility holds: unknown
 * record types, unknown event fields and extra payload bytes are skipped. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "trace_test_util.h"
#include "varint.h"


static void expect_open_error(const char *path, int want_rc, const char *want_msg)
{
    char err[256];
    int rc = tt_open_error(path, err, sizeof(err));
    assert_string_equal(err, want_msg);
    assert_int_equal(rc, want_rc);
}

/* Writes the stream gzipped, opens it, reads to the end: expects n_ok records and then
 * the error (want_msg) or, with want_msg NULL, a clean end. */
static void expect_read(const struct tt_buf *b, size_t n_ok, int want_rc, const char *want_msg)
{
    const char *path = tt_path(tt_dir, "t.gz");
    struct tt_trace t;
    tt_write_gz(path, b->p, b->len);
    tt_read_all(path, &t);
    assert_int_equal(t.n, n_ok);
    if (want_msg) {
        assert_string_equal(t.err, want_msg);
        assert_int_equal(t.rc, want_rc);
        /* The error repeats: a caller cannot read past damage by retrying. */
        struct gp_record rec;
        char err[256] = "";
        assert_int_equal(gp_trace_reader_next(t.r, &rec, err, sizeof(err)), want_rc);
        assert_string_equal(err, want_msg);
    } else {
        assert_int_equal(t.rc, 0);
    }
    tt_trace_free(&t);
}

static void test_not_gzip(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "text");
    tt_write_file(path, "hello, world\n", 13);
    expect_open_error(path, -EINVAL, "not a gzip file");
    /* Even a raw stream with the right magic: traces are always gzip. */
    struct tt_buf b = {0};
    tt_put_preamble(&b, 1);
    tt_write_file(path, b.p, b.len);
    expect_open_error(path, -EINVAL, "not a gzip file");
    tt_buf_free(&b);
    tt_write_file(path, "\x1f", 1); /* one byte of a gzip magic: a cut file */
    expect_open_error(path, -ENODATA, "trace ends before its header is complete (file truncated)");
    tt_write_file(path, "x", 1);
    expect_open_error(path, -EINVAL, "not a gzip file");
}

static void test_bad_magic(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "magic.gz");
    tt_write_gz(path, "just some text that was gzipped\n", 32);
    expect_open_error(path, -EINVAL, "not a gpuprof trace (bad magic)");
    tt_write_gz(path, "GPU", 3); /* complete gzip, too short for the magic */
    expect_open_error(path, -EINVAL, "not a gpuprof trace (bad magic)");
    tt_write_gz(path, "", 0);
    expect_open_error(path, -EINVAL, "not a gpuprof trace (bad magic)");
}

static void test_empty_directory_missing(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "empty.gz");
    tt_write_file(path, "", 0);
    expect_open_error(path, -ENODATA, "empty file");
    expect_open_error(tt_dir, -EISDIR, "is a directory");
    expect_open_error(tt_path(tt_dir, "missing.gz"), -ENOENT,
                      "cannot open: No such file or directory");
}

static void test_newer_version(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "v7.gz");
    struct tt_buf b = {0};
    tt_put_preamble(&b, 7);
    tt_write_gz(path, b.p, b.len);
    expect_open_error(path, -ENOTSUP,
                      "format version 7 is newer than this reader (1); upgrade gpuprof-report");
    tt_buf_free(&b);
    /* Refused on the version alone: whatever follows it may have changed shape. */
    tt_put(&b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    tt_put_varint(&b, 300);
    tt_put(&b, "\xff\xff\xff", 3);
    tt_write_gz(path, b.p, b.len);
    expect_open_error(path, -ENOTSUP,
                      "format version 300 is newer than this reader (1); upgrade gpuprof-report");
    tt_buf_free(&b);
    tt_put(&b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    tt_put_varint(&b, 0);
    tt_write_gz(path, b.p, b.len);
    expect_open_error(path, -EBADMSG, "corrupt trace: format version 0");
    tt_buf_free(&b);
}

static void test_bad_header(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "hdr.gz");
    struct tt_buf b = {0}, p = {0};

    /* First record must be HEADER. */
    tt_put(&b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    tt_put_varint(&b, 1);
    tt_put_varint(&p, 0);
    tt_put_record(&b, GP_REC_DROPPED, &p);
    tt_write_gz(path, b.p, b.len);
    expect_open_error(path, -EBADMSG, "corrupt trace: first record is DROPPED, not HEADER");
    tt_buf_free(&b);

    /* A HEADER whose string runs past its payload. */
    tt_buf_free(&p);
    tt_put(&b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    tt_put_varint(&b, 1);
    for (int i = 0; i < 6; i++)
        tt_put_varint(&p, 1);
    tt_put_varint(&p, 50);
    tt_put(&p, "short", 5);
    tt_put_record(&b, GP_REC_HEADER, &p);
    tt_write_gz(path, b.p, b.len);
    expect_open_error(path, -EBADMSG,
                      "corrupt trace: HEADER record at offset 9: payload too short");
    tt_buf_free(&b);
    tt_buf_free(&p);

    /* Magic and version only: the file ended (cleanly) before the HEADER. */
    tt_put(&b, GP_TRACE_MAGIC, GP_TRACE_MAGIC_LEN);
    tt_put_varint(&b, 1);
    tt_write_gz(path, b.p, b.len);
    expect_open_error(path, -ENODATA, "trace ends before its header is complete (file truncated)");
    tt_buf_free(&b);
}

static void test_oversize_record(void **state)
{
    (void)state;
    struct tt_buf b = {0};
    char want[256];
    tt_put_preamble(&b, 1);
    size_t off = b.len;
    tt_put_u8(&b, GP_REC_ALLOC);
    tt_put_varint(&b, GP_TRACE_MAX_RECORD + 1);
    tt_put(&b, "\0\0\0\0", 4);
    snprintf(want, sizeof(want),
             "corrupt trace: record at offset %zu has payload length 1048577 (limit 1048576)",
             off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);

    /* Exactly at the limit is allowed (an unknown type, skipped). */
    tt_put_preamble(&b, 1);
    tt_put_u8(&b, 0x66);
    tt_put_varint(&b, GP_TRACE_MAX_RECORD);
    uint8_t *zeros = calloc(1, GP_TRACE_MAX_RECORD);
    tt_put(&b, zeros, GP_TRACE_MAX_RECORD);
    free(zeros);
    expect_read(&b, 0, 0, NULL);
    tt_buf_free(&b);

    /* A length varint that never ends. */
    tt_put_preamble(&b, 1);
    off = b.len;
    tt_put_u8(&b, GP_REC_ALLOC);
    for (int i = 0; i < 12; i++)
        tt_put_u8(&b, 0xff);
    snprintf(want, sizeof(want), "corrupt trace: bad record length at offset %zu", off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);
}

static void test_undefined_references(void **state)
{
    (void)state;
    struct tt_buf b = {0}, p = {0};
    char want[256];

    /* FRAME 1 (parent 0) fine, FRAME 2 with parent 5 not yet defined. */
    tt_put_preamble(&b, 1);
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 0x400000);
    tt_put_record(&b, GP_REC_FRAME, &p);
    tt_buf_free(&p);
    size_t off = b.len;
    tt_put_varint(&p, 5);
    tt_put_varint(&p, 0x400010);
    tt_put_record(&b, GP_REC_FRAME, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want),
             "corrupt trace: FRAME record at offset %zu: undefined parent node 5", off);
    expect_read(&b, 1, -EBADMSG, want);
    tt_buf_free(&b);

    /* A node cannot be its own parent either. */
    tt_put_preamble(&b, 1);
    off = b.len;
    tt_put_varint(&p, 1);
    tt_put_varint(&p, 0x400000);
    tt_put_record(&b, GP_REC_FRAME, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want),
             "corrupt trace: FRAME record at offset %zu: undefined parent node 1", off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);

    /* MODULE naming string 3 when only 1 exists. */
    tt_put_preamble(&b, 1);
    tt_put(&p, "/lib/a.so", 9);
    tt_put_record(&b, GP_REC_STRING, &p);
    tt_buf_free(&p);
    off = b.len;
    tt_put_varint(&p, 3);
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 1);
    tt_put_varint(&p, 2);
    tt_put_record(&b, GP_REC_MODULE, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want),
             "corrupt trace: MODULE record at offset %zu: undefined string id 3", off);
    expect_read(&b, 1, -EBADMSG, want);
    tt_buf_free(&b);

    /* An event on stack node 1 when no FRAME was written. */
    tt_put_preamble(&b, 1);
    off = b.len;
    tt_put_varint(&p, 0);    /* dt */
    tt_put_varint(&p, 1);    /* api */
    tt_put_varint(&p, 0x08); /* mask: stack */
    tt_put_varint(&p, 1);
    tt_put_record(&b, GP_REC_ALLOC, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want),
             "corrupt trace: ALLOC record at offset %zu: undefined stack node 1", off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);
}

static void test_bad_fields(void **state)
{
    (void)state;
    struct tt_buf b = {0}, p = {0};
    char want[256];

    /* An 11-byte varint inside an event. */
    tt_put_preamble(&b, 1);
    size_t off = b.len;
    for (int i = 0; i < 11; i++)
        tt_put_u8(&p, 0x80);
    tt_put_record(&b, GP_REC_FREE, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want), "corrupt trace: FREE record at offset %zu: bad varint", off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);

    /* The mask promises a size that is not there. */
    tt_put_preamble(&b, 1);
    off = b.len;
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 1);
    tt_put_varint(&p, 0x02);
    tt_put_record(&b, GP_REC_OOM, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want), "corrupt trace: OOM record at offset %zu: payload too short",
             off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);

    /* A device number that does not fit int32. */
    tt_put_preamble(&b, 1);
    off = b.len;
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 12);
    tt_put_varint(&p, 0x20);
    tt_put_varint(&p, 1ull << 40);
    tt_put_record(&b, GP_REC_MEMINFO, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want),
             "corrupt trace: MEMINFO record at offset %zu: value out of range", off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);

    /* END without its totals; a second HEADER. */
    tt_put_preamble(&b, 1);
    off = b.len;
    tt_put_varint(&p, 5);
    tt_put_record(&b, GP_REC_END, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want), "corrupt trace: END record at offset %zu: payload too short",
             off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);

    tt_put_preamble(&b, 1);
    off = b.len;
    struct tt_buf again = {0};
    tt_put_preamble(&again, 1);
    /* Append only the HEADER record of a second preamble (skip magic and version). */
    tt_put(&b, again.p + GP_TRACE_MAGIC_LEN + 1, again.len - GP_TRACE_MAGIC_LEN - 1);
    tt_buf_free(&again);
    snprintf(want, sizeof(want), "corrupt trace: HEADER record at offset %zu: a second HEADER",
             off);
    expect_read(&b, 0, -EBADMSG, want);
    tt_buf_free(&b);
}

static void put_end(struct tt_buf *b, uint64_t events, uint64_t dropped)
{
    struct tt_buf p = {0};
    tt_put_varint(&p, events);
    tt_put_varint(&p, dropped);
    tt_put_record(b, GP_REC_END, &p);
    tt_buf_free(&p);
}

static void test_after_end(void **state)
{
    (void)state;
    struct tt_buf b = {0}, p = {0};

    tt_put_preamble(&b, 1);
    put_end(&b, 0, 0);
    tt_put_varint(&p, 1);
    tt_put_record(&b, GP_REC_DROPPED, &p);
    tt_buf_free(&p);
    expect_read(&b, 1, -EBADMSG, "corrupt trace: data after the END record");
    tt_buf_free(&b);

    /* A second gzip member after a complete trace. */
    tt_put_preamble(&b, 1);
    put_end(&b, 0, 0);
    size_t n1, n2;
    uint8_t *g1 = tt_gzip(b.p, b.len, &n1);
    uint8_t *g2 = tt_gzip("more", 4, &n2);
    struct tt_buf file = {0};
    tt_put(&file, g1, n1);
    tt_put(&file, g2, n2);
    const char *path = tt_path(tt_dir, "two.gz");
    tt_write_file(path, file.p, file.len);
    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.rc, -EBADMSG);
    assert_string_equal(t.err, "corrupt trace: data after the end of the gzip stream");
    tt_trace_free(&t);
    free(g1);
    free(g2);
    tt_buf_free(&file);
    tt_buf_free(&b);
}

static void test_damaged_compression(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "damaged.gz");
    struct tt_buf b = {0};
    struct tt_trace t;

    /* A valid gzip header, then a deflate block of the reserved type 3. */
    static const uint8_t bad_block[] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0x07, 0, 0};
    tt_write_file(path, bad_block, sizeof(bad_block));
    expect_open_error(path, -EBADMSG,
                      "corrupt trace: compressed data is damaged (zlib: invalid block type)");

    /* A good trace whose CRC does not match: every record, then the error. */
    tt_put_preamble(&b, 1);
    put_end(&b, 0, 0);
    size_t n;
    uint8_t *gz = tt_gzip(b.p, b.len, &n);
    gz[n - 8] ^= 0xff;
    tt_write_file(path, gz, n);
    tt_read_all(path, &t);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.rc, -EBADMSG);
    assert_string_equal(t.err,
                        "corrupt trace: compressed data is damaged (zlib: incorrect data check)");
    tt_trace_free(&t);
    free(gz);
    tt_buf_free(&b);

    /* gzip with an unknown compression method. */
    static const uint8_t bad_method[] = {0x1f, 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0x03, 0, 0};
    tt_write_file(path, bad_method, sizeof(bad_method));
    expect_open_error(
        path, -EBADMSG,
        "corrupt trace: compressed data is damaged (zlib: unknown compression method)");
}

static void test_unknown_skipped(void **state)
{
    (void)state;
    struct tt_buf b = {0}, p = {0};
    const char *path = tt_path(tt_dir, "future.gz");
    struct tt_trace t;

    tt_put_preamble(&b, 1);
    /* A record type from the future, with a one-byte length. */
    tt_put(&p, "abc", 3);
    tt_put_record(&b, 0x55, &p);
    tt_buf_free(&p);
    /* An event with an unknown mask bit (its field after the known ones) and extra bytes. */
    tt_put_varint(&p, gp_trace_zigzag(-3));
    tt_put_varint(&p, GP_API_CUDA_MALLOC);
    tt_put_varint(&p, 0x02 | 0x400);
    tt_put_varint(&p, 4096);
    tt_put_varint(&p, 999999); /* bit 10's field */
    tt_put(&p, "\x01\x02", 2); /* more future fields */
    tt_put_record(&b, GP_REC_ALLOC, &p);
    tt_buf_free(&p);
    /* A future type with a two-byte length. */
    uint8_t big[300];
    memset(big, 0x7f, sizeof(big));
    tt_put(&p, big, sizeof(big));
    tt_put_record(&b, 0x7e, &p);
    tt_buf_free(&p);
    /* And a future type with an empty payload (0x30-0x3f are GPU activity now). */
    tt_put_record(&b, 0x6f, &p);
    tt_put_varint(&p, 9);
    tt_put_record(&b, GP_REC_DROPPED, &p);
    tt_buf_free(&p);
    put_end(&b, 1, 9);
    tt_write_gz(path, b.p, b.len);

    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    assert_int_equal(gp_trace_reader_status(t.r), GP_TRACE_OK);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.recs[0].type, GP_REC_ALLOC);
    assert_true(t.recs[0].time_ns == 1000 - 3);
    assert_true(t.recs[0].size == 4096);
    assert_int_equal(t.recs[0].tid, 0);
    assert_int_equal(t.recs[1].type, GP_REC_DROPPED);
    assert_true(t.recs[1].count == 9);
    assert_int_equal(t.recs[2].type, GP_REC_END);
    assert_int_equal(gp_trace_reader_records(t.r), 3);
    tt_trace_free(&t);
    tt_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_gzip),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_empty_directory_missing),
        cmocka_unit_test(test_newer_version),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_oversize_record),
        cmocka_unit_test(test_undefined_references),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_after_end),
        cmocka_unit_test(test_damaged_compression),
        cmocka_unit_test(test_unknown_skipped),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
