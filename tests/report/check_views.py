#!/usr/bin/env python3
"""check_views.py — the views for other tools, run as a user would: --perfetto writes
Chrome trace-event JSON whose structure follows the format's rules (event phases and
their fields, complete events nesting on each track, named tracks, counter values) with
the exact numbers of a known trace, and --from/--to cut it; --csv writes exact tables,
quoting what needs it so Python's csv module reads every string back unchanged; several
traces or a directory give the job summary (peaks, the first OOM on the wall clock, the
imbalance) in text and JSON; --html writes one self-contained page whose every trace string
is escaped, and which headless Chromium (when installed) shows without a console message
and with a drawn memory plot.

usage: check_views.py GPUPROF_REPORT MAKE_VIEWS_TRACE WORKDIR
"""
import csv
import json
import os
import shutil
import subprocess
import sys

from html_check_lib import Page, chromium, png_pixels, screenshot

REPORT, MAKE, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args):
    return subprocess.run([REPORT] + args, capture_output=True, timeout=60)


def make(out, *extra):
    subprocess.run([MAKE, "timeline", out] + [str(e) for e in extra], check=True)
    return out


def ns(v):
    """A trace-event time (microseconds) as integer nanoseconds."""
    return round(v * 1000)


def perfetto_structure(doc):
    """Checks the rules of the trace-event format; returns {tid: track name}."""
    check(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list), "no traceEvents")
    names, used, tracks = {}, set(), {}
    for e in doc["traceEvents"]:
        ph = e.get("ph")
        check(ph in ("M", "C", "i", "X"), f"unexpected phase {ph!r}")
        check(isinstance(e.get("pid"), int), f"pid missing in {e}")
        if ph == "M":
            check(e["name"] in ("process_name", "thread_name", "thread_sort_index"), f"meta {e}")
            if e["name"] == "thread_name":
                names[e["tid"]] = e["args"]["name"]
            continue
        check(isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, f"ts in {e}")
        check(isinstance(e.get("name"), str) and e["name"], f"name in {e}")
        if ph == "C":
            check(isinstance(e.get("args"), dict) and e["args"] and
                  all(isinstance(v, (int, float)) for v in e["args"].values()), f"counter {e}")
        elif ph == "i":
            check(e.get("s") in ("t", "p", "g"), f"instant scope {e}")
            used.add(e["tid"])
        else:
            check(isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, f"dur in {e}")
            used.add(e["tid"])
            tracks.setdefault(e["tid"], []).append((ns(e["ts"]), ns(e["ts"] + e["dur"]), e))
    check(used <= set(names), f"tracks without a name: {used - set(names)}")
    for tid, evs in tracks.items():
        evs.sort(key=lambda x: (x[0], -x[1]))
        stack = []
        for s, t, e in evs:
            while stack and stack[-1] <= s:
                stack.pop()
            check(not stack or t <= stack[-1], f"track {tid}: {e['name']} overlaps without nesting")
            stack.append(t)
    return names


def events(doc, ph, names=None, track=None):
    out = [e for e in doc["traceEvents"] if e["ph"] == ph]
    if track is not None:
        out = [e for e in out if names.get(e.get("tid")) == track]
    return out


