#!/usr/bin/env bash
# Twin scoring benchmark: `millwright twin compare --policies predictive` on the example line with an MLP
# and a GBDT model trained on the same emitted records, and with the AI4I rules (no model: the
# simulation's own cost). The twin scores one part at a time, so this times the single-row path.
#
#   benches/twin-scoring/run.sh [RUNS] [REPLICATIONS] [HORIZON]   (defaults: 5 runs, 4 replications, 7d)
#
# THREADS (default 1) is passed to --threads. MILLWRIGHT_BIN times another build (e.g. one of an earlier
# commit) instead of building this checkout. Prints the median whole-process wall time and CPU time
# (user + system, which moves less when other work shares the cores) of each, and the GBDT/MLP ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
REPS=${2:-4}
HORIZON=${3:-7d}
THREADS=${THREADS:-1}
ROWS=${ROWS:-20000}
WORK=${WORK:-bench-out/twin-scoring}
BIN=${MILLWRIGHT_BIN:-}
if [ -z "$BIN" ]; then
    cargo build --release -q -p millwright
    BIN=target/release/millwright
fi
rm -rf "$WORK"
mkdir -p "$WORK"
HOME_DIR="$WORK/home"
LINE="$WORK/line.toml"
mw() { "$BIN" --home "$HOME_DIR" "$@"; }

mw twin init "$LINE" >/dev/null
mw twin emit "$LINE" --rows "$ROWS" --out "$WORK/records.csv" >/dev/null
for kind in mlp gbdt; do
    mw train --train "$WORK/records.csv" --target "Machine failure" \
        --drop "UDI,Product ID,TWF,HDF,PWF,OSF,RNF" --model "$kind" --name "$kind" \
        --threshold max-f1 >/dev/null
done

# time_compare MODEL: appends "wall cpu" seconds of one compare to $WORK/MODEL.times (python for
# microsecond resolution: /usr/bin/time counts hundredths, a tenth of the figures here)
time_compare() {
    python3 - "$BIN" --home "$HOME_DIR" twin compare "$LINE" --policies predictive --model "$1" \
        --replications "$REPS" --horizon "$HORIZON" --threads "$THREADS" >> "$WORK/${1%%@*}.times" <<'PYEOF'
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
wall = time.perf_counter() - start
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.4f} {r.ru_utime + r.ru_stime:.4f}")
PYEOF
}
for _ in $(seq "$RUNS"); do
    for model in rules mlp@latest gbdt@latest; do
        time_compare "$model"
    done
done
# median FILE COLUMN
median() { cut -d' ' -f"$2" "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "twin compare --policies predictive, $REPS replications x $HORIZON, $THREADS thread(s), median of $RUNS:"
printf '  %-17s %8s %8s\n' "" "wall s" "cpu s"
for m in rules mlp gbdt; do
    printf '  %-17s %8s %8s\n' "$m" "$(median "$WORK/$m.times" 1)" "$(median "$WORK/$m.times" 2)"
done
ratio() { echo "scale=2; $(median "$WORK/gbdt.times" "$1") / $(median "$WORK/mlp.times" "$1")" | bc; }
echo "gbdt / mlp: $(ratio 1)x wall, $(ratio 2)x cpu"
