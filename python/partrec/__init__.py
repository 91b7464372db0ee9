"""partrec: exact partition recovery from context, from NumPy.

From samples ``x`` (an (S, I) integer array: one token per group) and values ``y``
(S integers or strings), find partitions of every group's tokens into at most
``classes`` classes such that samples whose tokens fall in the same classes have the
same value (Buchholz, "Learning Partitions from Context", NeurIPS 2024); or prove
there is none, and decide whether the partition is the only one up to renaming.

Every partition returned has passed partrec's independent checker; ``unsat`` and
``unique`` come only from a complete search and can carry a DRAT proof
(``certify=DIR``). Calls release the GIL; Ctrl-C stops a long solve with
KeyboardInterrupt; a ``timeout`` answers ``unknown``, never a guess. Plots
(:func:`plot_sweep`) need matplotlib, the ``plot`` extra
(``pip install "partrec[plot]"``); nothing else imports it.

See the manual, docs/python.md, for a guided tour of every function.

>>> import partrec
>>> inst = partrec.generate(tokens=30, classes=3, values=2, groups=2, ratio=8, seed=1)
>>> r = partrec.solve(inst.x, inst.y, inst.classes, unique=True)
>>> r.status, r.unique
('sat', True)
"""

from __future__ import annotations

import contextlib
import inspect
import json
import numbers
import operator
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np

from . import _native

__all__ = [
    "Instance",
    "Result",
    "Verdict",
    "Explanation",
    "Identified",
    "LearnReport",
    "Solver",
    "solve",
    "check",
    "canonical",
    "same_partition",
    "generate",
    "learn",
    "explain",
    "identify",
    "load",
    "save",
    "read_table",
    "sweep",
    "summarize",
    "plot_sweep",
    "set_max_memory",
    "max_memory",
    "coloring",
]

__version__ = _native.__version__

#: An integer array, or nested sequences of integers NumPy reads as one.
ArrayLike = Union[np.ndarray, Sequence[Any]]
#: The samples' values: an integer array, or a sequence of integers, floats and strings.
Labels = Union[np.ndarray, Sequence[Union[int, float, str]]]
#: One count for every group, or one per group.
Counts = Union[int, Sequence[int], np.ndarray]
#: A partition: one array of classes per group.
Partition = Sequence[ArrayLike]
PathLike = Union[str, "os.PathLike[str]"]

