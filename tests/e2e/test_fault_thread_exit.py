"""Fault: a thread ends the process with _exit() while others allocate. No atexit handler or
destructor runs, so the shim's writer thread just vanishes: the exit status and output are
the program's own, nothing hangs, and the trace is readable up to the last periodic flush."""
import tempfile

from e2e import check, equal, finish, report_json, run_fault, site_functions, unchanged

plain, _ = run_fault("fault_thread_exit", ["200"], preload=False)
equal(plain.returncode, 7, "the program exits 7 from a thread")
with tempfile.TemporaryDirectory() as d:
    traced, trace = run_fault("fault_thread_exit", ["200"], workdir=d, env={"GPUPROF_FLUSH_MS": "20"})
    unchanged(plain, traced, "_exit from a thread")
    check(trace is not None, "a trace was written")
    if trace:
        j = report_json(trace)
        equal(j["trace"]["truncated"], True, "trace marked truncated")
        ev = j["events"]
        check(ev["allocs"] >= 1002, f"the allocations before the wait are on disk: {ev['allocs']}")
        equal((ev["failed_allocs"], ev["unknown_frees"]), (0, 0), "failed allocations, unknown frees")
        check(ev["allocs"] - ev["frees"] >= 2, "main_site's blocks are live")
        if j["run"]["stack_depth"] > 0:
            main = [s for s in j["memory"]["top_sites_at_peak"] if site_functions(s)[0] == "main_site"]
            equal((sum(s["bytes"] for s in main), sum(s["count"] for s in main)), (2 << 20, 2),
                  "main_site's blocks at the peak")
finish()
