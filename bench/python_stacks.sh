#!/usr/bin/env bash
# Cost of Python stacks per intercepted event: cudaMalloc/cudaFree pairs made in a C loop
# (tests/python/gp_py_alloc.c, gp_py_churn) called through ctypes from a Python stack of a
# given depth, timed inside Python, with no shim, with the shim and GPUPROF_PYTHON_STACKS=0
# (native frames only), and with Python stacks on. The C loop keeps Python's own call cost
# out of the numbers: what is left is the shim's work per event.
# Usage: bench/python_stacks.sh [build dir] [pairs] [python...]
#   defaults: ./build, 200000, every interpreter in <build>/python/pythons.txt
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
b="$(cd "${1:-$top/build}" && pwd)"
n="${2:-200000}"
shift $(($# > 2 ? 2 : $#))
pythons=("$@")
[ ${#pythons[@]} -gt 0 ] || mapfile -t pythons < "$b/python/pythons.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
lib="$b/python/libgp_pyalloc.so"

cat > "$work/churn.py" <<'PY'
import ctypes, sys, time
lib = ctypes.CDLL(sys.argv[1])
lib.gp_py_churn.argtypes = [ctypes.c_long, ctypes.c_size_t]
n, depth = int(sys.argv[2]), int(sys.argv[3])

def nest(d):
    if d > 1:
        return nest(d - 1)
    lib.gp_py_churn(1000, 4096)  # warm up: first event, caches, trie
    best = None
    for _ in range(5):
        t = time.perf_counter_ns()
        lib.gp_py_churn(n, 4096)
        t = time.perf_counter_ns() - t
        best = t if best is None or t < best else best
    return best

print(nest(depth) / (2 * n))
PY

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "pairs: $n per timing (best of 5); ns per event (one cudaMalloc or cudaFree)"
printf "%-12s %6s %9s %12s %14s %16s\n" python depth "no shim" "native only" "Python stacks" "Python's share"
for py in "${pythons[@]}"; do
  v="$("$py" -c 'import sys; print(*sys.version_info[:2], sep=".")')"
  for depth in 1 10 40; do
    run() {
      env LD_LIBRARY_PATH="$b/fakecuda/lib" GPUPROF_OUTPUT="$work/t.%p.gz" "$@" \
        "$py" "$work/churn.py" "$lib" "$n" "$depth"
    }
    plain=$(run)
    native=$(run LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_PYTHON_STACKS=0)
    pystk=$(run LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_PYTHON_STACKS=1)
    rm -f "$work"/t.*.gz
    awk -v py="$v" -v d="$depth" -v a="$plain" -v b="$native" -v c="$pystk" 'BEGIN {
      printf "%-12s %6d %9.1f %12.1f %14.1f %16.1f\n", py, d, a, b - a, c - a, c - b }'
  done
done