# The command that runs a solve in a child process when the backend cannot be
# interrupted in process (varisat) or a proof is asked for: this interpreter.
# -P (Python 3.11+): the child's sys.path does not start with the current folder, so
# a `partrec` folder there cannot shadow this package.
_WORKER = [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", "partrec._worker"]

_U64 = 2**64 - 1


def _shown(value: Any) -> str:
    """A value's repr for a one-line message: whitespace runs as one space, cut at 40."""
    return " ".join(repr(value).split())[:40]


def _refuse(name: str, expected: str, value: Any) -> ValueError:
    """The error for a parameter of the wrong type: it names the parameter."""
    return ValueError(f"{name} must be {expected}, got {_shown(value)}")


def _int(value: Any, name: str, low: int = 0, high: int = _U64) -> int:
    """An integer parameter in [low, high] (True and False are not integers here), or
    ValueError naming it."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "b"
    ):
        raise _refuse(name, "an integer", value)
    try:
        v = operator.index(value)
    except TypeError:
        raise _refuse(name, "an integer", value) from None
    if not low <= v <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {v}")
    return v


def _number(value: Any, name: str, expected: str = "a number") -> float:
    """A real-valued parameter: a real number, not a boolean (its range is checked by
    the library)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _refuse(name, expected, value)
    try:
        return float(value)
    except OverflowError:  # an integer beyond the largest float
        raise ValueError(f"{name} must be a finite number, got {_shown(value)}") from None


def _seconds(value: Any, name: str) -> Optional[float]:
    """A time limit: None (none) or a number of seconds."""
    return None if value is None else _number(value, name, "a number of seconds")


def _flag(value: Any, name: str) -> bool:
    """A yes/no parameter: True or False (a NumPy bool too), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise _refuse(name, "True or False", value)
    return bool(value)


def _name(value: Any, name: str, optional: bool = True) -> Optional[str]:
    """A string parameter (None passes when optional)."""
    if not isinstance(value, str) and not (optional and value is None):
        raise _refuse(name, "a string", value)
    return value


def _path(value: Any, name: str) -> str:
    """A path parameter: a str or an os.PathLike naming text (bytes are refused: paths
    are read as UTF-8)."""
    try:
        path = os.fspath(value)
    except TypeError:
        path = None
    if not isinstance(path, str):
        raise _refuse(name, "a path (str or os.PathLike)", value)
    return path


def _sequence(value: Any, name: str, expected: str) -> List[Any]:
    """The items of a sequence parameter (a list, a tuple, an array's rows, ...)."""
    if (
        isinstance(value, (str, bytes, dict, set, frozenset))
        or (isinstance(value, np.ndarray) and value.ndim == 0)
        or not hasattr(value, "__iter__")
    ):
        raise ValueError(f"{name} must be {expected}, got {type(value).__name__}")
    return list(value)


_F = TypeVar("_F", bound=Callable[..., Any])


def _needs_y_and_classes(f: _F) -> _F:
    """``f`` with ``y`` and ``classes`` shown without a default in its signature (what
    ``help`` and ``inspect.signature`` show): they are needed, unless ``x`` is an
    :class:`Instance`, which brings its own."""
    sig = inspect.signature(f)
    shown = [
        p.replace(default=inspect.Parameter.empty, annotation=p.annotation[len("Optional["):-1])
        if p.name in ("y", "classes")
        else p
        for p in sig.parameters.values()
    ]
    ret = inspect.Signature.empty if inspect.isclass(f) else sig.return_annotation
    f.__signature__ = sig.replace(parameters=shown, return_annotation=ret)  # type: ignore[attr-defined]
    return f


# The arrays native calls are reading in place now and the arrays made read-only for
# them, by id: [array, the flag it had, running calls reading through it].
_in_use: Dict[int, List[Any]] = {}
_in_use_lock = threading.Lock()


def _depth(a: np.ndarray) -> int:
    """How many arrays ``a`` is a view of (0 for an array over memory of its own)."""
    n = 0
    while isinstance(a.base, np.ndarray):
        a, n = a.base, n + 1
    return n


@contextlib.contextmanager
def _frozen(a: np.ndarray):
    """``a``, and the arrays it is a view of, read-only while a native call reads ``a``
    in place (only int32 and uint32 arrays are; others are copied before the call),
    so that a write through them raises instead of racing the solver. Overlapping
    calls on one array, or on arrays sharing memory, keep them all read-only until the
    last of those calls returns; each array then gets back the flag it had."""
    if a.dtype.itemsize != 4:
        yield
        return
    chain = [a]
    while isinstance(chain[-1].base, np.ndarray):
        chain.append(chain[-1].base)
    with _in_use_lock:
        entries = []
        for b in chain:
            entry = _in_use.setdefault(id(b), [b, b.flags.writeable, 0])
            b.flags.writeable = False
            entry[2] += 1
            entries.append(entry)
    try:
        yield
    finally:
        with _in_use_lock:
            for entry in entries:
                entry[2] -= 1
            busy = [e[0] for e in _in_use.values() if e[2]]
            free = [
                e for e in _in_use.values()
                if not e[2] and not any(np.may_share_memory(e[0], b) for b in busy)
            ]
            # Arrays before their views: a view cannot be writeable over a read-only base.
            for e in sorted(free, key=lambda e: _depth(e[0])):
                del _in_use[id(e[0])]
                if e[1]:
                    with contextlib.suppress(ValueError):
                        # Refused only when the user made its base read-only meanwhile.
                        e[0].flags.writeable = True


@dataclass(repr=False)
class Instance:
    """An instance: samples ``x`` (S, I), values ``y`` (S,), and per group its
    number of ``tokens`` and most ``classes``; ``planted`` (one array per group)
    and ``table`` ({class tuple: value}) when the instance was generated."""

    x: np.ndarray
    y: Union[np.ndarray, List[Any]]
    tokens: List[int]
    classes: List[int]
    planted: Optional[List[np.ndarray]] = None
    table: Optional[Dict[Tuple[int, ...], Any]] = None
    names: Optional[List[List[str]]] = None

    @property
    def samples(self) -> int:
        """The number of samples S."""
        return int(self.x.shape[0])

    def solve(self, **options: Any) -> "Result":
        """``partrec.solve`` on this instance (same keyword options)."""
        return solve(self, **options)

    def save(self, path: PathLike) -> None:
        """``partrec.save(path, self)``."""
        save(path, self)

    def __repr__(self) -> str:
        planted = ", planted" if self.planted is not None else ""
        return (
            f"Instance(samples={self.samples}, tokens={self.tokens}, "
            f"classes={self.classes}{planted})"
        )


@dataclass(repr=False)
class Result:
    """The answer of :func:`solve`. ``bool(result)`` is true when a partition was
    found. ``partition`` holds one int64 array per group (the class of every token,
    canonical: classes numbered by first token), ``table`` maps each observed class
    tuple to its value, ``unique`` is True/False/None (not asked or undecided),
    ``count`` counts partitions up to the limit asked (``count_complete`` says whether
    it is exact), ``witness`` is a second partition when not unique. When the
    instance names its tokens, ``names`` lists each class as its tokens' names. With
    ``max_consistent=True``, ``max_consistent`` holds ``cost``, ``lower_bound``,
    ``optimal`` and the ``dropped`` sample indices."""

    status: str
    partition: Optional[List[np.ndarray]]
    table: Optional[Dict[Tuple[int, ...], Any]]
    unique: Optional[bool]
    count: Optional[int]
    count_complete: Optional[bool]
    witness: Optional[List[np.ndarray]]
    stats: Dict[str, Any]
    identified: Optional[List[np.ndarray]] = None
    pinned: Optional[List[np.ndarray]] = None
    frame: Optional[List[List[List[int]]]] = None
    pinned_counts: Optional[List[Dict[str, int]]] = None
    certificate: Optional[Dict[str, Any]] = None
    names: Optional[List[List[List[str]]]] = None
    identified_names: Optional[List[List[List[str]]]] = None
    frame_names: Optional[List[List[List[str]]]] = None
    max_consistent: Optional[Dict[str, Any]] = None

    def __bool__(self) -> bool:
        return self.status == "sat"

    def __repr__(self) -> str:
        parts = [f"status={self.status!r}"]
        if self.unique is not None:
            parts.append(f"unique={self.unique}")
        if self.count is not None:
            parts.append(f"count={'' if self.count_complete else '>='}{self.count}")
        if self.partition is not None:
            used = [int(p.max()) + 1 if len(p) else 0 for p in self.partition]
            parts.append(f"classes_used={used}")
        parts.append(f"samples={self.stats.get('samples')}")
        parts.append(f"seconds={self.seconds:.3f}")
        if self.stats.get("timed_out"):
            parts.append("timed_out=True")
        if self.max_consistent is not None:
            m = self.max_consistent
            parts.append(f"dropped={len(m['dropped'])}, optimal={m['optimal']}")
        return f"Result({', '.join(parts)})"

    @property
    def seconds(self) -> float:
        """Wall time of the solve's phases, in seconds."""
        return float(
            sum(v for k, v in self.stats.items() if k.endswith("_seconds") and v)
        )


@dataclass
class Verdict:
    """The checker's judgement (:func:`check`): ``consistent``, how many samples
    contradict an earlier one, the first conflicts, and the comparison with a planted
    partition when given one."""

    consistent: bool
    conflicting_samples: int
    conflicts: List[Dict[str, Any]]
    planted: Optional[Dict[str, Any]] = None

    def __bool__(self) -> bool:
        return self.consistent


@dataclass
class Explanation:
    """What :func:`explain` found: ``status`` ``unsat`` with a minimal inconsistent
    set of ``samples`` (indices) and its ``reason``; ``sat`` with a consistent
    ``partition``; or ``unknown`` (timeout)."""

    status: str
    samples: List[int] = field(default_factory=list)
    reason: Optional[Dict[str, Any]] = None
    text: str = ""
    partition: Optional[List[np.ndarray]] = None


@dataclass
class Identified:
    """What every consistent partition agrees on (:func:`identify`): per group a
    block id per token (tokens share a block exactly when they are together in every
    consistent partition); the ``frame``, blocks no consistent partition puts in one
    class (the largest first, at most one per class), which name the classes; and
    whether each token is ``pinned`` (its block is in the frame: the same class,
    relative to the frame, in every consistent partition), with ``pinned_counts`` per
    group (``pinned``, ``free``, ``unobserved``)."""

    identified: List[np.ndarray]
    pinned: List[np.ndarray]
    frame: List[List[List[int]]]
    pinned_counts: List[Dict[str, int]]
    solver_calls: int


@dataclass
class LearnReport:
    """The gradient method's answer (:func:`learn`): ``status`` ``sat`` when the
    learned ``partition`` passed the checker, else ``unknown`` with the inconsistent
    ``candidate``; ``training`` statistics and the ``planted`` comparison."""

    status: str
    partition: Optional[List[np.ndarray]]
    candidate: Optional[List[np.ndarray]]
    conflicting_samples: int
    training: Dict[str, Any]
    planted: Optional[Dict[str, Any]]

    def __bool__(self) -> bool:
        return self.status == "sat"


def _scalar(value: Any) -> bool:
    """Whether ``value`` is one value rather than a sequence (a ragged sequence is a
    sequence, refused later with its name)."""
    try:
        return np.ndim(value) == 0
    except ValueError:
        return False


def _per_group(value: Any, groups: int, name: str) -> np.ndarray:
    """One integer per group from a scalar or a flat sequence."""
    if _scalar(value):
        value = np.full(groups, _int(value, name, -(2**63), 2**64 - 1))
    a = _ints(value, name)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected one integer, or one per group, got shape {a.shape}")
    return a


def _holds_bool(a: Any) -> bool:
    """Whether the sequence ``a`` holds True or False at any depth (NumPy reads them as
    1 and 0 in an integer array)."""
    kinds = set(map(type, np.asarray(a, dtype=object).flat))
    return bool in kinds or np.bool_ in kinds


def _ints(a: Any, name: str) -> np.ndarray:
    """``a`` as a C-contiguous integer array: no copy when it already is one. Booleans
    are refused, also inside a list (where NumPy would read True as 1)."""
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as e:  # rows of unequal length, or no array at all
        raise ValueError(
            f"{name}: expected an array of integers, got {_shown(a)} ({' '.join(str(e).split())})"
        ) from None
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name}: expected an array of integers, got {arr.dtype}")
    elif not isinstance(a, np.ndarray) and arr.ndim and arr.size and _holds_bool(a):
        raise ValueError(f"{name}: expected integers, got a boolean (True or False)")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))  # big-endian: one conversion
    return np.ascontiguousarray(arr)


