#!/usr/bin/env python3
"""The Python module against the command line on the same `.npz` instance, in one run
on this machine, alternating, ROUNDS times each: `partrec solve FILE` (start, read,
solve, check, write the answer) against a fresh interpreter running
`partrec.solve(partrec.load(FILE))`. Three Python figures are printed beside the
CLI's: the whole process (interpreter start and `import partrec`, which imports
NumPy, included), load + solve as timed inside the interpreter (what a notebook user
waits for), and the solve call alone on the loaded arrays.

    python benches/python_vs_cli.py [N] [RATIO] [ROUNDS]

N = 100000 tokens per group, I = 2, K = 3, V = 2, RATIO = 6 (samples = RATIO N ln N)
by default. Needs `cargo build --release` and the module installed (`pip install ./python`).
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "target" / "release" / "partrec"


def timed(cmd, ok=0):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    assert done.returncode == ok, (cmd, done.returncode)
    return time.perf_counter() - start


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    ratio = sys.argv[2] if len(sys.argv) > 2 else "6"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with tempfile.TemporaryDirectory() as tmp:
        inst = Path(tmp) / "big.npz"
        subprocess.run(
            [BIN, "generate", "--groups", "2", "--tokens", str(n), "--classes", "3",
             "--values", "2", "--ratio", ratio, "--seed", "1", "-q", "-o", inst],
            check=True,
        )
        out = Path(tmp) / "answer.json"
        cli = [BIN, "solve", inst, "-q", "-o", out]
        script = (
            "import time; t0 = time.perf_counter()\n"
            "import partrec, sys\n"
            "t1 = time.perf_counter(); inst = partrec.load(sys.argv[1])\n"
            "t2 = time.perf_counter(); r = partrec.solve(inst)\n"
            "t3 = time.perf_counter(); assert r.status == 'sat', r\n"
            "print(t3 - t1, t3 - t2)\n"
        )
        py = [sys.executable, "-c", script, inst]
        times = {"cli": [], "process": [], "load+solve": [], "solve": []}
        for _ in range(rounds):
            times["cli"].append(timed(cli, ok=10))
            start = time.perf_counter()
            inner = subprocess.run(py, check=True, capture_output=True, text=True).stdout.split()
            times["process"].append(time.perf_counter() - start)
            times["load+solve"].append(float(inner[0]))
            times["solve"].append(float(inner[1]))
        size = inst.stat().st_size / 1e6
        print(f"N = {n}, ratio {ratio}, {size:.1f} MB .npz, {rounds} rounds each, alternating")
        c = statistics.median(times["cli"])
        for name, ts in times.items():
            m = statistics.median(ts)
            print(f"{name:>16} median {m:.3f} s ({m / c:.3f} x cli)  {['%.3f' % t for t in ts]}")


if __name__ == "__main__":
    main()
