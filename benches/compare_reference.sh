#!/usr/bin/env bash
# The hard band against the lab's reference, on this machine, in one run.
#
# I = 3 groups, K = 3 classes, V = 2 values, samples = c N ln N. For each N, ratio c and
# seed, makes the instance with `partrec generate --seed S`, then runs one after the
# other, each with the whole machine: `partrec solve --unique --timeout LIMIT` (default
# strategy) and the reference `ref_sat.py --unique --timeout LIMIT` (PySAT + CaDiCaL
# 1.9.5 on the straightforward encoding). ../shared/lab/check.py judges both answers;
# two decided verdicts that disagree stop the run.
#
# Prints one markdown row per (N, c, solver): decided (sat with uniqueness decided, or
# unsat) out of the seeds; the median (upper, as the lab reports) and maximum wall
# time of the whole process, a run that did not decide counting as LIMIT (shown
# `>= LIMIT`); and how many answers check.py accepted (exit 0, or 4 for an undecided
# answer: nothing to judge).
#
# Usage: benches/compare_reference.sh [OUT.md]. Environment: SIZES (default "50"),
# RATIOS ("1.25 1.5 2 3"), SEEDS ("1 2 ... 10"), LIMIT (60), REFERENCE (1; 0 runs
# partrec alone), FLAGS (extra flags for partrec solve, e.g. --no-warm-start), PYTHON (target/lab-venv/bin/python, with python-sat and numpy, see
# ../shared/lab/README.md), WORK_DIR (target/compare-reference: instances, answers
# and the raw rows, rows.tsv).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-target/lab-venv/bin/python}
LAB=../shared/lab
OUT=${1:-target/compare-reference.md}
SIZES=${SIZES:-"50"}
RATIOS=${RATIOS:-"1.25 1.5 2 3"}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
LIMIT=${LIMIT:-60}
DIR=${WORK_DIR:-target/compare-reference}
if [ ! -d "$LAB" ] || [ ! -x "$PY" ]; then
  echo "needs $LAB and $PY (see $LAB/README.md)" >&2
  exit 2
fi
cargo build --release --quiet
B=target/release/partrec
mkdir -p "$DIR"
rows="$DIR/rows-$(basename "$OUT" .md).tsv"
: > "$rows"
solvers="partrec"
[ "${REFERENCE:-1}" = 1 ] && solvers="partrec reference"
now() { date +%s.%N; }
for n in $SIZES; do
  for c in $RATIOS; do
    for s in $SEEDS; do
      inst="$DIR/n$n-c$c-s$s.json"
      [ -f "$inst" ] || "$B" generate --groups 3 --tokens "$n" --classes 3 --values 2 --ratio "$c" --seed "$s" -q -o "$inst"
      for solver in $solvers; do
        answer="$DIR/n$n-c$c-s$s.$solver.json"
        rm -f "$answer"
        start=$(now)
        if [ "$solver" = partrec ]; then
          # shellcheck disable=SC2086 # FLAGS holds several words
          "$B" solve "$inst" --unique --timeout "$LIMIT" -q -o "$answer" ${FLAGS:-} || true
        else
          "$PY" "$LAB/ref_sat.py" "$inst" --unique --timeout "$LIMIT" -o "$answer" > /dev/null || true
        fi
        end=$(now)
        verdict=0
        "$PY" "$LAB/check.py" "$inst" "$answer" > /dev/null 2>&1 || verdict=$?
        python3 - "$answer" "$n" "$c" "$s" "$solver" "$start" "$end" "$verdict" >> "$rows" <<'PY'
import json, os, sys
answer, n, c, s, solver, start, end, verdict = sys.argv[1:]
d = json.load(open(answer)) if os.path.exists(answer) else {"status": "unknown"}
decided = d["status"] == "unsat" or (d["status"] == "sat" and d.get("unique") is not None)
verdict_text = "unsat" if d["status"] == "unsat" else str(d.get("unique")) if decided else ""
print("\t".join([n, c, s, solver, verdict_text, str(int(decided)),
                 f"{float(end) - float(start):.3f}", verdict]))
PY
        tail -n 1 "$rows"
      done
    done
  done
done
python3 - "$rows" "$LIMIT" > "$OUT" <<'PY'
import sys
from collections import defaultdict
rows, limit = sys.argv[1], float(sys.argv[2])
cells, verdicts = defaultdict(list), defaultdict(set)
for line in open(rows):
    n, c, s, solver, verdict, decided, secs, judged = line.rstrip("\n").split("\t")
    cells[(int(n), float(c), solver)].append((int(decided), float(secs), judged))
    if verdict:
        verdicts[(n, c, s)].add(verdict)
bad = {k: v for k, v in verdicts.items() if len(v) > 1}
if bad:
    sys.exit(f"DISAGREEMENT (N, c, seed): {bad}")
def show(t, undecided):
    return f">= {limit:g}" if undecided else f"{t:.2f}"
print("| N | c | solver | decided | median s | max s | check.py accepted |")
print("|---|---|---|---|---|---|---|")
for (n, c, solver), rs in sorted(cells.items()):
    times = sorted((t if d else max(t, limit), not d) for d, t, _ in rs)
    ok = sum(j in ("0", "4") for _, _, j in rs)
    print(f"| {n} | {c:g} | {solver} | {sum(d for d, _, _ in rs)}/{len(rs)} | "
          f"{show(*times[len(times) // 2])} | {show(*times[-1])} | {ok}/{len(rs)} |")
PY
cat "$OUT"
