"""samples/own_runtime with libworkspace.so (a library with a static CUDA runtime, reaching the
driver only through dlopen + cuGetProcAddress_v2) under libgpuprof.so: the workspace is seen
and charged to libworkspace.so, exactly as documented at the top of samples/own_runtime.c."""
import os

from e2e import check, equal, finish, report_json, run_sample, site_functions, unchanged

plain, _ = run_sample("own_runtime", preload=False)
traced, trace = run_sample("own_runtime")
unchanged(plain, traced, "own_runtime")
check(trace is not None, "a trace file was written")

j = report_json(trace)
mem = j["memory"]
MIB = 1 << 20
equal(mem["peak_reserved_bytes"], 40 * MIB, "device peak")
equal([(site_functions(s)[0], s["bytes"], s["count"]) for s in mem["top_sites_at_peak"]],
      [("workspace_alloc", 32 * MIB, 1), ("site_main_alloc", 8 * MIB, 1)], "sites at the peak")
equal([(os.path.basename(l["library"]), l["bytes"], l["count"]) for l in mem["libraries_at_peak"]],
      [("libworkspace.so", 32 * MIB, 1), ("own_runtime", 8 * MIB, 1)], "libraries at the peak")
equal(mem["leaked_bytes"], 0, "device bytes held at exit")
equal(j["events"]["allocs"], 2, "one cudaMalloc, one cuMemAlloc_v2 (the runtime's own not twice)")
equal(j["events"]["frees"], 2, "frees")
finish()
