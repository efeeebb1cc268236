/* test_pyframes.c — Python frames in the trace format: the writer turns tagged keys in an
 * event's ips into PYFRAME records (one per location, however many keys name it) and
 * tagged stack nodes; the reader gives them back; damaged PYFRAME data is refused with the
 * documented messages; the new-ip hook never sees a key. docs/trace-format.md §3.7. */
#include <errno.h>
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

#define KEY(n) (GP_TRACE_PY_TAG | (uint64_t)(n) << 32 | 7u)

/* Keys 1 and 3 name the same location (as two cache entries for one code object would). */
static int resolve(void *ctx, uint64_t key, struct gp_trace_pyframe *out)
{
    unsigned *calls = ctx;
    (*calls)++;
    switch ((key >> 32) & 0x7fffffff) {
    case 1:
    case 3:
        *out = (struct gp_trace_pyframe){"/src/train.py", "train_step", 42};
        return 0;
    case 2:
        *out = (struct gp_trace_pyframe){"/src/train.py", "<module>", 100};
        return 0;
    default:
        return -1; /* unknown: written with no file, function or line */
    }
}

static unsigned new_ips;
static void on_new_ip(void *ctx, struct gp_trace_writer *w, uint64_t ip)
{
    (void)ctx;
    (void)w;
    assert_false(ip & GP_TRACE_PY_TAG);
    new_ips++;
}

static size_t write_with(const char *path, struct gp_event *const *evs, size_t n,
                         gp_trace_pyframe_fn fn, void *ctx, uint32_t max_nodes)
{
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer_limits lim = {.max_stack_nodes = max_nodes};
    struct gp_trace_writer *w;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, &lim), 0);
    gp_trace_writer_set_new_ip_hook(w, on_new_ip, NULL);
    if (fn)
        gp_trace_writer_set_pyframe_resolver(w, fn, ctx);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gp_trace_writer_event(w, evs[i]), 0);
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);
    return n;
}

static struct gp_event *event(unsigned n, const uint64_t *ips)
{
    struct gp_event *ev = tt_event(n);
    ev->type = GP_REC_ALLOC;
    ev->api = GP_API_CUDA_MALLOC;
    ev->size = 4096;
    ev->nframes = (uint16_t)n;
    memcpy(ev->ips, ips, n * sizeof(*ips));
    return ev;
}

static size_t count(const struct tt_trace *t, uint8_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->recs[i].type == type;
    return n;
}

/* The stack of the i-th event record. */
static size_t event_stack(const struct tt_trace *t, size_t i, uint64_t *ips)
{
    for (size_t k = 0; k < t->n; k++)
        if (t->recs[k].type == GP_REC_ALLOC && i-- == 0)
            return tt_stack(t->r, t->recs[k].stack, ips, 16);
    fail();
    return 0;
}

static void expect_py(const struct gp_trace_reader *r, uint64_t ip, const char *file,
                      const char *function, uint32_t line)
{
    uint32_t id = gp_trace_pyframe_id(ip);
    assert_true(id != 0);
    const struct gp_trace_pyframe *f = gp_trace_reader_pyframe(r, id);
    assert_non_null(f);
    if (file)
        assert_string_equal(f->file, file);
    else
        assert_null(f->file);
    if (function)
        assert_string_equal(f->function, function);
    else
        assert_null(f->function);
    assert_int_equal(f->line, line);
}

