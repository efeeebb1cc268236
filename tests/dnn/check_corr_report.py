"""Checks the report of corr_sample's trace (tests/dnn/corr_sample.c): every library call
carries an external id, EXT_CORR records tie it to the kernels the fakes launched, and the
report's per-site kernels, verdicts, GPU time and TFLOP/s are exactly those the fakes' fixed
kernel durations give (tests/fakecuda/cublas/fake_blas_kernel.h, fake cuDNN: 50 us).

usage: check_corr_report.py GPUPROF_REPORT TRACE"""
import json
import subprocess
import sys

FFMA32 = ("sm80_xmma_gemm_f32f32_f32f32_f32_tn_n_tilesize128x128x8_stage3_warpsize2x2x1_"
          "ffma_aligna4_alignc4_execute_kernel__5x_cublas")
TF32 = ("sm80_xmma_gemm_f32f32_tf32f32_f32_tn_n_tilesize128x128x16_stage4_warpsize2x2x1_"
        "tensor16x8x8_execute_kernel__5x_cublas")
NVJET = "nvjet_hsh_128x128_64x4_1x2_h_bz_coopA_NTN"
BF16 = ("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_"
        "execute_segment_k_off_kernel__5x_cublas")
FFMA16 = ("sm80_xmma_gemm_f16f16_f16f32_f32_nn_n_tilesize64x64x8_stage3_warpsize2x2x1_"
          "ffma_aligna2_alignc2_execute_kernel__5x_cublas")
CONV = ("sm80_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x32_"
        "stage4_warpsize2x2x1_g1_tensor16x8x16_kernel_cudnn")

# (api, m, n, k) -> (calls, flops, precision, layer-1 verdict, ran, kernel, kernel calls, ns)
EXPECT = {
    ("cublasSgemm_v2", 256, 256, 256): (2, 2 * 2 * 256**3, "fp32", "not_allowed", "cuda-core", FFMA32, 2, 160000),
    ("cublasGemmEx", 512, 512, 512): (1, 2 * 512**3, "tf32", "allowed", "tensor", TF32, 1, 20000),
    ("cublasHgemm", 1024, 1024, 1024): (1, 2 * 1024**3, "fp16", "allowed", "tensor", NVJET, 1, 10000),
    ("cublasGemmEx", 1024, 512, 256): (1, 2 * 1024 * 512 * 256, "bf16", "allowed", "tensor", BF16, 1, 10000),
    ("cublasHgemm", 1002, 1002, 1002): (1, 2 * 1002**3, "fp16", "slowed", "cuda-core", FFMA16, 1, 80000),
    # 1x1 convolution: m = N·P·Q, n = K, k = C; run by cublasGemmEx inside cuDNN
    ("cudnnConvolutionForward", 2048, 128, 64): (1, 2 * 2048 * 128 * 64, "fp16", "allowed", "tensor", NVJET, 1, 10000),
    ("cudnnConvolutionForward", 2048, 128, 576): (1, 2 * 2048 * 128 * 576, "fp16", "allowed", "tensor", CONV, 1, 50000),
}


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def main():
    report, trace = sys.argv[1], sys.argv[2]
    doc = json.loads(subprocess.run([report, "--json", trace], check=True,
                                    capture_output=True, text=True).stdout)
    tc = doc["tensor_cores"]
    if tc["calls"] != 8:  # 2 + 1 + 1 + 1 + 1 + 2: the GEMM cuDNN made is not an event
        fail(f"calls {tc['calls']}, want 8")
    sites = {(s["api"], s["m"], s["n"], s["k"]): s for s in tc["sites"]}
    if set(sites) != set(EXPECT):
        fail(f"sites {sorted(sites)}")
    for key, (calls, flops, prec, verdict, ran, kernel, kcalls, ns) in EXPECT.items():
        s = sites[key]
        got = (s["calls"], s["flops"], s["precision"], s["verdict"], s["ran"],
               s["verdict_layer"], s["gpu_time_ns"],
               [(k["name"], k["calls"], k["time_ns"], k["verdict"], k["layer"], k["machine_code"],
                 k["name_verdict"]) for k in s["kernels"]])
        # no cubin in this trace: every kernel's class is its name's (layer 3)
        want = (calls, flops, prec, verdict, ran, "kernel name", ns,
                [(kernel, kcalls, ns, ran, "kernel name", None, ran)])
        if got != want:
            fail(f"{key}: got {got}, want {want}")
        if abs(s["tflops"] - flops / ns / 1e3) > 1e-5 * s["tflops"]:  # JSON keeps 6 digits
            fail(f"{key}: tflops {s['tflops']}, want {flops / ns / 1e3}")
        word = "Tensor Cores" if ran == "tensor" else "CUDA cores"
        if not s["why"].startswith(f"ran on {word} (kernel {kernel[:80]}"):
            fail(f"{key}: why {s['why']!r}")
    if sites[("cublasHgemm", 1002, 1002, 1002)]["why"] != (
            f"ran on CUDA cores (kernel {FFMA16[:80]}): m = 1002 not a multiple of 8 (fp16): "
            "Tensor Core kernels need 16-byte multiples"):
        fail(f"misaligned why {sites[('cublasHgemm', 1002, 1002, 1002)]['why']!r}")
    total, tensor = 340000, 100000
    want = (total, tensor, "attributed", 8, 8, total, 0)
    att = tc["attribution"]
    got = (tc["gemm_time_ns"], tc["tc_time_ns"], tc["time_source"],
           att["library_calls_with_id"], att["kernels"], att["time_ns"], att["dropped"])
    if got != want:
        fail(f"totals {got}, want {want}")
    if abs(tc["tc_fraction"] - tensor / total) > 1e-6:
        fail(f"tc_fraction {tc['tc_fraction']}")
    prec = {p: (v["gpu_time_ns"], v["tc_time_ns"]) for p, v in tc["by_precision"].items()}
    if prec != {"fp32": (160000, 0), "tf32": (20000, 20000), "fp16": (150000, 70000),
                "bf16": (10000, 10000)}:
        fail(f"by_precision {prec}")
    without = sorted((w["calls"], w["verdict_layer"]) for w in tc["sites_without_tc"])
    if without != [(1, "kernel name"), (2, "kernel name")]:
        fail(f"sites_without_tc {without}")
    # the name-only totals stay: every kernel the table knows, attributed or not
    if tc["by_name"]["gemm_time_ns"] != total or tc["by_name"]["tc_time_ns"] != tensor:
        fail(f"by_name {tc['by_name']}")
    text = subprocess.run([report, trace], check=True, capture_output=True, text=True).stdout
    line = ("  Tensor Cores: 29% of matrix-product GPU time (tf32 6%, fp16 21%, bf16 3%); "
            "71% on CUDA cores: 2 call sites, listed below with why\n")
    if line not in text:
        fail("headline missing:\n" + text)
    # the answer is the section's first line, and the same sentence in JSON
    if "Tensor Cores (layer 1: what each library call asked for)\n" + line not in text:
        fail("headline not first:\n" + text)
    if (tc["headline"], tc["contradiction"]) != (line.strip(), None):
        fail(f"JSON headline {tc['headline']!r}, contradiction {tc['contradiction']!r}")
    if "      fp16 cublasHgemm: 1 call, 0.000010 s GPU, 214.7 TFLOP/s, ran on Tensor Cores\n" not in text:
        fail("site line missing:\n" + text)


if __name__ == "__main__":
    main()
