/* test_tensor_layers.c — how the Tensor Core answer is put together from its layers, on
 * synthetic traces written with the real trace writer: a saved cubin whose machine code (a
 * stand-in disassembler prints its listing) overrides misleading kernel names, per kernel,
 * per call site and in the headline, with the name-only totals kept; the hardware counters'
 * number in the headline and the sentence when they contradict the kernels; and the HTML
 * section's headline, per-site verdicts with their layer, and layers 4 and 5. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"
#include "trace_builder.h"
#include "view_html.h"

#define SGEMM "volta_sgemm_128x64_nn" /* cuda-core by name (blas-gemm) */
#define S16816 "ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_tn" /* tensor by name */
#define NVJET "nvjet_hsh_128x128_64x4_1x2_h_bz_coopA_NTN" /* tensor by name, in no cubin */
#define FLASH "flash_fwd_kernel"   /* unknown by name; HMMA in its code */
#define ELEM "elementwise_kernel" /* unknown by name and by code (no MMA or FMA) */
#define HMMA_PCT "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active"
#define PIPE_PCT "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active"
#define INST "sm__inst_executed_pipe_tensor.sum"

enum { F16 = 3, BF16 = 15 }; /* cudaDataType + 1, as traces store it */

static char work[64];     /* the stand-in disassembler and its listing */
static char tool[128];

/* A cuBLAS call (m = n = k) carrying external id ext. */
static int libcall(struct tb *tb, unsigned api, uint8_t type, uint64_t mnk, uint64_t ext)
{
    struct gp_event *ev = calloc(1, gp_event_size(0));
    if (!ev)
        return -ENOMEM;
    ev->type = GP_REC_LIBCALL;
    ev->api = (uint8_t)api;
    ev->tid = 7;
    ev->time_ns = TB_T0 + ext * 1000;
    ev->size = ev->aux1 = ev->aux2 = mnk;
    ev->lib.batch = 1;
    ev->lib.lda = ev->lib.ldb = ev->lib.ldc = mnk;
    ev->lib.type_a = ev->lib.type_b = ev->lib.type_c = type;
    ev->lib.compute = 68; /* CUBLAS_COMPUTE_32F */
    ev->lib.algo = GP_LIB_UNKNOWN;
    ev->lib.ext_id = ext;
    int rc = gp_trace_writer_event(tb->w, ev);
    free(ev);
    return rc;
}

static int activity(struct tb *tb, uint8_t type, const char *name, uint32_t corr, uint64_t value,
                    uint64_t start, uint64_t dur)
{
    struct gp_activity a;
    memset(&a, 0, sizeof a);
    a.type = type;
    a.correlation = corr;
    if (type == GP_REC_EXT_CORR) {
        a.kind = 5; /* CUSTOM2: the shim's library calls */
        a.value = value;
    } else {
        a.stream = 7;
        a.start_ns = TB_T0 + start;
        a.end_ns = TB_T0 + start + dur;
        a.name = name;
        a.grid[0] = a.block[0] = 1;
    }
    return gp_trace_writer_activity(tb->w, &a);
}

/* Call ext launched kernel name (correlation corr) for dur ns. */
static void launch(struct tb *tb, uint64_t ext, uint32_t corr, const char *name, uint64_t dur)
{
    assert_int_equal(activity(tb, GP_REC_EXT_CORR, NULL, corr, ext, 0, 0), 0);
    assert_int_equal(activity(tb, GP_REC_KERNEL, name, corr, 0, corr * 10000, dur), 0);
}

/* The three calls of the layer-4 trace and two kernels outside any call; with_cubin adds
 * a CUBIN record (its bytes do not matter: the stand-in prints a fixed listing). */
