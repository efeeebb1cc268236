"""gpuprof's PyTorch adapter at an out-of-memory error (stand-in torch, fake CUDA runtime with
a 48 MiB device): the OOM reaches the trace from PyTorch's OOM observer before the exception
reaches the program, with the request, the segment size tried, the device's total and free
memory, PyTorch's allocated and reserved bytes, the fragmentation evidence and the live
allocations by Python stack. The program dies exactly as without gpuprof (same exit status,
same stderr) and the trace says the OOM was fatal; a caught OOM followed by more allocations
is recovered, not fatal."""
import tempfile

from e2e import check, equal, finish, report_json, unchanged
from test_torch_adapter import MiB, PRELUDE, lines, run

BODY = """import torch
a = torch.empty(14 << 20, dtype=torch.uint8, device="cuda")   # site:a  a 14 MiB segment
b = torch.empty(16 << 20, dtype=torch.uint8, device="cuda")   # site:b  a 16 MiB segment
s = torch.empty(1000, dtype=torch.uint8, device="cuda")       # site:s  1024 B of a 2 MiB segment
def grow():
    return torch.empty(5000000, dtype=torch.uint8, device="cuda")  # site:c  needs a 20 MiB segment
"""
FATAL = PRELUDE + BODY + "c = grow()\n"
CAUGHT = PRELUDE + BODY + """try:
    c = grow()
except torch.cuda.OutOfMemoryError:
    print("caught")
t = torch.empty(1000, dtype=torch.uint8, device="cuda")
"""
ENV = {"FAKECUDA_DEVICE_MEM": "48M"}
REQUEST = 5000192                     # 5000000 rounded up to 512
SEGMENT = 20 * MiB                    # what the allocator tried to get from cudaMalloc
TOTAL, FREE = 48 * MiB, 16 * MiB      # 14 + 16 + 2 MiB reserved
ALLOCATED = 14 * MiB + 16 * MiB + 1024
RESERVED = 32 * MiB
SPLIT = 2 * MiB - 1024                # the rest of the 2 MiB segment


def oom_checks(what, st, traces, path, at, fatal):
    equal(((st or {}).get("fatal"), (st or {}).get("on")), (fatal, True), f"{what}: adapter's account")
    w = ((st or {}).get("stats") or {}).get("0") or {}
    equal({k: w.get(k) for k in ("device_total", "device_free", "request", "segment_request",
                                  "largest_free_block", "private_pools", "num_ooms",
                                  "num_alloc_retries", "inactive_split", "fatal")},
          {"device_total": TOTAL, "device_free": FREE, "request": REQUEST, "segment_request": SEGMENT,
           "largest_free_block": SPLIT, "private_pools": 0, "num_ooms": 1, "num_alloc_retries": 1,
           "inactive_split": SPLIT if fatal else SPLIT - 1024, "fatal": int(fatal)}, f"{what}: statistics handed to the shim")
    equal(len(traces), 1, f"{what}: one trace")
    if not traces:
        return
    j = report_json(traces[0])
    # The shim's own view of the failed cudaMalloc, independent of the adapter.
    equal([(o["requested_bytes"], o["device_free_bytes"], o["device_total_bytes"]) for o in j["oom"]],
          [(SEGMENT, FREE, TOTAL)] * 2, f"{what}: the shim saw cudaMalloc fail twice (with the retry)")
    t = j.get("torch") or {}
    ooms = t.get("ooms") or []
    equal(len(ooms), 1, f"{what}: one PyTorch OOM")
    if not ooms:
        return
    o = ooms[0]
    equal({k: o.get(k) for k in ("device", "request_bytes", "segment_request_bytes", "device_total_bytes",
                                 "device_free_bytes", "allocated_bytes", "reserved_bytes",
                                 "inactive_split_bytes", "largest_free_block_bytes", "non_torch_bytes",
                                 "other_processes_bytes", "recovered", "fatal")},
          {"device": 0, "request_bytes": REQUEST, "segment_request_bytes": SEGMENT,
           "device_total_bytes": TOTAL, "device_free_bytes": FREE, "allocated_bytes": ALLOCATED,
           "reserved_bytes": RESERVED, "inactive_split_bytes": SPLIT, "largest_free_block_bytes": SPLIT,
           "non_torch_bytes": 0, "other_processes_bytes": 0, "recovered": not fatal, "fatal": fatal},
          f"{what}: torch.ooms[0]")
    sites = [(s["bytes"], s["count"], [(f["function"], f["file"], f["line"]) for f in s["frames"]])
             for s in o.get("sites") or []]
    equal(sites, [(16 * MiB, 1, [("<module>", path, at["b"])]),
                  (14 * MiB, 1, [("<module>", path, at["a"])]),
                  (1024, 1, [("<module>", path, at["s"])])],
          f"{what}: live PyTorch allocations at the OOM by Python stack")


with tempfile.TemporaryDirectory() as d:
    plain, _, _, _ = run(d, FATAL, preload=False, env=ENV)
    check(plain.returncode == 1 and plain.stderr.rstrip().splitlines()[-1].startswith(
        "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB."),
        f"without gpuprof the script dies of OutOfMemoryError ({plain.returncode}, {plain.stderr[-300:]!r})")
    p, traces, st, path = run(d, FATAL, env=ENV)
    unchanged(plain, p, "a fatal OOM under the shim")
    oom_checks("fatal OOM", st, traces, path, lines(FATAL), True)

    plain, _, _, _ = run(d, CAUGHT, preload=False, env=ENV)
    equal((plain.returncode, plain.stdout, plain.stderr), (0, "caught\n", ""), "caught OOM without gpuprof")
    p, traces, st, path = run(d, CAUGHT, env=ENV)
    unchanged(plain, p, "a caught OOM under the shim")
    oom_checks("caught OOM", st, traces, path, lines(CAUGHT), False)

    # An OOM in a thread that nobody catches: fatal too (the thread died of it).
    THREAD = PRELUDE + BODY + """import threading
th = threading.Thread(target=grow)
th.start(); th.join()
"""
    p, traces, st, _ = run(d, THREAD, env=ENV)
    check(p.returncode == 0 and "OutOfMemoryError" in p.stderr and "gpuprof" not in p.stderr,
          f"OOM in a thread: the thread's traceback, printed as usual ({p.stderr[-200:]!r})")
    equal((st or {}).get("fatal"), True, "OOM in a thread: fatal")
finish()
