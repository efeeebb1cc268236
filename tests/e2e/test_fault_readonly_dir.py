"""Fault: the output directory is read-only. Tracing turns off with one warning line that says
why; the program's behaviour is untouched and nothing is written anywhere.
As root, mode bits do not stop writes, so the directory is a read-only tmpfs in a private
mount namespace (the program runs inside it); without unshare, the test is skipped."""
import os
import tempfile

from e2e import check, equal, finish, mount_namespace, run_fault, skip, unchanged

plain, _ = run_fault("fault_alloc", ["100"], preload=False)
with tempfile.TemporaryDirectory() as d:
    ro = os.path.join(d, "ro")
    os.mkdir(ro)
    wrapper = ()
    if os.geteuid() == 0:
        ns, why = mount_namespace()
        if ns is None:
            skip(f"running as root and {why}")
        wrapper = (*ns, "sh", "-c", 'mount -t tmpfs -o ro,size=64k tmpfs "$0" && exec "$@"', ro)
        reason = "Read-only file system"
    else:
        os.chmod(ro, 0o555)
        reason = "Permission denied"
    traced, trace = run_fault("fault_alloc", ["100"], workdir=d, wrapper=wrapper,
                              env={"GPUPROF_OUTPUT": os.path.join(ro, "t.%p.gz")})
    warnings = unchanged(plain, traced, "read-only output directory", warnings=1)
    if warnings:
        check(warnings[0].startswith("gpuprof: cannot create trace file " + ro + "/t."),
              f"the warning names the file: {warnings[0]}")
        check(warnings[0].endswith(f": {reason}; tracing is off"), f"the warning says why: {warnings[0]}")
    equal(os.listdir(ro), [], "nothing written in the read-only directory")
    equal(sorted(os.listdir(d)), ["ro"], "nothing written next to it")
    os.chmod(ro, 0o755)
finish()
