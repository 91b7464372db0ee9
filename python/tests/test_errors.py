"""Bad input raises ValueError with the command line's one-line message: the same
arrays written with numpy.savez (bypassing partrec.save's checks) make `partrec solve`
exit 2 with `partrec: FILE: <the same message>`."""

import numpy as np
import pytest

import partrec

X = np.array([[0, 0], [1, 1], [2, 0]])
Y = np.array([0, 1, 0])

# (name, x, y, tokens, classes, expected message start)
SAME_AS_CLI = [
    ("negative token", np.array([[0, 0], [1, -1], [2, 0]]), Y, [3, 2], [2, 2],
     "x[1][1] = -1 is not a token id"),
    ("negative int32 token", np.array([[0, 0], [1, -7], [2, 0]], dtype=np.int32), Y, [3, 2], [2, 2],
     "x[1][1] = -7 is not a token id"),
    ("token out of range", X, Y, [2, 2], [2, 2],
     "invalid instance: samples[2].x[0] = 2 is out of range: group 0 has 2 tokens (0..1)"),
    ("y too short", X, np.array([0, 1]), [3, 2], [2, 2],
     "y: has shape (2,), expected (3,), one value for each of the 3 of x's rows"),
    ("zero classes", X, Y, [3, 2], [2, 0], "classes[1] = 0 must be an integer from 1 to"),
    ("classes per group", X, Y, [3, 2], [2, 2, 2], "classes: has shape (3,), expected (2,)"),
    ("x columns", X, Y, [3, 2, 4], [2, 2, 2], "x: has shape (3, 2), expected (S, 3)"),
    ("huge token count", X, Y, [3, 2**32], [2, 2], "tokens[1] = 4294967296 must be an integer"),
]


@pytest.mark.parametrize("case", SAME_AS_CLI, ids=[c[0] for c in SAME_AS_CLI])
def test_bad_arrays_raise_the_cli_message(case, cli, tmp_path):
    _, x, y, tokens, classes, start = case
    with pytest.raises(ValueError) as err:
        partrec.solve(x, y, classes, tokens=tokens)
    message = str(err.value)
    assert message.startswith(start), message
    assert "\n" not in message
    path = tmp_path / "bad.npz"
    np.savez(path, x=x, y=y, tokens=np.array(tokens), classes=np.array(classes))
    done = cli("solve", path)
    assert done.returncode == 2
    assert done.stderr.strip() == f"partrec: {path}: {message}"


