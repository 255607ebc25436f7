"""A class on a real JupyterHub, as docs/jupyterhub.md sets it up: every shell block of the guide, run as written.

The test extracts the ```sh blocks of docs/jupyterhub.md and runs them in order with bash (``set -euo pipefail``),
as root, from a fresh clone of the course (its git-tracked files as they are in the work tree); a block marked
``<!-- hub-test: NAME as USER -->`` runs as that user in a login shell (``runuser -l USER``), one marked
``<!-- hub-test: skip ... -->`` is not run, and the block marked ``start-hub`` is started in the background on
free loopback ports. At the marked steps it does what students do, for real:

- em-student1, in headless Chromium (Playwright, Debian's /usr/bin/chromium), logs in with its PAM password,
  fetches a02 in Nbgrader > Assignment List, finds no instructor tools in the Nbgrader menu, answers (with a real
  mistake, the first mutant of tests/assignment_cases.py), presses Validate and Submit, and after grading presses
  Fetch Feedback and reads its score and the failure message in the feedback;
- em-student2 runs the guide's command-line blocks; em-student3 runs the same blocks; both answer correctly;
- as the students' Unix accounts it checks that the solutions, the gradebook, other students' homes and the
  exchange's inbound folder are out of reach, and that `emlib` comes from the hub environment;
- after the guide's grading block it reads the instructor's gradebook with nbgrader's API: three students graded,
  the correct ones with 10/10, the mistaken one with less; the instructor's own JupyterLab has the formgrader.

It changes the machine (Unix accounts em-instructor and em-student1..3, /opt/em-course-hub, /srv/nbgrader,
/srv/jupyterhub, /etc/jupyterhub, /etc/profile.d/em-course-hub.sh, /root/em-course-passwords.txt, Debian and npm
packages), so it runs only with CI set (as .ci/run runs) or EM_HUB_TEST=1; it needs root, Chromium and Playwright
(missing ones skip it, or fail it when CI is set). It is idempotent: it wipes the exchange and the test accounts'
home folders first, and the guide's blocks re-run over an existing install.

Screenshots: $EM_BROWSER_ARTIFACTS (default tests/artifacts/) as hub-*.png.
Run: ``CI=true EM_HUB_TEST=1 python -m pytest tests/test_jupyterhub.py -s``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import nbformat
import pytest

from assignment_cases import CASES
from browser_env import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, missing, require_browser
from grading import solution_answers, submission

pytestmark = [pytest.mark.jupyterhub, pytest.mark.xdist_group("jupyterhub")]

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "jupyterhub.md"
HUB_ENV = pathlib.Path("/opt/em-course-hub")
HUB_PYTHON = HUB_ENV / "bin" / "python"
INSTRUCTOR = "em-instructor"
STUDENTS = ["em-student1", "em-student2", "em-student3"]
ACCOUNTS = [INSTRUCTOR, *STUDENTS]
COURSE = pathlib.Path("/home/em-instructor/em-course")
EXCHANGE = pathlib.Path("/srv/nbgrader/exchange")
INBOUND = EXCHANGE / "em-course" / "inbound"
PASSWORDS = pathlib.Path("/root/em-course-passwords.txt")
PROXY_PID_FILE = pathlib.Path("/srv/jupyterhub/jupyterhub-proxy.pid")
ASSIGNMENT = "a02"
MUTANT = CASES[ASSIGNMENT].mutants[0]  # em-student1's mistake: no log-sum-exp in the E step
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
INSTRUCTOR_MENU = {"formgrader", "formgrader (local)", "create assignment", "course list"}
# The guide's blocks the test acts around (it fails if one is renamed away).
STEPS = {"instructor-tools", "start-hub", "release", "student-fetch", "student-submit", "grade", "student-feedback"}
MARKER = re.compile(r"<!--\s*hub-test:\s*(?P<name>[\w-]+)(?:\s+as\s+(?P<user>[\w-]+))?(?:\s*\((?P<why>[^)]*)\))?\s*-->")


@dataclasses.dataclass
class Block:
    code: str
    name: str | None = None  # from the marker comment on the line before the fence
    user: str | None = None  # run as this user (runuser -l); None: as root from the course copy
    line: int = 0

    @property
    def skip(self) -> bool:
        return self.name == "skip"


def guide_blocks(text: str) -> list[Block]:
    """The ```sh blocks of the guide, each with the hub-test marker of the line before its fence."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start, i = i, i + 1
            body = []
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            marker = MARKER.fullmatch(lines[start - 1].strip()) if start else None
            if start and lines[start - 1].strip().startswith("<!--") and not marker:
                raise AssertionError(f"docs/jupyterhub.md line {start}: unreadable marker {lines[start - 1]!r}")
            name, user = (marker["name"], marker["user"]) if marker else (None, None)
            blocks.append(Block("\n".join(body) + "\n", name, user, start + 2))
        i += 1
    return blocks


def test_guide_marks_the_steps_the_test_acts_on():
    """Cheap and always run: the guide has the blocks the class test needs, and skips at most one."""
    blocks = guide_blocks(GUIDE.read_text())
    names = [b.name for b in blocks if b.name]
    assert STEPS <= set(names), f"docs/jupyterhub.md lacks the hub-test blocks {sorted(STEPS - set(names))}"
    assert len([n for n in names if n != "skip"]) == len(set(n for n in names if n != "skip")), names
    assert sum(b.skip for b in blocks) <= 1, "every command the guide tells a user to run must be tested"
    assert all(b.user in (None, *ACCOUNTS) for b in blocks)


# ----------------------------------------------------------------------------------------------------------------
# Running things


def _root_env(**extra) -> dict:
    """The machine's environment as root's shell has it: no virtualenv of the test, Debian's PATH."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_", "IPYTHONDIR", "PYTEST_", "CONDA", "PYENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, "PATH": ROOT_PATH, "HOME": "/root", "LANG": env.get("LANG", "C.UTF-8"), **extra}


def _run(argv, *, cwd=None, env=None, input=None, timeout=600, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"{argv!r} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def _run_block(block: Block, course: pathlib.Path, user: str | None = None) -> float:
    """Run a block of the guide as written (as ``user`` if given, else as the block says); returns its seconds."""
    user = user or block.user
    script = "set -euo pipefail\n" + block.code
    start = time.perf_counter()
    if user:
        result = _run(["runuser", "-l", user, "-c", script], env=_root_env(), check=False)
    else:
        result = _run(["bash", "-c", script], cwd=course, env=_root_env(), check=False)
    seconds = time.perf_counter() - start
    who = user or "root"
    if result.returncode != 0:
        pytest.fail(f"docs/jupyterhub.md block at line {block.line} ({block.name or 'unnamed'}), run as {who}, "
                    f"exited {result.returncode}:\n{block.code}\n--- stdout:\n{result.stdout[-4000:]}\n"
                    f"--- stderr:\n{result.stderr[-4000:]}")
    first = block.code.strip().splitlines()[0]
    print(f"[{seconds:5.1f} s] block line {block.line} as {who}: {first[:90]}"
          + (f" (+{len(block.code.strip().splitlines()) - 1} lines)" if "\n" in block.code.strip() else ""))
    return seconds


def _as_user(user: str, code: str, *, input=None, check=True) -> subprocess.CompletedProcess:
    """Python ``code`` run by the hub environment's interpreter as ``user``, from their home folder."""
    return _run(["runuser", "-u", user, "--", str(HUB_PYTHON), "-c", code], cwd=f"/home/{user}",
                env=_root_env(HOME=f"/home/{user}"), input=input, check=check)


def _write_as(user: str, path: pathlib.Path, text: str):
    """Write a file as ``user`` (so it has their owner and mode, as if they saved it)."""
    _run(["runuser", "-u", user, "--", "tee", str(path)], cwd="/", input=text, env=_root_env())
    assert path.stat().st_uid == pwd.getpwnam(user).pw_uid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _user_pids(users) -> list[int]:
    """Processes of the test's accounts (servers and kernels the hub started for them)."""
    uids = set()
    for user in users:
        try:
            uids.add(pwd.getpwnam(user).pw_uid)
        except KeyError:
            pass
    pids = []
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        try:
            uid_line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if int(uid_line.split()[1]) in uids and "zombie" not in _proc_state(int(status.parent.name)):
            pids.append(int(status.parent.name))
    return pids


def _kill(pids, grace: float = 30):
    """SIGTERM, then SIGKILL to what is still running after ``grace`` seconds (only to processes still alive)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid in pids if "zombie" not in _proc_state(pid)]
        for pid in alive:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any("zombie" not in _proc_state(pid) for pid in alive):
            time.sleep(0.2)


def _proc_state(pid: int) -> str:
    try:
        return next(line for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines()
                    if line.startswith("State:")).lower()
    except (OSError, StopIteration):
        return "zombie"


def _stop_leftovers():
    """The proxy and the users' servers of an earlier run of this test, if anything survived it."""
    try:
        pid = int(PROXY_PID_FILE.read_text().strip())
        if "configurable-http-proxy" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            _kill([pid])
    except (OSError, ValueError):
        pass
    _kill(_user_pids(ACCOUNTS))


def _reset_state():
    """What must start afresh for the class to be re-run on this machine: the exchange, and the test accounts'
    home folders (the instructor's course folder and gradebook, students' fetched assignments and nbgrader caches)."""
    shutil.rmtree(EXCHANGE, ignore_errors=True)
    for user in ACCOUNTS:
        try:
            home = pathlib.Path(pwd.getpwnam(user).pw_dir)
        except KeyError:
            continue
        for child in home.iterdir() if home.is_dir() else []:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()


def _copy_course(dest: pathlib.Path) -> pathlib.Path:
    """A fresh clone of the course as it is now: its git-tracked files (as in the work tree, so uncommitted edits
    are tested too; nothing untracked such as .venv or a gradebook), committed into a new repository."""
    files = _run(["git", "-C", str(ROOT), "ls-files", "-z"]).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git = ["git", "-C", str(dest), "-c", "user.name=test_jupyterhub", "-c", "user.email=test@localhost",
           "-c", "commit.gpgsign=false"]
    _run([*git, "init", "--quiet"])
    _run([*git, "add", "--all"])
    _run([*git, "commit", "--quiet", "--no-verify", "-m", "the course, as the test found it"])
    return dest


class Hub:
    """The guide's start-hub block, started in the background on free loopback ports."""

    def __init__(self, block: Block, course: pathlib.Path, log: pathlib.Path):
        self.port = _free_port()
        ports = {"EM_HUB_PORT": self.port, "EM_HUB_API_PORT": _free_port(), "EM_HUB_PROXY_API_PORT": _free_port()}
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            ["bash", "-c", "set -euo pipefail\n" + block.code], cwd=course,
            env=_root_env(**{k: str(v) for k, v in ports.items()}),
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        print(f"hub: started `{block.code.strip()}` on {self.url} ({ports})")

    def wait_ready(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=5) as response:
                    if response.status == 200:
                        return json.load(response)
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the hub did not answer /hub/api (exit code {self.process.poll()}); its log:\n"
                            + self.tail())
            time.sleep(0.25)

    def tail(self, n: int = 6000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-n:]

    def stop(self):
        """SIGTERM to the hub's process group: the hub stops the users' servers and the proxy."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self.log.close()
        _stop_leftovers()


# ----------------------------------------------------------------------------------------------------------------
# The browser


def _screenshot(page, name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"hub-{name}.png"
    page.screenshot(path=str(path))
    return path.name


def _login(browser, hub: Hub, user: str, password: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    # The hub spawns the user's server (spawn-pending), then redirects to JupyterLab.
    page.wait_for_url(f"**/user/{user}/lab**", timeout=180_000)
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.wait_for(timeout=120_000)
    return context, page


def _nbgrader_menu(page) -> list[str]:
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    entries = page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    return [e.strip() for e in entries if e.strip()]


def _assignment_list(page):
    """Open (or bring forward) Nbgrader > Assignment List and refresh it."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
    page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel").get_by_text("Assignment List", exact=True).click()
    page.locator("#released_assignments_list").wait_for(state="visible")
    page.locator("#refresh_assignments_list:visible").click()


def _wait_row(page, list_id: str, text: str, timeout: float = 120):
    row = page.locator(f"#{list_id} .list_item", has_text=text).first
    row.wait_for(state="visible", timeout=timeout * 1000)
    return row


def _student1_works_and_submits(page, answers_notebook: str, hub: Hub) -> dict:
    """em-student1 in the browser: fetch, check the menu, answer, Validate, Submit."""
    seen = {}
    _assignment_list(page)
    _wait_row(page, "released_assignments_list", ASSIGNMENT).get_by_role("button", name="Fetch").click()
    _wait_row(page, "fetched_assignments_list", ASSIGNMENT)
    seen["fetched"] = _screenshot(page, "student1-fetched")
    fetched = pathlib.Path(f"/home/{STUDENTS[0]}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
    assert fetched.exists() and fetched.stat().st_uid == pwd.getpwnam(STUDENTS[0]).pw_uid

    entries = _nbgrader_menu(page)
    seen["menu"] = entries
    assert "Assignment List" in entries, f"the student's Nbgrader menu holds {entries}"
    assert not INSTRUCTOR_MENU & {e.lower() for e in entries}, f"the student's Nbgrader menu holds {entries}"

    # The student's answer (with a real mistake), saved into the fetched assignment as the student.
    _write_as(STUDENTS[0], fetched, answers_notebook)
    page.goto(f"{hub.url}/user/{STUDENTS[0]}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?reset")
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=120_000)
    page.locator(f"{PANEL} .jp-Toolbar").get_by_role("button", name="Validate").click()
    message = page.locator(".jp-Dialog #validation-message")
    message.wait_for(timeout=180_000)  # the dialog opens with the result
    text = message.inner_text()
    seen["validate"] = _screenshot(page, "student1-validate")
    seen["validate_text"] = text[:300]
    assert "validation-failed" in (message.get_attribute("class") or ""), f"Validate said:\n{text[:2000]}"
    assert re.search(MUTANT.message, text, re.S), f"Validate does not show the mistake's message:\n{text[:3000]}"
    page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()

    _assignment_list(page)
    _wait_row(page, "fetched_assignments_list", ASSIGNMENT).get_by_role("button", name="Submit").click()
    _wait_row(page, "submitted_assignments_list", ASSIGNMENT)
    seen["submitted"] = _screenshot(page, "student1-submitted")
    return seen


def _student1_reads_feedback(page, score: float, max_score: float) -> dict:
    seen = {}
    _assignment_list(page)
    row = _wait_row(page, "submitted_assignments_list", ASSIGNMENT)
    row.get_by_role("button", name="Fetch Feedback").click()
    link = page.locator("#submitted_assignments_list a", has_text="view feedback").first
    link.wait_for(timeout=120_000)
    seen["fetched_feedback"] = _screenshot(page, "student1-feedback-fetched")
    link.click()  # the file browser goes to a02/feedback/<timestamp>/
    item = page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html").first
    item.wait_for(timeout=60_000)
    item.dblclick()  # opens in JupyterLab's HTML viewer
    frame = page.frame_locator(".jp-HTMLViewer:visible iframe")
    body = frame.locator("body")
    body.wait_for(timeout=60_000)
    frame.get_by_text(re.compile(r"Score")).first.wait_for(timeout=60_000)
    text = body.inner_text()
    seen["feedback"] = _screenshot(page, "student1-feedback")
    shown = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", text)
    assert shown, f"the feedback shows no score:\n{text[:2000]}"
    assert (float(shown[1]), float(shown[2])) == (score, max_score), (shown[0], score, max_score)
    assert re.search(MUTANT.message, text, re.S), f"the feedback does not show the failure message:\n{text[:3000]}"
    assert "AssertionError" in text
    seen["feedback_score"] = shown[0]
    seen["feedback_message"] = re.search(r"AssertionError: [^\n]*", text)[0][:200]
    return seen


def _instructor_has_formgrader(browser, hub: Hub, password: str) -> dict:
    context, page = _login(browser, hub, INSTRUCTOR, password)
    try:
        entries = _nbgrader_menu(page)
        assert {"Formgrader", "Course List", "Assignment List"} <= set(entries), f"instructor's menu: {entries}"
        page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/manage_assignments")
        row = page.locator("tr", has_text=ASSIGNMENT).first
        row.wait_for(timeout=60_000)
        shot = _screenshot(page, "instructor-formgrader")
        return {"menu": entries, "formgrader_row": " ".join(row.inner_text().split())[:200], "shot": shot}
    finally:
        context.close()


# ----------------------------------------------------------------------------------------------------------------
# Checks as the students' Unix accounts

_TRY_READ = """
import os, sys
for path in sys.argv[1:]:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        print(path, "READABLE")
    except Exception as error:
        print(path, type(error).__name__)
"""


def _try_read(user: str, *paths) -> dict[str, str]:
    result = _run(["runuser", "-u", user, "--", str(HUB_PYTHON), "-c", _TRY_READ, *map(str, paths)],
                  cwd=f"/home/{user}", env=_root_env(HOME=f"/home/{user}"))
    return dict(line.rsplit(" ", 1) for line in result.stdout.splitlines())


def _rss_mb(user: str) -> float:
    total = 0
    for pid in _user_pids([user]):
        try:
            rss = next(line for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines()
                       if line.startswith("VmRSS:"))
            total += int(rss.split()[1])
        except (OSError, StopIteration):
            pass
    return total / 1024


# ----------------------------------------------------------------------------------------------------------------


def _require():
    if not (os.environ.get("CI") or os.environ.get("EM_HUB_TEST") == "1"):
        pytest.skip("changes this machine (Unix accounts em-instructor/em-student1..3, /opt/em-course-hub, /srv, "
                    "/etc/jupyterhub, Debian and npm packages): runs only with CI set or EM_HUB_TEST=1")
    if os.geteuid() != 0:
        missing("needs root (it creates Unix accounts and runs JupyterHub as root, as docs/jupyterhub.md does)")
    require_browser()
    for tool in ("runuser", "useradd", "chpasswd", "git"):
        if not shutil.which(tool, path=ROOT_PATH):
            missing(f"`{tool}` is not on this machine")


def test_a_class_on_jupyterhub(tmp_path):
    _require()
    from nbgrader.api import Gradebook
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    blocks = guide_blocks(GUIDE.read_text())
    by_name = {b.name: b for b in blocks if b.name}
    _stop_leftovers()
    _reset_state()
    course = _copy_course(tmp_path / "course")
    answers = {STUDENTS[0]: submission(ASSIGNMENT, MUTANT.answers(ASSIGNMENT))}
    for student in STUDENTS[1:]:
        answers[student] = submission(ASSIGNMENT, solution_answers(ASSIGNMENT))
    timings, seen = {}, {}
    hub = None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        student_page = None
        try:
            for block in blocks:
                if block.skip:
                    print(f"[ skip  ] block line {block.line}: {block.code.strip().splitlines()[0]}")
                    continue
                if block.name == "start-hub":
                    hub = Hub(block, course, tmp_path / "hub.log")
                    t = time.perf_counter()
                    info = hub.wait_ready()
                    timings["hub start"] = time.perf_counter() - t
                    print(f"hub: /hub/api answers {info} after {timings['hub start']:.1f} s")
                    continue
                timings[f"block {block.line}"] = _run_block(block, course)

                if block.name == "release":
                    passwords = dict(line.split() for line in PASSWORDS.read_text().splitlines())
                    # As the students' accounts: the instructor's folder is out of reach, emlib is the hub's.
                    private = _try_read(STUDENTS[0], COURSE / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                                        COURSE / "gradebook.db", COURSE, f"/home/{STUDENTS[1]}")
                    seen["student1 reading the instructor's and another student's files"] = private
                    assert set(private.values()) == {"PermissionError"}, private
                    where = _as_user(STUDENTS[0], "import emlib; print(emlib.__file__)").stdout.strip()
                    seen["emlib for em-student1"] = where
                    assert where.startswith(str(HUB_ENV / "lib")) and "/site-packages/emlib/" in where, where

                    t = time.perf_counter()
                    _, student_page = _login(browser, hub, STUDENTS[0], passwords[STUDENTS[0]])
                    timings["student1 login and spawn"] = time.perf_counter() - t
                    t = time.perf_counter()
                    seen["student1 in the browser"] = _student1_works_and_submits(
                        student_page, nbformat.writes(answers[STUDENTS[0]]), hub)
                    timings["student1 fetch, validate, submit"] = time.perf_counter() - t
                    seen["student1 processes (server and kernel), MB"] = round(_rss_mb(STUDENTS[0]))

                elif block.name == "student-fetch":
                    for student in STUDENTS[1:]:
                        if student != block.user:
                            _run_block(block, course, user=student)
                        _write_as(student, pathlib.Path(f"/home/{student}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"),
                                  nbformat.writes(answers[student]))

                elif block.name == "student-submit":
                    for student in STUDENTS[1:]:
                        if student != block.user:
                            _run_block(block, course, user=student)
                    # A student cannot find (list) another's submission in the exchange, nor guess its name.
                    submitted = sorted(p.name for p in INBOUND.iterdir())
                    assert len(submitted) == 3 and {s.split("+")[0] for s in submitted} == set(STUDENTS), submitted
                    first = next(s for s in submitted if s.startswith(STUDENTS[0] + "+"))
                    guess = INBOUND / first.rsplit("+", 1)[0]  # the name without its random end
                    probe = _try_read(STUDENTS[1], INBOUND, guess / f"{ASSIGNMENT}.ipynb",
                                      f"/home/{STUDENTS[0]}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")
                    seen["em-student2 probing em-student1's submission"] = probe
                    assert probe[str(INBOUND)] == "PermissionError", probe
                    assert probe[str(guess / f"{ASSIGNMENT}.ipynb")] == "FileNotFoundError", probe
                    assert probe[f"/home/{STUDENTS[0]}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"] == "PermissionError", probe
                    assert oct(INBOUND.stat().st_mode & 0o7777) == "0o2733"
                    seen["inbound"] = f"{INBOUND} mode {oct(INBOUND.stat().st_mode & 0o7777)}: {submitted}"

                elif block.name == "grade":
                    with Gradebook(f"sqlite:///{COURSE / 'gradebook.db'}") as gradebook:
                        scores = {s.student.id: (float(s.score), float(s.max_score))
                                  for s in gradebook.assignment_submissions(ASSIGNMENT)}
                    seen["gradebook"] = scores
                    assert set(scores) == set(STUDENTS), scores
                    for student in STUDENTS[1:]:
                        assert scores[student] == (10.0, 10.0), (student, scores[student])
                    assert scores[STUDENTS[0]][0] < 10.0 and scores[STUDENTS[0]][1] == 10.0, scores
                    grades = (COURSE / "grades.csv").read_text().splitlines()
                    assert len([g for g in grades if g.startswith(ASSIGNMENT + ",")]) == 3, grades
                    t = time.perf_counter()
                    seen["instructor"] = _instructor_has_formgrader(browser, hub, passwords[INSTRUCTOR])
                    timings["instructor login and formgrader"] = time.perf_counter() - t
                    t = time.perf_counter()
                    seen["student1 feedback"] = _student1_reads_feedback(student_page, *scores[STUDENTS[0]])
                    timings["student1 fetch and read feedback"] = time.perf_counter() - t

                elif block.name == "student-feedback":
                    for student in STUDENTS[1:]:
                        if student != block.user:
                            _run_block(block, course, user=student)
                        feedback = list(pathlib.Path(f"/home/{student}/{ASSIGNMENT}/feedback").glob(
                            f"*/{ASSIGNMENT}.html"))
                        assert len(feedback) == 1, feedback
                        assert "Score: 10.0 / 10.0" in feedback[0].read_text(), student
            ran = {b.name for b in blocks if b.name}
            assert STEPS <= ran
            # The systemd unit the guide writes runs what the test ran.
            unit = pathlib.Path("/etc/systemd/system/em-course-hub.service").read_text()
            assert f"ExecStart={by_name['start-hub'].code.strip()}" in unit
        except BaseException:
            if student_page is not None:
                print(f"screenshot at the failure: {_screenshot(student_page, 'failure')}")
            if hub is not None:
                print("--- hub log (end):\n" + hub.tail())
            raise
        finally:
            try:
                browser.close()
            finally:
                if hub is not None:
                    hub.stop()
    total = time.perf_counter() - started
    for key, value in seen.items():
        print(f"{key}: {value}")
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print(f"the whole class on JupyterHub: {total:.0f} s")
    deadline = time.monotonic() + 30
    while (left := _user_pids(ACCOUNTS)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes of the test accounts are still running: {left}"
