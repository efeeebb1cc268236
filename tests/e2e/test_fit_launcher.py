"""`gpuprof run --label 'batch=N'` puts the label in the trace (gpuprof-report --json's
run.label), and `gpuprof-report fit` reads the batch sizes from those labels: two runs of
samples/alloc_pattern on the CUDA stand-ins (same memory whatever the label says, so no
per-sample growth and no largest batch), peaks and device total as the sample documents."""
import glob
import json
import os
import subprocess
import tempfile

from e2e import REPORT, SAMPLES, base_env, equal, finish, report_json
import e2e
from lifecycle_util import LAUNCHER

ALLOC_PATTERN_PEAK = 118591488  # the fake's charge at the sample's peak (samples/alloc_pattern.c)
FAKE_TOTAL = 17179869184        # the stand-in device's default 16 GiB


def launch_env():
    """The test environment without the shim preloaded (the launcher preloads it), keeping a
    sanitizer runtime the shim needs first."""
    e = base_env()
    prefix = getattr(e2e, "PRELOAD_PREFIX", [])
    e.pop("LD_PRELOAD", None)
    if prefix:
        e["LD_PRELOAD"] = ":".join(prefix)
    return e


with tempfile.TemporaryDirectory() as d:
    traces = []
    for label in ("batch=4", "resnet batch=8 amp"):
        out = os.path.join(d, f"b{len(traces)}.%p.gz")
        p = subprocess.run([LAUNCHER, "run", "--label", label, "-o", out, "--",
                            os.path.join(SAMPLES, "alloc_pattern")],
                           cwd=d, env=launch_env(), capture_output=True, text=True, timeout=120)
        equal(p.returncode, 0, f"gpuprof run --label {label!r}: exit status ({p.stderr.strip()!r})")
        found = glob.glob(os.path.join(d, f"b{len(traces)}.*.gz"))
        equal(len(found), 1, f"--label {label!r}: one trace")
        if found:
            traces.append(found[0])
            j = report_json(found[0])
            equal(j["run"]["label"], label, "--label, exactly, in run.label")
            equal(j["memory"]["device_total_bytes"], FAKE_TOTAL, "the stand-in's device total")

    if len(traces) == 2:
        p = subprocess.run([REPORT, "fit", "--json", *traces], capture_output=True, text=True,
                           timeout=120)
        equal(p.returncode, 0, f"fit on the launcher's traces: exit status ({p.stderr.strip()!r})")
        j = json.loads(p.stdout) if p.returncode == 0 else {}
        # the stand-in's cudaMemGetInfo says free = total - what was allocated: no context
        equal(j, {"fixed_bytes": ALLOC_PATTERN_PEAK, "per_sample_bytes": 0, "max_batch": None,
                  "headroom_fraction": 0.05, "device_total_bytes": FAKE_TOTAL, "residual_bytes": 0,
                  "other_bytes": 0,
                  "other": {"non_torch_bytes": 0, "context_bytes": 0, "other_processes_bytes": 0,
                            "context_source": "meminfo", "batch": 4},
                  "usable_bytes": FAKE_TOTAL * 95 // 100,
                  "linear": True, "peak_source": "reserved",
                  "points": [{"file": traces[0], "batch": 4, "peak_bytes": ALLOC_PATTERN_PEAK,
                              "source": "reserved", "other_bytes": 0},
                             {"file": traces[1], "batch": 8, "peak_bytes": ALLOC_PATTERN_PEAK,
                              "source": "reserved", "other_bytes": 0}]},
              "fit reads batch=4 and batch=8 from the labels the launcher stored")

finish()
