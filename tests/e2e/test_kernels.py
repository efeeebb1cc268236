"""Kernel tracing through CUPTI, end to end, on the fake libcupti.so.13: tests/cupti/cupti_kernels
describes GPU activity whose every number is known (top of cupti_kernels.c); the report's JSON
`kernels` section must give them exactly, and the text report and the timeline plot show them.
The program behaves the same with and without the shim, and memory tracing is exact whatever
happens to kernel tracing: GPUPROF_KERNELS=0, no libcupti, another tool holding CUPTI, CUPTI
refusing the kernel kind. Kernels described just before exit (exit flush) or before a SIGKILL
(background flush) are in the trace; the buffer pool stays within its cap and every record is
either in the trace or counted as dropped."""
import os
import signal
import tempfile

from e2e import FAKE_CUPTI, SAMPLES, check, equal, finish, report, report_json, run_sample, unchanged

CUPTI_TESTS = os.path.join(os.path.dirname(os.path.abspath(SAMPLES)), "cupti")
MIB = 1 << 20
GEMM = "_Z4gemmILi128EEvPKfS1_Pfiii"
VECTOR_ADD = "_Z10vector_addPKfS0_Pfi"


def run(args=("run",), env=None, preload=True):
    e = {"FAKECUPTI_PATH": FAKE_CUPTI, **(env or {})}
    return run_sample("cupti_kernels", list(args), env=e, preload=preload, directory=CUPTI_TESTS)


def memory_exact(j, what, peak=5 * MIB, leaked=0):
    equal(j["memory"]["peak_reserved_bytes"], peak, f"{what}: device peak")
    equal(j["memory"]["leaked_bytes"], leaked, f"{what}: device bytes held at exit")
    equal(j["trace"]["truncated"], False, f"{what}: trace complete")


def no_kernels(j, what, status):
    k = j["kernels"]
    equal(k["status"], status, f"{what}: status")
    equal(k["count"], 0, f"{what}: kernels")
    equal(k["gpu_time_ns"], 0, f"{what}: GPU time")
    equal(k["top"], [], f"{what}: top kernels")
    equal(k["memcpy"], [], f"{what}: copies")
    check(k["verdict"] and k["verdict"].startswith("kernel activity was not recorded: "),
          f"{what}: verdict {k['verdict']!r}")
    return k


if not FAKE_CUPTI:
    print("SKIPPED: built without the CUPTI headers (no fake libcupti)")
    finish()
    raise SystemExit(0)

# ---- the standard set: exact numbers ------------------------------------------------------
plain, _ = run(preload=False)
traced, trace = run()
unchanged(plain, traced, "run")
j = report_json(trace)
memory_exact(j, "run")
k = j["kernels"]
equal(k["status"], "recording", "status")
equal(k["cupti_library"], FAKE_CUPTI, "the libcupti in use")
equal(k["status_reason"], "libcupti from GPUPROF_CUPTI", "how it was found")
equal(k["cupti_version"], 130001, "CUPTI version")
equal(k["activity_kinds"], ["KERNEL", "MEMCPY", "MEMSET", "GPU_MEMORY", "GPU_POOL", "EXT_CORR",
                            "MARKER", "SYNC", "OVERHEAD"], "activity kinds enabled")
equal(k["verdict"], None, "verdict")
equal(k["count"], 35, "kernels")
equal(k["distinct"], 3, "distinct kernels")
equal(k["untimed"], 0, "untimed kernels")
equal(k["gpu_time_ns"], 640000, "GPU time")
equal(k["dropped_records"], 7, "dropped records")
top = [(t["name"], t["mangled"], t["calls"], t["total_ns"], t["mean_ns"], t["min_ns"], t["max_ns"])
       for t in k["top"]]
equal(top, [("void gemm<128>(float const*, float const*, float*, int, int, int)", GEMM,
             5, 500000, 100000, 100000, 100000),
            ("vector_add(float const*, float const*, float*, int)", VECTOR_ADD,
             10, 100000, 10000, 10000, 10000),
            ("relu_kernel", "relu_kernel", 20, 40000, 2000, 2000, 2000)], "top kernels")
equal([round(t["share"], 4) for t in k["top"]], [0.7812, 0.1562, 0.0625], "shares of GPU time")
equal([(s["device"], s["stream"], s["kernels"], s["kernel_ns"], s["copies"], s["copy_ns"])
       for s in k["by_stream"]], [(0, 13, 30, 140000, 6, 318000), (0, 14, 5, 500000, 0, 0)],
      "per stream")
