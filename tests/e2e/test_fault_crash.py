"""Fault: the program crashes on its own (abort(), SIGSEGV) after allocating. Whatever the shim
does on the way out (its fatal-signal handler asks for a last flush, then re-raises), the
crash is the program's own: same signal, same output, nothing added on stderr. The trace is
readable (truncated, never damaged) and holds the allocations made before the crash; a crash
right at the start may leave no file or an empty one, which the report refuses in one line,
never by crashing itself."""
import glob
import os
import signal
import subprocess
import tempfile

from e2e import REPORT, check, equal, finish, report, report_json, run_fault, site_functions, unchanged

# A sanitizer build (docs/reliability.md) would turn the SIGSEGV into its own report and exit
# status; the test is about the program's own crash, so it is left alone.
env = {v: (os.environ.get(v, "") + ":handle_segv=0").lstrip(":") for v in ("ASAN_OPTIONS", "TSAN_OPTIONS")}

for mode, sig in (("abort", signal.SIGABRT), ("segv", signal.SIGSEGV)):
    plain, none = run_fault("fault_crash", [mode, "300"], preload=False, env=env)
    equal(plain.returncode, -sig, f"{mode}: the program dies of {sig.name} on its own")
    equal(none, None, f"{mode}: no trace without the shim")

    # Flushed every 20 ms and crashing 300 ms after its allocations: they are on disk.
    with tempfile.TemporaryDirectory() as d:
        traced, trace = run_fault("fault_crash", [mode, "300"], workdir=d,
                                  env={**env, "GPUPROF_FLUSH_MS": "20"})
        unchanged(plain, traced, f"{mode} after a flush")
        check(trace is not None, f"{mode}: a trace was written")
        if trace:
            j = report_json(trace)
            equal(j["trace"]["truncated"], True, f"{mode}: trace marked truncated")
            ev = j["events"]
            equal((ev["allocs"], ev["frees"], ev["failed_allocs"]), (3, 0, 0),
                  f"{mode}: allocations before the crash")
            equal(j["memory"]["peak_reserved_bytes"], 3 << 20, f"{mode}: device peak")
            if j["run"]["stack_depth"] > 0:
                equal([site_functions(s)[0] for s in j["memory"]["top_sites_at_peak"]],
                      ["crash_site"], f"{mode}: site at the peak")
            check("truncated" in report(trace).stderr, f"{mode}: text report warns of truncation")

    # Crashing at once: whatever made it to disk, the report never crashes on it.
    with tempfile.TemporaryDirectory() as d:
        plain0, _ = run_fault("fault_crash", [mode], preload=False, env=env)
        traced, _ = run_fault("fault_crash", [mode], workdir=d, env=env)
        unchanged(plain0, traced, f"{mode} at once")
        for trace in glob.glob(os.path.join(d, "*")):
            r = subprocess.run([REPORT, "--json", trace], capture_output=True, text=True, timeout=60)
            check(r.returncode in (0, 1), f"{mode} at once: report exit status {r.returncode}")
            if r.returncode == 1:
                equal(len(r.stderr.splitlines()), 1, f"{mode} at once: one-line refusal {r.stderr!r}")
finish()
