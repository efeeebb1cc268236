"""torch_checks.py: tools/gpu-check's PyTorch groups (train, fit) and the checks that read the
newer parts of the report: the PyTorch adapter's `torch` section (allocated and reserved peaks
against PyTorch's own, OOM forensics), AMP against no-AMP Tensor Core verdicts (layer 1, what
each cuBLAS call asked for; layer 3, the kernels' names), NVTX ranges, the run's `environment`,
the overhead against torch.profiler and the `fit` batch-size advisor.

As in checks.py, running is kept apart from judging: each eval_* function takes finished runs
(checks.Result) and adds rows to a Table, so tests/e2e/test_gpu_check_judge.py feeds them
canned runs. On the stand-ins (--fake) the PyTorch runs use tools/gpucheck/fake_train.py on the
stand-in torch (tests/faketorch), so the adapter, the OOM forensics and the whole fit procedure
(three labelled runs, `fit --json`, a run at max_batch, one at 1.15x) run for real there; what
needs real kernels (AMP verdicts, NVTX, overhead) is skipped with the reason."""
import json
import os
import subprocess
import sys

import checks
from checks import MIB, Skip, dummy, last_line, num

# Allocated and reserved peaks: gpuprof's replay against PyTorch's own statistics.
PEAK_TOLERANCE = 0.01
# Layer 3 (kernel names): the share of GEMM time on Tensor Core kernels with --amp at least
# this, without it (fp32, no TF32) at most NOAMP_TC_MAX (or no classed kernel at all).
AMP_TC_MIN = 0.8
NOAMP_TC_MAX = 0.2
# The traced train.py runs; --nvtx rides on the AMP run (its ranges cost nothing measurable).
TRAIN_VARIANTS = {"default": [], "expandable": ["--expandable-segments"],
                  "amp": ["--amp", "--nvtx"], "oom": ["--oom"]}
# The fit runs: activations dominate (a 64 KiB input row per sample, a 64-wide hidden layer),
# so memory is linear in the batch and a step at the largest batch the device holds (about
# 1.2 M samples on an 80 GB H100) takes a fraction of a second. Three short labelled runs, with
# batches large enough (2 to 8 GiB of inputs) that every big tensor has a segment of its own
# size: the fit's fragmentation allowance (reserved but unallocated next to the peak) then
# stays near 1%, and 1.15x the predicted batch cannot fit.
FIT_MODEL = ["--features", "16384", "--hidden", "64", "--layers", "2", "--classes", "16",
             "--steps", "3", "--warmup", "1"]
FIT_BATCHES = (32768, 65536, 131072)
# On the stand-ins: fake_train.py with these bytes per sample and fixed bytes, on a device of
# FAKE_DEVICE bytes (FAKECUDA_DEVICE_MEM); every tensor over 10 MiB, as above.
FAKE_DEVICE = "1G"
FAKE_MODEL = ["--per-sample", str(64 * 1024), "--fixed", str(32 * MIB), "--steps", "3"]
FAKE_BATCHES = (1024, 2048, 4096)
STAND_INS_KERNELS = "needs real kernels and PyTorch (the stand-in torch has no models)"


