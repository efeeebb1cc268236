"""The `gpuprof run` launcher (tools/gpuprof.c): the program's exit status passes through
exactly (0, 3, 127 for a missing command, 126 for one that cannot run, death by the same
signal), its stdout is untouched, the trace files of the run (child processes and exec'd
images included, older files excluded) are listed on stderr with a gpuprof-report command
that works, -o/--label/--depth take effect, and the installed tree works the same."""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

from e2e import FAKE_DIR, REPORT, SAMPLES, check, equal, finish, report_json, site_functions
import e2e
from lifecycle_util import BUILD, LAUNCHER, LIFECYCLE, MIB, base_env, core_files_possible, run

PREFIX = getattr(e2e, "PRELOAD_PREFIX", [])
ALLOC_PATTERN_PEAK = 118591488


def env(extra=None):
    """The test environment with no LD_PRELOAD but what extra gives (or a sanitizer runtime
    the shim needs first, which the launcher keeps first)."""
    extra = dict(extra or {})
    preload = extra.pop("LD_PRELOAD", ":".join(PREFIX))
    e = base_env(extra)
    e.pop("LD_PRELOAD", None)
    if preload:
        e["LD_PRELOAD"] = preload
    return e


def launch(args, cwd, extra_env=None, launcher=LAUNCHER, timeout=120):
    return subprocess.run([launcher, *args], cwd=cwd, env=env(extra_env), capture_output=True,
                          text=True, timeout=timeout)


def listed(stderr):
    """(trace files, report commands) the launcher printed."""
    files = re.findall(r"^gpuprof: trace written: (.*)$", stderr, re.M)
    cmds = re.findall(r"^gpuprof:   report: (.*)$", stderr, re.M)
    return [shlex.split(f)[0] for f in files], [shlex.split(c) for c in cmds]


sample = lambda name: os.path.join(SAMPLES, name)
plain_alloc = subprocess.run([sample("alloc_pattern")], env=env(), capture_output=True, text=True)

# ---- --help, --version, bad usage ----------------------------------------------------------
with tempfile.TemporaryDirectory() as d:
    p = launch(["--version"], d)
    equal(p.returncode, 0, "--version exit status")
    check(re.fullmatch(r"gpuprof \d+\.\d+\.\d+\n", p.stdout), f"--version prints the version: {p.stdout!r}")
    p = launch(["--help"], d)
    equal(p.returncode, 0, "--help exit status")
    check("gpuprof run" in p.stdout and "--no-python-stacks" in p.stdout and
          "forward" in p.stdout, "--help explains run and --no-python-stacks")
    for bad in ([], ["run"], ["run", "--"], ["frobnicate"], ["--bogus"], ["run", "--bogus", "true"],
                ["run", "--depth", "300", "true"], ["run", "--depth", "x", "true"], ["run", "--depth"],
                ["run", "-o", "a.%q.gz", "true"], ["run", "-o", "", "true"]):
        p = launch(bad, d)
        equal(p.returncode, 2, f"usage error exit status for {bad}")
        check(p.stderr.startswith("gpuprof: "), f"usage error message for {bad}: {p.stderr!r}")
        equal(p.stdout, "", f"nothing on stdout for {bad}")

