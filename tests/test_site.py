"""The course as a book (``python book/build.py``, Jupyter Book 1.x), built as the README says in the student's
environment plus requirements-site.txt (tests/student_env.py ``site_venv``), from the chapters that
tests/test_notebooks.py executed in that environment (``--executed``: nothing runs twice), and read like a reader
reads it.

Without a browser: the table of contents holds every chapter, exercise and guide; every chapter page has its title,
its figures with the alt text of the notebook's cell metadata, its explorers as a figure with a note, no error, a
download button that gives the repository's notebook and launch links (Binder, and nbgitpuller on an instructor's
hub); exercises are the students' version; nothing on any page comes from another host.

In Chromium, with every request to another host blocked (marker ``browser``): each page renders all its maths
(MathJax from the site itself), shows its figures with alt text, has its headings in order, and axe-core reports no
serious or critical WCAG 2.1 AA violation; the sidebar leads from chapter to chapter; search finds "Baum-Welch" in
chapter 03; the keyboard alone reaches the content, the sidebar and the search. Screenshots go to tests/artifacts/
as book-<page>.png, axe's findings (every impact) to tests/artifacts/axe-book.json.
"""
import functools
import html.parser
import http.server
import json
import pathlib
import re
import subprocess
import sys
import threading

import pytest
import yaml

import student_env
from browser_env import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require_browser

