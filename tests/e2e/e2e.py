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
# The fake libcupti.so.13 (tests/fakecuda/cupti). Every run under the shim is given it as
# GPUPROF_CUPTI, so no test meets the real CUPTI of an installed toolkit on the fake driver.
FAKE_CUPTI = os.environ.get("GPUPROF_FAKECUPTI", "")
# The fault-injection programs of tests/faults (docs/reliability.md), built next to samples/.
FAULTS = os.path.join(os.path.dirname(os.path.abspath(SAMPLES)), "faults")
# Libraries that must come before the shim in LD_PRELOAD, colon-separated: a sanitizer
# runtime when the shim is built with GPUPROF_SANITIZE (see .ci/run, docs/reliability.md).
PRELOAD_PREFIX = [p for p in os.environ.get("GPUPROF_TEST_PRELOAD_PREFIX", "").split(":") if p]
# The sanitizer the build under test carries ("address", "thread"), set by
# tools/check-sanitizers.sh; empty for the normal build.
SANITIZER = os.environ.get("GPUPROF_TEST_SANITIZER", "")
# GPUPROF_* settings for every run under the shim, as "NAME=VALUE NAME=VALUE", put before a
# test's own settings (which win): e.g. GPUPROF_DEPTH=0 in the ThreadSanitizer job.
SHIM_SETTINGS = dict(kv.split("=", 1) for kv in os.environ.get("GPUPROF_TEST_SHIM_SETTINGS", "").split()
                     if "=" in kv)

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
    if FAKE_CUPTI:
        env["GPUPROF_CUPTI"] = FAKE_CUPTI
    if (extra or {}).get("LD_PRELOAD"):
        env.update(SHIM_SETTINGS)
    env.update(extra or {})
    # With the shim, the sanitizer runtime comes first. Under ASan it comes first in plain
    # runs too: an uninstrumented program (python3) that loads an instrumented stand-in needs
    # it. TSan's runtime cannot be preloaded into an uninstrumented program that never loads
    # one of ours (sh crashes), and the TSan job runs no such Python test.
    if PRELOAD_PREFIX and (env.get("LD_PRELOAD") or SANITIZER == "address"):
        env["LD_PRELOAD"] = preload_value(env.get("LD_PRELOAD", ""))
    return env


def run_sample(name, args=(), preload=True, env=None, workdir=None, directory=SAMPLES, wrapper=(),
               timeout=120):
    """Runs samples/<name> on the stand-ins; returns (completed process, trace path or None).
    wrapper: a command line the program is started through (e.g. unshare ... sh -c)."""
    workdir = workdir or tempfile.mkdtemp(prefix="gpuprof-e2e-")
    e = base_env({"LD_PRELOAD": SHIM, **(env or {})} if preload else env)
    if preload:
        e.setdefault("GPUPROF_OUTPUT", os.path.join(workdir, name + ".%p.gz"))
    p = subprocess.run([*wrapper, os.path.join(directory, name), *args], env=e, cwd=workdir,
                       capture_output=True, text=True, timeout=timeout)
    traces = sorted(glob.glob(os.path.join(workdir, name + ".*.gz")))
    return p, (traces[-1] if traces else None)


def unchanged(plain, traced, what, warnings=0):
    """The program under the shim behaved exactly as without it: same exit status, stdout and
    stderr, apart from `warnings` one-line "gpuprof: " warnings. Returns those lines."""
    equal(traced.returncode, plain.returncode, f"{what}: exit status under the shim")
    equal(traced.stdout, plain.stdout, f"{what}: stdout under the shim")
    lines = traced.stderr.splitlines(keepends=True)
    ours = [l for l in lines if l.startswith("gpuprof: ")]
    equal("".join(l for l in lines if not l.startswith("gpuprof: ")), plain.stderr,
          f"{what}: the program's own stderr under the shim")
    equal(len(ours), warnings, f"{what}: shim warnings {ours!r}")
    return [l.rstrip("\n") for l in ours]


def mount_namespace():
    """A command prefix that runs a command in a private mount namespace where it may mount
    a tmpfs (plain unshare as root, a user namespace otherwise), or (None, why not)."""
    import shutil
    if not shutil.which("unshare"):
        return None, "no unshare command"
    prefix = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    with tempfile.TemporaryDirectory() as d:
        probe = subprocess.run([*prefix, "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', d],
                               capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return None, f"cannot mount a tmpfs in a private namespace: {probe.stderr.strip()}"
    return prefix, None


def skip(why):
    """Ends a test that cannot run here, saying why (ctest still counts it as passed)."""
    print("SKIPPED:", why)
    finish()
    sys.exit(0)


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