def ceil_to(n, m):
    return -(-n // m) * m


def within(got, want, tol):
    return want > 0 and abs(got - want) <= tol * want


# ---------------------------------------------------------------------------------------------
# Judging

def eval_torch_memory(t, variant, traced):
    """The adapter's account of one run against the script's own statistics."""
    def truth():
        return traced.truth(sample="train")

    def torch_section():
        s = traced.j.get("torch")
        if not s:
            raise RuntimeError("no torch section: the adapter did not run")
        return s

    def allocated():
        s, m = torch_section(), traced.j["memory"]
        want, got = truth()["max_memory_allocated"], s["peak_allocated_bytes"]
        same = m.get("peak_allocated_bytes") == got
        return (f"{num(got)} ({got / want - 1:+.2%}){'' if same else '; memory.peak_allocated_bytes ' + num(m.get('peak_allocated_bytes'))}",
                within(got, want, PEAK_TOLERANCE) and same)
    t.check(f"train {variant}: allocated peak = max_memory_allocated",
            lambda: f"{num(truth()['max_memory_allocated'])} +- 1% (torch.peak_allocated_bytes)",
            allocated)

    def reserved():
        want, got = truth()["max_memory_reserved"], torch_section()["peak_reserved_bytes"]
        return f"{num(got)} ({got / want - 1:+.2%})", within(got, want, PEAK_TOLERANCE)
    t.check(f"train {variant}: reserved peak = max_memory_reserved",
            lambda: f"{num(truth()['max_memory_reserved'])} +- 1% (torch.peak_reserved_bytes)",
            reserved)

    def events():
        s = torch_section()
        return (f"events {num(s['events'])}, history_lost {s['history_lost']}, unknown frees "
                f"{s['unknown_frees']}", s["events"] > 0 and s["history_lost"] == 0)
    t.check(f"train {variant}: allocator events", "events > 0, history_lost 0", events)


def eval_train(t, variant, traced, plain=None, fake=False):
    """train.py (default, expandable, amp) under the shim: the shim's device peak holds at
    least PyTorch's reserved peak; the adapter's peaks equal PyTorch's own."""
    def truth():
        return traced.truth(sample="train")

    checks.check_runs(t, f"train {variant}", None, traced, 0)

    def peak():
        p = traced.j["memory"]["peak_reserved_bytes"]
        r = truth()["max_memory_reserved"]
        return f"{num(p)} ({p / r:.3f}x reserved)" if r else num(p), p >= r and r > 0
    t.check(f"train {variant}: trace peak >= max_memory_reserved",
            lambda: f">= {num(truth()['max_memory_reserved'])} (PyTorch's own)", peak)
    eval_torch_memory(t, variant, traced)
    if variant == "expandable":
        def physical():
            k = traced.j["events"]["allocs_by_kind"]
            snap = truth().get("expandable_in_snapshot")
            setting = (traced.j.get("torch") or {}).get("expandable_segments")
            return (f"cuMemCreate {k['physical']}, cuMemMap {k['mapping']} (snapshot says "
                    f"expandable: {snap}; torch.expandable_segments: {setting})",
                    k["physical"] > 0 and k["mapping"] > 0 and setting is True)
        t.check("train expandable: segments via cuMemCreate",
                "> 0 cuMemCreate and cuMemMap; torch.expandable_segments true", physical)
    if variant == "default":
        if fake:
            t.skip("train default: step time under the shim",
                   f"<= {checks.STEP_TIME_LIMIT}x the median step without the shim", STAND_INS_KERNELS)
            return

        def step_time():
            a = truth()["step_time_ms_median"]
            b = plain.truth(sample="train")["step_time_ms_median"]
            return f"{a:.2f} ms vs {b:.2f} ms without ({a / b:.2f}x)", a <= checks.STEP_TIME_LIMIT * b
        t.check("train default: step time under the shim",
                f"<= {checks.STEP_TIME_LIMIT}x the median step without the shim", step_time)


def eval_train_oom(t, traced, label_batch=None):
    """train.py --oom (labelled batch=N): the shim's OOM events and PyTorch's OOM forensics
    (torch.ooms[0]: sizes, device, fatal, advice)."""
    def truth():
        return traced.truth(sample="train")

    checks.check_runs(t, "train oom", None, traced, 1)

    def shim_oom():
        j = traced.j
        events = j["oom"]
        real = [o for o in events if o["requested_bytes"] > o["device_free_bytes"]]
        shown = "; ".join(f"{o['api']} {num(o['requested_bytes'])} (free "
                          f"{num(o['device_free_bytes'])})" for o in events[:3]) or "none"
        return (f"{j['oom_total']} event(s): {shown}",
                j["oom_total"] >= 1 and len(real) == len(events) and truth().get("oom"))
    t.check("train oom: OOM recorded", lambda: ">= 1 OOM event, each asking for more than was "
            f"free (PyTorch: {truth()['error'][:80]})", shim_oom)

    def first():
        s = traced.j.get("torch") or {}
        if not s.get("ooms"):
            raise RuntimeError(f"no torch.ooms (torch.oom_total {s.get('oom_total')})")
        return s["ooms"][0]

    def request():
        return ceil_to(truth()["failed_tensor_bytes"], 512)

    def sizes():
        o = first()
        seg = o["segment_request_bytes"]
        ok = (o["request_bytes"] == request() and seg is not None and
              seg == ceil_to(request(), 2 * MIB))
        return f"request {num(o['request_bytes'])}, segment {num(seg)}", ok
    t.check("train oom: request and segment sizes",
            lambda: f"request {num(request())} (the tensor, rounded to 512), segment "
            f"{num(ceil_to(request(), 2 * MIB))} (rounded to 2 MiB)", sizes)

    def device():
        o = first()
        total, free = o["device_total_bytes"], o["device_free_bytes"]
        want = truth().get("total_memory")
        ok = total is not None and free is not None and 0 <= free < total and \
            (want is None or within(total, want, 0.01))
        return f"total {num(total)}, free {num(free)}", ok
    t.check("train oom: device total and free",
            lambda: (f"total {num(truth()['total_memory'])} +- 1% (PyTorch's), free < total"
                     if truth().get("total_memory") else "total known, free < total"), device)

    def fatal():
        o = first()
        return f"fatal {o['fatal']}, recovered {o['recovered']}", o["fatal"] is True and \
            o["recovered"] is False
    t.check("train oom: fatal", "fatal true, recovered false (the script died of it)", fatal)

    def advice():
        kinds = [a["kind"] for a in first()["advice"]]
        text = "; ".join(a["text"][:70] for a in first()["advice"][:2])
        ok = bool(kinds) and (label_batch is None or "batch_size" in kinds)
        return f"{', '.join(kinds) or 'none'}: {text}", ok
    t.check("train oom: advice",
            "at least one piece of advice" + (f"; batch_size (labelled batch={label_batch})"
                                              if label_batch else ""), advice)


def tc_summary(j):
    tc = j["tensor_cores"]
    v = tc["by_verdict"]
    frac = tc.get("tc_fraction")
    kinds = ", ".join(f"{k['verdict']} {k['name'][:40]}" for k in tc["kernels"]["list"][:2])
    return (f"layer 1: allowed {v['allowed']['calls']}, slowed {v['slowed']['calls']}, "
            f"not_allowed {v['not_allowed']['calls']}, unknown {v['unknown']['calls']}; layer 3: "
            f"tc_fraction {'null' if frac is None else f'{frac:.2f}'}"
            f"{' (' + kinds + ')' if kinds else ''}")


def eval_amp(t, noamp, amp):
    """The same MLP without and with autocast: opposite Tensor Core answers, from what the
    cuBLAS calls asked for (layer 1) and from the kernels' names (layer 3)."""
    def fp32():
        j = noamp.j
        tf32 = noamp.truth(sample="train").get("matmul_tf32")
        if tf32:
            raise Skip("the run allowed TF32 (torch.backends.cuda.matmul.allow_tf32)")
        v = j["tensor_cores"]["by_verdict"]
        frac = j["tensor_cores"].get("tc_fraction")
        ok = (v["not_allowed"]["calls"] > 0 and v["allowed"]["calls"] + v["slowed"]["calls"] == 0
              and (frac is None or frac <= NOAMP_TC_MAX))
        return tc_summary(j), ok
    t.check("train default: no-AMP Tensor Core verdict",
            f"fp32 without TF32: layer 1 not_allowed only; layer 3 tc_fraction <= {NOAMP_TC_MAX} "
            "or no classed kernel", fp32)

    def fp16():
        j = amp.j
        v = j["tensor_cores"]["by_verdict"]
        prec = j["tensor_cores"]["by_precision"]
        frac = j["tensor_cores"].get("tc_fraction")
        ok = (prec.get("fp16", {}).get("calls", 0) > 0 and v["not_allowed"]["calls"] == 0 and
              frac is not None and frac >= AMP_TC_MIN)
        return tc_summary(j), ok
    t.check("train amp: AMP Tensor Core verdict",
            f"fp16 calls, none not_allowed; layer 3 tc_fraction >= {AMP_TC_MIN}", fp16)


def eval_nvtx(t, traced, ranges):
    """train.py --nvtx: its ranges ("step" and "forward", one each per step) in the report,
    by name (`ranges`: {name: count} from --perfetto) and in kernels.nvtx_ranges."""
    def want():
        return traced.truth(sample="train")["nvtx_ranges"]

    def measure():
        if ranges is None:
            raise RuntimeError("no --perfetto output")
        k = traced.j["kernels"]
        got = {n: ranges.get(n, 0) for n in want()}
        total = sum(want().values())
        return (f"{', '.join(f'{n} {c}' for n, c in sorted(got.items()))}; kernels.nvtx_ranges "
                f"{k['nvtx_ranges']}", got == want() and k["nvtx_ranges"] >= total)
    t.check("train amp: NVTX ranges (torch.cuda.nvtx)",
            lambda: ", ".join(f"{n} {c}" for n, c in sorted(want().items())) +
            " (the script's count, by name)", measure)


def eval_environment(t, name, traced, gpu, runtime=None):
    """The `environment` section: the GPU's name (and the driver's version) as nvidia-smi
    gives them, the CUDA driver and runtime versions, no driver warning. `gpu`: {"name",
    "driver" (None: not compared), "proc_version" (whether /proc/driver/nvidia/version exists
    here; default True)}."""
    def measure():
        e = traced.j["environment"]
        gpus = e.get("gpus") or []
        got = gpus[0]["name"] if gpus else None
        # The shim reads the kernel driver's version from /proc/driver/nvidia/version: where
        # this machine has no such file (gVisor), null is the right answer.
        driver_ok = (gpu.get("driver") is None or e["nvidia_driver"] == gpu["driver"] or
                     (e["nvidia_driver"] is None and not gpu.get("proc_version", True)))
        ok = (got == gpu["name"] and e["cuda_driver_version"] is not None and
              e["cuda_runtime_version"] is not None and driver_ok and
              (runtime is None or e["cuda_runtime_version"] == runtime))
        return (f"GPU {got}, driver {e['nvidia_driver']}, CUDA driver {e['cuda_driver_version']}"
                f", runtime {e['cuda_runtime_version']}", ok)
    want = f"GPU {gpu['name']}" + (f", driver {gpu['driver']}" if gpu.get("driver") else "") + \
        ", CUDA driver and runtime versions" + (f" (runtime {runtime})" if runtime else "")
    t.check(f"{name}: environment recorded", want, measure)
    t.check(f"{name}: no driver warning", "environment.driver_warning null",
            lambda: (str(traced.j["environment"]["driver_warning"]),
                     traced.j["environment"]["driver_warning"] is None))


def eval_overhead(t, plain, traced, profiled):
    """Median step time of the same train.py run with no tool, under gpuprof, and under
    torch.profiler with CPU and CUDA activities (all in this kit's run, on this device)."""
    def measure():
        a = plain.truth(sample="train")["step_time_ms_median"]
        g = traced.truth(sample="train")["step_time_ms_median"]
        p = profiled.truth(sample="train")["step_time_ms_median"]
        return (f"gpuprof {g:.2f} ms ({g / a:.2f}x), torch.profiler {p:.2f} ms ({p / a:.2f}x), "
                f"no tool {a:.2f} ms", g <= p)
    t.check("train: overhead vs torch.profiler",
            "gpuprof's median step <= torch.profiler's (CPU + CUDA activities)", measure)


def eval_fit(t, points, fit, at_max, over, batches):
    """The batch-size advisor: three labelled runs, `fit --json`, then a run at max_batch
    (fits) and one at 1.15x max_batch (runs out of memory). `fit` is the parsed JSON (or a
    Result whose .report is)."""
    def labelled():
        shown = []
        ok = True
        for b, r in zip(batches, points):
            label = ((r.report or {}).get("run") or {}).get("label")
            alloc = ((r.report or {}).get("memory") or {}).get("peak_allocated_bytes")
            shown.append(f"{label}: exit {r.rc}, allocated peak {num(alloc)}")
            ok = ok and r.rc == 0 and label == f"batch={b}" and alloc
        return "; ".join(shown), ok
    t.check("fit: labelled runs", ", ".join(f"batch={b}" for b in batches) +
            ": exit 0, allocated peak recorded", labelled)

    def prediction():
        f = fit.j
        got = [p["batch"] for p in f["points"]]
        mb = f["max_batch"]
        ok = (got == list(batches) and f["peak_source"] == "allocated" and f["linear"] is True
              and isinstance(mb, int) and mb > batches[-1])
        return (f"max_batch {num(mb)}, fixed {num(f['fixed_bytes'])}, per sample "
                f"{num(f['per_sample_bytes'])}, headroom {f['headroom_fraction']}, residual "
                f"{num(f['residual_bytes'])}, device {num(f['device_total_bytes'])}, "
                f"{f['peak_source']}, linear {f['linear']}", ok)
    t.check("fit: prediction", f"from allocated peaks, linear, max_batch > {batches[-1]}",
            prediction)

    def fits():
        if at_max is None:
            raise RuntimeError("not run: no max_batch")
        tr = at_max.truth(sample="train")
        total = tr.get("total_memory")
        share = f" ({tr['max_memory_reserved'] / total:.1%} of the device reserved)" \
            if total and tr.get("max_memory_reserved") else ""
        return (f"batch {num(tr['batch_size'])}: exit {at_max.rc}, oom {tr['oom']}{share}",
                at_max.rc == 0 and tr["oom"] is False)
    t.check("fit: predicted batch size fits", "a run at max_batch completes", fits)

    def fails():
        if over is None:
            raise RuntimeError("not run: no max_batch")
        tr = over.truth(sample="train")
        return (f"batch {num(tr['batch_size'])}: exit {over.rc}, oom {tr['oom']}",
                over.rc == 1 and tr["oom"] is True)
    t.check("fit: +15% fails", "a run at 1.15x max_batch runs out of memory (exit 1)", fails)


# ---------------------------------------------------------------------------------------------
# Running

def skip_rows(t, group, reason):
    """The group's rows, every one a SKIP with `reason`; nothing runs."""
    with t.skipping(reason):
        if group == "train":
            for variant in ("default", "expandable", "amp"):
                eval_train(t, variant, dummy(), dummy())
            eval_train_oom(t, dummy())
            eval_amp(t, dummy(), dummy())
            eval_nvtx(t, dummy(), None)
            eval_environment(t, "train", dummy(), {"name": "?"})
            eval_overhead(t, dummy(), dummy(), dummy())
        elif group == "fit":
            eval_fit(t, [dummy()] * 3, dummy(), None, None, FIT_BATCHES)


def torch_version(python):
    """('PyTorch x (CUDA y)', total memory of device 0) or (None, why)."""
    try:
        p = subprocess.run([python, "-c", "import torch; print(torch.__version__, "
                            "torch.version.cuda, torch.cuda.is_available())"],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if p.returncode != 0:
        return None, last_line(p.stderr).lstrip(": ") or "import torch failed"
    v = p.stdout.split()
    if len(v) < 3 or v[2] != "True":
        return None, f"PyTorch {v[0] if v else '?'} sees no CUDA device"
    return f"PyTorch {v[0]} (CUDA {v[1]})", None


def train_setup(fake, opts):
    """(argv prefix, extra environment, why not) for train.py runs: the real script, or on
    the stand-ins fake_train.py on the stand-in torch."""
    python = opts["python"]
    if fake:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_train.py")
        faketorch = os.path.join(opts["top"], "tests", "faketorch")
        if not os.path.isdir(os.path.join(faketorch, "torch")):
            return None, None, "no stand-in torch (tests/faketorch)"
        return [python, script], {"PYTHONPATH": faketorch, "FAKECUDA_DEVICE_MEM": FAKE_DEVICE,
                                  "PYTHONUNBUFFERED": "1"}, None
    if "torch_version" not in opts:
        opts["torch_version"] = torch_version(python)
        if opts["torch_version"][0]:
            opts["header_extra"].append(opts["torch_version"][0])
    why = opts["torch_version"][1]
    script = os.path.join(opts["top"], "samples", "pytorch", "train.py")
    return [python, script], {"PYTHONUNBUFFERED": "1"}, why


def nvtx_ranges(r, traced):
    """{range name: count} from gpuprof-report --perfetto of the run's trace, or None."""
    if not traced.trace:
        return None
    out = os.path.join(r.work, f"{traced.name}.perfetto.json")
    try:
        p = subprocess.run([r.report_tool, "--perfetto", out, traced.trace], env=r.report_env(),
                           capture_output=True, text=True, timeout=180)
        if p.returncode != 0:
            return None
        with open(out) as f:
            doc = json.load(f)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    finally:
        if os.path.exists(out):
            os.remove(out)  # large; the trace in the archive has it
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    counts = {}
    for e in events:
        if e.get("cat") == "nvtx":
            counts[e["name"]] = counts.get(e["name"], 0) + 1
    return counts


def run_train(t, r, fake, opts):
    """train.py: plain, traced (default, expandable, amp + nvtx, oom), under torch.profiler.
    On an H100 about 60 s: seven Python start-ups with CUDA (about 6 s each), 30 short steps."""
    argv, env, why = train_setup(fake, opts)
    if why:
        return skip_rows(t, "train", why)
    if fake:
        plain = None
        traced = r.run("train_default", argv + FAKE_MODEL, extra_env=env, timeout=120)
        eval_train(t, "default", traced, fake=True)
        with t.skipping("the stand-in torch has no expandable segments"):
            eval_train(t, "expandable", dummy())
        oom_batch = fake_oom_batch()
        oom = r.run("train_oom", argv + FAKE_MODEL + ["--oom"],
                    extra_env={**env, "GPUPROF_LABEL": f"batch={oom_batch}"}, timeout=120)
        eval_train_oom(t, oom, oom_batch)
        with t.skipping(STAND_INS_KERNELS):
            eval_train(t, "amp", dummy())
            eval_amp(t, dummy(), dummy())
            eval_nvtx(t, dummy(), None)
        eval_environment(t, "train", traced, opts["gpu"])
        with t.skipping(STAND_INS_KERNELS):
            eval_overhead(t, dummy(), dummy(), dummy())
        return
    plain = r.run("train_default.plain", argv, shim=False, extra_env=env, timeout=300)
    runs = {}
    for variant in ("default", "expandable", "amp"):
        runs[variant] = r.run(f"train_{variant}", argv + TRAIN_VARIANTS[variant], extra_env=env,
                              timeout=300)
        eval_train(t, variant, runs[variant], plain if variant == "default" else None)
    total = plain_total(plain)
    label = None if total is None else train_oom_batch(total)
    oom_env = dict(env, GPUPROF_LABEL=f"batch={label}") if label else env
    eval_train_oom(t, r.run("train_oom", argv + ["--oom"], extra_env=oom_env, timeout=300), label)
    eval_amp(t, runs["default"], runs["amp"])
    eval_nvtx(t, runs["amp"], nvtx_ranges(r, runs["amp"]))
    try:
        runtime = plain.truth(sample="train").get("cuda")
    except RuntimeError:
        runtime = None
    eval_environment(t, "train", runs["default"], opts["gpu"], runtime)
    profiled = r.run("train_profiler.plain", argv + ["--profiler"], shim=False, extra_env=env,
                     timeout=300)
    eval_overhead(t, plain, runs["default"], profiled)


def plain_total(plain):
    try:
        return plain.truth(sample="train")["total_memory"]
    except (RuntimeError, KeyError):
        return None


def train_oom_batch(total):
    """train.py's --oom batch for this device (its own oom_batch(), with its default
    --hidden), for the run's batch=N label."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "samples", "pytorch"))
    try:
        import train
    finally:
        sys.path.pop(0)
    return train.oom_batch(total, train.parse_args([]).hidden)


def fake_oom_batch():
    import fake_train
    return fake_train.oom_batch(fake_train.parse_size(FAKE_DEVICE), fake_train.parse_args([]))


def run_fit(t, r, fake, opts):
    """The fit advisor end to end. On an H100 about 40 s: three labelled runs (about 6 s
    each), the report, a run at max_batch (about 80 GB of activations; about 8 s) and one at
    1.15x (fails at its first step)."""
    argv, env, why = train_setup(fake, opts)
    if why:
        return skip_rows(t, "fit", why)
    model, batches = (FAKE_MODEL, FAKE_BATCHES) if fake else (FIT_MODEL, FIT_BATCHES)
    points = []
    for b in batches:
        points.append(r.run(f"fit_b{b}", argv + model + ["--batch-size", str(b)],
                            extra_env=dict(env, GPUPROF_LABEL=f"batch={b}"), timeout=300))
    fit = checks.Result(name="fit")
    traces = [p.trace for p in points if p.trace]
    if len(traces) == len(points):
        try:
            p = subprocess.run([r.report_tool, "fit", "--json", *traces], env=r.report_env(),
                               capture_output=True, text=True, timeout=180)
            fit.rc, fit.out, fit.err = p.returncode, p.stdout, p.stderr
            with open(os.path.join(r.work, "fit.json"), "w") as f:
                f.write(p.stdout + p.stderr)
            if p.returncode == 0:
                fit.report = json.loads(p.stdout)
            else:
                fit.report_error = f"gpuprof-report fit exit {p.returncode}{last_line(p.stderr)}"
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            fit.report_error = f"gpuprof-report fit: {e}"
    else:
        fit.report_error = "a labelled run left no trace"
    at_max = over = None
    mb = (fit.report or {}).get("max_batch")
    if isinstance(mb, int) and mb > 0:
        at_max = r.run("fit_max.plain", argv + model + ["--batch-size", str(mb)], shim=False,
                       extra_env=env, timeout=300)
        over = r.run("fit_over.plain", argv + model + ["--batch-size", str(int(mb * 1.15))],
                     shim=False, extra_env=env, timeout=300)
    eval_fit(t, points, fit, at_max, over, batches)
