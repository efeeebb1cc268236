/* test_writer.c — writer behaviour around the byte stream: a write error sticks and stops
 * all output (disk full must not take the program down), flush makes everything so far
 * readable, abandon writes nothing, byte counters, argument checks, oversized strings. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace_test_util.h"

static off_t file_size(int fd)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    return st.st_size;
}

static void test_disk_full_sticks(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    struct gp_event *ev = tt_event(4);

    int fd = open(tt_path(dir, "full.gz"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    uint64_t written = gp_trace_writer_file_bytes(w);
    assert_true(written > 0);
    assert_true((off_t)written == file_size(fd));

    /* The disk fills up under the writer: the same fd now refuses every write. */
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (full < 0) {
        gp_trace_writer_abandon(w);
        close(fd);
        free(ev);
        skip();
    }
    assert_true(dup2(full, fd) == fd);
    close(full);

    ev->type = GP_REC_ALLOC;
    ev->size = 4096;
    ev->nframes = 2;
    ev->ips[0] = 0x1234;
    ev->ips[1] = 0x5678;
    /* Buffered: no syscall per event, so no error yet. */
    assert_int_equal(gp_trace_writer_event(w, ev), 0);
    assert_int_equal(gp_trace_writer_flush(w), -ENOSPC);
    /* From now on, every call returns the error and writes nothing. */
    assert_int_equal(gp_trace_writer_event(w, ev), -ENOSPC);
    assert_int_equal(gp_trace_writer_module(w, "/lib/x.so", 0, 1, 2), -ENOSPC);
    assert_int_equal(gp_trace_writer_dropped(w, 3), -ENOSPC);
    assert_int_equal(gp_trace_writer_flush(w), -ENOSPC);
    assert_true(gp_trace_writer_file_bytes(w) == written);
    assert_int_equal(gp_trace_writer_close(w), -ENOSPC);
    close(fd);
    free(ev);
}

static void test_open_on_full_disk(void **state)
{
    (void)state;
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w = (struct gp_trace_writer *)&hdr;

    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        skip();
    /* The header is flushed at open, so the error shows at once. */
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), -ENOSPC);
    assert_null(w);
    close(fd);
}

static void test_bad_fd(void **state)
{
    (void)state;
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;

    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), -EBADF);
    close(fd);
    assert_int_equal(gp_trace_writer_open(&w, -1, &hdr, NULL), -EINVAL);
    assert_int_equal(gp_trace_writer_open(&w, 1, NULL, NULL), -EINVAL);
}

static void test_flush_and_abandon(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    const char *path = tt_path(dir, "abandon.gz");
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    struct gp_event *ev = tt_event(1);
    struct tt_trace t;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    ev->type = GP_REC_ALLOC;
    ev->nframes = 1;
    ev->ips[0] = 0xabc;
    for (int i = 0; i < 10; i++) {
        ev->time_ns = hdr.monotonic_ns + (uint64_t)i;
        ev->size = (uint64_t)i + 1;
        assert_int_equal(gp_trace_writer_event(w, ev), 0);
    }
    assert_int_equal(gp_trace_writer_flush(w), 0);
    off_t flushed = file_size(fd);
    assert_true((uint64_t)flushed == gp_trace_writer_file_bytes(w));
    /* Raw bytes: magic, version, header, one FRAME, ten ALLOCs — more than compressed. */
    assert_true(gp_trace_writer_raw_bytes(w) > 8 + 10 * 4);
    assert_int_equal(gp_trace_writer_event(w, ev), 0);
    /* A forked child drops the writer: nothing more reaches the file. */
    gp_trace_writer_abandon(w);
    assert_true(file_size(fd) == flushed);
    close(fd);

    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    assert_int_equal(gp_trace_reader_status(t.r), GP_TRACE_TRUNCATED);
    assert_int_equal(t.n, 11); /* FRAME + 10 ALLOC, all before the flush */
    assert_true(t.recs[10].size == 10);
    tt_trace_free(&t);
    free(ev);
}

static void test_invalid_event_type(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    struct gp_event ev = {.type = GP_REC_FRAME};

    int fd = open(tt_path(dir, "inv.gz"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    assert_int_equal(gp_trace_writer_event(w, &ev), -EINVAL);
    /* Not a write error: the writer carries on. */
    ev.type = GP_REC_OOM;
    assert_int_equal(gp_trace_writer_event(w, &ev), 0);
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);
}

static void test_long_strings_truncated(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    const char *path = tt_path(dir, "long.gz");
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    struct tt_trace t;
    size_t big = 300 * 1024;
    char *s = malloc(big + 1);

    memset(s, 'x', big);
    s[big] = '\0';
    hdr.cmdline = s;
    hdr.host = s;
    hdr.exe = s;
    hdr.label = s;
    hdr.exe = NULL; /* NULL strings are written empty */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    assert_int_equal(gp_trace_writer_module(w, s, 0, 1, 2), 0);
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);

    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    const struct gp_trace_header *h = gp_trace_reader_header(t.r);
    assert_int_equal(strlen(h->cmdline), 240 * 1024);
    assert_int_equal(strlen(h->host), 240 * 1024);
    assert_string_equal(h->exe, "");
    assert_int_equal(strlen(h->label), 240 * 1024);
    assert_int_equal(t.recs[0].type, GP_REC_STRING);
    assert_int_equal(strlen(gp_trace_reader_string(t.r, 1)), 64 * 1024);
    assert_int_equal(t.recs[0].size, 64 * 1024);
    tt_trace_free(&t);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_full_sticks),
        cmocka_unit_test(test_open_on_full_disk),
        cmocka_unit_test(test_bad_fd),
        cmocka_unit_test(test_flush_and_abandon),
        cmocka_unit_test(test_invalid_event_type),
        cmocka_unit_test(test_long_strings_truncated),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
