"""samples/alloc_pattern under libgpuprof.so: the program's behaviour is unchanged and the
report's numbers are exactly the ones documented at the top of samples/alloc_pattern.c."""
import os
import subprocess
import tempfile

from e2e import check, equal, finish, report, report_json, run_sample, site_functions

plain, none = run_sample("alloc_pattern", preload=False)
equal(none, None, "trace written without the shim")
traced, trace = run_sample("alloc_pattern")
equal(traced.returncode, plain.returncode, "exit status under the shim")
equal(traced.stdout, plain.stdout, "stdout under the shim")
equal(traced.stderr, "", "stderr under the shim")
check(trace is not None, "a trace file was written")

j = report_json(trace)
mem = j["memory"]
# pitch block recorded as pitch*height = 102,400 bytes
equal(mem["peak_reserved_bytes"], 118591488, "device peak")
sites = [(site_functions(s)[0], s["bytes"], s["count"]) for s in mem["top_sites_at_peak"]]
equal(sites, [("site_alpha", 67108864, 1), ("site_beta", 50331648, 3),
              ("site_leaky", 1048576, 1), ("site_pitch", 102400, 1)], "sites at the peak")
alpha = mem["top_sites_at_peak"][0]["frames"][0]
check(alpha["file"].endswith("samples/alloc_pattern.c"), f"site_alpha file: {alpha['file']}")
check(alpha["line"] > 0, "site_alpha has a line number")
check(alpha["module"].endswith("alloc_pattern"), f"site_alpha module: {alpha['module']}")
check("main" in site_functions(mem["top_sites_at_peak"][0]), "main is on site_alpha's stack")
pools = mem["pools"]
# site_gamma's 8 MiB cudaMallocAsync: the stand-in's pool reserves whole 2 MiB chunks and
# keeps them after the free (an infinite release threshold), as CUDA's default pool may.
equal((pools["count"], pools["peak_reserved_bytes"], pools["reserved_at_exit_bytes"]),
      (1, 8388608, 8388608), "stream-ordered pool: count, reserved peak, reserved at exit")
libs = [(os.path.basename(l["library"]), l["bytes"], l["count"]) for l in mem["libraries_at_peak"]]
equal(libs, [("alloc_pattern", 118591488, 6)], "memory at the peak by library")
equal(mem["leaked_bytes"], 1048576, "device bytes held at exit")
equal([(site_functions(s)[0], s["bytes"], s["count"]) for s in mem["leaked_sites"]],
      [("site_leaky", 1048576, 1)], "sites holding memory at exit")
equal(j["oom"], [], "OOM events")
equal((j["events"]["runtime_allocs"], j["events"]["driver_allocs"], j["events"]["driver_only"]),
      (9, 0, False), "allocations by layer (the runtime's own cuMemAlloc_v2 calls are not counted twice)")
equal(j["trace"]["truncated"], False, "trace truncated")
equal(j["trace"]["dropped_events"], 0, "dropped events")
equal(j["run"]["label"], "", "label")
check(j["run"]["cmdline"].endswith("alloc_pattern"), f"cmdline: {j['run']['cmdline']}")

text = report(trace).stdout
for needle in ("site_alpha", "site_beta", "site_leaky", "alloc_pattern.c:"):
    check(needle in text, f"text report mentions {needle}")

with tempfile.TemporaryDirectory() as d:
    png = os.path.join(d, "memory.png")
    report(trace, "--plot", png)
    with open(png, "rb") as f:
        equal(f.read(8), b"\x89PNG\r\n\x1a\n", "PNG signature of --plot output")
    svg = os.path.join(d, "memory.svg")
    report(trace, "--plot", svg)
    with open(svg) as f:
        check("<svg" in f.read(), "--plot .svg writes SVG")
finish()
