#!/usr/bin/env bash
# Fresh machine -> installed, built, and the main job run: the default benchmark (efficient
# attention against full on built-in configurations, about 3 minutes on 2 cores), whose tables,
# CSV, JSON and plots go into a new folder of ./bench-results/. Extra arguments go to bench.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
./build/slimformer bench "$@"
