"""Fault: the disk fills up under the trace. The write error turns tracing off with one warning
line; the program goes on and behaves exactly as without the shim; the trace keeps what was
written before the disk filled and reads as truncated.
The full disk is a 64 KiB tmpfs in a private mount namespace (the trace is copied out before
the namespace goes); without one (no unshare, no user namespaces) the test is skipped --
test_fault_file_size_limit covers the same write-error path with RLIMIT_FSIZE."""
import glob
import os
import tempfile

from e2e import check, equal, finish, mount_namespace, report, report_json, run_fault, skip, unchanged

PAIRS = "200000"  # about 300 KiB of trace: far more than the disk holds
ns, why = mount_namespace()
if ns is None:
    skip(why)
plain, _ = run_fault("fault_alloc", [PAIRS], preload=False)
with tempfile.TemporaryDirectory() as d:
    full, saved = os.path.join(d, "full"), os.path.join(d, "saved")
    os.mkdir(full)
    os.mkdir(saved)
    script = ('full=$0 saved=$1; shift 1; mount -t tmpfs -o size=64k tmpfs "$full" || exit 99; '
              '"$@"; rc=$?; cp "$full"/* "$saved"/ 2>/dev/null; exit $rc')
    traced, _ = run_fault("fault_alloc", [PAIRS], workdir=d, wrapper=(*ns, "sh", "-c", script, full, saved),
                          env={"GPUPROF_OUTPUT": os.path.join(full, "t.%p.gz")})
    warnings = unchanged(plain, traced, "disk full", warnings=1)
    if warnings:
        check(warnings[0].startswith("gpuprof: writing " + full + "/t."), f"the warning names the file: {warnings[0]}")
        check(warnings[0].endswith(": No space left on device; tracing is off, the program goes on"),
              f"the warning says why: {warnings[0]}")
    traces = glob.glob(os.path.join(saved, "t.*.gz"))
    equal(len(traces), 1, "one trace on the full disk")
    if traces:
        check(os.path.getsize(traces[0]) <= 64 * 1024, "the trace is no larger than the disk")
        j = report_json(traces[0])
        equal(j["trace"]["truncated"], True, "trace marked truncated")
        ev = j["events"]
        check(0 < ev["allocs"] < 200002, f"some but not all allocations recorded: {ev['allocs']}")
        equal((ev["failed_allocs"], ev["unknown_frees"]), (0, 0), "failed allocations, unknown frees")
        check("truncated" in report(traces[0]).stderr, "text report warns of truncation")
finish()
