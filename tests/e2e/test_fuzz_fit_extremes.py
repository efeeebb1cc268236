"""`gpuprof-report fit` and the --html job page on runs whose peaks are near 2^64 bytes (what a
hostile trace can claim), found by fuzz_report (docs/reliability.md "Fuzzing"). The line's
numbers are then beyond int64_t: they used to be converted from double unchecked, and
fixed + per_sample x batch multiplied in int64_t, all undefined behaviour (UBSan: "1.84467e+19
is outside the range of representable values"). Now they saturate at +-(2^63 - 1) and the
largest batch is computed so that the stated inequality still holds. Under the sanitizer build
(tools/check-sanitizers.sh) the old code fails here."""
import json
import os
import subprocess
import tempfile

from e2e import REPORT, SAMPLES, equal, finish

MAKER = os.path.join(os.path.dirname(os.path.abspath(SAMPLES)), "tests", "report",
                     "report_test_fit_trace")
TOTAL = str(80 << 30)
INT64_MAX = (1 << 63) - 1


def make(path, label, fixed, per, batch):
    m = subprocess.run([MAKER, path, label, str(fixed), str(per), str(batch), TOTAL],
                       capture_output=True, text=True, timeout=60)
    equal(m.returncode, 0, f"make {label}")


def rep(*args):
    return subprocess.run([REPORT, *args], capture_output=True, text=True, timeout=120)


with tempfile.TemporaryDirectory() as d:
    # Falling: 2^64 - 2^20 + 8 bytes at batch 8, 17 at batch 16.
    a, b = os.path.join(d, "a.gz"), os.path.join(d, "b.gz")
    make(a, "batch=8", (1 << 64) - (1 << 20), 1, 8)
    make(b, "batch=16", 1, 1, 16)
    p = rep("fit", "--json", a, b)
    equal((p.returncode, p.stderr), (0, ""), "falling: exit status and stderr")
    j = json.loads(p.stdout)
    equal((j["fixed_bytes"], j["per_sample_bytes"], j["max_batch"]),
          (INT64_MAX, -2305843009213562880, None), "falling: fixed saturated, no largest batch")
    equal([q["peak_bytes"] for q in j["points"]], [(1 << 64) - (1 << 20) + 8, 17],
          "falling: the peaks as read")
    p = rep("fit", a, b)
    equal(p.returncode, 0, "falling: text exit status")
    equal("Fixed memory:      8.00 EiB (9223372036854775807 bytes)" in p.stdout, True,
          "falling: text shows the saturated fixed memory")

    # Rising: 2 bytes at batch 1, 2^64 - 2^21 + 2 at batch 2: per sample saturates, fixed
    # saturates below zero, and the largest batch is 1 (batch 2 needs more than 2^64).
    c, e = os.path.join(d, "c.gz"), os.path.join(d, "e.gz")
    make(c, "batch=1", 1, 1, 1)
    make(e, "batch=2", (1 << 64) - (1 << 21), 1, 2)
    p = rep("fit", "--json", c, e)
    equal((p.returncode, p.stderr), (0, ""), "rising: exit status and stderr")
    j = json.loads(p.stdout)
    equal((j["fixed_bytes"], j["per_sample_bytes"], j["max_batch"]),
          (-INT64_MAX, INT64_MAX, 1), "rising: saturated line, largest batch 1")
    p = rep("fit", c, e)
    equal(p.returncode, 0, "rising: text exit status")
    equal("batch 2 would need\n                   16.00 EiB" in p.stdout, True,
          "rising: the next batch's need saturates")

    # The job page with the fit (its plot and numbers).
    page = os.path.join(d, "job.html")
    p = rep("--quiet", "--html", page, c, e)
    equal(p.returncode, 0, "job page exit status")
    with open(page, encoding="utf-8") as f:
        html = f.read()
    equal("Fixed memory</th><td>-8.00 EiB (-9223372036854775807 bytes)" in html, True,
          "job page shows the saturated fixed memory")

finish()
