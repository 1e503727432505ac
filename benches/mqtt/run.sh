#!/usr/bin/env bash
# MQTT benchmark: the rate `millwright connect` stores QoS 1 messages of 10 readings each, against the rate
# the same mosquitto delivers them to a bare `mosquitto_sub -q 1`, in the same run; and publish -> queryable
# latency at a steady rate below the maximum. Publisher, broker and Millwright share the machine.
#
#   benches/mqtt/run.sh [MESSAGES] [RUNS] [RATE] [SECONDS] [-- CONNECT_ARGS...]
#   (defaults: 200000 messages, 3 runs; latency at 5000 messages/s for 20 s)
#
# Needs Debian mosquitto and mosquitto-clients. Prints each run and a JSON summary (medians, ratio).
set -euo pipefail
cd "$(dirname "$0")/../.."
MESSAGES=${1:-200000}
RUNS=${2:-3}
RATE=${3:-5000}
SECONDS_=${4:-20}
shift $(( $# < 4 ? $# : 4 ))
[ "${1:-}" = "--" ] && shift
WORK=${WORK:-bench-out/mqtt}
for tool in /usr/sbin/mosquitto mosquitto_sub; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed (apt-get install mosquitto mosquitto-clients)"; exit 0; }
done
cargo build --release -q -p millwright
cargo build --release -q -p millwright-connect --example mqtt_bench_publish
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$WORK"
python3 benches/mqtt/measure.py "$TARGET/release/millwright" "$TARGET/release/examples/mqtt_bench_publish" \
    "$MESSAGES" "$RUNS" "$RATE" "$SECONDS_" "$WORK" "$@"
