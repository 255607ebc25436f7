"""Build the course as a book (Jupyter Book 1.x): every chapter executed, the exercises and the guides, with a
sidebar, search, download and launch buttons, and maths that renders without a network connection.

    pip install -r requirements-site.txt         # once, in the environment of requirements.txt
    python book/build.py [--out _site] [--executed DIR] [--repository URL] [--branch main] [--jupyterhub URL]

Open ``_site/index.html``, or serve the folder: ``python -m http.server -d _site``.

What it does: the chapters (notebooks/*.ipynb) are executed headless, two at a time, each in a fresh kernel
(``book/executor.py``, as the test suite runs them), or taken already executed from ``--executed DIR``
(DIR/notebooks/NAME.ipynb, where the test suite keeps them). An interactive explorer becomes the figure it drew at
its starting value, with a note that its slider needs a running kernel. The chapters, the exercises as students get
them (exercises/A/A.ipynb, unexecuted) and the guides (docs/*.md) are put beside ``book/_config.yml``,
``book/_toc.yml`` and ``book/intro.md`` in ``_build/book-source`` (``--work``), and ``jupyter-book build`` turns them
into HTML, treating any warning (a broken link, say) as an error; MathJax 3 is copied into the site from the PyPI
package django-static-mathjax (requirements.txt). The download button of a page gives the notebook as it is in the
repository.

``--repository`` (default: this clone's ``origin`` remote, when it is an https URL) adds the launch buttons: Binder,
and with ``--jupyterhub https://hub.example.edu`` a link that copies the course into the student's home folder on
that hub with nbgitpuller and opens the chapter there. Exit status 1, naming the chapter and the error, if a chapter
fails to run or the book does not build.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import pathlib
import shutil
import subprocess
import sys
import time

BOOK = pathlib.Path(__file__).resolve().parent
ROOT = BOOK.parent
sys.path.insert(0, str(BOOK))
from executor import execute  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_NOTE = ('<p class="course-widget-note">Interactive in JupyterLab: run this notebook there and move the '
               "slider to redraw the figure. Shown here at the slider's starting value.</p>")


def captured_outputs(state: dict, model_id: str, seen=None) -> list:
    """The outputs that the Output widgets inside widget ``model_id`` hold, in the order of the widget tree."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id]
    if model.get("model_name") == "OutputModel":
        return list(model["state"].get("outputs", []))
    outputs = []
    for value in model.get("state", {}).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.startswith("IPY_MODEL_"):
                outputs += captured_outputs(state, item[len("IPY_MODEL_"):], seen)
    return outputs


def static_widgets(notebook) -> int:
    """Replace every widget view in the outputs by the figures its Output widgets hold, and drop the widget
    state (a static page cannot run the widgets, and the state would make the page load their JavaScript from a
    CDN). Returns how many widget views were replaced."""
    import nbformat

    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            replaced += 1
            outputs.append(nbformat.v4.new_output("display_data", data={"text/html": WIDGET_NOTE}))
            outputs += [nbformat.from_dict(o) for o in captured_outputs(state, view["model_id"])]
        cell.outputs = outputs
    notebook.metadata.pop("widgets", None)
    return replaced


def first_error(notebook) -> str | None:
    errors = [f"{o['ename']}: {o['evalue']}" for c in notebook.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o["output_type"] == "error"]
    return errors[0] if errors else None


def executed_chapters(chapters: list[pathlib.Path], executed_in: pathlib.Path | None, jobs: int):
    """{chapter: (executed notebook or None, seconds, error or None)}, run here or read from ``executed_in``."""
    import nbformat

    if executed_in is None:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            runs = dict(zip(chapters, pool.map(execute, chapters)))
        return {path: (nbformat.reads(text, as_version=4), seconds, error)
                for path, (text, seconds, error) in runs.items()}
    runs = {}
    for path in chapters:
        copy = executed_in / path.relative_to(ROOT)
        if not copy.is_file():
            runs[path] = (None, 0.0, f"--executed {executed_in}: no executed copy {copy}")
            continue
        notebook = nbformat.read(copy, as_version=4)
        runs[path] = (notebook, 0.0, first_error(notebook))
    return runs


def mathjax_folder() -> pathlib.Path:
    """MathJax 3's browser build (es5/), as the PyPI package django-static-mathjax installs it."""
    try:
        import mathjax
    except ImportError:
        raise SystemExit("error: MathJax is missing: pip install -r requirements.txt (django-static-mathjax)")
    return pathlib.Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


# What the site's pages use of MathJax: the TeX-to-HTML component, the TeX extensions and fonts it loads on
# demand, and the menu's accessibility tools (the speech rule engine included), about 9 MB of its 24.
MATHJAX_PARTS = ["tex-chtml.js", "input", "output", "a11y", "ui", "adaptors", "sre"]


def copy_mathjax(static: pathlib.Path) -> None:
    """MathJax into the built site's ``_static/mathjax`` (where ``mathjax_path`` in _config.yml points). Copied after
    the build, not through ``_static`` in the sources: Jupyter Book would add every .js file there to every page."""
    mathjax = mathjax_folder()
    shutil.rmtree(static / "mathjax", ignore_errors=True)
    (static / "mathjax").mkdir(exist_ok=True)
    for part in MATHJAX_PARTS:
        copy = shutil.copytree if (mathjax / part).is_dir() else shutil.copy2
        copy(mathjax / part, static / "mathjax" / part)