def test_perfetto():
    trace = make(os.path.join(WORK, "t.gz"))
    out = os.path.join(WORK, "p.json")
    r = run(["--perfetto", out, trace])
    check(r.returncode == 0, f"--perfetto: exit {r.returncode} {r.stderr!r}")
    doc = json.load(open(out))
    names = perfetto_structure(doc)
    meta = {e["name"]: e for e in events(doc, "M")}
    check(meta["process_name"]["args"]["name"] == "unit (pid 4242)", "process name")
    check(names.get(77) == "thread 77" and names.get(78) == "thread 78", f"thread names {names}")
    def counter(doc, name):
        return [(ns(e["ts"]), e["args"]["bytes"]) for e in events(doc, "C") if e["name"] == name]
    mem = counter(doc, "device memory reserved")
    check(mem == [(1000000, 1 << 20), (1500000, 3 << 20), (2000000, 2 << 20), (2200000, 2 << 20),
                  (2800000, 2 << 20), (3000000, 0)], f"memory counter {mem}")
    pool = counter(doc, "pool reserved")
    check(pool == [(1000000, 0), (1500000, 0), (2000000, 0), (2200000, 4 << 20),
                   (2800000, 4 << 20), (3000000, 4 << 20)], f"pool reserved counter {pool}")
    used = counter(doc, "pool allocated")
    check(used == [(1000000, 0), (1500000, 0), (2000000, 0), (2200000, 1 << 20),
                   (2800000, 0), (3000000, 0)], f"pool allocated counter {used}")
    check({e["name"] for e in events(doc, "C")} ==
          {"device memory reserved", "pool reserved", "pool allocated"}, "counter names")
    calls = [(e["tid"], e["name"], e["cat"], ns(e["ts"]), e["args"]["bytes"], e["args"]["result"])
             for e in events(doc, "i")]
    check(calls == [(77, "cudaMalloc", "alloc", 1000000, 1 << 20, 0),
                    (78, "cudaMalloc", "alloc", 1500000, 2 << 20, 0),
                    (77, "cudaFree", "free", 2000000, 0, 0),
                    (78, "cudaMalloc", "alloc", 2500000, 8 << 20, 2),
                    (78, "OOM", "oom", 2500000, 8 << 20, 2),
                    (78, "cudaFree", "free", 3000000, 0, 0)], f"calls {calls}")

    def boxes(track):
        return [(e["name"], ns(e["ts"]), ns(e["dur"])) for e in events(doc, "X", names, track)]
    check(boxes("GPU 0 stream 7") == [("gemm()", 1000000, 800000), ("unit", 2000000, 300000)],
          f"stream 7 {boxes('GPU 0 stream 7')}")
    check(boxes("GPU 0 stream 7 #2") == [("overlap", 1500000, 600000)],
          f"stream 7 #2 {boxes('GPU 0 stream 7 #2')}")
    check(boxes("GPU 0 stream 9") == [("memcpy HtoD", 1200000, 200000), ("memset", 1600000, 100000)],
          f"stream 9 {boxes('GPU 0 stream 9')}")
    check(boxes("NVTX") == [("step", 900000, 2000000), ("fwd", 1000000, 900000)],
          f"NVTX {boxes('NVTX')}")
    check(boxes("NVTX #2") == [("unit", 1800000, 1200000)], f"NVTX #2 {boxes('NVTX #2')}")
    kernel = [e for e in events(doc, "X") if e["name"] == "gemm()"][0]
    check(kernel["cat"] == "kernel" and kernel["args"]["stream"] == 7, f"kernel args {kernel}")

    # A window: what lies inside, clipped to it; the counter's value in force at its start.
    cut = os.path.join(WORK, "cut.json")
    r = run(["--perfetto", cut, "--from", "0.0015", "--to", "0.0025", trace])
    check(r.returncode == 0, f"--perfetto cut: exit {r.returncode} {r.stderr!r}")
    doc = json.load(open(cut))
    names = perfetto_structure(doc)
    mem = counter(doc, "device memory reserved")
    check(mem == [(1500000, 3 << 20), (2000000, 2 << 20), (2200000, 2 << 20)],
          f"cut memory counter {mem}")
    used = counter(doc, "pool allocated")
    check(used == [(1500000, 0), (2000000, 0), (2200000, 1 << 20)], f"cut pool counter {used}")
    check([ns(e["ts"]) for e in events(doc, "i")] == [1500000, 2000000], "cut calls")
    check(boxes("GPU 0 stream 7") == [("gemm()", 1500000, 300000), ("unit", 2000000, 300000)],
          f"cut stream 7 {boxes('GPU 0 stream 7')}")
    check(boxes("NVTX") == [("step", 1500000, 1000000), ("fwd", 1500000, 400000)],
          f"cut NVTX {boxes('NVTX')}")

    # Output that cannot be written: one line naming the file, exit 1.
    bad = os.path.join(WORK, "no-such-dir", "p.json")
    r = run(["--perfetto", bad, trace])
    err = r.stderr.decode()
    check(r.returncode == 1 and err.count("\n") == 1 and err.startswith(f"gpuprof-report: {bad}: "),
          f"unwritable --perfetto: {r.returncode} {err!r}")


ALLOCATIONS = """\
time_ns,event,api,tid,device,kind,bytes,ptr,result,stack_id,function,file,line
1000000,alloc,cudaMalloc,77,0,device,1048576,0x7f0000000000,0,2,??,,
1500000,alloc,cudaMalloc,78,0,device,2097152,0x7f0000400000,0,2,??,,
2000000,free,cudaFree,77,0,device,0,0x7f0000000000,0,2,??,,
2500000,alloc,cudaMalloc,78,0,device,8388608,0x0,2,2,??,,
2500000,oom,cudaMalloc,78,0,device,8388608,0x0,2,2,??,,
3000000,free,cudaFree,78,0,device,0,0x7f0000400000,0,2,??,,
"""

KERNELS = """\
start_ns,end_ns,duration_ns,type,name,device,stream,correlation,bytes,copy_kind
1000000,1800000,800000,kernel,gemm(),0,7,1000,0,
1200000,1400000,200000,memcpy,,0,9,1200,4096,HtoD
1500000,2100000,600000,kernel,overlap,0,7,1500,0,
1600000,1700000,100000,memset,,0,9,1600,512,
2000000,2300000,300000,kernel,unit,0,7,2000,0,
"""


