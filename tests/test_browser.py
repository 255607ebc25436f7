"""The course as a reader meets it: JupyterLab in headless Chromium, on a real server.

A session fixture copies the course (its tracked files, as a fresh clone has them) to a temporary folder and opens
it with the README's command (``jupyter lab ... notebooks/00_start_here.ipynb``) from the student's environment
(the venv of requirements.txt alone, tests/student_env.py), on loopback with a token; the first test follows the
address that command opens, lands on chapter 00 and clicks every link in it. Playwright for Python drives Debian's
``chromium``
(launched from /usr/bin/chromium: nothing here downloads a browser). For every lecture notebook the test runs
all cells, waits for the kernel to go idle, checks that no cell shows an error (on screen and in the saved
file), moves the slider of every interactive explorer it displays and checks that the figure changed.
Another test opens an exercise and finds nbgrader's tools; the last one loads the instructor's formgrader.

Screenshots go to $EM_BROWSER_ARTIFACTS (default tests/artifacts/, gitignored) as browser-<notebook>.png.
Without Chromium or Playwright every test here is skipped with a reason saying how to install them; with CI set
(as .ci/run runs, after installing Chromium) they fail instead, so that CI never passes with them skipped.

Run: ``python -m pytest -m browser tests/test_browser.py`` (``-s`` prints what each test saw).
"""
import json
import os
import pathlib
import re
import secrets
import shlex
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

