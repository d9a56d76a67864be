#!/usr/bin/env bash
# A distillation training step (forward, MSE on mean-pooled embeddings, backward, AdamW) in
# slimformer and in PyTorch on the same model, inputs and threads, one after the other
# (docs/distill.md). Usage: bench/train_vs_pytorch.sh [MODEL_DIR] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-../shared/models/bert-mini-sts}
threads=${2:-2}
bin=./build/bench/slim_train_bench
[ -x "$bin" ] || { echo "train_vs_pytorch: build first (scripts/build.sh build)" >&2; exit 2; }
export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-1000}"   # as the anchors harness runs both
# Debian's torch links libblas.so.3, whose default provider is the reference BLAS (~5 GFLOP/s);
# the anchors point it at OpenBLAS's OpenMP build, and so does this.
torch_blas=/usr/lib/x86_64-linux-gnu/openblas-openmp
[ -e "$torch_blas/libblas.so.3" ] || { echo "train_vs_pytorch: install libopenblas0-openmp (as ../shared/anchors/run.sh does)" >&2; exit 2; }
for shape in "32 32" "32 64" "8 128"; do
  set -- $shape
  LD_LIBRARY_PATH="$torch_blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" /usr/bin/python3 bench/train_step_torch.py "$model" "$1" "$2" --threads "$threads"
  "$bin" "$model" "$1" "$2" --threads "$threads"
  "$bin" "$model" "$1" "$2" --threads "$threads" --checkpoint-activations
done