static void test_roundtrip(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "py.gz");
    /* Native frames innermost first, then Python frames innermost first, as the shim
     * writes them: the Python frames are outermost in the trie. */
    uint64_t a[] = {0x401000, 0x402000, KEY(1), KEY(2)};
    uint64_t b[] = {0x403000, KEY(3), KEY(2)}; /* KEY(3) is KEY(1)'s location again */
    uint64_t c[] = {0x401000, KEY(9), KEY(2)}; /* an unknown key */
    struct gp_event *evs[] = {event(4, a), event(3, b), event(3, c), event(4, a)};
    unsigned calls = 0;
    new_ips = 0;
    write_with(path, evs, 4, resolve, &calls, 0);
    assert_int_equal(calls, 4); /* once per key */
    assert_int_equal(new_ips, 3); /* native ips only */

    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    assert_int_equal(count(&t, GP_REC_PYFRAME), 3); /* train_step, <module>, unknown */
    uint64_t ips[16];
    assert_int_equal(event_stack(&t, 0, ips), 4);
    assert_int_equal(ips[0], 0x401000);
    assert_int_equal(ips[1], 0x402000);
    expect_py(t.r, ips[2], "/src/train.py", "train_step", 42);
    expect_py(t.r, ips[3], "/src/train.py", "<module>", 100);
    uint64_t first_py = ips[2], outer = ips[3];
    assert_int_equal(event_stack(&t, 1, ips), 3);
    assert_int_equal(ips[0], 0x403000);
    assert_true(ips[1] == first_py && ips[2] == outer); /* same location, same node ip */
    assert_int_equal(event_stack(&t, 2, ips), 3);
    expect_py(t.r, ips[1], NULL, NULL, 0);
    /* Events 0 and 3 have the same stack id; 0 and 1 share the outer Python node. */
    uint32_t ids[4], k = 0;
    for (size_t i = 0; i < t.n; i++) {
        const struct gp_record *rec = &t.recs[i];
        if (rec->type == GP_REC_ALLOC)
            ids[k++] = rec->stack;
        if (rec->type == GP_REC_PYFRAME && rec->id == 2) { /* 1 is <module>: outer first */
            assert_string_equal(gp_trace_reader_string(t.r, rec->path), "/src/train.py");
            assert_string_equal(gp_trace_reader_string(t.r, (uint32_t)rec->aux1), "train_step");
            assert_int_equal(rec->aux2, 42);
        }
    }
    assert_int_equal(ids[0], ids[3]);
    assert_true(ids[0] != ids[1]);
    tt_trace_free(&t);
    for (int i = 0; i < 4; i++)
        free(evs[i]);
}

/* No resolver installed: the frames are kept, with nothing known about them. */
static void test_no_resolver(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "nores.gz");
    uint64_t a[] = {0x401000, KEY(1)};
    struct gp_event *ev = event(2, a);
    write_with(path, &ev, 1, NULL, NULL, 0);
    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    uint64_t ips[16];
    assert_int_equal(event_stack(&t, 0, ips), 2);
    expect_py(t.r, ips[1], NULL, NULL, 0);
    tt_trace_free(&t);
    free(ev);
}

/* The stack node cap also caps Python locations: the stack is cut there, keeping its
 * outer frames. */
static void test_cap(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "cap.gz");
    uint64_t a[] = {0x401000, KEY(1), KEY(2)};
    uint64_t b[] = {0x401000, KEY(9), KEY(2)};
    struct gp_event *evs[] = {event(3, a), event(3, b)};
    unsigned calls = 0;
    write_with(path, evs, 2, resolve, &calls, 3);
    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    uint64_t ips[16];
    assert_int_equal(event_stack(&t, 0, ips), 3);
    /* Nodes: <module>, train_step, 0x401000 = the cap. Event b: only <module> fits. */
    assert_int_equal(event_stack(&t, 1, ips), 1);
    expect_py(t.r, ips[0], "/src/train.py", "<module>", 100);
    tt_trace_free(&t);
    free(evs[0]);
    free(evs[1]);
}

/* ---- damaged data: hand-built streams ---------------------------------------------- */
static void expect_error(const struct tt_buf *b, const char *want)
{
    const char *path = tt_path(tt_dir, "bad.gz");
    tt_write_gz(path, b->p, b->len);
    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.rc, want ? -EBADMSG : 0);
    if (want)
        assert_string_equal(t.err, want);
    tt_trace_free(&t);
}

