"""samples/oom on a 4 GiB stand-in device: the exit status and messages are the program's
own, and the report's OOM forensics name the request, the live memory and its call site."""
from e2e import check, equal, finish, report, report_json, run_sample, site_functions

env = {"FAKECUDA_DEVICE_MEM": "4G"}
plain, _ = run_sample("oom", preload=False, env=env)
traced, trace = run_sample("oom", env=env)
equal(plain.returncode, 1, "oom exits 1 on its own")
equal(traced.returncode, 1, "oom exit status under the shim")
equal(traced.stdout, plain.stdout, "stdout under the shim")
equal(traced.stderr, plain.stderr, "stderr under the shim (the program's own error only)")

j = report_json(trace)
equal(len(j["oom"]), 1, "one OOM event")
o = j["oom"][0]
equal(o["api"], "cudaMalloc", "OOM api")
equal(o["requested_bytes"], 1 << 30, "OOM request")
equal(o["live_bytes"], 4 << 30, "live device bytes at the OOM")
equal(o["device_free_bytes"], 0, "device free at the OOM")
equal(o["device_total_bytes"], 4 << 30, "device total at the OOM")
equal([(site_functions(s)[0], s["bytes"], s["count"]) for s in o["top_sites"]],
      [("grow_cache", 4 << 30, 4)], "sites live at the OOM")
equal(j["memory"]["peak_reserved_bytes"], 4 << 30, "device peak")
# the header's clock is taken before the first event, so no time is clamped to 0
check(0 < j["memory"]["peak_time_ns"] <= o["time_ns"], f"peak before the OOM, both after the start: {j['memory']['peak_time_ns']}, {o['time_ns']}")
equal(j["memory"]["leaked_bytes"], 0, "held at exit")
text = report(trace).stdout
check("out of memory" in text.lower() or "OOM" in text, "text report has an OOM section")
check("grow_cache" in text, "text report names grow_cache")
finish()