def _labels(y: Any) -> Union[np.ndarray, List[Any]]:
    """Values as an integer array, or a list of Python labels (strings, numbers):
    never converted into each other, so 1 and "1" stay two labels."""
    if isinstance(y, np.ndarray):
        if y.ndim != 1:
            raise ValueError(
                f"y: has shape {tuple(y.shape)}, expected (S,): one value per sample"
            )
        if y.dtype.kind in "iu":
            return _ints(y, "y")
        return y.tolist()
    items = _sequence(y, "y", "a sequence of labels (a list or a 1-D array)")
    # NumPy scalars (np.float64(1.0), np.int32(3)) as the Python numbers they are.
    return [v.item() if isinstance(v, np.generic) else v for v in items]


def _arrays(
    x: Any, y: Any, classes: Any, tokens: Any
) -> Tuple[np.ndarray, Any, np.ndarray, np.ndarray]:
    """The four arrays the native module reads."""
    if isinstance(x, Instance):
        inst = x
        x, y = inst.x, inst.y if y is None else y
        classes = inst.classes if classes is None else classes
        tokens = inst.tokens if tokens is None else tokens
    if y is None or classes is None:
        raise ValueError("x, y and classes are needed (or an Instance)")
    xa = _ints(x, "x")
    groups = xa.shape[1] if xa.ndim == 2 else 1
    if tokens is None:
        # The observed tokens: ids 0..max per group.
        if xa.ndim == 2 and xa.shape[0] > 0:
            tokens = np.maximum(xa.max(axis=0).astype(np.int64) + 1, 1)
        else:
            tokens = 1
    return (
        xa,
        _labels(y),
        _per_group(tokens, groups, "tokens"),
        _per_group(classes, groups, "classes"),
    )


