#!/usr/bin/env bash
# Distilling a classifier (docs/distill.md): bert-mini-sts given a fresh BertForSequenceClassification
# head (bench/add_classifier_head.py) and fine-tuned on GLUE MRPC train (`--hard-label-weight 1`:
# labels only) is the teacher; a 2-layer student (every other teacher layer, the teacher's head)
# is then trained on the same pairs three ways: the labels alone, the teacher's logits alone (KD),
# and both (KD + cross-entropy, the default). All are scored on MRPC dev after each epoch and, at
# the end, side by side with the untrained student on the held-out msr_paraphrase_test.txt.
# MRPC is read from ../shared (its license is non-commercial: nothing of it is copied here).
# Usage: bench/distill_mrpc.sh [EPOCHS] [OUT_DIR] [THREADS] [LR]   (defaults 3, distill-mrpc-results, 2, 1e-4)
# A teacher already in OUT_DIR/teacher is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-3}
out=${2:-distill-mrpc-results}
threads=${3:-2}
lr=${4:-1e-4}
bin=./build/slimformer
base=../shared/models/bert-mini-sts
mrpc=../shared/data/glue/MRPC
[ -x "$bin" ] || { echo "distill_mrpc: build first (scripts/build.sh build)" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--data "$mrpc/train.tsv" --epochs "$epochs" --lr "$lr" --dropout 0.1 --eval-mrpc "$mrpc/dev.tsv" --threads "$threads")
if [ ! -d "$out/teacher" ]; then
  /usr/bin/python3 bench/add_classifier_head.py "$base" "$work/untrained" 2 0
  start=$(date +%s)
  "$bin" distill --teacher "$work/untrained" --student "$work/untrained" --hard-label-weight 1 "${common[@]}" \
    --out "$out/teacher" | tee "$out/teacher.txt"
  echo "fine-tuning wall time: $(( $(date +%s) - start )) s" | tee -a "$out/teacher.txt"
fi
for run in "labels-only 1" "kd-only 0" "kd+labels 0.5"; do
  set -- $run
  start=$(date +%s)
  "$bin" distill --teacher "$out/teacher" --student-layers 2 --hard-label-weight "$2" "${common[@]}" \
    --out "$work/$1" | tee "$out/student-$1.txt"
  echo "wall time: $(( $(date +%s) - start )) s" | tee -a "$out/student-$1.txt"
done
"$bin" prune layers --model "$out/teacher" --keep 0,2 --out "$work/init-only" > /dev/null
"$bin" eval --task mrpc --data "$mrpc/msr_paraphrase_test.txt" --threads "$threads" --output-dir "$out" \
  --model "$out/teacher" --name teacher --model "$work/init-only" --name student-init-only \
  --model "$work/labels-only" --name student-labels-only --model "$work/kd-only" --name student-kd-only \
  --model "$work/kd+labels" --name student-kd+labels
