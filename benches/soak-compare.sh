#!/usr/bin/env bash
# Throughput of two builds of `partrec serve` under the soak load (benches/soak.py),
# alternating: ROUNDS rounds of MINUTES minutes each, with one SIGKILL restart per
# run. The first build runs with its job database and tokens; the second, an older
# build without them, runs the same load with --legacy (no tokens, jobs in memory).
#
# Usage: benches/soak-compare.sh OLD_PARTREC [OUT.md]. Environment: ROUNDS (2),
# MINUTES (2), CLIENTS (8), NEW (target/release/partrec).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${1:?usage: benches/soak-compare.sh OLD_PARTREC [OUT.md]}
OUT=${2:-target/soak-compare.md}
NEW=${NEW:-target/release/partrec}
ROUNDS=${ROUNDS:-2}
MINUTES=${MINUTES:-2}
CLIENTS=${CLIENTS:-8}
mkdir -p "$(dirname "$OUT")"
{
  echo "| server | run | answered/s | p50 / p99 | jobs accepted | delivered | lost | unsettled | wrong |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$OUT"
for round in $(seq "$ROUNDS"); do
  python3 benches/soak.py --bin "$NEW" --minutes "$MINUTES" --kills 1 --clients "$CLIENTS" \
    --seed "$round" 2> /dev/null >> "$OUT" || true
  python3 benches/soak.py --bin "$OLD" --legacy --minutes "$MINUTES" --kills 1 \
    --clients "$CLIENTS" --seed "$round" 2> /dev/null >> "$OUT" || true
done
cat "$OUT"
