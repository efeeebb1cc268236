"""A process that never calls CUDA is untouched: same output, no trace file, nothing on stderr."""
import os
import subprocess
import tempfile

from e2e import SHIM, base_env, equal, finish

with tempfile.TemporaryDirectory() as d:
    for argv in (["sh", "-c", "echo hello; ls /"], ["python3", "-c", "print(6 * 7)"]):
        plain = subprocess.run(argv, cwd=d, capture_output=True, text=True, env=base_env())
        env = base_env({"LD_PRELOAD": SHIM})
        traced = subprocess.run(argv, cwd=d, capture_output=True, text=True, env=env)
        equal(traced.stdout, plain.stdout, f"{argv[0]} stdout")
        equal(traced.stderr, "", f"{argv[0]} stderr")
        equal(traced.returncode, plain.returncode, f"{argv[0]} exit status")
    equal(os.listdir(d), [], "files written by processes that never called CUDA")
finish()