pytestmark = pytest.mark.xdist_group("book")
ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*/*.ipynb"))
GUIDES = sorted((ROOT / "docs").glob("*.md"))
TOC = [entry["file"] for part in yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())["parts"]
       for entry in part["chapters"]]
PAGES = ["intro.html"] + [f"{name}.html" for name in TOC]  # in the order of the table of contents
# An instructor's fork and hub, as the README's example builds the book for them (nothing is fetched from either).
REPOSITORY = "https://github.com/example-university/em-course"
HUB = "https://hub.example.edu"
ERROR_LINE = re.compile(r"[\w.]*(Error|Exception|Interrupt|Exit)\b")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class Page(html.parser.HTMLParser):
    """What a test reads from a page: its <title>, the href of every <a>, the src of every script, image and
    stylesheet, every <img> with its alt, the text of every error or stderr output, and the text of the whole page."""

    def __init__(self, text):
        super().__init__()
        self.title, self.anchors, self.resources, self.images, self.errors, self.text = "", [], [], [], [], []
        self._in_title, self._output_depth = False, 0
        self.feed(text)
        self.text = "".join(self.text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "title":
            self._in_title = True
        if tag == "a" and "href" in attrs:
            self.anchors.append(attrs["href"])
        if tag == "img":
            self.images.append((attrs.get("src", ""), attrs.get("alt")))
        if tag in ("script", "img", "iframe") and attrs.get("src"):
            self.resources.append(attrs["src"])
        if tag == "link" and attrs.get("rel") in ("stylesheet", "preload", "icon") and attrs.get("href"):
            self.resources.append(attrs["href"])
        if tag == "div":
            if self._output_depth:
                self._output_depth += 1
            elif "output" in classes and ({"traceback", "stderr"} & set(classes)):
                self.errors.append("")
                self._output_depth = 1

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "div" and self._output_depth:
            self._output_depth -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._output_depth:
            self.errors[-1] += data
        self.text.append(data)


def read_page(site, name) -> Page:
    return Page((site / name).read_text(encoding="utf-8"))


def heading(path) -> str:
    """The text of a notebook's or guide's first level-1 heading, as the page title shows it."""
    if path.suffix == ".md":
        text = path.read_text()
    else:
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                         if c["cell_type"] == "markdown")
    return re.search(r"^#\s+(.+?)\s*$", text, re.M).group(1).replace("'", "\u2019")


def alt_texts(path) -> list[str]:
    """The alt text each figure-drawing code cell gives in its metadata (mystnb.image.alt), in order."""
    return [c["metadata"]["mystnb"]["image"]["alt"] for c in json.loads(path.read_text())["cells"]
            if c["cell_type"] == "code" and c["metadata"].get("mystnb", {}).get("image", {}).get("alt")]


def build_book(tmp_path_factory, *options) -> pathlib.Path:
    """``python book/build.py`` with ``options`` in the site's venv, from the chapters executed for the suite."""
    work = tmp_path_factory.mktemp("book")
    out = work / "_site"
    executed = student_env.executed(tmp_path_factory)
    venv = student_env.site_venv()
    run = subprocess.run([str(student_env.venv_python(venv)), str(ROOT / "book" / "build.py"), "--out", str(out),
                          "--work", str(work), "--executed", str(executed), *options],
                         cwd=ROOT, env=student_env.student_environ(venv), capture_output=True, text=True,
                         timeout=900)
    print(run.stdout[-3000:])
    assert run.returncode == 0, f"book/build.py failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The book as an instructor publishes it: with the course's repository and the class's hub."""
    return build_book(tmp_path_factory, "--repository", REPOSITORY, "--jupyterhub", HUB)


def test_without_a_repository_the_book_gets_no_launch_buttons(tmp_path):
    """The README's command names no repository, and a clone whose ``origin`` is no https URL (as CI's) gives none:
    the staged settings then turn the launch and repository buttons off (sphinx-book-theme stops the build with a
    TypeError when a Binder button has no repository; seen with sphinx-book-theme 1.3). The build with these
    settings is the one a reader runs; ``site`` builds the published variant."""
    sys.path.insert(0, str(ROOT / "book"))
    import build

    build.stage(tmp_path / "source", {}, repository="", branch="main", jupyterhub="")
    config = yaml.safe_load((tmp_path / "source" / "_config.yml").read_text())
    assert config["repository"]["url"] == ""
    assert config["launch_buttons"]["binderhub_url"] == config["launch_buttons"]["jupyterhub_url"] == ""
    assert config["html"]["use_repository_button"] is False
    build.stage(tmp_path / "published", {}, repository=REPOSITORY, branch="main", jupyterhub=HUB)
    config = yaml.safe_load((tmp_path / "published" / "_config.yml").read_text())
    assert config["repository"]["url"] == REPOSITORY and config["launch_buttons"]["jupyterhub_url"] == HUB
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"


def test_the_table_of_contents_holds_every_chapter_exercise_and_guide_in_order(site):
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    parts = {part["caption"]: [entry["file"] for entry in part["chapters"]] for part in toc["parts"]}
    assert list(parts) == ["Chapters", "Exercises", "Guides"]
    assert parts["Chapters"] == [f"notebooks/{p.stem}" for p in NOTEBOOKS], "chapters missing or out of order"
    assert parts["Exercises"] == [f"exercises/{p.parent.name}/{p.stem}" for p in EXERCISES]
    assert sorted(parts["Guides"]) == [f"docs/{p.stem}" for p in GUIDES], "a guide in docs/ is missing"
    sidebar = [href for href in read_page(site, "intro.html").anchors if href.endswith(".html")]
    positions = [sidebar.index(page) for page in PAGES[1:]]  # every page is linked from the front page's sidebar
    assert positions == sorted(positions), "the sidebar lists the pages out of order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_page(site, path):
    name = f"notebooks/{path.stem}.html"
    page = read_page(site, name)
    assert page.title.startswith(heading(path)), f"{name} is titled {page.title!r}"
    # Download: the notebook as it is in the repository (outputs cleared), not the executed copy.
    assert f"../_sources/notebooks/{path.name}" in page.anchors
    assert (site / "_sources" / "notebooks" / path.name).read_bytes() == path.read_bytes()
    # Launch: Binder on the repository, and the instructor's hub through nbgitpuller, both at this chapter.
    assert f"https://mybinder.org/v2/gh/example-university/em-course/main?urlpath=lab/tree/notebooks/{path.name}" \
        in page.anchors
    pull = [href for href in page.anchors if href.startswith(f"{HUB}/hub/user-redirect/git-pull?")]
    assert pull and "repo=https%3A//github.com/example-university/em-course" in pull[0] \
        and f"urlpath=lab/tree/em-course/notebooks/{path.name}" in pull[0] and "branch=main" in pull[0]
    # Figures: one image per drawn figure, each with the alt text its cell gives; no error output.
    figures = [(src, alt) for src, alt in page.images if src.startswith("../_images/")]
    for src, _ in figures:
        assert (site / "notebooks" / src).is_file(), f"{name} shows a missing image {src}"
    wanted = alt_texts(path)
    assert {alt for _, alt in figures} == set(wanted), f"{name}: figures without their cell's alt text"
    assert not page.errors, f"{name} shows an error or a warning:\n{page.errors[0][-2000:]}"
    # Explorers: the figure drawn at the slider's starting value, after a note; no widget JavaScript.
    explorers = student_env.explorers_displayed(path)
    text = (site / name).read_text(encoding="utf-8")
    notes = text.split('class="course-widget-note"')[1:]
    assert len(notes) == explorers, f"{name}: {explorers} explorers in the chapter, {len(notes)} shown"
    for after in notes:
        assert re.match(r'[^<]*</p>\s*</div>\s*<img alt="[^"]+" src="../_images/', after), \
            f"{name}: an explorer is shown without its figure"
    assert "jupyter-widgets" not in text and "VBox(children" not in text


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_exercise_page_is_the_students_version(site, path):
    name = str(path.relative_to(ROOT).with_suffix(".html"))
    page = read_page(site, name)
    assert page.title.startswith(heading(path))
    assert "YOUR CODE HERE" in page.text and "BEGIN SOLUTION" not in page.text and "BEGIN HIDDEN" not in page.text
    assert f"https://mybinder.org/v2/gh/example-university/em-course/main?urlpath=lab/tree/{path.relative_to(ROOT)}" \
        in page.anchors


def test_every_page_is_self_contained_and_its_links_lead_to_pages_that_exist(site):
    for name in PAGES + ["search.html"]:
        page = read_page(site, name)
        if name not in ("intro.html", "search.html"):
            source = ROOT / pathlib.Path(name).with_suffix(".md" if name.startswith("docs/") else ".ipynb")
            assert page.title.startswith(heading(source)), f"{name} is titled {page.title!r}"
        remote = [src for src in page.resources if re.match(r"[a-z]+:", src) and not src.startswith("data:")]
        assert not remote, f"{name} loads {remote} from another host"
        for href in page.anchors:
            local = href.split("#")[0].split("?")[0]
            if local and not re.match(r"[a-z]+:", local):
                assert ((site / name).parent / local).resolve().exists(), f"{name} links to {href}, which is missing"


# In the browser ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(site):
    """The built site on a loopback HTTP server, as `python -m http.server -d _site` serves it."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def reader(served):
    """A Chromium page that can reach the site and nothing else: every request to another host is refused, and
    recorded in ``reader.elsewhere``."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        elsewhere = []

        def route(route):
            if route.request.url.startswith(served + "/"):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.elsewhere, page.base = elsewhere, served
        yield page
        browser.close()


@pytest.fixture(scope="module")
def axe_findings():
    findings = {}
    yield findings
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe-book.json").write_text(json.dumps(findings, indent=1))


def open_page(reader, name):
    reader.goto(f"{reader.base}/{name}")
    if reader.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
        reader.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        reader.evaluate("() => MathJax.startup.promise")


@pytest.mark.browser
@pytest.mark.parametrize("name", PAGES)
def test_page_reads_offline_and_passes_axe(reader, axe_findings, name):
    open_page(reader, name)
    # Maths: every formula typeset by the site's own MathJax, none left as TeX or as a MathJax error.
    state = reader.evaluate("""() => ({
        formulas: document.querySelectorAll('.math').length,
        typeset: document.querySelectorAll('.math mjx-container').length,
        errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent),
        raw: (document.querySelector('main').innerText.match(/\\$\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/g) || []).length,
        images: Array.from(document.querySelectorAll('main img')).map(i => [i.alt, i.complete && i.naturalWidth > 0]),
        headings: Array.from(document.querySelectorAll('article h1, article h2, article h3, article h4, article h5'))
                  .map(h => Number(h.tagName[1])),
    })""")
    assert state["typeset"] == state["formulas"], f"{name}: {state['formulas'] - state['typeset']} formulas not typeset"
    assert not state["errors"], f"{name}: MathJax errors {state['errors'][:3]}"
    assert state["raw"] == 0, f"{name}: TeX left on the page"
    assert all(alt and alt.strip() for alt, _ in state["images"]), f"{name}: an image without alt text"
    assert all(loaded for _, loaded in state["images"]), f"{name}: an image did not load"
    headings = state["headings"]
    assert headings[:1] == [1] and headings.count(1) == 1, f"{name}: not one h1 first: {headings[:5]}"
    assert all(b <= a + 1 for a, b in zip(headings, headings[1:])), f"{name}: a heading level is skipped"
    assert not reader.elsewhere, f"{name} asked other hosts for {reader.elsewhere}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    reader.screenshot(path=str(ARTIFACTS / f"book-{name.replace('/', '-').removesuffix('.html')}.png"))
    # axe-core: no serious or critical WCAG 2.1 AA violation.
    findings = audit(reader)
    axe_findings[name] = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]}
                          for v in findings]
    grave = [f"{v['id']} ({v['impact']}): {v['help']}, e.g. {v['nodes'][0]['target']}" for v in findings
             if v["impact"] in ("serious", "critical")]
    assert not grave, f"{name}: axe reports " + "; ".join(grave)


# A chapter's code holds about 10,000 highlighted tokens in a handful of styles, and axe's colour-contrast check
# costs about a millisecond per element (20 s a chapter). Before the audit, every token whose style (colour,
# background, size, weight, opacity, and its block's background) an earlier token already has becomes plain text
# of its block, so axe still checks every style of text on the page, once; test_the_audit_sees_a_low_contrast_token
# shows that a badly coloured token is still found.
ONE_TOKEN_PER_STYLE = """() => {
  const tokens = Array.from(document.querySelectorAll('.highlight pre span'));
  const seen = new Set();
  const first = tokens.map(token => {
    const s = getComputedStyle(token), block = getComputedStyle(token.closest('pre'));
    const style = [s.color, s.backgroundColor, s.fontSize, s.fontWeight, s.opacity, block.backgroundColor].join('|');
    return seen.has(style) ? false : (seen.add(style), true);
  });
  tokens.forEach((token, i) => { if (!first[i]) token.replaceWith(token.textContent); });
  return seen.size;
}"""


# A chapter's formulas are about 15,000 of its 18,000 elements, MathJax's (mjx-*), and axe's rules see only the
# containers' attributes and the assistive MathML: colour contrast is not checked inside a formula at all (glyphs are
# CSS content; a formula recoloured light grey is not reported). Before the audit, every formula whose kind (inline or
# display, its attributes and their values, numbers aside) an earlier formula already
# has becomes the text of its assistive MathML, so each kind of formula is audited once (the typesetting of every
# formula is checked before, in test_page_reads_offline_and_passes_axe); test_the_audit_sees_a_faulty_formula shows a
# later formula with a wrong attribute is still found.
ONE_FORMULA_PER_KIND = """() => {
  const seen = new Set();
  for (const formula of Array.from(document.querySelectorAll('mjx-container'))) {
    const mml = formula.querySelector('mjx-assistive-mml');
    const kind = Array.from(formula.attributes).map(a => a.name + '=' + a.value.replace(/[0-9.]+/g, '#')).sort()
                 .join('|');
    if (seen.has(kind)) formula.replaceWith(mml ? mml.textContent : '');
    else seen.add(kind);
  }
  return seen.size;
}"""


def audit(reader) -> list[dict]:
    """axe-core's WCAG 2.1 AA violations on the page (after ONE_TOKEN_PER_STYLE and ONE_FORMULA_PER_KIND: the page
    is changed)."""
    from axe_playwright_python.sync_playwright import Axe

    reader.evaluate(ONE_TOKEN_PER_STYLE)
    reader.evaluate(ONE_FORMULA_PER_KIND)
    # Only violations get their nodes' selectors computed, which also saves time.
    result = Axe().run(reader, options={"runOnly": {"type": "tag", "values": WCAG_21_AA},
                                        "resultTypes": ["violations"], "selectors": False}).response
    assert result["passes"], "axe ran no check"
    return result["violations"]


@pytest.mark.browser
def test_the_audit_sees_a_low_contrast_token(reader):
    """The audit's shortcut keeps what it must find: keywords coloured light grey on the code's background
    (contrast about 1.3:1; WCAG AA asks 4.5:1) in an exercise's code are reported as a colour-contrast violation."""
    open_page(reader, "exercises/a01/a01.html")
    assert reader.locator(".highlight pre .k").count() > 1, "a01's code shows no keyword to recolour"
    reader.add_style_tag(content=".highlight .k { color: #e0e0e0 !important; }")
    found = {v["id"]: v["impact"] for v in audit(reader)}
    assert found.get("color-contrast") == "serious", f"axe did not see the grey keywords: {found}"


@pytest.mark.browser
def test_the_audit_sees_a_faulty_formula(reader):
    """The formula shortcut keeps what it must find: the last visible formula of chapter 01 given the role of a slider
    without its required ARIA attributes is reported (aria-required-attr, critical), though it was of the kind of the
    formulas before it."""
    open_page(reader, "notebooks/01_q_function.html")
    kinds = reader.evaluate(ONE_FORMULA_PER_KIND.replace("formula.replaceWith", "void"))
    assert reader.locator("mjx-container").count() > 10 * kinds, "chapter 01's formulas are not mostly of a few kinds"
    reader.evaluate("""() => Array.from(document.querySelectorAll('article mjx-container'))
                             .filter(f => f.getClientRects().length).pop().setAttribute('role', 'slider')""")
    found = {v["id"]: v["impact"] for v in audit(reader)}
    assert found.get("aria-required-attr") == "critical", f"axe did not see the faulty formula: {found}"


@pytest.mark.browser
def test_the_sidebar_and_the_next_button_lead_through_the_chapters(reader):
    open_page(reader, "intro.html")
    reader.locator("nav.bd-docs-nav a", has_text="03 · Baum-Welch").click()
    reader.wait_for_url("**/notebooks/03_baum_welch.html")
    assert reader.locator("main h1").first.inner_text().startswith("03 · Baum-Welch")
    reader.locator("a.right-next").click()
    reader.wait_for_url("**/notebooks/04_map_em.html")
    reader.locator("a.left-prev").click()
    reader.wait_for_url("**/notebooks/03_baum_welch.html")


