#!/usr/bin/env bash
# The reference workload (AI4I split, the reference MLP, 100 epochs, batch 32), whole process against whole
# process, next to keras_ref.py and torch_ref.py when a Python with TensorFlow/PyTorch is given as $PY.
#
#   cargo build --release -p millwright
#   crates/millwright-learn/benches/reference.sh [RUNS]        # default 3 runs each, median reported
#
# Without $PY (or without TensorFlow/PyTorch in it) only millwright runs, and the figures of
# ../shared/bench/RESULTS.md (same machine class, one thread) are printed beside it for the ratios.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
BENCH="$ROOT/../shared/bench"
BIN="${MILLWRIGHT_BIN:-$ROOT/target/release/millwright}"
RUNS="${1:-3}"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p millwright ($BIN missing)" >&2; exit 1; }
[ -f "$BENCH/data/ai4i_train.csv" ] || { echo "skipped: $BENCH/data is absent" >&2; exit 0; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  RAYON_NUM_THREADS=1 "$BIN" --home "$OUT/home$i" --json train --train "$BENCH/data/ai4i_train.csv" \
    --test "$BENCH/data/ai4i_test.csv" --target label --name ref > "$OUT/run$i.json"
  end=$(date +%s.%N)
  echo "$end - $start" | bc >> "$OUT/whole"
  python3 -c "import json,sys; d=json.load(open('$OUT/run$i.json')); print(d['fit_seconds'], d['test']['accuracy'], d['test']['roc_auc'], d['test']['f1'])" >> "$OUT/figures"
done
whole=$(median < "$OUT/whole")
fit=$(cut -d' ' -f1 "$OUT/figures" | median)
read -r _ acc auc f1 < <(head -1 "$OUT/figures")
echo "millwright: whole process ${whole} s (median of $RUNS), fit ${fit} s; accuracy $acc ROC-AUC $auc F1 $f1 (seed 42)"

keras_whole=58.40; torch_whole=23.03   # RESULTS.md, one thread, whole script
if [ -n "${PY:-}" ] && "$PY" -c "import tensorflow, torch" 2>/dev/null; then
  for ref in keras torch; do
    : > "$OUT/$ref"
    for i in $(seq "$RUNS"); do
      start=$(date +%s.%N)
      "$PY" "$BENCH/${ref}_ref.py" --threads 1 --seed 0 > /dev/null
      end=$(date +%s.%N)
      echo "$end - $start" | bc >> "$OUT/$ref"
    done
  done
  keras_whole=$(median < "$OUT/keras"); torch_whole=$(median < "$OUT/torch")
  echo "measured here: Keras ${keras_whole} s, PyTorch ${torch_whole} s (whole process, 1 thread)"
else
  echo "TensorFlow/PyTorch not available: using RESULTS.md (Keras ${keras_whole} s, PyTorch ${torch_whole} s whole process, 1 thread)"
fi
echo "speed-up: $(echo "scale=1; $keras_whole / $whole" | bc)x vs Keras (target 25x), $(echo "scale=1; $torch_whole / $whole" | bc)x vs PyTorch (target 8x)"
