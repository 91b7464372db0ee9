"""Graph k-colouring and its reduction to partition recovery (I = 2, two values):
the reduced instance has a consistent partition exactly when the graph has a
proper k-colouring, and each answer maps to the other.

A graph is an edge list (pairs of vertex ids 0..n-1, or an (E, 2) array; pass
``vertices=n`` for isolated vertices beyond the largest id) or a
``networkx.Graph`` (its nodes in ``G.nodes`` order; colourings are then dicts).

>>> import partrec
>>> triangle = [(0, 1), (1, 2), (0, 2)]
>>> inst = partrec.coloring.reduce(triangle, 2)
>>> partrec.solve(inst).status
'unsat'
>>> r = partrec.solve(partrec.coloring.reduce(triangle, 3))
>>> sorted(partrec.coloring.extract(triangle, 3, r.partition).tolist())
[0, 1, 2]

See the manual, docs/python.md (and docs/coloring.md for the reduction itself).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

import partrec

#: A graph: a networkx.Graph, or its edges as (u, v) vertex-id pairs (a list or an (E, 2) array).
Graph = Union["networkx.Graph", Sequence[Tuple[int, int]], np.ndarray]
from partrec import _native


def _graph(graph: Any, vertices: Optional[int]) -> Tuple[int, List[Tuple[int, int]], Optional[list]]:
    """(n, edges, nodes): nodes is the networkx node order, or None for an edge list."""
    if hasattr(graph, "nodes") and hasattr(graph, "edges"):
        nodes = list(graph.nodes)
        index = {v: i for i, v in enumerate(nodes)}
        edges = [(index[e[0]], index[e[1]]) for e in graph.edges()]
        return len(nodes), edges, nodes
    try:
        a = partrec._ints(graph, "graph")
    except ValueError:
        a = None
    if a is not None and a.size == 0:
        a = a.reshape(0, 2)
    if a is None or a.ndim != 2 or a.shape[1] != 2:
        raise partrec._refuse("graph", "a networkx.Graph or a list of (u, v) integer pairs", graph)
    if a.size and (int(a.min()) < -(2**62) or int(a.max()) > 2**62):
        raise ValueError("a graph's vertex ids must be integers from 0 to n-1")
    n = int(a.max()) + 1 if a.size else 0
    if vertices is not None:
        vertices = partrec._int(vertices, "vertices", 0, 2**63 - 1)
        if vertices < n:
            raise ValueError(f"vertices={vertices}, but an edge names vertex {n - 1}")
        n = int(vertices)
    return n, [(int(u), int(v)) for u, v in a.tolist()], None


def reduce(graph: Graph, k: int, *, vertices: Optional[int] = None, name: str = "graph") -> "partrec.Instance":
    """The instance whose consistent partitions are the proper k-colourings of ``graph``."""
    n, edges, _ = _graph(graph, vertices)
    k = partrec._int(k, "k", 0, 2**32 - 1)
    return partrec._instance(_native.reduce(n, edges, k, partrec._name(name, "name", optional=False)))


def lift(graph: Graph, k: int, coloring: Union[Sequence[int], Dict[Any, int]], *, vertices: Optional[int] = None) -> List[np.ndarray]:
    """The partition P_1 = P_2 = colouring of the reduced instance. The colouring
    needs one colour in 0..k-1 per vertex but need not be proper: an improper one
    lifts to a partition that :func:`partrec.check` rejects."""
    n, edges, nodes = _graph(graph, vertices)
    if isinstance(coloring, dict):
        if nodes is None:
            nodes = list(range(n))
        missing = next((v for v in nodes if v not in coloring), None)
        if missing is not None:
            raise ValueError(f"coloring: no colour for vertex {partrec._shown(missing)}")
        coloring = [coloring[v] for v in nodes]
    k = partrec._int(k, "k", 0, 2**32 - 1)
    colors = [
        partrec._int(c, f"coloring[{v}]", 0, 2**32 - 1)
        for v, c in enumerate(partrec._sequence(coloring, "coloring", "one colour per vertex"))
    ]
    # Named by 0-based index here (the library's messages count DIMACS vertices from 1).
    bad = next((v for v, c in enumerate(colors) if not 0 <= c < k), None)
    if bad is not None and len(colors) == n and k >= 1:
        raise ValueError(f"coloring[{bad}] = {colors[bad]} is not a colour in 0..{k - 1}")
    return _native.lift(n, edges, k, colors)


def extract(graph: Graph, k: int, partition: "partrec.Partition", *, vertices: Optional[int] = None) -> Union[np.ndarray, Dict[Any, int]]:
    """The proper colouring a consistent partition of the reduced instance gives: an
    array by vertex id, or a dict by node for a networkx graph."""
    n, edges, nodes = _graph(graph, vertices)
    rows = partrec._partition(partition, "partition")
    colors = _native.extract(n, edges, partrec._int(k, "k", 0, 2**32 - 1), rows)
    if nodes is not None:
        return {v: c for v, c in zip(nodes, colors)}
    return np.asarray(colors, dtype=np.int64)
