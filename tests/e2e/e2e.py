"""e2e.py — shared helpers for the end-to-end tests: run a sample on the CUDA test
stand-ins under libgpuprof.so, then gpuprof-report on its trace. Paths come from the
environment ctest sets (see CMakeLists.txt)."""
import glob
import json
import os
import subprocess
import sys
import tempfile

SHIM = os.environ["GPUPROF_SHIM"]
REPORT = os.environ["GPUPROF_REPORT"]
FAKE_DIR = os.environ["GPUPROF_FAKECUDA_DIR"]
SAMPLES = os.environ["GPUPROF_SAMPLES_DIR"]
# The fault-injection programs of tests/faults (docs/reliability.md), built next to samples/.
FAULTS = os.path.join(os.path.dirname(os.path.abspath(SAMPLES)), "faults")
# Libraries that must come before the shim in LD_PRELOAD, colon-separated: a sanitizer
# runtime when the shim is built with GPUPROF_SANITIZE (see .ci/run, docs/reliability.md).
PRELOAD_PREFIX = [p for p in os.environ.get("GPUPROF_TEST_PRELOAD_PREFIX", "").split(":") if p]

failures = []


def check(cond, what):
    """Records a failed expectation and keeps going, so one run shows every mismatch."""
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def equal(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def finish():
    if failures:
        print(f"{len(failures)} expectation(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all expectations met")


def preload_value(value):
    """LD_PRELOAD text with GPUPROF_TEST_PRELOAD_PREFIX's libraries first (once each)."""
    libs = [p for p in value.replace(" ", ":").split(":") if p]
    return ":".join(PRELOAD_PREFIX + [p for p in libs if p not in PRELOAD_PREFIX])


def base_env(extra=None):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("GPUPROF_") and k not in ("GPUPROF_SHIM", "GPUPROF_REPORT"):
            del env[k]
    env["LD_LIBRARY_PATH"] = FAKE_DIR
    env.update(extra or {})
    if env.get("LD_PRELOAD") and PRELOAD_PREFIX:
        env["LD_PRELOAD"] = preload_value(env["LD_PRELOAD"])
    return env


def run_sample(name, args=(), preload=True, env=None, workdir=None, directory=SAMPLES, wrapper=()):
    """Runs samples/<name> on the stand-ins; returns (completed process, trace path or None).
    wrapper: a command line the program is started through (e.g. unshare ... sh -c)."""
    workdir = workdir or tempfile.mkdtemp(prefix="gpuprof-e2e-")
    e = base_env(env)
    if preload:
        e["LD_PRELOAD"] = preload_value(SHIM)
        e.setdefault("GPUPROF_OUTPUT", os.path.join(workdir, name + ".%p.gz"))
    p = subprocess.run([*wrapper, os.path.join(directory, name), *args], env=e, cwd=workdir,
                       capture_output=True, text=True, timeout=120)
    traces = sorted(glob.glob(os.path.join(workdir, name + ".*.gz")))
    return p, (traces[-1] if traces else None)


def run_fault(name, args=(), **kw):
    """Runs tests/faults/<name> like run_sample runs a sample."""
    return run_sample(name, args, directory=FAULTS, **kw)


def report(trace, *args, expect_rc=0):
    p = subprocess.run([REPORT, *args, trace], capture_output=True, text=True, timeout=120)
    equal(p.returncode, expect_rc, f"gpuprof-report {' '.join(args)} exit status (stderr: {p.stderr.strip()})")
    return p


def report_json(trace):
    p = report(trace, "--json")
    return json.loads(p.stdout)


def site_functions(site):
    return [f["function"] for f in site["frames"]]
