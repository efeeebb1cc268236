"""test_blas_report.py — cuBLAS calls through the shim into the report's Tensor Cores section:
samples/blas_sample (tests/blas/blas_sample.c) calls the fake cuBLAS and cuBLASLt twelve times with
known shapes, types and math modes; each call is one site with an exact verdict and FLOP count,
and the two cublasGemmEx calls, which reach cublasLtMatmul inside the fake cuBLAS, are one call
each. Two cublasLtMatmul calls pass an algorithm whose numerical-implementation flags decide
their verdict (layer 2, "library"): HMMA allowed, FMA not even though layer 1 allowed fp16."""
import os

from e2e import FAKE_DIR, equal, check, finish, report, report_json, run_sample

CUBLAS_DIR = os.path.join(os.path.dirname(FAKE_DIR), "cublas")  # tests/fakecuda/cublas


def main():
    p, trace = run_sample("blas_sample", env={"LD_LIBRARY_PATH": CUBLAS_DIR + ":" + FAKE_DIR,
                                              "GPUPROF_KERNELS": "0"})
    equal(p.returncode, 0, f"blas_sample exit status (stderr: {p.stderr.strip()})")
    check(trace is not None, "a trace was written")
    if trace is None:
        return
    tc = report_json(trace)["tensor_cores"]
    equal(tc["calls"], 12, "calls (GemmEx + its inner cublasLtMatmul counted once)")
    # the Lt calls 11 (fp16 64x64x60: 491520) and 12 (fp8 32x32x64: 131072) added to the ten
    equal(tc["flops"], 104169472 + 491520 + 131072, "total FLOPs")
    equal({k: (v["calls"], v["flops"]) for k, v in tc["by_verdict"].items()},
          {"allowed": (6, 37879808 + 131072), "slowed": (1, 65667072), "defeated": (1, 65536),
           "not_allowed": (3, 557056 + 491520), "unknown": (1, 0)}, "by verdict")
    equal({k: (v["calls"], v["flops"]) for k, v in tc["by_precision"].items()},
          {"fp32": (2, 557056), "tf32": (1, 524288), "fp16": (4, 66256896 + 491520),
           "bf16": (2, 36700160), "int8": (1, 131072), "unknown": (1, 0), "fp8": (1, 131072)},
          "by precision")
    got = [(s["api"], s["verdict"], s["precision"], s["layer"], s["calls"], s["flops"],
            s["m"], s["n"], s["k"], s["batch"]) for s in tc["sites"]]
    equal(got, [
        ("cublasGemmEx", "slowed", "fp16", "asked", 1, 65667072, 1002, 512, 64, 1),
        ("cublasGemmEx_64", "allowed", "bf16", "asked", 1, 33554432, 256, 256, 256, 1),
        ("cublasLtMatmul", "allowed", "bf16", "library", 1, 3145728, 128, 96, 64, 2),
        ("cublasSgemm_v2", "not_allowed", "fp32", "asked", 1, 524288, 128, 64, 32, 1),
        ("cublasSgemm_v2", "allowed", "tf32", "asked", 1, 524288, 128, 64, 32, 1),
        ("cublasHgemm_64", "allowed", "fp16", "asked", 1, 524288, 64, 64, 64, 1),
        ("cublasLtMatmul", "not_allowed", "fp16", "library", 1, 491520, 64, 64, 60, 1),
        ("cublasGemmBatchedEx", "allowed", "int8", "asked", 1, 131072, 32, 32, 32, 2),
        ("cublasLtMatmul", "allowed", "fp8", "asked", 1, 131072, 32, 32, 64, 1),
        ("cublasGemmStridedBatchedEx", "defeated", "fp16", "asked", 1, 65536, 64, 1, 64, 8),
        ("cublasSgemmStridedBatched", "not_allowed", "fp32", "asked", 1, 32768, 16, 16, 16, 4),
        ("cublasLtMatmul", "unknown", "unknown", "asked", 1, 0, 0, 0, 0, 1),
    ], "sites, most FLOPs first")
    reasons = {s["api"] + "/" + s["verdict"]: s["reason"] for s in tc["sites"]}
    equal(reasons["cublasGemmEx/slowed"],
          "m = 1002 not a multiple of 8 (fp16): Tensor Core kernels need 16-byte multiples",
          "misaligned reason")
    equal(reasons["cublasSgemm_v2/not_allowed"],
          "fp32 without TF32: compute type CUBLAS_COMPUTE_32F and math mode CUBLAS_DEFAULT_MATH",
          "fp32 reason")
    # layer 2: the algorithm's flags; an FMA choice keeps layer 1's shape problem as the why
    equal([s["reason"] for s in tc["sites"] if s["layer"] == "library"],
          ["cuBLASLt chose a Tensor Core algorithm (HMMA)",
           "cuBLASLt chose a CUDA-core (FMA) algorithm; k = 60 not a multiple of 8 (fp16): "
           "Tensor Core kernels need 16-byte multiples"], "library-layer reasons")
    equal(reasons["cublasGemmStridedBatchedEx/defeated"],
          "GEMV shape (n = 1): a matrix-vector product, not run on Tensor Cores", "GEMV reason")
    # Each call is its own line of main(): the innermost frame shown is the program's.
    lines = set()
    for s in tc["sites"]:
        f0 = s["frames"][0] if s["frames"] else {}
        equal(f0.get("function"), "main", f"{s['api']}: innermost frame past the shim")
        check((f0.get("file") or "").endswith("blas_sample.c"), f"{s['api']}: file {f0.get('file')}")
        lines.add(f0.get("line"))
    equal(len(lines), 12, "twelve distinct source lines")
    equal([(w["calls"], w["reason"][:9]) for w in tc["sites_without_tc"]],
          [(1, "fp32 with"), (1, "cuBLASLt "), (1, "GEMV shap"), (1, "fp32 with")],
          "sites without Tensor Cores")
    # GPUPROF_KERNELS=0: no kernel, so no kernel-based answer and no headline line
    equal((tc["headline"], tc["contradiction"]), (None, None), "no headline without kernels")
    text = report(trace).stdout
    check("Tensor Cores (layer 1: what each library call asked for)" in text, "text section")
    check("  Tensor Cores: " not in text, "no headline line without kernels")
    check("    slowed      1 call, 65667072 FLOP, fp16, cublasGemmEx 1002x512x64\n" in text,
          "text site line")



def threads():
    """Eight threads, one handle each: the math mode is per handle, whatever the interleaving."""
    p, trace = run_sample("blas_threads", args=("8", "2000"),
                          env={"LD_LIBRARY_PATH": CUBLAS_DIR + ":" + FAKE_DIR, "GPUPROF_KERNELS": "0"})
    equal(p.returncode, 0, f"blas_threads exit status (stderr: {p.stderr.strip()})")
    if trace is None:
        check(False, "blas_threads wrote a trace")
        return
    tc = report_json(trace)["tensor_cores"]
    equal(tc["calls"], 16000, "threads: calls")
    equal({k: v["calls"] for k, v in tc["by_precision"].items()}, {"tf32": 8000, "fp32": 8000},
          "threads: four TF32 handles, four default ones")
    equal(sorted((s["verdict"], s["calls"]) for s in tc["sites"]),
          [("allowed", 8000), ("not_allowed", 8000)], "threads: one site per verdict")


main()
threads()
finish()
