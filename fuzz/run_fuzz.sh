#!/usr/bin/env bash
# One fuzz target for a bounded time: run_fuzz.sh TARGET SEED_DIR ARTIFACT_DIR SECONDS
# Prints libFuzzer's last stats line (executions, coverage) and fails on any finding.
set -euo pipefail
target=$1 seeds=$2 artifacts=$3 seconds=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
name=$(basename "$target")
# -rss_limit_mb / -malloc_limit_mb: an input that makes a parser allocate without bound is a finding.
if ! "$target" "$work" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
     -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
     > "$work/log" 2>&1; then
  tail -n 60 "$work/log"
  echo "$name: a finding, input saved under $artifacts/" >&2
  exit 1
fi
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$work/log" || true
grep -E 'cov: ' "$work/log" | tail -n 1
