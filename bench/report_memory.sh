#!/usr/bin/env bash
# Peak memory and time of gpuprof-report on traces of many GPU kernels (issue 8: the
# report's memory is bounded by the summary's size, not the trace's): 1, 16 and 64 million
# kernel records (bench/report_kernels_gen.c: 200 kernels per NVTX step, 4 streams, 1 in 16
# a place out of time order), text summary and --plot-timeline of the default window (the
# last step), peak RSS from /usr/bin/time.
# Usage: bench/report_memory.sh [build dir]   (default ./build; needs report_kernels_gen)
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
b="${1:-$top/build}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
report="$b/report/gpuprof-report"
gen="$b/bench/report_kernels_gen"

printf '| kernels | trace MiB | text: time, peak RSS | --plot-timeline: time, peak RSS | busy |\n'
printf '|---|---|---|---|---|\n'
for n in 1000000 16000000 64000000; do
  "$gen" "$n" "$work/k.gz"
  mib=$(du -m "$work/k.gz" | cut -f1)
  /usr/bin/time -f '%e %M' -o "$work/t1" "$report" "$work/k.gz" >"$work/out.txt"
  /usr/bin/time -f '%e %M' -o "$work/t2" "$report" --plot-timeline "$work/t.png" "$work/k.gz" >/dev/null
  busy=$(grep -o 'GPU busy [0-9.]* %' "$work/out.txt" || true)
  read -r s1 m1 <"$work/t1"
  read -r s2 m2 <"$work/t2"
  printf '| %s | %s | %s s, %s MiB | %s s, %s MiB | %s |\n' "$n" "$mib" "$s1" $((m1 / 1024)) \
    "$s2" $((m2 / 1024)) "$busy"
done