@pytest.mark.browser
def test_the_keyboard_alone_reaches_the_content_and_search_finds_baum_welch_in_chapter_03(reader):
    open_page(reader, "notebooks/01_q_function.html")
    reader.keyboard.press("Tab")
    assert reader.evaluate("() => document.activeElement.textContent.trim()") == "Skip to main content"
    # Tab on, past the header, until the sidebar's link to chapter 02 has the focus (with a visible outline).
    for _ in range(40):
        reader.keyboard.press("Tab")
        focused = ("() => (document.activeElement.getAttribute('href') || '').endsWith('02_gaussian_mixtures.html')"
                   " && !!document.activeElement.closest('nav.bd-docs-nav')")
        if reader.evaluate(focused):
            break
    else:
        pytest.fail("40 presses of Tab never reached the sidebar's link to chapter 02")
    ring = reader.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                           "return s.outlineStyle !== 'none' || s.boxShadow !== 'none' }")
    assert ring, "the focused link shows no focus ring (outline or box shadow)"
    reader.keyboard.press("Enter")
    reader.wait_for_url("**/notebooks/02_gaussian_mixtures.html")
    # On the new page the skip link takes the focus past the header and the sidebar to the chapter itself.
    reader.keyboard.press("Tab")
    reader.keyboard.press("Enter")
    reader.keyboard.press("Tab")
    assert reader.evaluate("() => !!document.activeElement.closest('#main-content')"), \
        "after the skip link, Tab does not move into the chapter"
    # Search from the keyboard: Ctrl+K opens the search box; Enter shows the results.
    reader.keyboard.press("Control+k")
    reader.keyboard.type("Baum-Welch")
    reader.keyboard.press("Enter")
    reader.wait_for_url("**/search.html?q=Baum-Welch*")
    results = reader.locator("#search-results ul.search li a")
    results.first.wait_for()
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any("notebooks/03_baum_welch.html" in h for h in hrefs), f"searching Baum-Welch found {hrefs}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    reader.screenshot(path=str(ARTIFACTS / "book-search-baum-welch.png"))
    assert not reader.elsewhere, f"the search asked other hosts for {reader.elsewhere}"


