"""gpuprof's PyTorch adapter against the shapes that differ between PyTorch releases, with the
stand-in pretending to be 2.1 or a newer release (FAKETORCH_VERSION, tests/faketorch/torch/
_fakever.py): 2.1's history entries carry no time_us (the adapter stamps them with its drain's
clock, in order) and its snapshot has no allocator_settings (the settings come from
PYTORCH_CUDA_ALLOC_CONF); every release records the request (not the block) in alloc
entries, and the adapter hands over the block size PyTorch's allocated statistic counts."""
import tempfile

from e2e import equal, check, finish, report_json
from test_torch_adapter import EVENTS, MiB, PEAK_ALLOCATED, PEAK_RESERVED, SCRIPT, run

# A 19 MiB + 1 byte request gets a 20 MiB segment whose 1 MiB - 512 B rest is too small to
# split off: PyTorch counts 20 MiB allocated, its history entry says 19 MiB + 1.
UNSPLIT = SCRIPT + """big = torch.empty((19 << 20) + 1, dtype=torch.uint8, device="cuda")
print("unsplit", torch.cuda.memory_allocated())
"""

with tempfile.TemporaryDirectory() as d:
    for version, source in (("2.1.0", "drain"), ("2.6.0", "pytorch")):
        env = {"FAKETORCH_VERSION": version, "PYTORCH_CUDA_ALLOC_CONF": "max_split_size_mb:64"}
        p, traces, st, _ = run(d, SCRIPT, env=env)
        equal((p.returncode, p.stderr), (0, ""), f"{version}: the run")
        st = st or {}
        equal({k: st.get(k) for k in ("history", "events_sent", "history_lost", "wraps", "time_source")},
              {"history": True, "events_sent": EVENTS, "history_lost": {"0": 0}, "wraps": 0,
               "time_source": source}, f"{version}: the adapter's own account")
        w = (st.get("stats") or {}).get("0") or {}
        equal((w.get("torch_version"), w.get("max_split_size")), (int(version[0]) * 10000 + int(version[2]) * 100, 64 * MiB),
              f"{version}: version, and max_split_size (2.1: from PYTORCH_CUDA_ALLOC_CONF)")
        equal(len(traces), 1, f"{version}: one trace")
        if traces:
            j = report_json(traces[0])
            t = j.get("torch") or {}
            equal((t.get("events"), t.get("peak_allocated_bytes"), t.get("peak_reserved_bytes")),
                  (EVENTS, PEAK_ALLOCATED, PEAK_RESERVED), f"{version}: events and peaks")
            at, run_s = t.get("peak_allocated_time_s") or 0, j["run"]["duration_ns"] / 1e9
            # (the shim keeps any time inside the run; the value given to untimed entries is
            # pinned by test_torch_ring, the order they keep by the exact peak above)
            check(0 < at <= run_s, f"{version}: the allocated peak lies inside the run (0 < {at} <= {run_s})")

    p, traces, st, _ = run(d, UNSPLIT)
    equal((p.returncode, p.stdout.splitlines()[-1:]), (0, [f"unsplit {20 * MiB}"]), "unsplit block run")
    if traces:
        t = report_json(traces[0]).get("torch") or {}
        equal(t.get("peak_allocated_bytes"), PEAK_ALLOCATED,
              "the earlier peak stands (the 20 MiB block alone is smaller)")
        dev = (t.get("devices") or [{}])[0]
        equal(dev.get("allocated_bytes"), 20 * MiB,
              "allocated at exit: the unsplit block's 20 MiB, as PyTorch counts it, not the 19 MiB + 1 asked")
finish()
