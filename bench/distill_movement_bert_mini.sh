#!/usr/bin/env bash
# Movement pruning while distilling (docs/distill.md): bert-mini-sts distilled into itself (a
# 4-layer student, initialised from the teacher) with --prune movement:amount=AMOUNT, scored on
# STS-B dev after each epoch; then on STS-B test beside the teacher and L1 unstructured pruning of
# the teacher at the same amount (the same 24 matrices; no training).
# Usage: bench/distill_movement_bert_mini.sh [AMOUNT] [EPOCHS] [OUT_DIR] [THREADS] [LR]
#   (defaults 0.5, 3, movement-results, 2, 5e-4: the rate of the pruned-model recovery)
set -euo pipefail
cd "$(dirname "$0")/.."
amount=${1:-0.5}
epochs=${2:-3}
out=${3:-movement-results}
threads=${4:-2}
lr=${5:-5e-4}
bin=./build/slimformer
teacher=../shared/models/bert-mini-sts
sts=../shared/data/stsbenchmark
[ -x "$bin" ] || { echo "distill_movement_bert_mini: build first (scripts/build.sh build)" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
"$bin" distill --teacher "$teacher" --student "$teacher" --out "$work/movement" --data "$sts/sts-train.csv" \
  --prune "movement:amount=$amount" --epochs "$epochs" --lr "$lr" --eval-stsb "$sts/sts-dev.csv" \
  --threads "$threads" | tee "$out/movement.txt"
echo "movement distill wall time: $(( $(date +%s) - start )) s" | tee -a "$out/movement.txt"
"$bin" prune l1-unstructured --model "$teacher" --amount "$amount" --out "$work/l1" > /dev/null
"$bin" eval --task stsb --data "$sts/sts-test.csv" --threads "$threads" --output-dir "$out" \
  --model "$teacher" --name teacher --model "$work/l1" --name "l1-unstructured-$amount" \
  --model "$work/movement" --name "movement-$amount-distilled"
