#!/bin/bash
# docs/performance.md, "Threads": one or more mmx binaries, alternating, in rounds. Per round and
# binary: no busy loop, then a busy loop on one core at the default thread count, then at
# --threads 1; in each, `bench train` (tiny), `bench sample` (small) and a 30-step `mmx train`.
# A binary with `bench --busy-core` gets it in the benches; others (and every `mmx train`) meet
# the same loop started here. Each run appends a line to OUT/results.tsv (round, condition,
# binary, what, tokens/s, 1-minute load average at its start); the medians are printed at the end.
#
#   bench/busy_core_rounds.sh OUT MMX [MMX...]     (ROUNDS=3 by default; ~5 min per round
#                                                   and binary on a loaded 2-core machine)
set -euo pipefail
OUT=$1
shift
ROUNDS=${ROUNDS:-3}
mkdir -p "$OUT"
: >"$OUT/results.tsv"

load1() { cut -d' ' -f1 /proc/loadavg; }
spin_start() {
  sh -c 'while :; do :; done' &
  SPIN=$!
}
spin_stop() {
  kill "$SPIN"
  wait "$SPIN" 2>/dev/null || true
}
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" | tee -a "$OUT/results.tsv"; }
first_json() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }

# One benchmark command ($4...) of binary $3 in round $1, condition $2.
bench_run() {
  local round=$1 cond=$2 index=$3 field=$4 what=$5
  shift 5
  local mmx=${BINARIES[$index]} extra=() external=0
  [ "$cond" = busy1 ] && extra+=(--threads 1)
  if [ "$cond" != idle ]; then
    if "$mmx" bench --help | grep -q -- --busy-core; then extra+=(--busy-core); else external=1; fi
  fi
  [ $external = 1 ] && spin_start
  local load
  load=$(load1)
  local value
  value=$("$mmx" bench "$@" --json "${extra[@]}" 2>/dev/null | first_json "$field")
  [ $external = 1 ] && spin_stop
  record "$round" "$cond" "$index" "$what" "$value" "$load"
}

train_run() {
  local round=$1 cond=$2 index=$3 extra=()
  [ "$cond" = busy1 ] && extra+=(--threads 1)
  [ "$cond" != idle ] && spin_start
  local load dir="$OUT/train-$index"
  load=$(load1)
  "${BINARIES[$index]}" train --steps 30 --eval-interval 15 --eval-batch 4 --out "$dir" \
    --overwrite "${extra[@]}" >/dev/null 2>&1
  [ "$cond" != idle ] && spin_stop
  # tokens/s of steps 16-30: the last evaluation's record
  record "$round" "$cond" "$index" train_lm "$(tail -1 "$dir/log.jsonl" | first_json items_per_s)" \
    "$load"
}

BINARIES=("$@")
for ((i = 0; i < ${#BINARIES[@]}; ++i)); do echo "binary $i: ${BINARIES[$i]}"; done
for round in $(seq 1 "$ROUNDS"); do
  for cond in idle busy busy1; do
    order=$(seq 0 $((${#BINARIES[@]} - 1)))
    [ $((round % 2)) = 0 ] && order=$(echo "$order" | tac)  # alternate who goes first
    for index in $order; do
      bench_run "$round" "$cond" "$index" tokens_per_s bench_train_tiny \
        train --config tiny --attn softmax --sgemm-n 0 --steps 10 --warmup 2
      bench_run "$round" "$cond" "$index" cached_tokens_per_s bench_sample_small \
        sample --config small --attn softmax --rounds 1 --tokens 64
      train_run "$round" "$cond" "$index"
    done
  done
done

python3 - "$OUT/results.tsv" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, cond, index, what, value, load = line.rstrip("\n").split("\t")
    runs[(what, index, cond)].append((float(value), float(load)))
print("median tokens/s [each run], 1-minute load range; busy/idle = busy loop at default / none")
for what, index in sorted({(w, i) for w, i, _ in runs}):
    cells = []
    for cond in ("idle", "busy", "busy1"):
        v = runs[(what, index, cond)]
        vals, loads = [x for x, _ in v], [l for _, l in v]
        cells.append(f"{cond} {statistics.median(vals):.0f} [{', '.join(f'{x:.0f}' for x in vals)}]"
                     f" load {min(loads):.1f}-{max(loads):.1f}")
    ratio = statistics.median(x for x, _ in runs[(what, index, "busy")]) / statistics.median(
        x for x, _ in runs[(what, index, "idle")])
    print(f"{what} binary {index}: " + " | ".join(cells) + f" | busy/idle {ratio:.2f}")
EOF
