#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on a scratch copy of its committed seed corpus,
# and prints one summary line each. Any crash, sanitizer report, leak, RSS over 2 GB or single
# allocation over 512 MB fails the run (libFuzzer exits non-zero and keeps the crashing input).
# Usage: fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET=60]
set -euo pipefail
build=$(cd "$1" && pwd)
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in safetensors idx text phrase_pairs; do
  mkdir -p "$work/$target" "$work/artifacts-$target"
  cp "$here/corpus/$target/"* "$work/$target/"
  dict=()
  [[ -f "$here/$target.dict" ]] && dict=("-dict=$here/$target.dict")
  # libFuzzer's default -max_len is the longest seed, at most 4,096 bytes: too short for the
  # 60,000-level nesting in the JSON-bearing targets' seeds (fuzz/corpus/*/deep_*, *_deep_*).
  max_len=()
  [[ $target == safetensors || $target == text ]] && max_len=("-max_len=131072")
  log="$work/$target.log"
  if ! "$build/fuzz/fuzz_$target" "$work/$target" "${dict[@]}" "${max_len[@]}" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts-$target/" >"$log" 2>&1; then
    status=1
    tail -n 60 "$log"
    mkdir -p fuzz-failures && cp "$work/artifacts-$target/"* fuzz-failures/ 2>/dev/null || true
    echo "fuzz_$target: FAILED (crashing input copied to ./fuzz-failures/)"
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  echo "fuzz_$target: ${runs} executions in ${seconds} s, ${cov}, corpus $(ls "$work/$target" | wc -l) inputs, no failure"
done
exit $status
