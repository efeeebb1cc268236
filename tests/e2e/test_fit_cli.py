"""gpuprof-report's command line around the fit: --help shows the fit mode with examples and
its options, --range NAME is parsed (a usage error with --from/--to or an empty name),
--quiet is accepted and changes nothing on stdout, and fit's input errors name the file."""
import os
import subprocess
import tempfile

from e2e import REPORT, SAMPLES, check, equal, finish

MAKER = os.path.join(os.path.dirname(os.path.abspath(SAMPLES)), "tests", "report",
                     "report_test_fit_trace")


def rep(*args):
    return subprocess.run([REPORT, *args], capture_output=True, text=True, timeout=120)


def usage_error(p, what, message):
    equal(p.returncode, 2, f"{what}: exit status")
    equal(p.stdout, "", f"{what}: nothing on stdout")
    equal(p.stderr, f"gpuprof-report: {message}\nTry 'gpuprof-report --help' for more information.\n",
          f"{what}: the message")


p = rep("--help")
equal(p.returncode, 0, "--help exit status")
for want in ("gpuprof-report fit [fit options] TRACE TRACE [TRACE...]",
             "largest batch that fits     gpuprof-report fit b8.gz b16.gz b32.gz",
             "  --range NAME  the window of --plot-timeline and --perfetto: the last complete NVTX",
             "  --quiet       no progress on stderr",
             "  --batch N,N,...", "  --headroom F", "  --device-total BYTES"):
    check(want in p.stdout, f"--help shows {want!r}")
equal(rep("fit", "--help").stdout, p.stdout, "fit --help is the same help")

with tempfile.TemporaryDirectory() as d:
    trace = os.path.join(d, "t.gz")
    m = subprocess.run([MAKER, trace, "batch=8", "1048576", "4096", "8", "1073741824"],
                       capture_output=True, text=True, timeout=60)
    equal(m.returncode, 0, "make the trace")

    usage_error(rep("--range", "step", "--from", "1", trace), "--range with --from",
                "--range cannot be combined with --from or --to")
    usage_error(rep("--to", "3", "--range", "step", trace), "--range with --to",
                "--range cannot be combined with --from or --to")
    usage_error(rep("--range", "", trace), "--range ''", "--range needs the name of an NVTX range")
    usage_error(rep(trace, "--range"), "--range without a name", "missing value for '--range'")

    plain = rep(trace)
    equal(plain.returncode, 0, "plain report exit status")
    quiet = rep("--quiet", trace)
    equal((quiet.returncode, quiet.stdout, quiet.stderr), (0, plain.stdout, ""),
          "--quiet: same report, nothing on stderr")
    equal(rep("--range", "step", trace).stdout, plain.stdout, "--range alone leaves the text as it is")

    missing = os.path.join(d, "missing.gz")
    p = rep("fit", "--quiet", trace, missing)
    equal((p.returncode, p.stdout, p.stderr),
          (1, "", f"gpuprof-report: fit: {missing}: No such file or directory\n"),
          "fit: a missing trace is named")
    p = rep("fit", trace, d)
    equal((p.returncode, p.stderr), (1, f"gpuprof-report: fit: {d}: is a directory, not a trace file\n"),
          "fit: a directory is refused")
    usage_error(rep("fit", "--json"), "fit without traces",
                "fit needs two or more traces (runs at different batch sizes)")
    usage_error(rep("fit", "--batch", "8,16,32", trace, trace), "fit --batch of the wrong length",
                "--batch gives 3 sizes for 2 traces; give one per trace, in order")

finish()
