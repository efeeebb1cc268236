#!/usr/bin/env bash
# The main job, end to end: build gpuprof, run a sample CUDA program under the shim,
# then report on its trace (text summary + memory plot). Without a GPU the sample runs
# on the test stand-ins from tests/fakecuda, and says so loudly.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
"$top/tools/build.sh" >/dev/null
b="$top/build"
out="$top/demo-output"
mkdir -p "$out"
rm -f "$out"/alloc_pattern.*.gz
env_prefix=()
if [ -e /dev/nvidia0 ] || [ -e /dev/nvidiactl ]; then
  echo "== GPU found: running samples/alloc_pattern on the real device"
else
  echo "== NO GPU on this machine: running on the TEST STAND-INS (tests/fakecuda, a simulated 16 GiB device)."
  echo "== The profiler, trace and report are the real ones; the CUDA runtime underneath is simulated."
  # ...and the fake libcupti: the toolkit's real one cannot work on the fake driver
  env_prefix=(env "LD_LIBRARY_PATH=$b/fakecuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
              "GPUPROF_CUPTI=$b/fakecuda/cupti/libcupti.so.13")
fi
echo "== \$ LD_PRELOAD=$b/lib/libgpuprof.so $b/samples/alloc_pattern"
"${env_prefix[@]}" env LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_OUTPUT="$out/alloc_pattern.%p.gz" \
  GPUPROF_LABEL="demo" "$b/samples/alloc_pattern"
trace=$(ls -t "$out"/alloc_pattern.*.gz | head -n 1)
echo "== \$ gpuprof-report --plot $out/memory.png $trace"
"$b/report/gpuprof-report" --plot "$out/memory.png" "$trace"
echo "== plot: $out/memory.png   JSON: $b/report/gpuprof-report --json $trace"

# PyTorch: allocated vs reserved and an out-of-memory error's forensics. On a machine without a
# GPU (or without PyTorch) the script runs on the stand-in torch of tests/faketorch over the
# simulated device, a 64 MiB one so that it runs out quickly.
py_env=()
if "${env_prefix[@]}" python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null \
   && [ ${#env_prefix[@]} -eq 0 ]; then
  echo "== PyTorch with a GPU: samples/pytorch/grow_until_oom.py"
else
  echo "== PyTorch part on the TEST STAND-INS: tests/faketorch (a stand-in torch, not PyTorch) on a simulated 64 MiB device"
  py_env=("PYTHONPATH=$top/tests/faketorch" "FAKECUDA_DEVICE_MEM=64M")
fi
rm -f "$out"/torch.*.gz
echo "== \$ LD_PRELOAD=$b/lib/libgpuprof.so python3 samples/pytorch/grow_until_oom.py"
if "${env_prefix[@]}" env "${py_env[@]}" LD_PRELOAD="$b/lib/libgpuprof.so" \
   GPUPROF_OUTPUT="$out/torch.%p.gz" GPUPROF_LABEL="demo" \
   python3 "$top/samples/pytorch/grow_until_oom.py" 2>"$out/torch.stderr"; then
  echo "== the script did not run out of memory (see $out/torch.stderr)"
else
  echo "== the script died of: $(grep -m1 -o 'OutOfMemoryError.*' "$out/torch.stderr" | cut -c1-120)"
fi
trace=$(ls -t "$out"/torch.*.gz 2>/dev/null | head -n 1 || true)
if [ -n "$trace" ]; then
  echo "== \$ gpuprof-report --plot $out/torch-memory.png $trace"
  "$b/report/gpuprof-report" --plot "$out/torch-memory.png" "$trace" | sed -n '/PyTorch/,$p'
fi
