"""gpuprof's PyTorch adapter when PyTorch's history ring wraps between two drains
(GPUPROF_TORCH_HISTORY=16, no periodic drain): the events that fell out of the ring are
counted exactly, from PyTorch's own cumulative allocation and free counts, as history_lost;
everything still in the ring is forwarded once."""
import tempfile

from e2e import equal, finish, report_json
from test_torch_adapter import PRELUDE, run

SCRIPT = PRELUDE + """import torch
x = torch.empty(1000, dtype=torch.uint8, device="cuda")   # segment_alloc + alloc
try:
    torch.empty(1 << 40, dtype=torch.uint8, device="cuda")  # oom: the observer drains here
except torch.cuda.OutOfMemoryError:
    pass
for i in range(30):  # alloc, free_requested, free_completed each: 90 entries, the ring holds 16
    t = torch.empty(2000, dtype=torch.uint8, device="cuda")
    del t
"""
ENV = {"GPUPROF_TORCH_HISTORY": "16", "GPUPROF_TORCH_INTERVAL": "3600"}
# At the OOM drain: segment_alloc, alloc, oom (3 events; 1 allocation seen, none lost). As in
# PyTorch, a snapshot's own "snapshot" entry is recorded after its trace was read, so at exit
# the ring holds the last 16 loop entries: a free_completed and 5 whole loops, 10
# allocations and frees of the 60 the loop made. Allocations and frees: 1 + 60 = 61.
EVENTS = 3 + 16
LOST = 61 - 1 - 10

with tempfile.TemporaryDirectory() as d:
    p, traces, st, _ = run(d, SCRIPT, env=ENV)
    equal((p.returncode, p.stdout, p.stderr), (0, "", ""), "the run")
    st = st or {}
    equal({k: st.get(k) for k in ("max_entries", "interval", "events_sent", "events_recorded",
                                  "history_lost", "wraps", "fatal")},
          {"max_entries": 16, "interval": 3600.0, "events_sent": EVENTS, "events_recorded": EVENTS,
           "history_lost": {"0": LOST}, "wraps": 1, "fatal": False}, "the adapter's own account")
    w = (st.get("stats") or {}).get("0") or {}
    equal((w.get("history_lost"), w.get("allocs"), w.get("frees")), (LOST, 31, 30),
          "statistics handed to the shim")
    equal(len(traces), 1, "one trace")
    if traces:
        t = report_json(traces[0]).get("torch") or {}
        equal((t.get("events"), t.get("history_lost")), (EVENTS, LOST), "torch.events, torch.history_lost")
        equal([(o.get("recovered"), o.get("fatal")) for o in t.get("ooms") or []], [(True, False)],
              "the caught OOM: recovered, not fatal")
finish()
