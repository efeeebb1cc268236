"""A program killed with SIGKILL leaves a trace readable up to its last flush: the report
says it is truncated (a warning, exit status 0) and still shows the memory taken."""
import os
import signal
import subprocess
import tempfile
import time

from e2e import SAMPLES, SHIM, base_env, check, equal, finish, report, report_json, site_functions

with tempfile.TemporaryDirectory() as d:
    env = base_env({"LD_PRELOAD": SHIM, "GPUPROF_OUTPUT": os.path.join(d, "hold.%p.gz"),
                    "GPUPROF_FLUSH_MS": "100"})
    p = subprocess.Popen([os.path.join(SAMPLES, "hold"), "60"], env=env, cwd=d,
                         stdout=subprocess.PIPE, text=True)
    equal(p.stdout.readline().strip(), "holding 3 x 33554432 bytes", "the program got going")
    time.sleep(0.6)  # several flush periods
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    equal(p.returncode, -signal.SIGKILL, "killed by SIGKILL")
    trace = os.path.join(d, f"hold.{p.pid}.gz")
    check(os.path.exists(trace), "trace file exists")
    j = report_json(trace)
    equal(j["trace"]["truncated"], True, "trace marked truncated")
    equal(j["memory"]["peak_reserved_bytes"], 3 * 32 << 20, "memory taken before the kill")
    equal([(site_functions(s)[0], s["count"]) for s in j["memory"]["top_sites_at_peak"]],
          [("hold_blocks", 3)], "site at the peak")
    r = report(trace)
    check("truncat" in r.stderr.lower() or "truncat" in r.stdout.lower(), "text report warns of truncation")
finish()
