"""Build the course as a static web site: every lecture notebook executed and rendered to HTML.

    python site/build.py [--out _site] [--jobs N] [--executed DIR] [NOTEBOOK ...]

Writes one page per chapter (notebooks/NN_topic.ipynb -> NN_topic.html, with its figures embedded and links to
the previous chapter, the contents and the next chapter), one page per exercise (exercises/A/A.ipynb ->
exercise-A.html, rendered as handed out: unexecuted, with a note to open it in JupyterLab), the guides
(docs/NAME.md -> NAME.html), and index.html with the list of chapters, exercises and guides. Links between these
files become links between their pages. Open _site/index.html, or serve the folder: ``python -m http.server -d _site``.

The chapters run headless in fresh kernels (as ``tests/test_notebooks.py`` runs them), seeded as the notebooks
seed themselves, so the figures are the ones a reader gets. An interactive explorer (an ipywidgets slider over a
figure) becomes the figure it drew at its starting value, with a line saying that the slider works in JupyterLab:
a static page has no kernel to redraw it. Math is typeset by MathJax, which the page loads from a CDN.

The build stops with exit status 1, naming the chapter and the error, if a chapter fails to run.
Giving NOTEBOOK paths builds only those chapters (for example while writing one). ``--executed DIR`` takes the
chapters already executed (DIR/notebooks/NAME.ipynb, as the test suite keeps them) instead of running them again.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import html
import json
import os
import pathlib
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 300  # seconds per cell
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_NOTE = ('<p class="course-widget-note">Interactive in JupyterLab: run this notebook there and move the '
               "slider to redraw the figure. Shown here at the slider's starting value.</p>")
STYLE = """
.course-nav { display: flex; gap: 1.5em; justify-content: space-between; align-items: center;
  font-family: var(--jp-ui-font-family, sans-serif); font-size: 14px; padding: 0.6em 1em; margin: 0 0 1em 0;
  background: #f3f5f7; border-bottom: 1px solid #d0d7de; }
.course-nav a { text-decoration: none; }
.course-nav .course-nav-middle { text-align: center; flex: 1; }
.course-note { font-family: var(--jp-ui-font-family, sans-serif); background: #fff8e1; border: 1px solid #f0d78c;
  padding: 0.6em 1em; margin: 0.5em 1em 1em 1em; }
.course-widget-note { font-style: italic; color: #555; margin: 0.2em 0; }
"""


def chapter_title(notebook) -> str:
    """The text of the notebook's first markdown heading, or its file stem."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#+\s+(.+?)\s*$", cell.source, re.M)
            if match:
                return re.sub(r"[*_`]", "", match.group(1))
    return ""


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


def _prompt_client():
    from nbclient import NotebookClient

    class PromptClient(NotebookClient):
        async def async_start_new_kernel_client(self):
            kernel_client = await super().async_start_new_kernel_client()
            kernel_client.shell_channel.get_msg = _sliced(kernel_client.shell_channel.get_msg)
            return kernel_client

    return PromptClient


def execute(path: pathlib.Path, timeout: int = TIMEOUT) -> tuple[str, float, str | None]:
    """Run a notebook in a fresh kernel, in its own folder. Returns (notebook JSON, seconds, error or None).
    (tests/execute_notebooks.py runs the chapters for the test suite with this too.)"""
    import nbformat
    from nbclient.exceptions import CellExecutionError

    _PromptClient = _prompt_client()

    notebook = nbformat.read(path, as_version=4)
    client = _PromptClient(notebook, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
        error = None
    except CellExecutionError as exc:
        error = str(exc)
    return nbformat.writes(notebook), time.perf_counter() - start, error


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
    state (a static page cannot run the widgets, and the state would make the page load their JavaScript).
    Returns how many widget views were replaced."""
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


def render(notebook, source: pathlib.Path, chapters: set[str], nav: str, note: str = "") -> str:
    """Notebook ``source`` as a standalone HTML page (nbconvert's lab template, images embedded, links to course
    files rewritten) with ``nav`` above and below the notebook and ``note`` under the top navigation."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    body = rewrite_links(body, source, chapters)
    if body.count("<main>") != 1 or body.count("</main>") != 1:
        raise RuntimeError("nbconvert's lab template no longer has one <main> element; update site/build.py")
    body = body.replace("</head>", f"<style>{STYLE}</style>\n</head>", 1)
    return body.replace("<main>", f"<main>\n{nav}\n{note}", 1).replace("</main>", f"{nav}\n</main>", 1)


def site_page(target: pathlib.Path, chapters: set[str]) -> str | None:
    """The page of the site that stands for repository file ``target``, or None if the site has none."""
    try:
        relative = target.resolve().relative_to(ROOT)
    except ValueError:
        return None
    parts = relative.parts
    if parts[:1] == ("notebooks",) and len(parts) == 2 and relative.stem in chapters:
        return f"{relative.stem}.html"
    if parts[:1] == ("exercises",) and len(parts) == 3 and relative.suffix == ".ipynb":
        return f"exercise-{relative.stem}.html"
    if parts[:1] == ("docs",) and len(parts) == 2 and relative.suffix == ".md":
        return f"{relative.stem}.html"
    return None


def rewrite_links(page: str, source: pathlib.Path, chapters: set[str]) -> str:
    """Point the page's links to course files (another chapter, an exercise, a guide) at their pages on the site;
    a link to any other file of the repository becomes its text and path, which a reader finds in a clone."""
    def replace(match):
        href, rest, text = match.groups()
        if re.match(r"[a-z][a-z0-9+.-]*:|#", href):  # http:, mailto:, data:, an anchor on the page
            return match.group(0)
        path, _, anchor = href.partition("#")
        target = site_page(source.parent / html.unescape(path), chapters)
        if target is None:
            return f"{text} (<code>{html.escape(str((source.parent / path).resolve().relative_to(ROOT)))}</code>)"
        return f'<a href="{target}{"#" + anchor if anchor else ""}"{rest}>{text}</a>'

    return re.sub(r'<a href="([^"]+)"([^>]*)>(.*?)</a>', replace, page, flags=re.S)


def guide_page(path: pathlib.Path, chapters: set[str], nav: str) -> tuple[str, str]:
    """A markdown guide (docs/*.md) as a page; returns (title, HTML)."""
    import mistune

    text = path.read_text()
    title = re.search(r"^#\s+(.+)$", text, re.M)
    title = title.group(1) if title else path.stem
    body = rewrite_links(mistune.create_markdown(plugins=["table", "strikethrough"])(text), path, chapters)
    return title, f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 56em; margin: 0 auto; padding: 0 1em 2em 1em; line-height: 1.5; }}
pre {{ background: #f6f8fa; padding: 0.6em; overflow-x: auto; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #d0d7de; padding: 0.3em 0.6em; }}
{STYLE}
</style>
</head>
<body>
{nav}
{body}
{nav}
</body>
</html>
"""


def nav_bar(previous: tuple[str, str] | None, following: tuple[str, str] | None) -> str:
    def link(target, rel, arrow_left):
        if target is None:
            return "<span></span>"
        href, title = target
        text = f"&larr; {html.escape(title)}" if arrow_left else f"{html.escape(title)} &rarr;"
        return f'<a href="{href}" rel="{rel}">{text}</a>'

    return (f'<nav class="course-nav">{link(previous, "prev", True)}'
            '<span class="course-nav-middle"><a href="index.html" rel="contents">Contents</a> &middot; '
            '<a href="index.html#exercises">Exercises</a></span>'
            f'{link(following, "next", False)}</nav>')


def index_page(course_title: str, chapters: list[tuple[str, str, str]], exercises: list[tuple[str, str, str]],
               guides: list[tuple[str, str, str]]) -> str:
    def items(entries):
        return "\n".join(f'<li><a href="{href}">{html.escape(title)}</a> <code>{html.escape(source)}</code></li>'
                         for href, title, source in entries)

    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(course_title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em; line-height: 1.5; }}
code {{ color: #555; font-size: 0.85em; }}
li {{ margin: 0.3em 0; }}
</style>
</head>
<body>
<h1>{html.escape(course_title)}</h1>
<p>The lecture notebooks of the course, executed, with their figures. Interactive explorers appear as the figure
they draw at their starting value; to move their sliders, and to change and re-run the code, open the notebooks in
JupyterLab (see the README: <code>pip install -r requirements.txt &amp;&amp; jupyter lab --ServerApp.root_dir=.
notebooks/00_start_here.ipynb</code>).</p>
<h2 id="chapters">Chapters</h2>
<ol start="0">
{items(chapters)}
</ol>
<h2 id="exercises">Exercises</h2>
<p>The assignments as students get them (nbgrader's release versions). Work on them in JupyterLab, where the
<em>Validate</em> button runs every cell and the tests.</p>
<ul>
{items(exercises)}
</ul>
<h2 id="guides">Guides</h2>
<ul>
{items(guides)}
</ul>
</body>
</html>
"""


def already_executed(folder: pathlib.Path, path: pathlib.Path) -> tuple[str, float, str | None]:
    """Chapter ``path`` as executed before, in ``folder``: (notebook JSON, 0 seconds, the first error or None)."""
    copy = folder / path.relative_to(ROOT)
    if not copy.is_file():
        return "", 0.0, f"--executed {folder}: no executed copy {copy}"
    text = copy.read_text()
    errors = [f"{o['ename']}: {o['evalue']}" for c in json.loads(text)["cells"] if c["cell_type"] == "code"
              for o in c.get("outputs", []) if o["output_type"] == "error"]
    return text, 0.0, errors[0] if errors else None


def build(out: pathlib.Path, notebooks: list[pathlib.Path], jobs: int, executed_in: pathlib.Path | None = None) -> int:
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if executed_in is not None:
        runs = {path: already_executed(executed_in, path) for path in notebooks}
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            runs = dict(zip(notebooks, pool.map(execute, notebooks)))
    failed = {path: error for path, (_, _, error) in runs.items() if error}
    for path, error in failed.items():
        print(f"error: {os.path.relpath(path, ROOT)} failed to run:\n{error}\n", file=sys.stderr)

    if any(not text for text, _, _ in runs.values()):
        return 1
    executed = {path: nbformat.reads(text, as_version=4) for path, (text, _, _) in runs.items()}
    chapters = [(f"{p.stem}.html", chapter_title(executed[p]) or p.stem, f"notebooks/{p.name}") for p in notebooks]
    stems = {p.stem for p in notebooks}
    for i, path in enumerate(notebooks):
        notebook = executed[path]
        widgets = static_widgets(notebook)
        nav = nav_bar(chapters[i - 1][:2] if i > 0 else None, chapters[i + 1][:2] if i + 1 < len(notebooks) else None)
        (out / chapters[i][0]).write_text(render(notebook, path, stems, nav), encoding="utf-8")
        figures = sum("image/png" in o.get("data", {}) for c in notebook.cells if c.cell_type == "code"
                      for o in c.outputs)
        print(f"{chapters[i][0]}: ran in {runs[path][1]:.1f} s, {figures} figures, {widgets} explorers shown static"
              + (" (FAILED: see the error above)" if path in failed else ""))

    exercises = []
    for path in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        page = f"exercise-{path.stem}.html"
        source = path.relative_to(ROOT).as_posix()
        note = (f'<div class="course-note">This is the student version of the assignment, shown unexecuted. Open '
                f"<code>{source}</code> in JupyterLab to work on it; the <em>Validate</em> button checks it.</div>")
        (out / page).write_text(render(notebook, path, stems, nav_bar(None, None), note), encoding="utf-8")
        exercises.append((page, chapter_title(notebook) or path.stem, source))
        print(f"{page}: {source}")

    guides = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        title, page = guide_page(path, stems, nav_bar(None, None))
        (out / f"{path.stem}.html").write_text(page, encoding="utf-8")
        guides.append((f"{path.stem}.html", title, path.relative_to(ROOT).as_posix()))
        print(f"{path.stem}.html: {guides[-1][2]}")

    course_title = re.search(r"^#\s+(.+)$", (ROOT / "README.md").read_text(), re.M).group(1)
    (out / "index.html").write_text(index_page(course_title, chapters, exercises, guides), encoding="utf-8")
    print(f"index.html: {len(chapters)} chapters, {len(exercises)} exercises, {len(guides)} guides; built {out} in "
          f"{time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapters to build (default: every notebooks/*.ipynb)")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "_site", help="output folder (default: _site)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks run at once (default: 2, or 1 on a single core)")
    parser.add_argument("--executed", type=pathlib.Path, default=None,
                        help="take the executed chapters from DIR/notebooks/ instead of running them")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    if not notebooks:
        parser.error("notebooks/ holds no lecture notebook")
    return build(args.out.resolve(), notebooks, max(args.jobs, 1), args.executed and args.executed.resolve())


if __name__ == "__main__":
    sys.exit(main())
