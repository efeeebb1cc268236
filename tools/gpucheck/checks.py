"""checks.py: the checks of tools/gpu-check (docs/gpu-validation.md). Runs every sample under
libgpuprof.so on the real CUDA libraries (or on the test stand-ins with --fake), runs
gpuprof-report --json on each trace, compares the report with the numbers the sample documents
or prints about itself, and prints one table: check | expected | measured | result.

Running is kept apart from judging: each eval_* function takes finished runs (Result) and adds
rows to a Table, so tests/e2e/test_gpu_check_*.py can feed them canned runs and reports, and
the judging of the GPU-only samples is tested without a GPU.

Exit status: 0 when no row failed, 1 otherwise."""
import argparse
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import Skip, Table  # noqa: E402,F401  (Skip: for torch_checks)

MIB = 1 << 20
GIB = 1 << 30

# Kernel durations (CUPTI) against the sample's own CUDA events.
DURATION_TOLERANCE = 0.05
STAND_INS = "needs the real CUDA libraries (running on the stand-ins)"

# The shim's own cost per intercepted event above which the overhead rows fail: an order of
# magnitude above what it costs on the stand-ins, so only a gross regression trips it.
OVERHEAD_LIMIT_NS = 5000
# train.py's median step time under the shim, at most this many times the time without it.
STEP_TIME_LIMIT = 1.25


# ---------------------------------------------------------------------------------------------
# Finished runs and what to read from them

class Result:
    """One finished run: exit status (None: could not start; "timeout"), output, duration and,
    for a run under the shim, the trace and the report's JSON (or why there is none)."""

    def __init__(self, rc=0, out="", err="", seconds=0.0, trace=None, report=None,
                 report_error=None, name=""):
        self.rc = rc
        self.out = out
        self.err = err
        self.seconds = seconds
        self.trace = trace
        self.report = report
        self.report_error = report_error
        self.name = name

    @property
    def j(self):
        """The report's JSON; raises (so the row fails and says why) when there is none."""
        if self.report is None:
            why = self.report_error or ("no trace" if self.trace is None else "no report")
            raise RuntimeError(f"{why}, exit {self.rc}")
        return self.report

    def truths(self):
        """The JSON lines the sample printed about itself, in order."""
        found = []
        for line in self.out.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    pass
        return found

    def truth(self, **match):
        """The first JSON line whose fields include `match`; raises if none."""
        for t in self.truths():
            if all(t.get(k) == v for k, v in match.items()):
                return t
        raise RuntimeError(f"the sample printed no ground truth, exit {self.rc}")


def last_line(text):
    lines = [l for l in (text or "").splitlines() if l.strip()]
    return f": {lines[-1][:160]}" if lines else ""


def num(n):
    return f"{n:,}" if isinstance(n, int) and not isinstance(n, bool) else str(n)


def first_function(site):
    frames = site.get("frames") or []
    return frames[0]["function"] if frames else "(no stack)"


def sites(lst):
    return [(first_function(s), s["bytes"], s["count"]) for s in lst]


def show_sites(lst):
    return "; ".join(f"{f} {num(b)} x{c}" for f, b, c in lst) or "none"


def libraries(lst):
    return [(os.path.basename(l["library"]) if l.get("library") else "(no stack)", l["bytes"],
             l["count"]) for l in lst]


def show_libraries(lst):
    return show_sites(lst)


def shim_warnings(err):
    return [l for l in (err or "").splitlines() if l.startswith("gpuprof: ")]


def health(j):
    """Dropped events and truncation, as a short text and whether both are clean."""
    tr = j["trace"]
    ok = tr["dropped_events"] == 0 and not tr["truncated"]
    return f"dropped {tr['dropped_events']}, {'truncated' if tr['truncated'] else 'complete'}", ok


def check_runs(t, name, plain, traced, want_rc, normalize=None):
    """The row every sample gets: it ran under the shim with the exit status it has without
    it, wrote a trace, and the shim printed no warning (stdout compared too, after `normalize`
    removes figures that change from run to run, when given)."""
    expected = f"exit {want_rc}, as without the shim; a trace; no gpuprof warning"

    def measure():
        parts = [f"exit {traced.rc}"]
        ok = traced.rc == want_rc
        if plain is not None:
            parts.append(f"without {plain.rc}")
            ok = ok and plain.rc == want_rc
            if normalize is not None:
                same = normalize(plain.out) == normalize(traced.out)
                parts.append("stdout same" if same else "stdout differs")
                ok = ok and same
        parts.append("trace" if traced.trace else "no trace")
        ok = ok and traced.trace is not None
        w = shim_warnings(traced.err)
        if w:
            parts.append(f"warnings: {' / '.join(w)[:200]}")
            ok = False
        return ", ".join(parts), ok, "" if ok else last_line(traced.err).lstrip(": ")
    t.check(f"{name}: runs under the shim", expected, measure)


def check_program_memory(t, name, traced, exe, own_bytes, own_blocks, others_ok):
    """The program's own allocations at the peak, charged to the program itself, exactly;
    `others_ok(library name)` says which other libraries may hold memory at the peak."""
    def measure():
        libs = libraries(traced.j["memory"]["libraries_at_peak"])
        mine = [l for l in libs if l[0] == exe]
        others = [l for l in libs if l[0] != exe]
        ok = mine == [(exe, own_bytes(), own_blocks())] and all(others_ok(l[0]) for l in others)
        return show_libraries(libs), ok
    t.check(f"{name}: its own memory at the peak",
            lambda: f"{exe} {num(own_bytes())} x{own_blocks()} (the sample's count), exactly",
            measure)


# ---------------------------------------------------------------------------------------------
# Judging: one function per sample

