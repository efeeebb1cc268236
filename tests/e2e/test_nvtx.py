"""NVTX ranges reach the trace with no setup by the user (shim/nvtx_inject.c, cupti/session.c):
the shim points NVTX_INJECTION64_PATH at itself when it is unset, and hands NVTX's export table
to the libcupti its activity session uses, so the ranges of tests/nvtx/nvtx_sample (a C program
using the toolkit's nvtx3 headers; its NVTX calls and kernels are listed at the top of
nvtx_sample.c) land in the trace with their names and nesting. A value the user set is left
alone (the sample's NVTX then reaches the user's library), GPUPROF_KERNELS=0 and
GPUPROF_ENABLE=0 leave the variable unset, a missing libcupti or one without
InitializeInjectionNvtx2 turns NVTX into no-ops with the reason in the trace, a process that
inherited the variable without the shim preloaded loads no CUPTI for it, and the program's
output is the same in every case."""
import json
import os
import tempfile

from e2e import FAKE_CUPTI, SAMPLES, SHIM, check, equal, finish, report, report_json, run_sample, skip, unchanged

NVTX_DIR = os.path.join(os.path.dirname(os.path.abspath(SAMPLES)), "nvtx")
USER_LIB = os.path.join(NVTX_DIR, "libgp_nvtx_user.so")
# The fake libcupti built without InitializeInjectionNvtx2 (tests/fakecuda/cupti/CMakeLists.txt)
NONVTX_CUPTI = os.path.join(os.path.dirname(os.path.dirname(FAKE_CUPTI or "/x/x")), "cupti-nonvtx",
                            "libcupti.so.13")
SHIM_PATH = os.path.realpath(SHIM)
KERNELS = 5
# What the sample's NVTX calls reach an injection with, in order (nvtx_sample.c).
USER_LOG = ["init user injection", "mark before-cuda", "push step", "push forward", "mark checkpoint",
            "start save"]

# Every run starts with the variable unset, whatever the environment of ctest holds.
os.environ.pop("NVTX_INJECTION64_PATH", None)

if not FAKE_CUPTI:
    skip("built without the CUPTI headers (no fake libcupti)")
if not os.path.exists(os.path.join(NVTX_DIR, "nvtx_sample")):
    skip("tests/nvtx is not built (add_subdirectory(nvtx) in tests/CMakeLists.txt)")


def run(env=None, preload=True):
    """Runs nvtx_sample; returns (process, trace or None, what the sample saw as a dict)."""
    d = tempfile.mkdtemp(prefix="gpuprof-nvtx-")
    seen_file = os.path.join(d, "seen.txt")
    e = {"FAKECUPTI_PATH": FAKE_CUPTI, "NVTX_SAMPLE_ENV": seen_file, **(env or {})}
    p, trace = run_sample("nvtx_sample", env=e, preload=preload, workdir=d, directory=NVTX_DIR)
    seen = {}
    if os.path.exists(seen_file):
        with open(seen_file) as f:
            seen = dict(line.split("=", 1) for line in f.read().splitlines())
    return p, trace, seen


def nvtx_events(trace):
    """The NVTX complete events of --perfetto, in order of start: (name, tid, ts, dur)."""
    out = os.path.join(os.path.dirname(trace), "perfetto.json")
    report(trace, "--perfetto", out)
    with open(out) as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    return [(e["name"], e["tid"], e["ts"], e["dur"]) for e in events if e.get("cat") == "nvtx"]


