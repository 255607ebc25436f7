"""Execute notebooks headless, each in a fresh kernel in its own folder, and keep the executed copies.

    python tests/execute_notebooks.py --out DIR [--timeout S] PATH ...

Run by tests/student_env.py with the student's Python (the venv of requirements.txt), so it may use only what that
environment has (nbclient comes with JupyterLab); each notebook runs with the book's executor (book/executor.py).
PATH is relative to the repository root; the executed copy goes to DIR/PATH, and DIR/report.json records, for each
PATH, the seconds it took and its error (null when every cell ran). A notebook that fails is still written, with the
outputs up to the failing cell. Exits 0 when every notebook was executed (errors included: the tests read the
report), 2 on bad arguments.
"""
import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
from executor import execute  # noqa: E402  (the book's own executor: a fresh kernel in the notebook's folder)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="notebooks, relative to the repository root")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120; see student_env.py)")
    args = parser.parse_args(argv)
    report = {}
    for relative in args.paths:
        text, seconds, error = execute(ROOT / relative, args.timeout)
        target = args.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        report[relative] = {"seconds": round(seconds, 2), "error": error}
        print(f"{relative}: {seconds:.1f} s" + (", FAILED" if error else ""), flush=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
