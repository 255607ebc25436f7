"""The static site (`python site/build.py`) builds in the student's environment (the venv of requirements.txt,
tests/student_env.py), and every page renders: chapters with their figures and no error, navigation between
chapters and links that lead to pages that exist, exercises and guides linked from the contents. The build takes
the chapters as tests/test_notebooks.py executed them in that venv (``--executed``) instead of running them again."""
import html.parser
import json
import pathlib
import re
import subprocess

import pytest

import student_env

pytestmark = pytest.mark.xdist_group("student-env")
ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*/*.ipynb"))
ERROR_LINE = re.compile(r"[\w.]*(Error|Exception|Interrupt|Exit)\b")  # "ValueError: ...", as the browser test


class Links(html.parser.HTMLParser):
    """The href and rel of every <a>, the src of every <img> and <script>, and the text of every stderr output
    (where nbconvert puts warnings and errors) of a page."""

    def __init__(self, text):
        super().__init__()
        self.anchors, self.images, self.scripts, self.stderr = [], [], [], []
        self._depth = 0  # > 0 inside a stderr output
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.anchors.append((attrs["href"], attrs.get("rel")))
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag == "div" and (self._depth or attrs.get("data-mime-type") == "application/vnd.jupyter.stderr"):
            if not self._depth:
                self.stderr.append("")
            self._depth += 1

    def handle_endtag(self, tag):
        if tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.stderr[-1] += data


def code_of(path) -> str:
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


def plots(path) -> bool:
    """Whether a chapter's code draws anything (matplotlib, emlib.plotting or an explorer)."""
    return any(word in code_of(path) for word in ("plt.", "plotting.", "explorer(", "stepper("))


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    executed = student_env.executed(tmp_path_factory)
    venv = student_env.student_venv()
    run = subprocess.run([str(student_env.venv_python(venv)), str(ROOT / "site" / "build.py"), "--out", str(out),
                          "--executed", str(executed)], cwd=ROOT, env=student_env.student_environ(venv),
                         capture_output=True, text=True, timeout=1200)
    print(run.stdout)
    assert run.returncode == 0, f"site/build.py failed:\n{run.stderr[-4000:]}"
    return out


def test_index_lists_every_chapter_and_exercise(site):
    anchors = [href for href, _ in Links((site / "index.html").read_text()).anchors]
    assert anchors[:len(NOTEBOOKS)] == [f"{p.stem}.html" for p in NOTEBOOKS], "chapters missing or out of order"
    assert [a for a in anchors if a.startswith("exercise-")] == [f"exercise-{p.stem}.html" for p in EXERCISES]
    assert {f"{p.stem}.html" for p in (ROOT / "docs").glob("*.md")} <= set(anchors), "a guide in docs/ is not linked"
    for href in anchors:
        assert (site / href).is_file(), f"index.html links to {href}, which was not built"


@pytest.mark.parametrize("index", range(len(NOTEBOOKS)), ids=[p.stem for p in NOTEBOOKS])
def test_chapter_page(site, index):
    path = NOTEBOOKS[index]
    text = (site / f"{path.stem}.html").read_text()
    page = Links(text)
    # Navigation, above and below the chapter: previous, contents, exercises, next; every link leads somewhere.
    rels = {rel: href for href, rel in page.anchors if rel in ("prev", "next", "contents")}
    expected = {"contents": "index.html"}
    if index > 0:
        expected["prev"] = f"{NOTEBOOKS[index - 1].stem}.html"
    if index + 1 < len(NOTEBOOKS):
        expected["next"] = f"{NOTEBOOKS[index + 1].stem}.html"
    assert rels == expected
    assert text.count('class="course-nav"') == 2
    for href, _ in page.anchors:
        local = href.split("#")[0]
        if local and "://" not in local and not href.startswith(("mailto:", "#")):
            assert (site / local).is_file(), f"{path.stem}.html links to {href}, which was not built"
    # Figures embedded in the page, no error output, explorers shown as their figure (no widget JavaScript).
    figures = [src for src in page.images if src.startswith("data:image/png;base64,")]
    if plots(path):
        assert figures, f"{path.stem}.html shows no figure, but the chapter draws"
    errors = [t for t in page.stderr if "Traceback (most recent call last)" in t or ERROR_LINE.match(last_line(t))]
    assert not errors, f"{path.stem}.html shows an error:\n{errors[0][-2000:]}"
    # Explorers are shown as the figure they drew, with a note; no widget JavaScript is loaded.
    assert "VBox(children" not in text and not any("jupyter-widgets" in s for s in page.scripts)
    notes = text.split('class="course-widget-note"')
    if re.search(r"^\w*(explorer|stepper)\(", code_of(path), re.M):
        assert len(notes) > 1, f"{path.stem}.html: the chapter displays an explorer but the page does not show it"
    for after in notes[1:]:
        assert 'src="data:image/png;base64,' in after.split('class="jp-Cell ')[0], \
            f"{path.stem}.html: an explorer is shown without its figure"


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_exercise_page(site, path):
    text = (site / f"exercise-{path.stem}.html").read_text()
    assert "YOUR CODE HERE" in text and "BEGIN SOLUTION" not in text
    assert f"exercises/{path.parent.name}/{path.name}" in text  # the note saying where to open it
    assert 'href="index.html"' in text
