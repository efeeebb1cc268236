/* test_intern.c — string and stack interning: the hash tables themselves, then what the
 * writer makes of them in a trace (same stack -> same id, shared prefixes share nodes,
 * node and string caps, the new-ip hook's calls and their order). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "intern.h"
#include "trace_test_util.h"

static void test_strtab(void **state)
{
    (void)state;
    struct gp_trace_strtab t;
    uint32_t id;

    gp_trace_strtab_init(&t, 5000);
    assert_int_equal(gp_trace_strtab_intern(&t, "libcuda.so", 10, &id), 1);
    assert_int_equal(id, 1);
    assert_int_equal(gp_trace_strtab_intern(&t, "libcudart.so", 12, &id), 1);
    assert_int_equal(id, 2);
    assert_int_equal(gp_trace_strtab_intern(&t, "libcuda.so", 10, &id), 0);
    assert_int_equal(id, 1);
    /* A prefix is a different string. */
    assert_int_equal(gp_trace_strtab_intern(&t, "libcuda.so", 7, &id), 1);
    assert_int_equal(id, 3);
    assert_int_equal(gp_trace_strtab_intern(&t, "", 0, &id), 1);
    assert_int_equal(id, 4);
    assert_int_equal(gp_trace_strtab_intern(&t, "", 0, &id), 0);
    assert_int_equal(id, 4);
    /* Growth past the initial table keeps every id. */
    char s[32];
    for (int i = 0; i < 4000; i++) {
        snprintf(s, sizeof(s), "/lib/m%d.so", i);
        assert_int_equal(gp_trace_strtab_intern(&t, s, (uint32_t)strlen(s), &id), 1);
        assert_int_equal(id, 5 + i);
    }
    for (int i = 0; i < 4000; i++) {
        snprintf(s, sizeof(s), "/lib/m%d.so", i);
        assert_int_equal(gp_trace_strtab_intern(&t, s, (uint32_t)strlen(s), &id), 0);
        assert_int_equal(id, 5 + i);
    }
    gp_trace_strtab_free(&t);

    /* The cap: known strings still resolve, new ones get -ENOSPC and id 0. */
    gp_trace_strtab_init(&t, 2);
    assert_int_equal(gp_trace_strtab_intern(&t, "a", 1, &id), 1);
    assert_int_equal(gp_trace_strtab_intern(&t, "b", 1, &id), 1);
    assert_int_equal(gp_trace_strtab_intern(&t, "c", 1, &id), -ENOSPC);
    assert_int_equal(id, 0);
    assert_int_equal(gp_trace_strtab_intern(&t, "a", 1, &id), 0);
    assert_int_equal(id, 1);
    gp_trace_strtab_free(&t);
}

static void test_stacktab(void **state)
{
    (void)state;
    struct gp_trace_stacktab t;
    uint32_t id;

    gp_trace_stacktab_init(&t, 20000);
    assert_int_equal(gp_trace_stacktab_find(&t, 0, 0x1000), 0);
    assert_int_equal(gp_trace_stacktab_add(&t, 0, 0x1000, &id), 0);
    assert_int_equal(id, 1);
    assert_int_equal(gp_trace_stacktab_find(&t, 0, 0x1000), 1);
    /* Same ip under another parent is another node. */
    assert_int_equal(gp_trace_stacktab_find(&t, 1, 0x1000), 0);
    assert_int_equal(gp_trace_stacktab_add(&t, 1, 0x1000, &id), 0);
    assert_int_equal(id, 2);
    for (uint32_t i = 0; i < 10000; i++) {
        assert_int_equal(gp_trace_stacktab_add(&t, i + 2, 0x7f0000000000ull + i * 16, &id), 0);
        assert_int_equal(id, i + 3);
    }
    for (uint32_t i = 0; i < 10000; i++)
        assert_int_equal(gp_trace_stacktab_find(&t, i + 2, 0x7f0000000000ull + i * 16), i + 3);
    assert_int_equal(gp_trace_stacktab_find(&t, 0, 0x1000), 1);

    /* First sight of an ip, including 0 (the empty-slot marker). */
    assert_int_equal(gp_trace_stacktab_first_ip(&t, 0x1000), 1);
    assert_int_equal(gp_trace_stacktab_first_ip(&t, 0x1000), 0);
    assert_int_equal(gp_trace_stacktab_first_ip(&t, 0), 1);
    assert_int_equal(gp_trace_stacktab_first_ip(&t, 0), 0);
    for (uint64_t i = 1; i <= 3000; i++)
        assert_int_equal(gp_trace_stacktab_first_ip(&t, i * 8), i * 8 == 0x1000 ? 0 : 1);
    for (uint64_t i = 1; i <= 3000; i++)
        assert_int_equal(gp_trace_stacktab_first_ip(&t, i * 8), 0);
    gp_trace_stacktab_free(&t);

    gp_trace_stacktab_init(&t, 1);
    assert_int_equal(gp_trace_stacktab_add(&t, 0, 5, &id), 0);
    assert_int_equal(gp_trace_stacktab_add(&t, 1, 6, &id), -ENOSPC);
    assert_int_equal(id, 0);
    gp_trace_stacktab_free(&t);
}

