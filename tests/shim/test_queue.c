/* test_queue.c — the event queue: claim order, drops when full, many producers. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"

static void test_order_and_drops(void **state)
{
    (void)state;
    struct gp_queue *q;
    assert_int_equal(gp_queue_init(&q, 16 * gp_event_size(4) + 4096, 4), 0);
    unsigned cap = gp_queue_capacity(q);
    assert_true(cap >= 16);
    assert_int_equal(gp_queue_depth(q), 4);
    assert_null(gp_queue_peek(q));
    /* claimed out of order, published out of order: consumed in claim order */
    struct gp_event *a = gp_queue_claim(q), *b = gp_queue_claim(q);
    assert_non_null(a);
    assert_non_null(b);
    a->size = 1;
    b->size = 2;
    gp_queue_publish(q, b);
    assert_null(gp_queue_peek(q)); /* a is claimed but not published yet */
    assert_true(gp_queue_pending(q));
    gp_queue_publish(q, a);
    assert_int_equal(gp_queue_peek(q)->size, 1);
    gp_queue_release(q);
    assert_int_equal(gp_queue_peek(q)->size, 2);
    gp_queue_release(q);
    assert_false(gp_queue_pending(q));
    /* fill it: the next claim fails at once, never blocks; drops are counted by the caller */
    for (unsigned i = 0; i < cap; i++) {
        struct gp_event *e = gp_queue_claim(q);
        assert_non_null(e);
        e->ptr = i;
        /* publish says "wake the writer" exactly once the ring is more than half full */
        assert_int_equal(gp_queue_publish(q, e), i + 1 > cap / 2);
    }
    assert_true(gp_queue_half_full(q));
    assert_null(gp_queue_claim(q));
    assert_null(gp_queue_claim(q));
    assert_int_equal(gp_queue_take_dropped(q), 0);
    gp_queue_count_drop(q);
    gp_queue_count_drop(q);
    assert_int_equal(gp_queue_take_dropped(q), 2);
    assert_int_equal(gp_queue_consumed(q), 2);
    assert_int_equal(gp_queue_take_dropped(q), 0);
    for (unsigned i = 0; i < cap; i++) {
        struct gp_event *e = gp_queue_peek(q);
        assert_non_null(e);
        assert_int_equal(e->ptr, i);
        gp_queue_release(q);
    }
    assert_null(gp_queue_peek(q));
    gp_queue_reset(q);
    assert_false(gp_queue_pending(q));
}

#define PRODUCERS 4
#define PER_PRODUCER 200000

static struct gp_queue *gq;

static void *producer(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    for (uint64_t i = 0; i < PER_PRODUCER; i++) {
        struct gp_event *e;
        while ((e = gp_queue_claim(gq)) == NULL)
            ; /* the test wants no drops: retry (the shim itself never does) */
        e->tid = (uint32_t)id;
        e->size = i;
        gp_queue_publish(gq, e);
    }
    return NULL;
}

static void test_many_producers(void **state)
{
    (void)state;
    assert_int_equal(gp_queue_init(&gq, 64 * 1024, 2), 0);
    (void)gp_queue_take_dropped(gq);
    pthread_t t[PRODUCERS];
    for (uintptr_t i = 0; i < PRODUCERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, producer, (void *)i), 0);
    uint64_t next[PRODUCERS] = {0}, total = 0;
    while (total < (uint64_t)PRODUCERS * PER_PRODUCER) {
        struct gp_event *e = gp_queue_peek(gq);
        if (e == NULL)
            continue;
        assert_true(e->tid < PRODUCERS);
        /* each producer's events arrive complete and in its own order */
        assert_int_equal(e->size, next[e->tid]);
        next[e->tid]++;
        gp_queue_release(gq);
        total++;
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    assert_null(gp_queue_peek(gq));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_drops),
        cmocka_unit_test(test_many_producers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
