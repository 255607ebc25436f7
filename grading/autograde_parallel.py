"""Autograde one assignment on every core: ``python grading/autograde_parallel.py A [--jobs N] [nbgrader options]``.

``nbgrader autograde`` grades one submission after another. This splits the students who submitted ``A``
(``submitted/*/A``) into ``--jobs`` groups of about the same size and runs one ``nbgrader autograde A`` per group at
the same time, each limited to its group with ``--CourseDirectory.student_id_exclude``; every process writes its
grades into the course's own ``gradebook.db`` through nbgrader, as a serial run does (SQLite serialises the writes).
Run it from the course folder. Further options are passed to every nbgrader process (``--force``,
``--ExecutePreprocessor.timeout=60``). The exit status is the worst of the processes'; their logs go to
``autograde-A-K.log``.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import time


def groups(students: list[str], jobs: int) -> list[list[str]]:
    """``students`` dealt round-robin into at most ``jobs`` non-empty groups."""
    dealt = [students[k::jobs] for k in range(jobs)]
    return [g for g in dealt if g]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args, options = parser.parse_known_args(argv)
    course = pathlib.Path.cwd()
    students = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{args.assignment}") if p.is_dir())
    if not students:
        print(f"no submissions of {args.assignment} in {course / 'submitted'}", file=sys.stderr)
        return 1
    start, processes = time.perf_counter(), []
    for k, group in enumerate(groups(students, args.jobs)):
        others = [s for s in students if s not in group]
        command = [sys.executable, "-m", "nbgrader", "autograde", args.assignment, *options,
                   *([f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else [])]
        log = open(course / f"autograde-{args.assignment}-{k}.log", "w")
        processes.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log, len(group)))
    status = 0
    for process, log, size in processes:
        status = max(status, process.wait())
        log.close()
    seconds = time.perf_counter() - start
    print(f"autograded {len(students)} submissions of {args.assignment} in {seconds:.1f} s with {len(processes)} "
          f"processes ({seconds / len(students):.2f} s each); exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