def stage(source: pathlib.Path, chapters: dict, repository: str, branch: str, jupyterhub: str) -> None:
    """The book's sources in ``source``: laid out as the repository is (so that links between chapters, exercises
    and guides, and the launch buttons' paths, are the repository's), with the settings filled in."""
    import nbformat
    import yaml

    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    config["repository"].update(url=repository, branch=branch)
    config["launch_buttons"]["jupyterhub_url"] = jupyterhub
    if not repository:  # no launch buttons (sphinx-book-theme fails on a Binder button without a repository)
        config["html"]["use_repository_button"] = False
        config["launch_buttons"].update(binderhub_url="", jupyterhub_url="")
    (source / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    for name in ("_toc.yml", "intro.md"):
        shutil.copy2(BOOK / name, source / name)
    shutil.copytree(BOOK / "_static", source / "_static")
    (source / "notebooks").mkdir()
    for path, notebook in chapters.items():
        nbformat.write(notebook, source / "notebooks" / path.name)
    for path in sorted((ROOT / "exercises").glob("*/*.ipynb")) + sorted((ROOT / "docs").glob("*.md")):
        target = source / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def origin() -> str:
    """This clone's ``origin`` remote if it is an https URL (a repository readers can reach), else ''."""
    run = subprocess.run(["git", "remote", "get-url", "origin"], cwd=ROOT, capture_output=True, text=True)
    url = run.stdout.strip().removesuffix(".git") if run.returncode == 0 else ""
    return url if url.startswith("https://") else ""


def build(out: pathlib.Path, work: pathlib.Path, executed_in: pathlib.Path | None, jobs: int, repository: str,
          branch: str, jupyterhub: str) -> int:
    start = time.perf_counter()
    chapter_paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    runs = executed_chapters(chapter_paths, executed_in, jobs)
    failed = {path: error for path, (_, _, error) in runs.items() if error}
    for path, error in failed.items():
        print(f"error: {path.relative_to(ROOT)} failed to run:\n{error}\n", file=sys.stderr)
    if failed:
        return 1
    chapters = {}
    for path, (notebook, seconds, _) in runs.items():
        explorers = static_widgets(notebook)
        chapters[path] = notebook
        print(f"{path.relative_to(ROOT)}: " + (f"ran in {seconds:.1f} s, " if executed_in is None else "executed, ")
              + f"{explorers} explorers shown static")

    source, work = work / "book-source", work / "book"
    stage(source, chapters, repository, branch, jupyterhub)
    command = ["jupyter-book", "build", str(source), "--path-output", str(work), "--builder", "html", "-W", "-n",
               "--keep-going"]
    jupyter_book = shutil.which("jupyter-book", path=os.pathsep.join([str(pathlib.Path(sys.executable).parent),
                                                                       os.environ.get("PATH", "")]))
    if jupyter_book is None:
        print("error: jupyter-book is missing: pip install -r requirements-site.txt", file=sys.stderr)
        return 1
    run = subprocess.run([jupyter_book, *command[1:]], cwd=ROOT)
    if run.returncode:
        print(f"error: `{' '.join(command)}` failed (exit {run.returncode}); see its output above", file=sys.stderr)
        return 1
    html = work / "_build" / "html"
    for path in chapter_paths:  # the download button: the notebook as in the repository, outputs cleared
        shutil.copy2(path, html / "_sources" / "notebooks" / path.name)
    copy_mathjax(html / "_static")
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(html, out)
    print(f"built {out} ({len(chapters)} chapters) in {time.perf_counter() - start:.0f} s; "
          f"open {out / 'index.html'}" + ("" if repository else "; no launch buttons: no --repository"))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "_site", help="output folder (default: _site)")
    parser.add_argument("--work", type=pathlib.Path, default=ROOT / "_build",
                        help="where the book's sources and Sphinx's files go (default: _build)")
    parser.add_argument("--executed", type=pathlib.Path, default=None,
                        help="take the executed chapters from DIR/notebooks/ instead of running them")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="chapters run at once (default: 2, or 1 on a single core)")
    parser.add_argument("--repository", default=None,
                        help="the course's public git repository, https://github.com/OWNER/NAME, for the launch "
                             "buttons (default: the origin remote, if it is an https URL)")
    parser.add_argument("--branch", default="main", help="the repository's branch (default: main)")
    parser.add_argument("--jupyterhub", default="",
                        help="a JupyterHub's URL: adds a launch link through nbgitpuller to every chapter")
    args = parser.parse_args(argv)
    repository = origin() if args.repository is None else args.repository.removesuffix(".git")
    if args.jupyterhub and not repository:
        parser.error("--jupyterhub needs --repository (nbgitpuller copies the course from there)")
    executed = args.executed and args.executed.resolve()
    return build(args.out.resolve(), args.work.resolve(), executed, max(args.jobs, 1), repository, args.branch,
                 args.jupyterhub.rstrip("/"))


if __name__ == "__main__":
    sys.exit(main())
