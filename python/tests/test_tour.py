"""docs/tour.ipynb runs top to bottom (with nbclient and ipykernel: without them the
test skips, saying so) and is kept with its outputs cleared, so that it diffs well."""

import json
import shutil

import pytest

from conftest import ROOT

TOUR = ROOT / "docs" / "tour.ipynb"


def code_cells():
    return [c for c in json.loads(TOUR.read_text())["cells"] if c["cell_type"] == "code"]


def test_the_tour_is_kept_without_outputs():
    cells = code_cells()
    assert cells
    for cell in cells:
        assert cell["outputs"] == [] and cell["execution_count"] is None


def test_the_tour_covers_loading_solving_identify_a_sweep_and_its_plot():
    source = "\n".join("".join(c["source"]) for c in code_cells())
    for call in ("partrec.load(", "partrec.solve(", "partrec.identify(", "partrec.sweep(", "partrec.plot_sweep("):
        assert call in source, call


def test_the_tour_runs_top_to_bottom(tmp_path):
    try:
        import ipykernel  # noqa: F401
        import nbclient
        import nbformat
    except ImportError as e:
        pytest.skip(f"running the notebook needs nbclient and ipykernel ({e}): pip install nbclient ipykernel")
    pytest.importorskip("matplotlib", reason="the tour plots (pip install \"./python[plot]\")")
    # A scratch folder holding the instances, as the repository's root does.
    shutil.copytree(ROOT / "instances", tmp_path / "instances")
    nb = nbformat.read(TOUR, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell, on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "the planted partition, up to renaming: True" in text
    assert "{'pinned': 64, 'free': 10, 'unobserved': 0}" in text
    # The plot was drawn (an image in the last cells' outputs).
    assert any("image/png" in o.get("data", {}) for o in outputs)
    # Nothing was written beside the instances.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instances"]
