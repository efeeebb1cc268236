#!/usr/bin/env bash
# Installs the Debian packages gpuprof needs to build and test, when they are missing.
# The CUDA toolkit itself is expected to be installed already (nvcc on PATH or /usr/local/cuda).
set -euo pipefail
# chromium: the HTML report is checked in a real (headless) browser by the tests
pkgs=(cmake gcc make pkg-config zlib1g-dev libunwind-dev libdw-dev libelf-dev libcmocka-dev gnuplot-nox python3
      python3-pip chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "gpuprof setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