def eval_alloc_pattern(t, plain, traced):
    """samples/alloc_pattern.c: every number is documented there; only the pitch of
    cudaMallocPitch is the device's, and the sample prints it."""
    def pitch():
        m = re.search(r"\(pitch (\d+)\)", traced.out)
        if not m:
            raise RuntimeError("the sample printed no pitch" + last_line(traced.err))
        return int(m.group(1))

    def peak():
        return 118589088 - 100000 + pitch() * 100

    def total():
        m = re.search(r"cudaMemGetInfo \d+ of (\d+) bytes", traced.out)
        if not m:
            raise RuntimeError("the sample printed no cudaMemGetInfo total")
        return int(m.group(1))

    def want_sites():
        return [("site_alpha", 64 * MIB, 1), ("site_beta", 48 * MIB, 3),
                ("site_leaky", 1 * MIB, 1), ("site_pitch", pitch() * 100, 1)]

    check_runs(t, "alloc_pattern", plain, traced, 0,
               normalize=lambda s: re.sub(r"cudaMemGetInfo \d+", "cudaMemGetInfo N", s))
    t.check("alloc_pattern: device peak",
            lambda: f"{num(peak())} (pitch {pitch()} x 100 rows, from the sample)",
            lambda: (num(traced.j["memory"]["peak_reserved_bytes"]),
                     traced.j["memory"]["peak_reserved_bytes"] == peak()))
    t.check("alloc_pattern: sites at the peak", lambda: show_sites(want_sites()),
            lambda: (show_sites(sites(traced.j["memory"]["top_sites_at_peak"])),
                     sites(traced.j["memory"]["top_sites_at_peak"]) == want_sites()))
    t.check("alloc_pattern: charged to the program", lambda: f"alloc_pattern {num(peak())} x6",
            lambda: (show_libraries(libraries(traced.j["memory"]["libraries_at_peak"])),
                     libraries(traced.j["memory"]["libraries_at_peak"]) ==
                     [("alloc_pattern", peak(), 6)]))
    t.check("alloc_pattern: held at exit", "site_leaky 1,048,576 x1",
            lambda: (show_sites(sites(traced.j["memory"]["leaked_sites"])),
                     traced.j["memory"]["leaked_bytes"] == MIB and
                     sites(traced.j["memory"]["leaked_sites"]) == [("site_leaky", MIB, 1)]))

    def kinds():
        k = traced.j["memory"]["by_kind"]
        got = (k["managed"]["peak_bytes"], k["pinned_host"]["peak_bytes"])
        return f"managed {num(got[0])}, pinned {num(got[1])}", got == (4 * MIB, 2 * MIB)
    t.check("alloc_pattern: managed, pinned host peaks", "managed 4,194,304, pinned 2,097,152",
            kinds)

    def calls():
        ev = traced.j["events"]
        k = ev["allocs_by_kind"]
        h, hok = health(traced.j)
        got = (ev["allocs"], k["device"], k["managed"], k["pinned_host"], ev["frees"],
               ev["failed_allocs"], ev["unknown_frees"])
        return (f"allocs {got[0]} (device {got[1]}, managed {got[2]}, pinned {got[3]}), frees "
                f"{got[4]}, failed {got[5]}, unknown frees {got[6]}, {h}",
                got == (9, 7, 1, 1, 8, 0, 0) and hok)
    t.check("alloc_pattern: every call once", "allocs 9 (device 7, managed 1, pinned 1), "
            "frees 8, failed 0, unknown frees 0, dropped 0, complete", calls)
    t.check("alloc_pattern: device total", lambda: f"{num(total())} (the sample's cudaMemGetInfo)",
            lambda: (num(traced.j["memory"]["device_total_bytes"]),
                     traced.j["memory"]["device_total_bytes"] == total()))

    def symbols():
        f = traced.j["memory"]["top_sites_at_peak"][0]["frames"][0]
        ok = (f["function"] == "site_alpha" and (f["file"] or "").endswith("alloc_pattern.c")
              and f["line"] > 0)
        return f"{f['function']} {os.path.basename(f['file'] or '?')}:{f['line']}", ok
    t.check("alloc_pattern: symbols and lines", "site_alpha alloc_pattern.c:<line>", symbols)


def eval_oom(t, plain, traced):
    """samples/cuda/oom_truth.c: 1 GiB blocks until one fails; the sample prints how many
    fitted, the device total and the free memory right after the failure."""
    def truth():
        return traced.truth(sample="oom_truth")

    def n():
        return truth()["blocks"]

    def the_oom():
        j = traced.j
        if j["oom_total"] != 1 or len(j["oom"]) != 1:
            raise RuntimeError(f"{j['oom_total']} OOM events in the report, not 1")
        return j["oom"][0]

    check_runs(t, "oom", plain, traced, 1)

    def event():
        j = traced.j
        if not j["oom"]:
            return "no OOM event", False
        o = j["oom"][0]
        return (f"{j['oom_total']} event(s), {o['api']} of {num(o['requested_bytes'])}",
                j["oom_total"] == 1 and o["api"] == "cudaMalloc" and o["requested_bytes"] == GIB)
    t.check("oom: one OOM event", "1 event, cudaMalloc of 1,073,741,824", event)
    t.check("oom: live bytes at the OOM",
            lambda: f"{num(truth()['live_bytes'])} ({n()} blocks, the sample's count)",
            lambda: (num(the_oom()["live_bytes"]), the_oom()["live_bytes"] == truth()["live_bytes"]))
    t.check("oom: sites live at the OOM", lambda: show_sites([("grow_blocks", n() * GIB, n())]),
            lambda: (show_sites(sites(the_oom()["top_sites"])),
                     sites(the_oom()["top_sites"]) == [("grow_blocks", n() * GIB, n())]))
    t.check("oom: device total", lambda: f"{num(truth()['total_bytes'])} (the sample's "
            "cudaMemGetInfo)",
            lambda: (f"{num(the_oom()['device_total_bytes'])} at the OOM, "
                     f"{num(traced.j['memory']['device_total_bytes'])} in the summary",
                     the_oom()["device_total_bytes"] == truth()["total_bytes"] ==
                     traced.j["memory"]["device_total_bytes"]))
    t.check("oom: device free at the OOM",
            lambda: f"{num(truth()['free_bytes_at_oom'])} +- 2 MiB (the sample's, just after)",
            lambda: (num(the_oom()["device_free_bytes"]),
                     abs(the_oom()["device_free_bytes"] - truth()["free_bytes_at_oom"]) <= 2 * MIB))
    t.check("oom: peak, held at exit", lambda: f"peak {num(n() * GIB)}, held 0",
            lambda: (f"peak {num(traced.j['memory']['peak_reserved_bytes'])}, held "
                     f"{num(traced.j['memory']['leaked_bytes'])}",
                     traced.j["memory"]["peak_reserved_bytes"] == n() * GIB and
                     traced.j["memory"]["leaked_bytes"] == 0))


