"""The judging of tools/gpu-check's PyTorch groups (tools/gpucheck/torch_checks.py), fed canned
runs: train.py's JSON line as it prints it and reports shaped like gpuprof-report --json (the
`torch`, `tensor_cores`, `kernels` and `environment` sections) and `fit --json`. Each check
passes what is right and fails what is wrong, saying so in the row: allocated/reserved peaks
against PyTorch's own within 1%, lost history, OOM forensics (sizes, device, fatal, advice),
AMP against no-AMP verdicts, NVTX ranges by name, the environment, the overhead against
torch.profiler, and the fit advisor's prediction followed by a run that fits and one that
does not. No GPU and no program run here."""
import json
import os
import sys

from e2e import check, equal, finish

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools", "gpucheck"))
import checks  # noqa: E402
import torch_checks as tc  # noqa: E402
from checks import GIB, MIB, Result  # noqa: E402
from table import Table  # noqa: E402


def tout(**kw):
    truth = {"sample": "train", "torch": "2.11.0+cu130", "cuda": "13.0", "device": "NVIDIA H100 80GB HBM3",
             "total_memory": 85520809984, "max_memory_allocated": 900 * MIB,
             "max_memory_reserved": 1024 * MIB, "step_time_ms_median": 4.0, "oom": False,
             "matmul_tf32": False, "expandable_in_snapshot": True, "nvtx_ranges": {}}
    truth.update(kw)
    return json.dumps(truth) + "\n"


def rep(peak=1100 * MIB, allocated=900 * MIB, reserved=1024 * MIB, events=4000, lost=0, physical=0,
        ooms=(), expandable=False, label=""):
    return {"run": {"label": label},
            "events": {"allocs_by_kind": {"physical": physical, "mapping": physical}},
            "memory": {"peak_reserved_bytes": peak, "peak_allocated_bytes": allocated},
            "oom": [], "oom_total": 0,
            "torch": {"version": "2.11.0+cu130", "events": events, "history_lost": lost, "unknown_frees": 0,
                      "expandable_segments": expandable, "peak_allocated_bytes": allocated,
                      "peak_reserved_bytes": reserved, "ooms": list(ooms), "oom_total": len(ooms)},
            "trace": {"truncated": False, "dropped_events": 0}}


def run(out, report=None, rc=0, err="", name=""):
    return Result(rc=rc, out=out, err=err, trace="/tmp/t.gz" if report is not None else None,
                  report=report, name=name)


def statuses(t):
    return {r.check: r.status for r in t.rows}


def row(t, name):
    return next(r for r in t.rows if r.check == name)


# --- allocated and reserved peaks, events ------------------------------------------------------
t = Table()
tc.eval_train(t, "default", run(tout(step_time_ms_median=4.4), rep(allocated=905 * MIB, reserved=1024 * MIB)),
              plain=run(tout()))
equal(statuses(t), {"train default: runs under the shim": "PASS",
                    "train default: trace peak >= max_memory_reserved": "PASS",
                    "train default: allocated peak = max_memory_allocated": "PASS",
                    "train default: reserved peak = max_memory_reserved": "PASS",
                    "train default: allocator events": "PASS",
                    "train default: step time under the shim": "PASS"}, "default rows")
r = row(t, "train default: allocated peak = max_memory_allocated")
equal((r.expected, r.measured), ("943,718,400 +- 1% (torch.peak_allocated_bytes)", "948,961,280 (+0.56%)"),
      "allocated peak row")
equal(row(t, "train default: allocator events").measured, "events 4,000, history_lost 0, unknown frees 0",
      "events row")
check(row(t, "train default: trace peak >= max_memory_reserved").measured.endswith("(1.074x reserved)"),
      "ratio shown")
# 2% off, history lost, slower than 1.25x, no torch section: each fails and says why
t = Table()
tc.eval_train(t, "default", run(tout(step_time_ms_median=6.0), rep(allocated=918 * MIB, lost=12)),
              plain=run(tout()))
equal({k: v for k, v in statuses(t).items() if v == "FAIL"},
      {"train default: allocated peak = max_memory_allocated": "FAIL",
       "train default: allocator events": "FAIL", "train default: step time under the shim": "FAIL"},
      "2% off, history lost, 1.5x step time")
r4 = rep()
r4["memory"]["peak_allocated_bytes"] = 800 * MIB
t = Table()
tc.eval_train(t, "amp", run(tout(), r4))
check(row(t, "train amp: allocated peak = max_memory_allocated").status == "FAIL" and
      "memory.peak_allocated_bytes 838,860,800" in row(t, "train amp: allocated peak = max_memory_allocated").measured,
      "memory.peak_allocated_bytes must equal torch.peak_allocated_bytes")
