"""`gpuprof-report fit` end to end, on synthetic traces written with the real trace writer
(tests/report/test_fit_trace.c: device memory peaking at exactly fixed + per_sample x batch,
a MEMINFO giving the device total, the label as given): every number of --json, the text,
--headroom, --device-total, --batch, the label errors, non-linear and flat growth, the memory
outside the fitted peaks (a CUDA context measured by cudaMemGetInfo or the default allowance,
a cuBLAS workspace outside PyTorch), and hostile labels and file names that must never reach
the gnuplot script."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
from fractions import Fraction

from e2e import REPORT, SAMPLES, check, equal, finish

BUILD = os.path.dirname(os.path.abspath(SAMPLES))
MAKER = os.path.join(BUILD, "tests", "report", "report_test_fit_trace")
KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
FIXED, PER, TOTAL = GIB + 4096, 24 * MIB + 512, 16 * GIB
CONTEXT_DEFAULT = 500 * MIB  # allowed for the CUDA context when no trace measured it


def make(d, name, label, fixed=FIXED, per=PER, batch=8, total=TOTAL, slack=None, context=0,
         workspace=0):
    """Writes a trace into d (with slack: a PyTorch run, reserving slack bytes more than it
    allocates at its peak; then context: a cudaMemGetInfo at start with that many bytes in
    use, workspace: that many device bytes held outside PyTorch); returns its path."""
    path = os.path.join(d, name)
    extra = [] if slack is None else [str(slack)]
    if context or workspace:
        extra += [str(context), str(workspace)]
    p = subprocess.run([MAKER, path, label, str(fixed), str(per), str(batch), str(total), *extra],
                       capture_output=True, text=True, timeout=60)
    equal(p.returncode, 0, f"make {name} ({p.stderr.strip()})")
    return path


def fit(*args, env=None, cwd=None):
    return subprocess.run([REPORT, "fit", *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd)


def fit_json(*args):
    p = fit("--json", *args)
    equal(p.returncode, 0, f"fit --json {args} exit status (stderr {p.stderr.strip()!r})")
    equal(p.stderr, "", f"fit --json {args}: nothing on stderr")
    return json.loads(p.stdout) if p.returncode == 0 else {}


def largest(fixed, per, total, headroom, other=0):
    """The largest batch with fixed + per x batch <= floor(total x (1 - headroom)) - other,
    exactly."""
    usable = int(total * (1 - Fraction(headroom))) - other
    m = (usable - fixed) // per
    check(fixed + per * m <= usable < fixed + per * (m + 1), "the boundary holds")
    return int(m)


def other(non_torch=0, context=0, processes=0, source="meminfo", batch=8):
    """The JSON "other" object."""
    return {"non_torch_bytes": non_torch, "context_bytes": context,
            "other_processes_bytes": processes, "context_source": source, "batch": batch}


def words(text):
    """The text with every run of white space made one space (the text view wraps lines)."""
    return " ".join(text.split())


def one_error_line(p, rc, what, *parts):
    equal(p.returncode, rc, f"{what}: exit status")
    equal(p.stdout, "", f"{what}: nothing on stdout")
    lines = p.stderr.splitlines()
    check(len(lines) >= 1 and all(s in lines[0] for s in parts),
          f"{what}: the first stderr line names {parts}: {p.stderr!r}")
    if rc == 1:
        equal(len(lines), 1, f"{what}: one line on stderr: {p.stderr!r}")


with tempfile.TemporaryDirectory() as d:
    files = [make(d, f"b{b}.gz", f"resnet batch={b} amp", batch=b) for b in (8, 16, 32)]

    # ---- the exact line ---------------------------------------------------------------------
    j = fit_json(*files)
    want_max = largest(FIXED, PER, TOTAL, "0.05")
    equal(want_max, 605, "the expected largest batch")
    # the MEMINFO at the peak: total - free is exactly what the process held, no context
    equal(j, {"fixed_bytes": FIXED, "per_sample_bytes": PER, "max_batch": 605,
              "headroom_fraction": 0.05, "device_total_bytes": TOTAL, "residual_bytes": 0,
              "other_bytes": 0, "other": other(), "usable_bytes": TOTAL * 95 // 100,
              "linear": True, "peak_source": "reserved",
              "points": [{"file": f, "batch": b, "peak_bytes": FIXED + PER * b, "source": "reserved",
                          "other_bytes": 0}
                         for f, b in zip(files, (8, 16, 32))]}, "fit --json of three exact runs")

    p = fit(*files)
    equal(p.returncode, 0, "fit text exit status")
    check("\n        16      1.38 GiB      1.38 GiB           0 B  " + files[1] + "\n" in p.stdout,
          f"fit text: the row of batch 16:\n{p.stdout}")
    for want in ("Peak used: the device memory each process held (reserved)",
                 "Fixed memory: 1.00 GiB (1073745920 bytes)",
                 "Memory per sample: 24.00 MiB (25166336 bytes) more peak memory for each sample",
                 "the farthest is 0 B off the line: the points lie on it",
                 "Device memory: 16.00 GiB.",
                 "Headroom: 5.00% kept free (5.00% asked; no fragmentation allowance), leaving "
                 "15.20 GiB.",
                 "Other memory: 0 B also kept free, leaving 15.20 GiB usable: the most any run "
                 "(batch 8) held beside its peak = 0 B CUDA context and other memory on the "
                 "device (device total - free - this process's allocations, at its first cudaMemGetInfo). The process's own "
                 "allocations outside PyTorch are in its reserved peak already.",
                 "Largest batch: 605: fixed + per sample x 605 = 15.18 GiB of the 15.20 GiB "
                 "usable; batch 606 would need 15.20 GiB, 3.50 MiB too much."):
        check(want in words(p.stdout), f"fit text says {want!r}:\n{p.stdout}")
    check(max(len(l) for l in p.stdout.splitlines()) <= 96, "fit text lines fit 96 columns")
    check("Warning" not in p.stdout, "no warning for a straight line")

    # ---- PyTorch runs: the allocated peak, a fragmentation allowance ------------------------------
    # 64 MiB reserved beyond the allocated peak; afterwards the samples' blocks are freed and
    # their segment stays cached (a larger gap, but reusable: not part of the allowance)
    slack = 64 * MIB
    tfiles = [make(d, f"t{b}.gz", f"batch={b}", batch=b, slack=slack) for b in (8, 16, 32)]
    j = fit_json(*tfiles)
    units = max(-(-slack * 10000 // (FIXED + PER * b + slack)) for b in (8, 16, 32))
    equal(units, 500, "the expected allowance: 64 MiB of 1.25 GiB reserved, rounded up")
    headroom = f"0.{500 + units:04d}"
    # no cudaMemGetInfo in these runs: the context is the default allowance
    kept = TOTAL * (10000 - 500 - units) // 10000
    equal(j, {"fixed_bytes": FIXED, "per_sample_bytes": PER,
              "max_batch": largest(FIXED, PER, TOTAL, headroom, CONTEXT_DEFAULT),
              "headroom_fraction": float(headroom), "device_total_bytes": TOTAL,
              "residual_bytes": 0, "other_bytes": CONTEXT_DEFAULT,
              "other": other(context=CONTEXT_DEFAULT, source="default"),
              "usable_bytes": kept - CONTEXT_DEFAULT, "linear": True, "peak_source": "allocated",
              "points": [{"file": f, "batch": b, "peak_bytes": FIXED + PER * b, "source": "allocated",
                          "other_bytes": CONTEXT_DEFAULT}
                         for f, b in zip(tfiles, (8, 16, 32))]}, "fit --json of PyTorch runs")
    equal(j.get("max_batch"), 550, "PyTorch runs: the expected largest batch")
    tt = words(fit(*tfiles).stdout)
    check("Headroom: 10.00% kept free (5.00% asked + 5.00% for the fragmentation seen" in tt,
          "PyTorch runs: the text explains the headroom")
    check("Other memory: 500.00 MiB also kept free, leaving 13.91 GiB usable: the most any run "
          "(batch 8) held beside its peak = 0 B outside PyTorch's allocator (the process's "
          "device peak - PyTorch's reserved peak) + 500.00 MiB CUDA context and other memory on the device (not measured: the trace has no "
          "cudaMemGetInfo answer, so this is the default allowance; set it with --context-bytes)."
          in tt, f"PyTorch runs: the text explains the default context allowance:\n{tt}")
    # one run without the adapter: reserved peaks for all, no allowance
    j = fit_json(tfiles[0], files[1], tfiles[2])
    equal((j.get("peak_source"), [q["peak_bytes"] for q in j.get("points", [])],
           j.get("headroom_fraction"), j.get("other")),
          ("reserved", [FIXED + PER * 8 + slack, FIXED + PER * 16, FIXED + PER * 32 + slack], 0.05,
           other(context=CONTEXT_DEFAULT, source="default")),
          "mixed runs: the reserved peaks, no allowance, the default context")

    # ---- PyTorch runs with a measured context and a workspace outside PyTorch -------------------
    # 517 MiB + 12345 in use before any allocation (the context), and a cuBLAS workspace of
    # 8 MiB (batch 8, 16) or 72 MiB + 4096 (batch 32) held next to PyTorch's segments
    ctx, ws = 517 * MIB + 12345, {8: 8 * MIB, 16: 8 * MIB, 32: 72 * MIB + 4096}
    cfiles = [make(d, f"w{b}.gz", f"batch={b}", batch=b, slack=0, context=ctx, workspace=ws[b])
              for b in (8, 16, 32)]
    j = fit_json(*cfiles)
    want_other = ws[32] + ctx
    equal(largest(FIXED, PER, TOTAL, "0.05", want_other), 581, "the expected largest batch")
    equal(j, {"fixed_bytes": FIXED, "per_sample_bytes": PER, "max_batch": 581,
              "headroom_fraction": 0.05, "device_total_bytes": TOTAL, "residual_bytes": 0,
              "other_bytes": want_other, "other": other(ws[32], ctx, batch=32),
              "usable_bytes": TOTAL * 95 // 100 - want_other, "linear": True,
              "peak_source": "allocated",
              "points": [{"file": f, "batch": b, "peak_bytes": FIXED + PER * b, "source": "allocated",
                          "other_bytes": ws[b] + ctx}
                         for f, b in zip(cfiles, (8, 16, 32))]},
          "fit --json of PyTorch runs with a context and a workspace")
    check("Other memory: 589.02 MiB also kept free, leaving 14.62 GiB usable: the most any run "
          "(batch 32) held beside its peak = 72.00 MiB outside PyTorch's allocator (the "
          "process's device peak - PyTorch's reserved peak) + 517.01 MiB CUDA context and other memory on the device (device total - free - "
          "this process's allocations, at its first cudaMemGetInfo)." in words(fit(*cfiles).stdout),
          "context and workspace: the text gives the subtraction with its numbers")
    # the same runs with no adapter records would hold the workspace in the reserved peak;
    # mixed with a reserved run only the context is subtracted
    j = fit_json(cfiles[0], files[1], cfiles[2])
    equal((j.get("peak_source"), j.get("other_bytes"), j.get("other")),
          ("reserved", ctx, other(context=ctx)), "mixed: the workspace is in the reserved peaks")

    # ---- --headroom, --device-total ------------------------------------------------------------
    j = fit_json("--headroom", "0.1", "--device-total", "8GiB", *files)
    equal((j.get("headroom_fraction"), j.get("device_total_bytes"), j.get("max_batch")),
          (0.1, 8 * GIB, largest(FIXED, PER, 8 * GIB, "0.1")), "--headroom 0.1 --device-total 8GiB")
    equal(largest(FIXED, PER, 8 * GIB, "0.1"), 264, "the expected largest batch at 8 GiB, 10%")
    j = fit_json("--headroom", "0", "--device-total", str(FIXED + PER * 100), *files)
    equal(j.get("max_batch"), 100, "no headroom, device exactly batch 100: 100 fits")
    for bad in (["--headroom", "0.95"], ["--headroom", "-0.1"], ["--headroom", "x"],
                ["--device-total", "0"], ["--device-total", "12QiB"], ["--batch", "8,0,16"],
                ["--batch", "8,,16"], ["--batch", "8,16"], ["--bogus"], ["--plot", "fit.pdf"]):
        one_error_line(fit(*bad, *files), 2, f"usage error {bad}", "gpuprof-report")
    one_error_line(fit(files[0]), 2, "one trace", "fit needs two or more traces")

    # ---- labels and --batch ----------------------------------------------------------------------
    unl = [make(d, f"u{b}.gz", "resnet amp", batch=b) for b in (8, 16, 32)]
    one_error_line(fit(*unl), 1, "no batch= in the label", unl[0],
                   "no batch=N in the trace's label 'resnet amp'", "GPUPROF_LABEL='batch=N'",
                   "--batch N,N,...")
    j = fit_json("--batch", "8,16,32", *unl)
    equal([(q["batch"], q["peak_bytes"]) for q in j.get("points", [])],
          [(b, FIXED + PER * b) for b in (8, 16, 32)], "--batch gives the sizes in order")
    equal(j.get("max_batch"), 605, "--batch: the same fit")
    # --batch wins over labels that say otherwise
    j = fit_json("--batch", "16,8", *files[:2])
    equal((j.get("fixed_bytes"), j.get("per_sample_bytes")), (FIXED + 24 * PER, -PER),
          "--batch over the labels: sizes as given")
    equal(j.get("max_batch"), None, "shrinking with the batch: no largest batch")
    bad = make(d, "bad.gz", "batch=8x", batch=8)
    one_error_line(fit(bad, files[1]), 1, "malformed batch=", bad,
                   "bad batch size in the trace's label 'batch=8x'", "--batch")
    two = make(d, "two.gz", "batch=8 batch=16", batch=8)
    one_error_line(fit(two, files[1]), 1, "two batch= tokens", two, "more than one batch=N")
    same = [make(d, f"s{i}.gz", "batch=8", batch=8) for i in range(3)]
    one_error_line(fit(*same), 1, "one batch size", "two or more different batch sizes")

    # ---- no device total -------------------------------------------------------------------------
    nt = [make(d, f"nt{b}.gz", f"batch={b}", batch=b, total=0) for b in (8, 16)]
    one_error_line(fit(*nt), 1, "no device total", "--device-total BYTES")
    j = fit_json("--device-total", str(TOTAL), *nt)
    equal((j.get("device_total_bytes"), j.get("max_batch"), j.get("other_bytes")),
          (TOTAL, largest(FIXED, PER, TOTAL, "0.05", CONTEXT_DEFAULT), CONTEXT_DEFAULT),
          "--device-total given, no cudaMemGetInfo: the default context allowance")
    equal(j.get("max_batch"), 585, "--device-total given: the expected largest batch")

    # ---- not linear, flat ----------------------------------------------------------------------------
    # peak = 1 GiB + 1 MiB x b + 64 KiB x b^2: the line misses by 2.25% and a quadratic fits
    curve = [make(d, f"c{b}.gz", f"batch={b}", fixed=GIB, per=MIB + 64 * KIB * b, batch=b)
             for b in (8, 16, 32, 64)]
    j = fit_json(*curve)
    equal((j.get("fixed_bytes"), j.get("per_sample_bytes"), j.get("residual_bytes"), j.get("linear")),
          (1017209901, 5903939, 31730822, False), "quadratic growth: least squares by hand")
    equal(j.get("max_batch"), largest(1017209901, 5903939, TOTAL, "0.05"), "quadratic: max batch")
    p = fit(*curve)
    check("Warning: growth is not linear: the runs stray from the line by up to 30.26 MiB, more "
          "than 2% of the largest peak (1.31 GiB)" in words(p.stdout), f"residual warning:\n{p.stdout}")
    check("a quadratic term explains the runs clearly better than a line; memory grows faster "
          "than linearly" in words(p.stdout), f"quadratic warning:\n{p.stdout}")
    check("-30.26 MiB  " + curve[2] in p.stdout, f"the row of batch 32 is 30.26 MiB below:\n{p.stdout}")
    flat = [make(d, f"f{b}.gz", f"batch={b}", per=0, batch=b) for b in (8, 16)]
    j = fit_json(*flat)
    equal((j.get("fixed_bytes"), j.get("per_sample_bytes"), j.get("max_batch")), (FIXED, 0, None),
          "flat: no per-sample growth, no largest batch")
    check("cannot say: peak memory does not grow with the batch size" in words(fit(*flat).stdout),
          "flat: the text says why there is no largest batch")

    # ---- hostile labels and file names -----------------------------------------------------------
    marker = os.path.join(d, "pwned")
    evil = ("batch=%d '\"; system(\"touch " + marker + "1\") $(touch " + marker + "2) `touch " +
            marker + "3`\nset output '" + marker + "4'\n\x1b[2J\\")
    ed = os.path.join(d, "it's $(touch pwned5) \"q\"")  # relative: run in d
    os.mkdir(ed)
    ev = [make(ed, f"e{b}'; system('touch pwned6').gz", evil % b, batch=b) for b in (8, 16)]
    capture = os.path.join(d, "capture")
    fakebin = os.path.join(d, "fakebin")
    os.mkdir(capture)
    os.mkdir(fakebin)
    with open(os.path.join(fakebin, "gnuplot"), "w") as f:
        f.write('#!/bin/sh\ncp plot.gp points.dat "$FIT_CAPTURE"/ && printf PNG > out.png\n')
    os.chmod(os.path.join(fakebin, "gnuplot"), stat.S_IRWXU)
    env = dict(os.environ, PATH=fakebin + ":" + os.environ.get("PATH", ""), FIT_CAPTURE=capture)
    out = os.path.join(d, "fit.png")
    p = fit("--json", "--plot", out, *ev, env=env, cwd=d)
    equal(p.returncode, 0, f"hostile: exit status ({p.stderr.strip()!r})")
    j = json.loads(p.stdout) if p.returncode == 0 else {}
    equal([q["file"] for q in j.get("points", [])], ev, "hostile file names, exactly, in the JSON")
    script = open(os.path.join(capture, "plot.gp")).read() if os.path.exists(
        os.path.join(capture, "plot.gp")) else ""
    points = open(os.path.join(capture, "points.dat")).read() if os.path.exists(
        os.path.join(capture, "points.dat")) else None
    check(script.startswith("set terminal pngcairo"), f"the plot script was written:\n{script}")
    for bad_text in ("touch", "system", "$(", "`", marker, d, "pwned", "\x1b", "\"q\""):
        check(bad_text not in script, f"{bad_text!r} never reaches the plot script")
    check("fit_line(x) = " in script and "set output 'out.png'" in script and
          script.count("\nset output") == 1, "the script draws the line into its own file")
    equal(points, f"8 {(FIXED + PER * 8) / GIB:.9g}\n16 {(FIXED + PER * 16) / GIB:.9g}\n",
          "points.dat holds numbers only")
    equal(open(out, "rb").read() if os.path.exists(out) else None, b"PNG", "the image copied out")
    if shutil.which("gnuplot"):
        real = os.path.join(d, "real.svg")
        p = fit("--plot", real, *ev, cwd=d)
        equal(p.returncode, 0, f"hostile, real gnuplot: exit status ({p.stderr.strip()!r})")
        svg = open(real).read() if os.path.exists(real) else ""
        check(svg.startswith("<?xml") and "largest batch 605" in svg, "real gnuplot drew the fit")
    check(not any(n.startswith("pwned") for n in os.listdir(d)), "no command from a label ran")
    check(not os.path.exists("/tmp/pwned"), "nothing touched /tmp/pwned")
    # an error message shows a hostile label escaped, on one line
    nb = make(d, "nb.gz", "'; system(\"x\")\n\x1b[2J evil", batch=8)
    p = fit(nb, files[0])
    one_error_line(p, 1, "hostile label without batch=", "system(\"x\")??[2J evil'")
    check("\x1b" not in p.stderr, "no escape character reaches the terminal")

finish()
