"""Fault: SIGKILL right after an out-of-memory error, while other threads keep the writer busy.
The shim flushes the trace before the failing call returns to the program (at most 2 s), so
every run's trace must hold the OOM, whatever the writer was doing when it was asked. Twenty
runs, because the moment the request lands in the writer's loop is a matter of chance."""
import signal
import tempfile

from e2e import check, equal, finish, report_json, run_fault, unchanged

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
            if [o["requested_bytes"] for o in j["oom"]] != [1 << 50]:
                missing.append(i)
equal(missing, [], f"runs whose trace lacks the OOM (of {RUNS})")
finish()
