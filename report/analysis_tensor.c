/* analysis_tensor.c — "did these matrix products use Tensor Cores?", layer 1: what each
 * call asked for. Data types, compute type and the handle's math mode decide whether Tensor
 * Cores were allowed at all (fp32 without TF32 math cannot use them; fp16, bf16, fp8, int8
 * and tf32 can); the shape says whether they are defeated (GEMV: m or n == 1) or slowed
 * (16- and 8-bit types with m/n/k or a leading dimension not a multiple of 16 bytes'
 * worth of elements). Each verdict names the layer that decided it and why. Calls are
 * grouped by call site (stack) and verdict, with counts and FLOPs (2·m·n·k·batch).
 * Layer 3 (kernel_names.c) runs here too: every KERNEL record's GPU time is added to its
 * name, and at the end each distinct name is classified once, giving the GPU time on
 * Tensor Core, CUDA-core and unknown kernels. */
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

void gp_report_tc_classify(const struct gp_record *rec, struct gp_report_tc_verdict *v)
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
    }
    k->name_id = a->name_id;
    k->calls++;
    if (a->start_ns && a->end_ns > a->start_ns)
        k->time_ns += a->end_ns - a->start_ns;
    return 0;
}

/* ---- the join: LIBCALL ext id -> EXT_CORR (correlation id) -> KERNEL ------------------ */
/* The shim pushes an external id of kind CUSTOM2 around each outermost library call
 * (docs/trace-format.md §3.5.1); CUPTI ties it to the correlation id of each kernel launch
 * made under it (EXT_CORR), and the kernel record carries that correlation id. The three
 * records come in any order, so what cannot be joined yet waits in bounded maps. */
#define GP_TC_EXT_KIND 5 /* CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM2 */

/* Open addressing with linear probing: key (0 = empty) -> two values. */
struct tc_map {
    uint64_t *key, *v0, *v1;
    size_t cap, n;
    uint64_t max_key;
};
struct gp_report_tc_join {
    struct tc_map site_of_ext; /* ext -> site index + 1, the call's FLOPs (bits) until timed */
    struct tc_map ext_of_corr; /* correlation -> ext */
    struct tc_map pend_corr;   /* kernels whose EXT_CORR has not come: corr -> name|calls, ns */
    struct tc_map pend_ext;    /* kernels whose LIBCALL has not come: ext -> name|calls, ns */
    int seen;                  /* an EXT_CORR of ours or a LIBCALL with an id was read */
};

static size_t map_home(const struct tc_map *m, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (m->cap - 1);
}

