"""Tensor Cores, layer 5: GPUPROF_COUNTERS=1 reads the GPU's Tensor Core counters over the run
through CUPTI's Range Profiler (cupti/counters.c), on the fake libcupti.so.13 whose profiling
API (tests/fakecuda/cupti/fake_cupti_counters.c) answers values, a permission refusal, a chip
without the metrics, zeros, or a Hopper chip whose four metrics need two passes (FAKECUPTI_COUNTERS).
Checked exactly: the one warning and its fix, the counters.* INFO records as the report's
"tensor_counters" JSON object and its text section, that kernel and memory tracing go on, that
the program's own output is unchanged, and that GPUPROF_COUNTERS=0 (the default) makes not one
counter call (the fake's call count, FAKECUPTI_COUNTERS_STATS)."""
import os
import tempfile

from e2e import FAKE_CUPTI, SAMPLES, equal, finish, report, report_json, run_sample, skip, unchanged

CUPTI_TESTS = os.path.join(os.path.dirname(os.path.abspath(SAMPLES)), "cupti")
OLD_CUPTI = os.path.join(os.path.dirname(os.path.dirname(FAKE_CUPTI or "/")), "cupti-nonvtx",
                         "libcupti.so.13")
HMMA = "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active"
GMMA = "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active"
PIPE = "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active"
INST = "sm__inst_executed_pipe_tensor.sum"
FIX = ("run as root or with CAP_SYS_ADMIN, or let every user read the counters: put the line "
       "\"options nvidia NVreg_RestrictProfilingToAdminUsers=0\" in a file under /etc/modprobe.d/ "
       "(e.g. nvidia-profiling.conf), then reload the nvidia kernel module or reboot; Nsight "
       "Compute needs the same")
WARN_DENIED = ("gpuprof: Tensor Core counters (GPUPROF_COUNTERS=1) are not collected: the NVIDIA "
               "driver lets only admin users read GPU performance counters "
               "(CUPTI_ERROR_INSUFFICIENT_PRIVILEGES). Fix: run as root or with CAP_SYS_ADMIN, or "
               "allow all users with 'options nvidia NVreg_RestrictProfilingToAdminUsers=0' in a "
               "file in /etc/modprobe.d/, then reload the nvidia module or reboot (Nsight Compute "
               "needs the same). Tracing goes on")

if not FAKE_CUPTI:
    skip("built without the CUPTI headers (no fake libcupti)")

plain, _ = run_sample("cupti_kernels", ["run"], preload=False, directory=CUPTI_TESTS,
                      env={"FAKECUPTI_PATH": FAKE_CUPTI})
stats_dir = tempfile.mkdtemp(prefix="gpuprof-counters-")


def run(what, counters=None, mode=None, cupti=None, args=("run",)):
    """cupti_kernels under the shim; returns (process, trace, JSON report, fake's stats)."""
    stats = os.path.join(stats_dir, what.replace(" ", "_"))
    env = {"FAKECUPTI_PATH": FAKE_CUPTI, "FAKECUPTI_COUNTERS_STATS": stats}
    if counters is not None:
        env["GPUPROF_COUNTERS"] = counters
    if mode is not None:
        env["FAKECUPTI_COUNTERS"] = mode
    if cupti is not None:
        env["GPUPROF_CUPTI"] = env["FAKECUPTI_PATH"] = cupti
    p, trace = run_sample("cupti_kernels", list(args), env=env, directory=CUPTI_TESTS)
    got = None
    if os.path.exists(stats):
        with open(stats) as f:
            got = f.read().strip()
    return p, trace, report_json(trace), got


