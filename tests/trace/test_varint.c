/* test_varint.c — LEB128 varints and zigzag: exact encodings of edge values, round trips,
 * and rejection of malformed input (too long, bits past 64, cut short). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "varint.h"

static void check_encoding(uint64_t v, const uint8_t *want, size_t want_len)
{
    uint8_t buf[GP_TRACE_VARINT_MAX + 1];
    uint8_t *end = gp_trace_put_varint(buf, v);
    assert_int_equal(end - buf, want_len);
    assert_memory_equal(buf, want, want_len);
    assert_int_equal(gp_trace_varint_len(v), want_len);

    const uint8_t *p = buf;
    uint64_t got = 0;
    assert_int_equal(gp_trace_get_varint(&p, end, &got), 1);
    assert_true(p == end);
    assert_true(got == v);
}

static void test_edge_encodings(void **state)
{
    (void)state;
    check_encoding(0, (const uint8_t[]){0x00}, 1);
    check_encoding(1, (const uint8_t[]){0x01}, 1);
    check_encoding(127, (const uint8_t[]){0x7f}, 1);
    check_encoding(128, (const uint8_t[]){0x80, 0x01}, 2);
    check_encoding(300, (const uint8_t[]){0xac, 0x02}, 2);
    check_encoding(16383, (const uint8_t[]){0xff, 0x7f}, 2);
    check_encoding(16384, (const uint8_t[]){0x80, 0x80, 0x01}, 3);
    check_encoding(UINT32_MAX, (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x0f}, 5);
    check_encoding(1ull << 63,
                   (const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
                   10);
    check_encoding(UINT64_MAX,
                   (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
                   10);
}

static void test_zigzag(void **state)
{
    (void)state;
    assert_true(gp_trace_zigzag(0) == 0);
    assert_true(gp_trace_zigzag(-1) == 1);
    assert_true(gp_trace_zigzag(1) == 2);
    assert_true(gp_trace_zigzag(-2) == 3);
    assert_true(gp_trace_zigzag(-64) == 127);
    assert_true(gp_trace_zigzag(64) == 128);
    assert_true(gp_trace_zigzag(INT64_MAX) == UINT64_MAX - 1);
    assert_true(gp_trace_zigzag(INT64_MIN) == UINT64_MAX);
    const int64_t values[] = {0, 1, -1, 63, -64, 64, -65, INT32_MAX, INT32_MIN,
                              INT64_MAX, INT64_MIN, INT64_MIN + 1, -1234567890123ll};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        assert_true(gp_trace_unzigzag(gp_trace_zigzag(values[i])) == values[i]);
    /* Small negative deltas stay one byte. */
    uint8_t buf[GP_TRACE_VARINT_MAX];
    assert_int_equal(gp_trace_put_varint(buf, gp_trace_zigzag(-64)) - buf, 1);
    assert_int_equal(gp_trace_put_varint(buf, gp_trace_zigzag(-65)) - buf, 2);
}

static void test_round_trip_sequence(void **state)
{
    (void)state;
    uint8_t buf[64 * GP_TRACE_VARINT_MAX];
    uint8_t *p = buf;
    uint64_t values[64];
    for (int i = 0; i < 64; i++) {
        values[i] = (i & 1) ? (1ull << i) - 1 : (1ull << i);
        p = gp_trace_put_varint(p, values[i]);
    }
    const uint8_t *q = buf;
    for (int i = 0; i < 64; i++) {
        uint64_t v;
        assert_int_equal(gp_trace_get_varint(&q, p, &v), 1);
        assert_true(v == values[i]);
    }
    assert_true(q == p);
}

static void test_malformed(void **state)
{
    (void)state;
    uint64_t v = 42;
    const uint8_t *p;

    /* Eleven bytes: the tenth still has its continuation bit. */
    static const uint8_t too_long[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                         0x80, 0x80, 0x80, 0x80, 0x01};
    p = too_long;
    assert_int_equal(gp_trace_get_varint(&p, too_long + sizeof(too_long), &v), -1);
    assert_true(p == too_long);
    assert_true(v == 42);

    /* Ten bytes but the last carries bits beyond 64. */
    static const uint8_t overflow[10] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0x02};
    p = overflow;
    assert_int_equal(gp_trace_get_varint(&p, overflow + sizeof(overflow), &v), -1);

    /* Cut short: the caller decides whether that is truncation or a short payload. */
    static const uint8_t cut[3] = {0x80, 0x80, 0x80};
    for (size_t n = 0; n <= sizeof(cut); n++) {
        p = cut;
        assert_int_equal(gp_trace_get_varint(&p, cut + n, &v), 0);
        assert_true(p == cut);
    }
    static const uint8_t cut9[9] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    p = cut9;
    assert_int_equal(gp_trace_get_varint(&p, cut9 + sizeof(cut9), &v), 0);

    /* Overlong but in range: accepted, value 0. */
    static const uint8_t overlong[2] = {0x80, 0x00};
    p = overlong;
    assert_int_equal(gp_trace_get_varint(&p, overlong + 2, &v), 1);
    assert_true(v == 0);
    assert_true(p == overlong + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_encodings),
        cmocka_unit_test(test_zigzag),
        cmocka_unit_test(test_round_trip_sequence),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
