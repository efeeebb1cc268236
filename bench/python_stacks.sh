#!/usr/bin/env bash
# Cost of Python stacks per intercepted event: cudaMalloc/cudaFree pairs made in a C loop
# (tests/python/gp_py_alloc.c, gp_py_churn) called through ctypes from a Python stack of a
# given depth, timed inside Python, with no shim, with the shim and GPUPROF_PYTHON_STACKS=0
# (native frames only), and with Python stacks on. The C loop keeps Python's own call cost
# out of the numbers: what is left is the shim's work per event. Times are CPU time (of the
# calling thread, and of the whole process: the writer thread's share is the difference),
# so other load on the machine does not count.
# Needs a build with the tests (tests/python builds the library and lists the interpreters).
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
# Allocation events only: the stand-ins launch no kernels.
export GPUPROF_KERNELS=0
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
    for _ in range(5):  # CPU time of this thread and of the process (the writer thread too)
        t, p = time.thread_time_ns(), time.process_time_ns()
        lib.gp_py_churn(n, 4096)
        t, p = time.thread_time_ns() - t, time.process_time_ns() - p
        best = (t, p) if best is None or t < best[0] else best
    return best

t, p = nest(depth)
print(t / (2 * n), p / (2 * n))
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "pairs: $n per timing (best of 5); CPU ns per event (one cudaMalloc or cudaFree)"
echo "  calling thread: the program's own cost; process: including the shim's writer thread"
printf "%-7s %5s | %-23s | %-23s | %-23s\n" "" "" "calling thread" "process" "Python stacks cost"
printf "%-7s %5s | %7s %7s %7s | %7s %7s %7s | %11s %11s\n" python depth "no shim" native \
  python "no shim" native python thread process
for py in "${pythons[@]}"; do
  v="$("$py" -c 'import sys; print(*sys.version_info[:2], sep=".")')"
  for depth in 1 10 40; do
    run() {
      env LD_LIBRARY_PATH="$b/fakecuda/lib" GPUPROF_OUTPUT="$work/t.%p.gz" "$@" \
        "$py" "$work/churn.py" "$lib" "$n" "$depth"
    }
    read -r plain_t plain_p < <(run)
    read -r nat_t nat_p < <(run LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_PYTHON_STACKS=0)
    read -r py_t py_p < <(run LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_PYTHON_STACKS=1)
    rm -f "$work"/t.*.gz
    awk -v v="$v" -v d="$depth" -v a="$plain_t" -v b="$nat_t" -v c="$py_t" \
        -v x="$plain_p" -v y="$nat_p" -v z="$py_p" 'BEGIN {
      printf "%-7s %5d | %7.0f %7.0f %7.0f | %7.0f %7.0f %7.0f | %11.0f %11.0f\n",
             v, d, a, b, c, x, y, z, c - b, z - y }'
  done
done