static void write_calls(struct tb *tb, int with_cubin)
{
    assert_int_equal(tb_alloc(tb, 100, GP_MEM_DEVICE, 0x1000, 4096, NULL), 0);
    assert_int_equal(libcall(tb, GP_LIB_GEMM_EX, F16, 256, 11), 0);
    launch(tb, 11, 101, SGEMM, 4000);
    assert_int_equal(libcall(tb, GP_LIB_HGEMM, F16, 512, 12), 0);
    launch(tb, 12, 102, S16816, 2000);
    assert_int_equal(libcall(tb, GP_LIB_GEMM_EX, BF16, 64, 13), 0); /* a site of its own */
    launch(tb, 13, 103, NVJET, 1000);
    assert_int_equal(activity(tb, GP_REC_KERNEL, FLASH, 200, 0, 3000000, 3000), 0);
    assert_int_equal(activity(tb, GP_REC_KERNEL, ELEM, 201, 0, 3100000, 500), 0);
    if (with_cubin) {
        static const uint8_t bytes[] = "\177ELF not really a cubin";
        struct gp_cubin c = {.module_id = 1, .state = GP_CUBIN_SAVED, .size = sizeof bytes,
                             .hash = gp_trace_cubin_hash(bytes, sizeof bytes), .data = bytes};
        assert_int_equal(gp_trace_writer_cubin(tb->w, &c), 0);
    }
}

static void load(struct gp_report *r, struct tb *tb)
{
    struct gp_report_options opt = {.top = 10};
    char err[256];
    assert_int_equal(gp_report_load(r, tb->path, &opt, err, sizeof err), 0);
}

static char *render(struct gp_report *r, int what) /* 0 text, 1 JSON, 2 HTML section */
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = what == 0 ? gp_report_view_text(f, r)
             : what == 1 ? gp_report_view_json(f, r)
                         : gp_report_html_tensor(f, r);
    assert_int_equal(rc, 0);
    fclose(f);
    return buf;
}

static void has(const char *text, const char *want)
{
    if (!strstr(text, want)) {
        print_error("missing:\n%s\n", want);
        fputs(text, stderr); /* whole: cmocka's own printing cuts it */
        fail();
    }
}

/* A stand-in nvdisasm that prints the listing of the cubin's functions. */
static int setup(void **state)
{
    (void)state;
    char path[256];
    snprintf(work, sizeof work, "/tmp/gpuprof-tclayers.XXXXXX");
    if (!mkdtemp(work))
        return -1;
    snprintf(path, sizeof path, "%s/listing", work);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "\t.headerflags @\"EF_CUDA_SM80\"\n.text." SGEMM ":\n");
    for (int i = 0; i < 64; i++) /* the sgemm-named kernel is an HMMA kernel */
        fprintf(f, "        /*%04x*/                   HMMA.16816.F32 R4, R8, R12, R4 ;\n", i * 16);
    fprintf(f, ".text." S16816 ":\n"); /* the MMA-shape-named one has only FFMA */
    for (int i = 0; i < 3; i++)
        fprintf(f, "        /*%04x*/                   FFMA R2, R3, R4, R2 ;\n", i * 16);
    fprintf(f, ".text." FLASH ":\n"
               "        /*0000*/                   HMMA.16816.F32.BF16 R4, R8, R12, R4 ;\n"
               "        /*0010*/                   HMMA.16816.F32.BF16 R6, R8, R14, R6 ;\n"
               ".text." ELEM ":\n"
               "        /*0000*/                   MOV R1, c[0x0][0x28] ;\n"
               "        /*0010*/                   EXIT ;\n");
    fclose(f);
    snprintf(tool, sizeof tool, "%s/nvdisasm", work);
    f = fopen(tool, "w");
    if (!f)
        return -1;
    fprintf(f, "#!/bin/sh\nexec cat '%s'\n", path);
    fclose(f);
    chmod(tool, 0700);
    return setenv("GPUPROF_NVDISASM", tool, 1);
}

static int teardown(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/listing", work);
    unlink(path);
    unlink(tool);
    rmdir(work);
    return 0;
}

