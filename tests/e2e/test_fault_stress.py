"""The shim under load: a 10,000-frame-deep call stack, 64 threads allocating and freeing as
fast as they can for 10 seconds (exact totals, nothing dropped), and 50 million events with
the shim's memory bounded (tests/faults/fault_stress.c)."""
import re

from e2e import check, equal, finish, report_json, run_fault, site_functions, unchanged

SETTINGS = {"GPUPROF_KERNELS": "0"}

# 10,000 frames: the program runs as without the shim; the stack is cut at GPUPROF_DEPTH.
plain, _ = run_fault("fault_stress", ["deep", "10000"], preload=False)
traced, trace = run_fault("fault_stress", ["deep", "10000"], env=SETTINGS)
unchanged(plain, traced, "deep")
j = report_json(trace)
site = j["memory"]["top_sites_at_peak"][0]
equal(j["memory"]["peak_reserved_bytes"], 1 << 20, "deep: the allocation")
equal(len(site["frames"]), 64, "deep: stack cut at the default depth")
equal(site_functions(site)[:3], ["deep_site", "deep_frame", "deep_frame"], "deep: innermost frames")

# 64 threads for 10 s on however few cores: every pair is in the trace.
traced, trace = run_fault("fault_stress", ["threads", "64", "10"], env=SETTINGS, timeout=120)
equal(traced.returncode, 0, "threads: exit status")
m = re.match(r"threads 64 pairs (\d+)$", traced.stdout.strip())
check(m is not None, f"threads: output {traced.stdout!r}")
pairs = int(m.group(1)) if m else -1
j = report_json(trace)
ev = j["events"]
equal((ev["allocs"], ev["frees"], ev["unknown_frees"], j["trace"]["dropped_events"]),
      (pairs, pairs, 0, 0), "threads: exact totals, nothing dropped")
equal(j["memory"]["leaked_bytes"], 0, "threads: nothing held at exit")

# 50 million events: the process's peak RSS grows by less than 16 MiB after the first million.
traced, trace = run_fault("fault_stress", ["long", "25000000"], env=SETTINGS, timeout=600)
equal(traced.returncode, 0, "long: exit status")
m = re.match(r"long 25000000 rss_growth_kib (-?\d+)$", traced.stdout.strip())
check(m is not None, f"long: output {traced.stdout!r}")
if m:
    check(int(m.group(1)) < 16 * 1024, f"long: peak RSS growth {m.group(1)} KiB, bound 16384 KiB")
j = report_json(trace)
equal((j["events"]["allocs"], j["events"]["frees"]), (25000000, 25000000), "long: every event")
finish()
