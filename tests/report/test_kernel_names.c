/* test_kernel_names.c — layer 3 of the Tensor Core verdict (report/kernel_names.c): every
 * line of tests/data/kernel-names/corpus.tsv (real names from public profiles, argv[1])
 * gets its expected class; tricky names get an exact class and rule; and
 * gp_report_classify_kernels prints exact lines, escapes hostile names and reports write
 * errors; on a trace of KERNEL records the Tensor Core analysis adds GPU time by class and
 * the text and JSON views show it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"

static const char *corpus_path;

static void test_corpus(void **state)
{
    (void)state;
    FILE *f = fopen(corpus_path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, names = 0, wrong = 0, per[GP_KC_CLASSES] = {0};
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        assert_non_null(tab2);
        *tab1 = *tab2 = '\0';
        /* every name cites where it was seen */
        assert_true(strncmp(tab2 + 1, "https://", 8) == 0);
        struct gp_report_kverdict v;
        gp_report_kernel_classify(line, &v);
        names++;
        per[v.cls]++;
        if (strcmp(gp_report_kclass_name(v.cls), tab1 + 1) != 0) {
            wrong++;
            fprintf(stderr, "corpus: %s: expected %s, got %s (%s)\n", line, tab1 + 1,
                    gp_report_kclass_name(v.cls), v.rule);
        }
    }
    free(line);
    fclose(f);
    assert_true(names >= 60);
    assert_int_equal(wrong, 0);
    /* the corpus covers all three answers */
    assert_true(per[GP_KC_TENSOR] >= 20 && per[GP_KC_CUDA_CORE] >= 10 && per[GP_KC_UNKNOWN] >= 10);
}

static void expect(const char *name, const char *cls, const char *rule)
{
    struct gp_report_kverdict v;
    gp_report_kernel_classify(name, &v);
    if (strcmp(gp_report_kclass_name(v.cls), cls) != 0 || strcmp(v.rule, rule) != 0)
        fprintf(stderr, "%s: got %s/%s\n", name, gp_report_kclass_name(v.cls), v.rule);
    assert_string_equal(gp_report_kclass_name(v.cls), cls);
    assert_string_equal(v.rule, rule);
}

static void test_tricky(void **state)
{
    (void)state;
    /* "tensor" in a name is not a Tensor Core: THC tensors, TensorIterator, cuBLAS's GEMV
     * "Tensor" parameter types */
    expect("void nearest_neighbor_4d_kernel<float, float>(int, THCDeviceTensor<float, int=4, "
           "int, DefaultPtrTraits>)", "unknown", "none");
    expect("my_tensor_kernel", "unknown", "none");
    expect("void gemv2T_kernel_val<int, int, __half, __half, __half, float, 128, 16, 2, 4, "
           "false, false, cublasGemvParamsEx<int, cublasGemvTensorStridedBatched<__half const>, "
           "cublasGemvTensorStridedBatched<__half>, float> >", "cuda-core", "gemv");
    /* PyProf's false positive: an fp32 xmma kernel runs FFMA; truncated, only its types say so */
    expect("sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize128x128x8_stage3_warpsize2x2x1_ffma_"
           "aligna4_alignc4_execute_kernel__5x_cublas", "cuda-core", "ffma");
    expect("sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_128x128x8_stage3", "cuda-core", "xmma-fp32");
    /* the TF32 one is a Tensor Core kernel */
    expect("sm80_xmma_gemm_f32f32_tf32f32_f32_nn_n_tilesize32x32x64_stage3_warpsize2x1x2_"
           "tensor16x8x8", "tensor", "xmma-tensor");
    expect("sm90_xmma_gemm_f32f32_tf32f32_f32_tn_n_tilesize128x128x32_warpgroupsize1x1x1_"
           "execute_segment_k_off_kernel__5x_cublas", "tensor", "xmma-warpgroup");
    /* "fp16" is not evidence: the scudnn kernels ran on a T4 without Tensor Cores */
    expect("volta_fp16_scudnn_fp16_128x128_stridedB_splitK_small_nn_v1", "cuda-core", "scudnn");
    /* FP64 on Tensor Cores: the d884 token wins over the later "dgemm" rule */
    expect("cutlass_tensorop_d884gemm_64x64_16x4_nn_align1", "tensor", "mma-shape");
    expect("maxwell_dgemm_64x64_nn", "cuda-core", "blas-gemm");
    /* CUTLASS simt, 2.x and 3.x; an sgemm name carrying the simt class */
    expect("cutlass_80_simt_sgemm_128x128_8x4_nt_align1", "cuda-core", "simt");
    expect("cutlass3x_sm100_simt_sgemm_f32_f32_f32_f32_f32_64x64x16_1x1x1_3_tnn_align1_bias_"
           "f32_relu", "cuda-core", "simt");
    expect("cutlass3x_sm90_tensorop_s64x128x16gemm_bf16_bf16_f32_bf16_bf16_128x128x64_2x1x1_0_"
           "ntn_align8_warpspecialized_pingpong_epi_tma", "tensor", "tensorop");
    expect("ampere_sgemm_128x64_tn", "cuda-core", "blas-gemm");
    /* a hand-written WMMA kernel called hgemm uses Tensor Cores */
    expect("hgemm_wmma_m16n16k16_mma4x2_warp2x4_stages", "tensor", "wmma");
    /* nvjet: Tensor Core, except plain fp32 which the name cannot decide */
    expect("nvjet_sm90_qqtst_128x128_128x6_1x2_h_bz_ovscale_TNT", "tensor", "nvjet");
    expect("nvjet_sss_tf32_128x256_TNT", "tensor", "nvjet");
    expect("nvjet_sss_128x256_64x4_1x2_h_bz_TNT", "unknown", "nvjet-fp32");
    /* attention and JIT kernels are undecidable by name, unless an MMA token says so */
    expect("flash_fwd_kernel", "unknown", "attention");
    expect("void pytorch_flash::flash_fwd_kernel<Flash_fwd_kernel_traits<128, 64, 64, 4, false, "
           "false, cutlass::half_t> >(Flash_fwd_params)", "unknown", "attention");
    expect("void flashinfer::norm::RMSNormKernel<8u, __nv_bfloat16>", "unknown", "none");
    expect("fmha_cutlassF_f16_aligned_64x128_rf_sm80", "unknown", "attention");
    expect("triton_tem_fused_mm_0", "unknown", "triton");
    expect("cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_7_64x128x64_4x1x1_"
           "kernel0_0", "tensor", "hgmma");
    /* digits of tile sizes are not MMA shapes */
    expect("conv_tile_16816_kernel", "unknown", "none");
    expect("reduce_1688x4_kernel", "unknown", "none");
    /* a helper inside cuDNN's gemm namespace is not a GEMM */
    expect("cudnn::gemm::computeOffsetsKernel(cudnn::gemm::ComputeOffsetsParams)", "unknown",
           "none");
    /* a mangled CUTLASS kernel: identifiers survive mangling */
    expect("_ZN7cutlass7Kernel2I60cutlass_80_tensorop_s16816gemm_relu_f16_64x64_32x6_tn_align8EEvNT_6ParamsE",
           "tensor", "mma-shape");
    expect("", "unknown", "none");
    struct gp_report_kverdict v;
    gp_report_kernel_classify(NULL, &v);
    assert_string_equal(v.rule, "none");
}

