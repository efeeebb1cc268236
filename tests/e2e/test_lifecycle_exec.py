"""exec from a traced program (tests/lifecycle/life_exec.c). A chain of three images with one
pid leaves three complete traces (END), each with its own peak; exec calls that fail leave
the program running exactly as without the shim (same return values, same errno) and its
memory still traced, in a new trace file after each failure."""
from e2e import check, equal, finish, report_json, site_functions
from lifecycle_util import MIB, run, same_as_plain

# ---- a chain of images: execv, then execle ----------------------------------------------
plain = run("life_exec", ["chain"], shim=False)
traced = run("life_exec", ["chain"])
same_as_plain(traced, plain, "chain")
equal(traced.stdout, "".join(f"life_exec: generation {g} peak {(g + 1) * MIB} bytes\n"
                             for g in range(3)), "chain: stdout")
equal(traced.stderr, "", "chain: nothing on stderr")
equal([t.rsplit("/", 1)[1] for t in traced.traces],
      [f"life_exec.{traced.pid}.gz", f"life_exec.{traced.pid}.gz.1", f"life_exec.{traced.pid}.gz.2"],
      "chain: one trace per image, same pid")
for gen, trace in enumerate(traced.traces):
    j = report_json(trace)
    what = f"chain generation {gen}"
    equal(j["trace"]["truncated"], False, f"{what}: trace complete (END)")
    equal(j["trace"]["dropped_events"], 0, f"{what}: dropped events")
    equal(j["run"]["pid"], traced.pid, f"{what}: pid")
    want_cmd = "life_exec chain" + (f" {gen}" if gen else "")
    check(j["run"]["cmdline"].endswith(want_cmd), f"{what}: cmdline {j['run']['cmdline']!r}")
    equal((j["events"]["allocs"], j["events"]["frees"]), (gen + 1, gen + 1), f"{what}: allocs, frees")
    equal(j["memory"]["peak_reserved_bytes"], (gen + 1) * MIB, f"{what}: device peak")
    equal([(site_functions(s)[0], s["count"]) for s in j["memory"]["top_sites_at_peak"]],
          [("gen_site", gen + 1)], f"{what}: site at the peak")
    equal(j["memory"]["leaked_bytes"], 0, f"{what}: held at exit")

# ---- every exec form, failing -------------------------------------------------------------
plain = run("life_exec", ["fail"], shim=False)
traced = run("life_exec", ["fail"])
same_as_plain(traced, plain, "fail")
forms = [("execv", "ENOENT"), ("execvp", "ENOENT"), ("execve", "ENOENT"), ("execlp", "ENOENT"),
         ("execvpe", "ENOENT"), ("execl", "EACCES"), ("execle", "EACCES")]
equal(traced.stdout, "".join(f"life_exec: {f} returned -1, errno {e}\n" for f, e in forms) +
      "life_exec: fail done\n", "fail: return values and errno of the failed execs")
equal(traced.stderr, "", "fail: nothing on stderr")
equal(len(traced.traces), 8, "fail: a new trace after each failed exec")
start = 0
for i, trace in enumerate(traced.traces):
    j = report_json(trace)
    what = f"fail step {i}"
    last = i == len(traced.traces) - 1
    equal(j["trace"]["truncated"], False, f"{what}: trace complete (END)")
    equal(j["trace"]["dropped_events"], 0, f"{what}: dropped events")
    equal(j["events"]["allocs"], 1, f"{what}: allocations")
    equal(j["memory"]["peak_reserved_bytes"], (i + 1) * MIB, f"{what}: device peak")
    equal([(site_functions(s)[0], s["count"]) for s in j["memory"]["top_sites_at_peak"]],
          [("step_site", 1)], f"{what}: site at the peak")
    # the last trace sees all eight frees, seven of them of blocks taken in earlier traces
    equal((j["events"]["frees"], j["events"]["unknown_frees"]), (8, 7) if last else (0, 0),
          f"{what}: frees, unknown frees")
    equal(j["memory"]["leaked_bytes"], 0 if last else (i + 1) * MIB, f"{what}: held at its end")
    check(j["run"]["start_realtime_ns"] > start, f"{what}: starts after the previous trace")
    start = j["run"]["start_realtime_ns"]
finish()
