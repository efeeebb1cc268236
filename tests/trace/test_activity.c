/* test_activity.c — GPU activity records (KERNEL .. OVERHEAD, ACT_DROPPED, ACT_STATUS)
 * through the real writer and reader: every field of every type survives, predictions
 * from the previous record of the same kernel or type hold across interleaved types and
 * memory events, kernels framed in runs read back one by one, names past the string cap
 * still decode, malformed payloads are refused, and a training loop's kernels cost few
 * bytes each. */
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

#include "activity.h"
#include "trace_test_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return rng_state >> 11;
}

static struct gp_trace_writer *open_writer(const char *path, int *fd,
                                           const struct gp_trace_writer_limits *lim)
{
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(*fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, *fd, &hdr, lim), 0);
    return w;
}

static void close_writer(struct gp_trace_writer *w, int fd)
{
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);
}

/* Every field the reader gives back equals what was written (names by content). */
static void assert_same(const struct gp_activity *got, const struct gp_activity *want)
{
    assert_int_equal(got->type, want->type);
    assert_int_equal(got->kind, want->kind);
    assert_int_equal(got->device, want->device);
    assert_int_equal(got->context, want->context);
    assert_int_equal(got->stream, want->stream);
    assert_int_equal(got->correlation, want->correlation);
    assert_int_equal(got->start_ns, want->start_ns);
    assert_int_equal(got->end_ns, want->end_ns);
    if (want->name)
        assert_string_equal(got->name, want->name);
    else
        assert_null(got->name);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got->grid[i], want->grid[i]);
        assert_int_equal(got->block[i], want->block[i]);
    }
    assert_int_equal(got->registers, want->registers);
    assert_int_equal(got->static_smem, want->static_smem);
    assert_int_equal(got->dynamic_smem, want->dynamic_smem);
    assert_int_equal(got->graph_id, want->graph_id);
    assert_int_equal(got->graph_node, want->graph_node);
    assert_int_equal(got->bytes, want->bytes);
    assert_int_equal(got->address, want->address);
    assert_int_equal(got->value, want->value);
    assert_int_equal(got->aux, want->aux);
}

/* Reads path, checking each activity against want[] in order and the events' times. */
static void read_back(const char *path, const struct gp_activity *want, size_t n,
                      uint64_t nevents)
{
    struct gp_trace_reader *r;
    struct gp_record rec;
    char err[256];
    size_t i = 0;
    uint64_t events = 0;
    int rc;
    assert_int_equal(gp_trace_reader_open(&r, path, err, sizeof(err)), 0);
    assert_null(gp_trace_reader_activity_status(r));
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof(err))) == 1) {
        if (rec.type == GP_REC_ALLOC) {
            assert_int_equal(rec.time_ns, 5000000000ull + 1000 * ++events);
            continue;
        }
        if (!gp_trace_is_activity(rec.type))
            continue;
        assert_true(i < n);
        const struct gp_activity *a = gp_trace_reader_activity(r);
        assert_non_null(a);
        assert_int_equal(rec.time_ns, want[i].start_ns);
        assert_same(a, &want[i]);
        i++;
    }
    if (rc < 0)
        fail_msg("%s", err);
    assert_int_equal(i, n);
    assert_int_equal(events, nevents);
    assert_int_equal(gp_trace_reader_status(r), GP_TRACE_OK);
    gp_trace_reader_close(r);
}

static const char *const kernel_names[] = {
    "_Z10vector_addPKfS0_Pfi", "_Z4gemmILi128EEvPKfS1_Pfiii", "relu_kernel", "",
};

/* A record of the given type with every field the type uses set to something random,
 * and a few fields repeating so that predictions are exercised both ways. */
