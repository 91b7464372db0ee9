"""`partrec.sweep` runs the command line's sweep: the same rows (seeds, instances,
answers) for the same arguments, whatever the number of threads; `summarize` counts
them as its summary does."""

import csv

import pytest

import partrec

SAME = ["n", "ratio", "trial", "method", "seed", "samples", "status", "unique", "recovered", "timed_out"]


def untimed(rows):
    return [{k: r[k] for k in SAME} for r in rows]


def test_rows_are_the_command_lines(cli, tmp_path):
    out = tmp_path / "rows.csv"
    args = dict(tokens=[12, 16], classes=3, ratios=[0.5, 2, 6], trials=3, seed=11)
    done = cli("sweep", "--tokens", "12,16", "--classes", 3, "--ratios", "0.5,2,6",
               "--trials", 3, "--seed", 11, "--jobs", 2, "-o", out, "-q")
    assert done.returncode == 0, done.stderr
    with open(out, newline="") as f:
        theirs = list(csv.DictReader(f))
    ours = partrec.sweep(**args, jobs=2)
    assert len(ours) == len(theirs) == 2 * 3 * 3
    for mine, row in zip(ours, theirs):
        shown = {k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v) for k, v in mine.items()}
        for k in SAME:
            want = row[k]
            got = shown[k]
            if k == "ratio":
                assert float(got) == float(want), (k, mine, row)
            else:
                assert str(got) == want, (k, mine, row)
    # Some points are unique, some are not: the comparison covers both.
    assert {r["unique"] for r in ours} == {True, False}


def test_rows_do_not_depend_on_the_threads():
    args = dict(tokens=10, classes=2, ratios=[1, 3], trials=4, seed=5)
    assert untimed(partrec.sweep(**args, jobs=1)) == untimed(partrec.sweep(**args, jobs=2))


def test_summarize_counts_trials_per_method_n_and_ratio():
    rows = [
        dict(method="sat", n=10, ratio=2.0, unique=True, recovered=True, timed_out=False, seconds=1.0),
        dict(method="sat", n=10, ratio=2.0, unique=False, recovered=False, timed_out=True, seconds=3.0),
        dict(method="gd", n=10, ratio=2.0, unique=None, recovered=True, timed_out=False, seconds=2.0),
        dict(method="sat", n=10, ratio=1.0, unique=None, recovered=None, timed_out=True, seconds=5.0),
    ]
    assert partrec.summarize(rows) == [
        dict(method="gd", n=10, ratio=2.0, trials=1, p_unique=None, p_recovered=1.0, timeouts=0, median_seconds=2.0),
        dict(method="sat", n=10, ratio=1.0, trials=1, p_unique=0.0, p_recovered=0.0, timeouts=1, median_seconds=5.0),
        dict(method="sat", n=10, ratio=2.0, trials=2, p_unique=0.5, p_recovered=0.5, timeouts=1, median_seconds=2.0),
    ]


def test_a_timeout_is_a_row_not_a_guess():
    # A point of the hard band (I = 3, N = 50, ratio 1.25): not decided in 0.3 s.
    [row] = partrec.sweep(tokens=50, classes=3, groups=3, ratios=[1.25], trials=1, seed=3, timeout=0.3)
    assert row["timed_out"] is True
    assert row["unique"] is None and row["status"] in ("sat", "unknown")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(methods=["exact"]), "methods: unknown method \"exact\""),
        (dict(methods="sat"), "methods must be a list"),
        (dict(ratios=[1, "2"]), "ratios\\[1\\] must be a number"),
        (dict(trials=True), "trials must be an integer"),
        (dict(timeout=-1), "timeout"),
        (dict(tokens=[10, 0]), "tokens must be from 1"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    args = dict(tokens=10, classes=2, ratios=[1], trials=1)
    with pytest.raises(ValueError, match=message):
        partrec.sweep(**{**args, **kwargs})


def test_ctrl_c_stops_the_running_points():
    import _thread
    import threading
    import time

    # Hard-band points, each allowed a minute: only the interrupt can end this soon.
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            partrec.sweep(tokens=50, classes=3, groups=3, ratios=[1.25], trials=4, seed=3, jobs=2)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 30
    assert partrec.sweep(tokens=10, classes=2, ratios=[4], trials=1)[0]["status"] == "sat"
