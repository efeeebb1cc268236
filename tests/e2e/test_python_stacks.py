"""Python stacks: a Python program calling CUDA (through ctypes, with the GIL released and
held, from the main thread and from a threading.Thread) gets its Python frames on every
event, exactly as CPython itself reports them, before the native frames. Runs on every
CPython 3.9-3.13 the build found (<build>/python/pythons.txt, see tests/python)."""
import glob
import json
import os
import re
import subprocess
import tempfile

from e2e import SAMPLES, SHIM, base_env, check, equal, finish, report, report_json, run_sample, skip

BUILD = os.path.dirname(os.path.abspath(SAMPLES))
LIB = os.path.join(BUILD, "python", "libgp_pyalloc.so")
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python",
                      "alloc_from_python.py")
SCRIPT = os.path.realpath(SCRIPT)
DEPTH = 64           # GPUPROF_DEPTH's default
PY_MAX = DEPTH - DEPTH // 4  # Python frames get at most three quarters of it

# The marked call sites of the script: size -> line.
MARKED = {}
with open(SCRIPT) as f:
    for n, text in enumerate(f, 1):
        for size in re.findall(r"site:(\d+)", text):
            MARKED[int(size)] = n
INNERMOST = {1001: "alloc_cdll", 1002: "alloc_pydll", 1003: "alloc_cdll", 1004: "alloc_pydll",
             1005: "alloc_cdll", 1006: "Model.forward", 1007: "generator", 1009: "alloc_cdll"}


def interpreters():
    listed = os.path.join(BUILD, "python", "pythons.txt")
    with open(listed) as f:
        return [l.strip() for l in f if l.strip()]


def version(py):
    out = subprocess.run([py, "-c", "import sys; print(*sys.version_info[:3], sep='.')"],
                         capture_output=True, text=True, timeout=60).stdout.strip()
    return out, tuple(int(x) for x in out.split(".")[:2])


def run_python(py, args, env, workdir):
    e = base_env({"LD_PRELOAD": SHIM, "GPUPROF_OUTPUT": os.path.join(workdir, "py.%p.gz"), **env})
    p = subprocess.run([py, *args], env=e, cwd=workdir, capture_output=True, text=True, timeout=120)
    traces = sorted(f for f in os.listdir(workdir) if f.startswith("py.") and f.endswith(".gz"))
    return p, [os.path.join(workdir, t) for t in traces]


def sites_by_size(trace):
    summary = json.loads(report(trace, "--json", "--top", "100").stdout)
    return {s["bytes"]: s for s in summary["memory"]["leaked_sites"]}


def check_site(what, site, want_stack, size, minor, py_max):
    frames = site["frames"]
    py = [f for f in frames if f.get("python")]
    native = [f for f in frames if not f.get("python")]
    equal(frames[:len(py)], py, f"{what}: Python frames come first")
    got = [[f["file"], f["function"], f["line"]] for f in py]
    equal(got, want_stack[:py_max], f"{what}: Python frames = CPython's own stack, innermost first")
    for f in py:
        check(f["module"] is None and "ip" not in f, f"{what}: Python frame {f} has no module or ip")
    if size in INNERMOST and py:
        name = INNERMOST[size] if minor >= 11 else INNERMOST[size].split(".")[-1]
        equal((py[0]["function"], py[0]["line"], py[0]["file"]), (name, MARKED[size], SCRIPT),
              f"{what}: innermost Python frame")
    check(native and native[0]["module"] and native[0]["module"].endswith("libgp_pyalloc.so")
          and native[0]["function"] in ("gp_py_alloc", "??"),
          f"{what}: the innermost native frame is gp_py_alloc ({native[:1]})")


