"""8 threads x 10,000 cudaMalloc/cudaFree pairs: every event arrives, exact totals."""
from e2e import equal, finish, report_json, run_sample, site_functions

p, trace = run_sample("many_threads")
equal(p.returncode, 0, "exit status")
j = report_json(trace)
equal(j["trace"]["dropped_events"], 0, "dropped events")
ev = j["events"]
equal((ev["allocs"], ev["frees"], ev["failed_allocs"], ev["unknown_frees"]), (80000, 80000, 0, 0),
      "allocs, frees, failed, unknown frees")
equal(j["memory"]["leaked_bytes"], 0, "held at exit")
peak_sites = j["memory"]["top_sites_at_peak"]
equal({site_functions(s)[0] for s in peak_sites}, {"worker_alloc"}, "peak sites are worker_alloc")
check_bytes = sum(s["bytes"] for s in peak_sites)
equal(check_bytes, j["memory"]["peak_reserved_bytes"], "sites add up to the peak")
finish()
