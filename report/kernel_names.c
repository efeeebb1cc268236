/* kernel_names.c — Tensor Core verdict, layer 3: what a kernel's name says. A table of
 * rules, tried in order, first match wins; each rule names its source. CUDA-core markers
 * that are strong enough to override any Tensor Core token come first (an fp32 xmma kernel
 * is named "xmma" yet runs FFMA), then the Tensor Core markers, then the weak CUDA-core
 * markers (sgemm, hgemm ... without an MMA token), then names known to be undecidable.
 * A name no rule knows stays "unknown". The table and its order are documented in
 * docs/tensor-cores.md; tests/data/kernel-names/corpus.tsv checks it on real names.
 * Sources cited below: "notes" = /work/shared/notes/tensor-cores.md, sections 1-2, 7. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

enum match { SUB, SUB_NOCASE, SHAPE, XMMA_FP32, NVJET_FP32 };

struct rule {
    const char *id;
    unsigned cls;
    enum match how;
    const char *pat;
    const char *why;
};

/* MMA instruction shapes as cuBLAS, cuDNN and CUTLASS 2.x spell them after the accumulator
 * letter (h half, s single, i int, d double, c complex): Volta m8n8k4 "884", Turing/Ampere
 * m16n8k8 "1688", Ampere m16n8k16 "16816", int8 "8816"/"16832", TF32 "1684", WMMA
 * "161616" (notes §2; PyProf TC_Allowlist; XProf adds i16832). */
static const char *const shapes[] = {"161616", "16816", "16832", "1688", "1684", "8816", "884"};

static const struct rule rules[] = {
    /* 1. strong CUDA-core markers (notes §2 "xmma ... ffma = CC", §7 L2 step 1) */
    {"ffma", GP_KC_CUDA_CORE, SUB, "_ffma",
     "math token ffma: FP32 FMA on CUDA cores (sm80_xmma_gemm_f32f32_..._ffma_*)"},
    {"xmma-fp32", GP_KC_CUDA_CORE, XMMA_FP32, NULL,
     "xmma with f32f32_f32f32 types: fp32 compute without TF32 runs FFMA"},
    {"simt", GP_KC_CUDA_CORE, SUB, "simt", "CUTLASS simt: CUDA-core MMA (profiler.md)"},
    {"scudnn", GP_KC_CUDA_CORE, SUB, "scudnn",
     "cuDNN scudnn: single-precision CUDA-core convolution (pytorch#42311)"},
    {"gemv", GP_KC_CUDA_CORE, SUB_NOCASE, "gemv",
     "matrix-vector kernel: cuBLAS runs GEMV shapes on CUDA cores"},
    {"gemmk1", GP_KC_CUDA_CORE, SUB, "gemmk1_kernel", "cuBLAS k=1 GEMM on CUDA cores"},
    {"dot", GP_KC_CUDA_CORE, SUB, "dot_kernel", "cuBLAS dot product (PyProf NON_TC)"},
    {"implicit-convolve", GP_KC_CUDA_CORE, SUB, "implicit_convolve",
     "cuDNN implicit_convolve*_sgemm: CUDA-core convolution"},
    {"precomputed-convolve", GP_KC_CUDA_CORE, SUB, "precomputed_convolve",
     "cuDNN precomputed_convolve_sgemm: CUDA-core convolution"},
    {"splitk-reduce", GP_KC_CUDA_CORE, SUB, "splitKreduce",
     "split-K reduction of a GEMM: elementwise sums on CUDA cores"},
    /* 2. Tensor Core markers */
    {"mma-shape", GP_KC_TENSOR, SHAPE, NULL,
     "MMA shape token (884/1688/16816/8816/16832): Tensor Core HMMA/IMMA/DMMA kernel"},
    {"tensorop", GP_KC_TENSOR, SUB, "tensorop", "CUTLASS tensorop: Tensor Core MMA (profiler.md)"},
    {"xmma-tensor", GP_KC_TENSOR, SUB, "_tensor16x8x",
     "xmma math token tensor16x8xN: HMMA (notes §2)"},
    {"xmma-warpgroup", GP_KC_TENSOR, SUB, "warpgroupsize",
     "xmma warpgroupsize: Hopper warpgroup GMMA (notes §2)"},
    {"nvjet-fp32", GP_KC_UNKNOWN, NVJET_FP32, NULL,
     "nvjet fp32 (sss) without tf32: not decided by name (notes §2, needs SASS)"},
    {"nvjet", GP_KC_TENSOR, SUB, "nvjet_",
     "cuBLAS nvjet (Hopper/Blackwell GEMM): Tensor Core (nsys-ai PR #582)"},
    {"xmma", GP_KC_TENSOR, SUB, "xmma_",
     "xmma gemm/conv with a reduced-precision type: Tensor Core (PyProf allowlist)"},
    {"hgmma", GP_KC_TENSOR, SUB_NOCASE, "gmma", "GMMA/WGMMA: Hopper warpgroup MMA"},
    {"hmma", GP_KC_TENSOR, SUB_NOCASE, "hmma", "HMMA: Tensor Core half-precision MMA"},
    {"imma", GP_KC_TENSOR, SUB_NOCASE, "imma", "IMMA: Tensor Core integer MMA"},
    {"wmma", GP_KC_TENSOR, SUB_NOCASE, "wmma", "WMMA: CUDA's Tensor Core API"},
    {"cudnn-special", GP_KC_TENSOR, SUB, "dgrad_1x1_stride_2x2",
     "cuDNN Tensor Core kernel (PyProf/kineto allowlist)"},
    {"cudnn-special", GP_KC_TENSOR, SUB, "first_layer_wgrad_kernel",
     "cuDNN Tensor Core kernel (PyProf/kineto allowlist)"},
    {"cudnn-special", GP_KC_TENSOR, SUB, "conv2d_c1_k1",
     "cuDNN Tensor Core kernel (PyProf/kineto allowlist)"},
    {"cudnn-special", GP_KC_TENSOR, SUB, "direct_group",
     "cuDNN Tensor Core kernel (PyProf/kineto allowlist)"},
    /* 3. weak CUDA-core markers: a BLAS GEMM name with no MMA token (notes §7 step 3) */
    {"blas-gemm", GP_KC_CUDA_CORE, SUB_NOCASE, "sgemm",
     "sgemm without an MMA token: fp32 FFMA GEMM"},
    {"blas-gemm", GP_KC_CUDA_CORE, SUB_NOCASE, "dgemm",
     "dgemm without a DMMA token: fp64 DFMA GEMM"},
    {"blas-gemm", GP_KC_CUDA_CORE, SUB_NOCASE, "hgemm",
     "hgemm without an MMA token: fp16 HFMA2 GEMM"},
    {"blas-gemm", GP_KC_CUDA_CORE, SUB_NOCASE, "cgemm",
     "cgemm without an MMA token: complex fp32 GEMM on CUDA cores"},
    {"blas-gemm", GP_KC_CUDA_CORE, SUB_NOCASE, "zgemm",
     "zgemm without an MMA token: complex fp64 GEMM on CUDA cores"},
    /* 4. known but undecidable: attention and JIT kernels (notes §2 "name not evidence") */
    /* "flash_", not "flash": flashinfer's norms and samplers are no attention kernels */
    {"attention", GP_KC_UNKNOWN, SUB_NOCASE, "flash_",
     "attention kernel: its name does not say which units it used (needs SASS)"},
    {"attention", GP_KC_UNKNOWN, SUB_NOCASE, "fmha",
     "attention kernel: its name does not say which units it used (needs SASS)"},
    {"triton", GP_KC_UNKNOWN, SUB, "triton_",
     "Triton kernel: its name does not say which units it used (needs SASS)"},
};

