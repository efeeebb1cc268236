#!/usr/bin/env python3
"""check_json.py — the --json summary parses with Python's json module and holds the
documented fields (docs/json-schema.md) with exact values for a known trace; hostile
strings come through escaped; a -g program's static function is symbolized; a
truncated trace says so.

usage: check_json.py GPUPROF_REPORT MAKE_TRACE WORKDIR HAVE_LIBDW
"""
import json
import os
import shutil
import subprocess
import sys

REPORT, MAKE_TRACE, WORK, HAVE_LIBDW = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
MiB = 1 << 20
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def report_json(kind, *extra, args=()):
    path = os.path.join(WORK, kind + ".gz")
    subprocess.run([MAKE_TRACE, kind, path] + list(extra), check=True)
    r = subprocess.run([REPORT, "--json", *args, path], capture_output=True, timeout=60)
    check(r.returncode == 0, f"{kind}: exit {r.returncode}: {r.stderr!r}")
    # strict: the output must be valid JSON as bytes, not just after lenient decoding
    return json.loads(r.stdout.decode("utf-8", "strict")), r


def site(s):
    return (s["bytes"], s["count"], s["frames"][0]["offset"] if s["frames"] else None)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)

    doc, _ = report_json("basic")
    eq(doc["schema_version"], 1, "schema_version")
    run = doc["run"]
    for k, v in {"pid": 4242, "ppid": 1, "host": "testhost", "exe": "/usr/bin/testprog",
                 "cmdline": "testprog --epochs 3", "label": "unit",
                 "start_realtime_ns": 1700000000000000000, "duration_ns": 4000}.items():
        eq(run[k], v, f"run.{k}")
    ev = doc["events"]
    for k, v in {"allocs": 5, "frees": 2, "failed_allocs": 1, "unknown_frees": 1, "oom": 1}.items():
        eq(ev[k], v, f"events.{k}")
    eq(ev["allocs_by_kind"], {"device": 3, "managed": 1, "pinned_host": 1, "physical": 0,
                              "address_range": 0, "mapping": 0}, "events.allocs_by_kind")

    mem = doc["memory"]
    eq(mem["peak_reserved_bytes"], 4 * MiB, "memory.peak_reserved_bytes")
    eq(mem["peak_time_ns"], 2000, "memory.peak_time_ns")
    # site offsets are the innermost ip minus the module's load bias
    eq([site(s) for s in mem["top_sites_at_peak"]], [(3 * MiB, 1, 0x1000), (1 * MiB, 1, 0x1100)],
       "memory.top_sites_at_peak")
    f0 = mem["top_sites_at_peak"][0]["frames"][0]
    eq(sorted(f0), ["file", "function", "ip", "line", "module", "offset"], "frame keys")
    eq((f0["function"], f0["file"], f0["line"], f0["module"]), ("??", None, 0, "/opt/app/libmodel.so"),
       "unresolved frame")
    eq(len(mem["top_sites_at_peak"][0]["frames"]), 3, "frames per stack")
    eq(mem["leaked_bytes"], MiB + MiB // 2, "memory.leaked_bytes")
    eq([site(s) for s in mem["leaked_sites"]], [(MiB, 1, 0x1100), (MiB // 2, 1, 0x1000)], "memory.leaked_sites")
    eq(mem["device_total_bytes"], 6 * MiB, "memory.device_total_bytes")
    bk = mem["by_kind"]
    eq((bk["device"]["peak_bytes"], bk["managed"]["peak_bytes"], bk["pinned_host"]["peak_bytes"]),
       (4 * MiB, 5 * MiB, 2 * MiB), "per-kind peaks")
    eq((bk["managed"]["leaked_bytes"], bk["pinned_host"]["leaked_bytes"]), (5 * MiB, 2 * MiB), "per-kind leaks")

    eq(len(doc["oom"]), 1, "oom count")
    oom = doc["oom"][0]
    for k, v in {"time_ns": 2500, "api": "cudaMalloc", "requested_bytes": 8 * MiB, "live_bytes": 4 * MiB,
                 "device_free_bytes": 2 * MiB, "device_total_bytes": 6 * MiB}.items():
        eq(oom[k], v, f"oom.{k}")
    eq([site(s) for s in oom["top_sites"]], [(3 * MiB, 1, 0x1000), (MiB, 1, 0x1100)], "oom.top_sites")
    eq(doc["oom_total"], 1, "oom_total")

    tr = doc["trace"]
    eq(tr["truncated"], False, "trace.truncated")
    eq(tr["dropped_events"], 4, "trace.dropped_events")
    eq(tr["lost_bytes"], 0, "trace.lost_bytes")
    check(tr["records"] > 10, "trace.records")

    doc, _ = report_json("basic", args=("--top", "1"))
    eq(len(doc["memory"]["top_sites_at_peak"]), 1, "--top 1")
    eq(doc["memory"]["sites_at_peak"], 2, "sites_at_peak with --top 1")

    # hostile strings: valid JSON, and they round-trip (invalid UTF-8 as U+FFFD)
    marker = os.path.join(WORK, "pwned")
    doc, _ = report_json("evil", marker)
    payload = f"'; system(\"touch {marker}\")"
    eq(doc["run"]["exe"], payload, "evil exe")
    label = doc["run"]["label"]
    check(label.startswith(payload + "\n\"quoted\" \\ \x01\x1b[2J "), f"evil label start {label!r}")
    check("\ufffd\ufffd" in label and "café" in label, f"evil label replacement {label!r}")
    eq(doc["run"]["host"], "host\"'`$(touch /tmp/pwned)`", "evil host")
    eq(doc["memory"]["top_sites_at_peak"][0]["frames"][0]["module"], payload, "evil module path")

    # a static function of a -g program, by name and file
    doc, _ = report_json("symbols")
    fr = doc["memory"]["top_sites_at_peak"][0]["frames"][0]
    if HAVE_LIBDW:
        eq(fr["function"], "site_alpha", "symbolized function")
        check(fr["file"] is not None and fr["file"].endswith("make_trace.c"), f"symbolized file {fr['file']!r}")
        check(fr["line"] > 0, "symbolized line")
    else:
        eq(fr["function"], "??", "function without libdw")
    check(fr["module"].endswith("report_make_trace"), f"symbolized module {fr['module']!r}")

    doc, r = report_json("truncated")
    eq(doc["trace"]["truncated"], True, "truncated trace")
    eq(doc["trace"]["dropped_events"], 4, "truncated: dropped")
    eq(r.stderr.count(b"\n"), 1, "truncated: one warning line")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all JSON checks passed")
    return 0


sys.exit(main())
