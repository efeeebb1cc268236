"""tools/gpu-check --fake on this build: the GPU validation kit's dry run on the CUDA stand-ins.
Every memory check the kit makes on a real GPU runs here against the stand-ins and passes, and
so do the PyTorch checks the stand-in torch allows (allocated/reserved peaks, OOM forensics,
the environment, the fit advisor end to end); the rows that need real CUDA libraries or kernels
(kernels, cuBLAS, cuDNN, AMP, NVTX through PyTorch, overhead) are skipped and say why; the NVTX
range counting is run on tests/nvtx/nvtx_sample's trace;
the table says loudly that it ran on the stand-ins; OUT gets the table and the archive. Then
the same with a device too small for the samples: the failures reach the table, the recap and
the exit status. Then with no time budget left: every group is skipped, the table still comes
out."""
import json
import os
import subprocess
import sys
import tarfile
import tempfile

from e2e import SANITIZER, check, equal, finish, skip

if SANITIZER:
    skip("the kit preloads the shim into programs of its own; it is tested in the normal build")

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.dirname(os.path.dirname(os.environ["GPUPROF_SHIM"]))
STAND_INS = "needs the real CUDA libraries (running on the stand-ins)"


def gpu_check(*args, env=None):
    out = tempfile.mkdtemp(prefix="gpuprof-gpucheck-out-")
    work = tempfile.mkdtemp(prefix="gpuprof-gpucheck-work-")
    e = {k: v for k, v in os.environ.items() if k != "OUT"}
    e.update(env or {})
    p = subprocess.run([os.path.join(TOP, "tools", "gpu-check"), "--fake", "--no-build", "--quick",
                        "--build-dir", BUILD, "--out", out, "--work", work, *args],
                       env=e, capture_output=True, text=True, timeout=240)
    table = None
    if os.path.exists(os.path.join(out, "table.json")):
        with open(os.path.join(out, "table.json")) as f:
            table = json.load(f)
    return p, out, table


def rows(table):
    return {r["check"]: r for r in table["rows"]}


# --- the dry run passes ------------------------------------------------------------------------
p, out, table = gpu_check()
equal(p.returncode, 0, f"exit status of the dry run (stderr tail: {p.stderr[-600:]})")
check("ON THE CUDA TEST STAND-INS" in p.stdout, "the table says it ran on the stand-ins")
check(p.stdout.rstrip().endswith("skipped"), "the counts come last")
check(table is not None, "table.json in OUT")
if table is None:
    finish()
r = rows(table)
equal(table["counts"]["FAIL"], 0, "failed rows: " + "; ".join(
    f"{x['check']}: {x['measured']}" for x in table["rows"] if x["status"] == "FAIL"))
for name in ("alloc_pattern: device peak", "alloc_pattern: sites at the peak",
             "alloc_pattern: held at exit", "alloc_pattern: every call once",
             "alloc_pattern: symbols and lines", "vmm: physical", "vmm: every call once",
             "own_runtime: charged to libworkspace.so", "many_threads: exact totals",
             "bench runtime: every event seen", "bench driver: every event seen",
             "bench driver: shim cost per event"):
    equal(r.get(name, {}).get("status"), "PASS", f"row {name!r}")
equal(r["alloc_pattern: device peak"]["measured"], "118,591,488", "alloc_pattern peak as measured")
oom_built = os.access(os.path.join(BUILD, "samples", "cuda", "oom_truth"), os.X_OK)
for name in ("oom: one OOM event", "oom: live bytes at the OOM", "oom: device total",
             "oom: sites live at the OOM"):
    equal(r.get(name, {}).get("status"), "PASS" if oom_built else "SKIP", f"row {name!r}")
if oom_built:
    equal(r["oom: live bytes at the OOM"]["measured"], "4,294,967,296", "OOM live bytes")
for name in ("kernels: device memory (by cudaMalloc)", "kernels: kernels recorded",
             "cublas: workspace charged to libcublas", "gemm: its own memory at the peak",
             "gemm fp16: Tensor Core verdict", "conv fp32: Tensor Core verdict",
             "conv: kernel classes (layer 3)"):
    equal((r.get(name, {}).get("status"), r.get(name, {}).get("reason")), ("SKIP", STAND_INS),
          f"row {name!r}")
# The PyTorch parts on the stand-in torch (tools/gpucheck/fake_train.py): the adapter's peaks,
# the OOM forensics and the whole fit procedure run for real; what needs kernels is skipped.
for name in ("train default: runs under the shim", "train default: trace peak >= max_memory_reserved",
             "train default: allocated peak = max_memory_allocated",
             "train default: reserved peak = max_memory_reserved", "train default: allocator events",
             "train oom: runs under the shim", "train oom: OOM recorded",
             "train oom: request and segment sizes", "train oom: device total and free",
             "train oom: fatal", "train oom: advice", "train: environment recorded",
             "train: no driver warning", "alloc_pattern: environment recorded",
             "alloc_pattern: no driver warning", "fit: labelled runs", "fit: prediction",
             "fit: predicted batch size fits", "fit: +15% fails"):
    equal(r.get(name, {}).get("status"), "PASS", f"row {name!r}: {r.get(name)}")
