/* analysis_tensor.c — "did these matrix products use Tensor Cores?", layer 1: what each
 * call asked for. Data types, compute type and the handle's math mode decide whether Tensor
 * Cores were allowed at all (fp32 without TF32 math cannot use them; fp16, bf16, fp8, int8
 * and tf32 can); the shape says whether they are defeated (GEMV: m or n == 1) or slowed
 * (16- and 8-bit types with m/n/k or a leading dimension not a multiple of 16 bytes'
 * worth of elements). Layer 2 where the record holds the library's choice (cuDNN engine notes,
 * the cuBLASLt algorithm's implementation flags) overrides layer 1. Each verdict names the
 * layer that decided it and why. Calls are
 * grouped by call site (stack) and verdict, with counts and FLOPs (2·m·n·k·batch).
 * Layer 3 (kernel_names.c) runs here too: every KERNEL record's GPU time is added to its
 * name, and at the end each distinct name is classified once, giving the GPU time on
 * Tensor Core, CUDA-core and unknown kernels; tensor_join.c ties each call to the kernels
 * it launched. After the replay gp_report_tensor_resolve lets layer 4 (the kernels' machine
 * code, analysis_cubins.c) decide before layer 3 wherever a cubin gives a class. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* cudaDataType and cublasComputeType_t / cublasMath_t numbers (library_types.h,
 * cublas_api.h): the report does not include CUDA headers. */
enum {
    DT_32F = 0, DT_64F = 1, DT_16F = 2, DT_8I = 3, DT_32I = 10, DT_16BF = 14,
    DT_8F_E4M3 = 28, DT_8F_E5M2 = 29,
    CT_16F = 64, CT_16F_PEDANTIC = 65, CT_32F = 68, CT_32F_PEDANTIC = 69, CT_64F = 70,
    CT_64F_PEDANTIC = 71, CT_32I = 72, CT_32I_PEDANTIC = 73, CT_32F_FAST_16F = 74,
    CT_32F_FAST_16BF = 75, CT_32F_FAST_TF32 = 77, CT_32F_EMULATED_16BFX9 = 78,
    MATH_DEFAULT = 0, MATH_TENSOR_OP = 1, MATH_PEDANTIC = 2, MATH_TF32 = 3, MATH_BF16X9 = 4,
    MATH_UNKNOWN = 0xff,
};

const char *gp_report_tc_class_name(unsigned cls)
{
    switch (cls) {
    case GP_TC_ALLOWED:
        return "allowed";
    case GP_TC_SLOWED:
        return "slowed";
    case GP_TC_DEFEATED:
        return "defeated";
    case GP_TC_NOT_ALLOWED:
        return "not_allowed";
    default:
        return "unknown";
    }
}

/* A compute type as cuBLAS reads it: a legacy cudaDataType passed in its place maps to the
 * matching CUBLAS_COMPUTE_* (cublasGemmEx documents the mapping). */
static int32_t normal_compute(int32_t c)
{
    switch (c) {
    case DT_32F:
        return CT_32F;
    case DT_64F:
        return CT_64F;
    case DT_16F:
        return CT_16F;
    case DT_32I:
        return CT_32I;
    default:
        return c;
    }
}

