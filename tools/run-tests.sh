#!/usr/bin/env bash
# The whole test suite: set-up, build, then every unit and end-to-end test through ctest.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
"$top/tools/build.sh"
ctest --test-dir "$top/build" --output-on-failure -j"$(nproc)"
