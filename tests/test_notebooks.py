"""Every notebook runs top to bottom in smoke mode (GANPAINT_SMOKE=1); a failing cell fails."""
import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "notebooks",
                                          "*.ipynb")))


def test_there_is_a_notebook_per_recipe_and_one_for_layers():
    from ganpaint.recipes import RECIPES

    names = {os.path.basename(p)[:-len(".ipynb")] for p in NOTEBOOKS}
    assert names == set(RECIPES) | {"inspect_layers"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: os.path.basename(p))
def test_notebook_runs_in_smoke_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("GANPAINT_SMOKE", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for cell in nb.cells if cell.cell_type == "code"
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert (tmp_path / "outputs").exists() or "inspect_layers" in path  # wrote to its own folder
