#!/bin/bash
# The study of docs/study.md: SoftMax against MultiMax (attention only, and attention + output
# logits) on the ViT and the character GPT, 5 seeds each, at the tasks' default budgets; then
# MultiMax again with its (t, r) at 10x the learning rate, so that they move far from their start.
# Writes every run, compare.json and figure under OUT, then prints the tables of docs/study.md.
#
#   bench/study.sh [OUT]          (default runs/study; about 75 min of one idle core)
#   MMX=path/to/mmx THREADS=2 bench/study.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MMX=${MMX:-build/cli/mmx}
OUT=${1:-runs/study}
THREADS=${THREADS:-1}
SEEDS=5
mkdir -p "$OUT"

# One compare into OUT/NAME, its wall time in seconds in OUT/NAME.seconds.
compare() {
  local name=$1 start=$SECONDS
  shift
  "$MMX" compare --seeds $SEEDS --threads "$THREADS" --out "$OUT/$name" "$@"
  echo $((SECONDS - start)) >"$OUT/$name.seconds"
}

# task, its default budget in steps
for task_steps in "vit 2150" "lm 1000"; do
  read -r task steps <<<"$task_steps"
  compare "$task" --task "$task" --steps "$steps" --attn softmax,multimax,multimax+logits
  compare "$task-scale10" --task "$task" --steps "$steps" --attn softmax,multimax \
    --multimax-lr-scale 10
done

# The learned modulators of seed 0 on its validation batch, and their paths over training.
for run in vit/multimax vit-scale10/multimax lm/multimax lm-scale10/multimax; do
  "$MMX" modulators --ckpt "$OUT/$run-seed0" --out "$OUT/${run//\//_}_modulators.png"
  "$MMX" modulators --ckpt "$OUT/$run-seed0" --trajectory \
    --out "$OUT/${run//\//_}_trajectory.png" >/dev/null
done

MMX="$MMX" /usr/bin/python3 bench/study_tables.py "$OUT"