equal([(d["device"], d["kernels"], d["kernel_ns"]) for d in k["by_device"]], [(0, 35, 640000)],
      "per device")
equal([(c["direction"], c["count"], c["bytes"], c["time_ns"]) for c in k["memcpy"]],
      [("HtoD", 3, 3 * MIB, 300000), ("DtoH", 2, 8192, 10000)], "copies by direction")
equal(k["memcpy"][0]["bandwidth_bytes_per_s"], 1.04858e10, "HtoD bandwidth")
equal((k["memset"]["count"], k["memset"]["bytes"], k["memset"]["time_ns"]), (1, 65536, 8000), "memset")
equal((k["nvtx_markers"], k["nvtx_ranges"], k["external_correlations"]), (3, 1, 1), "NVTX and correlation")
# Busy: the union of 958,000 ns of activity on two streams that overlap; stream 14's 500,000
# (plus its gaps) alone, at least.
check(500000 <= k["busy_ns"] <= 640000 + 318000, f"busy {k['busy_ns']} ns")
check(0 < k["busy_fraction"] <= 1, f"busy fraction {k['busy_fraction']}")
check(abs(k["busy_fraction"] - k["busy_ns"] / k["wall_ns"]) < 1e-5, "busy fraction = busy / wall")
equal(k["by_device"][0]["busy_ns"], k["busy_ns"], "one device: its busy time is the GPU's")
# On the trace's clock: after the allocations (the peak), before the frees (the last event).
check(j["memory"]["peak_time_ns"] <= k["first_ns"] < k["last_ns"] <= j["run"]["duration_ns"],
      f"activity at {k['first_ns']}..{k['last_ns']} ns, peak at {j['memory']['peak_time_ns']}, "
      f"last event at {j['run']['duration_ns']}")
for g in k["idle_gaps"]:
    check(k["first_ns"] <= g["start_ns"] < g["end_ns"] <= k["last_ns"], f"idle gap {g}")

text = report(trace).stdout
for needle in ("void gemm<128>(float const*, float const*, float*, int, int, int)", "relu_kernel",
               "35 kernels (3 distinct)", "memcpy HtoD: 3 copies", "CUPTI dropped 7 activity records"):
    check(needle in text, f"text report mentions {needle!r}")

with tempfile.TemporaryDirectory() as d:
    for ext, magic in (("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<")):
        out = os.path.join(d, "timeline." + ext)
        p = report(trace, "--plot-timeline", out)
        if "gnuplot not found" in p.stderr:
            break
        with open(out, "rb") as f:
            check(f.read(len(magic)) == magic, f"--plot-timeline writes a {ext.upper()} file")

# ---- libcupti already loaded by the program (as PyTorch does): found first -----------------
traced, trace = run(["preload", "run"], env={"GPUPROF_CUPTI": ""})
equal(traced.returncode, 0, "preload: exit status")
k = report_json(trace)["kernels"]
equal((k["status"], k["status_reason"], k["count"]),
      ("recording", "libcupti from already loaded by the program", 35), "preload: found loaded")

# ---- GPUPROF_KERNELS=0: nothing recorded, nothing said, memory exact -----------------------
traced, trace = run(env={"GPUPROF_KERNELS": "0"})
unchanged(plain, traced, "GPUPROF_KERNELS=0")
j = report_json(trace)
memory_exact(j, "GPUPROF_KERNELS=0")
k = no_kernels(j, "GPUPROF_KERNELS=0", "off")
equal(k["verdict"], "kernel activity was not recorded: GPUPROF_KERNELS=0", "off: verdict")
equal(k["cupti_library"], None, "off: no libcupti loaded")
check("GPUPROF_KERNELS=0" in report(trace).stdout, "off: the text report says why")

# ---- no libcupti: one warning, memory exact, the report says why ---------------------------
traced, trace = run(env={"GPUPROF_CUPTI": "/nonexistent"})
warned = unchanged(plain, traced, "no CUPTI", warnings=1)
check(warned and "kernel activity is not recorded: GPUPROF_CUPTI=/nonexistent" in warned[0],
      f"no CUPTI: warning {warned}")