no_torch = rep()
no_torch["torch"] = None
t = Table()
tc.eval_train(t, "amp", run(tout(), no_torch))
r = row(t, "train amp: reserved peak = max_memory_reserved")
check(r.status == "FAIL" and "the adapter did not run" in r.measured, f"no torch section: {r.measured}")
t = Table()
tc.eval_train(t, "expandable", run(tout(), rep(physical=12, expandable=True)))
equal(row(t, "train expandable: segments via cuMemCreate").status, "PASS", "expandable segments seen")
t = Table()
tc.eval_train(t, "expandable", run(tout(), rep(physical=12, expandable=False)))
equal(row(t, "train expandable: segments via cuMemCreate").status, "FAIL", "the adapter missed the setting")
t = Table()
tc.eval_train(t, "default", run(tout(), rep()), fake=True)
equal(row(t, "train default: step time under the shim").status, "SKIP", "no step time on the stand-ins")

# --- OOM forensics ------------------------------------------------------------------------------
failed = 106901012480                 # train.py's oom_batch: 6524720 x hidden 4096 x 4 bytes
request = 106901012480                # already a multiple of 512
segment = 106902323200                # rounded up to 2 MiB
oom_t = {"time_ns": 1, "api": "cudaMalloc", "device": 0, "requested_bytes": segment,
         "live_bytes": 25 * GIB, "device_free_bytes": 58 * GIB, "device_total_bytes": 85520809984,
         "frames": [], "libraries": [], "top_sites": []}


def torch_oom(**kw):
    o = {"time_s": 2.5, "device": 0, "request_bytes": request, "segment_request_bytes": segment,
         "device_total_bytes": 85520809984, "device_free_bytes": 58 * GIB, "allocated_bytes": 26 * GIB,
         "reserved_bytes": 26 * GIB, "recovered": False, "fatal": True,
         "advice": [{"kind": "batch_size", "text": "batch size: at most 1234567 (batch=6524720 now)"},
                    {"kind": "activations", "text": "activations grew by 26 GiB"}]}
    o.update(kw)
    return o


def oom_run(rc=1, shim_ooms=(oom_t,), **kw):
    r = rep(ooms=[torch_oom(**kw)])
    r["oom"], r["oom_total"] = list(shim_ooms), len(shim_ooms)
    return run(tout(oom=True, error="CUDA out of memory. Tried to allocate 99.56 GiB", batch_size=6524720,
                    failed_tensor_bytes=failed), r, rc=rc)


equal(tc.train_oom_batch(85520809984), 6524720, "the label's batch is train.py's own --oom batch")
t = Table()
tc.eval_train_oom(t, oom_run(), 6524720)
equal(set(statuses(t).values()), {"PASS"}, f"oom rows: {statuses(t)}")
r = row(t, "train oom: request and segment sizes")
equal((r.expected, r.measured), ("request 106,901,012,480 (the tensor, rounded to 512), segment "
                                 "106,902,323,200 (rounded to 2 MiB)",
                                 "request 106,901,012,480, segment 106,902,323,200"), "sizes row")
equal(row(t, "train oom: advice").expected,
      "at least one piece of advice; batch_size (labelled batch=6524720)", "advice expected")
check(row(t, "train oom: advice").measured.startswith("batch_size, activations: batch size: at most"),
      "advice shown")
t = Table()
tc.eval_train_oom(t, oom_run(rc=0, shim_ooms=(), segment_request_bytes=None, device_total_bytes=80 * 10**9,
                             fatal=False, recovered=True, advice=[{"kind": "activations", "text": "x"}]),
                  6524720)
equal(statuses(t), {"train oom: runs under the shim": "FAIL", "train oom: OOM recorded": "FAIL",
                    "train oom: request and segment sizes": "FAIL", "train oom: device total and free": "FAIL",
                    "train oom: fatal": "FAIL", "train oom: advice": "FAIL"},
      "caught, no shim OOM, no segment size, a wrong total, recovered, no batch_size advice")
t = Table()
tc.eval_train_oom(t, oom_run(advice=[{"kind": "activations", "text": "x"}]))
equal(row(t, "train oom: advice").status, "PASS", "without a label any advice will do")

# --- AMP against no-AMP ---------------------------------------------------------------------------
def with_tc(r, verdicts, prec, frac, klist=()):
    r["tensor_cores"] = {"by_verdict": {v: {"calls": verdicts.get(v, 0), "flops": 0} for v in
                                        ("allowed", "slowed", "defeated", "not_allowed", "unknown")},
                         "by_precision": {p: {"calls": c, "flops": 0} for p, c in prec.items()},
                         "tc_fraction": frac, "kernels": {"list": list(klist), "by_class": {}}}
    return r