static size_t map_slot(const struct tc_map *m, uint64_t key)
{
    size_t i = map_home(m, key);
    while (m->key[i] != 0 && m->key[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* Index of key, or SIZE_MAX. */
static size_t map_find(const struct tc_map *m, uint64_t key)
{
    if (m->n == 0)
        return SIZE_MAX;
    size_t i = map_slot(m, key);
    return m->key[i] == key ? i : SIZE_MAX;
}

/* Rebuilds into cap slots keeping the keys >= keep_from; returns how many were left out. */
static int map_rebuild(struct tc_map *m, size_t cap, uint64_t keep_from, uint64_t *left)
{
    struct tc_map o = *m;
    uint64_t *k = calloc(cap, sizeof *k), *a = calloc(cap, sizeof *a), *b = calloc(cap, sizeof *b);
    if (k == NULL || a == NULL || b == NULL) {
        free(k), free(a), free(b);
        return -ENOMEM;
    }
    m->key = k, m->v0 = a, m->v1 = b, m->cap = cap, m->n = 0;
    *left = 0;
    for (size_t i = 0; i < o.cap; i++) {
        if (o.key[i] == 0)
            continue;
        if (o.key[i] < keep_from) {
            (*left)++;
            continue;
        }
        size_t j = map_slot(m, o.key[i]);
        m->key[j] = o.key[i], m->v0[j] = o.v0[i], m->v1[j] = o.v1[i];
        m->n++;
    }
    free(o.key), free(o.v0), free(o.v1);
    return 0;
}

/* Slot for key (new or existing; *fresh says which), or SIZE_MAX when the map is at its
 * bound even after giving up its older half (keys grow: ids and correlation ids count up).
 * stale: keys below it are dropped first without being counted (they can no longer join). */
static int map_put(struct gp_report_tensor *t, struct tc_map *m, uint64_t key, uint64_t stale,
                   size_t *slot, int *fresh)
{
    uint64_t left = 0;
    int rc;
    *slot = SIZE_MAX;
    if (m->cap == 0 && (rc = map_rebuild(m, 1024, 0, &left)) < 0)
        return rc;
    size_t i = map_slot(m, key);
    if (m->key[i] == key) {
        *slot = i, *fresh = 0;
        return 0;
    }
    if ((m->n + 1) * 2 > m->cap) { /* at most half full */
        if (m->cap < 2 * (size_t)GP_REPORT_TC_MAX_PENDING) {
            rc = map_rebuild(m, m->cap * 2, 0, &left);
        } else {
            if ((rc = map_rebuild(m, m->cap, stale, &left)) == 0 && m->n >= m->cap / 2 * 3 / 4) {
                uint64_t half = m->max_key > GP_REPORT_TC_MAX_PENDING / 2
                                    ? m->max_key - GP_REPORT_TC_MAX_PENDING / 2
                                    : 0;
                rc = map_rebuild(m, m->cap, half, &left);
                t->join_dropped += left;
            }
        }
        if (rc < 0)
            return rc;
        if ((m->n + 1) * 2 > m->cap) {
            t->join_dropped++;
            return 0;
        }
        i = map_slot(m, key);
    }
    m->key[i] = key, m->v0[i] = 0, m->v1[i] = 0;
    m->n++;
    if (key > m->max_key)
        m->max_key = key;
    *slot = i, *fresh = 1;
    return 0;
}

static void map_free(struct tc_map *m)
{
    free(m->key), free(m->v0), free(m->v1);
    memset(m, 0, sizeof *m);
}

/* Removes slot i (backward shift: later keys of the same probe run move up). */
static void map_del(struct tc_map *m, size_t i)
{
    size_t mask = m->cap - 1, j = i;
    m->key[i] = 0;
    m->n--;
    for (;;) {
        j = (j + 1) & mask;
        if (m->key[j] == 0)
            return;
        size_t h = map_home(m, m->key[j]);
        /* stays when its home lies cyclically in (i, j] */
        if (i < j ? (h > i && h <= j) : (h > i || h <= j))
            continue;
        m->key[i] = m->key[j], m->v0[i] = m->v0[j], m->v1[i] = m->v1[j];
        m->key[j] = 0;
        i = j;
    }
}

static int join_get(struct gp_report_tensor *t)
{
    if (t->join == NULL && (t->join = calloc(1, sizeof *t->join)) == NULL)
        return -ENOMEM;
    return 0;
}

static void join_free(struct gp_report_tensor *t)
{
    if (t->join == NULL)
        return;
    map_free(&t->join->site_of_ext);
    map_free(&t->join->ext_of_corr);
    map_free(&t->join->pend_corr);
    map_free(&t->join->pend_ext);
    free(t->join);
    t->join = NULL;
}

#define PACK(name_id, calls) ((uint64_t)(name_id) | (uint64_t)(calls) << 32)

/* calls kernels named name_id, ns of GPU time, belong to site si (whose call's FLOPs were
 * flops_bits, 0 once counted). */
static void attribute(struct gp_report_tensor *t, size_t si, uint64_t packed, uint64_t ns)
{
    struct gp_report_tc_site *s = &t->sites[si];
    uint32_t name_id = (uint32_t)packed;
    uint64_t calls = packed >> 32;
    unsigned cls = name_id < t->kernels_cap ? t->kernels[name_id].verdict.cls : GP_KC_UNKNOWN;
    s->gpu_time_ns += ns;
    s->kernel_calls += calls;
    s->kc_ns[cls] += ns;
    t->attributed_kernels += calls;
    t->attributed_ns += ns;
    size_t i;
    for (i = 0; i < s->nkernels && s->kernels[i].name_id != name_id; i++)
        ;
    if (i == s->nkernels && i < GP_REPORT_TC_SITE_KERNELS)
        s->kernels[s->nkernels++] = (struct gp_report_tc_site_kernel){.name_id = name_id, .cls = cls};
    if (i < s->nkernels) {
        s->kernels[i].calls += calls;
        s->kernels[i].time_ns += ns;
    } else {
        s->other_calls += calls;
        s->other_ns += ns;
    }
}

/* Kernels known to belong to external id ext: to its site, or waiting for its LIBCALL. */
static int join_to_ext(struct gp_report_tensor *t, uint64_t ext, uint64_t packed, uint64_t ns)
{
    struct gp_report_tc_join *j = t->join;
    size_t i = map_find(&j->site_of_ext, ext);
    if (i != SIZE_MAX) {
        size_t si = (size_t)j->site_of_ext.v0[i] - 1;
        if (j->site_of_ext.v1[i] != 0) { /* the call's first kernel: its FLOPs are timed */
            double flops;
            memcpy(&flops, &j->site_of_ext.v1[i], sizeof flops);
            t->sites[si].flops_timed += flops;
            j->site_of_ext.v1[i] = 0;
        }
        attribute(t, si, packed, ns);
        return 0;
    }
    int fresh, rc = map_put(t, &j->pend_ext, ext, 0, &i, &fresh);
    if (rc < 0 || i == SIZE_MAX)
        return rc;
    /* several kernels of one call waiting: counted together under the first one's name */
    j->pend_ext.v0[i] = fresh ? packed : j->pend_ext.v0[i] + (packed & ~0xffffffffull);
    j->pend_ext.v1[i] += ns;
    return 0;
}

static int join_libcall(struct gp_report_tensor *t, uint64_t ext, size_t si, double flops)
{
    int fresh, rc;
    size_t i;
    if ((rc = join_get(t)) < 0)
        return rc;
    struct gp_report_tc_join *j = t->join;
    j->seen = 1;
    if ((rc = map_put(t, &j->site_of_ext, ext, 0, &i, &fresh)) < 0 || i == SIZE_MAX)
        return rc;
    j->site_of_ext.v0[i] = si + 1;
    memcpy(&j->site_of_ext.v1[i], &flops, sizeof flops);
    size_t p = map_find(&j->pend_ext, ext);
    if (p != SIZE_MAX) {
        uint64_t packed = j->pend_ext.v0[p], ns = j->pend_ext.v1[p];
        map_del(&j->pend_ext, p);
        return join_to_ext(t, ext, packed, ns);
    }
    return 0;
}

static int join_ext_corr(struct gp_report_tensor *t, uint32_t corr, uint64_t ext)
{
    int fresh, rc;
    size_t i;
    if (corr == 0 || ext == 0)
        return 0;
    if ((rc = join_get(t)) < 0)
        return rc;
    struct gp_report_tc_join *j = t->join;
    j->seen = 1;
    if ((rc = map_put(t, &j->ext_of_corr, corr, 0, &i, &fresh)) < 0)
        return rc;
    if (i != SIZE_MAX)
        j->ext_of_corr.v0[i] = ext;
    size_t p = map_find(&j->pend_corr, corr);
    if (p == SIZE_MAX)
        return 0;
    uint64_t packed = j->pend_corr.v0[p], ns = j->pend_corr.v1[p];
    map_del(&j->pend_corr, p);
    return join_to_ext(t, ext, packed, ns);
}

static int join_kernel(struct gp_report_tensor *t, uint32_t corr, uint32_t name_id, uint64_t ns)
{
    struct gp_report_tc_join *j = t->join;
    if (corr == 0 || j == NULL || !j->seen)
        return 0; /* no library call was tied to kernels (yet): nothing to wait for */
    size_t i = map_find(&j->ext_of_corr, corr);
    if (i != SIZE_MAX)
        return join_to_ext(t, j->ext_of_corr.v0[i], PACK(name_id, 1), ns);
    /* Its EXT_CORR may still come, or it was launched outside any library call: kernels
     * older than the newest EXT_CORR are let go uncounted when room is needed. */
    int fresh, rc = map_put(t, &j->pend_corr, corr, j->ext_of_corr.max_key, &i, &fresh);
    if (rc < 0 || i == SIZE_MAX)
        return rc;
    j->pend_corr.v0[i] = fresh ? PACK(name_id, 1) : j->pend_corr.v0[i] + PACK(0, 1);
    j->pend_corr.v1[i] += ns;
    return 0;
}

/* A site's final verdict: its kernels decide when their names do (layer "kernel name"),
 * by GPU time; else layer 1's stands. */
static void site_finish(struct gp_report_tensor *t, const struct gp_report_model *m,
                        struct gp_report_tc_site *s)
{
    (void)t;
    for (size_t a = 1; a < s->nkernels; a++) /* longest first; a handful: insertion sort */
        for (size_t b = a; b > 0 && s->kernels[b].time_ns > s->kernels[b - 1].time_ns; b--) {
            struct gp_report_tc_site_kernel x = s->kernels[b];
            s->kernels[b] = s->kernels[b - 1];
            s->kernels[b - 1] = x;
        }
    s->tflops = s->gpu_time_ns ? s->flops_timed / (double)s->gpu_time_ns / 1e3 : 0.0;
    uint64_t tc = s->kc_ns[GP_KC_TENSOR], cc = s->kc_ns[GP_KC_CUDA_CORE];
    if (tc + cc == 0) {
        s->ran = GP_KC_UNKNOWN;
        s->final_layer = s->verdict.layer;
        snprintf(s->why, sizeof s->why, "%s", s->verdict.reason);
        return;
    }
    s->ran = tc >= cc ? GP_KC_TENSOR : GP_KC_CUDA_CORE;
    s->final_layer = "kernel name";
    const char *name = "(unnamed)";
    for (size_t i = 0; i < s->nkernels; i++)
        if (s->kernels[i].cls == s->ran) {
            const char *n = gp_trace_reader_string(m->reader, s->kernels[i].name_id);
            name = n ? n : name;
            break;
        }
    if (s->ran == GP_KC_TENSOR)
        snprintf(s->why, sizeof s->why, "ran on Tensor Cores (kernel %.150s)", name);
    else if (s->verdict.cls == GP_TC_ALLOWED)
        snprintf(s->why, sizeof s->why,
                 "ran on CUDA cores (kernel %.100s): the library chose a CUDA-core kernel "
                 "although Tensor Cores were allowed",
                 name);
    else
        snprintf(s->why, sizeof s->why, "ran on CUDA cores (kernel %.80s): %s", name,
                 s->verdict.reason);
}

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
        return join_kernel(t, a->correlation, a->name_id, ns);
    }
    if (rec->type == GP_REC_EXT_CORR) {
        const struct gp_activity *a = gp_trace_reader_activity(m->reader);
        if (a == NULL || a->type != GP_REC_EXT_CORR || a->kind != GP_TC_EXT_KIND)
            return 0;
        return join_ext_corr(t, a->correlation, a->value);
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
    return si == SIZE_MAX ? 0 : join_libcall(t, rec->lib.ext_id, si, flops);
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

static void kernels_finish(struct gp_report_tensor *t, const struct gp_report_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < t->kernels_cap; i++) {
        struct gp_report_tc_kernel k = t->kernels[i];
        if (k.calls == 0)
            continue;
        (void)m; /* classified at first sight (kernel_add) */
        t->kernel_calls[k.verdict.cls] += k.calls;
        t->kernel_ns[k.verdict.cls] += k.time_ns;
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

static int tensor_finish(void *ctx, const struct gp_report_model *m)
{
    struct gp_report_tensor *t = ctx;
    join_free(t);
    kernels_finish(t, m);
    for (size_t i = 0; i < t->nsites; i++) {
        struct gp_report_tc_site *st = &t->sites[i];
        site_finish(t, m, st);
        for (size_t p = 0; p < t->nprec; p++)
            if (strcmp(t->by_prec[p].name, st->verdict.precision) == 0) {
                t->by_prec[p].gpu_time_ns += st->gpu_time_ns;
                t->by_prec[p].tc_time_ns += st->kc_ns[GP_KC_TENSOR];
                break;
            }
    }
    if (t->nsites > 1)
        qsort(t->sites, t->nsites, sizeof t->sites[0], site_cmp);
    /* The headline: attributed kernels where the join found any, else names alone. */
    t->attributed = t->attributed_ns > 0;
    t->gemm_time_ns = t->attributed ? t->attributed_ns : t->name_gemm_time_ns;
    t->tc_time_ns = t->name_tc_time_ns;
    if (t->attributed) {
        t->tc_time_ns = 0;
        for (size_t i = 0; i < t->nsites; i++)
            t->tc_time_ns += t->sites[i].kc_ns[GP_KC_TENSOR];
    }
    t->tc_fraction = t->gemm_time_ns ? (double)t->tc_time_ns / (double)t->gemm_time_ns : 0.0;
    return 0;
}

int gp_report_tensor_attach(struct gp_report_tensor *t, struct gp_report_model *m)
{
    memset(t, 0, sizeof *t);
    struct gp_report_observer o = {.ctx = t, .record = tensor_record, .finish = tensor_finish};
    return gp_report_model_observe(m, &o);
}

void gp_report_tensor_fini(struct gp_report_tensor *t)
{
    join_free(t);
    free(t->sites);
    free(t->kernels);
    memset(t, 0, sizeof *t);
}