# ---- exit status passthrough, stdout untouched, traces listed --------------------------------
with tempfile.TemporaryDirectory() as d:
    p = launch(["run", "--", sample("alloc_pattern")], d)
    equal(p.returncode, 0, "exit status 0")
    equal(p.stdout, plain_alloc.stdout, "the program's stdout is unchanged")
    files, cmds = listed(p.stderr)
    here = sorted(os.path.join(d, f) for f in os.listdir(d))
    equal(files, here, "the trace written is listed (default name in the working directory)")
    check(all(re.fullmatch(r"gpuprof\.\d+\.gz", os.path.basename(f)) for f in files),
          f"default trace name gpuprof.PID.gz: {files}")
    equal(len(cmds), 1, "one report command")
    if cmds:
        equal(cmds[0][0], os.path.realpath(REPORT), "the report command is the build's gpuprof-report")
        r = subprocess.run(cmds[0] + ["--json"], capture_output=True, text=True)
        equal(r.returncode, 0, "the printed report command works")
        if r.returncode == 0:
            equal(json.loads(r.stdout)["memory"]["peak_reserved_bytes"], ALLOC_PATTERN_PEAK,
                  "report of the listed trace: device peak")

    p = launch(["run", "sh", "-c", "echo out; exit 3"], d)
    equal((p.returncode, p.stdout), (3, "out\n"), "exit status 3 and stdout")
    check("no trace file" in p.stderr, f"a run without CUDA says so: {p.stderr!r}")

    p = launch(["run", "--", "gpuprof-no-such-command-xyz"], d)
    equal(p.returncode, 127, "missing command: exit status 127")
    check("command not found" in p.stderr, f"missing command message: {p.stderr!r}")
    equal(p.stdout, "", "missing command: nothing on stdout")

    notexec = os.path.join(d, "not-executable")
    with open(notexec, "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod(notexec, 0o644)
    p = launch(["run", notexec], d)
    equal(p.returncode, 126, "command that cannot run: exit status 126")

# ---- death by a signal: forwarded, and the program's own -------------------------------------
with tempfile.TemporaryDirectory() as d:
    p = subprocess.Popen([LAUNCHER, "run", "-o", os.path.join(d, "hold.%p.gz"), "--",
                          sample("hold"), "60"], cwd=d, env=env({"GPUPROF_FLUSH_MS": "100"}),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    equal(p.stdout.readline(), "holding 3 x 33554432 bytes\n", "hold started under the launcher")
    time.sleep(0.6)  # several flush periods
    p.send_signal(signal.SIGTERM)  # to the launcher: it passes it on to the program
    out, err = p.communicate(timeout=60)
    equal(p.returncode, -signal.SIGTERM, "launcher killed by SIGTERM like the program")
    files, _ = listed(err)
    equal(len(files), 1, f"the killed program's trace is listed: {err!r}")
    if files:
        j = report_json(files[0])
        equal(j["memory"]["peak_reserved_bytes"], 3 * 32 * MIB, "killed program: memory in the trace")

    p = launch(["run", "sh", "-c", "kill -TERM $$"], d)
    equal(p.returncode, -signal.SIGTERM, "program killing itself with SIGTERM: launcher too")
    # Core files allowed: the program dumps core, the launcher (dying of the same signal) not.
    r = run("life_crash", command=[LAUNCHER, "run", os.path.join(LIFECYCLE, "life_crash"), "segv"],
            shim=False, core=True, workdir=d, env={"LD_PRELOAD": ":".join(PREFIX)} if PREFIX else None)
    equal(r.returncode, -signal.SIGSEGV, "program dying of SIGSEGV: launcher too")
    check(not r.core_dumped, "the launcher itself dumps no core")
    if core_files_possible():
        check(any(f.startswith("core") for f in os.listdir(d)), "the program's core file is there")

# ---- -o, --label, --depth; child processes; exec'd images; older files -----------------------
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "out", "custom.%p.gz")
    os.mkdir(os.path.join(d, "out"))
    old = os.path.join(d, "out", "custom.1.gz")
    open(old, "w").close()  # matches the template but is not this run's
    p = launch(["run", "-o", out, "--label", "batch=32 run", "--depth", "3", "--no-python-stacks",
                sample("alloc_pattern")], d)
    equal(p.returncode, 0, "options: exit status")
    files, _ = listed(p.stderr)
    equal(len(files), 1, f"options: one trace listed, not the older file: {files}")
    check(all(re.fullmatch(r"custom\.\d+\.gz", os.path.basename(f)) and f != old for f in files),
          f"options: -o names the trace: {files}")
    if files:
        j = report_json(files[0])
        equal(j["run"]["label"], "batch=32 run", "--label in the trace")
        equal(j["run"]["stack_depth"], 3, "--depth in the trace")
        sites = j["memory"]["top_sites_at_peak"]
        check(sites and all(len(s["frames"]) <= 3 for s in sites), "--depth: stacks of at most 3 frames")
        equal(site_functions(sites[0])[0] if sites else None, "site_alpha", "--depth: innermost frame kept")

    rel = launch(["run", "-o", "rel.%p.gz", "sh", "-c", f"cd / && exec {sample('alloc_pattern')}"], d)
    files, _ = listed(rel.stderr)
    equal([os.path.dirname(f) for f in files], [d], "a relative -o is taken from the launch directory")

    p = launch(["run", "-o", os.path.join(d, "kids.%p.gz"), "sh", "-c",
                f"{sample('alloc_pattern')} >/dev/null && {sample('hold')} 0"], d)
    equal(p.returncode, 0, "child processes: exit status")
    files, _ = listed(p.stderr)
    equal(len(files), 2, f"child processes: both traces listed: {files}")

    p = launch(["run", "-o", os.path.join(d, "chain.gz"), os.path.join(LIFECYCLE, "life_exec"), "chain"], d)
    files, _ = listed(p.stderr)
    equal([os.path.basename(f) for f in files], ["chain.gz", "chain.gz.1", "chain.gz.2"],
          "exec'd images: all three traces listed")

# ---- LD_PRELOAD: the shim first, what was there kept ----------------------------------------
with tempfile.TemporaryDirectory() as d:
    other = os.path.join(FAKE_DIR, "libcudart.so.13")
    p = launch(["run", "sh", "-c", 'echo "$LD_PRELOAD|$GPUPROF_OUTPUT"'], d,
               {"LD_PRELOAD": ":".join(PREFIX + [other])})
    shim = os.path.realpath(os.path.join(BUILD, "lib", "libgpuprof.so"))
    equal(p.stdout, ":".join(PREFIX + [shim, other]) + "|" + os.path.join(d, "gpuprof.%p.gz") + "\n",
          "LD_PRELOAD and GPUPROF_OUTPUT given to the program")

# ---- the installed tree ----------------------------------------------------------------------
cmake = shutil.which("cmake")
check(cmake is not None, "cmake is on PATH")
if cmake:
    with tempfile.TemporaryDirectory() as prefix, tempfile.TemporaryDirectory() as d:
        install_env = {k: v for k, v in os.environ.items() if k != "DESTDIR"}
        r = subprocess.run([cmake, "--install", BUILD, "--prefix", prefix], capture_output=True,
                           text=True, env=install_env)
        equal(r.returncode, 0, f"cmake --install (stderr: {r.stderr.strip()})")
        for f in ("bin/gpuprof", "bin/gpuprof-report", "lib/libgpuprof.so", "include/gpuprof.h"):
            check(os.path.isfile(os.path.join(prefix, f)), f"installed {f}")
        p = launch(["run", "-o", os.path.join(d, "inst.%p.gz"), sample("alloc_pattern")], d,
                   launcher=os.path.join(prefix, "bin", "gpuprof"))
        equal(p.returncode, 0, "installed launcher: exit status")
        equal(p.stdout, plain_alloc.stdout, "installed launcher: stdout unchanged")
        files, cmds = listed(p.stderr)
        equal(len(files), 1, f"installed launcher: trace listed ({p.stderr.strip()})")
        if cmds:
            equal(cmds[0][0], os.path.join(os.path.realpath(prefix), "bin", "gpuprof-report"),
                  "installed launcher names the installed report")
            r = subprocess.run(cmds[0] + ["--json"], capture_output=True, text=True)
            equal(r.returncode, 0, "installed gpuprof-report runs")
            if r.returncode == 0:
                equal(json.loads(r.stdout)["memory"]["peak_reserved_bytes"], ALLOC_PATTERN_PEAK,
                      "installed tree: device peak")
finish()