static void test_classify_stream(void **state)
{
    (void)state;
    static const char input[] = "volta_sgemm_128x64_nn\n"
                                "\n"
                                "nvjet_tst_8x64_64x16_4x1_v_bz_TNN\r\n"
                                "evil\tname\x1b[31m\\x\n"
                                "elementwise_kernel";
    FILE *in = fmemopen((void *)input, sizeof input - 1, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(in);
    assert_non_null(out);
    assert_int_equal(gp_report_classify_kernels(in, out), 0);
    fclose(out);
    fclose(in);
    assert_string_equal(buf,
                        "volta_sgemm_128x64_nn\tcuda-core\tblas-gemm: sgemm without an MMA token: "
                        "fp32 FFMA GEMM\n"
                        "nvjet_tst_8x64_64x16_4x1_v_bz_TNN\ttensor\tnvjet: cuBLAS nvjet "
                        "(Hopper/Blackwell GEMM): Tensor Core (nsys-ai PR #582)\n"
                        "evil\\tname\\x1b[31m\\\\x\tunknown\tnone: no rule matched\n"
                        "elementwise_kernel\tunknown\tnone: no rule matched\n");
    free(buf);
}

static void test_classify_write_error(void **state)
{
    (void)state;
    static const char input[] = "volta_sgemm_128x64_nn\n";
    FILE *in = fmemopen((void *)input, sizeof input - 1, "r");
    FILE *out = fopen("/dev/full", "w");
    assert_non_null(in);
    if (out == NULL) {
        fclose(in);
        skip();
    }
    assert_int_equal(gp_report_classify_kernels(in, out), -EIO);
    fclose(in);
    fclose(out);
}


static int kernel(struct tb *tb, const char *name, uint64_t start, uint64_t dur)
{
    struct gp_activity a;
    memset(&a, 0, sizeof a);
    a.type = GP_REC_KERNEL;
    a.stream = 7;
    a.correlation = 1;
    a.start_ns = TB_T0 + start;
    a.end_ns = TB_T0 + start + dur;
    a.name = name;
    a.grid[0] = a.block[0] = 1;
    return gp_trace_writer_activity(tb->w, &a);
}

static char *view(struct gp_report *r, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(json ? gp_report_view_json(f, r) : gp_report_view_text(f, r), 0);
    fclose(f);
    return buf;
}

static void test_trace_layer3(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    struct gp_report_options opt = {.top = 10};
    char err[256];
    static const char tc[] = "ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_tn";
    static const char cc[] = "volta_sgemm_128x64_nn";
    assert_int_equal(tb_open(&tb, NULL), 0);
    assert_int_equal(tb_alloc(&tb, 100, GP_MEM_DEVICE, 0x1000, 4096, NULL), 0);
    assert_int_equal(kernel(&tb, tc, 1000000, 3000000), 0);
    assert_int_equal(kernel(&tb, cc, 5000000, 1000000), 0);
    assert_int_equal(kernel(&tb, tc, 7000000, 3000000), 0);
    assert_int_equal(kernel(&tb, "elementwise_kernel", 11000000, 500000), 0);
    assert_int_equal(kernel(&tb, "flash_fwd_kernel", 12000000, 700000), 0);
    assert_int_equal(tb_close(&tb), 0);
    assert_int_equal(gp_report_load(&r, tb.path, &opt, err, sizeof err), 0);
    const struct gp_report_tensor *t = &r.tensor;
    assert_int_equal(t->nkernels, 4);
    assert_int_equal(t->kernel_ns[GP_KC_TENSOR], 6000000);
    assert_int_equal(t->kernel_calls[GP_KC_TENSOR], 2);
    assert_int_equal(t->kernel_ns[GP_KC_CUDA_CORE], 1000000);
    assert_int_equal(t->kernel_ns[GP_KC_UNKNOWN], 1200000);
    assert_int_equal(t->kernel_calls[GP_KC_UNKNOWN], 2);
    assert_int_equal(t->gemm_time_ns, 7000000);
    assert_true(t->tc_fraction > 0.857142 && t->tc_fraction < 0.857143);
    /* longest first, each with the rule that decided it */
    assert_string_equal(gp_trace_reader_string(r.model->reader, t->kernels[0].name_id), tc);
    assert_string_equal(t->kernels[0].verdict.rule, "mma-shape");
    assert_string_equal(t->kernels[1].verdict.rule, "blas-gemm");

    char *text = view(&r, 0);
    /* the answer first (no library call: every GEMM/conv kernel), then the layer's totals */
    assert_non_null(strstr(text, "\nTensor Cores (layer 3: kernel names)\n"
                                 "  Tensor Cores: 86% of matrix-product GPU time; 14% on CUDA "
                                 "cores (every GEMM/conv kernel of the run; none tied to a "
                                 "library call)\n"
                                 "  GEMM/conv kernels: 0.007000 s of GPU time, 85.7% on Tensor Core "
                                 "kernels (0.006000 s), 14.3% on CUDA-core kernels (0.001000 s)\n"
                                 "  other kernels (not classified by name): 0.001200 s\n"));
    assert_non_null(strstr(text, "    tensor    0.006000 s, 2 calls  " 
                                 "ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_tn\n"
                                 "      why (layer kernel name): mma-shape: "));
    assert_non_null(strstr(text, "    cuda-core 0.001000 s, 1 call  volta_sgemm_128x64_nn\n"));
    free(text);
    char *json = view(&r, 1);
    /* the writer indents: check each field on its own, inside "tensor_cores" */
    char *tcj = strstr(json, "\"tensor_cores\"");
    assert_non_null(tcj);
    assert_non_null(strstr(tcj, "\"gemm_time_ns\": 7000000"));
    assert_non_null(strstr(tcj, "\"tc_time_ns\": 6000000"));
    assert_non_null(strstr(tcj, "\"tc_fraction\": 0.857143"));
    assert_non_null(strstr(tcj, "\"layer\": \"kernel name\""));
    assert_non_null(strstr(tcj, "\"calls\": 2,\n"));
    assert_non_null(strstr(tcj, "\"time_ns\": 1200000"));
    assert_non_null(strstr(tcj, "\"time_ns\": 6000000"));
    assert_non_null(strstr(tcj, "\"time_ns\": 1000000"));
    assert_non_null(strstr(tcj, "\"name\": \"volta_sgemm_128x64_nn\""));
    assert_non_null(strstr(tcj, "\"rule\": \"blas-gemm\""));
    assert_non_null(strstr(tcj, "\"rule\": \"mma-shape\""));
    assert_null(strstr(tcj, "elementwise_kernel")); /* unknowns are not listed */
    free(json);
    gp_report_fini(&r);
    tb_remove(&tb);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s corpus.tsv\n", argv[0]);
        return 2;
    }
    corpus_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_tricky),
        cmocka_unit_test(test_classify_stream),
        cmocka_unit_test(test_classify_write_error),
        cmocka_unit_test(test_trace_layer3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
