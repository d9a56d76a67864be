#!/usr/bin/env bash
# Every compression variant of a model, built with the CLI and scored side by side by
# `slimformer eval` on STS-B (docs/compression.md holds the table this writes).
# Usage: [STSB_TRAIN=FILE] bench/compression_table.sh [MODEL_DIR] [STSB_FILE] [OUT_DIR] [THREADS]
# Defaults: ../shared/models/bert-mini-sts, its STS-B test split, ./compression-results, 2.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-../shared/models/bert-mini-sts}
data=${2:-../shared/data/stsbenchmark/sts-test.csv}
out=${3:-compression-results}
threads=${4:-2}
bin=./build/slimformer
[ -x "$bin" ] || { echo "compression_table: build first (scripts/build.sh build)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

variants=(f32)
dirs=("$model")
add() {   # add NAME COMMAND...: the command writes $work/NAME
  local name=$1; shift
  "$@" --out "$work/$name" > /dev/null
  variants+=("$name")
  dirs+=("$work/$name")
}
add int8+emb-int8 "$bin" quantize --model "$model" --dtype int8 --embeddings int8
add int8 "$bin" quantize --model "$model" --dtype int8
add fp16 "$bin" quantize --model "$model" --dtype fp16
add bf16 "$bin" quantize --model "$model" --dtype bf16
add l1-20 "$bin" prune l1-unstructured --model "$model" --amount 0.2
add l1-global-50 "$bin" prune l1-unstructured --model "$model" --amount 0.5 --global
add l1-global-90 "$bin" prune l1-unstructured --model "$model" --amount 0.9 --global
add chapter-every-weight-20 "$bin" prune l1-unstructured --model "$model" --amount 0.2 --scope every-weight
"$bin" prune ffn --model "$model" --amount 0.5 --out "$work/ffn50" > /dev/null
add ffn50+heads50 "$bin" prune heads --model "$work/ffn50" --amount 0.5
add ffn50+heads50+int8 "$bin" quantize --model "$work/ffn50+heads50" --dtype int8 --embeddings int8
add layers-keep-0,2 "$bin" prune layers --model "$model" --keep 0,2
# Which heads to remove: the lowest weight norms against gradient importance (Michel et al. 2019)
# on the first 2000 pairs of STS-B train (never the split scored here). Skipped without that file.
train=${STSB_TRAIN:-../shared/data/stsbenchmark/sts-train.csv}
for a in 25 50; do
  add heads$a-norm "$bin" prune heads --model "$model" --amount 0.$a
  if [ -f "$train" ]; then
    add heads$a-gradient "$bin" prune heads --model "$model" --amount 0.$a --data "$train" --data-limit 2000
  fi
done
# The baseline once more, last: how far the speed column moves between identical models.
variants+=("f32-again")
dirs+=("$model")

args=()
for i in "${!variants[@]}"; do args+=(--model "${dirs[$i]}" --name "${variants[$i]}"); done
mkdir -p "$out"
"$bin" eval --task stsb --data "$data" --threads "$threads" --output-dir "$out" "${args[@]}"
