/* check_dnn_trace.c — reads the trace dnn_sample.c left under the shim and checks every
 * LIBCALL record field by field (the convolutions' implicit-GEMM view, their shapes, types,
 * math types, algorithms, workspaces, the backend plans' engines and notes), then, given
 * "kernels", the fake cuDNN's kernels: one per convolution that ran, in call order, on the
 * handle's stream. Usage: check_dnn_trace TRACE [kernels]. */
#include <stdio.h>
#include <string.h>

#include "gp_trace.h"

struct conv {
    unsigned nd, n, c, k, in[3], filt[3], out[3], pad[3], stride[3], dil[3];
};
struct want {
    unsigned api, math;
    int result;
    uint64_t m, n, k, batch;
    unsigned type_a, type_b, type_c; /* cudaDataType + 1 */
    int32_t compute, algo;
    uint64_t workspace;
    uint32_t notes;
    struct conv cv;
};

#define U GP_LIB_UNKNOWN
#define K GP_LIB_NOTES_KNOWN
#define C2(n, c, k, i, f, o, p, s, d) {2, n, c, k, {i, i}, {f, f}, {o, o}, {p, p}, {s, s}, {d, d}}
static const struct want wants[] = {
    /* 1: fp32 FMA math: m = N·P·Q, n = K, k = C·R·S */
    {GP_LIB_CONV_FWD, 3, 0, 8 * 56 * 56, 128, 64 * 9, 1, 1, 1, 1, 0, 1, 0, 0,
     C2(8, 64, 128, 56, 3, 56, 1, 1, 1)},
    /* 2: fp16 Tensor Core math, 1x1 stride 2 */
    {GP_LIB_CONV_FWD, 1, 0, 32 * 14 * 14, 64, 64, 1, 3, 3, 3, 0, 1, 1 << 20, 0,
     C2(32, 64, 64, 28, 1, 14, 0, 2, 1)},
    /* 3: bf16, 4 groups of 32 -> 64 channels */
    {GP_LIB_CONV_FWD, 1, 0, 16 * 14 * 14, 64, 32 * 9, 4, 15, 15, 15, 0, 0, 0, 0,
     C2(16, 128, 256, 14, 3, 14, 2, 1, 2)},
    /* 4: fp16, 3 input channels */
    {GP_LIB_CONV_FWD, 1, 0, 4 * 112 * 112, 64, 3 * 49, 1, 3, 3, 3, 0, 1, 0, 0,
     C2(4, 3, 64, 224, 7, 112, 3, 2, 1)},
    /* 5: data gradient: m = N·P·Q, n = C, k = K·R·S */
    {GP_LIB_CONV_BWD_DATA, 1, 0, 8 * 32 * 32, 64, 32 * 9, 1, 3, 3, 3, 0, 1, 65536, 0,
     C2(8, 64, 32, 32, 3, 32, 1, 1, 1)},
    /* 6: filter gradient: m = K, n = C·R·S, k = N·P·Q */
    {GP_LIB_CONV_BWD_FILTER, 1, 0, 32, 64 * 9, 8 * 32 * 32, 1, 3, 3, 3, 0, 3, 0, 0,
     C2(8, 64, 32, 32, 3, 32, 1, 1, 1)},
    /* 7: 3-D, math type read back from the descriptor */
    {GP_LIB_CONV_FWD, 0, 0, 2 * 8 * 16 * 16, 32, 16 * 27, 1, 3, 3, 3, 0, 0, 0, 0,
     {3, 2, 16, 32, {8, 16, 16}, {3, 3, 3}, {8, 16, 16}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}}},
    /* 8: refused by cuDNN (CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH), recorded as asked */
    {GP_LIB_CONV_FWD, 0, 2008, 49, 8, 72, 1, 1, 1, 1, 0, 1, 0, 0, C2(1, 8, 8, 8, 3, 7, 1, 1, 1)},
    /* 9, 10: backend plan, engine 7 with TENSOR_CORE and DOWN_CONVERT_INPUTS notes */
    {GP_LIB_DNN_EXECUTE, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, U, 7, 4096 * 8, K | 3, {0}},
    {GP_LIB_DNN_EXECUTE, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, U, 7, 4096 * 8, K | 3, {0}},
    /* 11: engine 0, no notes */
    {GP_LIB_DNN_EXECUTE, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, U, 0, 4096, K, {0}},
};
#define NWANT (sizeof wants / sizeof wants[0])

#define XMMA(dir, t)                                                                               \
    "sm80_xmma_" dir "_implicit_gemm_" t "_f32_nhwckrsc_nhwc_tilesize128x128x32_stage4_"            \
    "warpsize2x2x1_g1_tensor16x8x16_kernel_cudnn"
#define SM90 "sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32_f32_nhwckrsc_nhwc_tilesize128x128x64_" \
             "warpgroupsize1x1x1_g1_execute_segment_k_off_kernel__5x_cudnn"
static const char *const kernels[] = {
    "implicit_convolve_sgemm_fprop",
    XMMA("fprop", "f16f16_f16f32"),
    XMMA("fprop", "bf16bf16_bf16f32"),
    "volta_fp16_scudnn_fp16_128x128_stridedB_splitK_small_nn_v1",
    XMMA("dgrad", "f16f16_f16f32"),
    XMMA("wgrad", "f16f16_f16f32"),
    XMMA("fprop", "f16f16_f16f32"),
    SM90,
    SM90,
    "implicit_convolve_sgemm_fprop",
};
#define NKERNELS (sizeof kernels / sizeof kernels[0])

