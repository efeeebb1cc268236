#!/usr/bin/env bash
# The whole test suite: set-up, build, then every unit and end-to-end test through ctest.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
"$top/tools/build.sh"
# The CUPTI discovery test also checks the layout PyTorch users have: the real CUDA 13 pip
# wheels (PyPI), fetched once into the build tree.
wheels="$top/build/cupti-wheels"
if [ -z "${GPUPROF_CUPTI_WHEELS:-}" ]; then
  if ! ls "$wheels"/nvidia_cuda_cupti-*.whl >/dev/null 2>&1; then
    python3 -m pip download --no-deps -q -d "$wheels" \
      "nvidia-cuda-runtime>=13,<14" "nvidia-cuda-cupti>=13,<14" >&2 || true
  fi
  if ls "$wheels"/nvidia_cuda_cupti-*.whl >/dev/null 2>&1; then
    export GPUPROF_CUPTI_WHEELS="$wheels"
  else
    echo "run-tests: could not fetch the CUDA 13 CUPTI wheels; cupti_loader_wheels will skip" >&2
  fi
fi
# The SASS counting test disassembles cubins the build compiled with nvcc; the toolkit has no
# nvdisasm, PyTorch users' pip layout does (nvidia-cuda-nvdisasm).
nvd="$top/build/nvdisasm"
if [ -z "${GPUPROF_NVDISASM:-}" ]; then
  if [ ! -x "$nvd/nvidia/cu13/bin/nvdisasm" ]; then
    python3 -m pip install -q --no-deps --target "$nvd" "nvidia-cuda-nvdisasm>=13,<14" >&2 || true
  fi
  if [ -x "$nvd/nvidia/cu13/bin/nvdisasm" ]; then
    export GPUPROF_NVDISASM="$nvd/nvidia/cu13/bin/nvdisasm"
  else
    echo "run-tests: could not install nvidia-cuda-nvdisasm; tensor_sass_cubin will skip" >&2
  fi
fi
ctest --test-dir "$top/build" --output-on-failure -j"$(nproc)"
