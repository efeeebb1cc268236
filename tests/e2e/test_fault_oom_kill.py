"""Fault: SIGKILL right after an out-of-memory error, while other threads keep the writer busy.
The shim flushes the trace before the failing call returns to the program (at most 2 s), so
every run's trace must hold the OOM, whatever the writer was doing when it was asked. Twenty
runs, because the moment the request lands in the writer's loop is a matter of chance.

KNOWN BUG (docs/reliability.md, "OOM flush"): the flush a failing call waits for can complete
without the OOM event, when another thread's free holds an earlier queue slot. While
KNOWN_BUG is set, runs without the OOM are reported but do not fail the test; set it to None
with the fix, and the test is strict again."""
import signal
import tempfile

from e2e import check, equal, finish, report_json, run_fault, unchanged

KNOWN_BUG = None  # fixed: a requested flush covers every slot claimed before it
RUNS = 20
plain, _ = run_fault("fault_oom_kill", preload=False)
equal(plain.returncode, -signal.SIGKILL, "the program kills itself after the OOM")
missing = []
for i in range(RUNS):
    with tempfile.TemporaryDirectory() as d:
        traced, trace = run_fault("fault_oom_kill", workdir=d)
        unchanged(plain, traced, f"run {i}")
        check(trace is not None, f"run {i}: a trace was written")
        if trace:
            j = report_json(trace)
            equal(j["trace"]["truncated"], True, f"run {i}: trace marked truncated")
            if [o["requested_bytes"] for o in j["oom"]] != [1 << 50]:
                missing.append(i)
if KNOWN_BUG and missing:
    print(f"KNOWN BUG ({KNOWN_BUG}): {len(missing)} of {RUNS} traces lack the OOM")
elif KNOWN_BUG:
    print(f"KNOWN BUG ({KNOWN_BUG}) did not show in {RUNS} runs: if it is fixed, set KNOWN_BUG = None")
else:
    equal(missing, [], f"runs whose trace lacks the OOM (of {RUNS})")
finish()