def eval_vmm(t, plain, traced):
    """samples/vmm.c: expandable-segments style cuMemCreate/cuMemMap through
    cudaGetDriverEntryPointByVersion; every number is documented there."""
    check_runs(t, "vmm", plain, traced, 0,
               normalize=lambda s: re.sub(r"cudaMemGetInfo \d+ of \d+", "cudaMemGetInfo N", s))

    def kind(name):
        k = traced.j["memory"]["by_kind"][name]
        return (k["peak_bytes"], k["leaked_bytes"], k["leaked_count"])

    def show(v):
        return f"peak {num(v[0])}, held {num(v[1])} x{v[2]}"

    for name, want in (("physical", (100 * MIB, 20 * MIB, 1)),
                       ("address_range", (GIB, GIB, 1)),
                       ("mapping", (100 * MIB, 20 * MIB, 1))):
        t.check(f"vmm: {name}", show(want),
                lambda name=name, want=want: (show(kind(name)), kind(name) == want))
    t.check("vmm: device peak, sites", "104,857,600; grow_segment 104,857,600 x5",
            lambda: (f"{num(traced.j['memory']['peak_reserved_bytes'])}; "
                     f"{show_sites(sites(traced.j['memory']['top_sites_at_peak']))}",
                     traced.j["memory"]["peak_reserved_bytes"] == 100 * MIB and
                     sites(traced.j["memory"]["top_sites_at_peak"]) ==
                     [("grow_segment", 100 * MIB, 5)]))

    def calls():
        ev = traced.j["events"]
        k = ev["allocs_by_kind"]
        h, hok = health(traced.j)
        got = (k["physical"], k["mapping"], k["address_range"], ev["frees"], k["device"])
        return (f"cuMemCreate {got[0]}, cuMemMap {got[1]}, reserve {got[2]}, frees {got[3]}, "
                f"device allocs {got[4]}, {h}", got == (5, 5, 1, 8, 0) and hok)
    t.check("vmm: every call once", "cuMemCreate 5, cuMemMap 5, reserve 1, frees 8, device "
            "allocs 0, dropped 0, complete", calls)


def eval_own_runtime(t, plain, traced):
    """samples/own_runtime.c + libworkspace.so: a library reaching the REAL driver through
    dlopen + dlsym(cuGetProcAddress_v2) only; its memory charged to it."""
    check_runs(t, "own_runtime", plain, traced, 0,
               normalize=lambda s: re.sub(r"cudaMemGetInfo \d+ of \d+", "cudaMemGetInfo N", s))
    t.check("own_runtime: device peak, sites",
            "41,943,040; workspace_alloc 33,554,432 x1; site_main_alloc 8,388,608 x1",
            lambda: (f"{num(traced.j['memory']['peak_reserved_bytes'])}; "
                     f"{show_sites(sites(traced.j['memory']['top_sites_at_peak']))}",
                     traced.j["memory"]["peak_reserved_bytes"] == 40 * MIB and
                     sites(traced.j["memory"]["top_sites_at_peak"]) ==
                     [("workspace_alloc", 32 * MIB, 1), ("site_main_alloc", 8 * MIB, 1)]))
    t.check("own_runtime: charged to libworkspace.so",
            "libworkspace.so 33,554,432 x1; own_runtime 8,388,608 x1",
            lambda: (show_libraries(libraries(traced.j["memory"]["libraries_at_peak"])),
                     libraries(traced.j["memory"]["libraries_at_peak"]) ==
                     [("libworkspace.so", 32 * MIB, 1), ("own_runtime", 8 * MIB, 1)]))

    def calls():
        ev = traced.j["events"]
        h, hok = health(traced.j)
        got = (ev["allocs"], ev["frees"], traced.j["memory"]["leaked_bytes"])
        return (f"allocs {got[0]}, frees {got[1]}, held {got[2]}, {h}",
                got == (2, 2, 0) and hok)
    t.check("own_runtime: every call once", "allocs 2, frees 2, held 0, dropped 0, complete",
            calls)


def eval_many_threads(t, traced):
    """samples/many_threads.c: 8 threads x 10,000 cudaMalloc(4096)/cudaFree pairs."""
    check_runs(t, "many_threads", None, traced, 0)

    def totals():
        ev = traced.j["events"]
        h, hok = health(traced.j)
        got = (ev["allocs"], ev["frees"], ev["failed_allocs"], ev["unknown_frees"],
               traced.j["memory"]["leaked_bytes"])
        return (f"allocs {num(got[0])}, frees {num(got[1])}, failed {num(got[2])}, unknown "
                f"frees {got[3]}, held {got[4]}, {h}", got == (80000, 80000, 0, 0, 0) and hok)
    t.check("many_threads: exact totals", "allocs 80,000, frees 80,000, failed 0, unknown frees "
            "0, held 0, dropped 0, complete", totals)

    def peak():
        m = traced.j["memory"]
        ps = m["top_sites_at_peak"]
        names = {first_function(s) for s in ps}
        total = sum(s["bytes"] for s in ps)
        ok = (4096 <= m["peak_reserved_bytes"] <= 32768 and names == {"worker_alloc"}
              and total == m["peak_reserved_bytes"])
        return f"{num(m['peak_reserved_bytes'])} from {', '.join(sorted(names))}", ok
    t.check("many_threads: peak", "4,096..32,768 from worker_alloc (sites add up)", peak)