def _names(x: Any, tokens: Any) -> Optional[List[List[str]]]:
    """The token names of ``x`` when it is an Instance that names its tokens (and
    ``tokens`` does not override its own counts)."""
    if not isinstance(x, Instance) or tokens is not None or x.names is None:
        return None
    rows = _sequence(x.names, "names", "one list of token names per group")
    return [
        [
            _name(t, f"names[{g}][{i}]", optional=False)
            for i, t in enumerate(_sequence(row, f"names[{g}]", "a list of token names"))
        ]
        for g, row in enumerate(rows)
    ]


def _table(entries: Optional[List[Dict[str, Any]]]) -> Optional[Dict[Tuple[int, ...], Any]]:
    if entries is None:
        return None
    return {tuple(e["cell"]): e["y"] for e in entries}


@_needs_y_and_classes
def solve(
    x: Union[Instance, ArrayLike],
    y: Optional[Labels] = None,
    classes: Optional[Counts] = None,
    *,
    tokens: Optional[Counts] = None,
    unique: bool = False,
    count: Optional[int] = None,
    timeout: Optional[float] = None,
    backend: Optional[str] = None,
    certify: Optional[PathLike] = None,
    identify: bool = False,
    strategy: Optional[str] = None,
    seed: Optional[int] = None,
    max_consistent: bool = False,
) -> Result:
    """Find a partition consistent with every sample, or prove there is none.

    ``solve(x, y, classes, ...)`` with arrays, or ``solve(instance, ...)`` with an
    :class:`Instance` (from :func:`load`, :func:`generate`, :func:`read_table`),
    which brings its own ``y``, ``classes`` and ``tokens``. See the manual,
    docs/python.md.

    Parameters
    ----------
    x : (S, I) integer array
        The token of every sample in every group. A C-contiguous int32 or uint32
        array is read in place (no copy): until the call returns, it and the array
        it is a view of are read-only (writes raise ValueError), then get their flag
        back. Other integer arrays are read once.
        ``x`` may also be an :class:`Instance` (then ``y`` and ``classes`` default
        to its own).
    y : (S,) integer array, or a sequence of integers and strings
        The value of every sample. Labels compare exactly: ``1`` and ``"1"`` differ.
    classes : int or sequence of int
        The most classes per group (one number for all groups, or one per group).
    tokens : int or sequence of int, optional
        Tokens per group; default: the largest id seen in each column, plus one.
    unique : bool
        Also decide whether the partition is the only one up to renaming classes.
    count : int, optional
        Count consistent partitions up to this many (``unique`` is ``count=2``).
    timeout : float, optional
        Seconds; what was proven by then is kept, the rest answers ``unknown``.
    backend : "cadical" or "varisat", optional
        The SAT solver (default cadical). varisat runs in a child process, so a
        timeout or Ctrl-C still stops it.
    certify : path, optional
        A folder to write a DRAT proof of the answer's claim into (``unsat``,
        ``unique``, a complete count), checked by ``partrec verify-certificate``.
    identify : bool
        On sat, also report what every consistent partition agrees on
        (``identified``, ``pinned``, ``frame``, ``pinned_counts``; see
        :class:`Identified`).
    strategy, seed : optional
        Search strategy (auto, cdcl, table, portfolio) and formula renaming seed,
        for experiments.
    max_consistent : bool
        For noisy samples: a partition violating the fewest samples, with the
        samples to drop (``result.max_consistent``); with ``unique``, whether the
        optimal partition is the only one.

    Returns
    -------
    Result
        ``status`` is ``"sat"``, ``"unsat"`` or ``"unknown"``; ``bool(result)`` is
        true on sat.

    Raises
    ------
    ValueError
        Bad input, with the command line's one-line message
        (``invalid instance: samples[3].x[1] = 9 is out of range ...``); a
        parameter of the wrong type, named first (``classes must be an integer,
        got True``: True and False are not numbers here).
    KeyboardInterrupt
        On Ctrl-C: the solve stops within milliseconds.

    Examples
    --------
    >>> import numpy as np, partrec
    >>> x = np.array([[0, 0], [1, 0], [2, 0], [3, 0]])
    >>> y = ["a", "b", "a", "b"]
    >>> r = partrec.solve(x, y, classes=2, unique=True)
    >>> bool(r), r.unique, [p.tolist() for p in r.partition]
    (True, True, [[0, 1, 0, 1], [0]])
    >>> r.table
    {(0, 0): 'a', (1, 0): 'b'}
    """
    return _solve(
        _arrays(x, y, classes, tokens),
        names=_names(x, tokens),
        max_consistent=max_consistent,
        unique=unique,
        count=count,
        timeout=timeout,
        backend=backend,
        certify=certify,
        identify=identify,
        strategy=strategy,
        seed=seed,
    )


