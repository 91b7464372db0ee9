"""What `help()` shows: every public function's signature says which arguments are
required (no default) and their types, and docstrings point to the manual."""

import inspect
import re
import types

import numpy as np
import pytest

import partrec

X = np.array([[0, 0], [1, 0], [2, 1], [3, 1]])
Y = ["a", "b", "a", "c"]


def examples(tmp):
    """For every public callable, the arguments it needs and nothing else: the keys
    must be exactly its parameters without a default, and the call must work."""
    inst = partrec.generate(8, 2, samples=30, seed=2)
    partrec.save(tmp / "i.json", inst)
    (tmp / "t.csv").write_text("w,c,y\ndog,the,a\ncat,the,b\n")
    triangle = [(0, 1), (1, 2), (0, 2)]
    return {
        "solve": dict(x=X, y=Y, classes=2),
        "Solver": dict(x=X, y=Y, classes=2),
        "learn": dict(x=X, y=Y, classes=2),
        "explain": dict(x=X, y=Y, classes=2),
        "identify": dict(x=X, y=Y, classes=2),
        "check": dict(x=X, y=Y, partition=[[0, 1, 0, 2], [0, 0]]),
        "canonical": dict(partition=[[1, 0]]),
        "same_partition": dict(a=[[1, 0]], b=[[0, 1]]),
        "generate": dict(tokens=8, classes=2),
        "load": dict(path=tmp / "i.json"),
        "save": dict(path=tmp / "o.json"),
        "read_table": dict(path=tmp / "t.csv", groups=["w", "c"], value="y"),
        "sweep": dict(tokens=8, classes=2, ratios=[2]),
        "summarize": dict(rows=[]),
        "plot_sweep": dict(rows=[]),
        "set_max_memory": dict(size=partrec.max_memory()),
        "max_memory": dict(),
        "coloring.reduce": dict(graph=triangle, k=3),
        "coloring.lift": dict(graph=triangle, k=3, coloring=[0, 1, 2]),
        "coloring.extract": dict(graph=triangle, k=3, partition=[[0, 1, 2], [0, 1, 2]]),
    }


# Arguments of which exactly one must be given (the docstring says so): a call with
# the first works, a call with none is refused.
ONE_OF = {
    "generate": dict(samples=30, ratio=2),
    "save": dict(instance=partrec.generate(8, 2, samples=30, seed=2), x=X),
}


def public_callables():
    for name in partrec.__all__:
        obj = getattr(partrec, name)
        if isinstance(obj, types.ModuleType):
            for sub in obj.__dict__:
                f = getattr(obj, sub)
                if not sub.startswith("_") and inspect.isfunction(f) and f.__module__ == obj.__name__:
                    yield f"{name}.{sub}", f
        elif inspect.isfunction(obj) or obj is partrec.Solver:
            # (The other classes are the answers' records, made by partrec itself.)
            yield name, obj


NAMES = [n for n, _ in public_callables()]


def test_every_public_callable_has_an_example(tmp_path):
    assert sorted(NAMES) == sorted(examples(tmp_path))


@pytest.mark.parametrize("name", NAMES)
def test_required_arguments_have_no_default_and_the_rest_can_be_left_out(name, tmp_path):
    f = dict(public_callables())[name]
    sig = inspect.signature(f)
    required = [
        p.name for p in sig.parameters.values()
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    args = examples(tmp_path)[name]
    assert sorted(required) == sorted(args), f"{name}{sig}"
    alternatives = ONE_OF.get(name, {})
    if alternatives:
        first, value = next(iter(alternatives.items()))
        with pytest.raises(ValueError):
            f(**args)
        args = {**args, first: value}
    f(**args)


@pytest.mark.parametrize("name", NAMES)
def test_every_argument_and_answer_has_a_type(name):
    f = dict(public_callables())[name]
    sig = inspect.signature(f)
    for p in sig.parameters.values():
        assert p.annotation is not inspect.Parameter.empty, f"{name}: {p.name} has no type"
        assert p.annotation not in ("Any", "typing.Any"), f"{name}: {p.name} is typed Any"
    if not inspect.isclass(f):
        assert sig.return_annotation is not inspect.Signature.empty, f"{name}: no return type"


def test_help_shows_the_arrays_as_required():
    text = str(inspect.signature(partrec.solve))
    assert text.startswith("(x: 'Union[Instance, ArrayLike]', y: 'Labels', classes: 'Counts', *,")
    # An Instance still brings its own y and classes.
    inst = partrec.generate(8, 2, samples=30, seed=2)
    assert partrec.solve(inst).status == "sat"
    with pytest.raises(ValueError, match="x, y and classes are needed"):
        partrec.solve(X)


MAIN = ["solve", "Solver", "generate", "load", "read_table", "save", "check", "identify",
        "explain", "learn", "sweep", "summarize", "plot_sweep"]


@pytest.mark.parametrize("obj", [partrec, partrec.coloring, partrec.plot] + [getattr(partrec, n) for n in MAIN],
                         ids=lambda o: getattr(o, "__name__", str(o)))
def test_docstrings_point_to_the_manual(obj):
    assert "docs/python.md" in inspect.getdoc(obj)


def test_no_docstring_speaks_of_issues_commits_or_the_build():
    seen = []
    for module in (partrec, partrec.coloring, partrec.plot):
        seen.append(module.__doc__ or "")
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) or inspect.isclass(obj):
                seen.append(obj.__doc__ or "")
                for member in vars(obj).values() if inspect.isclass(obj) else ():
                    seen.append(getattr(member, "__doc__", "") or "")
    text = "\n".join(seen)
    for pattern in (r"\bissues?\b", r"#\d+\b", r"\bcommit", r"\.\./shared", r"\b[0-9a-f]{12,40}\b"):
        assert not re.search(pattern, text, re.I), pattern
