"""lifecycle_util.py — helpers shared by the process-lifecycle tests (test_lifecycle_*.py)
and the launcher test: run a program from tests/lifecycle (or samples/) with or without
libgpuprof.so, keeping the raw wait status (core dump bit included), and the trace files
it wrote in their natural order (NAME.gz, NAME.gz.1, NAME.gz.2, ...)."""
import glob
import os
import re
import resource
import subprocess
import tempfile
import time

import e2e
from e2e import SAMPLES, SHIM, base_env, equal

LIFECYCLE = os.path.join(os.path.dirname(os.path.abspath(SAMPLES)), "lifecycle")
BUILD = os.path.dirname(os.path.dirname(os.path.abspath(SHIM)))  # the shim is <build>/lib/
LAUNCHER = os.path.join(BUILD, "bin", "gpuprof")
MIB = 1 << 20


def preload(value):
    """LD_PRELOAD text, with a sanitizer runtime first when the test environment asks."""
    fn = getattr(e2e, "preload_value", None)
    return fn(value) if fn else value


def trace_order(path):
    """NAME.gz before NAME.gz.1 before NAME.gz.2 ... before NAME.gz.10."""
    m = re.match(r"^(.*\.gz)(?:\.(\d+))?$", path)
    return (m.group(1), int(m.group(2) or 0)) if m else (path, 0)


def traces_in(workdir, prefix):
    return sorted(glob.glob(os.path.join(workdir, prefix + "*")), key=trace_order)


class Result:
    def __init__(self, pid, status, stdout, stderr, traces, workdir):
        self.pid = pid
        self.status = status
        self.returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        self.core_dumped = os.WCOREDUMP(status)
        self.stdout = stdout
        self.stderr = stderr
        self.traces = traces
        self.workdir = workdir


def core_files_possible():
    """Core files go to the working directory (not to a crash-report pipe)."""
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            return not f.read().startswith("|")
    except OSError:
        return False


def run(prog, args=(), shim=True, env=None, workdir=None, core=False, timeout=120,
        directory=LIFECYCLE, command=None):
    """Runs directory/prog (or command) on the CUDA stand-ins, with libgpuprof.so preloaded
    when shim is true (traces: workdir/prog.%p.gz). core: allow a core file."""
    workdir = workdir or tempfile.mkdtemp(prefix="gpuprof-life-")
    extra = dict(env or {})
    if shim:
        extra.setdefault("LD_PRELOAD", preload(SHIM))
        extra.setdefault("GPUPROF_OUTPUT", os.path.join(workdir, prog + ".%p.gz"))
    e = base_env(extra)
    limit = resource.RLIM_INFINITY if core else 0

    def set_core_limit():
        resource.setrlimit(resource.RLIMIT_CORE, (limit, resource.getrlimit(resource.RLIMIT_CORE)[1]))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(command or [os.path.join(directory, prog), *args], env=e, cwd=workdir,
                             stdout=out, stderr=err, preexec_fn=set_core_limit)
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.waitpid(p.pid, 0)
                raise TimeoutError(f"{prog} {' '.join(args)} did not finish in {timeout} s")
            time.sleep(0.01)
        p.returncode = 0  # reaped here: keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    return Result(p.pid, status, stdout, stderr, traces_in(workdir, prog + "."), workdir)


def same_as_plain(traced, plain, what):
    """The program behaves exactly as without the shim: exit status and stdout."""
    equal(traced.returncode, plain.returncode, f"{what}: exit status under the shim")
    equal(traced.stdout, plain.stdout, f"{what}: stdout under the shim")
