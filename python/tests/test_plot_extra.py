"""Plotting is the `plot` extra: importing partrec never needs matplotlib, and a plot
without it raises ImportError saying how to install it."""

import subprocess
import sys
from pathlib import Path

import pytest

import partrec

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_importing_partrec_never_imports_matplotlib():
    done = run("import sys, partrec; print('matplotlib' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_partrec_works_where_matplotlib_cannot_be_imported():
    # A None entry in sys.modules makes every import of matplotlib fail, as when it is
    # not installed.
    done = run(
        "import sys; sys.modules['matplotlib'] = None\n"
        "import partrec\n"
        "rows = partrec.sweep(tokens=10, classes=2, ratios=[2], trials=1)\n"
        "print(partrec.solve(partrec.generate(10, 2, samples=40, seed=1), unique=True).status)\n"
        "try:\n"
        "    partrec.plot_sweep(rows)\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    assert done.returncode == 0, done.stderr
    status, message = done.stdout.strip().splitlines()
    assert status == "sat"
    assert 'pip install "partrec[plot]"' in message
    assert 'pip install "./python[plot]"' in message


def test_plot_without_matplotlib_raises_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "partrec\[plot\]"'):
        partrec.plot_sweep([])


def test_the_plot_extra_installs_matplotlib():
    text = PYPROJECT.read_text()
    extras = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    assert 'plot = ["matplotlib"]' in extras


def test_plot_sweep_draws_one_curve_per_method_n_and_measure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    rows = partrec.sweep(tokens=[10, 14], classes=2, ratios=[0.5, 4], trials=2, seed=3, methods=["sat", "gd"])
    ax = partrec.plot_sweep(rows)
    labels = sorted(line.get_label() for line in ax.get_lines())
    # sat: P(unique) and P(recovered) per N; gd: P(recovered) only.
    assert labels == sorted(
        [f"sat N={n}: P(unique)" for n in (10, 14)]
        + [f"{m} N={n}: P(recovered)" for m in ("sat", "gd") for n in (10, 14)]
    )
    for line in ax.get_lines():
        assert list(line.get_xdata()) == [0.5, 4.0]
    ax.figure.savefig(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 1000
