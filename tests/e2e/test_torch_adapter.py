"""gpuprof's PyTorch adapter end to end, on the stand-in torch (tests/faketorch) and the fake
CUDA runtime: a script makes and frees tensors of known sizes at known lines under
libgpuprof.so; the report's allocated and reserved peaks, the event count and the call
sites are exact. Also: the user's own sitecustomize still runs and gpuprof's directory is
gone from sys.path; a Python program without torch or without CUDA is untouched;
GPUPROF_TORCH=0 turns the adapter off; the cudaMallocAsync backend gives statistics only."""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

from e2e import SHIM, base_env, check, equal, finish, report_json, unchanged

HERE = os.path.dirname(os.path.abspath(__file__))
FAKETORCH = os.path.realpath(os.path.join(HERE, "..", "faketorch"))
MiB = 1 << 20

# Writes the adapter's own account (gpuprof_torch.status()) at exit, after the adapter's
# last drain (atexit runs handlers last-registered first), to a file, not to the program's
# output: the trace is checked independently of the report's PyTorch section.
PRELUDE = """import atexit, json, os, sys
def _gp_status():
    m = sys.modules.get("gpuprof_torch")
    with open(os.environ["STATUS_OUT"], "w") as f:
        json.dump(m.status() if m else None, f)
atexit.register(_gp_status)
"""

SCRIPT = PRELUDE + """import torch
a = torch.empty(1000, dtype=torch.uint8, device="cuda")     # site:a  1024 B, 2 MiB segment
b = torch.empty(3 << 20, dtype=torch.uint8, device="cuda")  # site:b  3 MiB, 20 MiB segment
c = torch.empty(1280, dtype=torch.float32, device="cuda")   # site:c  5120 B, the 2 MiB segment
del a
d = torch.empty(18 << 20, dtype=torch.uint8, device="cuda") # site:d  18 MiB segment (17 MiB free in b's)
del b, c, d
print("allocated peak", torch.cuda.max_memory_allocated(), "reserved peak", torch.cuda.max_memory_reserved())
"""


def lines(text):
    return {m: n for n, l in enumerate(text.splitlines(), 1) for m in re.findall(r"site:(\w+)", l)}


def run(workdir, script, preload=True, env=None, argv=None):
    path = os.path.join(workdir, "script.py")
    with open(path, "w") as f:
        f.write(script)
    status = os.path.join(workdir, "status.json")
    if os.path.exists(status):
        os.remove(status)
    for t in glob.glob(os.path.join(workdir, "t.*.gz")):
        os.remove(t)
    extra = {"PYTHONPATH": FAKETORCH, "STATUS_OUT": status}
    if preload:
        extra.update(LD_PRELOAD=SHIM, GPUPROF_OUTPUT=os.path.join(workdir, "t.%p.gz"))
    e = base_env({**extra, **(env or {})})
    p = subprocess.run(argv or [sys.executable, path], env=e, cwd=workdir, capture_output=True,
                       text=True, timeout=120)
    traces = sorted(glob.glob(os.path.join(workdir, "t.*.gz")))
    st = None
    if os.path.exists(status):
        with open(status) as f:
            st = json.load(f)
    return p, traces, st, path


PEAK_ALLOCATED = 3 * MiB + 5120 + 18 * MiB   # b, c, d live together
PEAK_RESERVED = 2 * MiB + 20 * MiB + 18 * MiB
EVENTS = 15  # 3 segment_alloc, 4 alloc, 4 free_requested, 4 free_completed