static struct gp_activity random_activity(uint8_t type, uint64_t *clock)
{
    struct gp_activity a = {.type = type};
    uint64_t r = rng();
    *clock += 500 + r % 5000;
    a.start_ns = *clock;
    a.end_ns = a.start_ns + (r % 3 ? 1000 + (r >> 8) % 100000 : 0);
    a.kind = (uint8_t)(r % 4 ? 1 + (r >> 3) % 10 : 255);
    a.device = (uint32_t)((r >> 5) % 3);
    a.context = (uint32_t)(1 + (r >> 7) % 2);
    a.stream = (uint32_t)((r >> 9) % 4 == 3 ? UINT32_MAX : 7 + (r >> 9) % 4);
    a.correlation = (uint32_t)(r % 5 ? rng() % 1000000 : 0);
    switch (type) {
    case GP_REC_KERNEL:
    case GP_REC_MARKER:
        a.name = r % 7 ? kernel_names[(r >> 13) % 4] : NULL;
        break;
    default:
        break;
    }
    if (type == GP_REC_KERNEL) {
        for (int i = 0; i < 3; i++) {
            a.grid[i] = (uint32_t)(r % 2 ? 1 + (rng() % 65535) : 1);
            a.block[i] = (uint32_t)(r % 3 ? 1 + (rng() % 1024) : 32);
        }
        a.registers = (uint32_t)(rng() % 256);
        a.static_smem = (uint32_t)(r % 2 ? rng() % 49152 : 0);
        a.dynamic_smem = (uint32_t)(r % 4 ? 0 : UINT32_MAX);
    }
    if (r % 3 == 0) {
        a.graph_id = (uint32_t)(rng() % 10);
        a.graph_node = rng() << (r % 12);
    }
    a.bytes = r % 2 ? rng() : 4096;
    a.address = r % 2 ? 0x7f0000000000ull + rng() % 0x100000000ull : UINT64_MAX;
    a.value = r % 5 ? rng() : 0;
    a.aux = r % 3 ? rng() % 0x10000 : 0;
    return a;
}

static void test_roundtrip_every_type(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "all.gz");
    enum { N = 20000 };
    struct gp_activity *want = calloc(N, sizeof(*want));
    struct gp_event *ev = tt_event(0);
    uint64_t clock = 5000000000ull, events = 0;
    int fd;
    assert_non_null(want);
    for (size_t i = 0; i < N; i++) {
        uint8_t type = (uint8_t)(GP_REC_ACT_FIRST + rng() % (GP_REC_ACT_LAST - GP_REC_ACT_FIRST + 1));
        want[i] = random_activity(type, &clock);
    }
    /* Extremes: a start before the previous end, an end before the start (both wrap
     * modulo 2^64), an untimed record, the largest values. */
    want[N - 4].start_ns = 1;
    want[N - 4].end_ns = 0;
    want[N - 3].start_ns = want[N - 3].end_ns = 0;
    struct gp_activity *x = &want[N - 2];
    memset(x, 0xff, sizeof(*x));
    x->type = GP_REC_KERNEL;
    x->name = "last";
    x->pad = 0;
    want[N - 1] = want[N - 2]; /* and once more: everything predicted */
    struct gp_trace_writer *w = open_writer(path, &fd, NULL);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(gp_trace_writer_activity(w, &want[i]), 0);
        if (i % 97 == 0) { /* memory events keep their own time chain */
            ev->type = GP_REC_ALLOC;
            ev->api = GP_API_CUDA_MALLOC;
            ev->time_ns = 5000000000ull + 1000 * ++events;
            assert_int_equal(gp_trace_writer_event(w, ev), 0);
        }
    }
    close_writer(w, fd);
    read_back(path, want, N, events);
    free(want);
    free(ev);
}

