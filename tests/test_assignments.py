"""The assignment contract (DESIGN.md), proven with real nbgrader on every run of the suite.

For each assignment one temporary course is set up, the release generated, and every kind of submission
(solution, untouched release, mutants, alternative answers, library callers, broken ones) autograded in one
nbgrader run; the tests below read the gradebook and the feedback.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import re

import pytest

from assignment_cases import CASES, NOISY
from isolation.preprocessor import default_call_timeout
from redteam_cases import CHEATS, MARKER, SABOTAGE, cheats_of
from grading import (HIDDEN_MARKERS, ROOT, SOLUTION_MARKERS, Course, Graded, cells_used_by_tests, independent_groups,
                     marked_lines, nbgrader_meta, one_line, read, solution_answers, strip_ansi, submission,
                     unmarked_lines)

pytestmark = pytest.mark.nbgrader

ASSIGNMENTS = sorted(CASES)
# Every submission is graded with the course's own cell limit (nbgrader_config.py, 120 s), which gives a correct but
# slow answer a wide margin on a busy machine; only the one that loops forever is graded in a second run with this
# short limit, to keep the suite quick (what is tested there is that the loop is cut, not when).
FOREVER_TIMEOUT = 10


@dataclasses.dataclass
class Batch:
    course: Course
    release: pathlib.Path
    graded: dict[str, Graded]
    seconds: float
    log: str
    report: list[dict]                  # isolation_report.csv after the course's own grading
    left_behind: list[str]              # files the cheats tried to leave in the course folder
    baseline: dict[str, Graded]         # the cheats (and a noisy answer) graded with every cell in the kernel


def cheat_id(cheat) -> str:
    return "redteam-" + re.sub(r"[^a-z0-9]+", "-", cheat.name.lower()).strip("-")[:40]


BASELINE_RUN = os.environ.get("EM_BASELINE") == "1"
needs_baseline = pytest.mark.skipif(not BASELINE_RUN, reason="grades the cheats again with every cell in the kernel, "
                                    "to show each is a real attack: runs with EM_BASELINE=1 (about 2 minutes more)")


def mutant_student(first: int) -> str:
    """The submission that holds mutant ``first`` and the others of its group (grading.independent_groups)."""
    return f"mutants-{first}"


def graded_mutant(batch: "Batch", assignment: str, index: int) -> Graded:
    group = next(g for g in independent_groups(assignment, CASES[assignment].mutants) if index in g)
    return batch.graded[mutant_student(group[0])]


def build_submissions(assignment: str) -> dict[str, object]:
    cases = CASES[assignment]
    solution = solution_answers(assignment)
    mutant = {m.name: m for m in cases.mutants}
    broken_mutant, broken_test = cases.broken_test
    subs = {
        "solution": submission(assignment, solution),
        "release": submission(assignment),
        "library": submission(assignment, {**solution, **cases.library}),
        "edited-test": submission(assignment, mutant[broken_mutant].answers(assignment), tests={broken_test: "pass"}),
        "deleted-test": submission(assignment, mutant[broken_mutant].answers(assignment), tests={broken_test: None}),
        "forever": submission(assignment, {**solution, cases.forever[0]: cases.forever[1]}),
        "kill": submission(assignment, {**solution, cases.kill[0]: cases.kill[1], cases.fault[0]: cases.fault[1]}),
    }
    subs.update({cheat_id(c): c.notebook() for c in cheats_of(assignment)})
    for group in independent_groups(assignment, cases.mutants):   # mutants no test can see together share a notebook
        answers = solution_answers(assignment)
        for i in group:
            answers[cases.mutants[i].cell] = cases.mutants[i].answers(assignment)[cases.mutants[i].cell]
        subs[mutant_student(group[0])] = submission(assignment, answers)
    subs.update({f"alternative-{i}": submission(assignment, {**solution, **answers})
                 for i, answers in enumerate(cases.alternatives.values())})
    return subs


@pytest.fixture(scope="session")
def batches(tmp_path_factory):
    cache = {}

    def get(assignment: str) -> Batch:
        if assignment not in cache:
            course = Course(tmp_path_factory.mktemp(assignment), [assignment])
            release = course.generate(assignment)
            subs = build_submissions(assignment)
            for student, notebook in subs.items():
                course.submit(assignment, student, notebook)
            honest = [student for student in subs if student != "forever"]
            result, seconds = course.autograde(assignment, students=honest)
            looping, _ = course.autograde(assignment, cell_timeout=FOREVER_TIMEOUT, students=["forever"])
            graded = {student: course.graded(assignment, student) for student in subs}
            log = result.stdout + result.stderr + looping.stdout + looping.stderr
            report = course.report()
            left_behind = [str(p.relative_to(course.root)) for p in course.root.rglob(MARKER)]
            # With EM_BASELINE=1, the same cheats and the noisy correct answer with every cell in the kernel too
            # (nbgrader's own way): about 2 minutes more, so not on every run.
            baseline = {}
            if BASELINE_RUN:
                baseline = {f"baseline-{cheat_id(c)}": c.notebook() for c in cheats_of(assignment) if c.baseline}
                baseline["baseline-noisy"] = subs["alternative-0"]   # it prints to stderr (assignment_cases.NOISY)
                for student, notebook in baseline.items():
                    course.submit(assignment, student, notebook)
                course.autograde(assignment, students=list(baseline), options=("--IsolatedExecute.isolate=False",))
            cache[assignment] = Batch(course, release, graded, seconds, log, report, left_behind,
                                      {s: course.graded(assignment, s) for s in baseline})
            print(f"\n{assignment}: autograded {len(honest)} submissions in {seconds:.1f} s "
                  f"({seconds / len(honest):.1f} s each)")
        return cache[assignment]

    return get


def test_every_assignment_has_cases():
    assert sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()) == ASSIGNMENTS


# 1. the committed release is what nbgrader builds -----------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_equals_a_fresh_generate(assignment, batches):
    fresh = batches(assignment).release.read_bytes()
    committed = (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_bytes()
    assert fresh == committed, (f"exercises/{assignment} is stale: run `nbgrader generate_assignment {assignment} "
                                "--force` in the repository root and commit the result")


# 2. and 3. full marks for the solution, zero for the untouched release -----------------------------------------

def stated_points(assignment: str) -> float:
    return sum(nbgrader_meta(c).get("points", 0) for c in read(ROOT / "solutions" / assignment / f"{assignment}.ipynb").cells
               if nbgrader_meta(c).get("grade"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks(assignment, batches):
    graded = batches(assignment).graded["solution"]
    assert graded.max_total == stated_points(assignment) > 0
    assert graded.scores == graded.max_scores, graded.feedback


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero_and_every_test_calls_student_code(assignment, batches):
    graded = batches(assignment).graded["release"]
    assert graded.total == 0
    for test, feedback in ((t, graded.feedback.get(t, "")) for t in graded.scores):
        assert "NotImplementedError" in feedback, f"{test} did not call the student's code: {feedback!r}"


# 4. every mutant loses the points of the test meant to catch it, and is told why ---------------------------------

MUTANTS = [(a, i, m) for a in ASSIGNMENTS for i, m in enumerate(CASES[a].mutants)]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_mutants_share_a_notebook_only_where_no_test_can_see_two(assignment):
    """The dependency reading behind the grouping sees what the tests run: every mutant's catching test reaches the
    cell the mutant changes (a test that did not would be a blind spot of the reading), and a group never holds two
    mutants of one cell, or one in a cell another's catching test reaches."""
    mutants, used = CASES[assignment].mutants, cells_used_by_tests(assignment)
    for mutant in mutants:
        assert mutant.cell in used[mutant.catches], (mutant.name, used[mutant.catches])
    groups = independent_groups(assignment, mutants)
    assert sorted(i for g in groups for i in g) == list(range(len(mutants)))
    for group in groups:
        for a in group:
            for b in group:
                if a != b:
                    assert mutants[a].cell != mutants[b].cell and mutants[a].cell not in used[mutants[b].catches]
    if assignment == "a03":   # expected_counts calls the student's forward and backward; m_step is graded alone
        assert used["test_expected_counts"] == {"forward", "backward", "expected_counts"}
        assert used["test_m_step"] == {"m_step"}