tested = []
for py in interpreters():
    full, minor = version(py)
    if not (3, 9) <= minor <= (3, 13):
        continue
    minor = minor[1]
    tag = f"python {full} ({py})"
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "expected.json")
        p, traces = run_python(py, [SCRIPT, LIB, out], {}, d)
        equal((p.returncode, p.stderr), (0, ""), f"{tag}: exit status and stderr")
        equal(len(traces), 1, f"{tag}: one trace")
        if p.returncode != 0 or len(traces) != 1:
            continue
        with open(out) as f:
            expected = {int(k): v for k, v in json.load(f).items()}
        sites = sites_by_size(traces[0])
        for size, stack in sorted(expected.items()):
            check(size in sites, f"{tag}: a site of {size} bytes")
            if size in sites:
                check_site(f"{tag} size {size}", sites[size], stack, size, minor, PY_MAX)
        check(len(expected[1009]) > PY_MAX, f"{tag}: the deep stack is deeper than the limit")
        text = report(traces[0]).stdout
        first = f"alloc_cdll ({SCRIPT}:{MARKED[1001]}) [Python]"
        check(first in text and text.index(first) < text.index("gp_py_alloc ("),
              f"{tag}: text report shows the Python frame before the native ones")
        # By default only the native frame that called CUDA shows under the Python frames.
        check("native frames (--native shows them)" in text and "_PyEval" not in text
              and "ffi_call" not in text, f"{tag}: native frames beyond the call site are on request")
        full_text = report(traces[0], "--native").stdout
        check("--native shows them" not in full_text and "ffi_call" in full_text,
              f"{tag}: --native shows every native frame")

        # A small GPUPROF_DEPTH: Python frames take at most three quarters of it.
        os.remove(traces[0])
        p, traces = run_python(py, [SCRIPT, LIB, out], {"GPUPROF_DEPTH": "4"}, d)
        equal((p.returncode, p.stderr, len(traces)), (0, "", 1), f"{tag} depth 4: run")
        if traces:
            sites = sites_by_size(traces[0])
            for size in (1001, 1006):
                check_site(f"{tag} depth 4 size {size}", sites[size], expected[size], size, minor, 3)
                equal(len(sites[size]["frames"]), 4, f"{tag} depth 4 size {size}: frames")
            os.remove(traces[0])

        # GPUPROF_PYTHON_STACKS=0: native frames only, as before.
        p, traces = run_python(py, [SCRIPT, LIB, out], {"GPUPROF_PYTHON_STACKS": "0"}, d)
        equal((p.returncode, p.stderr, len(traces)), (0, "", 1), f"{tag} Python stacks off: run")
        if traces:
            sites = sites_by_size(traces[0])
            # Native stacks alone cannot tell most of these call sites apart.
            equal(sum(sites), sum(expected), f"{tag} Python stacks off: bytes held")
            check(len(sites) < len(expected), f"{tag} Python stacks off: sites merge")
            for size, site in sites.items():
                equal([f for f in site["frames"] if f.get("python")], [],
                      f"{tag} Python stacks off: Python frames of {size}")
                check(site["frames"] and site["frames"][0]["module"].endswith("libgp_pyalloc.so"),
                      f"{tag} Python stacks off: native frames of {size}")
            os.remove(traces[0])

        # A Python program that loads a CUDA library but never calls it: no trace, no output.
        p, traces = run_python(py, ["-c", f"import ctypes; ctypes.CDLL({LIB!r}); print('ok')"], {}, d)
        equal((p.returncode, p.stdout, p.stderr, traces), (0, "ok\n", "", []),
              f"{tag}: a program that never calls CUDA")
    tested.append(tag)

if not tested:
    skip("no CPython 3.9-3.13 found (tests/python/CMakeLists.txt, GPUPROF_TEST_PYTHONS)")

# An interpreter too old for Python stacks (if the machine has one): one warning, native frames.
old = sorted(glob.glob("/usr/bin/python3.[5-8]") +
             glob.glob(os.path.expanduser("~/.pyenv/versions/3.[5-8].*/bin/python3.[5-8]")))
if old:
    full, _ = version(old[-1])
    with tempfile.TemporaryDirectory() as d:
        p, traces = run_python(old[-1], [SCRIPT, LIB, os.path.join(d, "e.json")], {}, d)
        equal((p.returncode, p.stderr), (0, f"gpuprof: Python {full} is not a supported version "
              "(Python stacks need CPython 3.9 to 3.13); events get native frames only\n"),
              f"python {full}: one warning")
        frames = [f for s in sites_by_size(traces[0]).values() for f in s["frames"]] if traces else []
        check(frames and not any(f.get("python") for f in frames), f"python {full}: native frames only")
    tested.append(f"python {full} ({old[-1]}): unsupported, native frames only")

# A program that is not Python: no Python frames, its native stack as before.
p, trace = run_sample("alloc_pattern")
equal(p.returncode, 0, "alloc_pattern exit status")
summary = report_json(trace)
frames = [f for s in summary["memory"]["top_sites_at_peak"] for f in s["frames"]]
check(frames and all(sorted(f) == ["file", "function", "ip", "line", "module", "offset"] for f in frames),
      "a C program's frames are as before: no Python frames, no new keys")

for t in tested:
    print("tested:", t)
finish()