def test_csv():
    trace = make(os.path.join(WORK, "t.gz"))
    out = os.path.join(WORK, "csv")
    r = run(["--csv", out, trace])
    check(r.returncode == 0, f"--csv: exit {r.returncode} {r.stderr!r}")
    check(open(os.path.join(out, "allocations.csv")).read() == ALLOCATIONS, "allocations.csv")
    check(open(os.path.join(out, "kernels.csv")).read() == KERNELS, "kernels.csv")

    # Strings needing quotes: commas, quotes, a line break, edge spaces.
    hostile = ' a,"b"\nc <script>x</script> '
    trace = make(os.path.join(WORK, "q.gz"), 4243, hostile)
    r = run(["--csv", out, trace])
    check(r.returncode == 0, f"--csv quoting: exit {r.returncode} {r.stderr!r}")
    text = open(os.path.join(out, "kernels.csv"), newline="").read()
    check('" a,""b""\nc <script>x</script> "' in text, f"quoted field in {text!r}")
    rows = list(csv.DictReader(open(os.path.join(out, "kernels.csv"), newline="")))
    check(len(rows) == 5 and rows[4]["name"] == hostile and rows[4]["stream"] == "7",
          f"csv module reads {rows[-1:]}")

    # A file where the directory should be: one line, exit 1.
    bad = os.path.join(WORK, "t.gz")
    r = run(["--csv", bad, trace])
    err = r.stderr.decode()
    check(r.returncode == 1 and err.count("\n") == 1 and err.startswith(f"gpuprof-report: {bad}: "),
          f"--csv into a file: {r.returncode} {err!r}")


def test_job():
    job = os.path.join(WORK, "job")
    os.makedirs(job)
    # rank1: three times the memory, and a host clock 1 ms behind, so on the wall clock
    # its OOM (2.5 ms after its start) comes before rank0's.
    r0 = make(os.path.join(job, "gpuprof.101.gz"), 101, "rank0", 1)
    r1 = make(os.path.join(job, "gpuprof.102.gz"), 102, "rank1", 3, -1000)
    make(os.path.join(job, "gpuprof.103.gz"), 103, "rank2", 2)
    open(os.path.join(job, "notes.gz"), "wb").write(b"not a trace, not named gpuprof*")
    for args in (["--json", job], ["--json"] + [os.path.join(job, f"gpuprof.{p}.gz")
                                                for p in (101, 102, 103)]):
        r = run(args)
        check(r.returncode == 0, f"{args}: exit {r.returncode} {r.stderr!r}")
        doc = json.loads(r.stdout)
        check(doc["schema_version"] == 1 and doc["kind"] == "job", "job document kind")
        procs = doc["processes"]
        check([(p["pid"], p["label"], p["peak_reserved_bytes"], p["oom_count"]) for p in procs] ==
              [(101, "rank0", 3 << 20, 1), (102, "rank1", 9 << 20, 1), (103, "rank2", 6 << 20, 1)],
              f"processes {procs}")
        check(procs[1]["first_oom"] == {"time_ns": 2500000, "realtime_ns": 1700000000001500000,
                                        "device": 0, "requested_bytes": 8 << 20},
              f"first_oom {procs[1]['first_oom']}")
        check([p["gpus"] for p in procs] ==
              [[{"device": 0, "peak_reserved_bytes": m << 20, "peak_time_ns": 1500000}]
               for m in (3, 9, 6)], f"per-process GPUs {[p['gpus'] for p in procs]}")
        check([p["peak_allocated_bytes"] for p in procs] == [None] * 3, "no PyTorch adapter")
        jb = doc["job"]
        check(jb["process_count"] == 3 and jb["first_oom"]["pid"] == 102, f"job {jb}")
        check(jb["gpus"] == [{"host": "testhost", "device": 0, "processes": 3,
                              "max_peak_reserved_bytes": 9 << 20, "max_peak_pid": 102,
                              "sum_peak_reserved_bytes": 18 << 20}], f"job GPUs {jb['gpus']}")
        im = jb["imbalance"]
        check(im["largest"]["pid"] == 102 and im["smallest"]["pid"] == 101 and
              im["max_peak_bytes"] == 9 << 20 and im["min_peak_bytes"] == 3 << 20 and
              im["mean_peak_bytes"] == 6 << 20 and im["max_over_mean"] == 1.5, f"imbalance {im}")
    r = run([job])
    text = r.stdout.decode()
    check(r.returncode == 0 and "3 processes" in text, f"job text: {r.returncode} {text!r}")
    check("First out of memory: pid 102 (rank1) on testhost, at 2023-11-14 22:13:20.001 UTC" in text,
          f"first OOM line in {text!r}")
    check("largest peak 9.00 MiB (pid 102" in text and "1.50x the mean" in text,
          f"imbalance line in {text!r}")
    check("  testhost GPU 0: 3 processes, largest 9.00 MiB (pid 102), sum 18.00 MiB\n" in text,
          f"per-GPU line in {text!r}")

    # Options for one trace, with several: a usage error.
    r = run(["--csv", os.path.join(WORK, "x"), r0, r1])
    check(r.returncode == 2 and b"one trace" in r.stderr, f"--csv with several: {r.stderr!r}")
    r = run([r0, r1, r0])
    check(r.returncode == 2 and b"twice" in r.stderr, f"a trace given twice: {r.stderr!r}")
    # A bad trace among several: one line naming it, exit 1.
    bad = os.path.join(WORK, "bad.gz")
    open(bad, "wb").write(b"nope")
    r = run([r0, bad])
    err = r.stderr.decode()
    check(r.returncode == 1 and r.stdout == b"" and err.count("\n") == 1 and
          err.startswith(f"gpuprof-report: {bad}: "), f"bad trace among several: {err!r}")
    # A directory without gpuprof*.gz traces is still no trace.
    empty = os.path.join(WORK, "empty")
    os.makedirs(empty)
    r = run([empty])
    check(r.returncode == 1 and b"is a directory, not a trace file" in r.stderr,
          f"empty directory: {r.stderr!r}")