k32 = [{"name": "sm90_xmma_gemm_f32f32_f32f32_f32_tn_n_ffma", "verdict": "cuda-core"}]
k16 = [{"name": "nvjet_hsh_256x128_64x4_1x2_h_bz_coopA_NTN", "verdict": "tensor"}]
noamp = run(tout(), with_tc(rep(), {"not_allowed": 300}, {"fp32": 300}, 0.0, k32))
amp = run(tout(amp=True), with_tc(rep(), {"allowed": 300}, {"fp16": 300}, 0.97, k16))
t = Table()
tc.eval_amp(t, noamp, amp)
equal(statuses(t), {"train default: no-AMP Tensor Core verdict": "PASS",
                    "train amp: AMP Tensor Core verdict": "PASS"}, "opposite answers")
equal(row(t, "train amp: AMP Tensor Core verdict").measured,
      "layer 1: allowed 300, slowed 0, not_allowed 0, unknown 0; layer 3: tc_fraction 0.97 "
      "(tensor nvjet_hsh_256x128_64x4_1x2_h_bz_coopA_NT)", "AMP measured")
# fp32 nvjet kernels the name table cannot class: tc_fraction null still passes without AMP
t = Table()
tc.eval_amp(t, run(tout(), with_tc(rep(), {"not_allowed": 300}, {"fp32": 300}, None)), amp)
equal(row(t, "train default: no-AMP Tensor Core verdict").status, "PASS", "no classed kernel")
# autocast not covering: the same fp32 answers in the AMP run fail it; TF32 on: no-AMP skipped
t = Table()
tc.eval_amp(t, run(tout(matmul_tf32=True), rep()), noamp)
equal(statuses(t), {"train default: no-AMP Tensor Core verdict": "SKIP",
                    "train amp: AMP Tensor Core verdict": "FAIL"}, "AMP run with fp32 answers")
t = Table()
tc.eval_amp(t, run(tout(), with_tc(rep(), {"not_allowed": 290, "allowed": 10}, {"fp32": 290, "tf32": 10}, 0.3)),
            run(tout(), with_tc(rep(), {"allowed": 300}, {"fp16": 300}, 0.6)))
equal(set(statuses(t).values()), {"FAIL"}, "TF32 calls without AMP; 60% Tensor Core time with it")

# --- NVTX -------------------------------------------------------------------------------------------
nv = rep()
nv["kernels"] = {"nvtx_ranges": 60}
nvrun = run(tout(nvtx_ranges={"step": 30, "forward": 30}), nv)
t = Table()
tc.eval_nvtx(t, nvrun, {"step": 30, "forward": 30, "other": 2})
r = row(t, "train amp: NVTX ranges (torch.cuda.nvtx)")
equal((r.status, r.expected, r.measured), ("PASS", "forward 30, step 30 (the script's count, by name)",
                                           "forward 30, step 30; kernels.nvtx_ranges 60"), "nvtx row")
t = Table()
tc.eval_nvtx(t, nvrun, {})
equal(row(t, "train amp: NVTX ranges (torch.cuda.nvtx)").measured, "forward 0, step 0; kernels.nvtx_ranges 60",
      "no ranges by name")
equal(row(t, "train amp: NVTX ranges (torch.cuda.nvtx)").status, "FAIL", "no ranges: FAIL")
t = Table()
tc.eval_nvtx(t, nvrun, None)
equal(row(t, "train amp: NVTX ranges (torch.cuda.nvtx)").status, "FAIL", "no perfetto output: FAIL")

# --- environment ------------------------------------------------------------------------------------
env = rep()
env["environment"] = {"cuda_driver_version": "13.0", "cuda_runtime_version": "13.0",
                      "nvidia_driver": "580.159.04", "driver_warning": None,
                      "gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3"}]}
gpu = {"name": "NVIDIA H100 80GB HBM3", "driver": "580.159.04"}
t = Table()
tc.eval_environment(t, "train", run(tout(), env), gpu, "13.0")
equal(statuses(t), {"train: environment recorded": "PASS", "train: no driver warning": "PASS"}, "env rows")
equal(row(t, "train: environment recorded").measured,
      "GPU NVIDIA H100 80GB HBM3, driver 580.159.04, CUDA driver 13.0, runtime 13.0", "env measured")
