/* test_convert.c — CUPTI's record structs (from the toolkit's cupti_activity.h) through the
 * adapter's conversion (cupti/convert.c), the trace writer and the reader: every field that
 * lands in the trace is checked against the struct it came from, times moved onto the trace
 * clock. Records of the CUDA 12 struct versions (Kernel9, Memcpy5, ...) convert like the 13
 * ones, and kinds the adapter does not record are refused. */
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

#include "cupti_int.h" /* cupti.h first: the deprecated structs use its types */
#include "trace_test_util.h"
#include <cupti_activity_deprecated.h>

#define OFFSET (-1000000000000ll) /* CUPTI's clock runs 1000 s ahead of the trace's */
#define T(x) ((uint64_t)(5000000000000ll + (x)))
#define SHIFTED(x) ((uint64_t)(5000000000000ll + (x) + OFFSET))

static CUpti_ActivityKernel10 kernel10(void)
{
    CUpti_ActivityKernel10 k;
    memset(&k, 0, sizeof(k));
    k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
    k.start = T(1000);
    k.end = T(1000 + 123456);
    k.deviceId = 1;
    k.contextId = 5;
    k.streamId = 13;
    k.correlationId = 777;
    k.gridX = 64;
    k.gridY = 32;
    k.gridZ = 2;
    k.blockX = 256;
    k.blockY = 2;
    k.blockZ = 1;
    k.registersPerThread = 96;
    k.staticSharedMemory = 8192;
    k.dynamicSharedMemory = 4096;
    k.launchType = 1;
    k.graphId = 9;
    k.graphNodeId = 0x1234567890ull;
    k.name = "_Z4gemmILi128EEvPKfS1_Pfiii";
    return k;
}

