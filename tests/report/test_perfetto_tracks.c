/* test_perfetto_tracks.c — the nesting tracks of the Perfetto view (report/perfetto_tracks.c):
 * spans that nest share a track, one that overlaps without nesting takes "#2", a span that
 * arrives out of start order only lands where it still nests, NVTX ranges have their own
 * lane, and the bounds (tracks per stream, depth) refuse rather than grow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "perfetto_tracks.h"

static uint32_t place(struct gp_report_pf_tracks *t, int nvtx, uint32_t stream, uint64_t s,
                      uint64_t e)
{
    uint32_t k = UINT32_MAX;
    assert_int_equal(gp_report_pf_tracks_place(t, nvtx, 0, stream, s, e, &k), 0);
    return k;
}

static void test_nesting(void **state)
{
    (void)state;
    struct gp_report_pf_tracks t = {0};
    char name[64];
    assert_int_equal(place(&t, 0, 7, 100, 200), 0);
    assert_int_equal(place(&t, 0, 7, 120, 150), 0); /* inside: same track */
    assert_int_equal(place(&t, 0, 7, 150, 250), 1); /* crosses 200: a second track */
    assert_int_equal(place(&t, 0, 7, 300, 400), 0); /* after everything: back to the first */
    assert_int_equal(place(&t, 0, 9, 100, 200), 2); /* another stream */
    assert_int_equal(place(&t, 1, 0, 50, 500), 3);  /* NVTX */
    /* late: it starts before the last start of both stream-7 tracks (300 and 150), so it
     * cannot be put in order on either: a third track */
    assert_int_equal(place(&t, 0, 7, 140, 145), 4);
    gp_report_pf_track_name(&t, 1, name, sizeof(name));
    assert_string_equal(name, "GPU 0 stream 7 #2");
    gp_report_pf_track_name(&t, 4, name, sizeof(name));
    assert_string_equal(name, "GPU 0 stream 7 #3");
    gp_report_pf_track_name(&t, 2, name, sizeof(name));
    assert_string_equal(name, "GPU 0 stream 9");
    gp_report_pf_track_name(&t, 3, name, sizeof(name));
    assert_string_equal(name, "NVTX");
    assert_int_equal(gp_report_pf_track_order(&t, 3), 100);
    assert_int_equal(gp_report_pf_track_order(&t, 0), 1000);
    assert_int_equal(gp_report_pf_track_order(&t, 4), 1002);
    assert_int_equal(gp_report_pf_track_order(&t, 2), 1100);
    gp_report_pf_tracks_fini(&t);
}

static void test_bounds(void **state)
{
    (void)state;
    struct gp_report_pf_tracks t = {0};
    uint32_t k;
    /* GP_REPORT_PF_MAX_SUB spans all crossing each other: one track each, then refused */
    for (uint64_t i = 0; i < GP_REPORT_PF_MAX_SUB; i++)
        assert_int_equal(place(&t, 0, 7, 100 + i, 1000 + i), i);
    assert_int_equal(gp_report_pf_tracks_place(&t, 0, 0, 7, 100 + GP_REPORT_PF_MAX_SUB,
                                               2000, &k), -ENOSPC);
    gp_report_pf_tracks_fini(&t);
    /* nesting deeper than GP_REPORT_PF_MAX_DEPTH moves to the next track */
    memset(&t, 0, sizeof(t));
    for (uint64_t i = 0; i < GP_REPORT_PF_MAX_DEPTH; i++)
        assert_int_equal(place(&t, 0, 7, i, 10000 - i), 0);
    assert_int_equal(place(&t, 0, 7, 100, 200), 1);
    gp_report_pf_tracks_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