def eval_kernels(t, name, plain, traced):
    """samples/cuda/kernels.cu (name kernels: shared cudart; kernels_static: nvcc's default
    static cudart, whose allocations reach the shim only through the driver layer)."""
    static = name.endswith("static")

    def truth():
        return traced.truth(sample="kernels")

    check_runs(t, name, plain, traced, 0)

    def peak():
        m = traced.j["memory"]
        want = truth()["device_bytes"]
        libs = libraries(m["libraries_at_peak"])
        # the stacks must reach the program's own allocation site, whatever runtime frames
        # sit above it (the static runtime's are inside the program)
        reach = all(any(f["function"] == "alloc_buffers" for f in s["frames"])
                    for s in m["top_sites_at_peak"])
        ok = (m["peak_reserved_bytes"] == want and libs == [(name, want, 4)] and reach
              and m["leaked_bytes"] == 0)
        return (f"{num(m['peak_reserved_bytes'])}: {show_libraries(libs)}"
                f"{'' if reach else '; alloc_buffers missing from a stack'}; held "
                f"{num(m['leaked_bytes'])}", ok)
    how = "through the driver layer" if static else "by cudaMalloc"
    t.check(f"{name}: device memory ({how})",
            lambda: f"{num(truth()['device_bytes'])} from alloc_buffers x4, charged to {name}; "
            "held 0", peak)
    def counts():
        k = traced.j["kernels"]
        if k.get("status") != "recording":
            return f"{k['count']}, status {k.get('status')}", False, str(k.get("status_reason"))
        rk = _report_kernels(traced)
        got = {n: c for n, (c, _) in rk.items()}
        want = truth()["by_name"]
        shown = ", ".join(f"{n} {c}" for n, c in sorted(got.items()))
        ok = got == want and k["count"] == truth()["kernels"] and k["dropped_records"] == 0
        return (f"{k['count']} ({shown}), status {k['status']}, dropped {k['dropped_records']}",
                ok, "" if k["status"] == "recording" else str(k.get("status_reason")))
    t.check(f"{name}: kernels recorded",
            lambda: f"{truth()['kernels']} (fill_kernel {truth()['by_name']['fill_kernel']}, "
            f"spin_kernel {truth()['by_name']['spin_kernel']}), the sample's count; dropped 0",
            counts)

    def durations():
        k = truth()
        events = sum(d["us"] for d in k["durations_us"] if d["kernel"] == "spin_kernel")
        spin = [v for n, v in _report_kernels(traced).items() if n.endswith("spin_kernel")]
        if not spin or events <= 0:
            return "no spin_kernel in the report", False
        us = sum(v[1] for v in spin) / 1e3
        return (f"spin_kernel: report {us:.0f} us, events {events:.0f} us ({us / events - 1:+.1%})",
                abs(us / events - 1) <= DURATION_TOLERANCE)
    t.check(f"{name}: kernel durations vs CUDA events",
            lambda: f"spin_kernel total within 5% of the sample's events (sum of all "
            f"{truth()['timed']} timed kernels {truth()['total_us']:.0f} us)", durations)


def _report_kernels(traced):
    """The report's CUPTI summary as {name without arguments: (calls, total ns)}; raises when
    kernels were not recorded."""
    k = traced.j["kernels"]
    if k.get("status") != "recording":
        raise RuntimeError(f"kernels not recorded: {k.get('status')}: {k.get('status_reason')}")
    out = {}
    for e in k.get("top") or []:
        name = str(e.get("name", "?")).split("(")[0]
        calls, total = out.get(name, (0, 0))
        out[name] = (calls + int(e.get("calls", 0)), total + int(e.get("total_ns", 0)))
    return out


def tc_sites(traced, prec, api=None):
    """Layer-1 sites of one precision (and API): [(verdict, layer, calls, reason)]."""
    return [(x["verdict"], x["layer"], x["calls"], x["reason"])
            for x in traced.j["tensor_cores"]["sites"]
            if x["precision"] == prec and (api is None or x["api"] == api)]


def show_tc_sites(lst):
    return "; ".join(f"{v} x{c} ({layer}: {why})" for v, layer, c, why in lst) or "no call"


def check_layer3(t, name, traced, what):
    """Layer 3 for a sample: its kernels classed by name; some GPU time on Tensor Core kernels
    (its 16-bit work), the classes shown."""
    def measure():
        tc = traced.j["tensor_cores"]
        by = tc["kernels"]["by_class"]
        top = ", ".join(f"{k['verdict']} {k['name'][:48]}" for k in tc["kernels"]["list"][:3])
        frac = tc.get("tc_fraction")
        return (f"tensor {by['tensor']['calls']} kernels {by['tensor']['time_ns'] / 1e6:.2f} ms, "
                f"cuda-core {by['cuda-core']['calls']}, unknown {by['unknown']['calls']}; "
                f"tc_fraction {'null' if frac is None else f'{frac:.2f}'}; {top or 'none'}",
                by["tensor"]["time_ns"] > 0)
    t.check(f"{name}: kernel classes (layer 3)", f"GPU time on Tensor Core kernels > 0 ({what})",
            measure)


def eval_cublas_workspace(t, plain, traced):
    """samples/cuda/cublas_workspace.c: cuBLAS's own memory is seen through dlsym on the real
    libcuda and charged to libcublas; the program's own is exact."""
    def truth():
        return traced.truth(sample="cublas_workspace")

    def is_cublas(lib):
        return lib.startswith("libcublas")

    check_runs(t, "cublas", plain, traced, 0,
               normalize=lambda s: re.sub(r'"free_drop_bytes": \d+', "", s))
    check_program_memory(t, "cublas", traced, "cublas_workspace",
                         lambda: truth()["own_bytes"], lambda: truth()["own_blocks"], is_cublas)

    def workspace():
        libs = libraries(traced.j["memory"]["libraries_at_peak"])
        mine = sum(b for l, b, _ in libs if is_cublas(l))
        return (f"{num(mine)} to libcublas*: {show_libraries(libs)}", mine > 0,
                "" if mine > 0 else "no cuBLAS memory in the trace: missed through the driver "
                "layer, or cuBLAS took none (see expected)")
    t.check("cublas: workspace charged to libcublas",
            lambda: f"> 0 at the peak (cudaMemGetInfo: at most {num(truth()['free_drop_bytes'])})",
            workspace)

    def attributed():
        libs = libraries(traced.j["memory"]["libraries_at_peak"]) + \
            libraries(traced.j["memory"]["leaked_libraries"])
        odd = [l for l in libs if l[0] != "cublas_workspace" and not is_cublas(l[0])]
        return (show_libraries(odd) if odd else "nothing else", not odd)
    t.check("cublas: nothing charged elsewhere",
            "no memory at the peak or at exit charged to libcudart, libcuda or no stack",
            attributed)


