/* test_py_lines.c — the three line-table decoders of shim/stack_python_lines.c on tables
 * built by hand after each version's rules, edge cases included: addresses before the
 * first and past the last instruction, "no line" ranges, zero-length entries, negative
 * and multi-byte line deltas, and tables cut in the middle of an entry. (The e2e test
 * checks them against real interpreters.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stack_python.h"

static void test_lnotab(void **state) /* 3.9: (address +, line +) pairs */
{
    (void)state;
    static const uint8_t t[] = {0, 1, 6, 1, 8, 2, 2, 0xfd};
    const size_t n = sizeof t;
    assert_int_equal(gp_py_line_lnotab(t, n, 10, -1), 10);
    assert_int_equal(gp_py_line_lnotab(t, n, 10, 0), 11);
    assert_int_equal(gp_py_line_lnotab(t, n, 10, 5), 11);
    assert_int_equal(gp_py_line_lnotab(t, n, 10, 6), 12);
    assert_int_equal(gp_py_line_lnotab(t, n, 10, 13), 12);
    assert_int_equal(gp_py_line_lnotab(t, n, 10, 14), 14);
    assert_int_equal(gp_py_line_lnotab(t, n, 10, 15), 14);
    assert_int_equal(gp_py_line_lnotab(t, n, 10, 16), 11);
    assert_int_equal(gp_py_line_lnotab(t, n, 10, 1000), 11);
    assert_int_equal(gp_py_line_lnotab(t, 5, 10, 1000), 12); /* a cut pair is ignored */
    assert_int_equal(gp_py_line_lnotab(t, 0, 10, 4), 10);
}

static void test_linetable(void **state) /* 3.10: (length, line +) pairs, -128 = none */
{
    (void)state;
    static const uint8_t t[] = {6, 1, 4, 0x80, 0, 2, 8, 0xff};
    const size_t n = sizeof t;
    assert_int_equal(gp_py_line_linetable(t, n, 10, -2), 10);
    assert_int_equal(gp_py_line_linetable(t, n, 10, 0), 11);
    assert_int_equal(gp_py_line_linetable(t, n, 10, 5), 11);
    assert_int_equal(gp_py_line_linetable(t, n, 10, 6), -1);
    assert_int_equal(gp_py_line_linetable(t, n, 10, 9), -1);
    assert_int_equal(gp_py_line_linetable(t, n, 10, 10), 12); /* 11, none, +2 (empty), -1 */
    assert_int_equal(gp_py_line_linetable(t, n, 10, 17), 12);
    assert_int_equal(gp_py_line_linetable(t, n, 10, 18), -1);
    assert_int_equal(gp_py_line_linetable(t, 7, 10, 12), -1);
}

static void test_locations(void **state) /* 3.11+: the location table */
{
    (void)state;
    static const uint8_t t[] = {
        0xea, 0x04,                   /* 13 no columns, 3 units, line +2: [0,6) 12 */
        0xd0, 0x05, 0x09,             /* 10 one line +0, 1 unit: [6,8) 12 */
        0xe1, 0x01, 0x02,             /* 12 one line +2, 2 units: [8,12) 14 */
        0xf8,                         /* 15 no location, 1 unit: [12,14) none */
        0xf0, 0x07, 0x00, 0x01, 0x05, /* 14 long, line -3: [14,16) 11 */
        0x9f, 0x04,                   /* 3 short form, 8 units: [16,32) 11 */
        0xe8, 0x48, 0x03,             /* 13, line +100 (two varint bytes): [32,34) 111 */
    };
    const size_t n = sizeof t;
    assert_int_equal(gp_py_line_locations(t, n, 10, -1), 10);
    assert_int_equal(gp_py_line_locations(t, n, 10, 0), 12);
    assert_int_equal(gp_py_line_locations(t, n, 10, 5), 12);
    assert_int_equal(gp_py_line_locations(t, n, 10, 6), 12);
    assert_int_equal(gp_py_line_locations(t, n, 10, 8), 14);
    assert_int_equal(gp_py_line_locations(t, n, 10, 11), 14);
    assert_int_equal(gp_py_line_locations(t, n, 10, 12), -1);
    assert_int_equal(gp_py_line_locations(t, n, 10, 14), 11);
    assert_int_equal(gp_py_line_locations(t, n, 10, 16), 11);
    assert_int_equal(gp_py_line_locations(t, n, 10, 31), 11);
    assert_int_equal(gp_py_line_locations(t, n, 10, 32), 111);
    assert_int_equal(gp_py_line_locations(t, n, 10, 34), -1);
    /* Cut inside the last entry's varint: decoded as far as it goes, nothing read past. */
    assert_int_equal(gp_py_line_locations(t, n - 1, 10, 32), 15); /* +4 from the first byte */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lnotab),
        cmocka_unit_test(test_linetable),
        cmocka_unit_test(test_locations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