def main():
    with tempfile.TemporaryDirectory() as d:
        at = lines(SCRIPT)
        plain, _, st0, _ = run(d, SCRIPT, preload=False)
        equal((plain.returncode, plain.stdout, st0),
              (0, f"allocated peak {PEAK_ALLOCATED} reserved peak {PEAK_RESERVED}\n", None),
              "the script on the stand-ins, without gpuprof")
        p, traces, st, path = run(d, SCRIPT)
        unchanged(plain, p, "allocations under the shim")
        equal(len(traces), 1, "one trace")
        if st is not None:
            equal({k: st.get(k) for k in ("installed", "armed", "on", "history", "events_sent",
                                          "events_recorded", "history_lost", "wraps", "fatal")},
                  {"installed": True, "armed": True, "on": True, "history": True, "events_sent": EVENTS,
                   "events_recorded": EVENTS, "history_lost": {"0": 0}, "wraps": 0, "fatal": False},
                  "the adapter's own account")
            written = (st.get("stats") or {}).get("0") or {}
            equal({k: written.get(k) for k in ("allocated", "reserved", "allocated_peak", "reserved_peak",
                                               "allocs", "frees", "history_lost", "torch_version",
                                               "backend_async", "expandable_segments", "max_split_size",
                                               "fatal")},
                  {"allocated": 0, "reserved": PEAK_RESERVED, "allocated_peak": PEAK_ALLOCATED,
                   "reserved_peak": PEAK_RESERVED, "allocs": 4, "frees": 4, "history_lost": 0,
                   "torch_version": 20600, "backend_async": 0, "expandable_segments": 0,
                   "max_split_size": 0, "fatal": 0}, "statistics the adapter handed to the shim")
        else:
            check(False, "the adapter ran (status file)")
        if traces:
            j = report_json(traces[0])
            mem = j["memory"]
            # Reserved as the shim saw it: the stand-in's segments, from cudaMalloc.
            equal(mem["peak_reserved_bytes"], PEAK_RESERVED, "memory.peak_reserved_bytes")
            sites = {s["bytes"]: [f for f in s["frames"] if f.get("python")] for s in mem["top_sites_at_peak"]}
            for size, mark in ((2 * MiB, "a"), (20 * MiB, "b"), (18 * MiB, "d")):
                py = sites.get(size, [])
                outer = [(f["file"], f["line"]) for f in py if f["function"] == "<module>"]
                equal(outer, [(path, at[mark])], f"the {size}-byte segment's Python stack names the script line")
            # The adapter's PyTorch section (report/analysis_torch.c).
            equal(mem.get("peak_allocated_bytes"), PEAK_ALLOCATED, "memory.peak_allocated_bytes")
            equal(mem.get("peak_fragmentation_bytes"), PEAK_RESERVED,
                  "memory.peak_fragmentation_bytes (reserved - allocated: all of it once d is freed)")
            t = j.get("torch") or {}
            equal({k: t.get(k) for k in ("version", "events", "history_lost", "unknown_frees",
                                         "expandable_segments", "backend", "peak_allocated_bytes",
                                         "peak_reserved_bytes", "ooms")},
                  {"version": "2.6.0", "events": EVENTS, "history_lost": 0, "unknown_frees": 0,
                   "expandable_segments": False, "backend": "native",
                   "peak_allocated_bytes": PEAK_ALLOCATED, "peak_reserved_bytes": PEAK_RESERVED,
                   "ooms": []}, "torch section")
            devs = t.get("devices") or [{}]
            equal({k: devs[0].get(k) for k in ("device", "allocated_bytes", "allocated_peak_bytes",
                                              "reserved_peak_bytes")},
                  {"device": 0, "allocated_bytes": 0, "allocated_peak_bytes": PEAK_ALLOCATED,
                   "reserved_peak_bytes": PEAK_RESERVED}, "torch.devices[0]")
            stats = devs[0].get("stats") or {}
            equal({k: stats.get(k) for k in ("allocated", "reserved", "allocated_peak", "reserved_peak",
                                             "allocs", "frees", "history_lost", "num_ooms",
                                             "num_alloc_retries", "expandable_segments",
                                             "backend_async", "torch_version", "max_split_size", "fatal")},
                  {"allocated": 0, "reserved": PEAK_RESERVED, "allocated_peak": PEAK_ALLOCATED,
                   "reserved_peak": PEAK_RESERVED, "allocs": 4, "frees": 4, "history_lost": 0,
                   "num_ooms": 0, "num_alloc_retries": 0, "expandable_segments": 0,
                   "backend_async": 0, "torch_version": 20600, "max_split_size": 0, "fatal": 0},
                  "torch.devices[0].stats: PyTorch's own statistics, latest values")

        # GPUPROF_TORCH=0: the shim still traces CUDA, the adapter never loads.
        p, traces, st, _ = run(d, SCRIPT, env={"GPUPROF_TORCH": "0"})
        unchanged(plain, p, "GPUPROF_TORCH=0")
        equal((st, len(traces)), (None, 1), "GPUPROF_TORCH=0: no adapter, one trace")
        if traces:
            j = report_json(traces[0])
            equal((j["memory"]["peak_reserved_bytes"], j.get("torch"), j["memory"].get("peak_allocated_bytes")),
                  (PEAK_RESERVED, None, None), "GPUPROF_TORCH=0: reserved only, no torch section")

        # max_split_size_mb and expandable_segments as PyTorch reports them.
        p, traces, st, _ = run(d, SCRIPT, env={"PYTORCH_CUDA_ALLOC_CONF": "max_split_size_mb:64,expandable_segments:True"})
        equal((p.returncode, p.stderr), (0, ""), "allocator settings run")
        w = ((st or {}).get("stats") or {}).get("0") or {}
        equal((w.get("max_split_size"), w.get("expandable_segments")), (64 * MiB, 1),
              "max_split_size and expandable_segments handed to the shim")
        if traces:
            stats = ((report_json(traces[0]).get("torch") or {}).get("devices") or [{}])[0].get("stats") or {}
            equal((stats.get("max_split_size"), stats.get("expandable_segments")), (64 * MiB, 1),
                  "max_split_size and expandable_segments stats")

        # backend:cudaMallocAsync: no history, statistics only, said once.
        p, traces, st, _ = run(d, SCRIPT, env={"PYTORCH_CUDA_ALLOC_CONF": "backend:cudaMallocAsync"})
        equal((p.returncode, p.stderr), (0, "gpuprof: PyTorch's cudaMallocAsync backend keeps no "
              "allocator history: gpuprof records its statistics only\n"), "cudaMallocAsync: one warning")
        equal((st or {}).get("history"), False, "cudaMallocAsync: no history")
        equal((st or {}).get("events_sent"), 0, "cudaMallocAsync: no events")
        w = ((st or {}).get("stats") or {}).get("0") or {}
        equal((w.get("backend_async"), w.get("allocs"), w.get("allocated_peak"), w.get("history_lost")),
              (1, 4, PEAK_ALLOCATED, None), "cudaMallocAsync: statistics handed to the shim")
        if traces:
            t = report_json(traces[0]).get("torch") or {}
            equal((t.get("backend"), t.get("events"), ((t.get("devices") or [{}])[0].get("stats") or {}).get("allocs")),
                  ("cudaMallocAsync", 0, 4), "cudaMallocAsync: backend and statistics")

        # Bad settings: one warning each, the defaults.
        p, traces, st, _ = run(d, SCRIPT, env={"GPUPROF_TORCH_HISTORY": "lots", "GPUPROF_TORCH_INTERVAL": "0"})
        equal(p.stderr, "gpuprof: bad GPUPROF_TORCH_HISTORY 'lots' (want 16 to 10000000 entries), using 100000\n"
              "gpuprof: bad GPUPROF_TORCH_INTERVAL '0' (want 0.01 to 3600.0 seconds), using 1.0\n",
              "bad settings: warnings")
        equal(((st or {}).get("max_entries"), (st or {}).get("interval"), (st or {}).get("events_sent")),
              (100000, 1.0, EVENTS), "bad settings: defaults used")

        # The user's own sitecustomize still runs; gpuprof's directory is not on sys.path, but
        # stays first on PYTHONPATH for child processes.
        user = os.path.join(d, "usersite")
        os.makedirs(user)
        with open(os.path.join(user, "sitecustomize.py"), "w") as f:
            f.write("import sys\nsys.stderr.write('user sitecustomize ran\\n')\nUSER_MARK = 42\n")
        probe = PRELUDE + """import os, sys, sitecustomize
print(getattr(sitecustomize, "USER_MARK", None), sitecustomize.__file__)
print([p for p in sys.path if "gpuprof-python" in p])
print(os.environ.get("PYTHONPATH", "").split(os.pathsep)[0].endswith("gpuprof-python"))
"""
        plain, _, _, _ = run(d, probe, preload=False, env={"PYTHONPATH": FAKETORCH + os.pathsep + user})
        equal((plain.returncode, plain.stderr, plain.stdout),
              (0, "user sitecustomize ran\n", f"42 {user}/sitecustomize.py\n[]\nFalse\n"), "probe without gpuprof")
        p, traces, st, _ = run(d, probe, env={"PYTHONPATH": FAKETORCH + os.pathsep + user})
        equal((p.returncode, p.stderr, p.stdout),
              (0, "user sitecustomize ran\n", f"42 {user}/sitecustomize.py\n[]\nTrue\n"),
              "under the shim: the user's sitecustomize ran once, gpuprof's dir is off sys.path, "
              "first on PYTHONPATH")
        equal((traces, (st or {}).get("installed"), (st or {}).get("armed")), ([], True, False),
              "no torch imported: armed hook only, no trace")
        # A failing user sitecustomize fails exactly as it would without gpuprof.
        with open(os.path.join(user, "sitecustomize.py"), "w") as f:
            f.write("raise RuntimeError('boom')\n")
        plain, _, _, _ = run(d, "print('main ran')\n", preload=False, env={"PYTHONPATH": user})
        p, traces, _, _ = run(d, "print('main ran')\n", env={"PYTHONPATH": user})
        equal(plain.stderr, "Error in sitecustomize; set PYTHONVERBOSE for traceback:\nRuntimeError: boom\n",
              "a failing user sitecustomize, without gpuprof")
        unchanged(plain, p, "a failing user sitecustomize under the shim")

        # Python without torch, and torch without CUDA: untouched, no trace.
        for argv, what in (([sys.executable, "-c", "pass"], "python -c pass"),
                           ([sys.executable, "-c", "import torch; print(torch.cuda.is_initialized())"],
                            "import torch without CUDA")):
            plain, _, _, _ = run(d, "", preload=False, argv=argv)
            p, traces, _, _ = run(d, "", argv=argv)
            equal((p.returncode, p.stdout, p.stderr, traces), (0, plain.stdout, "", []), what)
        equal(sorted(f for f in os.listdir(d) if f.endswith(".gz")), [], "no trace files left behind")
    finish()


if __name__ == "__main__":
    main()