HTML_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "table", "tr",
             "th", "td", "code", "details", "summary", "ol", "li", "svg", "rect", "text", "line",
             "polyline", "circle", "title", "div", "h3", "strong"}


def browser_check(page):
    if not chromium():
        print("skipped: headless Chromium check (no chromium installed)")
        return
    shot = os.path.join(WORK, "shot.png")
    rc, console = screenshot(page, shot)
    check(not console, f"browser console: {console}")
    check(rc == 0 and os.path.exists(shot), f"chromium: exit {rc}")
    if not os.path.exists(shot):
        return
    w, h, rows = png_pixels(shot)
    # the memory line is blue (#1f77b4, lighter where smoothed); nothing else on the page is
    blue = sum(1 for row, bpp in rows for i in range(0, len(row), bpp)
               if row[i + 2] > 120 and row[i + 2] - row[i] > 60 and row[i + 2] > row[i + 1])
    check(not rows or blue > 50, f"the memory plot looks empty ({blue} plot pixels)")


def test_html():
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> \"q\" 'a' & \x01"
    trace = make(os.path.join(WORK, "h.gz"), 4244, hostile)
    page = os.path.join(WORK, "report.html")
    r = run(["--html", page, trace])
    check(r.returncode == 0, f"--html: exit {r.returncode} {r.stderr!r}")
    text = open(page, encoding="utf-8").read()
    check("<script" not in text.lower() and "<img" not in text.lower(), "raw markup from the trace")
    check("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &quot;q&quot; "
          "&#39;a&#39; &amp; ?" in text, "escaped label missing")
    p = Page()
    p.feed(text)
    p.close()
    check(not p.problems and p.stack == [], f"unbalanced tags: {p.problems} {p.stack}")
    check(set(p.tags) <= HTML_TAGS, f"unexpected tags {set(p.tags) - HTML_TAGS}")
    for tag, attrs in p.attrs:
        bad = [a for a in attrs if a in ("src", "href", "xlink:href") or a.startswith("on")]
        check(not bad, f"<{tag}> has {bad}: external resources or handlers")
    polys = [a["points"].split() for t, a in p.attrs if t == "polyline"]
    check(len(polys) == 1 and len(set(polys[0])) >= 4, f"memory plot points {polys}")
    check(sum(1 for t, a in p.attrs if t == "circle" and a.get("class") == "oom") == 1, "OOM mark")
    for want in ("<h2>Peak device memory: 3.00 MiB at 0.001500 s</h2>", "<h2>Out of memory: 1</h2>",
                 "<td class=\"n\">8.00 MiB</td>", "<code>gemm()</code>", "<h2>Run</h2>"):
        check(want in text, f"page lacks {want!r}")
    browser_check(page)


def test_help():
    r = run(["--help"])
    text = r.stdout.decode()
    for opt in ("--perfetto", "--csv", "--html"):
        check(opt in text and f"gpuprof-report {opt}" in text, f"--help lacks an example of {opt}")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    test_perfetto()
    test_csv()
    test_job()
    test_html()
    test_help()
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