def eval_gemm(t, plain, traced):
    """samples/cuda/gemm.c: cuBLAS GEMMs in fp32, tf32, fp16, bf16; Tensor Core verdicts come
    with a later issue, the memory is checked now."""
    def summary():
        return traced.truth(sample="gemm", summary=True)

    check_runs(t, "gemm", plain, traced, 0,
               normalize=lambda s: re.sub(r'"(ms_per_gemm|tflops)": [0-9.]+', "", s))
    check_program_memory(t, "gemm", traced, "gemm", lambda: summary()["own_bytes"],
                         lambda: summary()["own_blocks"], lambda lib: lib.startswith("libcublas"))
    for prec in ("fp32", "tf32", "fp16", "bf16"):
        def truth(prec=prec):
            return traced.truth(sample="gemm", precision=prec)

        def calls():
            return summary()["gemms"] // 4

        def want(prec=prec):
            return "allowed" if truth(prec)["tensor_cores_expected"] else "not_allowed"

        def measured(prec=prec):
            got = tc_sites(traced, prec)
            p = truth(prec)
            ok = [(v, layer, c) for v, layer, c, _ in got] == [(want(prec), "asked", calls())]
            return f"{show_tc_sites(got)}; {p['tflops']} TFLOP/s", ok
        t.check(f"gemm {prec}: Tensor Core verdict",
                lambda prec=prec: f"{want(prec)} x{calls()} (layer asked; {truth(prec)['compute_type']}, "
                f"{truth(prec)['math_mode']})", measured)
    t.skip("gemm fp8: Tensor Core verdict", "Tensor Cores (fp8, cublasLt)",
           "fp8 needs cublasLt: not in the sample yet")
    check_layer3(t, "gemm", traced, "its tf32, fp16 and bf16 GEMMs")


def eval_conv(t, plain, traced):
    """samples/cuda/conv.c: cuDNN convolutions in fp32 and fp16."""
    def summary():
        return traced.truth(sample="conv", summary=True)

    check_runs(t, "conv", plain, traced, 0,
               normalize=lambda s: re.sub(r'"(ms_per_conv|tflops)": [0-9.]+', "", s))
    check_program_memory(t, "conv", traced, "conv", lambda: summary()["own_bytes"],
                         lambda: summary()["own_blocks"], lambda lib: lib.startswith("libcudnn"))
    for prec in ("fp32", "fp16"):
        def truth(prec=prec):
            return traced.truth(sample="conv", precision=prec)

        def want(prec=prec):
            """The layer-1 verdict for the math type the descriptor had when it ran."""
            p = truth(prec)
            math = p["math_chosen"]
            if math == "CUDNN_FMA_MATH":
                return "not_allowed", prec
            if prec == "fp32":
                return "allowed", "fp16" if math.endswith("ALLOW_CONVERSION") else "tf32"
            return "allowed", prec

        def calls():
            return summary()["convs"] // 2

        def measured(prec=prec):
            verdict, precision = want(prec)
            got = tc_sites(traced, precision, "cudnnConvolutionForward")
            p = truth(prec)
            ok = [(v, layer, c) for v, layer, c, _ in got] == [(verdict, "asked", calls())]
            return f"{precision}: {show_tc_sites(got)}; {p['tflops']} TFLOP/s", ok
        t.check(f"conv {prec}: Tensor Core verdict",
                lambda prec=prec: f"{want(prec)[0]} x{calls()} as {want(prec)[1]} (layer asked; "
                f"{truth(prec)['format']}, cuDNN ran {truth(prec)['math_chosen']}, algo "
                f"{truth(prec)['algo']})", measured)
    check_layer3(t, "conv", traced, "its fp16 convolutions")


def eval_bench(t, mode, n, counted, overhead):
    """bench/alloc_loop.c: N pairs through the runtime (cudaMalloc/cudaFree) or the driver
    (cuMemAlloc_v2/cuMemFree_v2 from cudaGetDriverEntryPointByVersion). `counted` is one run
    under the shim; `overhead` the timings (best of several, ns) or None."""
    label = "cuMemAlloc_v2 via cudaGetDriverEntryPointByVersion" if mode == "driver" \
        else "cudaMalloc/cudaFree"

    def events():
        ev = counted.j["events"]
        h, hok = health(counted.j)
        got = (ev["allocs"], ev["frees"], counted.j["memory"]["leaked_bytes"])
        return (f"allocs {num(got[0])}, frees {num(got[1])}, held {got[2]}, {h}",
                got == (n + 1, n + 1, 0) and hok and counted.rc == 0)
    t.check(f"bench {mode}: every event seen",
            f"allocs {num(n + 1)}, frees {num(n + 1)} ({label}, and the warm-up cudaMalloc), "
            "held 0, dropped 0, complete", events)

    def cost():
        if overhead is None:
            raise RuntimeError("no timings")
        per = overhead["per_event_ns"]
        return (f"{per:.0f} ns/event (loop {overhead['plain_n'] / 1e6:.0f} ms plain, "
                f"{overhead['shim_n'] / 1e6:.0f} ms traced)", per <= OVERHEAD_LIMIT_NS)
    t.check(f"bench {mode}: shim cost per event",
            f"<= {num(OVERHEAD_LIMIT_NS)} ns/event ({num(n)} pairs, best of runs, start-up "
            "subtracted)", cost)


# ---------------------------------------------------------------------------------------------
# Running

