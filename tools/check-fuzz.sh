#!/usr/bin/env bash
# The libFuzzer harnesses of tests/fuzz, built with clang in build-fuzz (GPUPROF_FUZZ=ON:
# ASan + UBSan + coverage; GPUPROF_FUZZ_BUILD names another build directory):
#   fuzz_reader    the trace reader                     corpus: tests/fuzz/corpus
#   fuzz_report    every report mode on one trace       corpus: tests/fuzz/corpus
#   fuzz_classify  --classify-kernels on any bytes      corpus: tests/fuzz/corpus-names
#   tools/check-fuzz.sh           regression: every harness runs every file of its committed
#                                 corpus once; seconds, as in CI
#   tools/check-fuzz.sh SECONDS   fuzzing, 2 x SECONDS in all, shared out (report 45%, reader
#                                 35%, classify 20%), each from a scratch copy of its corpus
#                                 (build-fuzz/corpus-*); crashes in build-fuzz/crashes
#   tools/check-fuzz.sh corpus    regenerates the seeds with make_corpus (docs/reliability.md)
#   tools/check-fuzz.sh merge     minimises: the seeds and crash-* stay, and as grown-* only
#                                 the inputs of the old grown-* and of the scratch copies that
#                                 reach code the rest does not (libFuzzer -merge=1 -max_len=224
#                                 for traces, 96 for names: small inputs keep the corpus small)
# The corpus holds those seeds, the grown-* inputs and, as crash-*, the reproducers of fixed
# crashes. Keep the whole corpus under 200 KB.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="${GPUPROF_FUZZ_BUILD:-$top/build-fuzz}"
corpus="$top/tests/fuzz/corpus"
names="$top/tests/fuzz/corpus-names"
cc="${GPUPROF_FUZZ_CC:-clang}"
command -v "$cc" >/dev/null || { echo "check-fuzz: $cc (clang) is needed for libFuzzer" >&2; exit 1; }
cuda="${CUDA_HOME:-/usr/local/cuda}"
[ -d "$cuda" ] && export PATH="$cuda/bin:$PATH"

CC="$cc" cmake -S "$top" -B "$build" -DGPUPROF_FUZZ=ON -DGPUPROF_WERROR=ON \
  -DGPUPROF_BUILD_TESTS=OFF -DGPUPROF_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_reader fuzz_report fuzz_classify make_corpus >/dev/null

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
harnesses=(fuzz_report fuzz_reader fuzz_classify)
corpus_of() { [ "$1" = fuzz_classify ] && echo "$names" || echo "$corpus"; }
share_of() { case "$1" in fuzz_report) echo 45 ;; fuzz_reader) echo 35 ;; *) echo 20 ;; esac; }
case "${1:-}" in
"")
  for h in "${harnesses[@]}"; do
    "$build/tests/fuzz/$h" "$(corpus_of "$h")"/* 2>"$build/$h.log" || { cat "$build/$h.log" >&2; exit 1; }
  done
  # Once more with inflate on its own thread, as gpuprof-report runs it.
  GPUPROF_TRACE_THREADS=1 "$build/tests/fuzz/fuzz_reader" "$corpus"/* 2>"$build/fuzz_reader.log" ||
    { cat "$build/fuzz_reader.log" >&2; exit 1; }
  echo "check-fuzz: $(ls "$corpus" | wc -l) + $(ls "$names" | wc -l) corpus files through" \
    "${#harnesses[@]} harnesses: no finding"
  ;;
corpus) # the generated seeds; grown-* and crash-* are inputs the fuzzers found (kept)
  mkdir -p "$corpus" "$names"
  find "$corpus" "$names" -maxdepth 1 -type f ! -name 'grown-*' ! -name 'crash-*' -delete
  "$build/tests/fuzz/make_corpus" "$corpus" "$names"
  echo "check-fuzz: $(ls "$corpus" | wc -l) + $(ls "$names" | wc -l) files," \
    "$(cat "$corpus"/* "$names"/* | wc -c) bytes in $corpus and $names"
  ;;
merge)
  for dir in "$corpus" "$names"; do
    keep="$build/merge-keep" old="$build/merge-old"
    rm -rf "$keep" "$old" && mkdir -p "$keep" "$old"
    find "$dir" -maxdepth 1 -type f ! -name 'grown-*' -exec cp {} "$keep"/ \;
    find "$dir" -maxdepth 1 -type f -name 'grown-*' -exec mv {} "$old"/ \;
    ls "$keep" >"$build/merge-list"
    for h in "${harnesses[@]}"; do
      [ "$(corpus_of "$h")" = "$dir" ] || continue
      mkdir -p "$build/corpus-$h"
      len=224
      [ "$h" = fuzz_classify ] && len=96
      "$build/tests/fuzz/$h" -merge=1 -max_len="$len" "$keep" "$old" "$build/corpus-$h" \
        2>"$build/$h-merge.log" || { tail -20 "$build/$h-merge.log" >&2; exit 1; }
    done
    for f in "$keep"/*; do
      b="$(basename "$f")"
      grep -qxF "$b" "$build/merge-list" || cp "$f" "$dir/grown-${b#grown-}"
    done
  done
  echo "check-fuzz: $(ls "$corpus" | wc -l) + $(ls "$names" | wc -l) files," \
    "$(cat "$corpus"/* "$names"/* | wc -c) bytes"
  ;;
*[!0-9]*)
  echo "usage: tools/check-fuzz.sh [SECONDS|corpus|merge]" >&2
  exit 2
  ;;
*)
  mkdir -p "$build/crashes"
  for h in "${harnesses[@]}"; do
    work="$build/corpus-$h"
    secs=$(($1 * 2 * $(share_of "$h") / 100))
    mkdir -p "$work"
    cp -n "$(corpus_of "$h")"/* "$work"/
    "$build/tests/fuzz/$h" "$work" -max_total_time="$((secs > 0 ? secs : 1))" -max_len=20000 \
      -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/crashes/$h-" -print_final_stats=1
  done
  ;;
esac