def _solve(
    arrays: Tuple[np.ndarray, Any, np.ndarray, np.ndarray],
    *,
    unique: bool = False,
    count: Optional[int] = None,
    timeout: Optional[float] = None,
    backend: Optional[str] = None,
    certify: Optional[PathLike] = None,
    identify: bool = False,
    strategy: Optional[str] = None,
    seed: Optional[int] = None,
    interrupt: Optional[Any] = None,
    names: Optional[List[List[str]]] = None,
    max_consistent: bool = False,
) -> Result:
    unique = _flag(unique, "unique")
    count = None if count is None else _int(count, "count")
    options = (
        _seconds(timeout, "timeout"),
        _name(backend, "backend"),
        _name(strategy, "strategy"),
        None if seed is None else _int(seed, "seed"),
        None if certify is None else _path(certify, "certify"),
        _flag(identify, "identify"),
    )
    max_consistent = _flag(max_consistent, "max_consistent")
    with _frozen(arrays[0]):
        out = _native.solve(arrays, unique, count, *options, _WORKER, interrupt, names, max_consistent)
    answer = json.loads(out["answer"])
    pinned = answer.get("pinned")
    return Result(
        status=answer["status"],
        partition=out["partition"],
        table=_table(answer.get("table")),
        unique=answer.get("unique"),
        count=answer.get("count"),
        count_complete=answer.get("count_complete"),
        witness=out["witness"],
        stats=answer["stats"],
        identified=out["identified"],
        pinned=None if pinned is None else [np.asarray(p, dtype=bool) for p in pinned],
        frame=answer.get("frame"),
        pinned_counts=answer.get("pinned_counts"),
        certificate=None if out["certificate"] is None else json.loads(out["certificate"]),
        names=answer.get("names"),
        identified_names=answer.get("identified_names"),
        frame_names=answer.get("frame_names"),
        max_consistent=answer.get("max_consistent"),
    )


@_needs_y_and_classes
class Solver:
    """One instance, solved as often as needed, PySAT style::

        with partrec.Solver(x, y, classes=3, backend="cadical") as s:
            r = s.solve(unique=True, timeout=10)

    The arrays are normalised once (``x`` may be an :class:`Instance`, as for
    :func:`solve`). :meth:`interrupt`, from another thread, stops the running
    solve, which then answers ``unknown`` (Ctrl-C raises KeyboardInterrupt
    instead); leaving the ``with`` block interrupts too. See the manual,
    docs/python.md.

    >>> import partrec
    >>> with partrec.Solver([[0], [1], [2]], ["a", "b", "a"], classes=2) as s:
    ...     s.solve(unique=True).unique
    True
    """

    def __init__(
        self,
        x: Union[Instance, ArrayLike],
        y: Optional[Labels] = None,
        classes: Optional[Counts] = None,
        *,
        tokens: Optional[Counts] = None,
        backend: Optional[str] = None,
    ) -> None:
        self._arrays = _arrays(x, y, classes, tokens)
        self._names = _names(x, tokens)
        self._backend = _name(backend, "backend")
        self._interrupt = _native.Interrupt()
        self.last: Optional[Result] = None

    def solve(self, **options: Any) -> Result:
        """:func:`solve` with these options (``unique``, ``count``, ``timeout``,
        ``certify``, ``identify``, ...); the answer is also kept in ``.last``."""
        options.setdefault("backend", self._backend)
        self.last = _solve(
            self._arrays, interrupt=self._interrupt, names=self._names, **options
        )
        return self.last

    def interrupt(self) -> None:
        """Stop the running solve (safe from any thread); it answers ``unknown``.
        Solves started later are stopped too until :meth:`clear_interrupt`."""
        self._interrupt.set()

    def clear_interrupt(self) -> None:
        """Let later solves run."""
        self._interrupt.clear()

    def check(self, partition: Partition) -> "Verdict":
        """:func:`check` a partition against this instance."""
        x, y, t, c = self._arrays
        return check(x, y, partition, classes=c, tokens=t)

    def __enter__(self) -> "Solver":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.interrupt()


def check(
    x: ArrayLike,
    y: Labels,
    partition: Partition,
    *,
    classes: Optional[Counts] = None,
    tokens: Optional[Counts] = None,
) -> Verdict:
    """Judge ``partition`` (one array of classes per group) against every sample with
    partrec's independent checker. ``classes`` defaults to what the partition uses.
    See the manual, docs/python.md.

    >>> import partrec
    >>> bool(partrec.check([[0], [1]], [5, 6], [[0, 0]]))
    False
    """
    rows = _partition(partition, "partition")
    if classes is None:
        classes = [int(r.max()) + 1 if r.size else 1 for r in rows]
    xa, ya, ta, ca = _arrays(x, y, classes, tokens)
    if tokens is None and len(rows) == len(ta):
        # As many tokens as the partition lists, or as x shows if that is more (the
        # checker then names the row that is too short).
        ta = np.maximum(ta, [len(r) for r in rows])
    with _frozen(xa):
        v = json.loads(_native.check((xa, ya, ta, ca), rows))
    planted = {k: v[k] for k in v if k.startswith(("equals_planted", "accuracy"))}
    return Verdict(
        consistent=v["consistent"],
        conflicting_samples=v["conflicting_samples"],
        conflicts=v["conflicts"],
        planted=planted or None,
    )


def canonical(partition: Partition) -> List[np.ndarray]:
    """The partition with each group's classes renumbered by first token (0 for the
    first token's class, 1 for the next new class, ...): the form answers come in.

    >>> import partrec
    >>> [p.tolist() for p in partrec.canonical([[2, 0, 2, 1]])]
    [[0, 1, 0, 2]]
    """
    return _native.canonical(_partition(partition, "partition"), "partition")


def _partition(value: Any, name: str) -> List[np.ndarray]:
    """A partition parameter: one integer array per group."""
    rows = _sequence(value, name, "a sequence of integer arrays, one per group")
    return [_ints(p, f"{name}[{g}]") for g, p in enumerate(rows)]