class Runner:
    """Runs programs with or without the shim, on the real CUDA libraries or the stand-ins,
    and keeps every output, trace and report under `work`."""

    def __init__(self, build, work, fake_dir=None, run_ld_path="", deadline=None,
                 preload_prefix="", report_ld_path=""):
        self.build = build
        self.shim = os.path.join(build, "lib", "libgpuprof.so")
        self.report_tool = os.path.join(build, "report", "gpuprof-report")
        self.work = work
        self.fake_dir = fake_dir
        # On the stand-ins the shim is given the fake CUPTI too (as the e2e tests do): the
        # toolkit's real one cannot work on the fake driver.
        cupti = os.path.join(os.path.dirname(fake_dir), "cupti", "libcupti.so.13") \
            if fake_dir else ""
        self.fake_cupti = cupti if cupti and os.path.exists(cupti) else None
        self.run_ld_path = run_ld_path
        self.deadline = deadline
        self.preload_prefix = [p for p in preload_prefix.split(":") if p]
        self.report_ld_path = report_ld_path
        os.makedirs(work, exist_ok=True)

    def path(self, *parts):
        return os.path.join(self.build, *parts)

    def time_left(self):
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def env(self, name=None, shim=False, extra=None, extra_ld=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GPUPROF_") and k != "LD_PRELOAD"}
        ld = [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
        if self.fake_dir:
            ld = [self.fake_dir] + [p for p in ld if p != self.fake_dir]
        for more in (self.run_ld_path, extra_ld or ""):
            ld += [p for p in more.split(":") if p and p not in ld]
        if ld:
            env["LD_LIBRARY_PATH"] = ":".join(ld)
        if shim:
            env["LD_PRELOAD"] = ":".join(self.preload_prefix + [self.shim])
            env["GPUPROF_OUTPUT"] = os.path.join(self.work, f"{name}.%p.gz")
            if self.fake_cupti:
                env["GPUPROF_CUPTI"] = self.fake_cupti
            if self.fake_dir:  # the fake libcupti: a real one fails on the fake driver
                env["GPUPROF_CUPTI"] = self.path("fakecuda", "cupti", "libcupti.so.13")
        env.update(extra or {})
        return env

    def run(self, name, argv, shim=True, extra_env=None, timeout=120, report=True,
            extra_ld=None):
        """Runs argv (stdout/stderr kept as work/NAME.out, .err); under the shim, reports on
        its trace (work/NAME.json, work/NAME.txt). Never raises."""
        for old in glob.glob(os.path.join(self.work, f"{name}.*.gz")):
            os.remove(old)
        env = self.env(name, shim, extra_env, extra_ld)
        start = time.monotonic()
        # a run may end up to a minute past the budget: the device call's own limit is later
        timeout = max(5, min(timeout, self.time_left() + 60))
        try:
            p = subprocess.run(argv, env=env, cwd=self.work, capture_output=True, text=True,
                               errors="replace", timeout=timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc = "timeout"
            out = _text(e.stdout)
            err = _text(e.stderr) + f"\n(killed after {timeout:.0f} s)"
        except OSError as e:
            rc, out, err = None, "", f"cannot run {argv[0]}: {e}"
        seconds = time.monotonic() - start
        for ext, text in (("out", out), ("err", err)):
            with open(os.path.join(self.work, f"{name}.{ext}"), "w") as f:
                f.write(text)
        res = Result(rc, out, err, seconds, name=name)
        if shim:
            traces = sorted(glob.glob(os.path.join(self.work, f"{name}.*.gz")),
                            key=os.path.getmtime)
            res.trace = traces[-1] if traces else None
            if res.trace and report:
                self.add_report(res)
        return res

    def report_env(self):
        """gpuprof-report's environment: the carried libraries all first (libdw wants the
        libelf of its own version), whatever the system has."""
        env = self.env()
        ld = [p for p in self.report_ld_path.split(":") if p]
        ld += [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p and p not in ld]
        if ld:
            env["LD_LIBRARY_PATH"] = ":".join(ld)
        return env

    def add_report(self, res):
        try:
            p = subprocess.run([self.report_tool, "--json", res.trace], env=self.report_env(),
                               capture_output=True, text=True, errors="replace", timeout=180)
            if p.returncode != 0:
                res.report_error = f"gpuprof-report exit {p.returncode}{last_line(p.stderr)}"
                return
            res.report = json.loads(p.stdout)
            with open(os.path.join(self.work, f"{res.name}.json"), "w") as f:
                f.write(p.stdout)
            txt = subprocess.run([self.report_tool, res.trace], env=self.report_env(),
                                 capture_output=True, text=True, errors="replace", timeout=180)
            with open(os.path.join(self.work, f"{res.name}.txt"), "w") as f:
                f.write(txt.stdout + txt.stderr)
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            res.report_error = f"gpuprof-report: {e}"

    def best_ns(self, name, argv, shim, reps):
        """The shortest wall time of `reps` runs, in ns (None if any run failed or none ran)."""
        best = None
        for i in range(reps):
            r = self.run(f"{name}.{i}", argv, shim=shim, report=False, timeout=120)
            if r.rc != 0:
                return None
            ns = int(r.seconds * 1e9)
            best = ns if best is None else min(best, ns)
        for f in glob.glob(os.path.join(self.work, f"{name}.*.gz")):
            os.remove(f)  # timing runs' traces: large, and not needed
        return best


def _text(b):
    if b is None:
        return ""
    return b.decode(errors="replace") if isinstance(b, bytes) else b


def missing(path):
    return None if os.access(path, os.X_OK) else f"{os.path.basename(path)} not built"


def run_pair(r, name, exe, args=(), extra_env=None, extra_ld=None, timeout=120):
    """The sample without the shim (for its exit status and output), then under it."""
    before = r.run(f"{name}.plain", [exe, *args], shim=False, extra_env=extra_env,
                   extra_ld=extra_ld, timeout=timeout)
    traced = r.run(name, [exe, *args], shim=True, extra_env=extra_env, extra_ld=extra_ld,
                   timeout=timeout)
    return before, traced


def dummy():
    return Result(rc=None, err="not run")


# The groups in the order they run, with the time each needs on an H100 (seconds, an estimate
# with margin: Python start-up with CUDA about 6 s, a C sample about 1 s, the report about
# 1 s per trace): a group that would overrun the budget is skipped, so the table always comes
# out. The build before them takes about 60 s with 16 jobs (nvcc for samples/cuda included).
#   alloc_pattern  5   two runs + reports
#   oom           15   80 x 1 GiB cudaMalloc until one fails, twice
#   vmm, own_runtime  5 each
#   many_threads  15   80,000 pairs under the shim
#   kernels       15   kernels and kernels_static, each plain and traced (about 10 ms of GPU work)
#   cublas, gemm, conv  10 each  (cuBLAS/cuDNN load about 2 s per run)
#   train         70   7 Python runs: plain, default, expandable, amp+nvtx, oom, profiler;
#                      reports and a --perfetto of the nvtx run
#   fit           45   3 labelled runs, fit --json, a run at max_batch (~80 GB), one at 1.15x
#   bench         40   2 modes x 4 timings x 2 repetitions of 100,000 pairs
# Total about 250 s of checks, about 310 s with the build: under the 330 s budget and the
# 6 minutes the issue allows. bench comes last: the least news if it is cut.
GROUPS = [("alloc_pattern", 5), ("oom", 15), ("vmm", 5), ("own_runtime", 5),
          ("many_threads", 15), ("kernels", 15), ("cublas", 10), ("gemm", 10), ("conv", 10),
          ("train", 70), ("fit", 45), ("bench", 40)]


def skip_rows(t, group, reason):
    """The group's rows, every one a SKIP with `reason`; nothing runs."""
    import torch_checks
    with t.skipping(reason):
        if group == "alloc_pattern":
            eval_alloc_pattern(t, dummy(), dummy())
            torch_checks.eval_environment(t, "alloc_pattern", dummy(), {"name": "(the device's)"})
        elif group == "oom":
            eval_oom(t, dummy(), dummy())
        elif group == "vmm":
            eval_vmm(t, dummy(), dummy())
        elif group == "own_runtime":
            eval_own_runtime(t, dummy(), dummy())
        elif group == "many_threads":
            eval_many_threads(t, dummy())
        elif group == "kernels":
            for name in ("kernels", "kernels_static"):
                eval_kernels(t, name, dummy(), dummy())
        elif group in EVAL_LIBRARY_SAMPLE:
            EVAL_LIBRARY_SAMPLE[group][1](t, dummy(), dummy())
        elif group == "bench":
            for mode in ("runtime", "driver"):
                eval_bench(t, mode, 0, dummy(), None)
        elif group in ("train", "fit"):
            torch_checks.skip_rows(t, group, reason)


# The samples of a library: group -> (executable in samples/cuda, judge).
EVAL_LIBRARY_SAMPLE = {"cublas": ("cublas_workspace", eval_cublas_workspace),
                       "gemm": ("gemm", eval_gemm), "conv": ("conv", eval_conv)}


def run_group(t, r, group, fake, opts):
    import torch_checks
    s = r.path("samples")
    cs = r.path("samples", "cuda")
    if group == "alloc_pattern":
        plain, traced = run_pair(r, "alloc_pattern", os.path.join(s, "alloc_pattern"))
        eval_alloc_pattern(t, plain, traced)
        torch_checks.eval_environment(t, "alloc_pattern", traced, opts["gpu"])
    elif group == "oom":
        exe = os.path.join(cs, "oom_truth")
        why = missing(exe)
        if why:
            return skip_rows(t, group, f"{why} (samples/cuda needs nvcc)")
        # the stand-in device is 16 GiB by default; 4 GiB keeps the run short
        extra = {"FAKECUDA_DEVICE_MEM": "4G"} if fake else None
        eval_oom(t, *run_pair(r, "oom", exe, extra_env=extra, timeout=240))
    elif group == "vmm":
        eval_vmm(t, *run_pair(r, "vmm", os.path.join(s, "vmm")))
    elif group == "own_runtime":
        eval_own_runtime(t, *run_pair(r, "own_runtime", os.path.join(s, "own_runtime")))
    elif group == "many_threads":
        eval_many_threads(t, r.run("many_threads", [os.path.join(s, "many_threads")],
                                   timeout=240))
    elif group == "kernels":
        for name in ("kernels", "kernels_static"):
            exe = os.path.join(cs, name)
            why = STAND_INS if fake else missing(exe)
            if why:
                with t.skipping(why):
                    eval_kernels(t, name, dummy(), dummy())
                continue
            eval_kernels(t, name, *run_pair(r, name, exe))
    elif group in EVAL_LIBRARY_SAMPLE:
        name, judge = EVAL_LIBRARY_SAMPLE[group]
        exe = os.path.join(cs, name)
        why = STAND_INS if fake else missing(exe)
        if why:
            return skip_rows(t, group, why)
        judge(t, *run_pair(r, group, exe, extra_ld=opts["lib_dirs"].get(group), timeout=180))
    elif group == "bench":
        exe = r.path("bench", "bench_alloc_loop")
        why = missing(exe)
        if why:
            return skip_rows(t, group, why)
        n = opts["bench_pairs"]
        for mode in ("runtime", "driver"):
            extra = [] if mode == "runtime" else ["driver"]
            counted = r.run(f"bench_{mode}", [exe, str(n), *extra], timeout=180)
            timings = bench_timings(r, mode, exe, n, extra, opts["bench_reps"], counted)
            eval_bench(t, mode, n, counted, timings)
            if counted.trace:
                os.remove(counted.trace)  # large; its report is kept
    elif group == "train":
        torch_checks.run_train(t, r, fake, opts)
    elif group == "fit":
        torch_checks.run_fit(t, r, fake, opts)


def bench_timings(r, mode, exe, n, extra, reps, counted):
    """Like bench/run.sh: (traced N - traced 0) - (plain N - plain 0), per event; each the
    best of `reps` runs (the counted run is one of the traced N ones)."""
    t = {}
    for key, count, shim in (("plain_n", n, False), ("plain_0", 0, False),
                             ("shim_n", n, True), ("shim_0", 0, True)):
        runs = reps - 1 if key == "shim_n" else reps
        best = r.best_ns(f"bench_{mode}_{key}", [exe, str(count), *extra], shim, runs)
        if key == "shim_n":
            if counted.rc != 0:
                return None
            mine = int(counted.seconds * 1e9)
            best = mine if best is None else min(best, mine)
        if best is None:
            return None
        t[key] = best
    t["per_event_ns"] = ((t["shim_n"] - t["shim_0"]) - (t["plain_n"] - t["plain_0"])) / (2 * n)
    return t


# ---------------------------------------------------------------------------------------------
# The table's header, the files left in OUT

def gpu_header(fake, build):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"gpuprof gpu-check, {now}"]
    if fake:
        lines.append("*** ON THE CUDA TEST STAND-INS (tests/fakecuda), NOT A GPU: a dry run of "
                     "the kit's logic; no row says anything about real hardware ***")
        return lines
    q = "name,compute_cap,memory.total,driver_version"
    try:
        p = subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=60)
        gpu = "name, cc, memory, driver: " + p.stdout.strip().splitlines()[0] \
            if p.returncode == 0 and p.stdout.strip() else "no GPU answered nvidia-smi"
        banner = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=60).stdout
        m = re.search(r"CUDA Version:\s*([0-9.]+)", banner)
        cuda = f", driver's CUDA {m.group(1)}" if m else ""
    except (OSError, subprocess.TimeoutExpired, IndexError) as e:
        gpu, cuda = f"nvidia-smi failed: {e}", ""
    lines.append(f"device: {gpu}{cuda}")
    try:
        v = subprocess.run(["nvcc", "--version"], capture_output=True, text=True, timeout=60)
        nvcc = re.search(r"release [0-9.]+, V([0-9.]+)", v.stdout)
    except (OSError, subprocess.TimeoutExpired):
        nvcc = None
    lines.append(f"toolkit: nvcc {nvcc.group(1) if nvcc else '?'}")
    return lines


