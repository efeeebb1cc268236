"""Garbage in GPUPROF_* settings: one warning each on stderr, defaults used, program unchanged.
GPUPROF_DEPTH=0 records no stacks; an unusable output directory turns tracing off politely;
GPUPROF_LABEL reaches the header."""
import os
import tempfile

from e2e import check, equal, finish, report_json, run_sample

plain, _ = run_sample("alloc_pattern", preload=False)

bad = {"GPUPROF_DEPTH": "banana", "GPUPROF_BUFFER": "12Q", "GPUPROF_FLUSH_MS": "-5",
       "GPUPROF_ENABLE": "perhaps", "GPUPROF_LABEL": "batch=32"}
p, trace = run_sample("alloc_pattern", env=bad)
equal(p.stdout, plain.stdout, "stdout with bad settings")
equal(p.returncode, 0, "exit status with bad settings")
lines = p.stderr.splitlines()
equal(len(lines), 4, f"one warning per bad setting: {lines}")
for name in ("GPUPROF_DEPTH=banana", "GPUPROF_BUFFER=12Q", "GPUPROF_FLUSH_MS=-5", "GPUPROF_ENABLE=perhaps"):
    check(any(l.startswith("gpuprof: " + name + " is not valid") for l in lines), f"warning for {name}")
j = report_json(trace)
equal(j["memory"]["peak_reserved_bytes"], 118591488, "peak with default settings")
equal(j["run"]["label"], "batch=32", "label in the header")

p, trace = run_sample("alloc_pattern", env={"GPUPROF_DEPTH": "0"})
j = report_json(trace)
equal(j["memory"]["peak_reserved_bytes"], 118591488, "peak without stacks")
equal([s["frames"] for s in j["memory"]["top_sites_at_peak"]], [[]], "one site without frames")

p, trace = run_sample("alloc_pattern", env={"GPUPROF_ENABLE": "0"})
equal((p.stdout, p.stderr, trace), (plain.stdout, "", None), "GPUPROF_ENABLE=0 is a pass-through")

with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "missing", "t.%p.gz")
    p, _ = run_sample("alloc_pattern", env={"GPUPROF_OUTPUT": out}, workdir=d)
    equal(p.stdout, plain.stdout, "stdout when the trace cannot be created")
    equal(p.returncode, 0, "exit status when the trace cannot be created")
    equal(len(p.stderr.splitlines()), 1, f"one warning when the trace cannot be created: {p.stderr!r}")
    check("cannot create trace file" in p.stderr, "the warning says why")
    p, trace = run_sample("alloc_pattern", env={"GPUPROF_OUTPUT": os.path.join(d, "x%q.gz")}, workdir=d)
    equal(p.returncode, 0, "exit status with a bad template")
    check("GPUPROF_OUTPUT" in p.stderr, "warning names GPUPROF_OUTPUT")
    check(any(f.startswith("gpuprof.") for f in os.listdir(d)), "the default name is used instead")
finish()