@pytest.mark.parametrize("assignment, index, mutant", MUTANTS, ids=[f"{a}: {m.name}" for a, _, m in MUTANTS])
def test_mutant_loses_the_points_of_its_test_with_a_message_naming_the_mistake(assignment, index, mutant, batches):
    graded = graded_mutant(batches(assignment), assignment, index)
    assert graded.scores[mutant.catches] == 0, f"{mutant.catches} did not catch it"
    feedback = one_line(strip_ansi(graded.feedback.get(mutant.catches, "")))
    print(f"\n{assignment} / {mutant.name}: {graded.total:g} of {graded.max_total:g} points; {mutant.catches} says:\n  {feedback}")
    assert re.search(mutant.message, feedback, re.S), feedback


# 5. correct answers written differently get full marks ------------------------------------------------------------

ALTERNATIVES = [(a, i, name) for a in ASSIGNMENTS for i, name in enumerate(CASES[a].alternatives)]


@pytest.mark.parametrize("assignment, index, name", ALTERNATIVES, ids=[f"{a}: {n}" for a, _, n in ALTERNATIVES])
def test_a_differently_written_correct_answer_gets_full_marks(assignment, index, name, batches):
    graded = batches(assignment).graded[f"alternative-{index}"]
    assert graded.scores == graded.max_scores, graded.feedback