def gpu_identity(fake):
    """{"name", "driver"} of device 0 as nvidia-smi gives them (the stand-in's name on
    --fake, with no driver to compare): what the report's `environment` must say."""
    if fake:
        return {"name": "gpuprof fake device", "driver": None}
    try:
        p = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=60)
        name, driver = [x.strip() for x in p.stdout.strip().splitlines()[0].split(",")][:2]
        return {"name": name, "driver": driver,
                "proc_version": os.path.exists("/proc/driver/nvidia/version")}
    except (OSError, subprocess.TimeoutExpired, IndexError, ValueError):
        return {"name": "? (nvidia-smi did not say)", "driver": None}


def write_outputs(t, work, out, final):
    """OUT gets table.txt, table.md, table.json and, at the end, gpu-check-logs.tar.gz (every
    log, report and trace, under 16 MiB: traces are left out if they would not fit)."""
    if not out:
        return
    os.makedirs(out, exist_ok=True)
    for name, text in (("table.txt", t.text()), ("table.md", t.markdown()),
                       ("table.json", t.json())):
        with open(os.path.join(out, name), "w") as f:
            f.write(text)
    if not final:
        return
    archive = os.path.join(out, "gpu-check-logs.tar.gz")
    for with_traces in (True, False):
        with tarfile.open(archive, "w:gz") as tar:
            for f in sorted(os.listdir(work)):
                if with_traces or not f.endswith(".gz"):
                    tar.add(os.path.join(work, f), arcname=f"gpu-check/{f}")
        if os.path.getsize(archive) < 15 * MIB:
            break


