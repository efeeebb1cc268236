/* test_sass_parse.c — layer 4 of the Tensor Core verdict (report/sass.c) without NVIDIA's
 * tools: listings in nvdisasm and cuobjdump -sass form give exact per-function counts and
 * verdicts (Hopper GMMA, Blackwell UTC*MMA, the HFMA2.MMA move idiom, predicates, dual
 * issue), and gp_report_sass_count runs a stand-in disassembler (argv[1], copied into the
 * work directory argv[2]) with the right argument vector, reports its failure and finds it
 * through GPUPROF_NVDISASM and PATH. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "report.h"

static const char *fake_src, *work;

static const char nvdisasm_listing[] =
    "\t.target\tsm_90a\n"
    "//--------------------- .text.k_hopper --------------------------\n"
    "\t.section\t.text.k_hopper,\"ax\",@progbits\n"
    ".text.k_hopper:\n"
    "        /*0000*/                   MOV R1, c[0x0][0x28] ;\n"
    "        /*0010*/                   HGMMA.64x128x16.F32 R24, gdesc[UR4], RZ, !UPT ;\n"
    "        /*0020*/               @P0 HGMMA.64x128x16.F32 R24, gdesc[UR8], R24 ;\n"
    "        /*0030*/                   QGMMA.64x128x32.F32.E4M3.E4M3 R88, gdesc[UR12], R88 ;\n"
    "        /*0040*/                   HMMA.16816.F32.BF16 R4, R8, R12, R4 ;\n"
    "        /*0050*/                   FFMA R2, R3, R4, R2 ;\n"
    ".L_x_1:\n"
    "        /*0060*/                   EXIT ;\n"
    ".text.k_blackwell:\n"
    "        /*0000*/                   UTCHMMA gdesc[UR4], gdesc[UR6], tmem[UR8], tmem[UR10], idesc[UR11], UPT ;\n"
    "        /*0010*/                   UTCQMMA.2CTA gdesc[UR4], gdesc[UR6], tmem[UR8], tmem[UR10], idesc[UR11], UPT ;\n"
    "        /*0020*/                   UTCBAR [UR5], URZ ;\n"
    "        /*0030*/                   UTCIMMA gdesc[UR4], gdesc[UR6], tmem[UR8], tmem[UR10], idesc[UR11], UPT ;\n"
    ".text.k_fma:\n"
    "        /*0000*/                   HFMA2.MMA R5, -RZ, RZ, 0, 2.384185791015625e-07 ;\n"
    "        /*0010*/                   HFMA2 R2, R3, R4, R5 ;\n"
    "        /*0020*/                   DFMA R2, R4, R6, R2 ;\n"
    "        /*0030*/                   FFMA R7, R2, c[0x0][0x170], R7 ;\n"
    "        /*0040*/              @!P1 FFMA R8, R2, R3, R8 ;\n"
    "        /*0050*/                   { FFMA R9, R2, R3, R9 ;\n"
    ".text.k_empty:\n"
    "        /*0000*/                   EXIT ;\n";

static const char cuobjdump_listing[] =
    "\n\tcode for sm_80\n"
    "\t\tFunction : tc_mma_s8\n"
    "\t.headerflags\t@\"EF_CUDA_TEXMODE_UNIFIED EF_CUDA_64BIT_ADDRESS EF_CUDA_SM80\"\n"
    "        /*0000*/                   IMAD.MOV.U32 R1, RZ, RZ, c[0x0][0x28] ;   /* 0x00000a00ff017624 */\n"
    "                                                                             /* 0x000fc400078e00ff */\n"
    "        /*00f0*/                   IMMA.16832.S8.S8 R8, R8.ROW, R12.COL, RZ ; /* 0x0000000c0808727c */\n"
    "                                                                             /* 0x004fe200000014ff */\n"
    "        /*0100*/                   DMMA.884 R8, R2, R4, RZ ;                 /* 0x000000040208723f */\n"
    "\t\t..........\n";

static struct gp_report_sass parse(const char *text)
{
    struct gp_report_sass s;
    memset(&s, 0, sizeof s);
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    assert_int_equal(gp_report_sass_parse(f, &s), 0);
    fclose(f);
    return s;
}

static void test_nvdisasm_listing(void **state)
{
    (void)state;
    struct gp_report_sass s = parse(nvdisasm_listing);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.v[0].name, "k_hopper");
    assert_int_equal(s.v[0].instructions, 7);
    assert_int_equal(s.v[0].count[GP_SASS_HGMMA], 2);
    assert_int_equal(s.v[0].count[GP_SASS_QGMMA], 1);
    assert_int_equal(s.v[0].count[GP_SASS_HMMA], 1);
    assert_int_equal(s.v[0].count[GP_SASS_FFMA], 1);
    assert_int_equal(s.v[0].cls, GP_KC_TENSOR);
    assert_string_equal(s.v[0].verdict, "tensor (HMMA x 1, HGMMA x 2, QGMMA x 1)");
    assert_string_equal(s.v[1].name, "k_blackwell");
    assert_int_equal(s.v[1].instructions, 4);
    assert_string_equal(s.v[1].verdict, "tensor (UTC*MMA x 3)"); /* UTCBAR is not an MMA */
    assert_string_equal(s.v[2].name, "k_fma");
    assert_int_equal(s.v[2].instructions, 6);
    assert_int_equal(s.v[2].count[GP_SASS_HFMA2], 1); /* HFMA2.MMA is a move, not math */
    assert_int_equal(s.v[2].cls, GP_KC_CUDA_CORE);
    assert_string_equal(s.v[2].verdict, "cuda-core (FFMA x 3, HFMA2 x 1, DFMA x 1)");
    assert_string_equal(s.v[3].name, "k_empty");
    assert_int_equal(s.v[3].cls, GP_KC_UNKNOWN);
    assert_string_equal(s.v[3].verdict, "unknown (no MMA or FMA instruction)");
    gp_report_sass_fini(&s);
}