def same_partition(a: Partition, b: Partition) -> bool:
    """Whether two partitions are equal up to renaming classes within each group."""
    ca, cb = (_native.canonical(_partition(p, n), n) for p, n in ((a, "a"), (b, "b")))
    return len(ca) == len(cb) and all(np.array_equal(p, q) for p, q in zip(ca, cb))


def _instance(d: Dict[str, Any]) -> Instance:
    return Instance(
        x=d["x"],
        y=d["y"],
        tokens=list(d["tokens"]),
        classes=list(d["classes"]),
        planted=d["planted"],
        table=None if d["table"] is None else _table(json.loads(d["table"])),
        names=d["names"],
    )


def generate(
    tokens: Union[int, Sequence[int]],
    classes: Union[int, Sequence[int]],
    values: int = 2,
    *,
    groups: Optional[int] = None,
    samples: Optional[int] = None,
    ratio: Optional[float] = None,
    seed: int = 0,
    zipf: Optional[float] = None,
) -> Instance:
    """A planted instance, as ``partrec generate`` makes it: random partitions with
    every class used, a random table, and ``samples`` uniform samples (or
    ``ratio * N ln N`` of them). The truth is in ``.planted`` and ``.table``. With
    ``zipf=s``, token ``r`` of every group is drawn with probability proportional to
    ``(r + 1) ** -s`` (word frequencies follow ``s`` near 1) instead of uniformly.
    Give exactly one of ``samples`` and ``ratio``. See the manual, docs/python.md.

    >>> import partrec
    >>> inst = partrec.generate(tokens=20, classes=2, groups=2, samples=100, seed=7)
    >>> inst.x.shape, len(inst.planted)
    ((100, 2), 2)
    """
    if (samples is None) == (ratio is None):
        raise ValueError("give samples=S or ratio=R (samples = R * N ln N), not both")
    if groups is None:
        given = [(v, n) for v, n in ((tokens, "tokens"), (classes, "classes")) if not _scalar(v)]
        groups = len(_per_group(given[0][0], 0, given[0][1])) if given else 2
    groups = _int(groups, "groups", 1, 1024)
    t = [_int(v, "tokens", 1, 2**32 - 1) for v in _per_group(tokens, groups, "tokens").tolist()]
    k = [_int(v, "classes", 1, 2**32 - 1) for v in _per_group(classes, groups, "classes").tolist()]
    if len(t) != groups or len(k) != groups:
        raise ValueError(
            f"tokens and classes need 1 or {groups} values (one per group)"
        )
    return _instance(
        _native.generate(
            t,
            k,
            _int(values, "values", 1, 2**32 - 1),
            None if samples is None else _int(samples, "samples"),
            None if ratio is None else _number(ratio, "ratio"),
            _int(seed, "seed"),
            None if zipf is None else _number(zipf, "zipf"),
        )
    )


@_needs_y_and_classes
def learn(
    x: Union[Instance, ArrayLike],
    y: Optional[Labels] = None,
    classes: Optional[Counts] = None,
    *,
    tokens: Optional[Counts] = None,
    steps: int = 4000,
    lr: float = 0.03,
    l2: Optional[float] = None,
    restarts: int = 10,
    seed: int = 0,
    dim: Optional[int] = None,
    timeout: Optional[float] = None,
) -> LearnReport:
    """The paper's gradient method (embeddings trained with Adam, then k-means), for
    comparison; its partition is checked like any other. ``x``, ``y``, ``classes``
    and ``tokens`` as for :func:`solve` (or an :class:`Instance`). See the manual,
    docs/python.md."""
    arrays = _arrays(x, y, classes, tokens)
    with _frozen(arrays[0]):
        r = json.loads(
            _native.learn(
                arrays,
                _int(steps, "steps"),
                _number(lr, "lr"),
                None if l2 is None else _number(l2, "l2"),
                _int(restarts, "restarts"),
                _int(seed, "seed"),
                None if dim is None else _int(dim, "dim"),
                _seconds(timeout, "timeout"),
            )
        )
    rows = lambda p: None if p is None else [np.asarray(c, dtype=np.int64) for c in p]
    return LearnReport(
        status=r["status"],
        partition=rows(r.get("partition")),
        candidate=rows(r.get("candidate")),
        conflicting_samples=r["conflicting_samples"],
        training=r["training"],
        planted=r.get("planted"),
    )


@_needs_y_and_classes
def explain(
    x: Union[Instance, ArrayLike],
    y: Optional[Labels] = None,
    classes: Optional[Counts] = None,
    *,
    tokens: Optional[Counts] = None,
    timeout: Optional[float] = None,
) -> Explanation:
    """Why the samples are inconsistent: a minimal set of them that no partition
    fits (every proper subset has one), with its reason; or a consistent partition.
    ``x``, ``y``, ``classes`` and ``tokens`` as for :func:`solve` (or an
    :class:`Instance`). See the manual, docs/python.md."""
    arrays = _arrays(x, y, classes, tokens)
    with _frozen(arrays[0]):
        kind, text = _native.explain(arrays, _seconds(timeout, "timeout"))
    if kind == "inconsistent":
        e = json.loads(text)
        return Explanation(
            status="unsat",
            samples=[s["index"] for s in e["samples"]],
            reason=e["reason"],
            text=e["text"],
        )
    if kind == "consistent":
        return Explanation(
            status="sat",
            partition=[np.asarray(c, dtype=np.int64) for c in json.loads(text)],
        )
    return Explanation(status="unknown")