def main(argv):
    ap = argparse.ArgumentParser(description="tools/gpu-check's checks (run tools/gpu-check)")
    ap.add_argument("--build", required=True, help="the build directory")
    ap.add_argument("--top", required=True, help="the repository")
    ap.add_argument("--work", required=True, help="where logs, traces and reports go")
    ap.add_argument("--out", default="", help="where the table and the archive go")
    ap.add_argument("--fake", default="", help="the stand-ins' directory: run on them")
    ap.add_argument("--run-ld-path", default="", help="appended to LD_LIBRARY_PATH")
    ap.add_argument("--report-ld-path", default="", help="LD_LIBRARY_PATH first for the report")
    ap.add_argument("--preload-prefix", default="", help="libraries before the shim")
    ap.add_argument("--deadline", type=float, default=None,
                    help="seconds left for the checks (none: no limit)")
    ap.add_argument("--only", default="", help="comma-separated groups: " +
                    ",".join(g for g, _ in GROUPS))
    ap.add_argument("--quick", action="store_true", help="a short bench (for the dry run)")
    ap.add_argument("--header", action="append", default=[], help="a header line")
    ap.add_argument("--row", action="append", default=[], nargs=4,
                    metavar=("CHECK", "EXPECTED", "MEASURED", "STATUS"),
                    help="a row from the caller (the build), STATUS PASS/FAIL/SKIP[:reason]")
    ap.add_argument("--attach", action="append", default=[], help="a file for the archive")
    ap.add_argument("--lib-dir", action="append", default=[], nargs=2, metavar=("GROUP", "DIR"),
                    help="a library directory a group's sample needs on LD_LIBRARY_PATH")
    a = ap.parse_args(argv)

    a.build, a.top, a.work = (os.path.abspath(x) for x in (a.build, a.top, a.work))
    a.out = os.path.abspath(a.out) if a.out else ""
    a.fake = os.path.abspath(a.fake) if a.fake else ""
    fake = bool(a.fake)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    header = gpu_header(fake, a.build) + a.header
    opts = {"top": a.top, "python": sys.executable, "header_extra": [],
            "bench_pairs": 20000 if a.quick else 100000, "bench_reps": 2,
            "lib_dirs": dict(a.lib_dir), "gpu": gpu_identity(fake)}
    t = Table(header, on_row=lambda tab: write_outputs(tab, a.work, a.out, False))
    for check, expected, measured, status in a.row:
        st, _, reason = status.partition(":")
        if st == "SKIP":
            t.skip(check, expected, reason, measured=measured)
        else:
            t.check(check, expected, lambda m=measured, ok=(st == "PASS"), why=reason: (m, ok, why))
    for f in a.attach:
        if os.path.isfile(f):
            shutil.copy(f, a.work)
    r = Runner(a.build, a.work, a.fake or None, a.run_ld_path, None, a.preload_prefix,
               a.report_ld_path)
    build_ok = os.path.isfile(r.shim) and not missing(r.report_tool)

    r.deadline = None if a.deadline is None else time.monotonic() + a.deadline
    only = {g for g in a.only.split(",") if g}
    for group, need in GROUPS:
        if only and group not in only:
            continue
        reason = None
        if not build_ok:
            reason = "gpuprof is not built (libgpuprof.so, gpuprof-report)"
        elif r.time_left() < need:
            reason = f"out of time ({r.time_left():.0f} s left of the budget, needs ~{need})"
        if reason:
            skip_rows(t, group, reason)
            continue
        print(f"gpu-check: {group} ...", file=sys.stderr, flush=True)
        try:
            run_group(t, r, group, fake, opts)
        except Exception as e:  # a bug in the kit itself: say so in the table, go on
            t.fail(f"{group}: kit error", "the group runs", f"{type(e).__name__}: {e}"[:300])
    t.header += opts["header_extra"]
    write_outputs(t, a.work, a.out, True)
    sys.stdout.write("\n" + t.text())
    sys.stdout.write(recap(t))
    return t.exit_status()


def recap(t):
    """After the table, the failures again in full (the end of the output is what a remote
    call shows), then the counts."""
    fails = [r for r in t.rows if r.status == "FAIL"]
    out = [""]
    if fails:
        out.append(f"FAILED ({len(fails)}):")
        for r in fails:
            out.append(f"  {r.check}: expected {r.expected}; measured {r.measured}"
                       f"{'; ' + r.reason if r.reason else ''}")
    if t.header:
        out.append(t.header[0])
    out.append(f"gpu-check: {t.summary()}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import checks as _self  # torch_checks imports `checks`: one instance of this module
    sys.exit(_self.main(sys.argv[1:]))
