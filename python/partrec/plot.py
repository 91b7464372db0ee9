"""Plots of partrec's results with matplotlib, the ``plot`` extra:
``pip install "partrec[plot]"`` (from a source checkout, ``pip install "./python[plot]"``).
Importing partrec never imports matplotlib; a plot imports it when it is drawn, and
raises ImportError naming the extra when it is missing.

See the manual, docs/python.md.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

#: What a plot raises when matplotlib is missing.
MISSING = (
    'partrec\'s plots need matplotlib: pip install "partrec[plot]" '
    '(from a source checkout: pip install "./python[plot]")'
)


def pyplot() -> Any:
    """``matplotlib.pyplot``, or ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(MISSING) from e
    return plt


def plot_sweep(rows: Sequence[Dict[str, Any]], ax: Optional[Any] = None) -> Any:
    """Draw :func:`partrec.sweep` rows against samples / (N ln N): per method and N,
    the fraction of trials whose partition was proven unique (``sat``, solid) and
    the fraction that recovered the planted partition (dashed). Draws on ``ax``
    (default: a new figure's axes) and returns it. Needs matplotlib (the ``plot``
    extra). See the manual, docs/python.md.
    """
    from . import summarize

    lines = summarize(rows)
    if ax is None:
        _, ax = pyplot().subplots(figsize=(6, 4))
    curves: Dict[tuple, list] = {}
    for line in lines:
        curves.setdefault((line["method"], line["n"]), []).append(line)
    for (method, n), points in curves.items():
        ratios = [p["ratio"] for p in points]
        if points[0]["p_unique"] is not None:
            ax.plot(ratios, [p["p_unique"] for p in points], marker="o",
                    label=f"{method} N={n}: P(unique)")
        ax.plot(ratios, [p["p_recovered"] for p in points], marker="x", linestyle="--",
                label=f"{method} N={n}: P(recovered)")
    ax.set_xlabel("samples / (N ln N)")
    ax.set_ylabel("fraction of trials")
    ax.set_ylim(-0.05, 1.05)
    if curves:
        ax.legend(fontsize="small")
    return ax