static void set(struct gp_report_tc_verdict *v, unsigned cls, const char *precision,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set(struct gp_report_tc_verdict *v, unsigned cls, const char *precision,
                const char *fmt, ...)
{
    va_list ap;
    v->cls = cls;
    v->precision = precision;
    v->layer = "asked";
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
}

/* cuDNN's math type (cudnnMathType_t) rides in the record's kind byte for convolutions. */
enum { DNN_DEFAULT_MATH = 0, DNN_TENSOR_OP = 1, DNN_ALLOW_CONVERSION = 2, DNN_FMA = 3 };

/* Layer 2 for cudnnBackendExecute: the engine's numerical notes say whether cuDNN chose a
 * Tensor Core engine (CUDNN_NUMERICAL_NOTE_TENSOR_CORE is note 0). */
static void classify_execute(const struct gp_record *rec, struct gp_report_tc_verdict *v)
{
    uint32_t notes = rec->lib.notes;
    if (!(notes & GP_LIB_NOTES_KNOWN)) {
        set(v, GP_TC_UNKNOWN, "unknown", "cuDNN execution plan's engine notes could not be read");
        return;
    }
    if (notes & 1u)
        set(v, GP_TC_ALLOWED, "unknown", "cuDNN chose an engine with the TENSOR_CORE numerical note");
    else
        set(v, GP_TC_NOT_ALLOWED, "unknown",
            "cuDNN chose an engine without the TENSOR_CORE numerical note");
    v->layer = "library";
}

/* Layer 1 for a legacy cuDNN convolution: data type and math type, then the channel counts
 * per group (Tensor Core convolution kernels want 16-byte multiples of channels). */
static void classify_conv(const struct gp_record *rec, struct gp_report_tc_verdict *v)
{
    const struct gp_libcall *lc = &rec->lib;
    int tx = lc->type_a ? lc->type_a - 1 : -1;
    unsigned math = rec->kind;
    unsigned elem = 0;
    const char *mname = math == DNN_DEFAULT_MATH       ? "CUDNN_DEFAULT_MATH"
                        : math == DNN_TENSOR_OP        ? "CUDNN_TENSOR_OP_MATH"
                        : math == DNN_ALLOW_CONVERSION ? "CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION"
                        : math == DNN_FMA              ? "CUDNN_FMA_MATH"
                                                       : "unknown";
    if (tx < 0) {
        set(v, GP_TC_UNKNOWN, "unknown", "convolution data types not recorded");
        return;
    }
    switch (tx) {
    case DT_32F:
        if (math == DNN_FMA)
            set(v, GP_TC_NOT_ALLOWED, "fp32", "fp32 with CUDNN_FMA_MATH: TF32 is off");
        else if (math == DNN_DEFAULT_MATH || math == DNN_TENSOR_OP)
            set(v, GP_TC_ALLOWED, "tf32", "fp32 with %s: cuDNN may use TF32", mname);
        else if (math == DNN_ALLOW_CONVERSION)
            set(v, GP_TC_ALLOWED, "fp16", "fp32 down-converted (%s)", mname);
        else
            set(v, GP_TC_UNKNOWN, "fp32", "fp32 with an unknown math type");
        return;
    case DT_16F:
    case DT_16BF:
        elem = 2;
        break;
    case DT_8I:
        elem = 1;
        break;
    case DT_64F:
        set(v, GP_TC_UNKNOWN, "fp64", "fp64 convolution: not decided from the call");
        return;
    default:
        set(v, GP_TC_UNKNOWN, "other", "data type %d not classified", tx);
        return;
    }
    const char *p = tx == DT_16F ? "fp16" : tx == DT_16BF ? "bf16" : "int8";
    if (math == DNN_FMA) {
        set(v, GP_TC_NOT_ALLOWED, p, "%s with CUDNN_FMA_MATH: Tensor Cores are off", p);
        return;
    }
    set(v, GP_TC_ALLOWED, p, "%s inputs (%s)", p, mname);
    uint64_t groups = lc->batch ? lc->batch : 1, mult = 16 / elem;
    const struct {
        const char *name;
        uint64_t v;
    } dims[] = {{"C", lc->conv.c / groups}, {"K", lc->conv.k / groups}};
    if (lc->conv.nspatial == 0)
        return;
    for (size_t i = 0; i < 2; i++) {
        if (dims[i].v != 0 && dims[i].v % mult != 0) {
            set(v, GP_TC_SLOWED, p,
                "%s = %llu%s not a multiple of %llu (%s): Tensor Core convolutions need 16-byte "
                "channel multiples (cuDNN pads or falls back)",
                dims[i].name, (unsigned long long)dims[i].v, groups > 1 ? " per group" : "",
                (unsigned long long)mult, p);
            return;
        }
    }
}

static void classify_asked(const struct gp_record *rec, struct gp_report_tc_verdict *v)
{
    const struct gp_libcall *lc = &rec->lib;
    int ta = lc->type_a ? lc->type_a - 1 : -1;
    unsigned math = rec->kind, base = math == MATH_UNKNOWN ? MATH_UNKNOWN : (math & 0xf);
    int32_t ct = lc->compute == GP_LIB_UNKNOWN ? GP_LIB_UNKNOWN : normal_compute(lc->compute);
    unsigned elem = 0; /* bytes per element of A/B where alignment matters */

    memset(v, 0, sizeof *v);
    if (rec->api == GP_LIB_DNN_EXECUTE) {
        classify_execute(rec, v);
        return;
    }
    if (rec->api >= GP_LIB_CONV_FWD && rec->api <= GP_LIB_CONV_BWD_FILTER) {
        classify_conv(rec, v);
        return;
    }
    if (ta < 0) {
        set(v, GP_TC_UNKNOWN, "unknown",
            "data types not recorded (%s: descriptors could not be read)",
            gp_trace_lib_api_name(rec->api));
        return;
    }
    if (ct == CT_16F_PEDANTIC || ct == CT_32F_PEDANTIC || ct == CT_64F_PEDANTIC ||
        ct == CT_32I_PEDANTIC || base == MATH_PEDANTIC) {
        set(v, GP_TC_UNKNOWN, "unknown",
            "pedantic %s: cuBLAS keeps the prescribed arithmetic; not decided from the call",
            base == MATH_PEDANTIC ? "math mode" : "compute type");
        return;
    }
    switch (ta) {
    case DT_16F:
        set(v, GP_TC_ALLOWED, "fp16", "fp16 inputs");
        elem = 2;
        break;
    case DT_16BF:
        set(v, GP_TC_ALLOWED, "bf16", "bf16 inputs");
        elem = 2;
        break;
    case DT_8F_E4M3:
    case DT_8F_E5M2:
        set(v, GP_TC_ALLOWED, "fp8", "fp8 inputs");
        elem = 1;
        break;
    case DT_8I:
        set(v, GP_TC_ALLOWED, "int8", "int8 inputs");
        elem = 1;
        break;
    case DT_32F:
        if (ct == CT_32F_FAST_TF32 || (ct == CT_32F && base == MATH_TF32))
            set(v, GP_TC_ALLOWED, "tf32", "fp32 inputs with TF32 allowed (%s)",
                ct == CT_32F_FAST_TF32 ? "CUBLAS_COMPUTE_32F_FAST_TF32"
                                       : "CUBLAS_TF32_TENSOR_OP_MATH");
        else if (ct == CT_32F_FAST_16F || (ct == CT_32F && base == MATH_TENSOR_OP))
            set(v, GP_TC_ALLOWED, "fp16", "fp32 inputs down-converted to fp16 (%s)",
                ct == CT_32F_FAST_16F ? "CUBLAS_COMPUTE_32F_FAST_16F" : "CUBLAS_TENSOR_OP_MATH");
        else if (ct == CT_32F_FAST_16BF)
            set(v, GP_TC_ALLOWED, "bf16",
                "fp32 inputs down-converted to bf16 (CUBLAS_COMPUTE_32F_FAST_16BF)");
        else if (ct == CT_32F_EMULATED_16BFX9 || (ct == CT_32F && base == MATH_BF16X9))
            set(v, GP_TC_ALLOWED, "fp32", "fp32 emulated with bf16x9 on Tensor Cores");
        else if (ct == CT_32F)
            set(v, GP_TC_NOT_ALLOWED, "fp32",
                "fp32 without TF32: compute type CUBLAS_COMPUTE_32F and math mode %s",
                base == MATH_DEFAULT ? "CUBLAS_DEFAULT_MATH"
                                     : base == MATH_UNKNOWN ? "unknown" : "without TF32");
        else
            set(v, GP_TC_UNKNOWN, "fp32", "fp32 inputs with compute type %d", (int)ct);
        return; /* alignment rules below are for 8- and 16-bit inputs */
    case DT_64F:
        set(v, GP_TC_UNKNOWN, "fp64",
            "fp64: Tensor Cores (DMMA) exist on some GPUs only; not decided from the call");
        return;
    default:
        set(v, GP_TC_UNKNOWN, "other", "data type %d not classified", ta);
        return;
    }

    /* Allowed: does the shape defeat or slow them? */
    uint64_t m = rec->size, n = rec->aux1, k = rec->aux2;
    if (m == 1 || n == 1) {
        set(v, GP_TC_DEFEATED, v->precision,
            "GEMV shape (%s = 1): a matrix-vector product, not run on Tensor Cores",
            m == 1 ? "m" : "n");
        return;
    }
    unsigned mult = 16 / elem;
    const struct {
        const char *name;
        uint64_t v;
    } dims[] = {{"m", m}, {"n", n}, {"k", k}, {"lda", lc->lda}, {"ldb", lc->ldb}, {"ldc", lc->ldc}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        if (dims[i].v != 0 && dims[i].v % mult != 0) {
            const char *p = v->precision;
            set(v, GP_TC_SLOWED, p,
                "%s = %llu not a multiple of %u (%s): Tensor Core kernels need 16-byte multiples",
                dims[i].name, (unsigned long long)dims[i].v, mult, p);
            return;
        }
    }
}

/* cublasLtNumericalImplFlags_t bits (cublasLt.h) kept in the low bits of a LT_MATMUL
 * record's notes. */
enum {
    LT_IMPL_FMA = 0x01, LT_IMPL_HMMA = 0x02, LT_IMPL_IMMA = 0x04, LT_IMPL_DMMA = 0x08,
    LT_IMPL_TENSOR_OP_MASK = 0xfe,
};

/* Layer 2 for cublasLtMatmul: the algorithm the caller passed says what it runs on. A shape
 * problem layer 1 found is kept in the reason of an FMA choice: it is the likely why. */
static void classify_lt_algo(const struct gp_record *rec, struct gp_report_tc_verdict *v)
{
    uint32_t flags = rec->lib.notes & ~GP_LIB_NOTES_KNOWN;
    const char *precision = v->precision;
    if (flags & LT_IMPL_TENSOR_OP_MASK) {
        const char *mma = (flags & LT_IMPL_HMMA)   ? "HMMA"
                          : (flags & LT_IMPL_IMMA) ? "IMMA"
                          : (flags & LT_IMPL_DMMA) ? "DMMA"
                                                   : "tensor op";
        set(v, GP_TC_ALLOWED, precision, "cuBLASLt chose a Tensor Core algorithm (%s)", mma);
    } else if (flags & LT_IMPL_FMA) {
        char why[sizeof v->reason];
        int shape = v->cls == GP_TC_SLOWED || v->cls == GP_TC_DEFEATED;
        snprintf(why, sizeof why, "%s", v->reason);
        set(v, GP_TC_NOT_ALLOWED, precision, "cuBLASLt chose a CUDA-core (FMA) algorithm%s%.100s",
            shape ? "; " : "", shape ? why : "");
    } else {
        return; /* neither marker: layer 1 stands */
    }
    v->layer = "library";
}

/* Layers 1 and 2 for one LIBCALL record (layer 2 where the record holds the library's
 * choice: cudnnBackendExecute's engine notes, cublasLtMatmul's algorithm flags). */
void gp_report_tc_classify(const struct gp_record *rec, struct gp_report_tc_verdict *v)
{
    classify_asked(rec, v);
    if (rec->api == GP_LIB_LT_MATMUL && (rec->lib.notes & GP_LIB_NOTES_KNOWN))
        classify_lt_algo(rec, v);
}

/* ---- the analysis: sites ----------------------------------------------------------- */
static int site_add(struct gp_report_tensor *t, const struct gp_record *rec,
                    const struct gp_report_tc_verdict *v, double flops, size_t *idx)
{
    struct gp_report_tc_site *s = NULL;
    *idx = SIZE_MAX;
    for (size_t i = 0; i < t->nsites; i++) {
        struct gp_report_tc_site *c = &t->sites[i];
        if (c->stack == rec->stack && c->api == rec->api && c->verdict.cls == v->cls &&
            strcmp(c->verdict.reason, v->reason) == 0) {
            s = c;
            break;
        }
    }
    if (s == NULL) {
        if (t->nsites == GP_REPORT_TC_MAX_SITES) {
            t->sites_lost++;
            return 0;
        }
        if (t->nsites == t->sites_cap) {
            size_t cap = t->sites_cap ? t->sites_cap * 2 : 16;
            struct gp_report_tc_site *p = realloc(t->sites, cap * sizeof *p);
            if (p == NULL)
                return -ENOMEM;
            t->sites = p;
            t->sites_cap = cap;
        }
        s = &t->sites[t->nsites++];
        memset(s, 0, sizeof *s);
        s->stack = rec->stack;
        s->api = rec->api;
        s->verdict = *v;
        s->m = rec->size;
        s->n = rec->aux1;
        s->k = rec->aux2;
        s->batch = rec->lib.batch;
    }
    s->calls++;
    s->flops += flops;
    s->host_ns += rec->lib.dur_ns;
    *idx = (size_t)(s - t->sites);
    return 0;
}

/* Layer 3: GPU time per kernel name id, classified at the end. */
static int kernel_add(struct gp_report_tensor *t, const struct gp_report_model *m,
                      const struct gp_activity *a)
{
    if (a->name_id >= t->kernels_cap) {
        size_t cap = t->kernels_cap ? t->kernels_cap : 64;
        while (cap <= a->name_id)
            cap *= 2;
        struct gp_report_tc_kernel *p = realloc(t->kernels, cap * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        memset(p + t->kernels_cap, 0, (cap - t->kernels_cap) * sizeof *p);
        t->kernels = p;
        t->kernels_cap = cap;
    }
    struct gp_report_tc_kernel *k = &t->kernels[a->name_id];
    if (k->calls == 0) { /* first sight: its class, for the join too */
        const char *name = a->name_id ? gp_trace_reader_string(m->reader, a->name_id) : NULL;
        gp_report_kernel_classify(name, &k->verdict);
        k->cls = k->verdict.cls; /* until layer 4 says otherwise (gp_report_tensor_resolve) */
        k->layer = "kernel name";
    }
    k->name_id = a->name_id;
    k->calls++;
    if (a->start_ns && a->end_ns > a->start_ns)
        k->time_ns += a->end_ns - a->start_ns;
    return 0;
}

/* Its kernels longest first (a handful: insertion sort), its TFLOP/s, its verdict. */
static void site_finish(const struct gp_report_model *m, struct gp_report_tc_site *s)
{
    for (size_t a = 1; a < s->nkernels; a++)
        for (size_t b = a; b > 0 && s->kernels[b].time_ns > s->kernels[b - 1].time_ns; b--) {
            struct gp_report_tc_site_kernel x = s->kernels[b];
            s->kernels[b] = s->kernels[b - 1];
            s->kernels[b - 1] = x;
        }
    s->tflops = s->gpu_time_ns ? s->flops_timed / (double)s->gpu_time_ns / 1e3 : 0.0;
    gp_report_tc_site_verdict(m, s);
}

#define GP_TC_EXT_KIND 5 /* CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM2 */

static int tensor_record(void *ctx, const struct gp_report_model *m, const struct gp_record *rec)
{
    struct gp_report_tensor *t = ctx;
    int rc;
    if (rec->type == GP_REC_KERNEL) {
        const struct gp_activity *a = gp_trace_reader_activity(m->reader);
        if (a == NULL || a->type != GP_REC_KERNEL)
            return 0;
        if ((rc = kernel_add(t, m, a)) < 0)
            return rc;
        uint64_t ns = a->start_ns && a->end_ns > a->start_ns ? a->end_ns - a->start_ns : 0;
        return gp_report_tc_join_kernel(t, a->correlation, a->name_id, ns);
    }
    if (rec->type == GP_REC_EXT_CORR) { /* ours: kind CUSTOM2 (docs/trace-format.md §3.5.1) */
        const struct gp_activity *a = gp_trace_reader_activity(m->reader);
        if (a == NULL || a->type != GP_REC_EXT_CORR || a->kind != GP_TC_EXT_KIND)
            return 0;
        return gp_report_tc_join_ext_corr(t, a->correlation, a->value);
    }
    if (rec->type != GP_REC_LIBCALL)
        return 0;
    struct gp_report_tc_verdict v;
    gp_report_tc_classify(rec, &v);
    double batch = rec->lib.batch ? (double)rec->lib.batch : 1;
    double flops = 2.0 * (double)rec->size * (double)rec->aux1 * (double)rec->aux2 * batch;
    t->calls++;
    t->flops += flops;
    t->by_class[v.cls].calls++;
    t->by_class[v.cls].flops += flops;
    size_t i;
    for (i = 0; i < t->nprec && strcmp(t->by_prec[i].name, v.precision) != 0; i++)
        ;
    if (i == t->nprec && i < GP_REPORT_TC_MAX_PREC) {
        t->by_prec[i].name = v.precision; /* static strings */
        t->nprec++;
    }
    if (i < t->nprec) {
        t->by_prec[i].calls++;
        t->by_prec[i].flops += flops;
    }
    size_t si;
    if ((rc = site_add(t, rec, &v, flops, &si)) < 0)
        return rc;
    if (rec->lib.ext_id == 0)
        return 0;
    t->ext_calls++;
    return si == SIZE_MAX ? 0 : gp_report_tc_join_libcall(t, rec->lib.ext_id, si, flops);
}

/* Sites by FLOPs, largest first; ties by calls, then stack, so the order is stable. */
static int site_cmp(const void *a, const void *b)
{
    const struct gp_report_tc_site *x = a, *y = b;
    if (x->flops != y->flops)
        return x->flops < y->flops ? 1 : -1;
    if (x->calls != y->calls)
        return x->calls < y->calls ? 1 : -1;
    return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* Kernels by GPU time, longest first; ties by calls, then name id. */
static int kernel_cmp(const void *a, const void *b)
{
    const struct gp_report_tc_kernel *x = a, *y = b;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? 1 : -1;
    if (x->calls != y->calls)
        return x->calls < y->calls ? 1 : -1;
    return x->name_id < y->name_id ? -1 : x->name_id > y->name_id;
}

static void kernels_finish(struct gp_report_tensor *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->kernels_cap; i++) {
        struct gp_report_tc_kernel k = t->kernels[i];
        if (k.calls == 0)
            continue; /* classified at first sight (kernel_add) */
        t->kernel_calls[k.cls] += k.calls;
        t->kernel_ns[k.cls] += k.time_ns;
        t->kernels[n++] = k;
    }
    t->nkernels = n;
    if (n > 1)
        qsort(t->kernels, n, sizeof t->kernels[0], kernel_cmp);
    t->name_gemm_time_ns = t->kernel_ns[GP_KC_TENSOR] + t->kernel_ns[GP_KC_CUDA_CORE];
    t->name_tc_time_ns = t->kernel_ns[GP_KC_TENSOR];
    t->name_tc_fraction = t->name_gemm_time_ns ? (double)t->name_tc_time_ns /
                                                     (double)t->name_gemm_time_ns
                                               : 0.0;
}

/* By precision and the headline, from the sites' and kernels' classes as they stand. */
static void totals(struct gp_report_tensor *t)
{
    for (size_t p = 0; p < t->nprec; p++)
        t->by_prec[p].gpu_time_ns = t->by_prec[p].tc_time_ns = 0;
    for (size_t i = 0; i < t->nsites; i++) {
        const struct gp_report_tc_site *st = &t->sites[i];
        for (size_t p = 0; p < t->nprec; p++)
            if (strcmp(t->by_prec[p].name, st->verdict.precision) == 0) {
                t->by_prec[p].gpu_time_ns += st->gpu_time_ns;
                t->by_prec[p].tc_time_ns += st->kc_ns[GP_KC_TENSOR];
                break;
            }
    }
    /* attributed kernels where the join found any, else every kernel by its class */
    t->attributed = t->attributed_ns > 0;
    t->gemm_time_ns = t->attributed ? t->attributed_ns
                                    : t->kernel_ns[GP_KC_TENSOR] + t->kernel_ns[GP_KC_CUDA_CORE];
    t->tc_time_ns = t->kernel_ns[GP_KC_TENSOR];
    if (t->attributed) {
        t->tc_time_ns = 0;
        for (size_t i = 0; i < t->nsites; i++)
            t->tc_time_ns += t->sites[i].kc_ns[GP_KC_TENSOR];
    }
    t->tc_fraction = t->gemm_time_ns ? (double)t->tc_time_ns / (double)t->gemm_time_ns : 0.0;
}

static int tensor_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_tensor *t = ctx;
    gp_report_tc_join_free(t);
    kernels_finish(t);
    for (size_t i = 0; i < t->nsites; i++)
        site_finish(m, &t->sites[i]);
    if (t->nsites > 1)
        qsort(t->sites, t->nsites, sizeof t->sites[0], site_cmp);
    totals(t);
    return 0;
}

/* ---- layer 4 over layer 3 (after analysis_cubins.c has finished too) -------------------- */
/* The class of the kernel's machine code when a saved cubin gives one other than unknown. */
static const char *machine_code(const struct gp_report *r, uint32_t name_id, unsigned *cls)
{
    const char *name = name_id ? gp_trace_reader_string(r->model->reader, name_id) : NULL;
    const char *v = name ? gp_report_cubins_verdict(r, name, cls) : NULL;
    return v && *cls != GP_KC_UNKNOWN ? v : NULL;
}

void gp_report_tensor_resolve(struct gp_report *r)
{
    struct gp_report_tensor *t = &r->tensor;
    if (t->resolved)
        return;
    t->resolved = 1;
    if (!r->cubins || r->cubins->nkernels == 0)
        return; /* no layer-4 verdict: layer 3's stand as finish left them */
    unsigned cls;
    for (size_t i = 0; i < t->nkernels; i++) {
        struct gp_report_tc_kernel *k = &t->kernels[i];
        const char *mc = machine_code(r, k->name_id, &cls);
        if (!mc)
            continue;
        t->kernel_calls[k->cls] -= k->calls;
        t->kernel_ns[k->cls] -= k->time_ns;
        k->cls = cls;
        k->layer = "machine code";
        k->mc = mc;
        t->kernel_calls[cls] += k->calls;
        t->kernel_ns[cls] += k->time_ns;
        t->mc_kernels++;
    }
    for (size_t i = 0; i < t->nsites; i++) {
        struct gp_report_tc_site *s = &t->sites[i];
        int changed = 0;
        for (size_t j = 0; j < s->nkernels; j++) {
            struct gp_report_tc_site_kernel *k = &s->kernels[j];
            const char *mc = machine_code(r, k->name_id, &cls);
            if (!mc)
                continue;
            s->kc_ns[k->cls] -= k->time_ns;
            s->kc_ns[cls] += k->time_ns;
            k->cls = cls;
            k->layer = "machine code";
            k->mc = mc;
            changed = 1;
        }
        if (changed)
            gp_report_tc_site_verdict(r->model, s);
    }
    totals(t);
}

int gp_report_tensor_attach(struct gp_report_tensor *t, struct gp_report_model *m)
{
    memset(t, 0, sizeof *t);
    struct gp_report_observer o = {.ctx = t, .record = tensor_record, .finish = tensor_finish};
    return gp_report_model_observe(m, &o);
}

void gp_report_tensor_fini(struct gp_report_tensor *t)
{
    gp_report_tc_join_free(t);
    free(t->sites);
    free(t->kernels);
    memset(t, 0, sizeof *t);
}
