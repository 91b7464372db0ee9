"""Every parameter of every public function refuses a value of the wrong type with a
ValueError whose message starts with the parameter's name: True and False are not
numbers, bytes are not paths or strings, floats are not integers, a string is not a
sequence, and so on. Each function's valid call (the base) is run too, so that the
error comes from the wrong value alone."""

import numpy as np
import pytest

import partrec

X = np.array([[0, 0], [1, 1], [2, 0]])
Y = [0, 1, 0]
PARTITION = [[0, 1, 0], [0, 1]]
GRAPH = [(0, 1), (1, 2)]
CSV = "word,context,y\ndog,the,a\ncat,the,b\n"

# Wrong values by the kind of parameter. None is wrong only where a parameter is
# required, so it is listed beside those parameters instead.
INT = [True, False, np.True_, np.array(True), 2.5, np.float64(2.0), "2", b"2", [2], object(), 2j]
NUMBER = [True, np.False_, "1", b"1", [1.0], object(), 1j]
FLAG = [1, 0, np.int64(1), 1.0, "yes", None, object()]
STRING = [1, True, b"cadical", ["cadical"], object()]
PATH = [b"/tmp/partrec-type-test", 1, True, ["path"], object()]
PER_GROUP = [
    True, np.True_, [True, 2], np.array([True, True]), [2.5, 2], "2", b"2", object(),
    [[2], [2, 2]],
]
ARRAY = [
    True, [[True, 0], [1, 1], [2, 0]], X.astype(bool), X.astype(float), "abc", b"ab",
    object(), None, [[0, 1], [2]],
]
LABELS = [
    True, 5, "aba", b"aba", object(), {0: 1}, [b"a", b"b", b"a"], [True, False, True],
    [None, 1, 0], [np.eye(3), 1, 0],
]
ROWS = [
    5, True, "ab", b"ab", object(), None, [[True, False, True], [0, 1]],
    [[0.5, 1, 0], [0, 1]], [[0, 1, 0], None], [[0, 1, 0], "01"],
]
GRAPHS = [True, 5, "ab", b"ab", object(), None, [(True, 1)], [(0, 1.5)], [(0, 1, 2)], [(0, 1), (2,)]]
COLORINGS = [5, True, "010", b"010", object(), None, [True, 0, 1], [0.0, 1.0, 0.0], {0: True, 1: 0, 2: 1}]


def solver(x, y, classes, tokens=None, backend=None):
    """A Solver made and run: its arrays' contents are read by the first solve."""
    with partrec.Solver(x, y, classes, tokens=tokens, backend=backend) as s:
        return s.solve()


def solver_solve(**options):
    with partrec.Solver(X, Y, 2) as s:
        return s.solve(**options)


def solver_check(partition):
    return partrec.Solver(X, Y, 2).check(partition)


ARRAYS = dict(x=ARRAY, y=LABELS, classes=PER_GROUP, tokens=PER_GROUP)

