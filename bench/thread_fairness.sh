#!/usr/bin/env bash
# The default thread count on a shared machine: `slimformer embed` of 2000 STS-B sentences with
# bert-mini-sts, on an idle machine and beside one CPU-bound process, with the default threads,
# --threads 1 and --threads <cores> (a fixed thread per core: the default before the fair one),
# alternating so that drift hits every variant alike (docs/performance.md,
# "Threads on a shared machine").
#   bench/thread_fairness.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-5}
model=${SLIM_MODEL:-../shared/models/bert-mini-sts}
data=${SLIM_STS:-../shared/data/stsbenchmark/sts-train.csv}
work=$(mktemp -d)
busy_pid=""
trap '[ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null; rm -rf "$work"' EXIT
awk -F'\t' 'NR <= 2000 { print $6 }' "$data" > "$work/texts.txt"

run_once() {   # prints the wall seconds of one embed run
  local start end
  start=$(date +%s.%N)
  "$build/slimformer" embed --model "$model" --input "$work/texts.txt" --output "$work/out.jsonl" "$@" 2>/dev/null
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }

cores=$(nproc)
measure() {   # label, then the rounds of default / --threads 1 / --threads <cores> alternating
  local label=$1 d=() o=() a=()
  for _ in $(seq "$rounds"); do
    d+=("$(run_once)")
    o+=("$(run_once --threads 1)")
    a+=("$(run_once --threads "$cores")")
  done
  local dm om am
  dm=$(printf '%s\n' "${d[@]}" | median)
  om=$(printf '%s\n' "${o[@]}" | median)
  am=$(printf '%s\n' "${a[@]}" | median)
  echo "$label: default $dm s (${d[*]}); --threads 1 $om s (${o[*]}); --threads $cores $am s (${a[*]})"
  echo "$dm $om $am" > "$work/$label"
}

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; loadavg at start: $(cat /proc/loadavg)"
run_once >/dev/null   # warm the page cache
measure idle
( while :; do :; done ) &
busy_pid=$!
sleep 0.5
measure beside-one-busy
kill "$busy_pid"; busy_pid=""
read -r idle_d idle_o idle_a < "$work/idle"
read -r busy_d busy_o busy_a < "$work/beside-one-busy"
echo "loadavg at end: $(cat /proc/loadavg)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "default beside load / default idle: $(ratio "$busy_d" "$idle_d") (target <= 2)"
echo "default / --threads 1, beside load: $(ratio "$busy_d" "$busy_o") (target <= 1 + noise)"
echo "default / --threads 1, idle:        $(ratio "$idle_d" "$idle_o")"
echo "default / --threads $cores, idle:        $(ratio "$idle_d" "$idle_a") (target 1 + noise)"
echo "--threads $cores beside load / idle:   $(ratio "$busy_a" "$idle_a") (the fixed count's slowdown)"
