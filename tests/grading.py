"""A real nbgrader course in a temporary folder: generate, submit, autograde, read scores and feedback.

Used by test_assignments.py to prove the assignment contract of the design (DESIGN.md, "The assignment
contract"). Submissions are built from the committed release notebook with the solution cells filled in,
exactly what a student hands in.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def marked_lines(source: str, markers: tuple[str, str]) -> list[str]:
    """The lines strictly between each pair of markers."""
    inside, lines = False, []
    for line in source.splitlines():
        if line.strip() == markers[0]:
            inside = True
        elif line.strip() == markers[1]:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def unmarked_lines(source: str) -> list[str]:
    """The lines outside every solution and hidden-test block (what students see)."""
    depth, lines = 0, []
    for line in source.splitlines():
        if line.strip() in (SOLUTION_MARKERS[0], HIDDEN_MARKERS[0]):
            depth += 1
        elif line.strip() in (SOLUTION_MARKERS[1], HIDDEN_MARKERS[1]):
            depth -= 1
        elif depth == 0:
            lines.append(line)
    return lines


def solution_answers(assignment: str) -> dict[str, str]:
    """grade_id -> the code a student should write (the solution block of each solution cell, dedented)."""
    answers = {}
    for cell in read(ROOT / "solutions" / assignment / f"{assignment}.ipynb").cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            # keep the lines outside the markers (the def line) and the solution lines, drop the markers
            answers[meta["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if line.strip() not in SOLUTION_MARKERS)
    return answers


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A real mistake: in solution cell ``cell``, ``old`` becomes ``new``; test ``catches`` must fail with ``message``."""

    name: str
    cell: str
    old: str
    new: str
    catches: str
    message: str

    def answers(self, assignment: str) -> dict[str, str]:
        answers = solution_answers(assignment)
        assert self.old in answers[self.cell], f"mutant {self.name!r}: {self.old!r} is not in cell {self.cell!r}"
        answers[self.cell] = answers[self.cell].replace(self.old, self.new)
        return answers


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds at its top level, names it reads from the notebook and does not import itself), from
    its code's symbol tables; magics and shell lines left out. Imported names are modules: reading one never runs
    another cell's code. Inside the cell's functions only their global reads count (a local ``T`` is not a
    notebook name)."""
    import symtable

    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    top = symtable.symtable(code, "<cell>", "exec")
    imported = {s.get_name() for s in top.get_symbols() if s.is_imported()}
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() and not s.is_imported()}
    reads, todo = set(), [top]
    while todo:
        table = todo.pop()
        reads |= {s.get_name() for s in table.get_symbols()
                  if s.is_referenced() and (table is top or s.is_global())}
        todo.extend(table.get_children())
    return defined, reads - imported


def cells_used_by_tests(assignment: str) -> dict[str, set[str]]:
    """test grade_id -> the solution cells (grade_ids) whose code the test can run: for each name a cell reads and
    does not define itself, the last cell before it that defines the name, followed on through that cell's own
    reads (course cells included), as the notebook runs top to bottom."""
    cells = [c for c in read(ROOT / "solutions" / assignment / f"{assignment}.ipynb").cells if c.cell_type == "code"]
    keys = [nbgrader_meta(c).get("grade_id") or f"cell {i}" for i, c in enumerate(cells)]
    names = [_names(c.source) for c in cells]
    solution_cells = {k for k, c in zip(keys, cells) if nbgrader_meta(c).get("solution")}

    def definer(name: str, before: int) -> int | None:
        return next((i for i in range(before - 1, -1, -1) if name in names[i][0]), None)

    def reached(start: int) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            i = todo.pop()
            defined, read_names = names[i]
            for name in read_names - defined:
                j = definer(name, i)
                if j is not None and keys[j] not in seen:
                    seen.add(keys[j])
                    todo.append(j)
        return seen & solution_cells

    return {key: reached(i) for i, (key, cell) in enumerate(zip(keys, cells))
            if nbgrader_meta(cell).get("grade") and not nbgrader_meta(cell).get("solution")}


def independent_groups(assignment: str, mutants: list["Mutant"]) -> list[list[int]]:
    """The mutants (by index) in groups that can share one submission: no two change the same cell, and no
    mutant's cell is one that another's catching test can run, so each test still sees only its own mistake."""
    used = cells_used_by_tests(assignment)
    groups: list[list[int]] = []
    for index, mutant in enumerate(mutants):
        for group in groups:
            others = [mutants[i] for i in group]
            if all(m.cell != mutant.cell and m.cell not in used[mutant.catches] and mutant.cell not in used[m.catches]
                   for m in others):
                group.append(index)
                break
        else:
            groups.append([index])
    return groups


def submission(assignment: str, answers: dict[str, str] | None = None, *, tests: dict[str, str | None] | None = None):
    """The committed release notebook with solution cells replaced by ``answers`` (grade_id -> code).

    ``tests`` edits test cells the way a student might: grade_id -> new source, or None to delete the cell.
    """
    notebook = read(ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    answers, tests = answers or {}, tests or {}
    kept = []
    for cell in notebook.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
        if grade_id in tests:
            if tests[grade_id] is None:
                continue
            cell.source = tests[grade_id]
        kept.append(cell)
    notebook.cells = kept
    return notebook


@dataclasses.dataclass
class Graded:
    """One autograded submission: per-test scores, the feedback (error text) of each test cell, and whether
    nbgrader produced an autograded copy at all (it does not when the submission killed its kernel)."""

    scores: dict[str, float]
    max_scores: dict[str, float]
    feedback: dict[str, str]
    autograded: bool

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_scores.values())


class Course:
    """A copy of the course's nbgrader set-up in ``folder``, driven through nbgrader's command line."""

    def __init__(self, folder: pathlib.Path, assignments: list[str]):
        self.root = folder
        shutil.copy(ROOT / "nbgrader_config.py", folder)
        for assignment in assignments:
            shutil.copytree(ROOT / "solutions" / assignment, folder / "solutions" / assignment)
        bin_dir = str(pathlib.Path(sys.executable).parent)  # nbgrader runs `alembic` from the environment
        self.env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}

    def nbgrader(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def generate(self, assignment: str, *, db: bool = True) -> pathlib.Path:
        """nbgrader generate_assignment A --force: the release notebook it writes."""
        result = self.nbgrader("generate_assignment", assignment, "--force", *([] if db else ["--no-db"]))
        assert result.returncode == 0, result.stdout + result.stderr
        return self.root / "exercises" / assignment / f"{assignment}.ipynb"

    def submit(self, assignment: str, student: str, notebook) -> None:
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(folder / f"{assignment}.ipynb"))

    def autograde(self, assignment: str, *, cell_timeout: int | None = None, students: list[str] | None = None,
                  options: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, float]:
        """Autograde the submissions of ``students`` (default: all) of ``assignment`` in one nbgrader run, with the
        course's cell limit (nbgrader_config.py) unless ``cell_timeout`` is given, and further nbgrader ``options``;
        returns the run and its seconds."""
        options = [*options, *([f"--ExecutePreprocessor.timeout={cell_timeout}"] if cell_timeout is not None else [])]
        if students:
            options.append(f"--CourseDirectory.student_id_exclude={','.join(self._others(assignment, students))}")
        start = time.perf_counter()
        result = self.nbgrader("autograde", assignment, "--force", *options)
        return result, time.perf_counter() - start

    def _others(self, assignment: str, students: list[str]) -> list[str]:
        submitted = sorted(p.parent.name for p in (self.root / "submitted").glob(f"*/{assignment}"))
        return [s for s in submitted if s not in students]

    def report(self) -> list[dict]:
        """The rows of the instructor's report (isolation_report.csv): flags, faults, incomplete containment."""
        import csv

        path = self.root / "isolation_report.csv"
        if not path.exists():
            return []
        with open(path, newline="") as f:
            return list(csv.DictReader(f))

    def graded(self, assignment: str, student: str) -> Graded:
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            grades = gradebook.find_submission_notebook(assignment, assignment, student).grades
            scores = {g.name: float(g.score) for g in grades}
            max_scores = {g.name: float(g.max_score) for g in grades}
        path = self.root / "autograded" / student / assignment / f"{assignment}.ipynb"
        feedback = {}
        if path.exists():
            for cell in read(path).cells:
                grade_id = nbgrader_meta(cell).get("grade_id")
                errors = [f"{o.ename}: {o.evalue}" for o in cell.get("outputs", []) if o.output_type == "error"]
                if grade_id and errors:
                    feedback[grade_id] = "\n".join(errors)
        return Graded(scores, max_scores, feedback, path.exists())


def one_line(text: str) -> str:
    """A failure message read as one line: emlib.checks wraps messages at 80 columns."""
    return " ".join(text.split())


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