static void test_stack_cache(void **state)
{
    (void)state;
    struct gp_trace_stack_cache c;
    const uint64_t a[3] = {1, 2, 3}, b[3] = {1, 2, 4};
    uint32_t id = 0;

    memset(&c, 0, sizeof(c));
    uint64_t ha = gp_trace_stack_hash(a, 3), hb = gp_trace_stack_hash(b, 3);
    assert_true(ha != hb);
    assert_true(gp_trace_stack_hash(a, 2) != ha); /* the depth is part of the key */
    assert_int_equal(gp_trace_stack_cache_get(&c, ha, a, 3, &id), 0);
    gp_trace_stack_cache_put(&c, ha, a, 3, 7);
    assert_int_equal(gp_trace_stack_cache_get(&c, ha, a, 3, &id), 1);
    assert_int_equal(id, 7);
    /* Exact: a forged equal hash with other ips, or another depth, misses. */
    assert_int_equal(gp_trace_stack_cache_get(&c, ha, b, 3, &id), 0);
    assert_int_equal(gp_trace_stack_cache_get(&c, ha, a, 2, &id), 0);
    /* A stack landing in the same slot replaces the old one. */
    gp_trace_stack_cache_put(&c, ha, b, 3, 9);
    assert_int_equal(gp_trace_stack_cache_get(&c, ha, a, 3, &id), 0);
    assert_int_equal(gp_trace_stack_cache_get(&c, ha, b, 3, &id), 1);
    assert_int_equal(id, 9);
    /* The empty stack is cacheable too. */
    uint64_t he = gp_trace_stack_hash(a, 0);
    gp_trace_stack_cache_put(&c, he, a, 0, 0);
    assert_int_equal(gp_trace_stack_cache_get(&c, he, b, 0, &id), 1);
    assert_int_equal(id, 0);
    gp_trace_stack_cache_free(&c);
}

/* ---- through the writer ---------------------------------------------------- */

struct hook_log {
    uint64_t ips[64];
    size_t n;
    int event_rc; /* what writing an event from inside the hook returned */
};

static void log_ip(void *ctx, struct gp_trace_writer *w, uint64_t ip)
{
    struct hook_log *log = ctx;
    char path[64];
    assert_true(log->n < 64);
    log->ips[log->n++] = ip;
    /* The module record for this ip, as the shim would write it. */
    snprintf(path, sizeof(path), "/lib/mod%zu.so", log->n % 2);
    assert_int_equal(gp_trace_writer_module(w, path, 0, ip, ip + 1), 0);
    struct gp_event ev = {.type = GP_REC_ALLOC};
    log->event_rc = gp_trace_writer_event(w, &ev);
}

static void set_stack(struct gp_event *ev, const uint64_t *outer_first, unsigned n)
{
    /* Tests read stacks outermost first; events hold them innermost first. */
    ev->nframes = (uint16_t)n;
    for (unsigned i = 0; i < n; i++)
        ev->ips[i] = outer_first[n - 1 - i];
}

/* Writes the given stacks as one ALLOC each with the given limits and hook log. */
static void write_stacks(const char *path, const uint64_t (*stacks)[4], const unsigned *depth,
                         size_t n, const struct gp_trace_writer_limits *lim,
                         struct hook_log *log)
{
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    struct gp_event *ev = tt_event(4);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, lim), 0);
    if (log)
        gp_trace_writer_set_new_ip_hook(w, log_ip, log);
    for (size_t i = 0; i < n; i++) {
        ev->type = GP_REC_ALLOC;
        ev->time_ns = hdr.monotonic_ns + i;
        set_stack(ev, stacks[i], depth[i]);
        assert_int_equal(gp_trace_writer_event(w, ev), 0);
    }
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);
    free(ev);
}

static size_t count_type(const struct tt_trace *t, uint8_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->recs[i].type == type;
    return n;
}

/* The stack ids of the ALLOC events, in order. */
static size_t alloc_stacks(const struct tt_trace *t, uint32_t *ids)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->recs[i].type == GP_REC_ALLOC)
            ids[n++] = t->recs[i].stack;
    return n;
}