# (function, base keyword arguments (a function of a scratch folder), {parameter: wrong values})
CASES = [
    (partrec.solve, lambda d: dict(x=X, y=Y, classes=2), dict(
        ARRAYS, unique=FLAG, count=INT, timeout=NUMBER, backend=STRING, certify=PATH,
        identify=FLAG, strategy=STRING, seed=INT, max_consistent=FLAG)),
    (solver, lambda d: dict(x=X, y=Y, classes=2), dict(ARRAYS, backend=STRING)),
    (solver_solve, lambda d: dict(), dict(
        unique=FLAG, count=INT, timeout=NUMBER, backend=STRING, certify=PATH,
        identify=FLAG, strategy=STRING, seed=INT, max_consistent=FLAG)),
    (solver_check, lambda d: dict(partition=PARTITION), dict(partition=ROWS)),
    (partrec.check, lambda d: dict(x=X, y=Y, partition=PARTITION), dict(ARRAYS, partition=ROWS)),
    (partrec.canonical, lambda d: dict(partition=PARTITION), dict(partition=ROWS)),
    (partrec.same_partition, lambda d: dict(a=PARTITION, b=PARTITION), dict(a=ROWS, b=ROWS)),
    (partrec.generate, lambda d: dict(tokens=5, classes=2, samples=10), dict(
        tokens=PER_GROUP, classes=PER_GROUP, values=INT + [None], groups=INT,
        samples=INT, seed=INT + [None])),
    (partrec.generate, lambda d: dict(tokens=5, classes=2, ratio=1.0), dict(ratio=NUMBER)),
    (partrec.learn, lambda d: dict(x=X, y=Y, classes=2, steps=5, restarts=1), dict(
        ARRAYS, steps=INT + [None], lr=NUMBER + [None], l2=NUMBER, restarts=INT + [None],
        seed=INT + [None], dim=INT, timeout=NUMBER)),
    (partrec.explain, lambda d: dict(x=X, y=Y, classes=2), dict(ARRAYS, timeout=NUMBER)),
    (partrec.identify, lambda d: dict(x=X, y=Y, classes=2), dict(ARRAYS, timeout=NUMBER)),
    (partrec.save, lambda d: dict(path=d / "s.json", x=X, y=Y, classes=2), dict(
        ARRAYS, path=PATH + [None])),
    (partrec.save, lambda d: dict(path=d / "s.json", instance=partrec.generate(5, 2, samples=9)),
     dict(instance=[X, "instance", b"x", 5, True, object()])),
    (partrec.load, lambda d: dict(path=d / "t.json"), dict(path=PATH + [None])),
    (partrec.read_table, lambda d: dict(path=d / "t.csv", groups=["word", "context"], value="y"), dict(
        path=PATH + [None], groups=["word", b"word", 5, True, [b"word"], [1], object(), None],
        value=STRING + [None], classes=PER_GROUP, delimiter=STRING + ["ab"])),
    (partrec.coloring.reduce, lambda d: dict(graph=GRAPH, k=2), dict(
        graph=GRAPHS, k=INT + [None], vertices=INT, name=STRING + [None])),
    (partrec.coloring.lift, lambda d: dict(graph=GRAPH, k=2, coloring=[0, 1, 0]), dict(
        graph=GRAPHS, k=INT + [None], coloring=COLORINGS, vertices=INT)),
    (partrec.coloring.extract, lambda d: dict(graph=GRAPH, k=2, partition=[[0, 1, 0], [0, 1, 0]]), dict(
        graph=GRAPHS, k=INT + [None], partition=ROWS, vertices=INT)),
]


def ids(case):
    fn, _, params = case
    return f"{fn.__name__}({','.join(params)})"


@pytest.fixture
def scratch(tmp_path):
    (tmp_path / "t.csv").write_text(CSV)
    partrec.save(tmp_path / "t.json", partrec.generate(5, 2, samples=9))
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_base_calls_succeed(case, scratch):
    fn, base, _ = case
    fn(**base(scratch))


WRONG = [
    pytest.param(fn, base, param, value, id=f"{fn.__name__}-{param}-{k}")
    for fn, base, params in CASES
    for param, values in params.items()
    for k, value in enumerate(values)
]


@pytest.mark.parametrize("fn, base, param, value", WRONG)
def test_a_wrong_type_is_a_value_error_naming_the_parameter(fn, base, param, value, scratch):
    kwargs = base(scratch)
    kwargs[param] = value
    with pytest.raises(ValueError) as err:
        fn(**kwargs)
    message = str(err.value)
    assert message.startswith(param) and message[len(param)] in " :[", message
    assert "\n" not in message


@pytest.mark.parametrize(
    "call",
    [
        lambda: partrec.solve(X, Y, classes=True),
        lambda: partrec.solve(X, Y, 2, tokens=True),
        lambda: partrec.solve(X, Y, 2, count=True),
        lambda: partrec.solve(X, Y, 2, seed=False),
        lambda: partrec.solve(X, Y, 2, timeout=True),
        lambda: partrec.generate(True, 2, samples=5),
        lambda: partrec.generate(5, 2, samples=True),
        lambda: partrec.coloring.reduce(GRAPH, True),
    ],
)
def test_booleans_are_not_numbers(call):
    # classes=True would otherwise be read as 1: this instance has no 1-class partition.
    with pytest.raises(ValueError, match="must be an integer|must be a number|got a boolean"):
        call()


def test_true_as_one_class_was_the_wrong_answer():
    assert partrec.solve(X, Y, 2).status == "sat"
    assert partrec.solve(X, Y, 1).status == "unsat"
    with pytest.raises(ValueError, match=r"^classes must be an integer, got True$"):
        partrec.solve(X, Y, True)


def test_bytes_for_certify_is_a_value_error():
    with pytest.raises(ValueError, match=r"^certify must be a path \(str or os.PathLike\), got b'"):
        partrec.solve(X, Y, 2, certify=b"/tmp/partrec-proof")


def test_solver_of_an_instance_keeps_its_token_names(scratch):
    inst = partrec.read_table(scratch / "t.csv", ["word", "context"], "y", classes=2)
    assert partrec.Solver(inst).solve().names == partrec.solve(inst).names
    assert partrec.solve(inst).names is not None
