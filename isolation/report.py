"""The instructor's report: one row per flag, fault and incomplete containment, for every graded submission.

``isolation_report.csv`` in the course folder (and ``isolation_report.html``, the same as a table) keeps the rows
of the latest autograde of each submission: grading a submission again replaces its rows. Columns: assignment,
student, notebook, cell, line, kind (``flagged``, ``fault`` or ``containment``), detail, code. Several autograde
processes may write it at once (a lock file serialises them).
"""
from __future__ import annotations

import csv
import html
import os

COLUMNS = ["assignment", "student", "notebook", "cell", "line", "kind", "detail", "code"]


def rows_for(grading: dict, nb, flags: dict, events: list[dict]) -> list[dict]:
    who = {"assignment": grading.get("assignment", ""), "student": grading.get("student", ""),
           "notebook": grading.get("notebook", "")}
    rows = []
    for index, cell_flags in sorted(flags.items()):
        name = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
        rows += [{**who, "cell": name, "line": f.line, "kind": "flagged", "detail": f.reason, "code": f.code}
                 for f in cell_flags]
    for event in events:
        if event.get("kind") == "fault" or (event.get("kind") == "containment" and not event.get("complete")):
            rows.append({**who, "cell": event.get("cell") or "", "line": "", "kind": event["kind"],
                         "detail": event.get("detail", ""), "code": ""})
    return rows


def record(course_root: str, report_file: str, grading: dict, nb, flags: dict, events: list[dict]) -> None:
    """Replace this submission's rows in the report with the ones of this run, and write the HTML table."""
    path = os.path.join(course_root, report_file)
    key = (str(grading.get("assignment", "")), str(grading.get("student", "")), str(grading.get("notebook", "")))
    import fcntl  # grading runs on Unix; Validate (which may run elsewhere) writes no report

    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path, newline="") as f:
                kept = [r for r in csv.DictReader(f) if (r["assignment"], r["student"], r["notebook"]) != key]
        except FileNotFoundError:
            kept = []
        rows = sorted(kept + rows_for(grading, nb, flags, events),
                      key=lambda r: (r["assignment"], r["student"], r["notebook"], r["kind"], str(r["cell"])))
        with open(path + ".tmp", "w", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(path + ".tmp", path)
        _write_html(os.path.splitext(path)[0] + ".html", rows)


def _write_html(path: str, rows: list[dict]) -> None:
    header = "".join(f"<th scope='col'>{c}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in COLUMNS) + "</tr>"
                   for r in rows)
    students = len({(r["assignment"], r["student"]) for r in rows})
    with open(path + ".tmp", "w") as f:
        f.write("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Grading report: flagged "
                "submissions</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                "td,th{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}"
                "td:nth-child(8){font-family:monospace}</style></head><body>"
                f"<h1>Grading report</h1><p>{students} submission(s) with something to read: flags from the "
                "static check, faults while grading, and containment that was incomplete. Points are not changed "
                f"by a flag.</p><table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></body></html>")
    os.replace(path + ".tmp", path)
