/* test_dnn_libcall.c — the LIBCALL fields cuDNN calls added (docs/trace-format.md §3.5.1:
 * bit 19 conv shape, bit 20 workspace, bit 21 numerical notes) through writer and reader:
 * 2-D and 3-D shapes with extreme values round trip, a GEMM record still reads them as
 * absent, an impossible spatial count is not written, and the cuDNN API names are right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "trace_test_util.h"

static struct gp_event *libcall(uint8_t api, uint64_t t)
{
    struct gp_event *e = tt_event(2);
    e->type = GP_REC_LIBCALL;
    e->api = api;
    e->time_ns = t;
    e->tid = 9;
    e->lib.compute = GP_LIB_UNKNOWN;
    e->lib.algo = GP_LIB_UNKNOWN;
    return e;
}

static void test_conv_round_trip(void **state)
{
    (void)state;
    struct gp_event *c2 = libcall(GP_LIB_CONV_FWD, 1000), *c3 = libcall(GP_LIB_CONV_BWD_FILTER, 2000),
                    *ex = libcall(GP_LIB_DNN_EXECUTE, 3000), *g = libcall(GP_LIB_SGEMM, 4000),
                    *bad = libcall(GP_LIB_CONV_BWD_DATA, 5000);
    c2->kind = 1;
    c2->size = 25088, c2->aux1 = 128, c2->aux2 = 576;
    c2->lib.batch = 1, c2->lib.type_a = 3, c2->lib.compute = 0, c2->lib.algo = 1;
    c2->lib.workspace = 1ull << 40;
    c2->lib.conv = (struct gp_libconv){.nspatial = 2, .n = 8, .c = 64, .k = 128,
                                       .in = {56, 57}, .filt = {3, 5}, .out = {56, 55},
                                       .pads = {1, 0}, .strides = {1, 0xffff},
                                       .dilations = {0xffff, 1}};
    c3->lib.conv = (struct gp_libconv){.nspatial = 3, .n = UINT32_MAX, .c = 1, .k = 2,
                                       .in = {8, 16, 32}, .filt = {1, 2, 3}, .out = {4, 5, 6},
                                       .pads = {7, 8, 9}, .strides = {10, 11, 12},
                                       .dilations = {13, 14, 15}};
    ex->kind = 0xff;
    ex->lib.algo = 7;
    ex->lib.workspace = 32768;
    ex->lib.notes = GP_LIB_NOTES_KNOWN | 3;
    g->lib.batch = 1;
    bad->lib.conv.nspatial = 4; /* not a shape: left out */
    bad->lib.notes = GP_LIB_NOTES_KNOWN;
    struct gp_event *evs[] = {c2, c3, ex, g, bad};
    const char *path = tt_path(tt_dir, "conv.gz");
    tt_write_events(path, evs, 5);

    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    const struct gp_record *rs[5] = {NULL};
    size_t n = 0;
    for (size_t i = 0; i < t.n && n < 5; i++)
        if (t.recs[i].type == GP_REC_LIBCALL)
            rs[n++] = &t.recs[i];
    assert_int_equal(n, 5);

    const struct gp_libcall *lc = &rs[0]->lib;
    assert_int_equal(rs[0]->api, GP_LIB_CONV_FWD);
    assert_int_equal(rs[0]->kind, 1);
    assert_int_equal(rs[0]->size, 25088);
    assert_int_equal(rs[0]->aux1, 128);
    assert_int_equal(rs[0]->aux2, 576);
    assert_int_equal(lc->compute, 0);
    assert_int_equal(lc->algo, 1);
    assert_true(lc->workspace == 1ull << 40);
    assert_int_equal(lc->notes, 0);
    assert_int_equal(lc->conv.nspatial, 2);
    assert_int_equal(lc->conv.n, 8);
    assert_int_equal(lc->conv.c, 64);
    assert_int_equal(lc->conv.k, 128);
    assert_int_equal(lc->conv.in[0], 56);
    assert_int_equal(lc->conv.in[1], 57);
    assert_int_equal(lc->conv.in[2], 0);
    assert_int_equal(lc->conv.filt[1], 5);
    assert_int_equal(lc->conv.out[1], 55);
    assert_int_equal(lc->conv.pads[0], 1);
    assert_int_equal(lc->conv.strides[1], 0xffff);
    assert_int_equal(lc->conv.dilations[0], 0xffff);
    assert_int_equal(lc->conv.dilations[1], 1);

    const struct gp_libconv *cv = &rs[1]->lib.conv;
    assert_int_equal(cv->nspatial, 3);
    assert_true(cv->n == UINT32_MAX);
    for (unsigned d = 0; d < 3; d++) {
        assert_int_equal(cv->in[d], 8u << d);
        assert_int_equal(cv->filt[d], d + 1);
        assert_int_equal(cv->out[d], d + 4);
        assert_int_equal(cv->pads[d], d + 7);
        assert_int_equal(cv->strides[d], d + 10);
        assert_int_equal(cv->dilations[d], d + 13);
    }
    assert_int_equal(rs[1]->lib.workspace, 0);

    assert_int_equal(rs[2]->api, GP_LIB_DNN_EXECUTE);
    assert_int_equal(rs[2]->lib.algo, 7);
    assert_int_equal(rs[2]->lib.workspace, 32768);
    assert_int_equal(rs[2]->lib.notes, GP_LIB_NOTES_KNOWN | 3);
    assert_int_equal(rs[2]->lib.conv.nspatial, 0);
    assert_int_equal(rs[2]->lib.compute, GP_LIB_UNKNOWN);

    assert_int_equal(rs[3]->api, GP_LIB_SGEMM);
    assert_int_equal(rs[3]->lib.batch, 1);
    assert_int_equal(rs[3]->lib.conv.nspatial, 0);
    assert_int_equal(rs[3]->lib.workspace, 0);
    assert_int_equal(rs[3]->lib.notes, 0);

    assert_int_equal(rs[4]->lib.conv.nspatial, 0);
    assert_int_equal(rs[4]->lib.notes, GP_LIB_NOTES_KNOWN);
    tt_trace_free(&t);
    free(c2), free(c3), free(ex), free(g), free(bad);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(gp_trace_lib_api_name(GP_LIB_CONV_FWD), "cudnnConvolutionForward");
    assert_string_equal(gp_trace_lib_api_name(GP_LIB_CONV_BWD_DATA), "cudnnConvolutionBackwardData");
    assert_string_equal(gp_trace_lib_api_name(GP_LIB_CONV_BWD_FILTER),
                        "cudnnConvolutionBackwardFilter");
    assert_string_equal(gp_trace_lib_api_name(GP_LIB_DNN_EXECUTE), "cudnnBackendExecute");
    assert_int_equal(GP_LIB_CONV_FWD, 16);
    assert_int_equal(GP_LIB_DNN_EXECUTE, 19);
    assert_string_equal(gp_trace_lib_api_name(20), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_round_trip),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
