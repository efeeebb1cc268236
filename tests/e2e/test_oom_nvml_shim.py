"""Other processes on the GPU at an OOM, as the shim records them (shim/nvml.c): samples/oom
on a 4 GiB stand-in device with the fake NVML (tests/fakecuda/nvml) on the library path. The
trace is read with the reader of docs/trace-format.md §7, so these checks hold whatever the
report makes of the record: one MEMINFO with api 31 right after the OOM, on the same thread and
device, with the exact bytes and counts NVML gave; nothing without NVML; at most one warning
when NVML fails; the program's exit status and output unchanged in every case."""
import os
import re
import tempfile

from e2e import FAKE_DIR, check, equal, finish, run_sample, unchanged
from test_torch_adapter import PRELUDE, run as run_torch

NVML_DIR = os.path.join(os.path.dirname(FAKE_DIR), "nvml")        # tests/fakecuda/nvml
NVML_V2_DIR = os.path.join(os.path.dirname(FAKE_DIR), "nvml-v2")  # the copy without _v3
DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "trace-format.md")
GiB, MiB = 1 << 30, 1 << 20
NVML_API = 31
QUERY_V3 = "nvmlDeviceGetComputeRunningProcesses_v3"
WARNING = ("gpuprof: NVML {} failed (999: Unknown Error); other processes on the GPU are not "
           "recorded at OOM")


def read_trace(path):
    """The trace's records, by the specification's own Python reader."""
    text = open(DOC).read()
    code = re.search(r"## 7\. A reader in Python.*?```python\n(.*?)```", text, re.S).group(1)
    ns = {"__name__": "trace_format_reader"}
    exec(code, ns)
    return list(ns["read"](path))


def run(what, processes=None, lib_dir=NVML_DIR, **fake):
    """samples/oom under the shim with the fake NVML given these settings; returns (completed
    process, records, calls the fake NVML logged). fake: FAKENVML_* without the prefix."""
    d = tempfile.mkdtemp(prefix="gpuprof-nvml-")
    log = os.path.join(d, "nvml.log")
    env = {"FAKECUDA_DEVICE_MEM": "4G", "FAKENVML_LOG": log, "GPUPROF_KERNELS": "0"}
    if lib_dir:
        env["LD_LIBRARY_PATH"] = FAKE_DIR + ":" + lib_dir
    if processes is not None:
        env["FAKENVML_PROCESSES"] = processes
    env.update({"FAKENVML_" + k.upper(): v for k, v in fake.items()})
    p, trace = run_sample("oom", env=env, workdir=d)
    check(trace is not None, f"{what}: a trace")
    calls = open(log).read().split() if os.path.exists(log) else []
    return p, read_trace(trace) if trace else [], calls


def events(records):
    return [r for r in records if r[0] in ("ALLOC", "FREE", "MEMINFO", "OOM")]


def nvml_records(records):
    return [ev for kind, ev in events(records) if kind == "MEMINFO" and ev["api"] == NVML_API]


plain, _ = run_sample("oom", preload=False, env={"FAKECUDA_DEVICE_MEM": "4G"})
equal(plain.returncode, 1, "oom exits 1 on its own")

# Two other processes and this one: one record right after the OOM, exact fields.
p, recs, calls = run("two others", "4242:1073741824,self:4294967296,5151:536870912")
unchanged(plain, p, "two others")
evs = events(recs)
kinds = [k for k, _ in evs]
check("OOM" in kinds and kinds.index("OOM") + 1 < len(kinds), f"an OOM with a record after it: {kinds}")
if "OOM" in kinds and kinds.index("OOM") + 1 < len(kinds):
    oom, nxt = evs[kinds.index("OOM")][1], evs[kinds.index("OOM") + 1]
    equal(nxt[0], "MEMINFO", "the record right after the OOM")
    got = {k: nxt[1][k] for k in ("api", "size", "aux1", "aux2", "stream", "ptr", "device", "kind",
                                  "result", "stack", "tid")}
    equal(got, {"api": NVML_API, "size": GiB + 512 * MiB, "aux1": 2, "aux2": 4 * GiB, "stream": 4242,
                "ptr": GiB, "device": 0, "kind": 0, "result": 0, "stack": 0, "tid": oom["tid"]},
          "NVML record: other bytes, count, own bytes, largest pid and bytes, device, thread")
    check(nxt[1]["time"] >= oom["time"], "NVML record not before its OOM")
equal(len(nvml_records(recs)), 1, "one NVML record")
equal(calls, ["nvmlInit_v2", "nvmlDeviceGetHandleByPciBusId_v2", QUERY_V3],
      "NVML initialised once, the device found by bus id, the newest query used, never shut down")

# A process NVML may not measure counts with 0 bytes; this process not listed: aux2 = 0.
p, recs, _ = run("unmeasured", "7:na,8:3000")
unchanged(plain, p, "unmeasured")
equal([(r["size"], r["aux1"], r["aux2"], r["stream"], r["ptr"]) for r in nvml_records(recs)],
      [(3000, 2, 0, 8, 3000)], "a process without a figure is counted, with 0 bytes")