def user_log(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read().splitlines()


# ---- no setup: the ranges are in the trace -----------------------------------------------
plain, _, plain_seen = run(preload=False)
equal(plain.returncode, 0, f"plain run exit status (stderr {plain.stderr!r})")
equal(plain_seen, {"NVTX_INJECTION64_PATH": "(unset)", "nvtx_injections": "0"}, "plain run saw")
traced, trace, seen = run()
unchanged(plain, traced, "no setup")
equal(seen, {"NVTX_INJECTION64_PATH": SHIM_PATH, "nvtx_injections": "1"},
      "the variable names the shim; CUPTI took NVTX's one injection call")
k = report_json(trace)["kernels"]
equal((k["status"], k["status_reason"], k["cupti_library"]),
      ("recording", "libcupti from GPUPROF_CUPTI", FAKE_CUPTI), "no setup: status")
equal(k["count"], KERNELS, "no setup: kernels")
# step START, forward START/END, checkpoint, step END, save START/END; the mark made before the
# first CUDA call reached CUPTI before the session enabled markers, so it is not recorded.
equal((k["nvtx_markers"], k["nvtx_ranges"]), (7, 3), "no setup: NVTX markers and ranges")
ev = nvtx_events(trace)
equal([e[0] for e in ev], ["step", "forward", "save"], "range names in order of start")
if len(ev) == 3:
    (_, step_tid, step_ts, step_dur), (_, fwd_tid, fwd_ts, fwd_dur), (_, save_tid, save_ts, _) = ev
    equal(fwd_tid, step_tid, "forward nests in step: one NVTX track")
    slack = 0.002  # ts and dur are rounded to the ns separately
    check(step_ts <= fwd_ts and fwd_ts + fwd_dur <= step_ts + step_dur + slack,
          f"forward [{fwd_ts}, +{fwd_dur}] inside step [{step_ts}, +{step_dur}]")
    check(save_ts >= step_ts + step_dur - slack, f"save ({save_ts}) starts after step ends")

# ---- the user's (or Nsight's) injection library is left alone -----------------------------
with tempfile.TemporaryDirectory() as d:
    log = os.path.join(d, "user.log")
    user = {"NVTX_INJECTION64_PATH": USER_LIB, "GP_NVTX_USER_LOG": log}
    plain, _, _ = run(user, preload=False)
    equal(user_log(log), USER_LOG, "plain run: the sample's NVTX reaches the user's library")
    os.remove(log)
    traced, trace, seen = run(user)
    unchanged(plain, traced, "user's injection")
    equal(seen, {"NVTX_INJECTION64_PATH": USER_LIB, "nvtx_injections": "0"},
          "user's injection: the variable is the user's, CUPTI got no NVTX")
    equal(user_log(log), USER_LOG, "under the shim: the sample's NVTX still reaches the user's library")
    k = report_json(trace)["kernels"]
    equal((k["status"], k["count"], k["nvtx_markers"], k["nvtx_ranges"]), ("recording", KERNELS, 0, 0),
          "user's injection: kernels recorded, no NVTX")

# ---- tracing off: the variable stays unset -----------------------------------------------
plain, _, _ = run(preload=False)
for setting, status in (("GPUPROF_KERNELS", "off"), ("GPUPROF_ENABLE", None)):
    traced, trace, seen = run({setting: "0"})
    unchanged(plain, traced, f"{setting}=0")
    equal(seen, {"NVTX_INJECTION64_PATH": "(unset)", "nvtx_injections": "0"}, f"{setting}=0: the sample saw")
    if status:
        k = report_json(trace)["kernels"]
        equal((k["status"], k["nvtx_markers"]), (status, 0), f"{setting}=0: status, NVTX markers")
    else:
        equal(trace, None, f"{setting}=0: no trace (pass-through)")

# ---- no libcupti: NVTX runs as without an injection, the trace says why ----------------------
missing = "/nonexistent/libcupti.so.13"
traced, trace, seen = run({"GPUPROF_CUPTI": missing})
warnings = unchanged(plain, traced, "no libcupti", warnings=1)
equal(seen, {"NVTX_INJECTION64_PATH": SHIM_PATH, "nvtx_injections": "0"}, "no libcupti: the sample saw")
k = report_json(trace)["kernels"]
equal((k["status"], k["status_reason"], k["count"], k["nvtx_markers"]),
      ("no_cupti", f"GPUPROF_CUPTI={missing}: no libcupti there", 0, 0), "no libcupti: trace")

# ---- a libcupti without InitializeInjectionNvtx2: kernels yes, NVTX no, said once -----------
traced, trace, seen = run({"GPUPROF_CUPTI": NONVTX_CUPTI})
why = f"{NONVTX_CUPTI} has no InitializeInjectionNvtx2"
warnings = unchanged(plain, traced, "CUPTI without the NVTX entry", warnings=1)
equal(warnings, [f"gpuprof: NVTX ranges are not recorded: {why}"], "CUPTI without the NVTX entry: warning")
equal(seen, {"NVTX_INJECTION64_PATH": SHIM_PATH, "nvtx_injections": "0"}, "no NVTX entry: the sample saw")
k = report_json(trace)["kernels"]
equal((k["status"], k["status_reason"], k["cupti_library"], k["count"], k["nvtx_markers"]),
      ("recording", f"libcupti from GPUPROF_CUPTI; NVTX ranges are not recorded: {why}", NONVTX_CUPTI,
       KERNELS, 0), "no NVTX entry: trace")

# ---- the variable inherited without the shim preloaded: NVTX loads the shim, nothing more --
traced, trace, seen = run({"NVTX_INJECTION64_PATH": SHIM_PATH}, preload=False)
unchanged(plain, traced, "inherited variable, no preload")
equal((trace, seen), (None, {"NVTX_INJECTION64_PATH": SHIM_PATH, "nvtx_injections": "0"}),
      "inherited variable, no preload: no trace, CUPTI never given NVTX")

finish()
