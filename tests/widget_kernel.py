"""A widget's slider moved in a real kernel, with nbclient standing in for the browser."""
import copy
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def assert_slider_rerenders(show: str, move: str) -> None:
    """Run ``show`` (code ending in the widget, so the cell displays it) and then ``move`` (code that sets the
    slider) in one kernel; the single Output widget must show exactly one figure before and after, and a different one.
    """
    import sys

    import nbformat

    sys.path.insert(0, str(ROOT / "book"))
    from executor import prompt_client  # nbclient, asking for each reply again every second (its widget stall)

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (show, move)])
    client = prompt_client()(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})

    def rendered():
        outputs = [state["outputs"] for state in client.widget_state.values() if state.get("_model_name") == "OutputModel"]
        assert len(outputs) == 1, f"expected one Output widget, found {len(outputs)}"
        return copy.deepcopy(outputs[0])

    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, errors[0]["traceback"] if errors else None
            if index == 0:
                before = rendered()
        after = rendered()
    images = [[o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})] for outputs in (before, after)]
    assert len(images[0]) == 1, f"the first render shows {len(images[0])} figures: {before}"
    assert len(images[1]) == 1, f"after the slider moved the output shows {len(images[1])} figures: {after}"
    assert images[0] != images[1], "the figure did not change when the slider moved"