/* Converts rec and writes it, then reads the one activity back. */
static struct gp_activity through_trace(const CUpti_Activity *rec)
{
    static struct gp_activity got;
    static char name[256];
    const char *path = tt_path(tt_dir, "conv.gz");
    struct gp_trace_header hdr = tt_header();
    struct gp_trace_writer *w;
    struct gp_activity a;
    assert_int_equal(gp_cupti_convert(rec, OFFSET, &a), 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(gp_trace_writer_open(&w, fd, &hdr, NULL), 0);
    assert_int_equal(gp_trace_writer_activity(w, &a), 0);
    assert_int_equal(gp_trace_writer_close(w), 0);
    close(fd);
    struct tt_trace t;
    tt_read_all(path, &t);
    assert_int_equal(t.rc, 0);
    const struct gp_activity *r = gp_trace_reader_activity(t.r);
    assert_non_null(r);
    got = *r;
    name[0] = '\0';
    if (r->name)
        snprintf(name, sizeof(name), "%s", r->name);
    got.name = r->name ? name : NULL;
    tt_trace_free(&t);
    return got;
}

static void check_kernel(const struct gp_activity *a)
{
    assert_int_equal(a->type, GP_REC_KERNEL);
    assert_int_equal(a->kind, 1);
    assert_int_equal(a->start_ns, SHIFTED(1000));
    assert_int_equal(a->end_ns, SHIFTED(1000 + 123456));
    assert_int_equal(a->device, 1);
    assert_int_equal(a->context, 5);
    assert_int_equal(a->stream, 13);
    assert_int_equal(a->correlation, 777);
    assert_string_equal(a->name, "_Z4gemmILi128EEvPKfS1_Pfiii");
    assert_int_equal(a->grid[0], 64);
    assert_int_equal(a->grid[1], 32);
    assert_int_equal(a->grid[2], 2);
    assert_int_equal(a->block[0], 256);
    assert_int_equal(a->block[1], 2);
    assert_int_equal(a->block[2], 1);
    assert_int_equal(a->registers, 96);
    assert_int_equal(a->static_smem, 8192);
    assert_int_equal(a->dynamic_smem, 4096);
    assert_int_equal(a->graph_id, 9);
    assert_int_equal(a->graph_node, 0x1234567890ull);
    assert_int_equal(a->bytes, 0);
    assert_int_equal(a->address, 0);
    assert_int_equal(a->value, 0);
    assert_int_equal(a->aux, 0);
}

static void test_kernel(void **state)
{
    (void)state;
    CUpti_ActivityKernel10 k = kernel10();
    struct gp_activity a = through_trace((const CUpti_Activity *)&k);
    check_kernel(&a);
}

/* libcupti.so.12 hands out Kernel9: the same fields at the same places. */
static void test_kernel9(void **state)
{
    (void)state;
    CUpti_ActivityKernel10 k10 = kernel10();
    CUpti_ActivityKernel9 k;
    memcpy(&k, &k10, sizeof(k));
    struct gp_activity a = through_trace((const CUpti_Activity *)&k);
    check_kernel(&a);
}

/* No timing (CUPTI lacked device memory): 0 stays 0, not 0 + offset. */
static void test_kernel_untimed(void **state)
{
    (void)state;
    CUpti_ActivityKernel10 k = kernel10();
    k.start = k.end = 0;
    struct gp_activity a;
    assert_int_equal(gp_cupti_convert((const CUpti_Activity *)&k, OFFSET, &a), 1);
    assert_int_equal(a.start_ns, 0);
    assert_int_equal(a.end_ns, 0);
    k.start = T(5);
    k.end = 0;
    assert_int_equal(gp_cupti_convert((const CUpti_Activity *)&k, OFFSET, &a), 1);
    assert_int_equal(a.start_ns, SHIFTED(5));
    assert_int_equal(a.end_ns, SHIFTED(5));
}

static void test_memcpy(void **state)
{
    (void)state;
    CUpti_ActivityMemcpy6 m;
    memset(&m, 0, sizeof(m));
    m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
    m.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_HTOD;
    m.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_PINNED;
    m.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    m.flags = CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC;
    m.bytes = 1ull << 33;
    m.start = T(10);
    m.end = T(10 + 999);
    m.deviceId = 2;
    m.contextId = 3;
    m.streamId = 14;
    m.correlationId = 4000000000u;
    m.graphId = 4;
    m.graphNodeId = 5;
    m.copyCount = 7; /* a 13.x field: not read */
    struct gp_activity a = through_trace((const CUpti_Activity *)&m);
    assert_int_equal(a.type, GP_REC_MEMCPY);
    assert_int_equal(a.kind, CUPTI_ACTIVITY_MEMCPY_KIND_HTOD);
    assert_int_equal(a.aux, CUPTI_ACTIVITY_MEMORY_KIND_PINNED |
                                CUPTI_ACTIVITY_MEMORY_KIND_DEVICE << 8 |
                                CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC << 16);
    assert_int_equal(a.bytes, 1ull << 33);
    assert_int_equal(a.start_ns, SHIFTED(10));
    assert_int_equal(a.end_ns, SHIFTED(10 + 999));
    assert_int_equal(a.device, 2);
    assert_int_equal(a.context, 3);
    assert_int_equal(a.stream, 14);
    assert_int_equal(a.correlation, 4000000000u);
    assert_int_equal(a.graph_id, 4);
    assert_int_equal(a.graph_node, 5);
    assert_null(a.name);
}

static void test_memset(void **state)
{
    (void)state;
    CUpti_ActivityMemset4 m;
    memset(&m, 0, sizeof(m));
    m.kind = CUPTI_ACTIVITY_KIND_MEMSET;
    m.value = 0xdeadbeef;
    m.bytes = 65536;
    m.start = T(100);
    m.end = T(180);
    m.deviceId = 0;
    m.contextId = 1;
    m.streamId = 7;
    m.correlationId = 12;
    m.flags = CUPTI_ACTIVITY_FLAG_MEMSET_ASYNC;
    m.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_MANAGED;
    m.graphId = 1;
    m.graphNodeId = 2;
    struct gp_activity a = through_trace((const CUpti_Activity *)&m);
    assert_int_equal(a.type, GP_REC_MEMSET);
    assert_int_equal(a.kind, CUPTI_ACTIVITY_MEMORY_KIND_MANAGED);
    assert_int_equal(a.aux, CUPTI_ACTIVITY_FLAG_MEMSET_ASYNC);
    assert_int_equal(a.value, 0xdeadbeef);
    assert_int_equal(a.bytes, 65536);
    assert_int_equal(a.start_ns, SHIFTED(100));
    assert_int_equal(a.end_ns, SHIFTED(180));
    assert_int_equal(a.context, 1);
    assert_int_equal(a.stream, 7);
    assert_int_equal(a.correlation, 12);
    assert_int_equal(a.graph_id, 1);
    assert_int_equal(a.graph_node, 2);
}

static void test_memory_and_pool(void **state)
{
    (void)state;
    CUpti_ActivityMemory4 m;
    memset(&m, 0, sizeof(m));
    m.kind = CUPTI_ACTIVITY_KIND_MEMORY2;
    m.memoryOperationType = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION;
    m.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
    m.correlationId = 33;
    m.address = 0x7f0000200000ull;
    m.bytes = 4u << 20;
    m.timestamp = T(50);
    m.deviceId = 1;
    m.contextId = 2;
    m.streamId = 3;
    m.memoryPoolConfig.address = 0x7f0000000000ull;
    struct gp_activity a = through_trace((const CUpti_Activity *)&m);
    assert_int_equal(a.type, GP_REC_GPU_MEMORY);
    assert_int_equal(a.kind, CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION);
    assert_int_equal(a.aux, CUPTI_ACTIVITY_MEMORY_KIND_DEVICE);
    assert_int_equal(a.correlation, 33);
    assert_int_equal(a.address, 0x7f0000200000ull);
    assert_int_equal(a.bytes, 4u << 20);
    assert_int_equal(a.value, 0x7f0000000000ull);
    assert_int_equal(a.start_ns, SHIFTED(50));
    assert_int_equal(a.end_ns, SHIFTED(50));
    assert_int_equal(a.device, 1);
    assert_int_equal(a.context, 2);
    assert_int_equal(a.stream, 3);

    CUpti_ActivityMemoryPool3 p;
    memset(&p, 0, sizeof(p));
    p.kind = CUPTI_ACTIVITY_KIND_MEMORY_POOL;
    p.memoryPoolOperationType = CUPTI_ACTIVITY_MEMORY_POOL_OPERATION_TYPE_TRIMMED;
    p.memoryPoolType = CUPTI_ACTIVITY_MEMORY_POOL_TYPE_LOCAL;
    p.correlationId = 34;
    p.deviceId = 1;
    p.address = 0x7f0000000000ull;
    p.size = 64u << 20;
    p.utilizedSize = 4u << 20;
    p.timestamp = T(60);
    a = through_trace((const CUpti_Activity *)&p);
    assert_int_equal(a.type, GP_REC_GPU_POOL);
    assert_int_equal(a.kind, CUPTI_ACTIVITY_MEMORY_POOL_OPERATION_TYPE_TRIMMED);
    assert_int_equal(a.aux, CUPTI_ACTIVITY_MEMORY_POOL_TYPE_LOCAL);
    assert_int_equal(a.correlation, 34);
    assert_int_equal(a.device, 1);
    assert_int_equal(a.address, 0x7f0000000000ull);
    assert_int_equal(a.bytes, 64u << 20);
    assert_int_equal(a.value, 4u << 20);
    assert_int_equal(a.start_ns, SHIFTED(60));
}

static void test_markers_and_correlation(void **state)
{
    (void)state;
    CUpti_ActivityMarker2 m;
    memset(&m, 0, sizeof(m));
    m.kind = CUPTI_ACTIVITY_KIND_MARKER;
    m.flags = CUPTI_ACTIVITY_FLAG_MARKER_START;
    m.timestamp = T(70);
    m.id = 42;
    m.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
    m.name = "forward";
    struct gp_activity a = through_trace((const CUpti_Activity *)&m);
    assert_int_equal(a.type, GP_REC_MARKER);
    assert_int_equal(a.kind, CUPTI_ACTIVITY_FLAG_MARKER_START);
    assert_int_equal(a.value, 42);
    assert_int_equal(a.aux, CUPTI_ACTIVITY_OBJECT_THREAD);
    assert_string_equal(a.name, "forward");
    assert_int_equal(a.start_ns, SHIFTED(70));
    m.flags = CUPTI_ACTIVITY_FLAG_MARKER_END;
    m.name = NULL;
    a = through_trace((const CUpti_Activity *)&m);
    assert_int_equal(a.kind, CUPTI_ACTIVITY_FLAG_MARKER_END);
    assert_null(a.name);

    CUpti_ActivityExternalCorrelation e;
    memset(&e, 0, sizeof(e));
    e.kind = CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION;
    e.externalKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM2;
    e.externalId = 0xffffffffffffull;
    e.correlationId = 99;
    a = through_trace((const CUpti_Activity *)&e);
    assert_int_equal(a.type, GP_REC_EXT_CORR);
    assert_int_equal(a.kind, CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM2);
    assert_int_equal(a.value, 0xffffffffffffull);
    assert_int_equal(a.correlation, 99);
    assert_int_equal(a.start_ns, 0);
}

static void test_sync_and_overhead(void **state)
{
    (void)state;
    CUpti_ActivitySynchronization2 s;
    memset(&s, 0, sizeof(s));
    s.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION;
    s.type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE;
    s.start = T(200);
    s.end = T(900);
    s.correlationId = 55;
    s.contextId = 1;
    s.streamId = 14;
    s.cudaEventId = 6;
    struct gp_activity a = through_trace((const CUpti_Activity *)&s);
    assert_int_equal(a.type, GP_REC_SYNC);
    assert_int_equal(a.kind, CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE);
    assert_int_equal(a.start_ns, SHIFTED(200));
    assert_int_equal(a.end_ns, SHIFTED(900));
    assert_int_equal(a.correlation, 55);
    assert_int_equal(a.context, 1);
    assert_int_equal(a.stream, 14);
    assert_int_equal(a.value, 6);

    CUpti_ActivityOverhead3 o;
    memset(&o, 0, sizeof(o));
    o.kind = CUPTI_ACTIVITY_KIND_OVERHEAD;
    o.overheadKind = CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH;
    o.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
    o.objectId.pt.processId = 100;
    o.objectId.pt.threadId = 101;
    o.start = T(300);
    o.end = T(310);
    o.correlationId = 0;
    a = through_trace((const CUpti_Activity *)&o);
    assert_int_equal(a.type, GP_REC_OVERHEAD);
    assert_int_equal(a.kind, CUPTI_ACTIVITY_OBJECT_THREAD);
    assert_int_equal(a.aux, CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH);
    assert_int_equal(a.value, 101);
    assert_int_equal(a.start_ns, SHIFTED(300));
    assert_int_equal(a.end_ns, SHIFTED(310));
    o.objectKind = CUPTI_ACTIVITY_OBJECT_STREAM;
    o.objectId.dcs.deviceId = 3;
    o.objectId.dcs.contextId = 4;
    o.objectId.dcs.streamId = 5;
    a = through_trace((const CUpti_Activity *)&o);
    assert_int_equal(a.device, 3);
    assert_int_equal(a.context, 4);
    assert_int_equal(a.stream, 5);
    assert_int_equal(a.value, 0);
}

static void test_other_kinds_refused(void **state)
{
    (void)state;
    CUpti_ActivityAPI api;
    memset(&api, 0, sizeof(api));
    api.kind = CUPTI_ACTIVITY_KIND_RUNTIME;
    struct gp_activity a;
    assert_int_equal(gp_cupti_convert((const CUpti_Activity *)&api, 0, &a), 0);
    /* and every enabled kind maps to its own record type */
    for (unsigned i = 0; i < gp_cupti_nkinds; i++) {
        assert_true(gp_trace_is_activity(gp_cupti_kinds[i].type));
        assert_int_not_equal(gp_cupti_kinds[i].kind, CUPTI_ACTIVITY_KIND_KERNEL);
        for (unsigned j = 0; j < i; j++)
            assert_int_not_equal(gp_cupti_kinds[i].type, gp_cupti_kinds[j].type);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel),
        cmocka_unit_test(test_kernel9),
        cmocka_unit_test(test_kernel_untimed),
        cmocka_unit_test(test_memcpy),
        cmocka_unit_test(test_memset),
        cmocka_unit_test(test_memory_and_pool),
        cmocka_unit_test(test_markers_and_correlation),
        cmocka_unit_test(test_sync_and_overhead),
        cmocka_unit_test(test_other_kinds_refused),
    };
    return cmocka_run_group_tests(tests, tt_group_setup, tt_group_teardown);
}