static const struct gp_report_tc_site *site(const struct gp_report *r, unsigned api, uint64_t m)
{
    for (size_t i = 0; i < r->tensor.nsites; i++)
        if (r->tensor.sites[i].api == api && r->tensor.sites[i].m == m)
            return &r->tensor.sites[i];
    fail_msg("no site %u %llu", api, (unsigned long long)m);
    return NULL;
}

static void test_machine_code_overrides_names(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    write_calls(&tb, 1);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb);
    gp_report_tensor_resolve(&r);
    const struct gp_report_tensor *t = &r.tensor;
    assert_int_equal(r.cubins->status, GP_CUBINS_DONE);

    /* per call site: the machine code decides, and says so */
    const struct gp_report_tc_site *s = site(&r, GP_LIB_GEMM_EX, 256);
    assert_int_equal(s->ran, GP_KC_TENSOR);
    assert_string_equal(s->final_layer, "machine code");
    assert_string_equal(s->why, "ran on Tensor Cores (kernel " SGEMM "; machine code: tensor (HMMA x 64))");
    assert_int_equal(s->kernels[0].cls, GP_KC_TENSOR);
    assert_int_equal(s->kernels[0].name_cls, GP_KC_CUDA_CORE);
    s = site(&r, GP_LIB_HGEMM, 512);
    assert_int_equal(s->ran, GP_KC_CUDA_CORE);
    assert_string_equal(s->final_layer, "machine code");
    assert_string_equal(s->why, "ran on CUDA cores (kernel " S16816 "; machine code: cuda-core (FFMA "
                                "x 3)): the library chose a CUDA-core kernel although Tensor Cores "
                                "were allowed");
    s = site(&r, GP_LIB_GEMM_EX, 64); /* in no cubin: its name stands */
    assert_int_equal(s->ran, GP_KC_TENSOR);
    assert_string_equal(s->final_layer, "kernel name");
    assert_string_equal(s->why, "ran on Tensor Cores (kernel " NVJET ")");

    /* the headline from the attributed kernels' final classes; every kernel by final class;
     * the name-only totals as they were */
    assert_int_equal(t->gemm_time_ns, 7000);
    assert_int_equal(t->tc_time_ns, 5000);
    assert_int_equal(t->kernel_ns[GP_KC_TENSOR], 8000); /* sgemm, nvjet, flash */
    assert_int_equal(t->kernel_ns[GP_KC_CUDA_CORE], 2000);
    assert_int_equal(t->kernel_ns[GP_KC_UNKNOWN], 500);  /* no MMA or FMA: the name's unknown */
    assert_int_equal(t->mc_kernels, 3);
    assert_int_equal(t->name_gemm_time_ns, 7000);
    assert_int_equal(t->name_tc_time_ns, 3000);

    char *text = render(&r, 0);
    has(text, "\nTensor Cores (layer 1: what each library call asked for)\n"
              "  Tensor Cores: 71% of matrix-product GPU time (fp16 57%, bf16 14%); 29% on CUDA cores: 1 "
              "call site, listed below with why\n"
              "  (0.000007 s of GPU time in 3 kernels launched by 3 library calls, tied to them by "
              "external correlation id)\n");
    has(text, "    allowed     1 call, 33554432 FLOP, fp16, cublasGemmEx 256x256x256\n"
              "      why (layer machine code): ran on Tensor Cores (kernel " SGEMM "; machine "
              "code: tensor (HMMA x 64))\n"
              "      asked (layer asked): fp16 inputs\n"
              "      fp16 cublasGemmEx: 1 call, 0.000004 s GPU, 8.4 TFLOP/s, ran on Tensor Cores\n"
              "        tensor    0.000004 s, 1 call  " SGEMM "  (machine code: tensor (HMMA x 64); "
              "its name says cuda-core)\n");
    has(text, "\nTensor Cores by kernel (layer 4: machine code where a saved cubin has the kernel, "
              "else layer 3: its name)\n"
              "  GEMM/conv kernels: 0.000010 s of GPU time, 80.0% on Tensor Core kernels "
              "(0.000008 s), 20.0% on CUDA-core kernels (0.000002 s)\n"
              "  other kernels (not classified by name or machine code): 0.000000 s\n"
              "  by name alone (layer 3): 0.000007 s of GEMM/conv kernels, 42.9% on Tensor Core "
              "kernels; the machine code decided 3 kernels\n"
              "    tensor    0.000004 s, 1 call  " SGEMM "\n"
              "      why (layer machine code): tensor (HMMA x 64); its name says cuda-core (blas-gemm)\n"
              "    tensor    0.000003 s, 1 call  " FLASH "\n"
              "      why (layer machine code): tensor (HMMA x 2); its name says unknown (attention)\n"
              "    tensor    0.000001 s, 1 call  " NVJET "\n"
              "      why (layer kernel name): nvjet: ");
    has(text, "    cuda-core 0.000002 s, 1 call  " S16816 "\n"
              "      why (layer machine code): cuda-core (FFMA x 3); its name says tensor (mma-shape)\n");
    /* layer 4's own section keeps its counts only */
    has(text, "  kernels that ran: 5, found in the cubins: 4\n"
              "  the machine code decided 3 kernels: see the Tensor Cores section above (--json "
              "lists every kernel found under \"cubins\")\n");
    assert_null(strstr(strstr(text, "(layer 4: the kernels' machine code)"), "why (layer"));
    free(text);

    char *json = render(&r, 1);
    char *tc = strstr(json, "\"tensor_cores\"");
    assert_non_null(tc);
    has(tc, "\"headline\": \"Tensor Cores: 71% of matrix-product GPU time (fp16 57%, bf16 14%); 29% on "
            "CUDA cores: 1 call site, listed below with why\",\n");
    has(tc, "\"contradiction\": null");
    has(tc, "\"ran\": \"tensor\",\n        \"verdict_layer\": \"machine code\",\n        \"why\": "
            "\"ran on Tensor Cores (kernel " SGEMM "; machine code: tensor (HMMA x 64))\"");
    has(tc, "\"verdict\": \"tensor\",\n            \"layer\": \"machine code\",\n            "
            "\"machine_code\": \"tensor (HMMA x 64)\",\n            \"name_verdict\": \"cuda-core\"");
    has(tc, "\"reason\": \"ran on CUDA cores (kernel " S16816 "; machine code: cuda-core (FFMA x "
            "3)): the library chose a CUDA-core kernel although Tensor Cores were allowed\",\n"
            "        \"verdict_layer\": \"machine code\"");
    has(tc, "\"by_name\": {\n      \"gemm_time_ns\": 7000,\n      \"tc_time_ns\": 3000,");
    has(tc, "\"layer\": \"machine code, else kernel name\",\n      \"machine_code_kernels\": 3,");
    has(tc, "\"name\": \"" FLASH "\",\n          \"mangled\": \"" FLASH "\",\n          "
            "\"verdict\": \"tensor\",\n          \"layer\": \"machine code\",\n          "
            "\"rule\": \"attention\",\n          \"reason\": \"tensor (HMMA x 2)\",\n          "
            "\"name_verdict\": \"unknown\"");
    free(json);
    gp_report_fini(&r);
    tb_remove(&tb);
}

