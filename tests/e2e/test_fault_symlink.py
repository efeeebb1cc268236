"""Fault: the trace path is an existing symlink. The shim never follows it (O_NOFOLLOW with
O_EXCL): the link and its target are left exactly as they were, a dangling link's target is
not created, and the trace goes to the next free name (".1"), silently."""
import glob
import os
import tempfile

from e2e import check, equal, finish, report_json, run_fault, unchanged

plain, _ = run_fault("fault_alloc", ["100"], preload=False)
with tempfile.TemporaryDirectory() as d:
    target = os.path.join(d, "precious.txt")
    with open(target, "w") as f:
        f.write("precious data\n")
    before = os.stat(target)
    cases = {"link.gz": target, "dangling.gz": os.path.join(d, "created-through-link"),
             "dirlink.gz": "/"}
    for name, dest in cases.items():
        os.symlink(dest, os.path.join(d, name))
    for name, dest in cases.items():
        out = os.path.join(d, name)
        traced, _ = run_fault("fault_alloc", ["100"], workdir=d, env={"GPUPROF_OUTPUT": out})
        unchanged(plain, traced, f"trace path {name} is a symlink")
        equal(os.readlink(out), dest, f"{name} still points where it did")
        check(os.path.exists(out + ".1"), f"{name}: the trace went to {name}.1")
        if os.path.exists(out + ".1"):
            check(not os.path.islink(out + ".1"), f"{name}.1 is a regular file")
            ev = report_json(out + ".1")["events"]
            equal((ev["allocs"], ev["frees"]), (102, 102), f"{name}.1: every event")
    with open(target) as f:
        equal(f.read(), "precious data\n", "the link's target is untouched")
    after = os.stat(target)
    equal((after.st_size, after.st_mtime_ns, after.st_mode), (before.st_size, before.st_mtime_ns, before.st_mode),
          "the target's size, time and mode")
    check(not os.path.lexists(cases["dangling.gz"]), "a dangling link's target is not created")
    equal(sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*"))),
          sorted(["precious.txt", "link.gz", "link.gz.1", "dangling.gz", "dangling.gz.1",
                  "dirlink.gz", "dirlink.gz.1"]), "files in the directory")
finish()
