#!/usr/bin/env bash
# The distillation recipe of docs/distill.md: bert-mini-sts (4 layers) -> a 2-layer student
# initialised from every other teacher layer, distilled on the STS Benchmark train sentences
# (embedding MSE), scored on STS-B dev after each epoch; then the teacher, the same student
# without distillation (init only) and the distilled student side by side on STS-B test.
# Second, recovery: bert-mini-sts with 50% of its FFN neurons and 50% of its heads removed,
# distilled from the unpruned model the same way, scored beside its unrecovered self.
# Usage: bench/distill_bert_mini.sh [EPOCHS] [OUT_DIR] [THREADS] [LR] [RECOVER_LR]
#   (defaults 3, distill-results, 2, 1e-4, 5e-4: the recovery's rate was chosen on STS-B dev)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
out=${2:-distill-results}
threads=${3:-2}
lr=${4:-1e-4}
recover_lr=${5:-5e-4}
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

"$bin" prune ffn --model "$teacher" --amount 0.5 --out "$work/ffn50" > /dev/null
"$bin" prune heads --model "$work/ffn50" --amount 0.5 --out "$work/pruned" > /dev/null
start=$(date +%s)
"$bin" distill --teacher "$teacher" --out "$work/recovered" --data "$sts/sts-train.csv" --student "$work/pruned" \
  --epochs "$epochs" --lr "$recover_lr" --eval-stsb "$sts/sts-dev.csv" --threads "$threads" | tee "$out/recover.txt"
echo "recovery wall time: $(( $(date +%s) - start )) s" | tee -a "$out/recover.txt"
mkdir -p "$out/recovery"
"$bin" eval --task stsb --data "$sts/sts-test.csv" --threads "$threads" --output-dir "$out/recovery" \
  --model "$teacher" --name teacher --model "$work/pruned" --name "ffn50+heads50" \
  --model "$work/recovered" --name "ffn50+heads50-distilled"
