"""Fault: the file size limit (RLIMIT_FSIZE, `ulimit -f`) is hit while writing the trace. The
kernel then sends SIGXFSZ, whose default action kills the process; the shim's writer thread
blocks every signal, so its write fails with EFBIG instead: one warning line, tracing off,
the program unchanged, and the trace readable up to the limit."""
import os
import sys
import tempfile

from e2e import check, equal, finish, report_json, run_fault, unchanged

LIMIT = 32 * 1024
PAIRS = "200000"
wrapper = (sys.executable, "-c",
           "import os, resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (%d, %d)); "
           "os.execv(sys.argv[1], sys.argv[1:])" % (LIMIT, LIMIT))
plain, _ = run_fault("fault_alloc", [PAIRS], preload=False, wrapper=wrapper)
equal(plain.returncode, 0, "the program succeeds on its own under the limit")
with tempfile.TemporaryDirectory() as d:
    traced, trace = run_fault("fault_alloc", [PAIRS], workdir=d, wrapper=wrapper)
    warnings = unchanged(plain, traced, "file size limit", warnings=1)
    if warnings:
        check(warnings[0].endswith(": File too large; tracing is off, the program goes on"),
              f"the warning says why: {warnings[0]}")
    check(trace is not None, "a trace was written")
    if trace:
        check(os.path.getsize(trace) <= LIMIT, "the trace stops at the limit")
        j = report_json(trace)
        equal(j["trace"]["truncated"], True, "trace marked truncated")
        check(0 < j["events"]["allocs"] < 200002, f"some allocations recorded: {j['events']['allocs']}")
finish()
