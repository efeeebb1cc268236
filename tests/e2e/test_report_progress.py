"""gpuprof-report's progress line goes to stderr only when stderr is a terminal, and never with
--quiet; a short read (under a second) prints none either. stdout is the same in every case."""
import os
import pty
import subprocess

from e2e import REPORT, equal, finish, run_sample

_, trace = run_sample("alloc_pattern", env={"GPUPROF_KERNELS": "0"})


def run(args, tty):
    """(stdout, stderr) of gpuprof-report, stderr on a pseudo-terminal when tty."""
    if not tty:
        r = subprocess.run([REPORT] + args, capture_output=True)
        return r.stdout, r.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen([REPORT] + args, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out = p.stdout.read()
    p.wait()
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    return out, err


plain_out, plain_err = run([trace], tty=False)
equal(plain_err, b"", "no progress when stderr is not a terminal")
out, err = run(["--quiet", trace], tty=True)
equal((out, err), (plain_out, b""), "--quiet on a terminal: nothing on stderr")
out, err = run([trace], tty=True)
equal((out, err), (plain_out, b""), "a read under a second shows no progress")
finish()