import student_env
from browser_env import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*/*.ipynb"))
RUN_TIMEOUT = 240  # seconds for "Run All Cells" in one notebook (each runs in well under a minute headless)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
ERROR_LINE = re.compile(r"[\w.]*(Error|Exception|Interrupt|Exit)\b")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readme_open_command() -> list[str]:
    """The `jupyter lab ...` part of the README's command that installs and opens the course."""
    readme = (ROOT / "README.md").read_text()
    marker = readme.index("<!-- open-command -->")
    line = next(l for l in readme[marker:].splitlines()[1:] if l.strip() and not l.startswith("```"))
    command = line.split("&&")[-1].strip()
    assert command.startswith("jupyter lab"), f"the README's open command does not end in `jupyter lab`: {line}"
    return shlex.split(command)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab started by the README's command in a copy of the course, from the student's venv, on 127.0.0.1;
    yields (base_url, token, root_dir, landing) where landing is the address the command opens in a browser."""
    require_browser()
    venv = student_env.student_venv()
    base = tmp_path_factory.mktemp("lab")
    course = student_env.copy_course(base / "course")
    settings = base / "settings"
    # JupyterLab asks in a toast whether to fetch Jupyter news; answer no so that it stays out of the screenshots.
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false"}))
    # Our own config/data/runtime folders keep the user's ~/.jupyter out; the student venv's own
    # sys.prefix/etc/jupyter (which enables nbgrader's server extensions) and share/jupyter (the lab extensions
    # and the python3 kernel) are still found, and the tests check that nbgrader's tools are there. The venv's
    # bin/ goes first on PATH, as in the activated virtualenv of the README: the formgrader runs nbgrader's
    # database migrations with the `alembic` command.
    env = student_env.student_environ(
        venv, JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"), IPYTHONDIR=str(base / "ipython"))
    port, token = _free_port(), secrets.token_hex(16)
    log = open(base / "server.log", "w")
    server = subprocess.Popen(
        readme_open_command() + [
            "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
            f"--LabApp.user_settings_dir={settings}"],
        cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start (exit code {server.poll()}); its log:\n"
                            + (base / "server.log").read_text()[-3000:])
            time.sleep(0.25)
        # The page the command opens in the browser (the server writes it before it answers /api/status).
        opened = list((base / "runtime").glob("jpserver-file-to-run-*-open.html"))
        assert opened, "the README's command did not ask the browser to open a file"
        address = re.search(r'url=([^"]+)"', opened[0].read_text()).group(1)
        parts = urllib.parse.urlsplit(address)
        landing = f"{url}{parts.path}?{parts.query}"
        yield url, token, course, landing
    finally:
        server.send_signal(signal.SIGTERM)  # stops the server and its kernels
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the process group this fixture started
            server.wait()
        log.close()


@pytest.fixture(scope="module")  # ended with this module: other tests on this worker start Playwright of their own
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
    # Shut down the kernels this test started, so that they do not pile up over the session.
    url, token, *_ = lab
    with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=10) as response:
        sessions = json.load(response)
    for session in sessions:
        request = urllib.request.Request(f"{url}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def _screenshot(target, name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"browser-{name}.png"
    target.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path.name


def _open_notebook(page, lab, relative: str):
    url, token, *_ = lab
    page.goto(f"{url}/lab/tree/{relative}?token={token}&reset")
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=60_000)
    _wait_idle(page, 60)


def _wait_idle(page, timeout: float):
    """Wait until the kernel is idle and no cell is queued or running ("[*]"), twice in a row 0.5 s apart
    (the kernel is idle for an instant between the cells of "Run All")."""
    deadline = time.monotonic() + timeout
    settled = 0
    while settled < 2:
        state = page.evaluate(f"""() => {{
            const panel = document.querySelector('{PANEL}');
            const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
            const prompts = [...panel.querySelectorAll('.jp-InputArea-prompt')].map(p => p.textContent.trim());
            return {{status: indicator && indicator.getAttribute('data-status'),
                     running: prompts.filter(p => p.includes('*')).length}};
        }}""")
        settled = settled + 1 if state["status"] == "idle" and state["running"] == 0 else 0
        if time.monotonic() > deadline:
            pytest.fail(f"the kernel did not go idle within {timeout} s: {state}")
        time.sleep(0.5)


def _menu(page, menu: str, item: str):
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel").get_by_text(item, exact=True).first.click()


def _saved_notebook(page, lab, relative: str) -> dict:
    """Save the open notebook (Ctrl+S) and read the file the server wrote."""
    path = lab[2] / relative
    before = path.stat().st_mtime_ns
    page.locator(f"{PANEL} .jp-Notebook").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    # Saved when JupyterLab no longer marks the tab dirty (the server answered the save) and the file changed;
    # the server writes atomically (a temporary file renamed), so the file is then complete.
    tab = page.locator(".lm-DockPanel .lm-TabBar-tab.lm-mod-current")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime_ns == before or "jp-mod-dirty" in (tab.first.get_attribute("class") or ""):
        if time.monotonic() > deadline:
            pytest.fail(f"{relative} was not saved within 30 s of Ctrl+S")
        time.sleep(0.2)
    return json.loads(path.read_text())


def _explorers(page):
    """The interactive explorers on screen: widget views holding a slider and an Output widget."""
    return page.locator(f"{PANEL} .jp-OutputArea-output").filter(
        has=page.locator(".noUi-handle[role=slider]")).filter(has=page.locator(".widget-output"))


def _move_slider_and_compare(page, explorer, name: str) -> dict:
    slider = explorer.locator(".widget-slider").filter(has=explorer.page.locator(".noUi-handle[role=slider]")).first
    handle = slider.locator(".noUi-handle[role=slider]")
    image = explorer.locator(".widget-output img").first
    image.wait_for(state="visible", timeout=60_000)
    explorer.scroll_into_view_if_needed()

    def reading():  # the readout (aria-valuenow is rounded to one decimal, and is the exponent of a log slider)
        readout = slider.locator(".widget-readout")
        return readout.first.text_content().strip() if readout.count() else handle.get_attribute("aria-valuenow")

    before, src = reading(), image.get_attribute("src")
    handle.focus()
    for key in ("PageUp", "PageDown"):  # PageDown in case the slider starts at its maximum
        handle.press(key)
        if reading() != before:
            break
    moved = reading()
    assert moved != before, f"{name}: the slider did not move from {before} with PageUp or PageDown"
    deadline = time.monotonic() + 60
    while (new_src := image.get_attribute("src")) == src:
        if time.monotonic() > deadline:
            pytest.fail(f"{name}: the slider moved from {before} to {moved} but the figure did not change in 60 s")
        time.sleep(0.25)
    _wait_idle(page, 60)
    new_src = explorer.locator(".widget-output img").first.get_attribute("src")
    assert new_src != src and new_src.startswith("data:image/png")
    return {"slider": f"{before} -> {moved}", "shot": _screenshot(explorer, f"{name}-widget")}


def test_there_are_lecture_notebooks_to_open():
    assert NOTEBOOKS and EXERCISES


def _wait_for_tab(page, label: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    def current():
        tabs = page.locator(".lm-DockPanel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel").all_text_contents()
        return [tab.strip() for tab in tabs]

    while label not in current():
        dialog = page.locator(".jp-Dialog")
        if dialog.count():
            pytest.fail(f"opening {label} showed a dialog: {dialog.first.inner_text()[:500]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{label} did not open within {timeout} s; current tabs: {current()}")
        time.sleep(0.2)


def test_the_readme_command_opens_the_course_at_chapter_00_and_its_links_work(page, lab):
    url, token, course, landing = lab
    assert urllib.parse.urlsplit(landing).path == "/lab/tree/notebooks/00_start_here.ipynb", landing
    page.goto(landing)
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=60_000)
    _wait_for_tab(page, "00_start_here.ipynb")
    # The file browser opens in notebooks/, and one level up (its home, the server's root) is the course folder
    # itself, so the exercises and the guides can be reached.
    page.locator(".jp-DirListing-item").first.wait_for()
    page.locator(".jp-BreadCrumbs-home").first.click()
    deadline = time.monotonic() + 30
    while not {"notebooks", "exercises", "docs"} <= (listing := {
            t.strip() for t in page.locator(".jp-DirListing-itemText").all_text_contents()}):
        if time.monotonic() > deadline:
            pytest.fail(f"the file browser's home shows {sorted(listing)}, not the course folder")
        time.sleep(0.2)
    # Every course file chapter 00 links to opens in JupyterLab (no "could not open" dialog). JupyterLab
    # renders a relative link as /files/<path from the root>?_xsrf=...; a click opens the document in a tab.
    links = page.locator(f"{PANEL} .jp-RenderedMarkdown a[href*='/files/']")
    page.locator(".lm-DockPanel .lm-TabBar-tab", has_text="00_start_here.ipynb").first.click()
    deadline = time.monotonic() + 60  # the markdown cells render after the notebook panel appears
    while links.count() < 2 + len(EXERCISES):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    paths = [urllib.parse.unquote(urllib.parse.urlsplit(h).path.split("/files/", 1)[1]) for h in hrefs]
    expected = {"docs/instructor.md", "docs/student.md", "notebooks/01_q_function.ipynb"} | {
        p.relative_to(ROOT).as_posix() for p in EXERCISES}
    assert expected <= set(paths), f"chapter 00 does not link to {sorted(expected - set(paths))}"
    opened = []
    for index, path in enumerate(paths):
        assert (course / path).is_file(), f"chapter 00 links to {path}, which is not in the course"
        if path in opened:  # the notation table links the same chapters again, to their equations: open each once
            continue
        page.locator(".lm-DockPanel .lm-TabBar-tab", has_text="00_start_here.ipynb").first.click()
        link = links.nth(index)
        link.scroll_into_view_if_needed()
        link.click()
        _wait_for_tab(page, pathlib.PurePosixPath(path).name)
        opened.append(path)
    shot = _screenshot(page, "front-door")
    print(f"the README's command opens {urllib.parse.urlsplit(landing).path}; file browser: {sorted(listing)}; "
          f"links clicked and opened: {opened}; screenshot {shot}")


EXPLORING = [p for p in NOTEBOOKS if student_env.explorers_displayed(p)]


def _maths_typeset(page, name: str) -> int:
    """Wait until JupyterLab's MathJax has typeset the open notebook's markdown (the count of formulas stays the
    same for a second), and check that no formula is a MathJax error; returns the count."""
    deadline, counts = time.monotonic() + 30, []
    while len(counts) < 3 or len(set(counts[-3:])) > 1 or not counts[-1]:
        counts.append(page.locator(f"{PANEL} .jp-RenderedMarkdown mjx-container").count())
        if time.monotonic() > deadline:
            pytest.fail(f"{name}: JupyterLab did not finish typesetting the maths ({counts[-1]} formulas)")
        time.sleep(0.5)
    errors = page.locator(f"{PANEL} .jp-RenderedMarkdown mjx-merror").all_text_contents()
    assert not errors, f"{name}: MathJax errors in JupyterLab: {errors[:3]}"
    return counts[-1]


@pytest.mark.parametrize("notebook", [p for p in NOTEBOOKS if p not in EXPLORING], ids=lambda p: p.stem)
def test_lecture_notebook_without_an_explorer_renders_in_jupyterlab(page, lab, notebook):
    """A chapter without an explorer has nothing that needs JupyterLab's kernel beyond what the student's
    environment runs headless (tests/test_notebooks.py): opened here, its maths typesets without an error."""
    relative = f"notebooks/{notebook.name}"
    _open_notebook(page, lab, relative)
    formulas = _maths_typeset(page, notebook.name)
    shot = _screenshot(page, notebook.stem)
    if notebook.stem == "00_start_here":  # the smallest chapter: axe takes seconds per thousand elements
        _record_axe(page, notebook.stem)
    print(f"{notebook.name}: {formulas} formulas typeset in JupyterLab, screenshot {shot}")


@pytest.mark.parametrize("notebook", EXPLORING, ids=lambda p: p.stem)
def test_lecture_notebook_with_an_explorer_runs_in_jupyterlab(page, lab, notebook):
    relative = f"notebooks/{notebook.name}"
    start = time.perf_counter()
    _open_notebook(page, lab, relative)
    _maths_typeset(page, notebook.name)
    _menu(page, "Run", "Run All Cells")
    _wait_idle(page, RUN_TIMEOUT)
    seconds = time.perf_counter() - start

    # On screen: every code cell has run (Run All stops at the first error and leaves the rest unnumbered) ...
    # (textContent, not innerText: JupyterLab does not lay out the cells scrolled out of view.)
    prompts = page.locator(f"{PANEL} .jp-CodeCell .jp-InputArea-prompt").all_text_contents()
    unrun = [i for i, p in enumerate(prompts) if not any(ch.isdigit() for ch in p)]
    # JupyterLab shows an error as stderr text (like a warning) whose last line is "SomeError: message".
    stderr = page.locator(f"{PANEL} [data-mime-type='application/vnd.jupyter.stderr']").all_text_contents()
    shown_errors = [text for text in stderr if ERROR_LINE.match(text.strip().splitlines()[-1] if text.strip() else "")]
    assert not shown_errors, f"{notebook.name} shows an error:\n" + shown_errors[0][-2000:]
    assert prompts and not unrun, f"{notebook.name}: code cells {unrun} did not run"

    # ... and in the file JupyterLab saved: no error output, every code cell executed.
    saved = _saved_notebook(page, lab, relative)
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"{notebook.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    assert len(code) == len(prompts) and all(c.get("execution_count") for c in code)
    images = page.locator(f"{PANEL} .jp-OutputArea-output img").count()
    shot = _screenshot(page, notebook.stem)

    # Every explorer the notebook displays (a widget view in its outputs) is on screen and reacts to its slider.
    displayed = sum(WIDGET_VIEW in o.get("data", {}) for c in code for o in c.get("outputs", []))
    explorers = _explorers(page)
    assert explorers.count() >= (1 if displayed else 0), (
        f"{notebook.name} displays {displayed} widgets but none shows a slider over a figure: did the widget "
        "manager load (@jupyter-widgets/jupyterlab-manager)?")
    moved = [_move_slider_and_compare(page, explorers.nth(i), notebook.stem if i == 0 else f"{notebook.stem}-{i}")
             for i in range(explorers.count())]
    if moved:
        assert _saved_notebook(page, lab, relative)  # the notebook still saves after the redraws
    print(f"{notebook.name}: {len(code)} code cells run in {seconds:.1f} s, no error, {images} images on screen, "
          f"screenshot {shot}; widgets displayed: {displayed}; sliders moved, figure changed: {moved}")


def _record_axe(page, name):
    """What axe-core (WCAG 2.1 AA) reports on a run chapter in JupyterLab, written to tests/artifacts/axe-jupyterlab-
    NAME.json and printed: a record, not a requirement (the violations are JupyterLab's own, and its figures carry no
    alt text: JupyterLab does not read the cell metadata that gives the book its alt texts)."""
    from axe_playwright_python.sync_playwright import Axe

    wcag_21_aa = {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
    result = Axe().run(page, options={"runOnly": wcag_21_aa, "resultTypes": ["violations"]}).response
    assert result["passes"], "axe ran no check in JupyterLab"
    found = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"],
              "example": v["nodes"][0]["target"]} for v in result["violations"]]
    images = page.evaluate(f"() => Array.from(document.querySelectorAll('{PANEL} .jp-OutputArea-output img'))"
                           ".map(i => i.alt || '')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-jupyterlab-{name}.json").write_text(json.dumps(
        {"violations": found, "figures": len(images), "figures_with_alt": sum(bool(a) for a in images)}, indent=1))
    print(f"axe in JupyterLab on {name}: " + ", ".join(f"{v['id']} ({v['impact']}, {v['nodes']})" for v in found)
          + f"; {sum(bool(a) for a in images)} of {len(images)} figures with alt text")


def test_exercise_shows_nbgrader_tools(page, lab):
    exercise = EXERCISES[0]
    relative = exercise.relative_to(ROOT).as_posix()
    _open_notebook(page, lab, relative)
    # The Nbgrader menu with the student's and the instructor's entries ...
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    entries = page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel").all_inner_texts()
    assert {"Assignment List", "Formgrader"} <= set(entries), f"the Nbgrader menu holds {entries}"
    page.keyboard.press("Escape")
    # ... and the Validate button, which runs nbgrader validate on the untouched exercise: its parts fail.
    validate = page.locator(f"{PANEL} .jp-Toolbar").get_by_role("button", name="Validate")
    validate.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=60_000)
    page.wait_for_function("() => !document.querySelector('.jp-Dialog').innerText.includes('Validating')",
                           timeout=60_000)
    text = dialog.inner_text()
    shot = _screenshot(page, f"exercise-{exercise.stem}-validate")
    assert "NotImplementedError" in text or "failed" in text.lower(), f"the Validate dialog says:\n{text[:2000]}"
    print(f"{exercise.name}: Nbgrader menu {entries}; Validate dialog: {text[:200]!r}; screenshot {shot}")


def test_formgrader_lists_the_assignments(page, lab):
    url, token, *_ = lab
    page.goto(f"{url}/formgrader?token={token}")
    page.wait_for_url("**/formgrader/manage_assignments**")
    assignments = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    for name in assignments:
        page.get_by_text(name, exact=True).first.wait_for(timeout=30_000)
    shot = _screenshot(page, "formgrader")
    print(f"formgrader at {page.url.split('?')[0]} lists {assignments}; screenshot {shot}")
