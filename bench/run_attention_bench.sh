#!/usr/bin/env bash
# One attention layer alone (bert-base shape: 12 heads x 64, batch 1) for every mechanism, against
# sequence length: the measurements behind docs/attention/benchmarks.md. Usage:
#   bench/run_attention_bench.sh [BUILD_DIR] [OUT_DIR]
# Writes OUT_DIR/<label>.json and .csv and prints each table. `full` is capped at 8 GiB of
# activations, so its 16384 cell (12.9 GB of scores) is reported N/A rather than swapping.
set -euo pipefail
build=${1:-build}
out=${2:-bench-results/attention}
mkdir -p "$out"
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-1000}
lens=${SEQ_LENS:-512,1024,2048,4096,8192,16384}
run() {
  local label=$1 spec=$2; shift 2
  echo "== $label: $spec"
  "$build/slimformer" bench --attention-only --attention "$spec" --seq-lens "$lens" --threads 2 \
    --runs 3 --warmup 1 --json "$out/$label.json" --csv "$out/$label.csv" "$@"
}
run full full --max-memory 8G
run exact exact
run sliding-512 sliding:window=512
run sliding-64 sliding:window=64
run dilated-512x2 sliding:window=512,dilation=2
run sliding-512-global sliding:window=512+global:first=1
run random-64 random:r=64
run bigbird bigbird
run lsh lsh
run linformer linformer:k=256
run performer performer
run linear linear
