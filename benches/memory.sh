#!/usr/bin/env bash
# Memory estimates against real peaks: for each instance, the estimates a solve records
# (`stats.memory_estimate`, before it starts: preprocessing, encodings, answer, what
# `partrec serve` reserves from its --max-memory budget; `stats.search_memory_estimate`,
# once propagation is done: what the server keeps reserved from then on) beside the peak
# resident memory of the whole `partrec solve` process (/usr/bin/time), which also
# holds the parsed instance and the program itself. One markdown row per solve.
#
# Usage: benches/memory.sh [OUT.md]. Environment: MEMORY_DIR (target/memory: the
# instances, made once by `partrec generate --seed 1`), SIZES2 (N for two groups,
# default "10000 100000 1000000"), SIZES3 (N for three groups, "1000 10000").
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${MEMORY_DIR:-target/memory}
OUT=${1:-target/memory.md}
SIZES2=${SIZES2:-"10000 100000 1000000"}
SIZES3=${SIZES3:-"1000 10000"}
cargo build --release --quiet
B=target/release/partrec
mkdir -p "$DIR"
echo "| instance | samples | options | status | estimate MB | after propagation MB | peak RSS MB | estimate / peak |" > "$OUT"
echo "|---|---|---|---|---|---|---|---|" >> "$OUT"
run() { # NAME FILE OPTIONS...
  local name=$1 file=$2
  shift 2
  /usr/bin/time -f "%M" -o "$DIR/rss.txt" "$B" solve "$file" "$@" -q --timeout 120 -o "$DIR/answer.json" || true
  python3 - "$DIR/answer.json" "$DIR/rss.txt" "$name" "$*" >> "$OUT" <<'PY'
import json, sys
answer, rss, name, options = sys.argv[1:]
d = json.load(open(answer)); s = d["stats"]
peak = int(open(rss).read().split()[-1]) / 1024
est = s["memory_estimate"] / 2**20
rest = s.get("search_memory_estimate")
rest = f"{rest / 2**20:.0f}" if rest is not None else "-"
status = d["status"] + (", unique" if d.get("unique") else ", not unique" if d.get("unique") is False else "")
print(f"| {name} | {s['samples']:,} | {options or 'find'} | {status} | {est:.0f} | {rest} | {peak:.0f} | {est / peak:.1f} |")
PY
}
for n in $SIZES2; do
  for c in 6 1; do
    f="$DIR/i2-n$n-c$c.npz"
    [ -f "$f" ] || "$B" generate --groups 2 --tokens "$n" --classes 3 --values 2 --ratio "$c" --seed 1 -o "$f" -q
    run "I=2, N=$n, $c N ln N" "$f" --unique
    run "I=2, N=$n, $c N ln N" "$f" --identify
  done
  f="$DIR/i2-n$n-zipf.npz"
  [ -f "$f" ] || "$B" generate --groups 2 --tokens "$n" --classes 3 --values 2 --ratio 6 --zipf 1.1 --seed 1 -o "$f" -q
  run "I=2, N=$n, zipf 1.1" "$f" --identify
done
for n in $SIZES3; do
  f="$DIR/i3-n$n.npz"
  [ -f "$f" ] || "$B" generate --groups 3 --tokens "$n" --classes 2 --values 2 --ratio 12 --seed 1 -o "$f" -q
  run "I=3, N=$n, 12 N ln N" "$f" --unique
done
g="$DIR/german.json"
[ -f "$g" ] || "$B" import instances/german/gender.csv --group noun --group context --value article --classes 3,7 -q -o "$g"
run "German nouns (noun, context)" "$g" --identify
for f in instances/hard-three-groups.json instances/myciel4-4colors.json; do
  run "$(basename "$f" .json)" "$f" --unique
done
cat "$OUT"
