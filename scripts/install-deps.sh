#!/usr/bin/env bash
# Installs the Debian packages slimformer builds and tests with, when any is missing.
set -euo pipefail
PKGS=(cmake ninja-build g++ pkg-config libgtest-dev libbenchmark-dev
      libdnnl-dev libopenblas-dev nlohmann-json3-dev libutf8proc-dev libpcre2-dev
      libcli11-dev libcpp-httplib-dev gnuplot-nox pybind11-dev python3-dev python3-numpy
      clang-14 libclang-rt-14-dev libomp-14-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
