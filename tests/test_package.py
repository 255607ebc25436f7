"""emlib as a package a user installs: ``import emlib; emlib.gmm``, ``help(emlib)``, and the widgets extra."""
import importlib.metadata
import pathlib
import pydoc
import re
import subprocess
import sys

import pytest

import emlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Every public module of the package: each .py file and sub-package of emlib/ whose name has no leading underscore.
MODULES = sorted({p.stem for p in (ROOT / "emlib").glob("[!_]*.py")}
                 | {p.parent.name for p in (ROOT / "emlib").glob("[!_]*/__init__.py")})


def test_every_module_is_reachable_as_an_attribute_of_emlib():
    assert sorted(emlib.__all__) == MODULES
    for name in MODULES:
        assert getattr(emlib, name) is importlib.import_module(f"emlib.{name}")
    assert set(MODULES) <= set(dir(emlib))


def test_a_name_that_is_not_a_module_says_which_modules_there_are():
    with pytest.raises(AttributeError, match=r"no attribute 'gmmm'.*gmm, hmm"):
        emlib.gmmm  # noqa: B018


def test_import_emlib_alone_loads_no_module_until_one_is_used():
    code = ("import sys, emlib; before = sorted(m for m in sys.modules if m.startswith('emlib.') or m == 'matplotlib');"
            " emlib.gmm.fit; after = 'emlib.gmm' in sys.modules; print(before, after)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] True"


def test_help_lists_and_describes_every_module():
    text = pydoc.render_doc(emlib, renderer=pydoc.plaintext)
    for name in MODULES:
        assert re.search(rf"^\s+{name}\s+\S", text, re.M), f"help(emlib) does not describe {name}"


def test_the_widgets_extra_installs_what_the_explorers_import_in_the_ranges_of_requirements_txt():
    requirements = (ROOT / "requirements.txt").read_text()
    declared = importlib.metadata.requires("em-course") or []
    extra = {re.split(r"[<>=;\s]", r, maxsplit=1)[0]: r for r in declared if 'extra == "widgets"' in r}
    assert sorted(extra) == ["ipywidgets", "matplotlib"], declared
    for package, requirement in extra.items():
        pinned = re.search(rf"^{package}(\S+)", requirements, re.M).group(1)
        assert sorted(requirement.split(";")[0][len(package):].split(",")) == sorted(pinned.split(","))


def test_an_explorer_without_ipywidgets_says_how_to_install_it(monkeypatch):
    from emlib.widgets import q_bound_explorer

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` fail as if not installed
    with pytest.raises(ModuleNotFoundError, match=r"q_bound_explorer needs ipywidgets.*pip install \"em-course\[widgets\]\""):
        q_bound_explorer()