@_needs_y_and_classes
def identify(
    x: Union[Instance, ArrayLike],
    y: Optional[Labels] = None,
    classes: Optional[Counts] = None,
    *,
    tokens: Optional[Counts] = None,
    timeout: Optional[float] = None,
) -> Optional[Identified]:
    """What every consistent partition agrees on; ``None`` on a timeout or when no
    partition is consistent (see :func:`solve` for which). ``x``, ``y``, ``classes``
    and ``tokens`` as for :func:`solve` (or an :class:`Instance`). See the manual,
    docs/python.md."""
    arrays = _arrays(x, y, classes, tokens)
    with _frozen(arrays[0]):
        found = json.loads(_native.identify(arrays, _seconds(timeout, "timeout")))
    if found is None:
        return None
    return Identified(
        identified=[np.asarray(r, dtype=np.int64) for r in found["identified"]],
        pinned=[np.asarray(r, dtype=bool) for r in found["pinned"]],
        frame=found["frame"],
        pinned_counts=found["counts"],
        solver_calls=found["solver_calls"],
    )


def load(path: PathLike) -> Instance:
    """Read an instance file: partrec's JSON, or ``.npz`` (arrays x, y, tokens,
    classes, optional planted_0..), as ``partrec convert`` writes them.

    A missing file raises ``FileNotFoundError`` (its ``filename`` is the path). A
    table (``.csv``, ``.tsv``, or text whose first line is a header) is not an
    instance file: ``ValueError`` then says to read it with
    ``partrec.read_table(path, groups=[...], value=...)``. See the manual,
    docs/python.md."""
    path = _path(path, "path")
    if os.path.splitext(path)[1].lower() in (".csv", ".tsv") and os.path.isfile(path):
        raise ValueError(_table_hint(path, _header(path)))
    try:
        return _instance(_native.load(path))
    except ValueError as e:
        header = _header(path)
        if header is None:
            raise
        raise ValueError(_table_hint(path, header)) from e


def _header(path: str) -> Optional[List[str]]:
    """The column names of ``path`` when its first line looks like a table's header
    (two or more cells split by commas, tabs or semicolons, and not JSON), else None."""
    # Only a regular file is read: opening a FIFO would wait for a writer forever.
    if path.lower().endswith(".npz") or not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError:
        return None
    try:
        text = head.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return None
    if text.lstrip().startswith(("{", "[")):
        return None
    line = text.splitlines()[0] if text.strip() else ""
    delimiter = max("\t,;", key=line.count)
    cells = [c.strip().strip('"') for c in line.split(delimiter)]
    return cells if len(cells) >= 2 else None


def _table_hint(path: str, columns: Optional[List[str]]) -> str:
    """The message for a table given to :func:`load`: how to read it instead."""
    how = "partrec.read_table(path, groups=[COLUMN, ...], value=COLUMN)"
    if columns:
        shown = ", ".join(c[:40] for c in columns[:20])
        how += (
            f", e.g. partrec.read_table({path!r}, groups={columns[:-1][:20]!r},"
            f" value={columns[-1]!r}) (its columns: {shown})"
        )
    return f"{path}: a table, not an instance file: read it with {how}"


def read_table(
    path: PathLike,
    groups: Sequence[str],
    value: str,
    *,
    classes: Optional[Counts] = None,
    delimiter: Optional[str] = None,
) -> Instance:
    """A CSV/TSV table with a header as an instance, as ``partrec import`` reads it:
    each of the ``groups`` columns' distinct cells become that group's tokens
    (numbered in first-seen order, named in ``.names``), ``value`` is the column of
    the values. ``classes``: one bound for every group, or one per group (default: no
    bound). Answers to the instance list classes by name (``Result.names``). A
    missing file raises ``FileNotFoundError``. See the manual, docs/python.md.

    >>> import partrec, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("word,context,y\\ndog,the,a\\ncat,the,b\\n")
    >>> inst = partrec.read_table(path, ["word", "context"], "y", classes=2)
    >>> inst.names
    [['dog', 'cat'], ['the']]
    """
    columns = _sequence(groups, "groups", "a list of column names")
    if classes is None:
        bound: List[int] = []
    elif _scalar(classes):
        bound = [_int(classes, "classes", 1, 2**32 - 1)]
    else:
        bound = [
            _int(k, f"classes[{g}]", 1, 2**32 - 1)
            for g, k in enumerate(_sequence(classes, "classes", "an integer or one per group"))
        ]
    return _instance(
        _native.import_table(
            _path(path, "path"),
            [_name(g, f"groups[{i}]", optional=False) for i, g in enumerate(columns)],
            _name(value, "value", optional=False),
            None,
            bound,
            _name(delimiter, "delimiter"),
        )
    )


def save(
    path: PathLike,
    instance: Optional[Instance] = None,
    *,
    x: Optional[ArrayLike] = None,
    y: Optional[Labels] = None,
    classes: Optional[Counts] = None,
    tokens: Optional[Counts] = None,
) -> None:
    """Write an instance file atomically: ``.npz`` by extension, JSON otherwise.
    Give an :class:`Instance`, or ``x``, ``y``, ``classes`` (and ``tokens``). A
    missing folder raises ``FileNotFoundError``. See the manual, docs/python.md."""
    planted = None
    if instance is not None:
        if not isinstance(instance, Instance):
            raise _refuse("instance", "a partrec.Instance", instance)
        planted = instance.planted
        x, y, classes, tokens = instance.x, instance.y, instance.classes, instance.tokens
    rows = None if planted is None else _partition(planted, "planted")
    _native.save(_path(path, "path"), _arrays(x, y, classes, tokens), rows)