static void put_pyframe(struct tt_buf *b, uint64_t file, uint64_t func, uint64_t line,
                        int extra)
{
    struct tt_buf p = {0};
    tt_put_varint(&p, file);
    tt_put_varint(&p, func);
    tt_put_varint(&p, line);
    if (extra)
        tt_put(&p, "later", 5); /* fields of a later version: ignored */
    tt_put_record(b, GP_REC_PYFRAME, &p);
    tt_buf_free(&p);
}

static void put_frame(struct tt_buf *b, uint64_t parent, uint64_t ip)
{
    struct tt_buf p = {0};
    tt_put_varint(&p, parent);
    tt_put_varint(&p, ip);
    tt_put_record(b, GP_REC_FRAME, &p);
    tt_buf_free(&p);
}

static void put_end(struct tt_buf *b)
{
    struct tt_buf p = {0};
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 0);
    tt_put_record(b, GP_REC_END, &p);
    tt_buf_free(&p);
}

static void test_damage(void **state)
{
    (void)state;
    struct tt_buf b = {0};
    char want[160];

    /* A well-formed stream: string, PYFRAME with trailing bytes, node naming it, a node
     * of a reserved tagged kind (bits 32-62 not zero: passed through untouched). */
    tt_put_preamble(&b, GP_TRACE_VERSION);
    struct tt_buf s = {0};
    tt_put(&s, "f.py", 4);
    tt_put_record(&b, GP_REC_STRING, &s);
    tt_buf_free(&s);
    put_pyframe(&b, 1, 1, 9, 1);
    put_frame(&b, 0, GP_TRACE_PY_TAG | 1);
    put_frame(&b, 1, GP_TRACE_PY_TAG | (UINT64_C(5) << 32) | 77);
    put_end(&b);
    expect_error(&b, NULL);
    tt_buf_free(&b);

    /* A node naming a PYFRAME not defined yet. */
    tt_put_preamble(&b, GP_TRACE_VERSION);
    size_t off = b.len;
    put_frame(&b, 0, GP_TRACE_PY_TAG | 1);
    snprintf(want, sizeof(want),
             "corrupt trace: FRAME record at offset %zu: undefined Python frame 1", off);
    expect_error(&b, want);
    tt_buf_free(&b);

    /* Python frame id 0 does not exist either. */
    tt_put_preamble(&b, GP_TRACE_VERSION);
    off = b.len;
    put_frame(&b, 0, GP_TRACE_PY_TAG);
    snprintf(want, sizeof(want),
             "corrupt trace: FRAME record at offset %zu: undefined Python frame 0", off);
    expect_error(&b, want);
    tt_buf_free(&b);

    /* A PYFRAME naming a string not defined yet. */
    tt_put_preamble(&b, GP_TRACE_VERSION);
    off = b.len;
    put_pyframe(&b, 0, 3, 1, 0);
    snprintf(want, sizeof(want),
             "corrupt trace: PYFRAME record at offset %zu: undefined string id 3", off);
    expect_error(&b, want);
    tt_buf_free(&b);

    /* A line beyond 32 bits. */
    tt_put_preamble(&b, GP_TRACE_VERSION);
    off = b.len;
    put_pyframe(&b, 0, 0, UINT64_C(1) << 32, 0);
    snprintf(want, sizeof(want),
             "corrupt trace: PYFRAME record at offset %zu: value 4294967296 out of range", off);
    expect_error(&b, want);
    tt_buf_free(&b);

    /* A payload shorter than its fields. */
    tt_put_preamble(&b, GP_TRACE_VERSION);
    off = b.len;
    struct tt_buf p = {0};
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 0);
    tt_put_record(&b, GP_REC_PYFRAME, &p);
    tt_buf_free(&p);
    snprintf(want, sizeof(want),
             "corrupt trace: PYFRAME record at offset %zu: payload too short", off);
    expect_error(&b, want);
    tt_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_no_resolver),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_damage),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
