#!/usr/bin/env bash
# Ingest benchmark: Millwright vs pandas and polars on the same generated sensor CSV, in the same run.
#
#   benches/ingest/run.sh [ROWS] [RUNS]      (defaults: 5000000 rows, 6 runs; a multiple of 3 rotates evenly)
#
# Needs the reference scripts in ../shared/bench (gen_sensors.py, ingest_ref.py) and a Python with
# polars, pandas, pyarrow and numpy: set PY (default: python3). Prints a table of median wall time,
# rows/s and peak RSS, and the ratios the issue asks for. Figures drift run to run on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-5000000}
RUNS=${2:-6}
PY=${PY:-python3}
REF=${REF:-../shared/bench}
WORK=${WORK:-bench-out/ingest}
mkdir -p "$WORK"
CSV="$WORK/sensors_${ROWS}.csv"

if [ ! -f "$REF/ingest_ref.py" ]; then
    echo "skipped: $REF/ingest_ref.py is absent (the reference scripts are not part of the project)"
    exit 0
fi
cargo build --release -q -p millwright
BIN=target/release/millwright
[ -f "$CSV" ] || "$PY" "$REF/gen_sensors.py" --rows "$ROWS" --out "$CSV" >/dev/null
cat "$CSV" >/dev/null # warm the page cache, as the references are measured warm

# measure NAME COMMAND...: appends "NAME seconds peak_kib" to $WORK/times.txt
measure() {
    local name=$1; shift
    # Each tool starts with the previous one's output on disk, not still being written back under it.
    sync
    /usr/bin/time -f "%e %M" -o "$WORK/time.tmp" "$@" >/dev/null 2>"$WORK/$name.err" || {
        cat "$WORK/$name.err"; exit 1; }
    echo "$name $(cat "$WORK/time.tmp")" >> "$WORK/times.txt"
}

: > "$WORK/times.txt"
: > "$WORK/ref.jsonl"
run_tool() {
    case $1 in
        millwright)
            rm -rf "$WORK/home"
            measure millwright "$BIN" --home "$WORK/home" ingest "$CSV" --dataset sensors --clean benches/ingest/clean.toml ;;
        *) measure "$1" "$PY" "$REF/ingest_ref.py" --lib "$1" --csv "$CSV" --parquet-dir "$WORK/ref" --out "$WORK/ref.jsonl" ;;
    esac
}
# The order rotates each run: a tool measured right after another that just freed a gigabyte ran
# 0.1-0.2 s slower here, so no tool always follows the same one.
TOOLS=(millwright polars pandas)
for run in $(seq "$RUNS"); do
    for i in 0 1 2; do
        run_tool "${TOOLS[$(( (run + i) % 3 ))]}"
    done
done
"$BIN" --home "$WORK/home" sql "SELECT COUNT(*) AS rows_stored FROM sensors"

"$PY" - "$WORK/times.txt" "$ROWS" "$WORK/ref.jsonl" <<'PYEOF'
import json, statistics, sys
rows = int(sys.argv[2])
runs = {}
for line in open(sys.argv[1]):
    name, secs, kib = line.split()
    runs.setdefault(name, []).append((float(secs), int(kib)))
med = {n: (statistics.median(s for s, _ in v), max(k for _, k in v) / 1024) for n, v in runs.items()}
print(f"{'tool':<12}{'median s (whole process)':>26}{'rows/s':>14}{'peak RSS MiB':>14}")
for n, (s, mib) in med.items():
    print(f"{n:<12}{s:>26.2f}{rows / s:>14,.0f}{mib:>14.0f}")
m, p, d = med["millwright"], med["polars"], med["pandas"]
print(f"\nthroughput vs polars: {p[0] / m[0]:.2f}x (target >= 1.5x); vs pandas: {d[0] / m[0]:.2f}x")
print(f"peak RSS vs polars: {m[1] / p[1]:.2f} (target <= 0.5)")
pipe = {}
for line in open(sys.argv[3]):
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        pipe.setdefault(r["bench"], []).append(r["pipeline_s"])
for bench, secs in pipe.items():
    s = statistics.median(secs)
    print(f"{bench}: read+clean+write alone (no interpreter start or imports) {s:.2f} s; "
          f"Millwright's whole process is {s / m[0]:.2f}x that speed")
PYEOF
