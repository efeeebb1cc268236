"""The judging of tools/gpu-check (tools/gpucheck/checks.py), fed canned runs: the output the
GPU-only samples print (kernels, cuBLAS, cuDNN, oom_truth on an 80 GB device) and reports shaped
like gpuprof-report --json (CUPTI's kernel summary, Tensor Core verdicts of layers 1 and 3). Each judge passes what is right, fails what is wrong
with the measurement in the row, and a malformed report fails its rows without ending the run;
the table's exit status and formats follow. No GPU and no program run here."""
import json
import os
import sys

from e2e import check, equal, finish

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools", "gpucheck"))
import checks  # noqa: E402
from checks import GIB, MIB, Result  # noqa: E402
from table import Table  # noqa: E402


def frame(fn, module="/b/x"):
    return {"function": fn, "file": None, "line": 0, "module": module, "offset": 0, "ip": 0}


def site(fns, nbytes, count, module="/b/x"):
    return {"bytes": nbytes, "count": count, "stack_id": 1,
            "frames": [frame(f, module) for f in ([fns] if isinstance(fns, str) else fns)]}


def lib(path, nbytes, count):
    return {"library": path, "bytes": nbytes, "count": count}


def kind(peak=0, leaked=0, count=0):
    return {"peak_bytes": peak, "peak_time_ns": 1, "leaked_bytes": leaked, "leaked_count": count,
            "leaked_sites": []}


def report(peak, top_sites, libs, leaked=0, leaked_libs=(), allocs=0, frees=0, oom=(),
           by_kind=None, device_total=None, dropped=0):
    k = {name: kind() for name in ("device", "managed", "pinned_host", "physical",
                                   "address_range", "mapping")}
    k.update(by_kind or {})
    return {"schema_version": 1,
            "events": {"allocs": allocs, "frees": frees, "failed_allocs": 0, "unknown_frees": 0,
                       "null_frees": 0, "replaced_allocs": 0, "meminfo": 0, "oom": len(oom),
                       "allocs_by_kind": {"device": allocs, "managed": 0, "pinned_host": 0,
                                          "physical": 0, "address_range": 0, "mapping": 0}},
            "memory": {"peak_reserved_bytes": peak, "peak_time_ns": 5, "sites_at_peak": len(top_sites),
                       "libraries_at_peak": list(libs), "top_sites_at_peak": list(top_sites),
                       "leaked_bytes": leaked, "leaked_count": 0, "leaked_libraries": list(leaked_libs),
                       "leaked_sites": [], "device_total_bytes": device_total, "by_kind": k},
            "oom": list(oom), "oom_total": len(oom),
            "trace": {"truncated": False, "dropped_events": dropped, "lost_bytes": 0, "records": 9}}


def run(out, rep=None, rc=0, err=""):
    return Result(rc=rc, out=out, err=err, trace="/tmp/t.gz" if rep is not None else None,
                  report=rep)


def statuses(t):
    return {r.check: r.status for r in t.rows}


def row(t, name):
    return next(r for r in t.rows if r.check == name)


# --- kernels.cu, as its printf writes it ---------------------------------------------------------
durations = ", ".join(f'{{"stream": {s}, "kernel": "{"fill_kernel" if k == 0 else "spin_kernel"}", '
                      f'"us": {1000.5 if k else 55.25:.3f}}}' for s in range(4) for k in range(9))
kout = ('{"sample": "kernels", "runtime": "shared", "streams": 4, "kernels": 37, "by_name": '
        '{"fill_kernel": 5, "spin_kernel": 32}, "timed": 36, "device_bytes": 268435456, '
        f'"durations_us": [{durations}], "total_us": 32237.000}}\n')
