"""Fault: hostile GPUPROF_OUTPUT (and friends). Whatever the template holds, the program's
behaviour is untouched, the shim writes at most one line per problem on stderr (control
characters shown as '?'), and a trace lands only where the template says -- or, when the
template cannot be used, under the default name in the working directory.
  too long after expansion, a component longer than NAME_MAX, '%' at the end, an unknown
  escape, empty; '../' in the template (honoured as the file system resolves it, but never
  creating anything on the way); RANK and the host name trying to add or leave directories;
  newlines; an existing directory or device as the trace path (never written into);
  control characters in GPUPROF_LABEL (stored as given, escaped by the report)."""
import ctypes
import glob
import os
import subprocess
import sys
import tempfile

from e2e import check, equal, finish, report, report_json, run_fault, unchanged

plain, _ = run_fault("fault_alloc", ["10"], preload=False)


def run(d, output, what, warnings=0, extra=None, wrapper=()):
    env = {"GPUPROF_OUTPUT": output, **(extra or {})}
    traced, _ = run_fault("fault_alloc", ["10"], workdir=d, env=env, wrapper=wrapper)
    lines = unchanged(plain, traced, what, warnings=warnings)
    for l in lines:
        check(all(c >= " " and c != "\x7f" for c in l), f"{what}: no control characters in {l!r}")
    return lines


def traces(d):
    return sorted(os.path.relpath(p, d) for p in glob.glob(os.path.join(d, "**", "*.gz*"), recursive=True))


def holds_every_event(path, what):
    ev = report_json(path)["events"]
    equal((ev["allocs"], ev["frees"]), (12, 12), f"{what}: every event in {os.path.basename(path)}")


with tempfile.TemporaryDirectory() as d:
    # Too long once expanded: the default name, in the working directory.
    w = run(d, "x/" * 2100 + "t.%p.gz", "4 KiB template", warnings=1)
    if w:
        check("GPUPROF_OUTPUT=" in w[0] and "too long" in w[0], f"4 KiB template warning: {w[0]}")
        check(len(w[0]) < 512, "the warning is cut short")
    names = traces(d)
    equal(len(names), 1, f"4 KiB template: one trace {names}")
    equal([n.startswith("gpuprof.") for n in names], [True], "4 KiB template: the default name")
    for n in names:
        holds_every_event(os.path.join(d, n), "4 KiB template")
        os.unlink(os.path.join(d, n))

    # A file name longer than NAME_MAX: tracing off, one line.
    w = run(d, os.path.join(d, "n" * 300 + ".gz"), "300-byte file name", warnings=1)
    if w:
        check(w[0].endswith(": File name too long; tracing is off"), f"300-byte name warning: {w[0]}")
    equal(traces(d), [], "300-byte file name: no trace")

    # '%' at the very end, an unknown escape, empty: the default name, one line each.
    for tmpl, what in (("t.%", "'%' at the end"), ("t.%q.gz", "unknown escape"), ("", "empty template")):
        w = run(d, tmpl, what, warnings=1)
        if w and tmpl:
            check("unknown % escape" in w[0], f"{what}: the warning says why: {w[0]}")
        names = traces(d)
        equal([n.startswith("gpuprof.") for n in names], [True], f"{what}: the default name {names}")
        for n in names:
            holds_every_event(os.path.join(d, n), what)
            os.unlink(os.path.join(d, n))

    # '../' is resolved by the file system, never by creating what is missing.
    os.makedirs(os.path.join(d, "a", "b"))
    run(d, "a/b/../../t.%p.gz", "a/b/../../")
    names = traces(d)
    equal([n.startswith("t.") for n in names], [True], f"a/b/../../ lands in the working directory: {names}")
    for n in names:
        os.unlink(os.path.join(d, n))
    run(d, "missing/../t.%p.gz", "missing/../", warnings=1)
    equal(traces(d), [], "missing/../: no trace")
    check(not os.path.exists(os.path.join(d, "missing")), "missing/../: no directory created")

    # RANK can only add digits.
    run(d, "a/r%r.gz", "RANK with slashes", extra={"RANK": "../../7/../x"})
    equal(traces(d), ["a/r7.gz"], "RANK's digits only")
    os.unlink(os.path.join(d, "a", "r7.gz"))

    # Newlines: one warning line; a created name keeps them (a valid file name).
    w = run(d, os.path.join(d, "no\ndir", "t.gz"), "newline in a missing directory", warnings=1)
    if w:
        check("no?dir" in w[0], f"the newline is shown as '?': {w[0]!r}")
    run(d, "line\nbreak.%p.gz", "newline in the file name")
    names = traces(d)
    equal([n.startswith("line\nbreak.") for n in names], [True], f"newline in the name {names!r}")
    for n in names:
        holds_every_event(os.path.join(d, n), "newline in the name")
        os.unlink(os.path.join(d, n))

    # An existing directory or device as the path: never written into, next free name used.
    os.mkdir(os.path.join(d, "dir.gz"))
    run(d, os.path.join(d, "dir.gz"), "an existing directory")
    equal(os.listdir(os.path.join(d, "dir.gz")), [], "the directory is untouched")
    check(os.path.isfile(os.path.join(d, "dir.gz.1")), "the trace is dir.gz.1")
    devnull = os.path.join(d, "null")
    os.symlink("/dev/null", devnull)
    run(d, devnull, "a symlink to /dev/null")
    check(os.path.isfile(devnull + ".1"), "the trace is null.1, not /dev/null")

    # Control characters in the label: stored as given, never printed raw by the report.
    label = "evil\n\x1b[31mred\x07"
    run(d, "label.%p.gz", "control characters in GPUPROF_LABEL", extra={"GPUPROF_LABEL": label})
    names = glob.glob(os.path.join(d, "label.*.gz"))
    equal(len(names), 1, "label trace written")
    for n in names:
        equal(report_json(n)["run"]["label"], label, "the label, exactly, in the JSON report")
        text = report(n).stdout
        check("\x1b" not in text and "\x07" not in text, "no raw control characters in the text report")

# The host name is not ours to choose, except in a private UTS namespace (root only): a host
# named ".." must not lead the trace out of its directory.
if os.geteuid() == 0:
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "in", "_"))
        setter = (sys.executable, "-c",
                  "import ctypes, os, sys; libc = ctypes.CDLL(None, use_errno=True); "
                  "sys.exit(3) if libc.sethostname(b'..', 2) != 0 else os.execv(sys.argv[1], sys.argv[1:])")
        probe = subprocess.run(["unshare", "--uts", *setter, "/bin/true"], capture_output=True)
        if probe.returncode == 0:
            run(d, os.path.join(d, "in", "%h", "t.%p.gz"), "host name '..'", wrapper=("unshare", "--uts", *setter))
            names = traces(d)
            equal([n.startswith("in/_/t.") for n in names], [True], f"host name '..' stays inside: {names}")
        else:
            print("host name case skipped: cannot set a host name in a UTS namespace")
finish()