env["environment"].update(driver_warning="the NVIDIA driver supports CUDA 12.4 but ...", cuda_runtime_version="12.8")
t = Table()
tc.eval_environment(t, "train", run(tout(), env), gpu, "13.0")
equal(set(statuses(t).values()), {"FAIL"}, "runtime other than PyTorch's; a driver warning")
env["environment"].update(driver_warning=None, cuda_runtime_version="13.0", nvidia_driver=None)
t = Table()
tc.eval_environment(t, "train", run(tout(), env), gpu)
equal(row(t, "train: environment recorded").status, "FAIL", "kernel driver version missing")
t = Table()
tc.eval_environment(t, "train", run(tout(), env), dict(gpu, proc_version=False))
equal(row(t, "train: environment recorded").status, "PASS",
      "no /proc/driver/nvidia/version on this machine (gVisor): null is right")
t = Table()
tc.eval_environment(t, "alloc_pattern", run("", env), {"name": "NVIDIA H200", "driver": None})
equal(row(t, "alloc_pattern: environment recorded").status, "FAIL", "another GPU's name")

# --- overhead ---------------------------------------------------------------------------------------
t = Table()
tc.eval_overhead(t, run(tout(step_time_ms_median=4.0)), run(tout(step_time_ms_median=4.2)),
                 run(tout(step_time_ms_median=5.0, profiler=True)))
r = row(t, "train: overhead vs torch.profiler")
equal((r.status, r.measured), ("PASS", "gpuprof 4.20 ms (1.05x), torch.profiler 5.00 ms (1.25x), no tool 4.00 ms"),
      "overhead row")
t = Table()
tc.eval_overhead(t, run(tout()), run(tout(step_time_ms_median=5.5)), run(tout(step_time_ms_median=5.0)))
equal(row(t, "train: overhead vs torch.profiler").status, "FAIL", "slower than torch.profiler")

# --- fit ------------------------------------------------------------------------------------------
B = tc.FIT_BATCHES
points = [run(tout(batch_size=b), rep(allocated=20 * MIB + b * 66048, label=f"batch={b}")) for b in B]
fit = {"fixed_bytes": 20971520, "per_sample_bytes": 66048, "max_batch": 1229735, "headroom_fraction": 0.05,
       "device_total_bytes": 85520809984, "residual_bytes": 0, "linear": True, "peak_source": "allocated",
       "points": [{"file": f"b{b}.gz", "batch": b, "peak_bytes": 0, "source": "allocated"} for b in B]}
fits = run(tout(batch_size=1229735, max_memory_reserved=81 * 10**9))
over = run(tout(batch_size=1414195, oom=True), rc=1)
t = Table()
tc.eval_fit(t, points, Result(report=fit), fits, over, B)
equal(set(statuses(t).values()), {"PASS"}, f"fit rows: {statuses(t)}")
equal(row(t, "fit: prediction").measured,
      "max_batch 1,229,735, fixed 20,971,520, per sample 66,048, headroom 0.05, residual 0, device "
      "85,520,809,984, allocated, linear True", "prediction shown")
equal(row(t, "fit: labelled runs").expected, "batch=32768, batch=65536, batch=131072: exit 0, allocated peak recorded",
      "labelled runs expected")
equal(row(t, "fit: predicted batch size fits").measured,
      "batch 1,229,735: exit 0, oom False (94.7% of the device reserved)", "fits row")
# the run at max_batch ran out of memory, the one above did not; a curve; a missing label
t = Table()
tc.eval_fit(t, [points[0], points[1], run(tout(), rep(label=""))], Result(report=dict(fit, linear=False)),
            run(tout(oom=True), rc=1), run(tout(oom=False)), B)
equal(set(statuses(t).values()), {"FAIL"}, "every fit row fails")
# fit could not run: every row fails and says why, nothing raises
t = Table()
tc.eval_fit(t, points, Result(rc=1, report_error="gpuprof-report fit exit 1: no device total"), None, None, B)
r = row(t, "fit: prediction")
check(r.status == "FAIL" and "no device total" in r.measured, f"fit error shown: {r.measured}")
check("not run: no max_batch" in row(t, "fit: +15% fails").measured, "no max_batch: not run")

# --- skipped groups: the same rows, each a SKIP ------------------------------------------------------
t = Table()
tc.skip_rows(t, "train", "out of time")
t.rows and equal({r.status for r in t.rows}, {"SKIP"}, "train rows skipped")
equal(len(t.rows), 29, f"train rows: {[r.check for r in t.rows]}")
t = Table()
tc.skip_rows(t, "fit", "out of time")
equal([r.check for r in t.rows], ["fit: labelled runs", "fit: prediction", "fit: predicted batch size fits",
                                  "fit: +15% fails"], "fit rows")
check(hasattr(checks, "GROUPS") and [g for g, _ in checks.GROUPS][-3:] == ["train", "fit", "bench"],
      "train and fit run before bench")
finish()