def test_the_readme_site_command_is_what_this_module_builds_and_serves():
    """The README's command (pip install -r requirements-site.txt && python book/build.py && python -m http.server
    -d _site) is what the fixtures do: ``site_venv`` installs requirements-site.txt with that pip command, ``site``
    runs book/build.py (adding --executed, so that the chapters are not run twice, and the example repository and
    hub), ``served`` serves the folder as http.server does; book/build.py writes to _site by default."""
    readme = (ROOT / "README.md").read_text()
    marker = readme.index("<!-- site-command -->")
    line = next(l for l in readme[marker:].splitlines()[1:] if l.strip() and not l.startswith("```"))
    install, build, serve = [part.strip() for part in line.split("#")[0].split("&&")]
    assert install == "pip install -r requirements-site.txt"
    assert build == "python book/build.py"
    assert serve == "python -m http.server -d _site"
    run = subprocess.run([str(student_env.venv_python(student_env.student_venv())), str(ROOT / "book" / "build.py"),
                          "--help"], capture_output=True, text=True, check=True)
    assert "(default: _site)" in run.stdout


def test_the_build_runs_a_chapter_itself_when_not_given_it_executed():
    """Without --executed, book/build.py runs each chapter in a fresh kernel (the README's command does): shown on
    chapter 00 (two seconds), in the student's environment."""
    venv = student_env.student_venv()
    code = ("import pathlib, sys; sys.path.insert(0, 'book'); import build; "
            "runs = build.executed_chapters([pathlib.Path('notebooks/00_start_here.ipynb').resolve()], None, 1); "
            "(notebook, seconds, error), = runs.values(); "
            "outputs = sum(len(c.outputs) for c in notebook.cells if c.cell_type == 'code'); "
            "print(error, outputs, seconds > 0)")
    run = subprocess.run([str(student_env.venv_python(venv)), "-c", code], cwd=ROOT,
                         env=student_env.student_environ(venv), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    error, outputs, timed = run.stdout.split()
    assert error == "None" and int(outputs) > 0 and timed == "True", run.stdout