/* Without a disassembler the names decide, exactly as before layer 4 existed. */
static void test_names_without_machine_code(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    write_calls(&tb, 1);
    assert_int_equal(tb_close(&tb), 0);
    setenv("GPUPROF_NVDISASM", "/nonexistent/nvdisasm", 1);
    load(&r, &tb);
    setenv("GPUPROF_NVDISASM", tool, 1);
    gp_report_tensor_resolve(&r);
    const struct gp_report_tc_site *s = site(&r, GP_LIB_GEMM_EX, 256);
    assert_int_equal(s->ran, GP_KC_CUDA_CORE);
    assert_string_equal(s->final_layer, "kernel name");
    assert_int_equal(r.tensor.mc_kernels, 0);
    assert_int_equal(r.tensor.tc_time_ns, 3000);
    assert_int_equal(r.tensor.kernel_ns[GP_KC_TENSOR], 3000);
    char *text = render(&r, 0);
    has(text, "  Tensor Cores: 43% of matrix-product GPU time (fp16 29%, bf16 14%); 57% on CUDA cores: 1 "
              "call site, listed below with why\n");
    has(text, "\nTensor Cores (layer 3: kernel names)\n");
    free(text);
    gp_report_fini(&r);
    tb_remove(&tb);
}

/* One call on a kernel classed by name_of_kernel, then the counters' INFO records. */
static void counters_trace(struct tb *tb, const char *kernel, const char *metric, const char *value)
{
    assert_int_equal(tb_open(tb, NULL), 0);
    assert_int_equal(libcall(tb, GP_LIB_GEMM_EX, F16, 256, 11), 0);
    launch(tb, 11, 101, kernel, 4000);
    assert_int_equal(gp_trace_writer_info(tb->w, "counters.status", "started"), 0);
    assert_int_equal(gp_trace_writer_info(tb->w, "counters.device", "0"), 0);
    assert_int_equal(gp_trace_writer_info(tb->w, "counters.chip", "GA100"), 0);
    assert_int_equal(gp_trace_writer_info(tb->w, "counters.status", "collected"), 0);
    char key[160];
    snprintf(key, sizeof key, "counters.metric.%s", metric);
    assert_int_equal(gp_trace_writer_info(tb->w, key, value), 0);
    assert_int_equal(gp_trace_writer_info(tb->w, "counters.metric." INST, value), 0);
    assert_int_equal(tb_close(tb), 0);
}

