"""Calls that overlap on one NumPy array, or on views of one buffer, from several
threads: an int32 `x` is read in place, so it and the arrays it is a view of stay
read-only until the last call reading that memory returns; writes through them raise
instead of changing what a running call reads; every array ends with the flag it had.

The calls are made to overlap without timing: a wrapper around the native solve (the
point where the array is already marked as in use) reports each call's arrival and,
where a test asks, holds the call until the test lets it go."""

import threading

import numpy as np
import pytest

import partrec
from conftest import ROOT


class Calls:
    """Solves on other threads. `start` returns once the call is inside the native
    solve; a held call waits there until `result` or `stop` lets it go."""

    def __init__(self, monkeypatch):
        self.local = threading.local()
        self.started = []
        real = partrec._native.solve

        def solve(*args, **kwargs):
            if hasattr(self.local, "go"):  # a call `start` made, not the test's own
                self.local.arrived.set()
                self.local.go.wait(60)
            return real(*args, **kwargs)

        monkeypatch.setattr(partrec._native, "solve", solve)

    def start(self, solver, hold=False, **options):
        arrived, go, out = threading.Event(), threading.Event(), {}
        if not hold:
            go.set()

        def run():
            self.local.arrived, self.local.go = arrived, go
            try:
                out["result"] = solver.solve(**options)
            except Exception as e:  # reported by `result`
                out["error"] = e

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        call = {"solver": solver, "thread": thread, "go": go, "out": out}
        self.started.append(call)
        assert arrived.wait(60), "the call did not reach the native solve"
        return call

    @staticmethod
    def result(call):
        """Lets a held call run and returns its answer."""
        call["go"].set()
        call["thread"].join(120)
        assert not call["thread"].is_alive()
        if "error" in call["out"]:
            raise call["out"]["error"]
        return call["out"]["result"]

    def stop(self, call):
        """Interrupts a call (a held one before it solves) and returns its answer."""
        call["solver"].interrupt()
        return self.result(call)


@pytest.fixture
def calls(monkeypatch):
    c = Calls(monkeypatch)
    yield c
    for call in c.started:  # after a failure, no solve is left running
        call["solver"].interrupt()
        call["go"].set()
        call["thread"].join(60)


def hard_solver(hard, x):
    rows = len(x)
    return partrec.Solver(x, hard.y[:rows], hard.classes, tokens=hard.tokens)


def assert_read_only(a):
    assert not a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a[0, 0] = 0


def test_the_first_call_to_return_leaves_the_array_read_only_for_the_second(hard, calls):
    x = np.ascontiguousarray(hard.x, dtype=np.int32)
    before = x.copy()
    first = calls.start(hard_solver(hard, x), timeout=60)
    second = calls.start(hard_solver(hard, x), timeout=60)
    assert_read_only(x)
    assert calls.stop(first).status == "unknown"
    assert_read_only(x)  # the second call still reads it
    assert calls.stop(second).status == "unknown"
    assert x.flags.writeable
    np.testing.assert_array_equal(x, before)


def test_calls_on_views_of_one_buffer_in_any_order(hard, calls):
    # The calls are held inside the native solve until stopped, so that none ends by
    # itself (a view of half the samples is easy).
    rng = np.random.default_rng(11)
    base = np.ascontiguousarray(hard.x, dtype=np.int32)
    before = base.copy()
    kept = base[:]  # a view the user keeps and passes to no call
    mine = base.copy()
    mine.flags.writeable = False  # read-only by the user: it stays so
    arrays = [base, base, base[:], base[: len(base) // 2], base[10:], mine, mine[5:]]
    on_base = 5  # arrays[:5] share base's memory
    flags = [a.flags.writeable for a in arrays]
    for order in range(3):
        running = [calls.start(hard_solver(hard, a), hold=True) for a in arrays]
        stopped = set()
        for i in rng.permutation(len(arrays)):
            calls.stop(running[i])
            stopped.add(i)
            if set(range(on_base)) - stopped:  # a call still reads base's memory
                for a in (base, *arrays[:on_base]):
                    assert_read_only(a)
            else:
                assert [a.flags.writeable for a in arrays[:on_base]] == flags[:on_base]
                assert base.flags.writeable
        assert [a.flags.writeable for a in arrays] == flags, order
        assert base.flags.writeable and kept.flags.writeable and not mine.flags.writeable
    np.testing.assert_array_equal(base, before)


def test_an_unrelated_array_is_given_back_when_its_own_call_returns(hard, calls):
    x = np.ascontiguousarray(hard.x, dtype=np.int32)
    other = x.copy()
    long = calls.start(hard_solver(hard, x), hold=True)
    short = calls.start(hard_solver(hard, other), hold=True)
    calls.stop(short)
    assert other.flags.writeable and not x.flags.writeable
    calls.stop(long)
    assert x.flags.writeable


def test_writes_between_overlapping_solves_never_change_an_answer(calls):
    # Sat instances with a unique answer: each of four calls on one int32 array is held
    # inside the native solve, then let go one at a time in a seeded order; between
    # them the test tries to overwrite x (reversing a column, a valid instance with
    # another answer). Every try must raise and every answer equal the reference.
    inst = partrec.generate(tokens=30, classes=3, values=2, groups=2, ratio=8, seed=4)
    x = np.ascontiguousarray(inst.x, dtype=np.int32)
    reference = partrec.solve(x.copy(), inst.y, inst.classes, unique=True)
    assert reference.unique
    rng = np.random.default_rng(7)
    held = [
        calls.start(partrec.Solver(x, inst.y, inst.classes), hold=True, unique=True)
        for _ in range(4)
    ]
    for i in rng.permutation(len(held)):
        with pytest.raises(ValueError, match="read-only"):
            x[:, 0] = x[::-1, 0]
        r = calls.result(held[i])
        assert r.unique and partrec.same_partition(r.partition, reference.partition)
    assert x.flags.writeable
    x[:, 0] = x[::-1, 0]  # no call reads it now


def test_an_int64_array_is_not_made_read_only(calls):
    # Only int32 and uint32 arrays are read in place; the others are copied when the
    # native call starts, so they are left writeable.
    inst = partrec.generate(tokens=30, classes=3, values=2, groups=2, ratio=8, seed=4)
    x = np.ascontiguousarray(inst.x, dtype=np.int64)
    call = calls.start(partrec.Solver(x, inst.y, inst.classes), hold=True)
    assert x.flags.writeable
    assert calls.result(call).status == "sat"


def test_arrays_from_load_and_generate_are_writeable_again_after_a_solve():
    """The arrays partrec makes (load, generate) own their memory, so the flag a solve
    takes away while it reads them in place comes back."""
    for inst in (
        partrec.load(ROOT / "instances" / "planted-small.json"),
        partrec.generate(tokens=20, classes=2, groups=2, samples=50, seed=1),
    ):
        assert inst.x.flags.writeable
        partrec.solve(inst, unique=True)
        partrec.solve(inst.x, inst.y, 3)
        assert inst.x.flags.writeable
        inst.x[0, 0] = inst.x[0, 0]