equal(r["fit: prediction"]["measured"], "max_batch 15,052, fixed 33,554,432, per sample 65,536, "
      "headroom 0.05, residual 0, device 1,073,741,824, allocated, linear True",
      "fit on the stand-ins: 32 MiB fixed, 64 KiB per sample, 1 GiB device")
equal(r["fit: +15% fails"]["measured"], "batch 17,309: exit 1, oom True", "1.15x max_batch")
equal(r["train oom: request and segment sizes"]["measured"], "request 1,006,632,960, segment 1,006,632,960",
      "the stand-in's OOM: 20480 x 48 KiB")
for name, why in (("train amp: AMP Tensor Core verdict", "needs real kernels"),
                  ("train amp: NVTX ranges (torch.cuda.nvtx)", "needs real kernels"),
                  ("train: overhead vs torch.profiler", "needs real kernels"),
                  ("train expandable: segments via cuMemCreate", "no expandable segments"),
                  ("gemm fp8: Tensor Core verdict", "not in the sample yet")):
    check(r.get(name, {}).get("status") == "SKIP" and why in r[name]["reason"],
          f"row {name!r} skipped because {why}: {r.get(name)}")
equal(r["build: gpuprof and samples"]["status"], "SKIP", "--no-build row")
equal(sorted(f for f in os.listdir(out)),
      ["gpu-check-logs.tar.gz", "table.json", "table.md", "table.txt"], "files in OUT")
with tarfile.open(os.path.join(out, "gpu-check-logs.tar.gz")) as tar:
    names = tar.getnames()
for name in ("gpu-check/alloc_pattern.json", "gpu-check/alloc_pattern.txt",
             "gpu-check/alloc_pattern.out", "gpu-check/vmm.err"):
    check(name in names, f"{name} in the archive")
check(any(n.startswith("gpu-check/alloc_pattern.") and n.endswith(".gz") for n in names),
      "the alloc_pattern trace in the archive")
with open(os.path.join(out, "table.md")) as f:
    md = f.read()
check("| alloc_pattern: device peak | 118,591,488" in md, "markdown table row")

# --- a device too small for the samples: the failures reach the exit status --------------------
p, out, table = gpu_check("--only", "alloc_pattern,vmm", env={"FAKECUDA_DEVICE_MEM": "64M"})
equal(p.returncode, 1, "exit status when checks fail")
check(table is not None and table["counts"]["FAIL"] > 0, "failed rows in table.json")
check("FAILED (" in p.stdout and "alloc_pattern: runs under the shim" in p.stdout,
      "the failures recapped after the table")
if table:
    r = rows(table)
    equal(r["alloc_pattern: runs under the shim"]["status"], "FAIL", "alloc_pattern fails")
    check("memory" in r["alloc_pattern: runs under the shim"]["reason"].lower(),
          f"the sample's own error as the reason: {r['alloc_pattern: runs under the shim']}")
    equal(r["vmm: physical"]["status"], "FAIL", "vmm fails")
    check(not any(n.startswith("own_runtime") for n in r), "--only leaves the other groups out")

# --- no time left: every group skipped, still a table ------------------------------------------
p, out, table = gpu_check("--budget", "0", "--only", "alloc_pattern,train,fit")
equal(p.returncode, 0, "exit status with every group skipped")
if table:
    r = rows(table)
    check("out of time" in r["alloc_pattern: device peak"]["reason"],
          f"skipped for time: {r['alloc_pattern: device peak']}")
    check(all(x["status"] == "SKIP" for x in table["rows"] if x["check"].startswith(("train", "fit"))),
          "train and fit rows skipped")
    equal(sum(1 for x in table["rows"] if x["check"].startswith("fit")), 4, "the fit rows")

# --- NVTX ranges counted by name from --perfetto, as the kit does for train.py --nvtx ----------
sys.path.insert(0, os.path.join(TOP, "tools", "gpucheck"))
import checks  # noqa: E402
import torch_checks  # noqa: E402

nvtx = os.path.join(BUILD, "nvtx", "nvtx_sample")
cupti = os.path.join(BUILD, "fakecuda", "cupti", "libcupti.so.13")
if os.access(nvtx, os.X_OK) and os.path.exists(cupti):
    work = tempfile.mkdtemp(prefix="gpuprof-gpucheck-nvtx-")
    runner = checks.Runner(BUILD, work, os.path.join(BUILD, "fakecuda", "lib"))
    res = runner.run("nvtx", [nvtx], extra_env={"FAKECUPTI_PATH": cupti})
    equal(res.rc, 0, f"nvtx_sample under the shim (stderr {res.err[-300:]!r})")
    equal(torch_checks.nvtx_ranges(runner, res), {"step": 1, "forward": 1, "save": 1},
          "range names and counts from --perfetto")
    equal(res.j["kernels"]["nvtx_ranges"], 3, "kernels.nvtx_ranges")
    equal(sorted(os.listdir(work)), sorted(["nvtx.err", "nvtx.json", "nvtx.out", "nvtx.txt",
                                            os.path.basename(res.trace)]), "the Perfetto file is not kept")
finish()
