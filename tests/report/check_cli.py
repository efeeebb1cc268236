#!/usr/bin/env python3
"""check_cli.py — gpuprof-report's command line, run as a user would: exact one-line
errors and exit status 1 for bad input, exit status 2 for usage errors, --help and
--version, truncated traces reported with a warning, and --plot: the image is made,
hostile strings from the trace never reach gnuplot, and a missing gnuplot is one error
line.

usage: check_cli.py GPUPROF_REPORT MAKE_TRACE WORKDIR HAVE_LIBDW
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

REPORT, MAKE_TRACE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args, env=None, timeout=60):
    return subprocess.run([REPORT] + args, capture_output=True, timeout=timeout, env=env)


def make(kind, out, *extra):
    subprocess.run([MAKE_TRACE, kind, out] + list(extra), check=True)
    return out


def bad_input(path, reason_re):
    """One stderr line 'gpuprof-report: PATH: reason', nothing on stdout, exit 1."""
    for args in ([path], ["--json", path], ["--plot", os.path.join(WORK, "never.png"), path]):
        r = run(args)
        err = r.stderr.decode("utf-8", "replace")
        check(r.returncode == 1, f"{args}: exit {r.returncode}, want 1")
        check(r.stdout == b"", f"{args}: stdout not empty")
        check(err.count("\n") == 1 and err.endswith("\n"), f"{args}: want one stderr line, got {err!r}")
        prefix = f"gpuprof-report: {path}: "
        check(err.startswith(prefix), f"{args}: {err!r} does not start with {prefix!r}")
        check(re.fullmatch(reason_re, err[len(prefix):].rstrip("\n")) is not None,
              f"{args}: reason {err!r} does not match {reason_re!r}")
    check(not os.path.exists(os.path.join(WORK, "never.png")), "a plot was written for bad input")


def usage_error(args):
    r = run(args)
    err = r.stderr.decode()
    check(r.returncode == 2, f"{args}: exit {r.returncode}, want 2")
    check(r.stdout == b"", f"{args}: stdout not empty")
    check(err.startswith("gpuprof-report: ") and "--help" in err, f"{args}: stderr {err!r}")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    basic = make("basic", os.path.join(WORK, "basic.gz"))
    raw = gzip.decompress(open(basic, "rb").read())

    # ---- bad input -------------------------------------------------------------------
    def write(name, data):
        p = os.path.join(WORK, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    bad_input(os.path.join(WORK, "does-not-exist.gz"), r"No such file or directory")
    bad_input(WORK, r"is a directory, not a trace file")
    bad_input(write("empty.gz", b""), r"empty file, not a trace")
    bad_input(write("text.txt", b"just some text\n"), r"not a gzip file")
    bad_input(write("other.gz", gzip.compress(b"some other gzip content, long enough")),
              r"not a gpuprof trace.*")
    # the version right after the magic, one newer than this reader
    bad_input(write("newer.gz", gzip.compress(raw[:8] + bytes([raw[8] + 1]) + raw[9:])),
              r".*version 2 is newer.*")
    half = len(raw) // 2
    bad_input(write("corrupt.gz", gzip.compress(raw[:half] + b"\xff" * 64 + raw[half + 64:])),
              r"corrupt trace.*")
    zipped = open(basic, "rb").read()
    bad_input(write("damaged.gz", zipped[:60] + bytes([zipped[60] ^ 0xFF]) + zipped[61:]),
              r"corrupt trace.*")
    fifo = os.path.join(WORK, "fifo")
    os.mkfifo(fifo)
    bad_input(fifo, r"not a regular file")

    # ---- usage ------------------------------------------------------------------------
    usage_error([])
    usage_error(["--bogus", basic])
    usage_error(["-x", basic])
    usage_error(["--top", "0", basic])
    usage_error(["--top", "ten", basic])
    usage_error(["--top", "-1", basic])
    usage_error(["--top", "100001", basic])
    usage_error(["--plot", os.path.join(WORK, "p.pdf"), basic])
    usage_error([basic, basic])
    usage_error([basic, "--plot"])

    r = run(["--help"])
    out = r.stdout.decode()
    check(r.returncode == 0, "--help exit")
    for word in ("--json", "--plot", "--top", "--help", "--version", "gpuprof-report --json",
                 "gpuprof-report --plot memory.png"):
        check(word in out, f"--help lacks {word!r}")
    r = run(["--version"])
    check(r.returncode == 0 and r.stdout.decode().startswith("gpuprof-report "), "--version")

    # ---- good input, text -------------------------------------------------------------
    r = run(["--top", "1", basic])
    out = r.stdout.decode()
    check(r.returncode == 0 and r.stderr == b"", f"text: exit {r.returncode} {r.stderr!r}")
    check("Peak device memory reserved: 4.00 MiB (4194304 bytes) at 0.000002 s" in out, "text peak")
    check("(1 of 2)" in out and "... 1 more sites" in out, "text --top 1")
    check("WARNING: 4 events were dropped" in out, "text dropped warning")
    check("Out-of-memory events: 1" in out, "text OOM")

    truncated = make("truncated", os.path.join(WORK, "truncated.gz"))
    r = run([truncated])
    err = r.stderr.decode()
    check(r.returncode == 0, "truncated: exit status")
    check(err == f"gpuprof-report: {truncated}: warning: the trace is truncated; reporting what was read\n",
          f"truncated: stderr {err!r}")
    check("WARNING: the trace is truncated" in r.stdout.decode(), "truncated: text warning")

    # ---- plots --------------------------------------------------------------------------
    marker = os.path.join(WORK, "pwned")
    evil = make("evil", os.path.join(WORK, "evil.gz"), marker)
    pwned_before = os.path.exists("/tmp/pwned")
    have_gnuplot = shutil.which("gnuplot") is not None
    png = os.path.join(WORK, "it's \"quoted\"; $(x).png")
    svg = os.path.join(WORK, "memory.svg")
    # A private TMPDIR shows whether the temporary plot directory is cleaned up.
    tmp = os.path.join(WORK, "tmp")
    os.makedirs(tmp)
    tmp_env = dict(os.environ, TMPDIR=tmp)
    r = run(["--plot", png, evil], env=tmp_env)
    check(not os.path.exists(marker), "the trace's string was executed")
    check(pwned_before or not os.path.exists("/tmp/pwned"), "/tmp/pwned was created")
    if have_gnuplot:
        check(r.returncode == 0, f"plot: exit {r.returncode}: {r.stderr!r}")
        check(os.path.exists(png) and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "plot: PNG written")
        r = run(["--json", "--plot", svg, basic], env=tmp_env)
        check(r.returncode == 0, f"svg plot: exit {r.returncode}: {r.stderr!r}")
        check(os.path.exists(svg) and b"<svg" in open(svg, "rb").read(), "plot: SVG written")
        json.loads(r.stdout)  # JSON and a plot together
        r = run(["--plot", os.path.join(WORK, "no-such-dir", "x.png"), basic], env=tmp_env)
        err = r.stderr.decode()
        check(r.returncode == 1 and err.count("\n") == 1 and "No such file or directory" in err,
              f"plot to a missing directory: {r.returncode} {err!r}")
    check(os.listdir(tmp) == [], f"temporary plot files left: {os.listdir(tmp)}")

    env = dict(os.environ, PATH=os.path.join(WORK, "empty-path"))
    r = run(["--plot", os.path.join(WORK, "nognuplot.png"), basic], env=env)
    check(r.returncode == 1, f"no gnuplot: exit {r.returncode}")
    check(r.stderr == b"gpuprof-report: gnuplot not found; install gnuplot to use --plot\n",
          f"no gnuplot: stderr {r.stderr!r}")
    check(not os.path.exists(os.path.join(WORK, "nognuplot.png")), "no gnuplot: file written")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all command-line checks passed")
    return 0


sys.exit(main())