/* Each kernel is predicted from its own previous run, whatever ran in between. */
static void test_prediction_by_name(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "pred.gz");
    struct gp_activity want[6];
    int fd;
    struct gp_trace_writer *w = open_writer(path, &fd, NULL);
    for (int i = 0; i < 6; i++) {
        struct gp_activity a = {.type = GP_REC_KERNEL, .device = 1, .context = 2, .stream = 13};
        a.name = i % 2 ? "odd" : "even";
        a.start_ns = 1000000 + 10000 * (uint64_t)i;
        a.end_ns = a.start_ns + (i % 2 ? 3000 : 7000);
        a.correlation = (uint32_t)(100 + i);
        a.grid[0] = i % 2 ? 64 : 1024;
        a.grid[1] = a.grid[2] = 1;
        a.block[0] = 256;
        a.block[1] = a.block[2] = 1;
        a.registers = i % 2 ? 40 : 96;
        want[i] = a;
        assert_int_equal(gp_trace_writer_activity(w, &a), 0);
    }
    uint64_t raw_before = gp_trace_writer_raw_bytes(w);
    /* The same two kernels again: everything but start and correlation is predicted. */
    struct gp_activity again = want[4];
    again.start_ns = want[5].end_ns + 100;
    again.end_ns = again.start_ns + 7000;
    again.correlation = 106;
    assert_int_equal(gp_trace_writer_activity(w, &again), 0);
    /* Appended to the open KERNEL_RUN: head (nothing differs, name predicted), dstart (2).
     * The correlation step (+1) and the duration are "even"'s from its previous run. */
    assert_int_equal(gp_trace_writer_raw_bytes(w) - raw_before, 3);
    /* Its correlation step differs from last time (+2, not +1): head, dstart 0, and the
     * correlation as a delta from the previous one + 1. */
    struct gp_activity third = want[5];
    third.start_ns = again.end_ns;
    third.end_ns = third.start_ns + 3000;
    third.correlation = 108;
    raw_before = gp_trace_writer_raw_bytes(w);
    assert_int_equal(gp_trace_writer_activity(w, &third), 0);
    assert_int_equal(gp_trace_writer_raw_bytes(w) - raw_before, 3);
    /* A marker in between closes the run: the next kernel opens a new one, with its type
     * byte and 3-byte length. */
    struct gp_activity mark = {.type = GP_REC_MARKER, .kind = 1, .name = "step"};
    mark.start_ns = mark.end_ns = third.end_ns;
    assert_int_equal(gp_trace_writer_activity(w, &mark), 0);
    struct gp_activity fourth = want[4];
    fourth.start_ns = third.end_ns + 100;
    fourth.end_ns = fourth.start_ns + 7000;
    fourth.correlation = 109; /* the step "even" took last time (+1): predicted */
    raw_before = gp_trace_writer_raw_bytes(w);
    assert_int_equal(gp_trace_writer_activity(w, &fourth), 0);
    assert_int_equal(gp_trace_writer_raw_bytes(w) - raw_before, 4 + 3);
    close_writer(w, fd);

    struct gp_activity all[11];
    memcpy(all, want, sizeof(want));
    all[6] = again;
    all[7] = third;
    all[8] = mark;
    all[9] = fourth;
    read_back(path, all, 10, 0);
}

/* KERNEL_RUN framing: kernels written back to back in runs that cross the run cap, the
 * raw buffer's deflate, flushes, new names mid-run and other records in between all read
 * back field by field, as KERNEL records in order. */