good = report(256 * MIB, [site("alloc_buffers", 256 * MIB, 4)], [lib("/b/kernels", 256 * MIB, 4)])
# CUPTI's summary as the report writes it: 37 kernels, spin_kernel 3.1% above the events
good["kernels"] = {"status": "recording", "status_reason": "libcupti found", "count": 37,
                   "dropped_records": 0, "top": [
    {"name": "spin_kernel(long long, unsigned int*)", "mangled": "_Z11spin_kernelxPj", "calls": 32,
     "total_ns": 33000000},
    {"name": "fill_kernel(unsigned int*, unsigned int, unsigned long)", "mangled": "_Z11fill",
     "calls": 5, "total_ns": 250000}]}
t = Table()
checks.eval_kernels(t, "kernels", run(kout), run(kout, good))
equal(statuses(t), {"kernels: runs under the shim": "PASS",
                    "kernels: device memory (by cudaMalloc)": "PASS",
                    "kernels: kernels recorded": "PASS",
                    "kernels: kernel durations vs CUDA events": "PASS"}, "kernels rows")
equal(row(t, "kernels: kernels recorded").expected,
      "37 (fill_kernel 5, spin_kernel 32), the sample's count; dropped 0", "kernel count from the sample")
equal(row(t, "kernels: kernels recorded").measured,
      "37 (fill_kernel 5, spin_kernel 32), status recording, dropped 0", "CUPTI's count")
equal(row(t, "kernels: kernel durations vs CUDA events").measured,
      "spin_kernel: report 33000 us, events 32016 us (+3.1%)", "CUPTI's times against the events")
check("32237 us)" in row(t, "kernels: kernel durations vs CUDA events").expected,
      "durations from the sample's events")
# 6% above the events, a kernel missing, records dropped: each fails
good["kernels"]["top"][0]["total_ns"] = 34000000
good["kernels"]["top"][1]["calls"] = 4
good["kernels"]["count"] = 36
t = Table()
checks.eval_kernels(t, "kernels", run(kout), run(kout, good))
equal((row(t, "kernels: kernels recorded").status, row(t, "kernels: kernel durations vs CUDA events").status),
      ("FAIL", "FAIL"), "a fill_kernel missing; spin_kernel +6.2%")
good["kernels"] = {"status": "no_cupti", "status_reason": "no libcupti found", "count": 0,
                   "dropped_records": 0, "top": []}
t = Table()
checks.eval_kernels(t, "kernels", run(kout), run(kout, good))
r = row(t, "kernels: kernels recorded")
check(r.status == "FAIL" and r.reason == "no libcupti found", f"no CUPTI: the reason in the row: {r.reason}")
r = row(t, "kernels: kernel durations vs CUDA events")
check(r.status == "FAIL" and "kernels not recorded: no_cupti" in r.measured, f"no CUPTI: {r.measured}")
del good["kernels"]

# the static runtime: the program's site is below the runtime's own frames; charged elsewhere fails
static_out = kout.replace('"shared"', '"static"')
deep = report(256 * MIB, [site(["cudart::mallocPtr", "alloc_buffers", "main"], 256 * MIB, 4)],
              [lib("/b/kernels_static", 256 * MIB, 4)])
t = Table()
checks.eval_kernels(t, "kernels_static", run(static_out), run(static_out, deep))
equal(row(t, "kernels_static: device memory (through the driver layer)").status, "PASS",
      "static runtime: alloc_buffers deeper in the stack")
wrong = report(256 * MIB, [site("cudart::mallocPtr", 256 * MIB, 4)],
               [lib("/usr/lib/libcudart.so.13", 256 * MIB, 4)])
t = Table()
checks.eval_kernels(t, "kernels_static", run(static_out), run(static_out, wrong))
r = row(t, "kernels_static: device memory (through the driver layer)")
check(r.status == "FAIL" and "libcudart.so.13" in r.measured and "alloc_buffers missing" in r.measured,
      f"charged to the runtime fails and says so: {r.measured}")

# a sample that crashed: every row fails (or skips), none raises, the reason is the stderr line
t = Table()
checks.eval_kernels(t, "kernels", run(""), Result(rc=1, err="kernels: cudaMalloc failed: boom\n"))
r = row(t, "kernels: runs under the shim")
check(r.status == "FAIL" and "boom" in r.reason, f"crash reason in the row: {r.reason}")
equal(row(t, "kernels: device memory (by cudaMalloc)").status, "FAIL", "no report: FAIL")
equal(row(t, "kernels: kernels recorded").expected, "? (no ground truth)", "no ground truth")

