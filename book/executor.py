"""Run a notebook headless, in a fresh kernel in its own folder, as a reader's "Run All" would.

Used by the book build (``book/build.py``) and by the test suite (``tests/execute_notebooks.py`` runs the chapters
and solutions in the student's venv with it; ``tests/widget_kernel.py`` drives the explorers with its client).
It needs only what JupyterLab brings (nbclient, nbformat, ipykernel).
"""
from __future__ import annotations

import pathlib
import time

TIMEOUT = 300  # seconds per cell


def _sliced(get_msg, slice_seconds: float = 1.0):
    """``get_msg(timeout=T)`` asked again every ``slice_seconds`` until T is over. After a cell that displays a
    widget, nbclient's wait for the cell's reply sometimes returns only when its whole timeout has run out, although
    the reply is there (nbclient issue #312); asking again finds it, so such a stall costs a second, not the timeout."""
    from queue import Empty

    from nbclient.util import ensure_async

    async def get(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = slice_seconds if deadline is None else max(0.0, min(slice_seconds, deadline - time.monotonic()))
            try:
                return await ensure_async(get_msg(timeout=wait))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get


def prompt_client():
    """nbclient's NotebookClient, with the shell channel asked for each reply again every second (``_sliced``)."""
    from nbclient import NotebookClient
    from nbclient.util import run_sync

    class PromptClient(NotebookClient):
        async def async_start_new_kernel_client(self):
            kernel_client = await super().async_start_new_kernel_client()
            kernel_client.shell_channel.get_msg = _sliced(kernel_client.shell_channel.get_msg)
            return kernel_client

        # nbclient's synchronous twin wraps the base class's coroutine, so ``setup_kernel`` (the way
        # tests/widget_kernel.py runs cells) would never reach the override above without this line.
        start_new_kernel_client = run_sync(async_start_new_kernel_client)

    return PromptClient


def execute(path: pathlib.Path, timeout: int = TIMEOUT) -> tuple[str, float, str | None]:
    """Run notebook ``path`` in a fresh kernel, in its own folder. Returns (the executed notebook as JSON, seconds,
    the error or None). A notebook that fails keeps the outputs up to the failing cell."""
    import nbformat
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = prompt_client()(notebook, timeout=timeout, kernel_name="python3",
                             resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
        error = None
    except CellExecutionError as exc:
        error = str(exc)
    return nbformat.writes(notebook), time.perf_counter() - start, error
