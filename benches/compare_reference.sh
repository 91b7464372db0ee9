#!/usr/bin/env bash
# The hard regime against the lab's reference, side by side on this machine.
#
# For I=3, K=3, V=2, N=50 and each ratio and seed, makes the instance with the lab's
# independent generator (../shared/lab/gen.py), then runs at the same time, one per
# core: `partrec solve --unique --timeout LIMIT` and the reference `ref_sat.py --unique
# --timeout LIMIT` (PySAT + CaDiCaL 1.9.5 on the straightforward encoding). Times are
# wall-clock seconds of each whole process; a timeout counts as LIMIT. Every decided
# pair of verdicts must agree, and partrec's answers are judged by ../shared/lab/check.py.
#
# Usage: PYTHON=/path/to/python-with-python-sat-and-numpy benches/compare_reference.sh [OUT.csv]
# Environment: RATIOS (default "1.25 1.5 2 3 4"), SEEDS (default "1 2 ... 10"), LIMIT (60),
# PARTREC_GROUPS and PARTREC_TOKENS (3 and 50).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-target/lab-venv/bin/python}
LAB=../shared/lab
OUT=${1:-target/compare-reference.csv}
RATIOS=${RATIOS:-"1.25 1.5 2 3 4"}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
LIMIT=${LIMIT:-60}
GROUPS_I=${PARTREC_GROUPS:-3}
TOKENS=${PARTREC_TOKENS:-50}
cargo build --release --quiet
B=target/release/partrec
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now() { date +%s.%N; }
echo "ratio,seed,partrec_status,partrec_unique,partrec_s,ref_status,ref_unique,ref_s,check_py" > "$OUT"
for c in $RATIOS; do
  for s in $SEEDS; do
    i="$WORK/i.json"
    "$PY" "$LAB/gen.py" --groups "$GROUPS_I" --tokens "$TOKENS" --classes 3 --values 2 --ratio "$c" --seed "$s" -o "$i"
    (t=$(now); "$B" solve "$i" --unique --timeout "$LIMIT" -o "$WORK/p.json" 2>/dev/null || true
     echo "$t $(now)" > "$WORK/p.time") &
    (t=$(now); "$PY" "$LAB/ref_sat.py" "$i" --unique --timeout "$LIMIT" -o "$WORK/r.json" 2>/dev/null || true
     echo "$t $(now)" > "$WORK/r.time") &
    wait
    judge=$("$PY" "$LAB/check.py" "$i" "$WORK/p.json" -q; echo $?) || true
    "$PY" - "$WORK" "$c" "$s" "$judge" "$LIMIT" >> "$OUT" <<'PY'
import json, sys
w, c, s, judge, limit = sys.argv[1:]
def row(name):
    sol = json.load(open(f"{w}/{name}.json"))
    t0, t1 = map(float, open(f"{w}/{name}.time").read().split())
    secs = min(t1 - t0, float(limit)) if sol["status"] != "unknown" else float(limit)
    unique = sol.get("unique")
    return sol["status"], "" if unique is None else str(unique).lower(), f"{secs:.3f}"
p, r = row("p"), row("r")
if p[1] and r[1] and p[1] != r[1]:
    sys.exit(f"DISAGREEMENT at ratio {c} seed {s}: partrec unique={p[1]}, reference unique={r[1]}")
print(",".join([c, s, *p, *r, judge]))
PY
    tail -n 1 "$OUT"
  done
done
"$PY" - "$OUT" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("\n| ratio | runs | partrec decided | partrec median s | partrec max s | reference decided | reference median s | reference max s | median ratio |")
print("|---|---|---|---|---|---|---|---|---|")
for c in dict.fromkeys(r["ratio"] for r in rows):
    sel = [r for r in rows if r["ratio"] == c]
    def stats(k):
        t = sorted(float(r[f"{k}_s"]) for r in sel)
        done = sum(r[f"{k}_status"] != "unknown" and r[f"{k}_unique"] != "" for r in sel)
        return done, statistics.median(t), max(t)
    pd, pm, px = stats("partrec"); rd, rm, rx = stats("ref")
    print(f"| {c} | {len(sel)} | {pd} | {pm:.2f} | {px:.2f} | {rd} | {rm:.2f} | {rx:.2f} | {pm / rm:.3f} |")
print("\n(decided = status and uniqueness both proven; a timeout counts as the limit)")
bad = [r for r in rows if r["check_py"] not in ("0",)]
print(f"check.py on partrec's answers: {len(rows) - len(bad)} of {len(rows)} exit 0" + ("" if not bad else f"; others: {[(r['ratio'], r['seed'], r['check_py']) for r in bad]}"))
PY
