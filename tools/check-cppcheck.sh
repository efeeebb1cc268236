#!/usr/bin/env bash
# Static analysis: cppcheck over gpuprof's own C (trace library, shim, CUPTI adapter, report,
# launcher, samples, tests, benchmarks), with the checked-in configuration in .cppcheck/.
# Exits non-zero on any finding. Suppressions live in .cppcheck/suppressions.txt, each with
# its reason. Build directories (build*/) are never scanned.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"
command -v cppcheck >/dev/null || { echo "check-cppcheck: cppcheck is not installed" >&2; exit 1; }
# One configuration, the one that is built: GCC on x86-64 Linux, with libdw. Headers of the
# system and of CUDA are not analysed (the CUDA ones refuse cppcheck's compiler), so their
# types are unknown to cppcheck; everything of ours is.
exec cppcheck --quiet --error-exitcode=1 --inline-suppr \
  --std=c11 --platform=unix64 \
  --library=posix --library=gnu --library=zlib --library=.cppcheck/gpuprof.cfg \
  --enable=warning,style,performance,portability \
  -D__GNUC__=12 -D__x86_64__ -D__linux__ -D_GNU_SOURCE -DGP_HAVE_LIBDW \
  -Itrace -Ishim -Ishim/include -Icupti -Ireport -Itools -Itests/trace -Itests/report -Itests/fuzz \
  --suppress=missingIncludeSystem --suppress=missingInclude \
  --suppressions-list=.cppcheck/suppressions.txt \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
  trace shim cupti report tools samples tests bench
