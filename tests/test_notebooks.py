"""Every lecture notebook runs headless from top to bottom without an error, fast, and is kept clean in git."""
import json
import pathlib
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCE_NOTEBOOKS = NOTEBOOKS + sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted((ROOT / "exercises").glob("*/*.ipynb"))
TIME_LIMIT = 120  # seconds per notebook; each is meant to run in well under 60 s on a 2-core laptop


def test_there_are_lecture_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no lecture notebook"


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_outputs_are_cleared_in_git(path):
    notebook = json.loads(path.read_text())
    dirty = [i for i, cell in enumerate(notebook["cells"])
             if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lecture_notebook_runs_headless(path, tmp_path, record_property):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=TIME_LIMIT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    seconds = time.perf_counter() - start
    record_property("seconds", seconds)
    print(f"{path.name}: {seconds:.1f} s")
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    figures = sum("image/png" in o.get("data", {}) for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    assert figures >= 1 or path.name.startswith("00_"), f"{path.name} draws no figure"
    assert seconds < TIME_LIMIT
