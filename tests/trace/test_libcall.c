/* test_libcall.c — LIBCALL records (math-library calls) through writer and reader: every
 * field of struct gp_libcall round trips, absent compute/algo read back as GP_LIB_UNKNOWN,
 * extreme values survive, the API names are the entry points', and a LIBCALL does not
 * disturb the ALLOC/FREE events around it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "trace_test_util.h"

static struct gp_event *libcall(uint8_t api, uint64_t t)
{
    struct gp_event *e = tt_event(4);
    e->type = GP_REC_LIBCALL;
    e->api = api;
    e->time_ns = t;
    e->tid = 7;
    e->device = -1;
    e->lib.compute = GP_LIB_UNKNOWN;
    e->lib.algo = GP_LIB_UNKNOWN;
    return e;
}

static void test_fields_round_trip(void **state)
{
    (void)state;
    struct gp_event *a = tt_event(4), *g = libcall(GP_LIB_GEMM_EX_64, 2000),
                    *lt = libcall(GP_LIB_LT_MATMUL, 3000), *f = tt_event(4);
    a->type = GP_REC_ALLOC;
    a->api = GP_API_CUDA_MALLOC;
    a->time_ns = 1500;
    a->size = 4096;
    a->ptr = 0x7000000;
    g->kind = 3; /* CUBLAS_TF32_TENSOR_OP_MATH */
    g->result = 13;
    g->size = UINT64_MAX;
    g->aux1 = 1;
    g->aux2 = 1ull << 40;
    g->stream = 0x5000;
    g->nframes = 2;
    g->ips[0] = 0x401000;
    g->ips[1] = 0x402000;
    g->lib = (struct gp_libcall){.batch = 3, .lda = 1002, .ldb = 64, .ldc = UINT64_MAX,
                                 .dur_ns = 12345, .compute = 77, .algo = -1, .trans_a = 1,
                                 .trans_b = 2, .type_a = 3, .type_b = 15, .type_c = 1,
                                 .workspace = 1 << 20, .notes = GP_LIB_NOTES_KNOWN | 0x202,
                                 .ext_id = 1ull << 33, .type_d = 29, .scale = 1};
    lt->kind = 0xff;
    lt->stream = 0x6000;
    f->type = GP_REC_FREE;
    f->api = GP_API_CUDA_FREE;
    f->time_ns = 4000;
    f->ptr = 0x7000000;
    struct gp_event *evs[] = {a, g, lt, f};
    const char *path = tt_path(tt_dir, "libcall.gz");
    tt_write_events(path, evs, 4);

    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    const struct gp_record *rs[4];
    size_t n = 0;
    for (size_t i = 0; i < t.n; i++)
        if (t.recs[i].type == GP_REC_ALLOC || t.recs[i].type == GP_REC_FREE ||
            t.recs[i].type == GP_REC_LIBCALL)
            rs[n++] = &t.recs[i];
    assert_int_equal(n, 4);
    assert_int_equal(rs[0]->type, GP_REC_ALLOC);
    assert_int_equal(rs[0]->ptr, 0x7000000);

    const struct gp_record *r = rs[1];
    assert_int_equal(r->type, GP_REC_LIBCALL);
    assert_int_equal(r->api, GP_LIB_GEMM_EX_64);
    assert_int_equal(r->kind, 3);
    assert_int_equal(r->result, 13);
    assert_int_equal(r->time_ns, 2000);
    assert_int_equal(r->tid, 7);
    assert_int_equal(r->device, -1);
    assert_true(r->size == UINT64_MAX);
    assert_int_equal(r->aux1, 1);
    assert_true(r->aux2 == 1ull << 40);
    assert_int_equal(r->stream, 0x5000);
    assert_int_equal(r->lib.batch, 3);
    assert_int_equal(r->lib.lda, 1002);
    assert_int_equal(r->lib.ldb, 64);
    assert_true(r->lib.ldc == UINT64_MAX);
    assert_int_equal(r->lib.dur_ns, 12345);
    assert_int_equal(r->lib.compute, 77);
    assert_int_equal(r->lib.algo, -1);
    assert_int_equal(r->lib.trans_a, 1);
    assert_int_equal(r->lib.trans_b, 2);
    assert_int_equal(r->lib.type_a, 3);
    assert_int_equal(r->lib.type_b, 15);
    assert_int_equal(r->lib.type_c, 1);
    assert_int_equal(r->lib.workspace, 1 << 20);
    assert_int_equal(r->lib.notes, GP_LIB_NOTES_KNOWN | 0x202);
    assert_true(r->lib.ext_id == 1ull << 33);
    assert_int_equal(r->lib.type_d, 29);
    assert_int_equal(r->lib.scale, 1);
    uint64_t ips[4];
    assert_int_equal(tt_stack(t.r, r->stack, ips, 4), 2);
    assert_int_equal(ips[0], 0x401000);
    assert_int_equal(ips[1], 0x402000);

    r = rs[2];
    assert_int_equal(r->api, GP_LIB_LT_MATMUL);
    assert_int_equal(r->kind, 0xff);
    assert_int_equal(r->size, 0);
    assert_int_equal(r->lib.batch, 0);
    assert_int_equal(r->lib.type_a, 0);
    assert_int_equal(r->lib.compute, GP_LIB_UNKNOWN);
    assert_int_equal(r->lib.algo, GP_LIB_UNKNOWN);
    assert_int_equal(r->lib.notes, 0);
    assert_int_equal(r->lib.ext_id, 0);
    assert_int_equal(r->lib.type_d, 0);
    assert_int_equal(r->lib.scale, 0);
    assert_int_equal(r->stream, 0x6000);

    assert_int_equal(rs[3]->type, GP_REC_FREE);
    assert_int_equal(rs[3]->ptr, 0x7000000);
    assert_int_equal(rs[3]->time_ns, 4000);
    tt_trace_free(&t);
    free(a), free(g), free(lt), free(f);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(gp_trace_lib_api_name(GP_LIB_SGEMM), "cublasSgemm_v2");
    assert_string_equal(gp_trace_lib_api_name(GP_LIB_GEMM_SB_EX_64), "cublasGemmStridedBatchedEx_64");
    assert_string_equal(gp_trace_lib_api_name(GP_LIB_LT_MATMUL), "cublasLtMatmul");
    assert_string_equal(gp_trace_lib_api_name(0), "?");
    assert_string_equal(gp_trace_lib_api_name(GP_LIB_API_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_round_trip),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