j = report_json(trace)
memory_exact(j, "no CUPTI")
k = no_kernels(j, "no CUPTI", "no_cupti")
check("/nonexistent" in k["status_reason"], f"no CUPTI: reason {k['status_reason']!r}")
check("/nonexistent" in report(trace).stdout, "no CUPTI: the text report says why")

# ---- another tool holds CUPTI --------------------------------------------------------------
traced, trace = run(env={"FAKECUPTI_SUBSCRIBED": "1"})
warned = unchanged(plain, traced, "other subscriber", warnings=1)
check(warned and "another tool already holds CUPTI" in warned[0], f"other subscriber: {warned}")
j = report_json(trace)
memory_exact(j, "other subscriber")
k = no_kernels(j, "other subscriber", "busy")
check("another tool already holds CUPTI" in k["verdict"], f"other subscriber: verdict {k['verdict']!r}")

# ---- CUPTI refuses the kernel kind ---------------------------------------------------------
traced, trace = run(env={"FAKECUPTI_ENABLE_FAIL": "10"})
warned = unchanged(plain, traced, "kernel kind refused", warnings=1)
check(warned and "CUPTI_ERROR_NOT_COMPATIBLE" in warned[0], f"kernel kind refused: {warned}")
j = report_json(trace)
memory_exact(j, "kernel kind refused")
no_kernels(j, "kernel kind refused", "busy")

# ---- exit flush: kernels described just before exit() are in the trace ---------------------
traced, trace = run(["exit"], env={"GPUPROF_FLUSH_MS": "60000"})
equal(traced.returncode, 0, "exit: exit status")
j = report_json(trace)
equal(j["trace"]["truncated"], False, "exit: trace complete")
equal((j["kernels"]["count"], j["kernels"]["gpu_time_ns"]), (5, 10000), "exit: kernels flushed at exit")

# ---- background flush: kernels are on disk within a second or so, SIGKILL or not -----------
traced, trace = run(["kill"], env={"GPUPROF_FLUSH_MS": "100"})
equal(traced.returncode, -signal.SIGKILL, "kill: killed")
j = report_json(trace)
equal(j["trace"]["truncated"], True, "kill: trace truncated")
equal(j["kernels"]["count"], 4, "kill: kernels flushed in the background")

# ---- OOM: the flush before the program sees the error takes CUPTI's buffers along ----------
traced, trace = run(["oom"], env={"GPUPROF_FLUSH_MS": "60000"})
equal(traced.returncode, -signal.SIGKILL, "oom: killed right after the OOM")
check("cudaErrorMemoryAllocation" in traced.stdout, f"oom: the allocation failed ({traced.stdout!r})")
j = report_json(trace)
equal(j["events"]["oom"], 1, "oom: the OOM is in the trace")
equal(j["kernels"]["count"], 3, "oom: kernels flushed with the OOM")

# ---- the buffer pool: bounded, and every record accounted for ------------------------------
N = 20000
with tempfile.TemporaryDirectory() as d:
    traced, trace = run(["flood", str(N)])
    equal(traced.returncode, 0, "flood: exit status")
    k = report_json(trace)["kernels"]
    equal((k["count"], k["dropped_records"]), (N, 0), "flood, default pool: every kernel")
    for version, cap in (("130001", 2), ("18", 2 + 4)):  # old CUPTI: never refused, spares
        stats = os.path.join(d, "stats" + version)
        traced, trace = run(["flood", str(N)], env={
            "GPUPROF_CUPTI_BUFFER": "64K", "GPUPROF_CUPTI_BUFFERS": "2",
            "FAKECUPTI_VERSION": version, "FAKECUPTI_STATS": stats})
        equal(traced.returncode, 0, f"flood v{version}: exit status")
        k = report_json(trace)["kernels"]
        equal(k["count"] + k["dropped_records"], N, f"flood v{version}: recorded + dropped")
        check(k["count"] >= 290, f"flood v{version}: a buffer's worth at least ({k['count']})")
        with open(stats) as f:
            requested, completed, declined, distinct = map(int, f.read().split())
        check(distinct <= cap, f"flood v{version}: {distinct} buffers used, cap {cap}")
        check(completed >= k["count"] * 216 // 65536, f"flood v{version}: {completed} buffers given back")
        if version == "18":
            check(distinct > 2 or declined == 0, f"flood v18: spares used before refusing ({distinct}, {declined})")
finish()