# --- cublas_workspace.c ----------------------------------------------------------------------
cout = ('{"sample": "cublas_workspace", "cublas_version": 130100, "own_bytes": 786432, '
        '"own_blocks": 3, "free_drop_bytes": 41943040, "total_bytes": 85520809984}\n')
seen = report(34340864, [site("cublasLtCtxInit", 32 * MIB, 1, "/cuda/libcublasLt.so.13"),
                         site("alloc_matrices", 786432, 3)],
              [lib("/cuda/lib64/libcublasLt.so.13.1.0", 32 * MIB, 1),
               lib("/b/samples/cuda/cublas_workspace", 786432, 3)])
t = Table()
checks.eval_cublas_workspace(t, run(cout), run(cout, seen))
equal(set(statuses(t).values()), {"PASS"}, f"cublas rows pass: {statuses(t)}")
check("33,554,432 to libcublas*" in row(t, "cublas: workspace charged to libcublas").measured,
      "cuBLAS's bytes shown")
unseen = report(786432, [site("alloc_matrices", 786432, 3)],
                [lib("/b/samples/cuda/cublas_workspace", 786432, 3)])
t = Table()
checks.eval_cublas_workspace(t, run(cout), run(cout, unseen))
r = row(t, "cublas: workspace charged to libcublas")
check(r.status == "FAIL" and "no cuBLAS memory" in r.reason, f"cuBLAS's memory missed: {r.reason}")
misplaced = report(34340864, [], [lib("/cuda/libcudart.so.13", 32 * MIB, 1),
                                  lib("/b/cublas_workspace", 786432, 3)])
t = Table()
checks.eval_cublas_workspace(t, run(cout), run(cout, misplaced))
equal(row(t, "cublas: nothing charged elsewhere").status, "FAIL", "memory charged to libcudart")
equal(row(t, "cublas: its own memory at the peak").status, "FAIL",
      "another library than libcublas at the peak")

# --- gemm.c ----------------------------------------------------------------------------------
def tc_site(api, prec, verdict, calls, reason, layer="asked"):
    return {"api": api, "verdict": verdict, "layer": layer, "precision": prec, "reason": reason,
            "calls": calls, "flops": 0, "host_ns": 0, "m": 1, "n": 1, "k": 1, "batch": 1,
            "stack_id": 1, "frames": []}


def with_tc(rep, sites, klist=(), frac=None, by_class=None):
    """A report with a tensor_cores section: layer-1 sites, layer-3 kernels."""
    verdicts = {v: {"calls": 0, "flops": 0} for v in ("allowed", "slowed", "defeated", "not_allowed", "unknown")}
    prec = {}
    for x in sites:
        verdicts[x["verdict"]]["calls"] += x["calls"]
        prec.setdefault(x["precision"], {"calls": 0, "flops": 0})["calls"] += x["calls"]
    cls = {c: {"calls": 0, "time_ns": 0} for c in ("unknown", "tensor", "cuda-core")}
    for k in klist:
        cls[k["verdict"]]["calls"] += k["calls"]
        cls[k["verdict"]]["time_ns"] += k["time_ns"]
    cls.update(by_class or {})
    rep["tensor_cores"] = {"calls": sum(x["calls"] for x in sites), "flops": 0, "by_verdict": verdicts,
                           "by_precision": prec, "sites": list(sites), "sites_without_tc": [],
                           "sites_lost_calls": 0, "gemm_time_ns": 0, "tc_time_ns": 0, "tc_fraction": frac,
                           "kernels": {"layer": "kernel name", "by_class": cls, "list": list(klist)}}
    return rep


def kern(name, verdict, calls, ms):
    return {"name": name, "mangled": name, "verdict": verdict, "layer": "kernel name", "rule": "r",
            "reason": "why", "calls": calls, "time_ns": int(ms * 1e6)}


