"""Every notebook runs top to bottom in smoke mode (GANPAINT_SMOKE=1); a failing cell fails.
The notebooks are what scripts/make_notebooks.py writes, and use public names only."""

import glob
import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "notebooks", "*.ipynb")))


def test_there_is_a_notebook_per_recipe_and_one_for_layers():
    from ganpaint.recipes import RECIPES

    names = {os.path.basename(p)[: -len(".ipynb")] for p in NOTEBOOKS}
    assert names == set(RECIPES) | {"inspect_layers"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: os.path.basename(p))
def test_notebook_runs_in_smoke_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("GANPAINT_SMOKE", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [
        o
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    assert (tmp_path / "outputs").exists() or "inspect_layers" in path  # wrote to its own folder


def test_the_notebooks_are_what_the_generator_writes():
    # One source: a hand edit of a notebook, or a recipe change without regenerating, fails.
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "..", "scripts", "make_notebooks.py")
    spec = importlib.util.spec_from_file_location("make_notebooks", path)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    for file_name, expected in generator.notebooks().items():
        stored = nbformat.read(
            os.path.join(os.path.dirname(path), "..", "notebooks", file_name), as_version=4
        )
        assert [c.source for c in stored.cells] == [c.source for c in expected.cells], (
            f"{file_name} differs from scripts/make_notebooks.py: run it again"
        )


def test_notebooks_use_only_public_names():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        private = re.findall(r"\.(_[a-z]\w*)", code)  # `x._name`, not `__name__`
        assert not private, f"{path} reaches private names {private}"
        assert "if True" not in code and "hasattr(model" not in code, path
