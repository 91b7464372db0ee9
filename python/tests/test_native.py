"""What Python users rely on from a native solver: timeouts answer unknown in time,
Ctrl-C stops a hard solve within 100 ms and leaves the interpreter usable, an
interrupt from another thread stops it, and a large contiguous int32 array is read
in place (peak memory measured in a child interpreter)."""

import _thread
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import partrec


def test_a_timeout_answers_unknown_in_time(hard):
    for backend in ("cadical", "varisat"):
        start = time.monotonic()
        r = partrec.solve(hard, timeout=0.5, backend=backend)
        elapsed = time.monotonic() - start
        assert r.status == "unknown" and not r
        assert r.stats["timed_out"]
        assert r.partition is None
        assert elapsed < 1.5, elapsed


@pytest.mark.parametrize("backend", ["cadical", "varisat"])
def test_ctrl_c_stops_a_hard_solve_within_100_ms(hard, backend):
    fired = []

    def interrupt():
        fired.append(time.monotonic())
        _thread.interrupt_main()

    timer = threading.Timer(0.3, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            partrec.solve(hard, backend=backend)
        latency = time.monotonic() - fired[0]
    finally:
        timer.cancel()
    print(f"{backend}: KeyboardInterrupt {latency * 1000:.1f} ms after the signal")
    assert latency < 0.1, latency
    # The interpreter and the module still work.
    r = partrec.solve([[0], [1], [2]], ["a", "b", "a"], 2, unique=True, backend=backend)
    assert r and r.unique


def test_interrupt_from_another_thread_answers_unknown(hard):
    with partrec.Solver(hard) as s:
        timer = threading.Timer(0.3, s.interrupt)
        timer.start()
        start = time.monotonic()
        r = s.solve()
        assert r.status == "unknown" and time.monotonic() - start < 1.0
        s.clear_interrupt()
        assert s.solve(timeout=0.2).status == "unknown"
    small = partrec.Solver([[0], [1], [2]], ["a", "b", "a"], classes=2)
    assert small.solve(unique=True).unique
    assert small.check(small.last.partition)


MEMORY = textwrap.dedent(
    """
    import sys, numpy as np, partrec
    dtype = np.dtype(sys.argv[1])
    S, I = 4_000_000, 8
    x = np.zeros((S, I), dtype=dtype)
    x[:, 0] = np.arange(S) % 1000
    y = np.zeros(S, dtype=np.int8)
    def peak():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = peak()
    v = partrec.check(x, y, [np.zeros(1000, dtype=np.int64)] + [np.zeros(1, dtype=np.int64)] * (I - 1))
    assert v.consistent
    print(x.nbytes, peak() - before)
    """
)


def peak_extra(dtype):
    out = subprocess.run(
        [sys.executable, "-c", MEMORY, dtype], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_contiguous_int32_arrays_are_not_copied():
    for dtype in ("int32", "uint32"):
        nbytes, extra = peak_extra(dtype)
        print(f"{dtype}: x is {nbytes / 1e6:.0f} MB, peak grew {extra / 1e6:.1f} MB")
        # A copy would add nbytes (128 MB); what grows is per sample, not per token:
        # the label ids and the checker's cell of each sample (8 bytes a sample, 32 MB).
        assert extra < 0.3 * nbytes, (dtype, extra, nbytes)
    nbytes, extra = peak_extra("int64")
    print(f"int64: x is {nbytes / 1e6:.0f} MB, peak grew {extra / 1e6:.1f} MB (narrowed once)")
    # int64 ids are narrowed once into 4-byte storage: half their size, never a full copy.
    assert extra < 0.5 * nbytes + 0.3 * nbytes / 2


def test_help_shows_a_docstring_with_an_example():
    out = subprocess.run(
        [sys.executable, "-c", "import partrec; help(partrec.solve)"],
        capture_output=True, text=True, check=True, env={"PAGER": "cat", "TERM": "dumb"},
    ).stdout
    assert "Examples" in out and ">>> r = partrec.solve(x, y, classes=2, unique=True)" in out


def test_the_docstring_examples_run():
    import doctest

    for module in (partrec, partrec.coloring):
        failed, attempted = doctest.testmod(module)
        assert attempted > 0 and failed == 0
