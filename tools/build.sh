#!/usr/bin/env bash
# Configures and builds gpuprof into ./build (warnings are errors), installing missing packages first.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
"$top/tools/setup-deps.sh"
cuda="${CUDA_HOME:-/usr/local/cuda}"
[ -d "$cuda" ] && export PATH="$cuda/bin:$PATH"
cmake -S "$top" -B "$top/build" -DGPUPROF_WERROR=ON >/dev/null
cmake --build "$top/build" -j"$(nproc)"