static void test_counters_in_headline(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    struct gp_report_tc_answer a;

    /* they agree: the measured share joins the answer, no contradiction */
    counters_trace(&tb, NVJET, HMMA_PCT, "37.5");
    load(&r, &tb);
    gp_report_tensor_answer(&r, &a);
    assert_int_equal(a.have, 1);
    assert_string_equal(a.headline, "Tensor Cores: 100% of matrix-product GPU time (fp16 100%); 0% "
                                    "on CUDA cores; hardware counters: Tensor Core pipe busy 37.5% "
                                    "of active SM cycles (HMMA)");
    assert_string_equal(a.contradiction, "");
    gp_report_fini(&r);
    tb_remove(&tb);

    /* kernels say Tensor Cores, the counters saw nothing */
    counters_trace(&tb, NVJET, HMMA_PCT, "0");
    load(&r, &tb);
    char *text = render(&r, 0);
    has(text, "  Tensor Cores: 100% of matrix-product GPU time (fp16 100%); 0% on CUDA cores; "
              "hardware counters: Tensor Core pipe busy 0% of active SM cycles (HMMA)\n"
              "  contradiction: the kernels say Tensor Cores (0.000004 s of GPU time in kernels "
              "classed Tensor Core), but the hardware counters saw no Tensor Core work in this "
              "run; the counters measure what the GPU did, so these kernels did not use Tensor "
              "Cores (unless they ran on another device than the counted one)\n"
              "  (0.000004 s of GPU time in 1 kernels launched by 1 library calls");
    free(text);
    char *json = render(&r, 1);
    has(json, "\"contradiction\": \"contradiction: the kernels say Tensor Cores (0.000004 s");
    free(json);
    gp_report_fini(&r);
    tb_remove(&tb);

    /* kernels say CUDA cores, the counters saw Tensor Core work (the whole pipe's metric) */
    counters_trace(&tb, "cc_axpy_kernel_gemv", PIPE_PCT, "41.25");
    load(&r, &tb);
    gp_report_tensor_answer(&r, &a);
    assert_string_equal(a.headline, "Tensor Cores: 0% of matrix-product GPU time; 100% on CUDA "
                                    "cores: 1 call site, listed below with why; hardware counters: "
                                    "Tensor Core pipe busy 41.25% of active SM cycles");
    assert_string_equal(a.contradiction,
                        "contradiction: no kernel was classed Tensor Core, but the hardware counters "
                        "saw Tensor Core work in this run; some kernel used Tensor Cores that "
                        "neither its name nor its machine code showed (a kernel of unknown class, "
                        "or no cubin saved)");
    char *html = render(&r, 2);
    has(html, "<h2>Tensor Cores</h2>\n<p class=\"tc-answer\"><strong>Tensor Cores: 0% of "
              "matrix-product GPU time; 100% on CUDA cores: 1 call site, listed below with why; "
              "hardware counters: Tensor Core pipe busy 41.25% of active SM cycles</strong></p>\n"
              "<p class=\"tc-contradiction\"><strong>contradiction: no kernel was classed Tensor "
              "Core, but");
    has(html, "<h3>Layer 5: hardware counters over the whole run</h3>\n<table class=\"tc-counters\">"
              "<tr><th>metric</th><th>value</th></tr>\n<tr><td><code>" PIPE_PCT "</code></td>"
              "<td class=\"n\">41.25</td></tr>\n");
    free(html);
    gp_report_fini(&r);
    tb_remove(&tb);
}

