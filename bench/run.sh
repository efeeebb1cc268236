#!/usr/bin/env bash
# Measures what docs/benchmarks.md reports, in one run on this machine:
#  1. cost per intercepted event: N cudaMalloc/cudaFree pairs on the stand-ins with and
#     without libgpuprof.so (and the same through the driver layer), next to heaptrack
#     tracing the same loop over malloc/free;
#  2. trace bytes per event, gpuprof's and heaptrack's;
#  3. gpuprof-report speed and peak memory on a 10-million-event trace (and a 1-million one,
#     to show memory does not grow with length).
# Usage: bench/run.sh [pairs]   (default 1000000). Needs a build in ./build and heaptrack.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
b="$top/build"
n="${1:-1000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fake="$b/fakecuda/lib"

best_ns() { # best wall time of 3 runs of "$@", in ns
  local best=0
  for _ in 1 2 3; do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
    if [ "$best" -eq 0 ] || [ $((e - s)) -lt "$best" ]; then best=$((e - s)); fi
  done
  echo "$best"
}
per_event() { # (loaded_n - loaded_0 - (plain_n - plain_0)) / (2n) in ns, one decimal
  awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v n="$n" 'BEGIN { printf "%.1f", ((a - b) - (c - d)) / (2 * n) }'
}

cd "$work"
# Kernel tracing is off: the stand-ins launch no kernels, and heaptrack traces no GPU work.
export GPUPROF_KERNELS=0
export LD_LIBRARY_PATH="$fake"
plain_n=$(best_ns "$b/bench/bench_alloc_loop" "$n")
plain_0=$(best_ns "$b/bench/bench_alloc_loop" 0)
shim_n=$(best_ns env LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_OUTPUT="$work/g.%p.gz" "$b/bench/bench_alloc_loop" "$n")
shim_0=$(best_ns env LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_OUTPUT="$work/g0.%p.gz" "$b/bench/bench_alloc_loop" 0)
dplain_n=$(best_ns "$b/bench/bench_alloc_loop" "$n" driver)
dplain_0=$(best_ns "$b/bench/bench_alloc_loop" 0 driver)
dshim_n=$(best_ns env LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_OUTPUT="$work/d.%p.gz" "$b/bench/bench_alloc_loop" "$n" driver)
dshim_0=$(best_ns env LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_OUTPUT="$work/d0.%p.gz" "$b/bench/bench_alloc_loop" 0 driver)
unset LD_LIBRARY_PATH
malloc_n=$(best_ns "$b/bench/bench_malloc_loop" "$n")
malloc_0=$(best_ns "$b/bench/bench_malloc_loop" 0)
ht_n=$(best_ns heaptrack -o "$work/ht" "$b/bench/bench_malloc_loop" "$n")
ht_0=$(best_ns heaptrack -o "$work/ht0" "$b/bench/bench_malloc_loop" 0)

gp_file=$(ls -S "$work"/g.*.gz | head -n 1)
ht_file=$(ls -S "$work"/ht.* | head -n 1)
events=$((2 * n))
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "pairs: $n  (events: $events)"
echo "gpuprof   cost/event: $(per_event "$shim_n" "$shim_0" "$plain_n" "$plain_0") ns   (plain loop $((plain_n / 1000000)) ms, traced $((shim_n / 1000000)) ms)"
echo "gpuprof   cost/event, driver layer (cuMemAlloc_v2 via cudaGetDriverEntryPointByVersion): $(per_event "$dshim_n" "$dshim_0" "$dplain_n" "$dplain_0") ns"
echo "heaptrack cost/event: $(per_event "$ht_n" "$ht_0" "$malloc_n" "$malloc_0") ns   (plain loop $((malloc_n / 1000000)) ms, traced $((ht_n / 1000000)) ms)"
echo "gpuprof   trace bytes/event: $(awk -v s="$(stat -c %s "$gp_file")" -v e="$events" 'BEGIN { printf "%.2f", s / e }')"
echo "heaptrack trace bytes/event: $(awk -v s="$(stat -c %s "$ht_file")" -v e="$events" 'BEGIN { printf "%.2f", s / e }') ($(basename "$ht_file"))"

# Report speed: 10 million events (5 million pairs) through the real shim.
for pairs in 500000 5000000; do
  rm -f "$work"/big.*.gz
  LD_LIBRARY_PATH="$fake" LD_PRELOAD="$b/lib/libgpuprof.so" GPUPROF_OUTPUT="$work/big.%p.gz" \
    "$b/bench/bench_alloc_loop" "$pairs" >/dev/null
  big=$(ls "$work"/big.*.gz)
  s=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$b/report/gpuprof-report" "$big" >/dev/null
  e=$(date +%s%N)
  ev=$((2 * pairs + 2))
  echo "report: $ev events in $(( (e - s) / 1000000 )) ms = $(awk -v e="$ev" -v t=$((e - s)) 'BEGIN { printf "%.1f", e / (t / 1e9) / 1e6 }') M events/s, peak RSS $(cat "$work/rss") KiB"
done