@pytest.mark.parametrize(
    "call, start",
    [
        (lambda: partrec.solve(X.astype(float), Y, 2), "x: expected an array of integers, got float64"),
        (lambda: partrec.solve(X[:, 0], Y, 2), "x: has shape (3,), expected (S, I)"),
        (lambda: partrec.solve(X, [0, True, 1], 2), "y[1] = True is not a label"),
        (lambda: partrec.solve(X, [0, [1], 1], 2), "y[1] = [1] is not a label"),
        (lambda: partrec.solve(X, [0, float("nan"), 1], 2), "y[1] = nan is not a label"),
        (lambda: partrec.solve(X, Y, 2, timeout=0), "timeout must be a number of seconds"),
        (lambda: partrec.solve(X, Y, 2, timeout=-1), "timeout must be a number of seconds"),
        (lambda: partrec.solve(X, Y, 2, count=0), "count must be at least 1"),
        (lambda: partrec.solve(X, Y, 2, unique=True, count=3), "count cannot be given with unique"),
        (lambda: partrec.solve(X, Y, 2, backend="minisat"), "backend: unknown backend \"minisat\""),
        (lambda: partrec.solve(X, Y, 2, strategy="guess"), "strategy: unknown strategy"),
        (lambda: partrec.solve(X, Y, [2.5, 2]), "classes: expected an array of integers"),
        (lambda: partrec.check(X, Y, [[0, 0, 5], [0, 0]], classes=[2, 2]), "partition group 0 token 2: class 5 is not in 0..1"),
        (lambda: partrec.check(X, Y, [[0, 0], [0, 0]]), "partition group 0 lists 2 classes, expected one for each of its 3 tokens"),
        (lambda: partrec.check(X, Y, [[0, 0, -1], [0, 0]]), "partition[0]"),
        (lambda: partrec.generate(10, 2, ratio=-1), "ratio must be a finite number >= 0"),
        (lambda: partrec.generate(10, 2), "give samples=S or ratio=R"),
        (lambda: partrec.generate(10, 0, samples=5), ""),
        (lambda: partrec.coloring.reduce([(0, 1), (1, -2)], 2), "edge 1 (1, -2) has an endpoint outside"),
        (lambda: partrec.coloring.reduce([(0, 1)], 0), "the number of colours must be >= 1"),
        (lambda: partrec.coloring.lift([(0, 1)], 2, [0, 2]), "coloring[1] = 2 is not a colour in 0..1"),
        (lambda: partrec.learn(X, Y, 2, steps=0), "steps must be at least 1"),
        (lambda: partrec.coloring.reduce([(0, 0), (0, 1)], 3), "edge 0 (0, 0) is a self-loop"),
        (lambda: partrec.coloring.reduce([(0, 10**9)], 2), "a graph of 1000000001 vertices"),
        (lambda: partrec.coloring.reduce([(0, 1)], 2, vertices=10**9), "a graph of 1000000000 vertices"),
        (lambda: partrec.coloring.lift([(0, 1)], 2, {0: 1}), "coloring: no colour for vertex 1"),
        (lambda: partrec.solve(X, "aba", 2), "y must be a sequence of labels"),
        (lambda: partrec.solve(X, 5, 2), "y must be a sequence of labels"),
        (lambda: partrec.solve(X, np.array(5), 2), "y: has shape ()"),
        (lambda: partrec.solve(X, Y, 2, count=2.7), "count must be an integer"),
        (lambda: partrec.solve(X, Y, 2, count=2**64), "count must be from 0 to"),
        (lambda: partrec.solve(X, Y, 2, seed=-1), "seed must be from 0 to"),
        (lambda: partrec.solve(X, Y, 2, timeout="5"), "timeout must be a number of seconds"),
        (lambda: partrec.solve(X, Y, 2, backend=1), "backend must be a string"),
        (lambda: partrec.solve(X, Y, 2, certify=""), "certify must not be empty"),
        (lambda: partrec.solve(X, Y, [[2, 2]]), "classes: expected one integer, or one per group"),
        (lambda: partrec.generate(10, 2, groups=10**9, samples=3), "groups must be from 1 to 1024"),
        (lambda: partrec.generate(10.7, 2, samples=3), "tokens must be an integer, got 10.7"),
    ],
)
def test_bad_parameters_raise_value_error(call, start):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value).startswith(start), str(err.value)
    assert "\n" not in str(err.value)


def test_devices_and_pipes_are_refused_at_once(tmp_path):
    import os

    with pytest.raises(ValueError, match="/dev/zero: not a regular file"):
        partrec.load("/dev/zero")
    with pytest.raises(ValueError, match="/dev/zero: not a regular file"):
        partrec.read_table("/dev/zero", ["a"], "b")
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        partrec.load(fifo)


def test_big_endian_and_numpy_scalar_labels_are_read():
    r = partrec.solve(X.astype(">i4"), Y.astype(">i8"), 2, unique=True)
    assert r and r.partition[0].tolist() == partrec.solve(X, Y, 2).partition[0].tolist()
    assert partrec.solve([[0], [1]], [np.float64(1.0), 1], 1)
    assert partrec.solve([[0], [1]], [np.int32(7), 7], 1)


def test_floats_are_labels_by_their_exact_value():
    assert partrec.solve([[0], [1]], [2**70, float(2**70)], 1)  # equal numbers
    assert not partrec.solve([[0], [1]], [10**300, 1e300], 1)  # 1e300 is not 10**300
    assert not partrec.solve([[0], [1]], [0.1, "0.1"], 1)
    assert partrec.solve([[0], [1]], [0.5, 0.5], 1)


def test_x_is_read_only_while_a_call_reads_it_in_place(hard):
    import threading

    x = np.ascontiguousarray(hard.x, dtype=np.int32)
    errors = []

    def write():
        try:
            x[0, 0] = 2**31 - 1
        except ValueError as e:
            errors.append(str(e))

    timer = threading.Timer(0.2, write)
    timer.start()
    r = partrec.solve(x, hard.y, hard.classes, tokens=hard.tokens, timeout=0.6)
    timer.join()
    assert r.status == "unknown" and errors and "read-only" in errors[0]
    assert x.flags.writeable  # given back


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        partrec.load(tmp_path / "nothing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"groups": [{"tokens": 2, "classes": 0}], "samples": []}')
    with pytest.raises(ValueError, match="groups.0..classes must be an integer from 1"):
        partrec.load(bad)


def test_weighted_instances_are_refused_rather_than_solved_unweighted(tmp_path):
    path = tmp_path / "w.json"
    path.write_text('{"groups":[{"tokens":2,"classes":1}],"samples":[{"x":[0],"y":0,"w":5},{"x":[1],"y":1}]}')
    with pytest.raises(ValueError, match="weights"):
        partrec.load(path)