def layer5(trace):
    """The lines of the text report's layer-5 section ([] when there is none)."""
    lines = report(trace).stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Tensor Cores (layer 5"):
            end = next((k for k in range(i + 1, len(lines)) if not lines[k].startswith("  ")), len(lines))
            return lines[i:end]
    return []


def tracing_goes_on(j, what):
    equal((j["kernels"]["status"], j["kernels"]["count"]), ("recording", 35), f"{what}: kernels recorded")
    equal(j["memory"]["peak_reserved_bytes"], 5 << 20, f"{what}: device peak")


# ---- off (the default, and 0): no counter call at all, nothing in the report ---------------
for what, value in (("default", None), ("off", "0")):
    p, trace, j, stats = run(what, counters=value)
    unchanged(plain, p, what)
    equal(stats, "calls=0 ranges=0", f"{what}: counter API calls")
    equal(j["tensor_counters"], None, f"{what}: JSON tensor_counters")
    equal(layer5(trace), [], f"{what}: no layer-5 text section")
    tracing_goes_on(j, what)

# ---- values: one range over the run, the metrics the chip names ----------------------------
p, trace, j, stats = run("values", counters="1", mode="values")
unchanged(plain, p, "values")
equal(stats.split()[1], "ranges=1", "values: ranges decoded by the fake")
equal(j["tensor_counters"], {
    "status": "collected", "reason": None, "fix": None, "scope": "run", "chip": "GA100",
    "device": 0,
    "metrics": [{"name": HMMA, "value": 37.5}, {"name": INST, "value": 123456}],
    "tensor_work_seen": True}, "values: JSON")
equal(layer5(trace), [
    "Tensor Cores (layer 5: hardware counters over the whole run, device 0, chip GA100)",
    "  Tensor Core pipe busy with HMMA: 37.5% of active SM cycles",
    f"    ({HMMA})",
    "  Tensor Core instructions executed (per warp): 123456",
    f"    ({INST})",
    "  verdict (layer 5): the GPU's counters saw Tensor Core work in this run"], "values: text")
tracing_goes_on(j, "values")
# no kernel of this program is a GEMM/conv kernel by name (and no cubin was saved): there is no
# kernel-based answer for the counters to join or contradict (tests/report/test_tensor_layers.c
# checks the headline with counters and both contradictions)
equal((j["tensor_cores"]["headline"], j["tensor_cores"]["contradiction"]), (None, None),
      "values: no Tensor Cores headline without GEMM/conv kernels")

# ---- idle: the counters ran and saw nothing on the Tensor Cores ------------------------------
p, trace, j, _ = run("idle", counters="1", mode="idle")
equal(([m["value"] for m in j["tensor_counters"]["metrics"]], j["tensor_counters"]["tensor_work_seen"]),
      ([0, 0], False), "idle: JSON")
equal(layer5(trace)[1], "  Tensor Core pipe busy with HMMA: 0% of active SM cycles", "idle: text")
equal(layer5(trace)[-1], "  verdict (layer 5): the GPU's counters saw no Tensor Core work in this run: "
      "nothing ran on Tensor Cores", "idle: verdict")

# ---- Hopper: four metrics need two passes, so the last is left out --------------------------
p, trace, j, stats = run("hopper", counters="1", mode="hopper")
unchanged(plain, p, "hopper")
equal([(m["name"], m["value"]) for m in j["tensor_counters"]["metrics"]],
      [(PIPE, 41.25), (HMMA, 3.5), (GMMA, 40)], "hopper: metrics in one pass")
equal(j["tensor_counters"]["chip"], "GH100", "hopper: chip")
equal(layer5(trace)[1:3], ["  Tensor Core pipe busy (every MMA kind): 41.25% of active SM cycles",
                           f"    ({PIPE})"], "hopper: text")

# ---- no permission: at the availability image, or only at the start -------------------------
for mode, step in (("denied", "cuptiProfilerGetCounterAvailability"),
                   ("denied_start", "cuptiRangeProfilerStart")):
    p, trace, j, stats = run(mode, counters="1", mode=mode)
    equal(unchanged(plain, p, mode, warnings=1), [WARN_DENIED], f"{mode}: the warning")
    equal(stats.split()[1], "ranges=0", f"{mode}: nothing decoded")
    reason = f"{step}: CUPTI_ERROR_INSUFFICIENT_PRIVILEGES"
    equal(j["tensor_counters"], {
        "status": "no_permission", "reason": reason, "fix": FIX, "scope": None, "chip": "GA100",
        "device": 0, "metrics": [], "tensor_work_seen": None}, f"{mode}: JSON")
    equal(layer5(trace), [
        "Tensor Cores (layer 5: hardware counters over the whole run, device 0, chip GA100)",
        f"  not collected: no permission to read the GPU's performance counters ({reason})",
        f"  fix: {FIX}"], f"{mode}: text")
    tracing_goes_on(j, mode)

# ---- a chip without the metrics; a CUPTI without the Range Profiler -------------------------
p, trace, j, _ = run("nometrics", counters="1", mode="nometrics")
why = "chip TU117 has none of the Tensor Core metrics gpuprof knows"
equal(unchanged(plain, p, "nometrics", warnings=1),
      [f"gpuprof: Tensor Core counters (GPUPROF_COUNTERS=1) are not collected: {why}; kernel and "
       "memory tracing go on"], "nometrics: the warning")
equal((j["tensor_counters"]["status"], j["tensor_counters"]["reason"]), ("unsupported", why),
      "nometrics: status")
equal(layer5(trace)[1:], [f"  not collected (unsupported): {why}"], "nometrics: text")
tracing_goes_on(j, "nometrics")

p, trace, j, _ = run("old cupti", counters="1", cupti=OLD_CUPTI)
why = f"{OLD_CUPTI} has no cuptiProfilerInitialize (the Range Profiler is in CUPTI 12.6 and newer)"
equal(unchanged(plain, p, "old cupti", warnings=1),
      [f"gpuprof: Tensor Core counters (GPUPROF_COUNTERS=1) are not collected: {why}; kernel and "
       "memory tracing go on"], "old cupti: the warning")
equal((j["tensor_counters"]["status"], j["tensor_counters"]["reason"], j["tensor_counters"]["chip"]),
      ("unsupported", why, None), "old cupti: status")
tracing_goes_on(j, "old cupti")

# ---- killed before the exit handler: started, no values, and the report says why ------------
p, trace, j, _ = run("killed", counters="1", mode="values", args=("kill",))
equal(p.returncode, -9, "killed: SIGKILL")
equal((j["tensor_counters"]["status"], j["tensor_counters"]["metrics"]), ("started", []), "killed: JSON")
equal(layer5(trace)[1:], ["  no values: the run ended before gpuprof's exit handler read the counters "
                          "(killed, _exit, exec, or a crash)"], "killed: text")
finish()
