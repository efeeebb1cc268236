"""A process that never calls CUDA is untouched: same output, no trace file, nothing on stderr
(sh, python3, and a static program's dynamic child)."""
import os
import subprocess
import tempfile

from e2e import SAMPLES, SHIM, base_env, equal, finish

with tempfile.TemporaryDirectory() as d:
    static_parent = os.path.join(os.path.dirname(SAMPLES), "faults", "fault_static_parent")
    programs = [["sh", "-c", "echo hello; ls /"], ["python3", "-c", "print(6 * 7)"],
                ["python3", "-c", "pass"]]
    if os.path.exists(static_parent):  # not in sanitizer builds: they cannot link statically
        programs.append([static_parent])
    for argv in programs:
        plain = subprocess.run(argv, cwd=d, capture_output=True, text=True, env=base_env())
        env = base_env({"LD_PRELOAD": SHIM})
        traced = subprocess.run(argv, cwd=d, capture_output=True, text=True, env=env)
        equal(traced.stdout, plain.stdout, f"{argv[0]} stdout")
        equal(traced.stderr, "", f"{argv[0]} stderr")
        equal(traced.returncode, plain.returncode, f"{argv[0]} exit status")
    equal(os.listdir(d), [], "files written by processes that never called CUDA")
finish()