static void test_writer_interning(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    const char *path = tt_path(dir, "intern.gz");
    /* A-B-C, A-B-C again, A-B-D (shares A-B), A alone, E-B (B under another parent). */
    static const uint64_t stacks[][4] = {
        {0xA, 0xB, 0xC}, {0xA, 0xB, 0xC}, {0xA, 0xB, 0xD}, {0xA}, {0xE, 0xB}, {0},
    };
    static const unsigned depth[] = {3, 3, 3, 1, 2, 0};
    struct hook_log log = {.event_rc = 0};
    struct tt_trace t;
    uint32_t ids[8];

    write_stacks(path, stacks, depth, 6, NULL, &log);
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    assert_int_equal(gp_trace_reader_status(t.r), GP_TRACE_OK);
    assert_int_equal(alloc_stacks(&t, ids), 6);
    /* Nodes: A=1 B=2 C=3 D=4 E=5 B'=6; each written once. */
    assert_int_equal(count_type(&t, GP_REC_FRAME), 6);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 3); /* same stack, same id */
    assert_int_equal(ids[2], 4);
    assert_int_equal(ids[3], 1); /* a prefix is an existing node */
    assert_int_equal(ids[4], 6);
    assert_int_equal(ids[5], 0); /* no frames, no stack */
    assert_int_equal(gp_trace_reader_frame(t.r, 4)->parent, 2); /* D shares A-B */
    assert_int_equal(gp_trace_reader_frame(t.r, 3)->parent, 2);
    assert_int_equal(gp_trace_reader_frame(t.r, 6)->parent, 5);
    assert_true(gp_trace_reader_frame(t.r, 6)->ip == 0xB);
    assert_null(gp_trace_reader_frame(t.r, 7));
    assert_null(gp_trace_reader_frame(t.r, 0));
    uint64_t ips[4];
    assert_int_equal(tt_stack(t.r, ids[2], ips, 4), 3);
    assert_true(ips[0] == 0xD && ips[1] == 0xB && ips[2] == 0xA);

    /* The hook saw each distinct ip once, in trie order, and could not add events. */
    assert_int_equal(log.n, 5);
    static const uint64_t want[] = {0xA, 0xB, 0xC, 0xD, 0xE};
    for (size_t i = 0; i < 5; i++)
        assert_true(log.ips[i] == want[i]);
    assert_int_equal(log.event_rc, -EBUSY);
    /* ...and its MODULE record precedes the FRAME of the ip: strings interned too. */
    assert_int_equal(count_type(&t, GP_REC_STRING), 2);
    assert_int_equal(count_type(&t, GP_REC_MODULE), 5);
    for (size_t i = 0; i < t.n; i++) {
        if (t.recs[i].type != GP_REC_FRAME)
            continue;
        /* The nearest MODULE before the FRAME of a first-seen ip covers that ip. */
        uint64_t ip = t.recs[i].ptr;
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (t.recs[j].type == GP_REC_FRAME && t.recs[j].ptr == ip)
                first = false;
        if (!first)
            continue;
        assert_int_equal(t.recs[i - 1].type, GP_REC_MODULE);
        assert_true(t.recs[i - 1].start == ip);
    }
    tt_trace_free(&t);
}

static void test_writer_node_cap(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    const char *path = tt_path(dir, "cap.gz");
    static const uint64_t stacks[][4] = {
        {0xA, 0xB, 0xC}, {0xA, 0xB, 0xD, 0xF}, {0xE, 0xB}, {0xA, 0xB, 0xC},
    };
    static const unsigned depth[] = {3, 4, 2, 3};
    const struct gp_trace_writer_limits lim = {.max_stack_nodes = 3};
    struct tt_trace t;
    uint32_t ids[8];

    write_stacks(path, stacks, depth, 4, &lim, NULL);
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    assert_int_equal(count_type(&t, GP_REC_FRAME), 3);
    assert_int_equal(alloc_stacks(&t, ids), 4);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 2); /* cut at the deepest known prefix A-B */
    assert_int_equal(ids[2], 0); /* nothing of it known: no stack */
    assert_int_equal(ids[3], 3); /* known stacks are unaffected */
    tt_trace_free(&t);
}

static void test_writer_string_cap(void **state)
{
    (void)state;
    const char *dir = tt_dir;
    const char *path = tt_path(dir, "strcap.gz");
    struct gp_trace_header hdr = tt_header();
    const struct gp_trace_writer_limits lim = {.max_strings = 1};
    struct gp_trace_writer *w;
    struct tt_trace t;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, &lim), 0);
    assert_int_equal(gp_trace_writer_module(w, "/lib/a.so", 1, 2, 3), 0);
    assert_int_equal(gp_trace_writer_module(w, "/lib/b.so", 4, 5, 6), 0);
    assert_int_equal(gp_trace_writer_module(w, "/lib/a.so", 7, 8, 9), 0);
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);

    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    assert_int_equal(t.n, 5); /* STRING, MODULE, MODULE, MODULE, END */
    assert_int_equal(t.recs[0].type, GP_REC_STRING);
    assert_string_equal(gp_trace_reader_string(t.r, 1), "/lib/a.so");
    assert_int_equal(t.recs[1].path, 1);
    assert_int_equal(t.recs[2].type, GP_REC_MODULE);
    assert_int_equal(t.recs[2].path, 0); /* past the cap: module kept, path unknown */
    assert_true(t.recs[2].load_bias == 4 && t.recs[2].start == 5 && t.recs[2].end == 6);
    assert_int_equal(t.recs[3].path, 1);
    assert_int_equal(t.recs[3].id, 3);
    assert_null(gp_trace_reader_string(t.r, 2));
    tt_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strtab),
        cmocka_unit_test(test_stacktab),
        cmocka_unit_test(test_stack_cache),
        cmocka_unit_test(test_writer_interning),
        cmocka_unit_test(test_writer_node_cap),
        cmocka_unit_test(test_writer_string_cap),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
