/* check_blas_trace.c — reads the trace blas_sample.c left under the shim and checks every
 * LIBCALL record field by field: twelve calls, the GemmEx calls (which reach cublasLtMatmul
 * inside the fake cuBLAS) once each, math mode per handle, stream per handle; for
 * cublasLtMatmul also the scale type, D's type and the algorithm's id and flags. */
#include <stdio.h>
#include <string.h>

#include "gp_trace.h"

struct want {
    unsigned api, math;
    uint64_t m, n, k, batch, lda, ldb, ldc;
    unsigned ta, tb, type_a, type_b, type_c; /* cudaDataType + 1, 0 = unknown */
    int32_t compute, algo;
    uint64_t stream;
    unsigned scale, type_d; /* cudaDataType + 1, 0 = unknown (cuBLASLt only) */
    uint32_t notes;         /* GP_LIB_NOTES_KNOWN | cublasLtNumericalImplFlags_t, 0 = unknown */
};

#define U GP_LIB_UNKNOWN
static const struct want wants[] = {
    {GP_LIB_SGEMM, 0, 128, 64, 32, 1, 128, 32, 128, 0, 0, 1, 1, 1, 68, U, 0x5000, 0, 0, 0},
    {GP_LIB_SGEMM, 3, 128, 64, 32, 1, 32, 32, 128, 1, 0, 1, 1, 1, 68, U, 0x5000, 0, 0, 0},
    {GP_LIB_GEMM_EX, 0, 1002, 512, 64, 1, 1002, 64, 1002, 0, 0, 3, 3, 3, 68, -1, 0x5000, 0, 0, 0},
    {GP_LIB_GEMM_EX_64, 0, 256, 256, 256, 1, 256, 256, 256, 0, 1, 15, 15, 15, 68, 99, 0x5000, 0, 0,
     0},
    {GP_LIB_GEMM_SB_EX, 0, 64, 1, 64, 8, 64, 64, 64, 0, 0, 3, 3, 3, 68, -1, 0x5000, 0, 0, 0},
    {GP_LIB_GEMM_B_EX, 0, 32, 32, 32, 2, 32, 32, 32, 0, 0, 4, 4, 11, 72, -1, 0x5000, 0, 0, 0},
    {GP_LIB_HGEMM_64, 0, 64, 64, 64, 1, 64, 64, 64, 0, 0, 3, 3, 3, 64, U, 0x5000, 0, 0, 0},
    {GP_LIB_SGEMM_SB, 0, 16, 16, 16, 4, 16, 16, 16, 0, 0, 1, 1, 1, 68, U, 0x5000, 0, 0, 0},
    {GP_LIB_LT_MATMUL, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, U, U, 0x6000, 0, 0, 0},
    /* HMMA 0x2 | accumulator 32F 0x200 | input 16BF 0x20000; GAUSSIAN (bit 32) dropped */
    {GP_LIB_LT_MATMUL, 0xff, 128, 96, 64, 2, 64, 64, 128, 1, 0, 15, 15, 15, 68, 21, 0, 1, 15,
     0x80020202u},
    /* FMA 0x1 | accumulator 16F 0x100 | input 16F 0x10000; scale CUDA_R_16F */
    {GP_LIB_LT_MATMUL, 0xff, 64, 64, 60, 1, 64, 64, 64, 0, 0, 3, 3, 3, 64, 7, 0, 3, 3,
     0x80010101u},
    /* fp8 (CUDA_R_8F_E4M3 = 28), C bf16, D fp8; algo NULL: id and flags unknown */
    {GP_LIB_LT_MATMUL, 0xff, 32, 32, 64, 1, 32, 64, 32, 0, 0, 29, 29, 15, 68, U, 0, 1, 29, 0},
};
#define NWANT (sizeof wants / sizeof wants[0])

static int fails;
#define EQ(got, want, what)                                                                        \
    do {                                                                                           \
        if ((long long)(got) != (long long)(want)) {                                               \
            fprintf(stderr, "call %u %s: got %lld, want %lld\n", i, what, (long long)(got),       \
                    (long long)(want));                                                            \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    char err[256];
    struct gp_trace_reader *r;
    struct gp_record rec;
    unsigned i = 0;
    int rc;
    if (argc != 2 || gp_trace_reader_open(&r, argv[1], err, sizeof err) < 0) {
        fprintf(stderr, "usage: check_blas_trace TRACE (%s)\n", argc == 2 ? err : "");
        return 2;
    }
    while ((rc = gp_trace_reader_next(r, &rec, err, sizeof err)) > 0) {
        if (rec.type != GP_REC_LIBCALL)
            continue;
        if (i >= NWANT) {
            fprintf(stderr, "more LIBCALL records than the %zu calls made\n", NWANT);
            return 1;
        }
        const struct want *w = &wants[i];
        EQ(rec.api, w->api, "api");
        EQ(rec.kind, w->math, "math mode");
        EQ(rec.size, w->m, "m");
        EQ(rec.aux1, w->n, "n");
        EQ(rec.aux2, w->k, "k");
        EQ(rec.lib.batch, w->batch, "batch");
        EQ(rec.lib.lda, w->lda, "lda");
        EQ(rec.lib.ldb, w->ldb, "ldb");
        EQ(rec.lib.ldc, w->ldc, "ldc");
        EQ(rec.lib.trans_a, w->ta, "transa");
        EQ(rec.lib.trans_b, w->tb, "transb");
        EQ(rec.lib.type_a, w->type_a, "type A");
        EQ(rec.lib.type_b, w->type_b, "type B");
        EQ(rec.lib.type_c, w->type_c, "type C");
        EQ(rec.lib.compute, w->compute, "compute");
        EQ(rec.lib.algo, w->algo, "algo");
        EQ(rec.lib.scale, w->scale, "scale type");
        EQ(rec.lib.type_d, w->type_d, "type D");
        EQ(rec.lib.notes, w->notes, "notes (algorithm flags)");
        EQ(rec.stream, w->stream, "stream");
        EQ(rec.result, 0, "result");
        EQ(rec.stack != 0, 1, "has a stack");
        EQ(rec.tid != 0, 1, "has a thread");
        if (rec.lib.dur_ns == 0 || rec.lib.dur_ns > 10000000000ull) {
            fprintf(stderr, "call %u: host duration %llu ns\n", i, (unsigned long long)rec.lib.dur_ns);
            fails++;
        }
        i++;
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
    gp_trace_reader_close(r);
    if (fails)
        return 1;
    printf("%u LIBCALL records as expected\n", i);
    return 0;
}
