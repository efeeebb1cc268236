"""Threads and the end of a traced process (tests/lifecycle/life_threads.c): exit() called by
one thread while the main thread is still allocating ends with a complete trace; _exit()
from a thread (no atexit handler runs) leaves a trace readable up to the last flush, marked
truncated; 32 threads allocating together give exact totals. The program's output and exit
status are the same as without the shim."""
from e2e import check, equal, finish, report_json, site_functions
from lifecycle_util import MIB, run, same_as_plain

FAST_FLUSH = {"GPUPROF_FLUSH_MS": "100"}

# ---- exit() from a thread, the main thread allocating --------------------------------------
plain = run("life_threads", ["exit"], shim=False)
traced = run("life_threads", ["exit"])
same_as_plain(traced, plain, "exit")
equal(traced.returncode, 5, "exit: exit status")
equal(traced.stderr, "", "exit: nothing on stderr")
j = report_json(traced.traces[-1])
ev = j["events"]
equal(j["trace"]["truncated"], False, "exit: trace complete (END)")
equal(j["trace"]["dropped_events"], 0, "exit: dropped events")
check(ev["allocs"] >= 2001, f"exit: the 2000 pairs before exit() are in the trace ({ev['allocs']})")
# at most one churn block is between its cudaMalloc and its cudaFree when tracing stops
check(ev["allocs"] - ev["frees"] in (1, 2), f"exit: allocs {ev['allocs']}, frees {ev['frees']}")
check(j["memory"]["leaked_bytes"] in (MIB, MIB + 4096), f"exit: held {j['memory']['leaked_bytes']}")
equal(ev["failed_allocs"], 0, "exit: failed allocations")

# ---- _exit() from a thread: no atexit handler, no END ----------------------------------------
plain = run("life_threads", ["_exit"], shim=False)
traced = run("life_threads", ["_exit"], env=FAST_FLUSH)
same_as_plain(traced, plain, "_exit")
equal(traced.returncode, 6, "_exit: exit status")
j = report_json(traced.traces[-1])
equal(j["trace"]["truncated"], True, "_exit: trace marked truncated")
check(j["events"]["allocs"] >= 2001, f"_exit: pairs flushed before _exit ({j['events']['allocs']})")
check(any(site_functions(s)[0] == "main_site" for s in j["memory"]["leaked_sites"]),
      "_exit: main_site's block is in the trace")

# ---- 32 threads: exact totals ----------------------------------------------------------------
# A queue that holds every event (32,064 slots): exact totals must not depend on the writer
# getting a core on a loaded machine (drops under overload are test_many_threads' subject).
plain = run("life_threads", ["many"], shim=False)
traced = run("life_threads", ["many"], env={"GPUPROF_BUFFER": "64M"})
same_as_plain(traced, plain, "many")
equal(traced.stdout, "life_threads: 32 threads done, 0 failures\n", "many: stdout")
j = report_json(traced.traces[-1])
ev = j["events"]
equal(j["trace"]["dropped_events"], 0, "many: dropped events")
equal(j["trace"]["truncated"], False, "many: trace complete")
equal((ev["allocs"], ev["frees"], ev["failed_allocs"], ev["unknown_frees"]), (16032, 16032, 0, 0),
      "many: allocs, frees, failed, unknown frees")
equal(j["memory"]["peak_reserved_bytes"], 8192 * sum(range(1, 33)), "many: device peak")
equal([(site_functions(s)[0], s["bytes"], s["count"]) for s in j["memory"]["top_sites_at_peak"]],
      [("held_site", 8192 * sum(range(1, 33)), 32)], "many: the site at the peak")
equal(j["memory"]["leaked_bytes"], 0, "many: held at exit")
finish()