gout = "".join(
    f'{{"sample": "gemm", "precision": "{p}", "m": 4096, "n": 4096, "k": 4096, "type": "{ty}", '
    f'"compute_type": "{ct}", "math_mode": "CUBLAS_DEFAULT_MATH", "tensor_cores_expected": {tc}, '
    f'"gemms_timed": 10, "ms_per_gemm": 0.2000, "tflops": {tf}}}\n'
    for p, ty, ct, tc, tf in (("fp32", "CUDA_R_32F", "CUBLAS_COMPUTE_32F", "false", 51.2),
                              ("tf32", "CUDA_R_32F", "CUBLAS_COMPUTE_32F_FAST_TF32", "true", 370.0),
                              ("fp16", "CUDA_R_16F", "CUBLAS_COMPUTE_32F", "true", 700.1),
                              ("bf16", "CUDA_R_16BF", "CUBLAS_COMPUTE_32F", "true", 690.0)))
gout += ('{"sample": "gemm", "summary": true, "device": "NVIDIA H100 80GB HBM3", "cc": "9.0", '
         '"cublas_version": 130100, "own_bytes": 201326592, "own_blocks": 3, "gemms": 48}\n')
gsites = [tc_site("cublasGemmEx", "fp32", "not_allowed", 12, "fp32 without TF32"),
          tc_site("cublasGemmEx", "tf32", "allowed", 12, "fp32 inputs with TF32 allowed"),
          tc_site("cublasGemmEx", "fp16", "allowed", 12, "fp16 inputs"),
          tc_site("cublasGemmEx", "bf16", "allowed", 12, "bf16 inputs")]
gkernels = [kern("sm90_xmma_gemm_f32f32_f32f32_f32_ffma", "cuda-core", 12, 33.0),
            kern("nvjet_hsh_128x256_64x4_2x1_v_bz_TNN", "tensor", 24, 6.0)]


def grep(sites):
    return with_tc(report(201326592 + 32 * MIB, [], [lib("/b/gemm", 201326592, 3),
                                                      lib("/c/libcublasLt.so.13", 32 * MIB, 1)]),
                   sites, gkernels, 0.15)


t = Table()
checks.eval_gemm(t, run(gout.replace("700.1", "690.9")), run(gout, grep(gsites)))
equal(row(t, "gemm: runs under the shim").status, "PASS", "timings differ between runs: ignored")
equal(row(t, "gemm: its own memory at the peak").status, "PASS", "gemm's own memory")
r = row(t, "gemm fp32: Tensor Core verdict")
equal((r.status, r.expected, r.measured), ("PASS", "not_allowed x12 (layer asked; CUBLAS_COMPUTE_32F, "
      "CUBLAS_DEFAULT_MATH)", "not_allowed x12 (asked: fp32 without TF32); 51.2 TFLOP/s"), "fp32 verdict row")
for prec in ("tf32", "fp16", "bf16"):
    equal(row(t, f"gemm {prec}: Tensor Core verdict").status, "PASS", f"{prec} verdict")
equal(row(t, "gemm tf32: Tensor Core verdict").expected,
      "allowed x12 (layer asked; CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_DEFAULT_MATH)", "tf32 expected")
equal(row(t, "gemm fp8: Tensor Core verdict").status, "SKIP", "fp8: not in the sample")
r = row(t, "gemm: kernel classes (layer 3)")
check(r.status == "PASS" and r.measured.startswith("tensor 24 kernels 6.00 ms, cuda-core 12, unknown 0; "
                                                   "tc_fraction 0.15; cuda-core sm90_xmma"), f"layer 3: {r.measured}")
