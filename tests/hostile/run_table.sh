#!/usr/bin/env bash
# Runs hostile-input tables against the built `mmx`: each row prepares its input in a fresh
# directory, runs one command under a timeout, and must end with the expected exit code and a
# message containing the expected text. No row may leak a library's raw error (nlohmann's
# "[json.exception...", std::bad_alloc, vector::reserve) or die of a signal.
# Usage: run_table.sh MMX TABLE.rows...   (each table is a bash file of `row` calls, below)
# Prints one line per failure and "N passed, M failed"; exits non-zero when a row failed.
set -uo pipefail
MMX=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
TIMEOUT=${MMX_HOSTILE_TIMEOUT:-60}  # seconds per command: a hang fails its row, not the suite
source "$here/helpers.sh"

# Shared fixtures, made once: $FIX/corpus.txt and a two-step run in $FIX/run (its checkpoint).
FIX=$work/fixtures
mkdir -p "$FIX"
for _ in $(seq 300); do echo "some words to learn from, and a few more"; done >"$FIX/corpus.txt"
TINY=(--layers 1 --d-model 8 --heads 2 --seq 8 --batch 2 --eval-batch 2 --warmup 0)
if ! timeout "$TIMEOUT" "$MMX" train --data "$FIX/corpus.txt" "${TINY[@]}" --steps 2 \
    --eval-interval 2 --out "$FIX/run" >"$FIX/train.log" 2>&1; then
  cat "$FIX/train.log"
  echo "fixture: mmx train failed"
  exit 1
fi

passed=0
failed=0
# row NAME PREPARE ARGS EXIT TEXT [AFTER]: in a fresh directory, `eval PREPARE`, then `mmx ARGS`
# (shell words: quotes and redirections work); stdout and stderr together must contain TEXT.
# AFTER, when given, is a bash test run there afterwards that must succeed (nothing lost, no
# file written through a link).
row() {
  local name=$1 prepare=$2 args=$3 want_exit=$4 want_text=$5 after=${6:-}
  local dir=$work/case-$((passed + failed))
  mkdir -p "$dir"
  local problem=""
  if ! (cd "$dir" && eval "$prepare") >"$dir/prepare.log" 2>&1; then
    problem="preparation failed: $(tail -n 3 "$dir/prepare.log")"
  else
    (cd "$dir" && eval "timeout -k 5 $TIMEOUT \"\$MMX\" $args") >"$dir.out" 2>&1
    local code=$?
    local out
    out=$(head -c 4000 "$dir.out")
    if ((code == 124)); then
      problem="timed out after $TIMEOUT s"
    elif ((code > 128)); then
      problem="killed by signal $((code - 128))"
    elif ((code != want_exit)); then
      problem="exit $code, expected $want_exit"
    elif [[ $out != *"$want_text"* ]]; then
      problem="output lacks '$want_text'"
    elif [[ $out == *json.exception* || $out == *bad_alloc* || $out == *vector::* ]]; then
      problem="a raw library error reached the user"
    elif [[ -n $after ]] && ! (cd "$dir" && eval "$after") >"$dir/after.log" 2>&1; then
      problem="afterwards, '$after' failed: $(tail -n 3 "$dir/after.log")"
    fi
    [[ -n $problem ]] && problem="$problem; output: $(head -c 400 "$dir.out" | tr '\n' ' ')"
  fi
  if [[ -n $problem ]]; then
    failed=$((failed + 1))
    echo "FAIL $name: $problem"
  else
    passed=$((passed + 1))
  fi
  rm -rf "$dir" "$dir.out"
}

for table in "$@"; do
  source "$table"
done
echo "$passed passed, $failed failed"
((failed == 0))