static void test_kernel_runs_roundtrip(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "runs.gz");
    enum { N = 60000, NAMES = 700 };
    static char names[NAMES][32];
    struct gp_activity *want = calloc(N, sizeof(*want));
    struct gp_event *ev = tt_event(0);
    uint64_t clock = 5000000000ull, events = 0;
    int fd;
    assert_non_null(want);
    for (int k = 0; k < NAMES; k++)
        snprintf(names[k], sizeof(names[k]), "_Z6kernel%di", k);
    for (size_t i = 0; i < N; i++) {
        uint64_t r = rng();
        if (r % 50 == 0) { /* now and then a copy or a marker between kernels */
            want[i] = random_activity(r % 100 ? GP_REC_MEMCPY : GP_REC_MARKER, &clock);
            continue;
        }
        want[i] = random_activity(GP_REC_KERNEL, &clock);
        /* mostly a loop over the names seen so far, new ones arriving all along */
        want[i].name = names[(r >> 20) % 4 ? i % (1 + i * NAMES / N) : (r >> 24) % NAMES];
        if ((r >> 30) % 4) { /* and mostly the same launch as last time */
            want[i].grid[1] = want[i].grid[2] = want[i].block[1] = want[i].block[2] = 1;
            want[i].grid[0] = 64;
            want[i].block[0] = 256;
            want[i].registers = 32;
            want[i].static_smem = want[i].dynamic_smem = 0;
            want[i].graph_id = 0;
            want[i].graph_node = 0;
            want[i].bytes = want[i].address = want[i].value = want[i].aux = 0;
        }
    }
    struct gp_trace_writer *w = open_writer(path, &fd, NULL);
    uint64_t raw0 = gp_trace_writer_raw_bytes(w);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(gp_trace_writer_activity(w, &want[i]), 0);
        if (i % 7919 == 0)
            assert_int_equal(gp_trace_writer_flush(w), 0);
        if (i % 3001 == 0) {
            ev->type = GP_REC_ALLOC;
            ev->api = GP_API_CUDA_MALLOC;
            ev->time_ns = 5000000000ull + 1000 * ++events;
            assert_int_equal(gp_trace_writer_event(w, ev), 0);
        }
    }
    /* more raw bytes than one deflate buffer (128 KiB) and many runs' worth (16 KiB) */
    assert_true(gp_trace_writer_raw_bytes(w) - raw0 > 2 * 128 * 1024);
    close_writer(w, fd);
    read_back(path, want, N, events);
    free(want);
    free(ev);
}

/* Past the string cap names are lost (id 0) but every other field still decodes. */
static void test_names_past_the_cap(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "cap.gz");
    struct gp_trace_writer_limits lim = {.max_strings = 3};
    enum { N = 200 };
    struct gp_activity want[N];
    char names[N][16];
    int fd;
    uint64_t clock = 1;
    struct gp_trace_writer *w = open_writer(path, &fd, &lim);
    for (int i = 0; i < N; i++) {
        want[i] = random_activity(GP_REC_KERNEL, &clock);
        snprintf(names[i], sizeof(names[i]), "k%d", i % 50);
        want[i].name = names[i];
        assert_int_equal(gp_trace_writer_activity(w, &want[i]), 0);
    }
    close_writer(w, fd);
    for (int i = 0; i < N; i++)
        if (i % 50 >= 3)
            want[i].name = NULL;
    read_back(path, want, N, 0);
}

static void test_status_and_dropped(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "status.gz");
    int fd;
    struct gp_trace_writer *w = open_writer(path, &fd, NULL);
    struct gp_activity_status st = {
        .state = GP_ACT_BUSY,
        .version = 130001,
        .kinds = 0x1ff,
        .library = "/opt/cuda/lib64/libcupti.so.13",
        .reason = "another tool holds CUPTI",
    };
    assert_int_equal(gp_trace_writer_activity_status(w, &st), 0);
    assert_int_equal(gp_trace_writer_activity_dropped(w, 12345), 0);
    struct gp_activity_status none = {.state = GP_ACT_OFF};
    assert_int_equal(gp_trace_writer_activity_status(w, &none), 0);
    close_writer(w, fd);

    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    size_t seen = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.recs[i].type == GP_REC_ACT_DROPPED) {
            assert_int_equal(t.recs[i].count, 12345);
            seen |= 1;
        } else if (t.recs[i].type == GP_REC_ACT_STATUS) {
            seen += 2;
            assert_int_equal(t.recs[i].kind, seen == 2 ? GP_ACT_BUSY : GP_ACT_OFF);
        }
    }
    assert_int_equal(seen, 5);
    /* The reader keeps the last status. */
    const struct gp_activity_status *got = gp_trace_reader_activity_status(t.r);
    assert_non_null(got);
    assert_int_equal(got->state, GP_ACT_OFF);
    assert_null(got->library);
    assert_null(got->reason);
    tt_trace_free(&t);

    /* And the first one, read on its own. */
    w = open_writer(path, &fd, NULL);
    assert_int_equal(gp_trace_writer_activity_status(w, &st), 0);
    close_writer(w, fd);
    tt_read_all(path, &t);
    got = gp_trace_reader_activity_status(t.r);
    assert_non_null(got);
    assert_int_equal(got->state, GP_ACT_BUSY);
    assert_int_equal(got->version, 130001);
    assert_int_equal(got->kinds, 0x1ff);
    assert_string_equal(got->library, st.library);
    assert_string_equal(got->reason, st.reason);
    tt_trace_free(&t);
}