# fp32 judged allowed (TF32 slipped in), bf16 calls missing, no Tensor Core kernel: those rows fail
bad = [tc_site("cublasGemmEx", "fp32", "allowed", 12, "x")] + gsites[1:3]
t = Table()
checks.eval_gemm(t, run(gout), run(gout, with_tc(grep(bad), bad, [gkernels[0]])))
equal({k: v for k, v in statuses(t).items() if "verdict" in k or "layer" in k},
      {"gemm fp32: Tensor Core verdict": "FAIL", "gemm tf32: Tensor Core verdict": "PASS",
       "gemm fp16: Tensor Core verdict": "PASS", "gemm bf16: Tensor Core verdict": "FAIL",
       "gemm fp8: Tensor Core verdict": "SKIP", "gemm: kernel classes (layer 3)": "FAIL"}, "wrong verdicts")
equal(row(t, "gemm bf16: Tensor Core verdict").measured, "no call; 690.0 TFLOP/s", "bf16 missing")

# --- conv.c ----------------------------------------------------------------------------------
vout = ('{"sample": "conv", "precision": "fp32", "format": "NCHW", "math_requested": "CUDNN_FMA_MATH", '
        '"math_chosen": "CUDNN_FMA_MATH", "algo": 1, "workspace_bytes": 0, "tensor_cores_expected": '
        'false, "convs_timed": 10, "ms_per_conv": 0.5000, "tflops": 29.60}\n'
        '{"sample": "conv", "precision": "fp16", "format": "NHWC", "math_requested": '
        '"CUDNN_TENSOR_OP_MATH", "math_chosen": "CUDNN_TENSOR_OP_MATH", "algo": 1, "workspace_bytes": '
        '1048576, "tensor_cores_expected": true, "convs_timed": 10, "ms_per_conv": 0.0500, '
        '"tflops": 296.00}\n'
        '{"sample": "conv", "summary": true, "cudnn_version": 91900, "own_bytes": 78643200, '
        '"own_blocks": 7, "convs": 24}\n')
vsites = [tc_site("cudnnConvolutionForward", "fp32", "not_allowed", 12, "fp32 with CUDNN_FMA_MATH: TF32 is off"),
          tc_site("cudnnConvolutionForward", "fp16", "allowed", 12, "fp16 inputs (CUDNN_TENSOR_OP_MATH)")]
vkernels = [kern("sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc", "tensor", 12, 0.6),
            kern("implicit_convolve_sgemm", "cuda-core", 12, 6.0)]


def vrep(sites, klist=vkernels, own=78643200):
    return with_tc(report(own, [], [lib("/b/conv", own, 7)]), sites, klist, 0.09)


t = Table()
checks.eval_conv(t, run(vout), run(vout, vrep(vsites)))
equal(statuses(t), {"conv: runs under the shim": "PASS", "conv: its own memory at the peak": "PASS",
                    "conv fp32: Tensor Core verdict": "PASS", "conv fp16: Tensor Core verdict": "PASS",
                    "conv: kernel classes (layer 3)": "PASS"}, "conv rows")
equal(row(t, "conv fp32: Tensor Core verdict").expected,
      "not_allowed x12 as fp32 (layer asked; NCHW, cuDNN ran CUDNN_FMA_MATH, algo 1)", "conv fp32 expected")
equal(row(t, "conv fp16: Tensor Core verdict").measured,
      "fp16: allowed x12 (asked: fp16 inputs (CUDNN_TENSOR_OP_MATH)); 296.0 TFLOP/s", "conv fp16 measured")
# cuDNN ran the fp32 convolution with its default math: layer 1 must say tf32 allowed
vout_tf32 = vout.replace('"math_chosen": "CUDNN_FMA_MATH"', '"math_chosen": "CUDNN_DEFAULT_MATH"', 1)
t = Table()
checks.eval_conv(t, run(vout_tf32), run(vout_tf32, vrep(vsites)))
r = row(t, "conv fp32: Tensor Core verdict")
equal((r.status, r.expected), ("FAIL", "allowed x12 as tf32 (layer asked; NCHW, cuDNN ran CUDNN_DEFAULT_MATH, "
                                       "algo 1)"), "default math: tf32 expected, the fp32 site fails")
