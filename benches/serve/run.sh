#!/usr/bin/env bash
# Model serving over HTTP on loopback: `millwright serve` with the reference MLP (trained on the AI4I split)
# answering single-row JSON predictions and 2,000-row Arrow IPC batches, loaded by wrk (Debian package;
# installed when missing). The load generator and the server share the machine's cores; a benchmark,
# not a timed test. Figures go to docs/benchmarks.md.
#
#   benches/serve/run.sh [SECONDS] [CONNECTIONS] [DATA_DIR]   (defaults 10, 32, ../shared/bench/data)
#   PROFILE=dev benches/serve/run.sh 2    checks the script quickly with a debug build (figures meaningless)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-10}
CONNECTIONS=${2:-32}
DATA=${3:-../shared/bench/data}
[ -f "$DATA/ai4i_train.csv" ] || { echo "no AI4I split in $DATA"; exit 1; }
if ! command -v wrk >/dev/null; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y -qq wrk >/dev/null
fi
PROFILE=${PROFILE:-release}
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
cargo build --profile "$PROFILE" -q -p millwright
M=$PWD/target/$DIR/millwright
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export MILLWRIGHT_HOME=$WORK/home
$M train --train "$DATA/ai4i_train.csv" --test "$DATA/ai4i_test.csv" --target label --model mlp \
    --name failure >/dev/null
$M models promote failure@1 --alias production >/dev/null
T=$($M token create --name bench --role operator 2>/dev/null)
PORT=18080
$M serve --bind 127.0.0.1:$PORT >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.2; done
URL=http://127.0.0.1:$PORT/api/v1/models/failure@production/predict

# One row as a JSON body; the model's own columns.
ROW=$(head -2 "$DATA/ai4i_train.csv" | python3 -c '
import csv, json, sys
r = next(csv.DictReader(sys.stdin)); r.pop("label")
print(json.dumps({"rows": [{k: float(v) for k, v in r.items()}]}))')
cat >"$WORK/row.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $T"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$ROW'
LUA
# The batch: 2,000 rows of the test split as an Arrow IPC stream, written by `sql --format arrow`.
$M ingest "$DATA/ai4i_test.csv" --dataset batch >/dev/null
$M sql "SELECT * FROM batch LIMIT 2000" --format arrow --out "$WORK/batch.arrows"
cat >"$WORK/batch.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $T"
wrk.headers["Content-Type"] = "application/vnd.apache.arrow.stream"
local f = io.open("$WORK/batch.arrows", "rb"); wrk.body = f:read("*a"); f:close()
LUA
curl -sf -H "Authorization: Bearer $T" -H 'Content-Type: application/json' -d "$ROW" "$URL" >/dev/null \
    || { echo "the predict route refused the row:"; curl -s -H "Authorization: Bearer $T" -H 'Content-Type: application/json' -d "$ROW" "$URL"; exit 1; }

echo "== single-row JSON predict, $CONNECTIONS connections, ${SECONDS_EACH}s"
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency -s "$WORK/row.lua" "$URL" | tee "$WORK/row.txt"
echo "== 2,000-row Arrow IPC predict, 4 connections, ${SECONDS_EACH}s"
wrk -t1 -c4 -d"${SECONDS_EACH}s" --latency -s "$WORK/batch.lua" "$URL" | tee "$WORK/batch.txt"
python3 - "$WORK/row.txt" "$WORK/batch.txt" <<'PY'
import re, sys
def rate(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rps, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0
rps, p99, bad = rate(sys.argv[1])
print(f"single row: {rps:,.0f} requests/s, p99 {p99:.2f} ms, {bad} non-2xx (target >= 50,000/s, p99 <= 2 ms)")
rps, p99, bad = rate(sys.argv[2])
print(f"2,000-row Arrow batch: {rps * 2000 / 1e6:.2f} M rows/s ({rps:,.0f} requests/s, p99 {p99:.2f} ms, {bad} non-2xx; target >= 5 M rows/s)")
PY