# 6. nothing of the solution or the hidden tests reaches the students ----------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_line_and_no_hidden_test_in_the_release(assignment):
    source = read(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    marked = {line.strip() for cell in source.cells for markers in (SOLUTION_MARKERS, HIDDEN_MARKERS)
              for line in marked_lines(cell.source, markers)}
    public = {line.strip() for cell in source.cells for line in unmarked_lines(cell.source)}
    secret = marked - public - {""}  # a line is secret unless the students see it elsewhere anyway
    assert secret, "the source notebook has no solution or hidden-test blocks"
    released = (ROOT / "exercises" / assignment).rglob("*")
    for path in (p for p in released if p.is_file()):
        text = path.read_text()
        release_lines = {line.strip() for cell in read(path).cells for line in cell.source.splitlines()} \
            if path.suffix == ".ipynb" else set(text.splitlines())
        leaked = secret & release_lines
        assert not leaked, f"{path.name} reveals {sorted(leaked)[:5]}"
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_the_failure_but_not_the_hidden_tests(assignment, batches):
    course, mutant, student = batches(assignment).course, CASES[assignment].mutants[0], mutant_student(0)
    result = course.nbgrader("generate_feedback", assignment, "--student", student, "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    html = (course.root / "feedback" / student / assignment / f"{assignment}.html").read_text()
    source = read(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    public = {line.strip() for cell in source.cells for line in unmarked_lines(cell.source)}
    hidden = {line.strip() for cell in source.cells for line in marked_lines(cell.source, HIDDEN_MARKERS)} - public - {""}
    import html as html_lib
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", html))
    shown = [line for line in hidden if line in text]
    assert not shown, f"the feedback reveals hidden tests: {shown[:3]}"
    assert "AssertionError" in text and mutant.catches in html


# 7. broken submissions are graded, quickly, with nothing for what they broke --------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("how", ["edited-test", "deleted-test"])
def test_a_wrong_answer_with_its_test_cell_emptied_or_deleted_still_loses_the_points(assignment, how, batches):
    mutant_name, test = CASES[assignment].broken_test
    graded = batches(assignment).graded[how]
    assert graded.scores[test] == 0
    assert graded.max_total == stated_points(assignment)  # the test's points are still counted against it


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_endless_loop_is_stopped_and_only_its_part_scores_zero(assignment, batches):
    part = CASES[assignment].forever[0]
    graded = batches(assignment).graded["forever"]
    stopped = [t for t, text in graded.feedback.items() if re.search(r"did not (return|finish) within", text)]
    assert f"test_{part}" in stopped, graded.feedback  # the test of the part that loops was cut off, and says so
    assert f"your {part} did not return within {default_call_timeout(FOREVER_TIMEOUT)} s" in graded.feedback[f"test_{part}"]
    assert all(graded.scores[t] == 0 for t in stopped)
    assert graded.total == graded.max_total - sum(graded.max_scores[t] for t in stopped) > 0, graded.scores


# 11. a fault costs only its part: a cell that ends its process is graded on the rest, with feedback ----------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_cell_that_ends_its_process_costs_only_what_needs_it_and_gets_feedback(assignment, batches):
    batch = batches(assignment)
    part = CASES[assignment].kill[0]
    killed, solution = batch.graded["kill"], batch.graded["solution"]
    assert killed.autograded, "no autograded copy, so no feedback"
    assert killed.scores[f"test_{part}"] == 0
    assert "ended the Python process with exit code 1" in one_line(killed.feedback[f"test_{part}"])
    assert 0 < killed.total < killed.max_total
    # ... and so does a part whose function ends the process when it is called
    called, _, message = CASES[assignment].fault
    assert killed.scores[f"test_{called}"] == 0
    assert re.search(message, one_line(killed.feedback[f"test_{called}"])), killed.feedback[f"test_{called}"]
    # the parts that do not use the two functions score as the solution does (which is graded in the same run)
    uses = {t for t, text in killed.feedback.items() if part in text or called in text}
    assert all(killed.scores[t] == solution.scores[t] for t in killed.scores if t not in uses), killed.feedback


# 8. calling emlib's own implementation earns nothing for that part ------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_answers_that_call_the_library_get_no_points_for_those_parts(assignment, batches):
    graded = batches(assignment).graded["library"]
    tested_by = {cell: f"test_{cell}" for cell in CASES[assignment].library}
    for cell, test in tested_by.items():
        assert graded.scores[test] == 0, f"{cell}: calling emlib earned points"
        assert "the library's own implementation" in one_line(graded.feedback[test])


# 9. student code runs apart from the tests: a cheat earns nothing, and is flagged for the instructor ---------------

ATTACKS = [(c.assignment, c) for c in CHEATS + SABOTAGE]


@pytest.mark.parametrize("assignment, cheat", ATTACKS, ids=[f"{a}: {c.name}" for a, c in ATTACKS])
def test_a_cheat_earns_nothing_and_is_flagged(assignment, cheat, batches):
    batch = batches(assignment)
    graded = batch.graded[cheat_id(cheat)]
    assert graded.autograded != cheat.refused_by_nbgrader   # (forged cell metadata fails nbgrader's own validation)
    earned = {part: graded.scores[part] for part in cheat.parts if graded.scores[part] > 0}
    assert not earned, f"the cheat earned points: {earned}; feedback: {graded.feedback}"
    if not cheat.parts:     # sabotage: the grader is untouched and the rest of the answer is graded as usual
        assert graded.total == graded.max_total, graded.feedback
    assert not batch.left_behind, f"a cheat wrote into the course folder: {batch.left_behind}"
    if cheat.flagged:
        reasons = [r["detail"] for r in batch.report if r["student"] == cheat_id(cheat) and r["kind"] == "flagged"]
        assert any(re.search(cheat.flagged, reason) for reason in reasons), reasons


BASELINE = [(c.assignment, c) for c in CHEATS if c.baseline]


@needs_baseline
@pytest.mark.parametrize("assignment, cheat", BASELINE, ids=[f"{a}: {c.name}" for a, c in BASELINE])
def test_the_cheat_is_real_it_earns_points_when_student_code_runs_in_the_kernel(assignment, cheat, batches):
    graded = batches(assignment).baseline[f"baseline-{cheat_id(cheat)}"]
    assert sum(graded.scores[part] for part in cheat.parts) > 0, graded.feedback


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_printing_to_stderr_and_warnings_cost_nothing_though_nbgrader_alone_would_take_points(assignment, batches):
    batch = batches(assignment)
    assert next(iter(CASES[assignment].alternatives)).endswith(NOISY)
    noisy = batch.graded["alternative-0"]
    assert noisy.scores == noisy.max_scores, noisy.feedback
    if BASELINE_RUN:
        in_the_kernel = batch.baseline["baseline-noisy"]
        assert in_the_kernel.total < in_the_kernel.max_total  # nbgrader scores any stderr in a test as a failure


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_report_lists_every_flagged_submission_and_no_correct_one(assignment, batches):
    batch = batches(assignment)
    flagged = {r["student"] for r in batch.report if r["kind"] == "flagged"}
    expected = {"library"} | {cheat_id(c) for c in cheats_of(assignment) if c.flagged and not c.refused_by_nbgrader}
    assert expected <= flagged, expected - flagged
    correct = {"solution"} | {f"alternative-{i}" for i in range(len(CASES[assignment].alternatives))}
    assert not flagged & correct, [r for r in batch.report if r["student"] in correct]
    faults = {r["student"] for r in batch.report if r["kind"] == "fault"}
    assert {"kill", "forever"} <= faults
    assert not [r for r in batch.report if r["kind"] == "containment"], "the worker was not fully contained here"
    # the student reads the flag in the feedback, next to the flagged cell
    path = batch.course.root / "autograded" / "library" / assignment / f"{assignment}.ipynb"
    notes = [o for c in read(path).cells for o in c.get("outputs", []) if "Flagged for your instructor" in
             str(o.get("data", {}).get("text/plain", ""))]
    assert notes