t = Table()
checks.eval_conv(t, run(vout), run(vout, vrep(vsites, [vkernels[1]], own=78643200 - 512)))
equal((row(t, "conv: its own memory at the peak").status, row(t, "conv: kernel classes (layer 3)").status),
      ("FAIL", "FAIL"), "a byte count off; no Tensor Core kernel")

# --- oom_truth.c on an 80 GB device ----------------------------------------------------------
total, n = 85520809984, 78
oout = (f'{{"sample": "oom_truth", "blocks": {n}, "block_bytes": {GIB}, "live_bytes": {n * GIB}, '
        f'"failed_bytes": {GIB}, "error": "cudaErrorMemoryAllocation", "total_bytes": {total}, '
        f'"free_bytes_at_start": 84700000000, "free_bytes_at_oom": 785383424}}\n')
oom_event = {"time_ns": 9, "api": "cudaMalloc", "device": 0, "requested_bytes": GIB,
             "live_bytes": n * GIB, "device_free_bytes": 785383424 + MIB,
             "device_total_bytes": total, "frames": [], "libraries": [],
             "top_sites": [site("grow_blocks", n * GIB, n)]}
orep = report(n * GIB, [site("grow_blocks", n * GIB, n)], [], oom=[oom_event], device_total=total)
t = Table()
checks.eval_oom(t, run(oout, rc=1), run(oout, orep, rc=1))
equal(set(statuses(t).values()), {"PASS"}, f"oom rows on a real-sized device: {statuses(t)}")
oom_event["device_free_bytes"] = 785383424 + 3 * MIB
oom_event["live_bytes"] = (n - 1) * GIB
t = Table()
checks.eval_oom(t, run(oout, rc=1), run(oout, orep, rc=1))
equal((row(t, "oom: device free at the OOM").status, row(t, "oom: live bytes at the OOM").status),
      ("FAIL", "FAIL"), "free off by 3 MiB, live off by a block")

# train.py and the fit advisor: tests/e2e/test_gpu_check_torch.py

# --- bench ------------------------------------------------------------------------------------
brep = report(4096, [], [], allocs=100001, frees=100001)
t = Table()
checks.eval_bench(t, "driver", 100000, run("", brep),
                  {"plain_n": 900e6, "plain_0": 300e6, "shim_n": 1200e6, "shim_0": 310e6,
                   "per_event_ns": 1450.0})
equal(statuses(t), {"bench driver: every event seen": "PASS", "bench driver: shim cost per event": "PASS"},
      "bench rows")
t = Table()
checks.eval_bench(t, "runtime", 100000, run("", report(0, [], [], allocs=100001, frees=100001,
                                                       dropped=12)),
                  {"plain_n": 1, "plain_0": 0, "shim_n": 2, "shim_0": 0, "per_event_ns": 9000.0})
equal(set(statuses(t).values()), {"FAIL"}, "dropped events and a 9 us/event cost fail")

# --- a malformed report fails its rows, the rest goes on; the table's outputs ----------------
broken = report(0, [], [])
del broken["memory"]["libraries_at_peak"]
t = Table(["header line"])
checks.eval_conv(t, run(vout), run(vout, broken))
r = row(t, "conv: its own memory at the peak")
check(r.status == "FAIL" and "KeyError" in r.measured, f"malformed report: {r.measured}")
equal(len(t.rows), 5, "every conv row still there")
equal(t.exit_status(), 1, "exit status with a failure")
check(t.text().rstrip().endswith("1 passed, 4 failed, 0 skipped"), "closing counts")
check(t.text().startswith("header line\n"), "header first")
t2 = Table()
t2.passed("a | b", "x", "y")
check("a \\| b" in t2.markdown(), "markdown escapes |")
equal(t2.exit_status(), 0, "exit status without failures")
with t2.skipping("no time"):
    t2.check("later", lambda: 1 / 0, lambda: ("never", False))
equal((t2.rows[-1].status, t2.rows[-1].reason, t2.rows[-1].expected),
      ("SKIP", "no time", "? (no ground truth)"), "a skipped group measures nothing")
finish()