/* Hand-built payloads the writer never produces. */
static void expect_corrupt(uint8_t type, const struct tt_buf *payload, const char *why)
{
    const char *path = tt_path(tt_dir, "bad.gz");
    struct tt_buf b = {0};
    tt_put_preamble(&b, 1);
    tt_put_record(&b, type, payload);
    tt_write_gz(path, b.p, b.len);
    tt_buf_free(&b);
    struct tt_trace t;
    tt_read_all(path, &t);
    assert_true(t.rc < 0);
    if (!strstr(t.err, why))
        fail_msg("error '%s' does not say '%s'", t.err, why);
    tt_trace_free(&t);
}

static void test_corrupt(void **state)
{
    (void)state;
    struct tt_buf p = {0};
    tt_put_varint(&p, 1); /* head: mask 0, a name follows */
    tt_put_varint(&p, 1); /* name id 1: no STRING defined */
    tt_put_varint(&p, 0); /* dstart */
    expect_corrupt(GP_REC_KERNEL, &p, "KERNEL record at offset 34: undefined string id 1");
    expect_corrupt(GP_REC_KERNEL_RUN, &p, "KERNEL record at offset 34: undefined string id 1");
    tt_buf_free(&p);

    tt_put_varint(&p, 1); /* a name on a type without one */
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 0);
    expect_corrupt(GP_REC_MEMCPY, &p, "a name on a record type without one");
    tt_buf_free(&p);

    tt_put_varint(&p, 0x2 << 1); /* device follows ... */
    tt_put_varint(&p, 0);
    expect_corrupt(GP_REC_MEMCPY, &p, "MEMCPY record at offset 34: payload too short");
    tt_buf_free(&p);

    tt_put_varint(&p, 0x2 << 1);
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 1ull << 32); /* device beyond 32 bits */
    expect_corrupt(GP_REC_SYNC, &p, "value out of range");
    tt_buf_free(&p);

    tt_put_varint(&p, 0x1 << 1);
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 256); /* kind beyond a byte */
    expect_corrupt(GP_REC_OVERHEAD, &p, "value out of range");
    tt_buf_free(&p);

    /* Runs: an empty one, a kernel cut short after a whole one, a later field (which a
     * run cannot skip). */
    expect_corrupt(GP_REC_KERNEL_RUN, &p, "KERNEL record at offset 34: payload too short");
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 0x10 << 1); /* the second kernel's duration is missing */
    tt_put_varint(&p, 0);
    expect_corrupt(GP_REC_KERNEL_RUN, &p, "KERNEL record at offset 34: payload too short");
    tt_buf_free(&p);
    tt_put_varint(&p, (1u << 20) << 1);
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 5);
    expect_corrupt(GP_REC_KERNEL_RUN, &p, "a field of a later version in a run");
    tt_buf_free(&p);

    for (int i = 0; i < 11; i++)
        tt_put_u8(&p, 0xff); /* a varint longer than 10 bytes */
    expect_corrupt(GP_REC_MEMSET, &p, "bad varint");
    tt_buf_free(&p);

    tt_put_varint(&p, GP_ACT_RECORDING);
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 0);
    tt_put_varint(&p, 7); /* library string 7 */
    tt_put_varint(&p, 0);
    expect_corrupt(GP_REC_ACT_STATUS, &p, "ACT_STATUS record at offset 34: undefined string id 7");
    tt_buf_free(&p);

    expect_corrupt(GP_REC_ACT_DROPPED, &p, "ACT_DROPPED record at offset 34: payload too short");
}

