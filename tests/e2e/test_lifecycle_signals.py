"""Fatal signals in a traced program (tests/lifecycle/life_crash.c). The program dies exactly
as without the shim (same signal, same core dump, same output), and the shim's handler gets
everything allocated before the crash onto disk even with no periodic flush due
(GPUPROF_FLUSH_MS=60000): the trace holds the allocations and, with no END, reads as
truncated. A SIGSEGV handler the program installed before its first CUDA call still runs,
with the fault's own details, and a program whose handler recovers goes on being traced."""
import os
import tempfile

from e2e import check, equal, finish, report_json, site_functions
from lifecycle_util import MIB, core_files_possible, run, same_as_plain

NO_FLUSH = {"GPUPROF_FLUSH_MS": "60000"}


def crash_trace(r, what, truncated=True):
    equal(len(r.traces), 1, f"{what}: one trace")
    if not r.traces:
        return
    j = report_json(r.traces[0])
    equal(j["trace"]["truncated"], truncated, f"{what}: trace truncated")
    equal(j["trace"]["dropped_events"], 0, f"{what}: dropped events")
    equal(j["events"]["allocs"], 3 if truncated else 4, f"{what}: allocations on disk")
    equal(j["memory"]["peak_reserved_bytes"], (3 if truncated else 4) * MIB, f"{what}: device peak")
    sites = [(site_functions(s)[0], s["count"]) for s in j["memory"]["top_sites_at_peak"]]
    check(("crash_site", 3) in sites, f"{what}: crash_site holds 3 blocks at the peak: {sites}")
    return j


for mode, sig in (("segv", 11), ("abort", 6), ("bus", 7)):
    plain = run("life_crash", [mode], shim=False)
    traced = run("life_crash", [mode], env=NO_FLUSH)
    same_as_plain(traced, plain, mode)
    equal(traced.returncode, -sig, f"{mode}: killed by signal {sig}")
    equal(traced.stdout, f"life_crash: {mode}: 3 blocks allocated\n", f"{mode}: stdout")
    check("gpuprof" not in traced.stderr, f"{mode}: no message from gpuprof: {traced.stderr!r}")
    crash_trace(traced, mode)

# Same core-dump behaviour (where cores land in the working directory, not in a pipe).
if core_files_possible():
    for mode in ("segv", "abort"):
        with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
            plain = run("life_crash", [mode], shim=False, core=True, workdir=d1)
            traced = run("life_crash", [mode], core=True, workdir=d2)
            equal(traced.core_dumped, plain.core_dumped, f"{mode}: core dumped as without the shim")
            cores = lambda d: sorted(f for f in os.listdir(d) if f.startswith("core"))
            equal(len(cores(d2)), len(cores(d1)), f"{mode}: core files as without the shim")
else:
    print("core_pattern is a pipe: core-dump comparison skipped")

# The program's own handler, installed before its first CUDA call, still runs (and sees the
# fault's own address and code); our flush ran before it.
plain = run("life_crash", ["chain"], shim=False)
traced = run("life_crash", ["chain"], env=NO_FLUSH)
same_as_plain(traced, plain, "chain")
equal(traced.returncode, 3, "chain: the program's handler ended it")
equal(traced.stdout, "life_crash: chain: 3 blocks allocated\n"
      "life_crash: handler: SIGSEGV at the guard page, SEGV_ACCERR\n", "chain: stdout")
crash_trace(traced, "chain")

# A handler that repairs the fault: the program goes on, still traced, and ends cleanly.
plain = run("life_crash", ["recover"], shim=False)
traced = run("life_crash", ["recover"], env=NO_FLUSH)
same_as_plain(traced, plain, "recover")
equal(traced.returncode, 0, "recover: exit status")
equal(traced.stdout.splitlines()[-1:], ["life_crash: recovered"], "recover: the program went on")
j = crash_trace(traced, "recover", truncated=False)
if j:
    equal((j["events"]["frees"], j["memory"]["leaked_bytes"]), (4, 0), "recover: all freed")
finish()
