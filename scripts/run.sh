#!/usr/bin/env bash
# Fresh machine -> installed, built, and the main job run on a built-in configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
./build/slimformer bench --config bert-base --seq-lens 128,512 "$@"
