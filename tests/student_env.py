"""The course as a student installs it: a virtualenv made from ``requirements.txt`` alone, and every lecture notebook
and every assignment solution executed in it, once per test run.

The test suite itself runs in the richer environment of ``requirements-test.txt`` (pytest, the peer libraries,
Playwright); a notebook that imports something only that environment has would pass there and fail for a student.
So the notebook tests, the site build and the browser tests use the environment built here, exactly as the README
tells a student to build it (``python3 -m venv`` and ``pip install -r requirements.txt`` from the repository root).

Both are built once per run and shared by the pytest-xdist workers (a file lock in the run's shared temporary
folder): the first worker that asks builds, the others wait for it. The venv is kept between runs under
``.cache/student-venv-<hash>`` (gitignored), keyed by the hash of requirements.txt and pyproject.toml, so a change
to either builds a new one; a fresh clone (as in CI) always builds it. ``EM_STUDENT_VENV=DIR`` uses DIR instead.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
EXECUTOR = pathlib.Path(__file__).with_name("execute_notebooks.py")
# Seconds a cell may run before the executor gives up: a failure, not a measurement (the slowest cell of a chapter
# takes a few seconds). Kept well below nbclient's usual 600 s because, now and then after a cell that displays a
# widget, nbclient stalls for exactly this long and then goes on without an error (seen after chapter 01's
# explorer: 599.6 s with 600, 124.9 s with 120; a fresh-clone CI run on 2026-12-01 spent 262 s on the chapters, 100 s
# in the run before). The executor (book/executor.py, ``_sliced``) now asks for the reply again every second, which
# ends such a stall at once (a two-widget notebook under load: 4 stalls in 6 runs before, none in 6 after); 60 s is
# kept as the limit for a cell that really hangs, ten times the slowest cell.
CELL_TIMEOUT = 60


def shared_folder(tmp_path_factory) -> pathlib.Path:
    """A folder that every xdist worker of this run sees (the parent of the workers' own temporary folders)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _lock(path: pathlib.Path):
    from filelock import FileLock

    return FileLock(str(path) + ".lock")


def requirements_hash() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()[:12]


def venv_python(venv: pathlib.Path) -> pathlib.Path:
    return venv / "bin" / "python"


def student_venv() -> pathlib.Path:
    """The student's virtualenv (built if missing): requirements.txt installed, nothing else."""
    if os.environ.get("EM_STUDENT_VENV"):
        venv = pathlib.Path(os.environ["EM_STUDENT_VENV"])
        if not venv_python(venv).exists():
            raise RuntimeError(f"EM_STUDENT_VENV={venv} has no bin/python")
        return venv
    return _cached_venv("student-venv", requirements_hash(), "requirements.txt")


def _cached_venv(kind: str, digest: str, requirements: str, sees: pathlib.Path | None = None) -> pathlib.Path:
    """``.cache/<kind>-<digest>``, built once under a lock shared by the xdist workers: ``python -m venv``, then
    (if ``sees`` is a venv) a ``.pth`` file naming its site-packages, then ``pip install -r <requirements>``; the
    venvs of other digests of this kind are removed."""
    venv = ROOT / ".cache" / f"{kind}-{digest}"
    venv.parent.mkdir(exist_ok=True)
    with _lock(venv):
        if (venv / ".complete").exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        log = venv.parent / f"{venv.name}.log"
        with open(log, "w") as out:
            def run(command):
                done = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                      env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
                if done.returncode:
                    raise RuntimeError(f"`{' '.join(command)}` failed (exit {done.returncode}); its output is in "
                                       f"{log}:\n{log.read_text()[-3000:]}")

            run([sys.executable, "-m", "venv", str(venv)])
            if sees is not None:
                (_site_packages(venv) / f"{sees.name}.pth").write_text(f"{_site_packages(sees)}\n")
            run([str(venv_python(venv)), "-m", "pip", "install", "-r", requirements])
        (venv / ".complete").write_text("")
        for stale in venv.parent.glob(f"{kind}-*"):  # venvs of older requirements
            if stale.is_dir() and stale != venv:
                shutil.rmtree(stale, ignore_errors=True)
    return venv


def _site_packages(venv: pathlib.Path) -> pathlib.Path:
    run = subprocess.run([str(venv_python(venv)), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         capture_output=True, text=True, check=True)
    return pathlib.Path(run.stdout.strip())


def site_venv() -> pathlib.Path:
    """The student's venv with requirements-site.txt added, as the README's site command installs it: a venv of its
    own that sees the student's (a ``.pth`` file naming its site-packages) and gets only what requirements-site.txt
    adds (pip finds the rest installed), so the student's venv itself stays requirements.txt alone. Kept in
    ``.cache/site-venv-<hash>`` like the student's."""
    digest = hashlib.sha256((requirements_hash() + (ROOT / "requirements-site.txt").read_text()).encode())
    return _cached_venv("site-venv", digest.hexdigest()[:12], "requirements-site.txt", sees=student_venv())


def student_environ(venv: pathlib.Path, **extra: str) -> dict[str, str]:
    """The environment of a shell in which the student activated ``venv``: its bin/ first on PATH, nothing of the
    test environment's Python settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(VIRTUAL_ENV=str(venv), PATH=os.pathsep.join([str(venv / "bin"), env.get("PATH", "")]), **extra)
    return env


def executed(tmp_path_factory) -> pathlib.Path:
    """Every lecture notebook and every assignment solution, executed headless in the student's venv, once per run.

    Returns a folder holding ``notebooks/NAME.ipynb`` and ``solutions/A/A.ipynb`` (executed copies, outputs kept)
    and ``report.json``: for each source path relative to the repository, its seconds and its error (or null).
    """
    if os.environ.get("EM_EXECUTED"):  # a folder a run of this function made before (while working on a test)
        return pathlib.Path(os.environ["EM_EXECUTED"])
    out = shared_folder(tmp_path_factory) / "executed"
    with _lock(out):
        if not (out / "report.json").exists():
            venv = student_venv()
            sources = [str(p.relative_to(ROOT)) for p in NOTEBOOKS + SOLUTIONS]
            run = subprocess.run(
                [str(venv_python(venv)), str(EXECUTOR), "--out", str(out), "--timeout", str(CELL_TIMEOUT), *sources],
                cwd=ROOT, env=student_environ(venv), capture_output=True, text=True)
            if run.returncode:
                raise RuntimeError(f"executing the notebooks in the student's venv failed:\n{run.stderr[-3000:]}")
            print(run.stdout)
    return out


def explorers_displayed(notebook: pathlib.Path) -> int:
    """How many interactive explorers a notebook displays: code lines that start with a call of an emlib explorer
    or stepper (``q_bound_explorer(...)``, ``gmm_stepper(...)``), whose value the cell shows."""
    cells = json.loads(notebook.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return len(re.findall(r"^\w*(?:explorer|stepper)\(", code, re.M))


def report(folder: pathlib.Path) -> dict:
    return json.loads((folder / "report.json").read_text())


def course_files() -> list[str]:
    """The files of a fresh clone: tracked, or new and not ignored (what the next commit holds)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_course(dest: pathlib.Path, *, git: bool = False) -> pathlib.Path:
    """A copy of the course as a fresh clone has it, in ``dest`` (with ``git``, a repository with one commit)."""
    for name in course_files():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    if git:
        for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=course", "-c", "user.email=course@localhost",
                                                        "commit", "-q", "-m", "the course"]):
            subprocess.run(["git", *command], cwd=dest, check=True, capture_output=True)
    return dest
