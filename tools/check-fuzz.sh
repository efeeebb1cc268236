#!/usr/bin/env bash
# The libFuzzer harnesses of tests/fuzz (trace reader; report pipeline), built with clang in
# build-fuzz (GPUPROF_FUZZ=ON: ASan + UBSan + coverage).
#   tools/check-fuzz.sh           regression: every harness runs every file of the committed
#                                 corpus (tests/fuzz/corpus) once; seconds, as in CI
#   tools/check-fuzz.sh SECONDS   fuzzing: each harness for SECONDS from a scratch copy of
#                                 the corpus (build-fuzz/corpus-*); crashes in build-fuzz/crashes
#   tools/check-fuzz.sh corpus    regenerates the seeds with make_corpus (docs/reliability.md)
# The corpus holds those seeds and, as grown-*, small inputs the fuzzers found that reach
# code the seeds do not (libFuzzer -merge=1 -max_len=256), and as crash-* the reproducers of
# fixed crashes. Keep the whole corpus under 200 KB.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$top/build-fuzz"
corpus="$top/tests/fuzz/corpus"
cc="${GPUPROF_FUZZ_CC:-clang}"
command -v "$cc" >/dev/null || { echo "check-fuzz: $cc (clang) is needed for libFuzzer" >&2; exit 1; }
cuda="${CUDA_HOME:-/usr/local/cuda}"
[ -d "$cuda" ] && export PATH="$cuda/bin:$PATH"

CC="$cc" cmake -S "$top" -B "$build" -DGPUPROF_FUZZ=ON -DGPUPROF_WERROR=ON \
  -DGPUPROF_BUILD_TESTS=OFF -DGPUPROF_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_reader fuzz_report make_corpus >/dev/null

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
harnesses=(fuzz_reader fuzz_report)
case "${1:-}" in
"")
  for h in "${harnesses[@]}"; do
    "$build/tests/fuzz/$h" "$corpus"/* 2>"$build/$h.log" || { cat "$build/$h.log" >&2; exit 1; }
  done
  # Once more with inflate on its own thread, as gpuprof-report runs it.
  GPUPROF_TRACE_THREADS=1 "$build/tests/fuzz/fuzz_reader" "$corpus"/* 2>"$build/fuzz_reader.log" ||
    { cat "$build/fuzz_reader.log" >&2; exit 1; }
  echo "check-fuzz: $(ls "$corpus" | wc -l) corpus files through ${#harnesses[@]} harnesses: no finding"
  ;;
corpus) # the generated seeds; grown-* and crash-* are inputs the fuzzers found (kept)
  mkdir -p "$corpus"
  find "$corpus" -maxdepth 1 -type f ! -name 'grown-*' ! -name 'crash-*' -delete
  "$build/tests/fuzz/make_corpus" "$corpus"
  echo "check-fuzz: $(ls "$corpus" | wc -l) seeds, $(du -sb "$corpus" | cut -f1) bytes in $corpus"
  ;;
*[!0-9]*)
  echo "usage: tools/check-fuzz.sh [SECONDS|corpus]" >&2
  exit 2
  ;;
*)
  mkdir -p "$build/crashes"
  for h in "${harnesses[@]}"; do
    work="$build/corpus-$h"
    mkdir -p "$work"
    cp -n "$corpus"/* "$work"/
    "$build/tests/fuzz/$h" "$work" -max_total_time="$1" -max_len=20000 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$build/crashes/$h-" -print_final_stats=1
  done
  ;;
esac
