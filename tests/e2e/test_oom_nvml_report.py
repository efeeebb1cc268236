"""Other processes on the GPU in the report's OOM sections: samples/oom on a 4 GiB stand-in
device and the stand-in torch on a 48 MiB one, with the fake NVML (tests/fakecuda/nvml) saying
which processes hold the GPU. The JSON (`oom[]`, `torch.ooms[]`) carries NVML's exact numbers
and the text says "other processes on GPU N: K processes, X (largest: pid P, Y)", with the
other_processes advice when they hold a tenth of the device or more; without NVML the fields
are null and nothing is said."""
import os
import tempfile

from e2e import FAKE_DIR, check, equal, finish, report, report_json, run_sample, unchanged
from test_torch_adapter import PRELUDE, run as run_torch

NVML_DIR = os.path.join(os.path.dirname(FAKE_DIR), "nvml")
GiB, MiB = 1 << 30, 1 << 20
FIELDS = ("other_processes_bytes", "other_processes_count", "other_processes_largest",
          "process_nvml_bytes", "advice")


def run(what, processes, nvml=True):
    """samples/oom under the shim; returns (completed process, report JSON's oom[0], text)."""
    env = {"FAKECUDA_DEVICE_MEM": "4G", "GPUPROF_KERNELS": "0"}
    if nvml:
        env.update(LD_LIBRARY_PATH=FAKE_DIR + ":" + NVML_DIR, FAKENVML_PROCESSES=processes)
    p, trace = run_sample("oom", env=env)
    j = report_json(trace)
    equal(len(j["oom"]), 1, f"{what}: one OOM")
    o = j["oom"][0] if j["oom"] else {}
    text = report(trace).stdout
    return p, {k: o.get(k, "absent") for k in FIELDS}, j["events"]["meminfo"], text


def oom_lines(text):
    """The OOM section's lines about other processes and advice."""
    return [l for l in text.splitlines()
            if "other process" in l or "NVML" in l or l.startswith("    advice: ")]


plain, _ = run_sample("oom", preload=False, env={"FAKECUDA_DEVICE_MEM": "4G"})

# Two other processes holding 1.5 GiB of the 4 GiB: a third of the device, so the advice.
p, o, meminfo, text = run("two others", "4242:1073741824,self:4294967296,5151:536870912")
unchanged(plain, p, "two others")
ADVICE = ("other processes: 2 other processes held 1.50 GiB of the device's 4.00 GiB (NVML; the "
          "largest, pid 4242, 1.00 GiB): stop them or use another GPU")
equal(o, {"other_processes_bytes": GiB + 512 * MiB, "other_processes_count": 2,
          "other_processes_largest": {"pid": 4242, "bytes": GiB}, "process_nvml_bytes": 4 * GiB,
          "advice": [{"kind": "other_processes", "text": ADVICE}]}, "two others: oom[0]")
equal(meminfo, 1, "two others: the NVML record is counted among MEMINFO records")
equal(oom_lines(text),
      ["    other processes on GPU 0: 2 processes, 1.50 GiB (1610612736 bytes) (largest: pid 4242, 1.00 GiB)",
       "    advice: " + ADVICE], "two others: text")

# A little memory elsewhere: said, no advice. NVML not listing this process: said too.
p, o, _, text = run("small", "77:1048576")
unchanged(plain, p, "small")
equal(o, {"other_processes_bytes": MiB, "other_processes_count": 1,
          "other_processes_largest": {"pid": 77, "bytes": MiB}, "process_nvml_bytes": 0,
          "advice": []}, "small: oom[0]")
equal(oom_lines(text),
      ["    other processes on GPU 0: 1 process, 1.00 MiB (1048576 bytes) (largest: pid 77, 1.00 MiB)",
       "      (NVML did not list this process: in a container it may be one of them)"], "small: text")

# Nobody else.
p, o, _, text = run("alone", "self:4294967296")
equal(o, {"other_processes_bytes": 0, "other_processes_count": 0, "other_processes_largest": None,
          "process_nvml_bytes": 4 * GiB, "advice": []}, "alone: oom[0]")
equal(oom_lines(text), ["    other processes on GPU 0: none"], "alone: text")

# Without NVML: null fields, no line, no MEMINFO.
p, o, meminfo, text = run("no NVML", None, nvml=False)
unchanged(plain, p, "no NVML")
equal(o, {"other_processes_bytes": None, "other_processes_count": None, "other_processes_largest": None,
          "process_nvml_bytes": None, "advice": []}, "no NVML: oom[0]")
equal((meminfo, oom_lines(text)), (0, []), "no NVML: nothing said")

# PyTorch's OOM (stand-in torch, 48 MiB device): torch.ooms[0] takes NVML's figure, measured at
# the cudaMalloc failure just before, instead of total - free - this process.
TORCH = PRELUDE + """import torch
a = torch.empty(14 << 20, dtype=torch.uint8, device="cuda")
b = torch.empty(16 << 20, dtype=torch.uint8, device="cuda")
c = torch.empty(5000000, dtype=torch.uint8, device="cuda")
"""
TORCH_ADVICE = ("other processes: 2 other processes held 12.00 MiB of the device's 48.00 MiB (NVML; "
                "the largest, pid 4242, 8.00 MiB): stop them or use another GPU")
with tempfile.TemporaryDirectory() as d:
    env = {"FAKECUDA_DEVICE_MEM": "48M", "LD_LIBRARY_PATH": FAKE_DIR + ":" + NVML_DIR,
           "FAKENVML_PROCESSES": "4242:8388608,self:33554432,5151:4194304"}
    tplain, _, _, _ = run_torch(d, TORCH, preload=False, env=env)
    for nvml in (True, False):
        what = "torch with NVML" if nvml else "torch without NVML"
        tp, traces, _, _ = run_torch(d, TORCH, env=env if nvml else {"FAKECUDA_DEVICE_MEM": "48M"})
        unchanged(tplain, tp, what)
        equal(len(traces), 1, f"{what}: one trace")
        if not traces:
            continue
        ooms = (report_json(traces[0]).get("torch") or {}).get("ooms") or [{}]
        o = ooms[0]
        other = [a for a in o.get("advice", []) if a["kind"] == "other_processes"]
        lines = oom_lines(report(traces[0]).stdout)
        if nvml:
            equal((o.get("other_processes_bytes"), o.get("other_processes_count"), other),
                  (12 * MiB, 2, [{"kind": "other_processes", "text": TORCH_ADVICE}]), f"{what}: torch.ooms[0]")
            # The shim's two cudaMalloc failures (PyTorch retries once), then PyTorch's OOM.
            line = ("    other processes on GPU 0: 2 processes, 12.00 MiB (12582912 bytes) (largest: "
                    "pid 4242, 8.00 MiB)")
            equal(lines, [line, "    advice: " + TORCH_ADVICE] * 2 + [line, "      - " + TORCH_ADVICE],
                  f"{what}: text")
        else:
            equal((o.get("other_processes_bytes"), o.get("other_processes_count"), other), (0, None, []),
                  f"{what}: torch.ooms[0] infers total - free - this process")
            equal(lines, ["    other processes (and the CUDA context) 0 B (0 bytes)"], f"{what}: text")
            check(not any(a["kind"] == "other_processes" for o in ooms for a in o.get("advice", [])),
                  f"{what}: no other_processes advice")
finish()
