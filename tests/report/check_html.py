#!/usr/bin/env python3
"""check_html.py — the single-file HTML report (`gpuprof-report --html`), run as a user
would, on synthetic traces with known numbers (make_html_trace.c, make_views_trace.c,
test_fit_trace.c):

- one trace: every section (driver warning first, environment, memory plot, kernel timeline
  of the last NVTX step with exact box positions, peak sites, memory at exit, the shim's and
  PyTorch's OOMs with advice, top kernels, Tensor Cores layers 1 and 3) with exact numbers;
- a hostile string (quotes, <script>, <img onerror>, a newline, `$()`) as label, command line,
  host, GPU name, kernel name and NVTX range name, and in a trace's file name and label on
  the job page: escaped wherever it appears, never markup, never run;
- the page is self-contained: balanced tags from a known set, no src/href/on* attributes,
  no URL; the timeline follows --from/--to, --range, and past the box limit becomes
  occupancy per pixel column; a trace without GPU activity says why there is no timeline;
- several traces: the job page (processes, peaks chart, GPUs, the first OOM, imbalance) and,
  with batch=N labels, the batch-size fit with the numbers `gpuprof-report fit` gives;
- headless Chromium (where installed) loads each page without a console message and its
  screenshot shows each plot in its own colour.

usage: check_html.py GPUPROF_REPORT MAKE_HTML_TRACE MAKE_VIEWS_TRACE FIT_TRACE WORKDIR
"""
import json
import os
import re
import shutil
import subprocess
import sys

from html_check_lib import chromium, count_colour, parse, png_pixels, screenshot

REPORT, MAKE, VIEWS, FIT, WORK = sys.argv[1:6]
failures = []

HOSTILE_CANARY = None  # set in main(): a file `$(touch ...)` would create
TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "div", "table",
        "tr", "th", "td", "code", "details", "summary", "ol", "li", "strong", "svg", "rect",
        "text", "line", "polyline", "circle"}
MiB = 1 << 20
GiB = 1 << 30


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args):
    return subprocess.run([REPORT] + args, capture_output=True, timeout=120)


def esc(s):
    """The page's escaping: & < > " ' as entities, control characters as '?'."""
    out = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = out.replace('"', "&quot;").replace("'", "&#39;")
    return "".join("?" if ord(c) < 0x20 or ord(c) == 0x7f else c for c in out)


def page_of(args, name):
    out = os.path.join(WORK, name)
    r = run(["--html", out] + args)
    check(r.returncode == 0, f"--html {args}: exit {r.returncode} {r.stderr!r}")
    return open(out, encoding="utf-8").read() if os.path.exists(out) else "", out


def self_contained(text, what):
    """Balanced tags of a known set, no resource or handler attribute, no URL, one <style>."""
    p = parse(text)
    check(not p.problems and p.stack == [], f"{what}: unbalanced tags {p.problems} {p.stack}")
    check(set(p.tags) <= TAGS, f"{what}: unexpected tags {set(p.tags) - TAGS}")
    for tag, attrs in p.attrs:
        bad = [a for a in attrs if a in ("src", "href", "xlink:href", "style") or a.startswith("on")]
        check(not bad, f"{what}: <{tag}> has {bad}")
    check(p.tags.count("style") == 1 and p.tags.count("title") >= 1, f"{what}: head")
    check(not re.search(r"https?:|url\(|@import|<script|<img|<link|<iframe", text, re.I),
          f"{what}: a URL or active markup")
    check("default-src 'none'" in text, f"{what}: no Content-Security-Policy")
    return p


def rects(p, cls):
    return [a for t, a in p.attrs if t == "rect" and a.get("class") == cls]


def browser(page, what, colours, height=2000):
    """No console message; each (name, rgb, least pixels) colour drawn."""
    if not chromium():
        print(f"skipped: headless Chromium check of {what} (no chromium installed)")
        return
    shot = os.path.join(WORK, os.path.basename(page) + ".png")
    rc, console = screenshot(page, shot, 1000, height)
    check(not console, f"{what}: browser console {console}")
    check(rc == 0 and os.path.exists(shot), f"{what}: chromium exit {rc}")
    if not os.path.exists(shot):
        return
    _, _, rows = png_pixels(shot)
    for name, rgb, least in colours:
        n = count_colour(rows, rgb)
        check(not rows or n >= least, f"{what}: the {name} looks empty ({n} pixels of {rgb})")


