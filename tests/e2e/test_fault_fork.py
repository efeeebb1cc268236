"""Fault: fork() in one thread while other threads allocate. Parent and child exit normally;
the parent's trace holds exactly the parent's events (the child neither writes to it nor
closes it cleanly behind its back), and a child that calls CUDA gets a trace of its own,
named with its own pid, holding exactly its own events."""
import glob
import os
import tempfile

from e2e import SANITIZER, check, equal, finish, report_json, run_fault, site_functions, unchanged


def summary(trace):
    j = report_json(trace)
    ev = j["events"]
    return j, (ev["allocs"], ev["frees"], ev["failed_allocs"], ev["unknown_frees"],
               j["trace"]["truncated"], j["trace"]["dropped_events"])


modes = ["quiet", "cuda"]
if SANITIZER == "thread":
    # TSan cannot follow a thread started in a child forked from a multi-threaded process
    # (it reports "dup thread" or refuses outright), and the cuda child starts the shim's
    # writer thread: that mode runs in the other builds only.
    print("cuda-child mode skipped under ThreadSanitizer")
    modes.remove("cuda")
for mode in modes:
    plain, _ = run_fault("fault_fork", [mode], preload=False)
    equal(plain.returncode, 0, f"{mode}: the program succeeds on its own")
    with tempfile.TemporaryDirectory() as d:
        traced, _ = run_fault("fault_fork", [mode], workdir=d)
        unchanged(plain, traced, f"fork ({mode} child)")
        traces = sorted(glob.glob(os.path.join(d, "fault_fork.*.gz")))
        equal(len(traces), 2 if mode == "cuda" else 1, f"{mode}: trace files {traces}")
        runs = [summary(t) for t in traces]
        for t, (j, _) in zip(traces, runs):
            equal(os.path.basename(t), f"fault_fork.{j['run']['pid']}.gz", f"{mode}: trace named by its pid")
        pids = {j["run"]["pid"] for j, _ in runs}
        child = [r for r in runs if r[0]["run"]["ppid"] in pids]
        parent = [r for r in runs if r[0]["run"]["ppid"] not in pids]
        check(len(parent) == 1, f"{mode}: one parent trace")
        if parent:
            equal(parent[0][1], (80000, 80000, 0, 0, False, 0),
                  f"{mode}: parent trace: allocs, frees, failed, unknown frees, truncated, dropped")
        if mode == "cuda":
            check(len(child) == 1, "cuda: one child trace, whose ppid is the parent's pid")
            if child:
                j, counts = child[0]
                equal(counts, (3, 3, 0, 0, False, 0), "cuda: child trace holds exactly its events")
                equal(j["memory"]["peak_reserved_bytes"], 3 << 20, "cuda: child peak")
                if j["run"]["stack_depth"] > 0:
                    equal({site_functions(s)[0] for s in j["memory"]["top_sites_at_peak"]},
                          {"child_site"}, "cuda: child sites")
finish()
