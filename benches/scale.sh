#!/usr/bin/env bash
# Scale: I = 2, K = 3, V = 2 at ratio c (samples = c N ln N), N = 1e4, 1e5, 1e6, end to
# end through the real binary: read the file, solve, decide uniqueness (and with
# IDENTIFY=1 identify the pinned tokens), check, write the answer. One markdown row per
# run: wall time and peak RSS from /usr/bin/time -v, the phases from the answer's stats
# (read = wall minus the solver's phases), clauses, solver calls, tokens propagation
# decided, and with IDENTIFY=1 the pinned and free tokens per group.
#
# Usage: benches/scale.sh [OUT.md]. Environment: SIZES (default "10000 100000 1000000"),
# RATIOS ("6 4"), FORMATS ("npz json"; JSON is skipped above N = 1e5, where the file
# alone is gigabytes), ZIPF (empty: uniform tokens; S: `generate --zipf S`),
# IDENTIFY (0; 1 adds --identify), SCALE_DIR (target/scale: the instances, made once by
# `partrec generate --seed 1`), REFERENCE=1 to also run the lab's PySAT + CaDiCaL
# reference (../shared/lab/ref_sat.py, needs target/lab-venv) where N <= 1e5.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10000 100000 1000000"}
RATIOS=${RATIOS:-"6 4"}
FORMATS=${FORMATS:-"npz json"}
DIR=${SCALE_DIR:-target/scale}
OUT=${1:-target/scale.md}
cargo build --release --quiet
B=target/release/partrec
mkdir -p "$DIR"
ZIPF=${ZIPF:-}
IDENTIFY=${IDENTIFY:-0}
tokens="uniform"
zipf_flag=()
if [ -n "$ZIPF" ]; then tokens="zipf $ZIPF"; zipf_flag=(--zipf "$ZIPF"); fi
identify_flag=()
if [ "$IDENTIFY" = 1 ]; then identify_flag=(--identify); fi
echo "| N | c | tokens | samples | input | status | wall s | peak RSS MB | read | propagate | encode | SAT | identify | check | clauses | calls | decided | pinned/free |" > "$OUT"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" >> "$OUT"
for n in $SIZES; do
  for c in $RATIOS; do
    base="$DIR/n$n-c$c${ZIPF:+-z$ZIPF}"
    [ -f "$base.npz" ] || "$B" generate --groups 2 --tokens "$n" --classes 3 --values 2 --ratio "$c" "${zipf_flag[@]}" --seed 1 -o "$base.npz" -q
    for f in $FORMATS; do
      if [ "$f" = json ]; then
        [ "$n" -gt 100000 ] && continue
        [ -f "$base.json" ] || "$B" convert "$base.npz" "$base.json" -q
      fi
      /usr/bin/time -v "$B" solve "$base.$f" --unique "${identify_flag[@]}" -q -o "$DIR/answer.json" 2> "$DIR/time.txt" || true
      python3 - "$DIR/answer.json" "$DIR/time.txt" "$n" "$c" "$f" "$tokens" >> "$OUT" <<'PY'
import json, re, sys
answer, timing, n, c, fmt, tokens = sys.argv[1:]
d = json.load(open(answer)); s = d["stats"]; t = open(timing).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
secs = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
sat = s["local_search_seconds"] + s["solve_seconds"] + s["unique_seconds"]
inner = (s["preprocess_seconds"] + s["propagate_seconds"] + s["encode_seconds"] + sat
         + s["identify_seconds"] + s["check_seconds"])
status = d["status"] + (", unique" if d.get("unique") else ", not unique" if d.get("unique") is False else "")
decided = "/".join(str(x) for x in s.get("decided_tokens") or [])
counts = d.get("pinned_counts")
pinned = " ".join(f"{g['pinned']}/{g['free']}" for g in counts) if counts else ""
print(f"| {int(n):.0e} | {c} | {tokens} | {s['samples']:,} | {fmt} | {status} | {secs:.2f} | {rss:.0f} | "
      f"{secs - inner + s['preprocess_seconds']:.2f} | {s['propagate_seconds']:.2f} | "
      f"{s['encode_seconds']:.2f} | {sat:.2f} | {s['identify_seconds']:.2f} | {s['check_seconds']:.2f} | "
      f"{s['clauses']:,} | {s['solver_calls']} | {decided} | {pinned} |")
PY
    done
    if [ "${REFERENCE:-0}" = 1 ] && [ "$n" -le 100000 ] && [ -x target/lab-venv/bin/python ]; then
      [ -f "$base.json" ] || "$B" convert "$base.npz" "$base.json" -q
      rm -f "$DIR/ref.json"
      /usr/bin/time -v timeout 600 target/lab-venv/bin/python ../shared/lab/ref_sat.py "$base.json" --unique -o "$DIR/ref.json" 2> "$DIR/reftime.txt" || true
      python3 - "$DIR/reftime.txt" "$n" "$c" "$DIR/ref.json" >> "$OUT" <<'PY'
import json, os, re, sys
t = open(sys.argv[1]).read(); n, c, answer = sys.argv[2:]
if os.path.exists(answer):
    d = json.load(open(answer))
    status = d["status"] + (", unique" if d.get("unique") else ", not unique" if d.get("unique") is False else "")
else:
    status = "failed or timed out (600 s)"
wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
secs = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))) if wall else float("nan")
m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
print(f"| {int(n):.0e} | {c} | | | json: PySAT + CaDiCaL reference | {status} | {secs:.2f} | {int(m.group(1))/1024 if m else float('nan'):.0f} | | | | | | | | | | |")
PY
    fi
  done
done
cat "$OUT"
