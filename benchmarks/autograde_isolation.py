"""What running student code apart from the tests costs: autograde time per submission with and without isolation.

    python benchmarks/autograde_isolation.py [--assignments a01 a02 ...] [--students 4] [--repeats 2]
    python benchmarks/autograde_isolation.py --parallel 2 --assignments a02 --students 12

With ``--parallel N`` it compares instead one serial ``nbgrader autograde`` with ``grading/autograde_parallel.py
--jobs N`` over the same submissions (both with isolation), and checks that both give every solution full marks.

For each assignment a temporary course (tests/grading.py) gets ``--students`` copies of the solution; ``nbgrader
autograde`` then grades them all in one run, once with the course's configuration (``IsolatedExecute``: student
cells in a contained worker) and once with ``--IsolatedExecute.isolate=False`` (every cell in the kernel, as
nbgrader's own Execute does), alternating, ``--repeats`` times each; the fastest run of each kind counts (noise
only adds time). Seconds per submission are a run's time divided by the number of submissions, so they include
nbgrader's own start-up shared between them. Both kinds must give the solutions full marks.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

from grading import Course, solution_answers, submission  # noqa: E402

ASSIGNMENTS = ["a01", "a02", "a03", "a04", "a05", "a06"]


def course_of_solutions(assignment: str, students: int, folder: pathlib.Path) -> tuple[Course, list[str]]:
    """A course in ``folder`` where ``students`` students all handed in the solution of ``assignment``."""
    (folder / assignment).mkdir()
    course = Course(folder / assignment, [assignment])
    course.generate(assignment)
    notebook = submission(assignment, solution_answers(assignment))
    names = [f"student{i}" for i in range(students)]
    for name in names:
        course.submit(assignment, name, notebook)
    return course, names


def measure(assignment: str, students: int, repeats: int, folder: pathlib.Path) -> dict:
    course, names = course_of_solutions(assignment, students, folder)
    best = {"isolated": float("inf"), "in the kernel": float("inf")}
    for _ in range(repeats):
        for kind, options in (("isolated", []), ("in the kernel", ["--IsolatedExecute.isolate=False"])):
            result, seconds = _autograde(course, assignment, options)
            assert result.returncode == 0, result.stdout + result.stderr
            for name in names:
                graded = course.graded(assignment, name)
                assert graded.total == graded.max_total, (kind, graded.feedback)
            best[kind] = min(best[kind], seconds / students)
    return {"assignment": assignment, "students": students, **best,
            "extra": best["isolated"] - best["in the kernel"]}


def _autograde(course: Course, assignment: str, options: list[str]):
    import time
    start = time.perf_counter()
    result = course.nbgrader("autograde", assignment, "--force", *options)
    return result, time.perf_counter() - start


def measure_parallel(assignment: str, students: int, jobs: int, folder: pathlib.Path) -> dict:
    import subprocess
    import time

    course, names = course_of_solutions(assignment, students, folder)
    result, serial = _autograde(course, assignment, [])
    assert result.returncode == 0, result.stdout + result.stderr
    runner = pathlib.Path(__file__).resolve().parents[1] / "grading" / "autograde_parallel.py"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, str(runner), assignment, "--jobs", str(jobs), "--force"], cwd=course.root,
                         env=course.env, capture_output=True, text=True)
    parallel = time.perf_counter() - start
    assert run.returncode == 0, run.stdout + run.stderr
    for name in names:
        graded = course.graded(assignment, name)
        assert graded.total == graded.max_total, graded.feedback
    return {"assignment": assignment, "students": students, "serial": serial, "parallel": parallel, "jobs": jobs}


def main(argv: list[str]) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", default=ASSIGNMENTS)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=0, help="compare a serial run with N parallel processes")
    args = parser.parse_args(argv)
    rows = []
    if args.parallel:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"| assignment | submissions | serial s | {args.parallel} processes s | speed-up |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for assignment in args.assignments:
                row = measure_parallel(assignment, args.students, args.parallel, pathlib.Path(tmp))
                rows.append(row)
                print(f"| {assignment} | {args.students} | {row['serial']:.1f} | {row['parallel']:.1f} | "
                      f"{row['serial'] / row['parallel']:.2f} |", flush=True)
        return rows
    with tempfile.TemporaryDirectory() as tmp:
        print(f"| assignment | s/submission in the kernel | s/submission isolated | extra s/submission |")
        print("| --- | ---: | ---: | ---: |")
        for assignment in args.assignments:
            row = measure(assignment, args.students, args.repeats, pathlib.Path(tmp))
            rows.append(row)
            print(f"| {assignment} | {row['in the kernel']:.2f} | {row['isolated']:.2f} | {row['extra']:+.2f} |",
                  flush=True)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