static const char *strcasestr_ascii(const char *s, const char *p)
{
    size_t n = strlen(p);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == p[i])
            i++;
        if (i == n)
            return s;
    }
    return NULL;
}

/* "_s1688gemm", "_h884cudnn", "_i16832gemm", "_s1688tf32gemm", "fp16_s16816gemm": an
 * accumulator letter at a word start, a shape, then a letter (tile sizes such as "_128x64"
 * never start with a letter, so they cannot match). */
static int has_shape(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (!strchr("hsidcz", *p) || (p != s && isalnum((unsigned char)p[-1])))
            continue;
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            size_t n = strlen(shapes[i]);
            if (strncmp(p + 1, shapes[i], n) == 0 && isalpha((unsigned char)p[1 + n]))
                return 1;
        }
    }
    return 0;
}

static int matches(const struct rule *r, const char *s)
{
    switch (r->how) {
    case SUB:
        return strstr(s, r->pat) != NULL;
    case SUB_NOCASE:
        return strcasestr_ascii(s, r->pat) != NULL;
    case SHAPE:
        return has_shape(s);
    case XMMA_FP32:
        return strstr(s, "xmma_") && strstr(s, "f32f32_f32f32");
    case NVJET_FP32:
        return strstr(s, "nvjet_") && strstr(s, "_sss_") && !strstr(s, "tf32");
    }
    return 0;
}

const char *gp_report_kclass_name(unsigned cls)
{
    switch (cls) {
    case GP_KC_TENSOR:
        return "tensor";
    case GP_KC_CUDA_CORE:
        return "cuda-core";
    default:
        return "unknown";
    }
}

void gp_report_kernel_classify(const char *name, struct gp_report_kverdict *v)
{
    v->cls = GP_KC_UNKNOWN;
    v->rule = "none";
    v->reason = "no rule matched";
    if (name == NULL || *name == '\0')
        return;
    /* Mangled names carry identifiers verbatim, but their length prefixes are digits
     * that could pass for shapes: read the demangled form when there is one. */
    char *dm = gp_report_demangle(name);
    const char *s = dm ? dm : name;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (matches(&rules[i], s)) {
            v->cls = rules[i].cls;
            v->rule = rules[i].id;
            v->reason = rules[i].why;
            break;
        }
    }
    free(dm);
}

/* A name as one field of a tab-separated line: backslash, tab and other control bytes
 * escaped, so a hostile name cannot forge columns or drive a terminal. */
static void put_field(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\')
            fputs("\\\\", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

int gp_report_classify_kernels(FILE *in, FILE *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, in)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        struct gp_report_kverdict v;
        gp_report_kernel_classify(line, &v);
        put_field(out, line);
        fprintf(out, "\t%s\t%s: %s\n", gp_report_kclass_name(v.cls), v.rule, v.reason);
    }
    if (ferror(in) || ferror(out) || fflush(out) != 0)
        rc = -EIO;
    free(line);
    return rc;
}