def test_full(hostile):
    trace = os.path.join(WORK, "full.gz")
    subprocess.run([MAKE, "full", trace, hostile], check=True)
    text, page = page_of([trace], "full.html")
    p = self_contained(text, "full page")
    h = esc(hostile)
    check("?line2" in h and "$(touch" in h, "the hostile text holds a newline and $()")
    # every place a trace string reaches: title, run table, GPU name, kernel, NVTX range
    check(f"<title>gpuprof report: {h}</title>" in text, "escaped title")
    for key in ("Host", "Command line", "Label"):
        check(f"<tr><th>{key}</th><td>{h}</td></tr>" in text, f"escaped {key}")
    check(f"<tr><th>GPU 0</th><td>{h}, 80.00 GiB, compute capability 9.0</td></tr>" in text,
          "escaped GPU name")
    check(f"<tr><td><code>{h}</code></td><td class=\"n\">1</td><td class=\"n\">0.000200 s</td>"
          in text, "escaped kernel in the top kernels")
    check(f"<title>{h} (0.200 ms)</title>" in text, "escaped kernel tooltip in the timeline")
    check(f"<text class=\"lbl\" x=\"3\" y=\"11\">{h}</text>" in text, "escaped NVTX range label")
    check(text.count(h) == 9, f"hostile text appears {text.count(h)} times, not 9")
    check(not os.path.exists(HOSTILE_CANARY), "$() in a trace string was run")

    # the driver check first, then the run and its environment
    warn = ("<div class=\"warn\" id=\"driver-warning\">Warning: the NVIDIA driver supports CUDA "
            "12.2, older than the program&#39;s CUDA runtime 12.4: it runs only through "
            "minor-version compatibility (no PTX JIT of newer code, some new APIs fail); update "
            "the driver</div>")
    check(warn in text and text.index(warn) < text.index("<h2>Run</h2>"), "driver warning on top")
    for key, value in (("GPU 1", "NVIDIA H100 80GB HBM3"), ("CUDA driver supports", "12.2"),
                       ("CUDA runtime", "12.4"), ("NVIDIA driver", "535.104.05"),
                       ("cuBLAS", "12.4.5"), ("cuDNN", "9.1.0"), ("NCCL", "2.21.5"),
                       ("PyTorch", "2.4.1"), ("Device memory", "100.00 MiB"),
                       ("Events", "2 allocations, 0 frees, 0 failed")):
        check(f"<tr><th>{key}</th><td>{value}</td></tr>" in text, f"row {key}: {value}")

    # memory plot: reserved, allocated, outside PyTorch, the two OOMs
    lines = {a.get("class") for t, a in p.attrs if t == "polyline"}
    check(lines == {"memory", "allocated", "nontorch"}, f"memory plot lines {lines}")
    marks = [a.get("class") for t, a in p.attrs if t == "circle"]
    check(sorted(marks) == ["oom", "torch-oom"], f"OOM marks {marks}")

    # timeline: the last step, 3000-4000 us over 700 px from x=150 (0.7 px per us)
    check("<p>GPU activity from 0.003000 s to 0.004000 s (the last complete NVTX range of the "
          "most frequent name).</p>" in text, "timeline window")
    boxes = sorted((a["x"], a["width"]) for a in rects(p, "kernel"))
    check(boxes == [("220.0", "210.0"), ("360.0", "140.0"), ("500.0", "70.0")],
          f"kernel boxes {boxes}")
    check([(a["x"], a["width"]) for a in rects(p, "memcpy")] == [("570.0", "70.0")],
          f"memcpy boxes {rects(p, 'memcpy')}")
    nvtx = sorted((a["x"], a["width"], a["y"]) for a in rects(p, "nvtx"))
    check(nvtx == [("150.0", "700.0", "26"), ("185.0", "630.0", "42")], f"NVTX boxes {nvtx}")
    lanes = re.findall(r'text-anchor="end">(device \d+ stream \d+)</text>', text)
    check(lanes == ["device 0 stream 7", "device 0 stream 9"], f"lanes {lanes}")
    check(re.search(r'class="kernel"[^>]*><title>sm80_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize'
                    r'128x128x32_stage4_warpsize2x2x1_tensor16x8x16_kernel \(0\.300 ms\)</title>',
                    text), "kernel tooltip with its duration")

    # the text report's tables
    for want in (
            "<h2>Peak device memory: 76.00 MiB at 0.001000 s</h2>",
            "<p>Call sites holding it, largest first (2 of 2).</p>",
            "<tr><td>device</td><td class=\"n\">76.00 MiB</td><td class=\"n\">2</td>"
            "<td class=\"n\">2</td></tr>",
            "<h2>Out of memory: 1</h2>",
            "<td class=\"n\">0</td><td class=\"n\">32.00 MiB</td><td class=\"n\">76.00 MiB</td>"
            "<td class=\"n\">2.00 MiB / 100.00 MiB</td>",
            "<h2>PyTorch memory</h2>",
            "torch 2.4.1, allocator native, expandable_segments off; 4 allocator events.",
            "<tr><td class=\"n\">0</td><td class=\"n\">56.00 MiB</td><td class=\"n\">64.00 MiB</td>"
            "<td class=\"n\">48.00 MiB</td><td class=\"n\">56.00 MiB / 64.00 MiB</td></tr>",
            "<h2>Out of memory (PyTorch): 1</h2>",
            "<h3>OOM 1 at 0.002600 s on device 0: fatal (the process died of it)</h3>",
            "<tr><th>PyTorch allocated / reserved</th><td class=\"n\">56.00 MiB / 64.00 MiB</td></tr>",
            "<tr><th>process held / outside PyTorch</th><td class=\"n\">76.00 MiB / 12.00 MiB</td></tr>",
            "<tr><th>other processes</th><td class=\"n\">22.00 MiB</td></tr>",
            "<li>activations: allocated grew by 56.00 MiB in the 0.002000 s before the OOM",
            "<h2>Top kernels by GPU time (4 of 4)</h2>",
            "<p>4 kernels, 0.000700 s of GPU time; GPU busy 15.6 % of 0.004500 s.</p>",
            "<h2>Tensor Cores</h2>",
            "<p>2 matrix-product and convolution calls, 37748736 FLOP.</p>",
            "<tr><td>allowed</td><td class=\"n\">1</td><td class=\"n\">33554432</td></tr>",
            "<tr><td>not_allowed</td><td class=\"n\">1</td><td class=\"n\">4194304</td></tr>",
            "<tr><td>fp32</td><td class=\"n\">1</td><td class=\"n\">4194304</td></tr>",
            "<tr><td>not_allowed</td><td class=\"n\">1</td><td class=\"n\">4194304</td><td>fp32</td>"
            "<td>cublasSgemm_v2</td><td class=\"n\">128x128x128</td><td>(layer asked) fp32 without "
            "TF32: compute type CUBLAS_COMPUTE_32F and math mode CUBLAS_DEFAULT_MATH</td>",
            "GEMM/conv kernels: 0.000400 s of GPU time, 75.0% on Tensor Core kernels (0.000300 s), "
            "25.0% on CUDA-core kernels (0.000100 s). Other kernels (not classified by name): "
            "0.000300 s.",
            "<tr><td>cuda-core</td><td class=\"n\">0.000100 s</td><td class=\"n\">1</td><td><code>"
            "volta_sgemm_128x64_nn</code></td><td>blas-gemm: sgemm without an MMA token: fp32 FFMA "
            "GEMM</td></tr>"):
        check(want in text, f"full page lacks {want!r}")
    advice = re.findall(r'<ol class="advice">(.*?)</ol>', text, re.S)
    check(len(advice) == 1 and [a[:14] for a in re.findall(r"<li>(.*?)</li>", advice[0])] ==
          ["activations: a", "other memory: ", "other processe"], f"advice {advice}")
    order = [text.index(s) for s in ("<h2>Run</h2>", "<h2>Environment</h2>",
                                     "<h2>Device memory over time</h2>", "<h2>GPU timeline</h2>",
                                     "<h2>Peak device memory", "<h2>Out of memory: 1",
                                     "<h2>PyTorch memory", "<h2>Top kernels", "<h2>Tensor Cores")]
    check(order == sorted(order), "sections in order")
    browser(page, "full page", [("memory line", (0x1f, 0x77, 0xb4), 100),
                                ("allocated line", (0x2c, 0xa0, 0x2c), 100),
                                ("timeline kernels", (0x17, 0xbe, 0xcf), 1500),
                                ("NVTX ranges", (0x94, 0x67, 0xbd), 1500)], 2400)