def sweep(
    tokens: Union[int, Sequence[int]],
    classes: int,
    ratios: Sequence[float],
    *,
    groups: int = 2,
    values: int = 2,
    trials: int = 10,
    seed: int = 0,
    methods: Sequence[str] = ("sat",),
    noise: float = 0.0,
    zipf: Optional[float] = None,
    timeout: float = 60.0,
    backend: Optional[str] = None,
    jobs: Optional[int] = None,
) -> List[Dict[str, Any]]:
    """How recovery depends on the number of samples, as ``partrec sweep`` measures
    it: for every N in ``tokens``, every ratio and every trial, the planted instance
    ``partrec generate`` makes (``groups`` groups of N tokens, ``classes`` classes,
    ``values`` values, round(ratio N ln N) samples, a seed derived from ``seed``, N,
    the ratio and the trial), solved by each of ``methods`` (``"sat"``: the exact
    solver with the uniqueness check, each point stopped at ``timeout`` seconds;
    ``"gd"``: the gradient method). Returns one row per point and method, sorted by
    (N, ratio, trial, method), with the command line's columns (``n``, ``ratio``,
    ``trial``, ``method``, ``seed``, ``samples``, ``status``, ``unique``,
    ``recovered``, ``accuracy``, ``seconds``, ``timed_out``, ...): the same rows for
    the same arguments, whatever ``jobs`` (threads; default the cores). ``noise``
    flips each value with that probability (the exact method then drops the fewest
    samples), ``zipf`` draws tokens by Zipf's law. :func:`summarize` and
    :func:`plot_sweep` read the rows. See the manual, docs/python.md.

    >>> import partrec
    >>> rows = partrec.sweep(tokens=20, classes=2, ratios=[1, 4], trials=2, seed=1)
    >>> [(r["ratio"], r["trial"], r["status"]) for r in rows]
    [(1.0, 0, 'sat'), (1.0, 1, 'sat'), (4.0, 0, 'sat'), (4.0, 1, 'sat')]
    """
    names = _sequence(methods, "methods", "a list of method names (sat, gd)")
    sizes = [tokens] if _scalar(tokens) else _sequence(tokens, "tokens", "a number or a list of numbers")
    answer = _native.sweep(
        _int(groups, "groups", 1, 1024),
        [_int(n, "tokens", 1, 2**32 - 1) for n in sizes],
        _int(classes, "classes", 1, 2**32 - 1),
        _int(values, "values", 1, 2**32 - 1),
        [_number(r, f"ratios[{i}]") for i, r in enumerate(_sequence(ratios, "ratios", "a list of sample ratios"))],
        _int(trials, "trials", 0, 2**32 - 1),
        _int(seed, "seed"),
        [_name(m, f"methods[{i}]", optional=False) for i, m in enumerate(names)],
        _number(noise, "noise"),
        None if zipf is None else _number(zipf, "zipf"),
        _number(timeout, "timeout", "a number of seconds"),
        _name(backend, "backend"),
        _int((os.cpu_count() or 1) if jobs is None else jobs, "jobs", 1, 1024),
        _WORKER,
    )
    return json.loads(answer)


def summarize(rows: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One line per (method, N, ratio) of :func:`sweep` rows, in the order of the
    command line's summary: ``trials``, ``p_unique`` (the fraction proven unique;
    None for ``gd``, which cannot prove it), ``p_recovered`` (the fraction whose
    partition is the planted one), ``timeouts`` and ``median_seconds``. See the
    manual, docs/python.md.

    >>> import partrec
    >>> rows = partrec.sweep(tokens=20, classes=2, ratios=[4], trials=3, seed=1)
    >>> [(s["ratio"], s["trials"], s["p_unique"]) for s in partrec.summarize(rows)]
    [(4.0, 3, 1.0)]
    """
    cells: Dict[Tuple[str, int, float], List[Dict[str, Any]]] = {}
    for i, row in enumerate(_sequence(rows, "rows", "a list of sweep rows")):
        if not isinstance(row, dict) or not {"method", "n", "ratio"} <= row.keys():
            raise _refuse(f"rows[{i}]", "a sweep row (a dict with method, n, ratio)", row)
        cells.setdefault((row["method"], row["n"], row["ratio"]), []).append(row)
    return [
        {
            "method": method,
            "n": n,
            "ratio": ratio,
            "trials": len(cell),
            "p_unique": None if method == "gd" else float(np.mean([r["unique"] is True for r in cell])),
            "p_recovered": float(np.mean([r["recovered"] is True for r in cell])),
            "timeouts": sum(bool(r["timed_out"]) for r in cell),
            "median_seconds": float(np.median([r["seconds"] for r in cell])),
        }
        for (method, n, ratio), cell in sorted(cells.items())
    ]


def set_max_memory(size: Union[int, str]) -> None:
    """Set this process's memory budget: bytes (an int) or a size such as ``"4G"`` or
    ``"512MiB"``. Inputs and encodings estimated to need more are refused with
    ``MemoryError`` before they are built (by default the budget is three quarters of
    the machine's memory, or half of an address-space limit).

    >>> import partrec
    >>> before = partrec.max_memory()
    >>> partrec.set_max_memory("2G")
    >>> partrec.max_memory()
    2000000000
    >>> partrec.set_max_memory(before)
    """
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer, str)):
        raise _refuse("size", "a number of bytes or a size such as '4G'", size)
    _native.set_max_memory(str(int(size)) if not isinstance(size, str) else size)


def max_memory() -> int:
    """This process's memory budget in bytes (see :func:`set_max_memory`)."""
    return _native.max_memory()


from . import coloring  # noqa: E402  (it builds on the names above)
from .plot import plot_sweep  # noqa: E402  (matplotlib is imported when it is called)
