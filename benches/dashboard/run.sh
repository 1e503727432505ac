#!/usr/bin/env bash
# The dashboard's first render on loopback and its page weight: `millwright serve` on a home seeded by
# `millwright demo --quick`, every page of the navigation (and the pages they link) loaded in the system
# Chromium by Playwright, cold (a new browser context per page: nothing cached). Reports per page the
# server's answer time, DOMContentLoaded, first contentful paint and the load event, and the bytes of
# JS + CSS a page loads. The issue's targets: first render under 300 ms, JS + CSS under 250 KB.
# A benchmark, not a timed test; figures go to docs/benchmarks.md.
#
#   benches/dashboard/run.sh [ROUNDS]         (default 5; the median per page is reported)
#   PROFILE=dev benches/dashboard/run.sh 1    checks the script quickly with a debug build
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
PROFILE=${PROFILE:-release}
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
cargo build --profile "$PROFILE" -q -p millwright
M=$PWD/target/$DIR/millwright
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export MILLWRIGHT_HOME=$WORK/home
$M demo --quick >/dev/null 2>&1
T=$($M token create --name bench --role admin 2>/dev/null)
$M serve --bind 127.0.0.1:0 --json >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVER=$!
for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
URL=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/serve.out")
python3 benches/dashboard/measure.py "$URL" "$T" "$ROUNDS"