static void test_cuobjdump_listing(void **state)
{
    (void)state;
    struct gp_report_sass s = parse(cuobjdump_listing);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].name, "tc_mma_s8");
    assert_int_equal(s.v[0].instructions, 3); /* encoding-only lines are not instructions */
    assert_string_equal(s.v[0].verdict, "tensor (IMMA x 1, DMMA x 1)");
    gp_report_sass_fini(&s);
    assert_string_equal(gp_report_sass_op_name(GP_SASS_UTCMMA), "UTC*MMA");
    assert_string_equal(gp_report_sass_op_name(GP_SASS_OPS), "?");
}

/* The stand-in, copied as work/<name> (mode 0755), with its listing and argument files. */
static void install(const char *name, char *path, size_t len)
{
    char cmd[4096];
    snprintf(path, len, "%s/%s", work, name);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s' && chmod 755 '%s'", work, fake_src,
             path, path);
    assert_int_equal(system(cmd), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void setup_env(void)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/listing.txt", work);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(nvdisasm_listing, f);
    fclose(f);
    setenv("FAKE_SASS_LISTING", p, 1);
    snprintf(p, sizeof p, "%s/args.txt", work);
    setenv("FAKE_SASS_ARGS", p, 1);
    unsetenv("FAKE_SASS_EXIT");
}

static void test_count_runs_tool(void **state)
{
    (void)state;
    char tool[4096], args[4096], err[256] = "";
    install("nvdisasm", tool, sizeof tool);
    setup_env();
    snprintf(args, sizeof args, "%s/args.txt", work);
    struct gp_report_sass s;
    assert_int_equal(gp_report_sass_count("-odd name.cubin", tool, &s, err, sizeof err), 0);
    assert_string_equal(s.tool, tool);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.v[2].verdict, "cuda-core (FFMA x 3, HFMA2 x 1, DFMA x 1)");
    gp_report_sass_fini(&s);
    /* one argument each, the path kept whole and never read as an option */
    assert_string_equal(slurp(args), "-c\n./-odd name.cubin\n");

    install("cuobjdump", tool, sizeof tool);
    assert_int_equal(gp_report_sass_count("/x/m.cubin", tool, &s, err, sizeof err), 0);
    gp_report_sass_fini(&s);
    assert_string_equal(slurp(args), "-sass\n/x/m.cubin\n");
}

static void test_count_tool_fails(void **state)
{
    (void)state;
    char tool[4096], err[512] = "", want[4200];
    install("nvdisasm", tool, sizeof tool);
    setup_env();
    setenv("FAKE_SASS_EXIT", "3", 1);
    struct gp_report_sass s;
    assert_int_equal(gp_report_sass_count("a.cubin", tool, &s, err, sizeof err), -EINVAL);
    assert_int_equal(s.n, 0);
    assert_null(s.v);
    snprintf(want, sizeof want, "%s exited with status 3: nvdisasm fatal   : Input file is not a cubin", tool);
    assert_string_equal(err, want);
    unsetenv("FAKE_SASS_EXIT");
}

static void test_find_tool(void **state)
{
    (void)state;
    char tool[4096], found[4096], err[512] = "";
    install("nvdisasm", tool, sizeof tool);
    setup_env();
    /* GPUPROF_NVDISASM decides alone */
    setenv("GPUPROF_NVDISASM", tool, 1);
    assert_int_equal(gp_report_sass_find_tool(found, sizeof found), 0);
    assert_string_equal(found, tool);
    setenv("GPUPROF_NVDISASM", "/nonexistent/nvdisasm", 1);
    assert_int_equal(gp_report_sass_find_tool(found, sizeof found), -ENOENT);
    struct gp_report_sass s;
    assert_int_equal(gp_report_sass_count("a.cubin", NULL, &s, err, sizeof err), -ENOENT);
    assert_string_equal(err, "neither nvdisasm nor cuobjdump was found (PATH, CUDA_HOME, "
                             "/usr/local/cuda, pip nvidia-cuda-nvdisasm; or set GPUPROF_NVDISASM)");
    unsetenv("GPUPROF_NVDISASM");
    /* then PATH, first directory first */
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL, path[8192];
    snprintf(path, sizeof path, "/nonexistent:%s:%s", work, old ? old : "");
    setenv("PATH", path, 1);
    assert_int_equal(gp_report_sass_find_tool(found, sizeof found), 0);
    assert_string_equal(found, tool);
    assert_int_equal(gp_report_sass_count("b.cubin", NULL, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 4);
    gp_report_sass_fini(&s);
    if (old) {
        setenv("PATH", old, 1);
        free(old);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s fake_nvdisasm.sh workdir\n", argv[0]);
        return 2;
    }
    fake_src = argv[1];
    work = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nvdisasm_listing), cmocka_unit_test(test_cuobjdump_listing),
        cmocka_unit_test(test_count_runs_tool),  cmocka_unit_test(test_count_tool_fails),
        cmocka_unit_test(test_find_tool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
