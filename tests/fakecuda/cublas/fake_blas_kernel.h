/* fake_blas_kernel.h — the kernel the fake cuBLAS and cuBLASLt launch for a GEMM: a name in
 * the style the real libraries use, chosen roughly as they choose (Tensor Core kernels for
 * 16-bit inputs with 16-byte multiples, TF32 ones for fp32 with TF32 allowed, FFMA or GEMV
 * kernels otherwise), and a fixed duration per choice so tests can check GPU time and
 * TFLOP/s exactly. Launched as an activity record of the fake libcupti.so.13 when that is
 * loaded (the fake runtime launches nothing). Test-only; included by both fakes. */
#ifndef FAKE_BLAS_KERNEL_H
#define FAKE_BLAS_KERNEL_H

#include <dlfcn.h>
#include <stdint.h>

#include "fakecupti.h"

/* Durations (ns) of the fake kernels, by choice: tests compute TFLOP/s from these. */
#define FAKE_BLAS_NS_TENSOR 10000
#define FAKE_BLAS_NS_TF32 20000
#define FAKE_BLAS_NS_FFMA 80000
#define FAKE_BLAS_NS_GEMV 30000
#define FAKE_BLAS_NS_OTHER 50000

/* compute: cublasComputeType_t (or the legacy cudaDataType); math: the handle's cublasMath_t. */
static const char *fake_blas_kernel(int atype, int compute, int math, int64_t m, int64_t n,
                                    int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                                    uint64_t *ns)
{
    int half = atype == 2 /* CUDA_R_16F */, bf16 = atype == 14 /* CUDA_R_16BF */;
    if (half || bf16) {
        if (m == 1 || n == 1) {
            *ns = FAKE_BLAS_NS_GEMV;
            return "gemv2T_kernel_val_half";
        }
        if (m % 8 || n % 8 || k % 8 || lda % 8 || ldb % 8 || ldc % 8) {
            *ns = FAKE_BLAS_NS_FFMA;
            return half ? "sm80_xmma_gemm_f16f16_f16f32_f32_nn_n_tilesize64x64x8_stage3_warpsize2x2x1_"
                          "ffma_aligna2_alignc2_execute_kernel__5x_cublas"
                        : "sm80_xmma_gemm_bf16bf16_bf16f32_f32_nn_n_tilesize64x64x8_stage3_"
                          "warpsize2x2x1_ffma_aligna2_alignc2_execute_kernel__5x_cublas";
        }
        *ns = FAKE_BLAS_NS_TENSOR;
        return half ? "nvjet_hsh_128x128_64x4_1x2_h_bz_coopA_NTN"
                    : "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_"
                      "warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas";
    }
    if (atype == 0 /* CUDA_R_32F */) {
        int c = compute == 0 ? 68 : compute; /* legacy CUDA_R_32F = CUBLAS_COMPUTE_32F */
        if (c == 77 /* CUBLAS_COMPUTE_32F_FAST_TF32 */ || (c == 68 && (math & 0xf) == 3)) {
            *ns = FAKE_BLAS_NS_TF32;
            return "sm80_xmma_gemm_f32f32_tf32f32_f32_tn_n_tilesize128x128x16_stage4_"
                   "warpsize2x2x1_tensor16x8x8_execute_kernel__5x_cublas";
        }
        *ns = FAKE_BLAS_NS_FFMA;
        return "sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize128x128x8_stage3_warpsize2x2x1_"
               "ffma_aligna4_alignc4_execute_kernel__5x_cublas";
    }
    *ns = FAKE_BLAS_NS_OTHER;
    return "gemmSN_NN_kernel";
}

static void fake_blas_launch(const void *stream, int atype, int compute, int math, int64_t m,
                             int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc)
{
    void *h = dlopen("libcupti.so.13", RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        return;
    fakecupti_emit_kernel_fn emit = (fakecupti_emit_kernel_fn)dlsym(h, "fakecupti_emit_kernel");
    if (emit != NULL) {
        struct fakecupti_kernel kr = {.stream = (uint32_t)(uintptr_t)stream, .gap_ns = 1000,
                                      .grid = {132, 1, 1}, .block = {384, 1, 1}, .registers = 168};
        kr.name = fake_blas_kernel(atype, compute, math, m, n, k, lda, ldb, ldc, &kr.duration_ns);
        emit(&kr);
    }
    dlclose(h);
}

#endif