def test_windows():
    trace = os.path.join(WORK, "full.gz")
    text, _ = page_of(["--from", "0.0031", "--to", "0.0036", trace], "cut.html")
    p = parse(text)
    check("<p>GPU activity from 0.003100 s to 0.003600 s (as asked).</p>" in text, "--from/--to")
    boxes = sorted((a["x"], a["width"]) for a in rects(p, "kernel"))
    check(boxes == [("150.0", "420.0"), ("430.0", "280.0"), ("710.0", "140.0")],
          f"cut kernel boxes {boxes}")
    r = run(["--html", os.path.join(WORK, "x.html"), "--range", "nosuch", trace])
    err = r.stderr.decode()
    check(r.returncode == 1 and "nosuch" in err and err.count("\n") == 1,
          f"--range of a missing name: {r.returncode} {err!r}")

    many = os.path.join(WORK, "many.gz")
    subprocess.run([MAKE, "many", many, "5000"], check=True)
    text, page = page_of([many], "many.html")
    p = self_contained(text, "occupancy page")
    check("(the last complete NVTX range of the most frequent name; more activities than can be "
          "drawn one by one: occupancy per pixel column)" in text, "occupancy said")
    occ = [a for t, a in p.attrs if t == "rect" and a.get("class") == "kernel occ"]
    check(not rects(p, "kernel") and occ, f"{len(occ)} occupancy rectangles, boxes drawn")
    # kernels of 1 us every 2 us: about half of each 14.3 us column, 3 or 4 of 7 pixels
    check(sum(int(a["width"]) for a in occ) == 700 and {a["height"] for a in occ} <= {"3", "4"},
          f"occupancy columns {[(a['x'], a['width'], a['height']) for a in occ][:8]}")
    check(len(text) < 200000, f"occupancy page of {len(text)} bytes")
    browser(page, "occupancy page", [("occupancy", (0x17, 0xbe, 0xcf), 1000)], 1200)

    # no GPU activity: the page says why there is no timeline
    quiet = os.path.join(WORK, "quiet.gz")
    subprocess.run([FIT, quiet, "unit", str(MiB), str(MiB), "2", "0"], check=True)
    text, _ = page_of([quiet], "quiet.html")
    self_contained(text, "page without GPU activity")
    check("<h2>GPU timeline</h2>\n<p class=\"note\">No timeline: " in text and
          "<svg class=\"timeline\"" not in text, "no timeline without GPU activity")
    check("The trace does not record the environment" in text, "no environment said")