static int fails;
#define EQ(got, want, what)                                                                        \
    do {                                                                                           \
        if ((long long)(got) != (long long)(want)) {                                               \
            fprintf(stderr, "call %u %s: got %lld, want %lld\n", i + 1, what, (long long)(got),   \
                    (long long)(want));                                                            \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

static void check_call(unsigned i, const struct gp_record *rec)
{
    const struct want *w = &wants[i];
    const struct gp_libcall *lc = &rec->lib;
    EQ(rec->api, w->api, "api");
    EQ(rec->kind, w->math, "math type");
    EQ(rec->result, w->result, "result");
    EQ(rec->size, w->m, "m");
    EQ(rec->aux1, w->n, "n");
    EQ(rec->aux2, w->k, "k");
    EQ(lc->batch, w->batch, "batch (groups)");
    EQ(lc->lda, 0, "lda");
    EQ(lc->ldb, 0, "ldb");
    EQ(lc->ldc, 0, "ldc");
    EQ(lc->trans_a, 0, "transa");
    EQ(lc->trans_b, 0, "transb");
    EQ(lc->type_a, w->type_a, "type x");
    EQ(lc->type_b, w->type_b, "type w");
    EQ(lc->type_c, w->type_c, "type y");
    EQ(lc->compute, w->compute, "compute");
    EQ(lc->algo, w->algo, "algo");
    EQ(lc->workspace, w->workspace, "workspace");
    EQ(lc->notes, w->notes, "notes");
    EQ(rec->stream, 7, "stream");
    EQ(rec->stack != 0, 1, "has a stack");
    EQ(rec->tid != 0, 1, "has a thread");
    if (lc->dur_ns == 0 || lc->dur_ns > 10000000000ull) {
        fprintf(stderr, "call %u: host duration %llu ns\n", i + 1, (unsigned long long)lc->dur_ns);
        fails++;
    }
    const struct gp_libconv *cv = &lc->conv;
    EQ(cv->nspatial, w->cv.nd, "spatial dims");
    EQ(cv->n, w->cv.n, "N");
    EQ(cv->c, w->cv.c, "C");
    EQ(cv->k, w->cv.k, "K");
    for (unsigned d = 0; d < GP_LIB_CONV_MAX_SPATIAL; d++) {
        EQ(cv->in[d], w->cv.in[d], "input extent");
        EQ(cv->filt[d], w->cv.filt[d], "filter extent");
        EQ(cv->out[d], w->cv.out[d], "output extent");
        EQ(cv->pads[d], w->cv.pad[d], "padding");
        EQ(cv->strides[d], w->cv.stride[d], "stride");
        EQ(cv->dilations[d], w->cv.dil[d], "dilation");
    }
    /* The GEMM view keeps the convolution's FLOPs: 2·N·P·Q·K·(C/groups)·R·S. */
    if (cv->nspatial > 0) {
        uint64_t pq = 1, rs = 1;
        for (unsigned d = 0; d < cv->nspatial; d++)
            pq *= cv->out[d], rs *= cv->filt[d];
        uint64_t conv_flops = 2 * cv->n * pq * cv->k * (cv->c / lc->batch) * rs;
        EQ(2 * rec->size * rec->aux1 * rec->aux2 * lc->batch, conv_flops, "FLOPs");
    }
}

int main(int argc, char **argv)
{
    char err[256];
    struct gp_trace_reader *r;
    struct gp_record rec;
    unsigned i = 0, nk = 0;
    int rc, want_kernels = argc == 3 && strcmp(argv[2], "kernels") == 0;
    if (argc < 2 || argc > 3 || gp_trace_reader_open(&r, argv[1], err, sizeof err) < 0) {
        fprintf(stderr, "usage: check_dnn_trace TRACE [kernels] (%s)\n", argc >= 2 ? err : "");
        return 2;
    }
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof err)) > 0) {
        if (rec.type == GP_REC_KERNEL) {
            const struct gp_activity *a = gp_trace_reader_activity(r);
            const char *name = gp_trace_reader_string(r, a->name_id);
            if (nk < NKERNELS && (name == NULL || strcmp(name, kernels[nk]) != 0 || a->stream != 7)) {
                fprintf(stderr, "kernel %u: got %s on stream %u, want %s on stream 7\n", nk + 1,
                        name ? name : "(none)", a->stream, kernels[nk]);
                fails++;
            }
            nk++;
            continue;
        }
        if (rec.type != GP_REC_LIBCALL)
            continue;
        if (i >= NWANT) {
            fprintf(stderr, "more LIBCALL records than the %zu calls made\n", NWANT);
            return 1;
        }
        check_call(i++, &rec);
    }
    if (rc < 0) {
        fprintf(stderr, "read error: %s\n", err);
        return 1;
    }
    if (gp_trace_reader_status(r) != GP_TRACE_OK) {
        fprintf(stderr, "trace has no END record\n");
        fails++;
    }
    if (i != NWANT) {
        fprintf(stderr, "%u LIBCALL records, want %zu\n", i, NWANT);
        fails++;
    }
    if (nk != (want_kernels ? NKERNELS : 0)) {
        fprintf(stderr, "%u kernels, want %zu\n", nk, want_kernels ? NKERNELS : (size_t)0);
        fails++;
    }
    gp_trace_reader_close(r);
    if (fails)
        return 1;
    printf("%u LIBCALL records and %u kernels as expected\n", i, nk);
    return 0;
}
