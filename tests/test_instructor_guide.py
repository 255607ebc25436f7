"""The instructor guide is executable: every command block of docs/instructor.md runs as written, in order.

On a copy of the course as a fresh clone has it, in the environment of the README's quick start (the student's
venv of requirements.txt, tests/student_env.py), with a temporary $HOME: one student on the same machine, the
instructor being the same Unix user. Where the guide says the student works, the test hands in an answer with a
real mistake (the first mutant of a02), so that the whole cycle is seen: release, fetch, validate, submit, collect,
autograde, feedback, release feedback, fetch feedback, export. Then the feedback page the student fetched is opened
in headless Chromium with every request to the network blocked: its maths is typeset, and the failure message,
hint included, is on screen.
"""
from __future__ import annotations

import csv
import re
import subprocess

import nbformat
import pytest

import student_env
from browser_env import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require_browser
from assignment_cases import CASES
from grading import nbgrader_meta, one_line

pytestmark = [pytest.mark.nbgrader, pytest.mark.xdist_group("instructor-guide")]

ROOT = student_env.ROOT
GUIDE = ROOT / "docs" / "instructor.md"
STUDENT_WORKS = "<!-- guide-test: the student answers a02 here -->"
MUTANT = CASES["a02"].mutants[0]


def command_blocks(text: str) -> list[tuple[str, str]]:
    """(the prose before it, the commands) of every ```sh block of the guide, in order."""
    blocks, last = [], 0
    for match in re.finditer(r"^```sh\n(.*?)^```$", text, re.S | re.M):
        blocks.append((text[last:match.start()], match.group(1)))
        last = match.end()
    return blocks


def answer(fetched, home) -> None:
    """What the student does in JupyterLab: fill in the fetched notebook (with a real mistake) and save it."""
    path = home / "coursework" / "a02" / "a02.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    answers = MUTANT.answers("a02")
    for cell in notebook.cells:
        if nbgrader_meta(cell).get("grade_id") in answers:
            cell.source = answers[nbgrader_meta(cell)["grade_id"]]
    nbformat.write(notebook, str(path))
    fetched.append(path)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """Run the guide; returns (course folder, home folder, {block index: completed process})."""
    venv = student_env.student_venv()
    base = tmp_path_factory.mktemp("guide")
    course, home = base / "course", base / "home"
    home.mkdir()
    student_env.copy_course(course, git=True)
    env = student_env.student_environ(venv, HOME=str(home))
    for name in [k for k in env if k.startswith("JUPYTER_") or k == "IPYTHONDIR"]:
        del env[name]  # the guide's ~/.jupyter must be the one found
    runs, fetched = {}, []
    blocks = command_blocks(GUIDE.read_text())
    assert any(STUDENT_WORKS in prose for prose, _ in blocks), f"the guide lost the marker {STUDENT_WORKS}"
    for index, (prose, commands) in enumerate(blocks):
        if STUDENT_WORKS in prose:
            answer(fetched, home)
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=course, env=env, capture_output=True,
                             text=True, timeout=900)
        print(f"--- block {index}:\n{commands}--> exit {run.returncode}\n{run.stdout[-1500:]}{run.stderr[-1500:]}")
        assert run.returncode == 0, (f"docs/instructor.md, block {index}, failed with exit {run.returncode}:\n"
                                     f"{commands}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        runs[index] = run
    assert fetched, "the guide's blocks never reached the student's work"
    return course, home, runs


def output_of(runs, word: str) -> str:
    found = [r.stdout + r.stderr for i, r in runs.items() if word in r.args[-1]]
    assert found, f"no block of the guide runs `{word}`"
    return "\n".join(found)


def test_every_command_block_runs_as_written(cycle):
    course, home, runs = cycle
    assert len(runs) == len(command_blocks(GUIDE.read_text())) >= 8


def test_validate_shows_the_whole_failure_message_with_its_hint(cycle):
    _, _, runs = cycle
    validate = one_line(output_of(runs, "nbgrader validate"))
    assert re.search(MUTANT.message, validate), validate[-3000:]
    assert "Hint:" in validate


def test_the_grades_reach_the_export(cycle):
    course, _, _ = cycle
    rows = list(csv.DictReader(open(course / "grades.csv")))
    mine = [r for r in rows if r["assignment"] == "a02"]
    assert len(mine) == 1, rows
    points = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
              for c in nbformat.read(str(ROOT / "solutions" / "a02" / "a02.ipynb"), as_version=4).cells
              if nbgrader_meta(c).get("grade")}
    lost = points[MUTANT.catches]
    assert float(mine[0]["max_score"]) == sum(points.values())
    assert 0 < float(mine[0]["score"]) <= sum(points.values()) - lost, mine[0]


def test_the_fetched_feedback_reads_offline_with_maths_and_the_whole_message(cycle, tmp_path):
    _, home, _ = cycle
    pages = sorted((home / "coursework" / "a02" / "feedback").glob("*/a02.html"))
    assert len(pages) == 1, "fetch_feedback brought no feedback page"
    text = pages[0].read_text()
    assert "<script src=\"http" not in text and "cdnjs" not in text, "the feedback page loads a script from the web"
    require_browser()
    from playwright.sync_api import sync_playwright

    blocked = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.route("**/*", lambda route: (blocked.append(route.request.url), route.abort())
                   if not route.request.url.startswith(("file:", "data:")) else route.continue_())
        page.goto(pages[0].as_uri())
        page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=60_000)
        typeset = page.locator("mjx-container").count()
        raw = page.evaluate("""() => [...document.querySelectorAll('.text_cell_render')]
            .map(e => e.innerText).filter(t => /\\$[^$]+\\$|\\\\\\(|\\\\\\[/.test(t))""")
        message = page.locator("pre", has_text="Hint:").first
        message.scroll_into_view_if_needed()
        fits = message.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
        box, width = message.bounding_box(), page.viewport_size["width"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        message.screenshot(path=str(ARTIFACTS / "feedback-a02-message.png"))
        page.screenshot(path=str(ARTIFACTS / "feedback-a02.png"))
        shown = one_line(message.inner_text())
        browser.close()
    print(f"feedback page: {typeset} formulas typeset offline, blocked requests {blocked}, message: {shown[:300]}")
    assert not raw, f"TeX left untypeset: {raw[:3]}"
    assert fits and box["x"] + box["width"] <= width, "the failure message runs off the page"
    assert re.search(MUTANT.message, shown), shown
