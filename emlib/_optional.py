"""Imports of the optional packages (ipywidgets, matplotlib), with an error that says how to install them."""
from __future__ import annotations

import importlib

#: The extra of the ``em-course`` distribution that installs each optional package (pyproject.toml).
EXTRAS = {"ipywidgets": "widgets", "matplotlib": "widgets"}


def require(module: str, needed_by: str):
    """``importlib.import_module(module)``; if it is not installed, a ModuleNotFoundError naming what needs it and
    the command that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name != module.split(".")[0]:
            raise
        raise ModuleNotFoundError(
            f"{needed_by} needs {module.split('.')[0]}, which is not installed: pip install \"em-course[{EXTRAS[error.name]}]\" "
            f"(or, from the course's folder, pip install -r requirements.txt).", name=error.name) from None
