#!/usr/bin/env bash
# In-process speed of the predict use case (what `millwright serve` will call per request) with the
# reference MLP trained on the AI4I split: one JSON row per call through ModelCache (alias resolved each
# call) and 2,000-row batches as Arrow IPC, an arrow batch, CSV and JSON. One thread; a benchmark, not a
# timed test. Figures go to docs/benchmarks.md.
#
#   benches/predict/run.sh [DATA_DIR]    (default ../shared/bench/data: ai4i_train.csv, ai4i_test.csv)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/bench/data}
[ -f "$DATA/ai4i_train.csv" ] || { echo "no AI4I split in $DATA"; exit 1; }
cargo run --release -q -p millwright-app --example predict_latency -- "$DATA"