def test_job():
    job = os.path.join(WORK, "job")
    os.makedirs(job)
    hostile_file = os.path.join(job, "gpuprof.<i>\"q'$(id).gz")
    sizes = {os.path.join(job, f"gpuprof.{b}.gz"): b for b in (8, 16, 32)}
    for path, b in sizes.items():
        subprocess.run([FIT, path, f"run batch={b}", str(GiB), str(100 * MiB), str(b),
                        str(16 * GiB)], check=True)
    subprocess.run([FIT, hostile_file, "batch=4 <b>x</b>", str(GiB), str(100 * MiB), "4",
                    str(16 * GiB)], check=True)
    text, page = page_of([job], "job.html")
    p = self_contained(text, "job page")
    check("<h1>gpuprof job report</h1>" in text and "<h2>Processes: 4</h2>" in text, "job title")
    check(f"<td><code>{esc(hostile_file)}</code></td>" in text, "escaped file name")
    check("<td>batch=4 &lt;b&gt;x&lt;/b&gt;</td>" in text, "escaped label")
    check(len(rects(p, "peak")) == 4, "a bar per process")
    fit = json.loads(run(["fit", "--json"] + sorted(sizes) + [hostile_file]).stdout)
    check(fit["max_batch"] == 145 and fit["fixed_bytes"] == GiB, f"fit --json {fit}")
    for want in ("<h2>Batch-size fit: 4 runs</h2>",
                 "<tr><th>Fixed memory</th><td>1.00 GiB (1073741824 bytes)</td></tr>",
                 "<tr><th>Memory per sample</th><td>100.00 MiB (104857600 bytes)</td></tr>",
                 "<tr><th>Headroom</th><td>5.00% (5.00% asked + 0.00% fragmentation), leaving "
                 "15.20 GiB usable</td></tr>",
                 f"<strong id=\"max-batch\">{fit['max_batch']}</strong>: 15.16 GiB of the 15.20 GiB "
                 "usable; batch 146 would need 15.26 GiB",
                 "<tr><td class=\"n\">4</td><td class=\"n\">1.39 GiB</td><td class=\"n\">1.39 GiB"
                 "</td><td class=\"n\">0 B</td>"):
        check(want in text, f"job page lacks {want!r}")
    runs = [a for t, a in p.attrs if t == "circle" and a.get("class") == "run"]
    check(len(runs) == 4 and any(a.get("class") == "fitline" for t, a in p.attrs),
          "fit plot points and line")
    browser(page, "job page", [("peak bars", (0xbc, 0xbd, 0x22), 3000),
                               ("fit line", (0xe3, 0x77, 0xc2), 150),
                               ("fit runs", (0x8c, 0x56, 0x4b), 100)], 1800)

    # ranks of one job (make_views_trace: rank1 ran out of memory first): no batch sizes
    ranks = os.path.join(WORK, "ranks")
    os.makedirs(ranks)
    for pid, label, scale, shift in ((101, "rank0", 1, 0), (102, "rank1", 3, -1000),
                                     (103, "rank2", 2, 0)):
        subprocess.run([VIEWS, "timeline", os.path.join(ranks, f"gpuprof.{pid}.gz"), str(pid),
                        label, str(scale), str(shift)], check=True)
    text, _ = page_of([ranks], "ranks.html")
    p = self_contained(text, "ranks page")
    check("<div class=\"warn\" id=\"first-oom\">First out of memory: pid 102 (rank1) on "
          "testhost, at 2023-11-14 22:13:20.001 UTC (0.002500 s after it started), device 0, "
          "asking for 8.00 MiB</div>" in text, "first OOM")
    check("mean 6.00 MiB: the largest is 1.50x the mean.</p>" in text, "imbalance")
    check("<tr><td>testhost</td><td class=\"n\">0</td><td class=\"n\">3</td><td class=\"n\">"
          "9.00 MiB</td><td class=\"n\">102</td><td class=\"n\">18.00 MiB</td></tr>" in text,
          "GPU row")
    bars = rects(p, "peak")
    check([b.get("stroke") for b in bars] == [None, "#d62728", None], "first OOM's bar marked")
    check("Batch-size fit" not in text, "no fit without batch sizes")
    # only some traces labelled: said, no fit
    text, _ = page_of([hostile_file, os.path.join(ranks, "gpuprof.101.gz")], "mixed.html")
    check("<p class=\"note\">No fit: only some of the traces&#39; labels carry a batch size "
          "(batch=N)</p>" in text, "partly labelled job")


def main():
    global HOSTILE_CANARY
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    HOSTILE_CANARY = os.path.join(WORK, "pwned")
    hostile = (f"<script>alert(1)</script>\"q\" 'a' $(touch {HOSTILE_CANARY})\nline2 & "
               "<img src=x onerror=alert(2)>")
    test_full(hostile)
    test_windows()
    test_job()
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
