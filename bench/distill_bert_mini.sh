#!/usr/bin/env bash
# The distillation recipe of docs/distill.md: bert-mini-sts (4 layers) -> a 2-layer student
# initialised from every other teacher layer, distilled on the STS Benchmark train sentences
# (embedding MSE), scored on STS-B dev after each epoch; then the teacher, the same student
# without distillation (init only) and the distilled student side by side on STS-B test.
# Usage: bench/distill_bert_mini.sh [EPOCHS] [OUT_DIR] [THREADS] [LR]   (defaults 3, distill-results, 2, 1e-4)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
out=${2:-distill-results}
threads=${3:-2}
lr=${4:-1e-4}
bin=./build/slimformer
teacher=../shared/models/bert-mini-sts
sts=../shared/data/stsbenchmark
[ -x "$bin" ] || { echo "distill_bert_mini: build first (scripts/build.sh build)" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
"$bin" distill --teacher "$teacher" --out "$work/student" --data "$sts/sts-train.csv" --student-layers 2 \
  --epochs "$epochs" --lr "$lr" --eval-stsb "$sts/sts-dev.csv" --threads "$threads" | tee "$out/distill.txt"
echo "distill wall time: $(( $(date +%s) - start )) s" | tee -a "$out/distill.txt"
# the same student before training: every other teacher layer, nothing learned
"$bin" prune layers --model "$teacher" --keep 0,2 --out "$work/init-only" > /dev/null
"$bin" eval --task stsb --data "$sts/sts-test.csv" --threads "$threads" --output-dir "$out" \
  --model "$teacher" --name teacher --model "$work/init-only" --name "student-init-only" \
  --model "$work/student" --name "student-distilled"
