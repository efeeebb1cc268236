#!/usr/bin/env bash
# Builds gpuprof with sanitizers (GPUPROF_SANITIZE) and runs the tests that matter for each
# (docs/reliability.md explains every setting below):
#   tools/check-sanitizers.sh address   ASan + UBSan build in build-asan: every unit test and
#                                       every end-to-end test, the shim preloaded after libasan
#   tools/check-sanitizers.sh thread    TSan build in build-tsan: the concurrent tests
# Any sanitizer report fails the run: UBSan is built with -fno-sanitize-recover=all, and
# ASan and TSan exit non-zero on their first report.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-}"
cuda="${CUDA_HOME:-/usr/local/cuda}"
[ -d "$cuda" ] && export PATH="$cuda/bin:$PATH"
jobs="$(nproc)"
# The real CUDA 13 CUPTI wheels tools/run-tests.sh fetched, for the pip-layout discovery test.
if [ -z "${GPUPROF_CUPTI_WHEELS:-}" ] && ls "$top"/build/cupti-wheels/nvidia_cuda_cupti-*.whl >/dev/null 2>&1; then
  export GPUPROF_CUPTI_WHEELS="$top/build/cupti-wheels"
fi
keep_signals="handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0"

configure_build() { # dir sanitizers
  cmake -S "$top" -B "$top/$1" -DGPUPROF_WERROR=ON -DGPUPROF_SANITIZE="$2" \
    -DGPUPROF_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$top/$1" -j"$jobs"
}

case "$mode" in
address)
  configure_build build-asan "address,undefined"
  asan_rt="$(gcc -print-file-name=libasan.so)"
  common="abort_on_error=0:exitcode=1:detect_stack_use_after_return=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  # Unit tests, report tests, the CUDA stand-ins and the samples on their own: our code all
  # the way down, so leaks count too. A few stand-in tests preload a spy library that
  # interposes CUDA calls only (no allocator), so ASan's "runtime first" check is waived
  # there; fakecuda_runtime_elf checks the stand-in's ELF symbols, which the sanitizer
  # runtime changes (libasan defines dlopen), so it only runs in the normal build.
  ASAN_OPTIONS="$common:detect_leaks=1:verify_asan_link_order=0" \
    ctest --test-dir "$top/build-asan" --output-on-failure -j"$jobs" -E '^e2e_|^fakecuda_runtime_elf$'
  # End-to-end: the shim is preloaded into programs, so the ASan runtime must come first in
  # LD_PRELOAD (it must be the first DSO; the shim links it, the program may not). Leak
  # checking is off here: the host program is not always ours (python3, sh), and a forked
  # child abandons the parent's writer state on purpose; leaks in the trace writer and the
  # report are covered by the unit tests above. Programs that die of a signal on purpose
  # (the crash tests) must die of it: ASan's own handlers would print a report and exit 1
  # instead; and they dump core where the test allows it (ASan turns core files off, as its
  # shadow memory is large; it is marked not-to-dump, so cores stay small). A shim bug that
  # faults still fails its test (a signal where an exit was due).
  ASAN_OPTIONS="$common:detect_leaks=0:disable_coredump=0:$keep_signals" GPUPROF_TEST_SANITIZER=address \
    GPUPROF_TEST_PRELOAD_PREFIX="$asan_rt" \
    ctest --test-dir "$top/build-asan" --output-on-failure -j"$jobs" -R '^e2e_' \
    -E '^e2e_test_fault_stress$'  # 50 million events: a load test, run in the normal build
  ;;
thread)
  configure_build build-tsan "thread"
  tsan_rt="$(gcc -print-file-name=libtsan.so)"
  export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$top/.tsan-suppressions:$keep_signals"
  # Everything that runs more than one thread: the event queue, the reader's inflate thread
  # (every trace_ and report_ test reads traces), the stand-in's locks (sample_many_threads)
  # and the shim inside multi-threaded programs: the e2e fault tests (fork while threads
  # allocate, _exit from a thread, crashes, a full disk under a busy writer), many threads
  # allocating, exec and signal lifecycles. With stacks on: under TSan the shim unwinds step
  # by step, since unw_backtrace's per-thread cache is torn down after TSan has finished the
  # thread (docs/reliability.md, "TSan and libunwind"). e2e_test_launcher never runs here (a
  # single-threaded tool whose re-raised SIG_DFL signals TSan's handler swallows).
  ctest --test-dir "$top/build-tsan" --output-on-failure -j"$jobs" \
    -R '^(shim_test_queue|trace_|report_|sample_many_threads)'
  GPUPROF_TEST_SANITIZER=thread GPUPROF_TEST_PRELOAD_PREFIX="$tsan_rt" \
    ctest --test-dir "$top/build-tsan" --output-on-failure -j"$jobs" \
    -R '^e2e_test_(fault_.*|no_cuda|settings|many_threads|sigkill|alloc_pattern|oom|lifecycle_.*)$' \
    -E '^e2e_test_fault_stress$'  # 50 million events: a load test, run in the normal build
  ;;
*)
  echo "usage: tools/check-sanitizers.sh address|thread" >&2
  exit 2
  ;;
esac