/* Unknown mask bits above AUX are fields of later versions: skipped. */
static void test_later_fields_skipped(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "later.gz");
    struct tt_buf b = {0}, p = {0};
    tt_put_preamble(&b, 1);
    tt_put_varint(&p, (0x2 | 0x10 | (1u << 20)) << 1); /* head: mask */
    tt_put_varint(&p, 2000 << 1); /* start 2000 */
    tt_put_varint(&p, 3);        /* device 3 */
    tt_put_varint(&p, 50 << 1);  /* duration 50 */
    tt_put_varint(&p, 99999);    /* a later field */
    tt_put_record(&b, GP_REC_SYNC, &p);
    tt_write_gz(path, b.p, b.len);
    struct tt_trace t;
    tt_read_all(path, &t);
    assert_true(t.rc <= 0);
    const struct gp_activity *a = gp_trace_reader_activity(t.r);
    assert_non_null(a);
    assert_int_equal(a->type, GP_REC_SYNC);
    assert_int_equal(a->device, 3);
    assert_int_equal(a->start_ns, 2000);
    assert_int_equal(a->end_ns, 2050);
    tt_trace_free(&t);
    tt_buf_free(&b);
    tt_buf_free(&p);
}

/* A training loop: the same few hundred kernels every step, on two streams, durations
 * jittered by a few percent and gaps of a few microseconds, as real ones do. */
static void test_training_loop_size(void **state)
{
    (void)state;
    const char *path = tt_path(tt_dir, "loop.gz");
    enum { KERNELS = 300, STEPS = 2000 };
    static char names[KERNELS][64];
    uint64_t base_dur[KERNELS];
    int fd;
    struct gp_trace_writer *w = open_writer(path, &fd, NULL);
    for (int k = 0; k < KERNELS; k++) {
        snprintf(names[k], sizeof(names[k]), "_ZN2at6native18elementwise_kernelILi%dELi4EEEviT1_", k);
        base_dur[k] = 2000 + rng() % 200000;
    }
    uint64_t t = 5000000000ull;
    uint32_t corr = 1;
    for (int s = 0; s < STEPS; s++) {
        for (int k = 0; k < KERNELS; k++) {
            struct gp_activity a = {.type = GP_REC_KERNEL, .device = 0, .context = 1};
            a.name = names[k];
            a.stream = k % 10 == 9 ? 14 : 7;
            t += 1000 + rng() % 4000;
            a.start_ns = t;
            a.end_ns = t + base_dur[k] + base_dur[k] * (rng() % 64) / 1000;
            t = a.end_ns;
            corr += 1 + (uint32_t)(rng() % 3 == 0);
            a.correlation = corr;
            a.grid[0] = (uint32_t)(k * 7 % 4096 + 1);
            a.grid[1] = a.grid[2] = 1;
            a.block[0] = 128u << (k % 3);
            a.block[1] = a.block[2] = 1;
            a.registers = (uint32_t)(16 + k % 64);
            a.static_smem = (uint32_t)(k % 4 * 1024);
            assert_int_equal(gp_trace_writer_activity(w, &a), 0);
        }
        if (s % 100 == 99)
            assert_int_equal(gp_trace_writer_flush(w), 0);
    }
    close_writer(w, fd);
    size_t n;
    free(tt_read_file(path, &n));
    double per = (double)n / (KERNELS * STEPS);
    printf("# %d kernel records: %zu bytes, %.2f bytes/kernel\n", KERNELS * STEPS, n, per);
    assert_true(per <= 5.0); /* issue 4: at most 6, aiming for 4 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_type),
        cmocka_unit_test(test_prediction_by_name),
        cmocka_unit_test(test_kernel_runs_roundtrip),
        cmocka_unit_test(test_names_past_the_cap),
        cmocka_unit_test(test_status_and_dropped),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_later_fields_skipped),
        cmocka_unit_test(test_training_loop_size),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