static void test_html_section(void **state)
{
    (void)state;
    struct tb tb;
    struct gp_report r;
    assert_int_equal(tb_open(&tb, NULL), 0);
    write_calls(&tb, 1);
    assert_int_equal(tb_close(&tb), 0);
    load(&r, &tb);
    char *html = render(&r, 2);
    has(html, "<h2>Tensor Cores</h2>\n<p class=\"tc-answer\"><strong>Tensor Cores: 71% of "
              "matrix-product GPU time (fp16 57%, bf16 14%); 29% on CUDA cores: 1 call site, listed below "
              "with why</strong></p>\n<h3>Layer 1: what each library call asked for</h3>\n");
    assert_null(strstr(html, "tc-contradiction"));
    /* each site: its final verdict and the layer that decided, what was asked, what it ran on */
    has(html, "<td class=\"n\">256x256x256</td><td>(layer machine code) ran on Tensor Cores "
              "(kernel " SGEMM "; machine code: tensor (HMMA x 64)); asked (layer asked) fp16 "
              "inputs</td><td>tensor</td>");
    has(html, "<td class=\"n\">512x512x512</td><td>(layer machine code) ran on CUDA cores (kernel "
              S16816 "; machine code: cuda-core (FFMA x 3)): the library chose a CUDA-core kernel "
              "although Tensor Cores were allowed; asked (layer asked) fp16 inputs</td>"
              "<td>cuda-core</td>");
    has(html, "<h3>Kernels: layer 4 (machine code) where a saved cubin has the kernel, else layer "
              "3 (its name)</h3>\n");
    has(html, "<td><code>" SGEMM "</code></td><td>(layer machine code) tensor (HMMA x 64); its name "
              "says cuda-core (blas-gemm)</td></tr>\n");
    has(html, "<h3>Layer 4: the kernels' machine code</h3>\n<p class=\"tc-cubins\">Modules loaded: "
              "1; cubins saved: 1. Disassembled 1 of 1 with <code>");
    has(html, "</code>; 4 kernels found in the cubins, 3 decided by their machine code.</p>\n");
    assert_null(strstr(html, "Layer 5")); /* the run did not ask for counters */
    free(html);
    gp_report_fini(&r);
    tb_remove(&tb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_machine_code_overrides_names),
        cmocka_unit_test(test_names_without_machine_code),
        cmocka_unit_test(test_counters_in_headline),
        cmocka_unit_test(test_html_section),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