# No other process: a record all the same (NVML answered: nobody else).
p, recs, _ = run("alone", "self:1000")
unchanged(plain, p, "alone")
equal([(r["size"], r["aux1"], r["aux2"], r["stream"], r["ptr"]) for r in nvml_records(recs)],
      [(0, 0, 1000, 0, 0)], "only this process")

# More processes than the shim's first buffer holds (128): NVML says how many, asked again.
many = ",".join(f"{1000 + i}:{(i + 1) * MiB}" for i in range(200))
p, recs, _ = run("many", many)
unchanged(plain, p, "many")
equal([(r["size"], r["aux1"], r["stream"], r["ptr"]) for r in nvml_records(recs)],
      [(200 * 201 // 2 * MiB, 200, 1199, 200 * MiB)], "200 other processes")

# The bus id decides, in either domain width and any case; another GPU's id: nothing, silently.
p, recs, _ = run("8-digit bus id", "9:5", busid="00000000:a1:00.0")
equal(len(nvml_records(recs)), 1, "bus id 00000000:a1:00.0 is CUDA device 0's")
p, recs, calls = run("other GPU", "9:5", busid="0000:A2:00.0")
unchanged(plain, p, "other GPU")
equal((len(nvml_records(recs)), calls), (0, ["nvmlInit_v2", "nvmlDeviceGetHandleByPciBusId_v2"]),
      "a GPU NVML does not know: no record, no query")

# A driver before R510 has no _v3: _v2 is used.
p, recs, calls = run("_v2 only", "9:5", lib_dir=NVML_V2_DIR)
unchanged(plain, p, "_v2 only")
equal(calls[-1:], ["nvmlDeviceGetComputeRunningProcesses_v2"], "the _v2 query without _v3")
equal([(r["size"], r["aux1"]) for r in nvml_records(recs)], [(5, 1)], "_v2 record")

# No NVML on the library path: no record, no warning, nothing else changes.
p, recs, calls = run("no NVML", "9:5", lib_dir=None)
unchanged(plain, p, "no NVML")
equal((len(nvml_records(recs)), calls), (0, []), "no NVML: no record")
equal([k for k, _ in events(recs)].count("OOM"), 1, "the OOM itself is still recorded")

# NVML there but failing: one warning saying where; no record.
for fail, where in (("init", "initialisation"), ("lookup", "device lookup by PCI bus id"),
                    ("processes", "process query")):
    p, recs, _ = run(f"fail {fail}", "9:5", fail=fail)
    equal(unchanged(plain, p, f"fail {fail}", warnings=1), [WARNING.format(where)], f"fail {fail}: warning")
    equal(len(nvml_records(recs)), 0, f"fail {fail}: no record")
# No kernel driver, or a device that cannot list processes: normal, silent.
for fail in ("driver", "unsupported"):
    p, recs, _ = run(f"fail {fail}", "9:5", fail=fail)
    unchanged(plain, p, f"fail {fail}", warnings=0)
    equal(len(nvml_records(recs)), 0, f"fail {fail}: no record")

# Several OOMs in one process (the stand-in torch retries a failed cudaMalloc once): NVML is
# initialised once, the handle looked up once, and a failing query warns once.
TORCH = PRELUDE + """import torch
a = torch.empty(30 << 20, dtype=torch.uint8, device="cuda")
b = torch.empty(20 << 20, dtype=torch.uint8, device="cuda")
"""
with tempfile.TemporaryDirectory() as d:
    log = os.path.join(d, "nvml.log")
    env = {"FAKECUDA_DEVICE_MEM": "48M", "LD_LIBRARY_PATH": FAKE_DIR + ":" + NVML_DIR,
           "FAKENVML_PROCESSES": "9:5", "FAKENVML_LOG": log, "FAKENVML_FAIL": "processes"}
    tplain, _, _, _ = run_torch(d, TORCH, preload=False, env=env)
    check(tplain.returncode == 1 and "OutOfMemoryError" in tplain.stderr, "torch: the script dies of an OOM")
    check(not os.path.exists(log), "torch: without gpuprof nothing asks NVML")
    tp, traces, _, _ = run_torch(d, TORCH, env=env)
    equal(unchanged(tplain, tp, "torch, failing NVML", warnings=1), [WARNING.format("process query")],
          "torch: one warning for two OOMs")
    equal(open(log).read().split(), ["nvmlInit_v2", "nvmlDeviceGetHandleByPciBusId_v2", QUERY_V3, QUERY_V3],
          "torch: two OOMs, one initialisation and one lookup")
    recs = read_trace(traces[0]) if traces else []
    equal(([k for k, _ in events(recs)].count("OOM"), len(nvml_records(recs))), (2, 0),
          "torch: two OOMs recorded, no NVML record")
finish()
