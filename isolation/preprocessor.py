"""``IsolatedExecute``: nbgrader's Execute preprocessor, with student code run in a separate, contained worker.

``nbgrader_config.py`` puts it in place of ``Execute`` for autograde and for Validate. For each notebook it

1. decides which code cells are the course's (**trusted**): at autograde, a cell whose grade id is a locked cell in
   the gradebook and whose source is the gradebook's (a test cell whose source differs is restored from it, and a
   cell claiming to be the course's that the gradebook does not know is the student's); at Validate, where there is
   no gradebook, a locked cell whose checksum matches its source;
2. checks every other code cell statically (``static_check``) and logs what it flags;
3. runs the notebook in the kernel as nbgrader does, but each cell rewritten (``isolation.kernel``): student cells
   run in the worker, course cells in the kernel and then shared with the worker, test cells in the kernel only;
   the cells keep their own source in the notebook that is saved;
4. afterwards ends any worker still running, notes the flags in the flagged cells (so the student's feedback says
   why), and writes the instructor's report (``report``): flags, faults, and containment that was incomplete.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode

from . import report, static_check


#: Validate cuts every line of a failure at 87 characters (nbgrader's Validator.width 90, less its indent); a
#: failure is re-broken to this width, the width of emlib.checks.MESSAGE_WIDTH, so that no line loses its end.
FAILURE_WIDTH = 80


def fit_failures(outputs, width: int = FAILURE_WIDTH) -> None:
    """Break the long lines of every AssertionError in ``outputs`` (a graded cell's) at word boundaries, in its
    message and in the last line of its traceback: tests that raise with a plain ``assert x, "..."`` read as well
    as the checks, whose messages are broken already. Shorter lines are left exactly as they are."""
    prefix = "AssertionError: "
    for output in outputs:
        if output.get("output_type") != "error" or output.get("ename") != "AssertionError":
            continue
        message = str(output.get("evalue", ""))
        fitted = _fitted(message, width, len(prefix))
        if fitted == message:
            continue
        output["evalue"] = fitted
        traceback = list(output.get("traceback", []))
        if traceback and traceback[-1].endswith(message):
            traceback[-1] = traceback[-1][: len(traceback[-1]) - len(message)] + fitted
            output["traceback"] = traceback


def _fitted(message: str, width: int, first_indent: int) -> str:
    lines = []
    for number, line in enumerate(message.split("\n")):
        indent = first_indent if number == 0 else 0
        if indent + len(line) <= width:
            lines.append(line)
            continue
        filled = textwrap.fill(line, width, initial_indent=" " * indent, break_long_words=False,
                               break_on_hyphens=False)
        lines.append(filled[indent:])
    return "\n".join(lines)


def default_call_timeout(cell_timeout: int | None) -> int:
    """90% of the cell timeout (nbgrader's default 120 s when unset): the call, not the cell, is stopped first."""
    return round(0.9 * (cell_timeout or 120))


class IsolatedExecute(Execute):
    isolate = Bool(True, help="False runs every cell in the kernel, as nbgrader's own Execute does (for comparisons "
                   "such as benchmarks/autograde_isolation.py; never for grading).").tag(config=True)
    call_timeout = Integer(None, allow_none=True, help="Seconds one call of a student's function (or one student "
                           "cell) may take; by default 90% of the cell timeout, so that it is the call, not the "
                           "cell, that is stopped, with a message that names it.").tag(config=True)
    memory_limit_mb = Integer(4096, help="Address space of the worker, in MiB.").tag(config=True)
    cpu_limit = Integer(3600, help="CPU seconds one worker may use in all.").tag(config=True)
    fenced_modules = List(Unicode(), ["emlib"], help="Packages whose modules are not importable by student "
                          "code while it is graded (the library students are asked to write).").tag(config=True)
    allowed_modules = List(Unicode(), [], help="Modules of the fenced packages that student code may use.").tag(config=True)
    allowed_imports = List(Unicode(), list(static_check.ALLOWED_IMPORTS),
                           help="Modules the static check does not flag.").tag(config=True)
    hidden_paths = List(Unicode(), [], help="Further folders the worker may not read (the course folder, the "
                        "exchange and the library are always hidden).").tag(config=True)
    report_file = Unicode("isolation_report.csv", help="The instructor's report, relative to the course "
                          "folder (an .html copy is written next to it).").tag(config=True)

    # --- the notebook ----------------------------------------------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        if not self.isolate:
            return super().preprocess(nb, resources, km)
        resources = resources if resources is not None else {}
        grading = resources.get("nbgrader", {}) if isinstance(resources.get("nbgrader"), dict) else {}
        self.trusted = self._trusted_cells(nb, grading)
        self.flags = {index: static_check.check(cell.source, self.allowed_imports)
                      for index, cell in enumerate(nb.cells) if cell.cell_type == "code" and index not in self.trusted}
        self._log_flags(nb, grading)
        self.tmp = tempfile.mkdtemp(prefix="isolation-")
        self.first = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            self._end_workers()
            events = self._events()
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._annotate(nb)
        if grading.get("student") and grading.get("assignment"):
            report.record(self._course_root(), self.report_file, grading, nb, self.flags, events)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not self.isolate:
            return super().preprocess_cell(cell, resources, index)
        source = cell.source
        cell.source = self._executed_source(cell, index)
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        finally:
            cell.source = source
        if utils.is_grade(cell):
            fit_failures(cell.outputs)
        return cell, resources

    def _executed_source(self, cell, index: int) -> str:
        name = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
        start = self._preamble() if index == self.first else ""
        if index not in self.trusted:
            return f"{start}__isolation__.enter({name!r})\n__isolation__.run_cell({cell.source!r}, globals())"
        share = None if utils.is_grade(cell) else cell.source
        return f"{start}__isolation__.enter({name!r}, share={share!r})\n{cell.source}"

    def _preamble(self) -> str:
        config = {
            "call_timeout": self.call_timeout or default_call_timeout(self.timeout), "memory_mb": self.memory_limit_mb,
            "cpu_seconds": self.cpu_limit, "fenced": list(self.fenced_modules), "allowed": list(self.allowed_modules),
            "hidden": self._hidden(), "keep": self._keep(), "tmp": self.tmp,
            "events_file": os.path.join(self.tmp, "events.jsonl"),
            "forkserver": forkserver(list(self.fenced_modules), list(self.allowed_modules)),
        }
        return ("import isolation.kernel as _isolation_kernel\n"
                f"__isolation__ = _isolation_kernel.Session(__import__('json').loads({json.dumps(config)!r}))\n")

    # --- trust -----------------------------------------------------------------------------------------------

    def _trusted_cells(self, nb, grading: dict) -> set[int]:
        """Indices of the code cells that are the course's own (see the module's docstring)."""
        if grading.get("db_url") and grading.get("assignment") and grading.get("notebook"):
            return self._trusted_by_gradebook(nb, grading)
        trusted = set()
        for index, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if (cell.cell_type == "code" and utils.is_locked(cell) and meta.get("checksum")
                    and utils.compute_checksum(cell) == meta["checksum"]):
                trusted.add(index)
        return trusted

    def _trusted_by_gradebook(self, nb, grading: dict) -> set[int]:
        from nbgrader.api import Gradebook, MissingEntry

        trusted = set()
        with Gradebook(grading["db_url"]) as gradebook:
            for index, cell in enumerate(nb.cells):
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if cell.cell_type != "code" or not grade_id:
                    continue
                try:
                    source = gradebook.find_source_cell(grade_id, grading["notebook"], grading["assignment"])
                except MissingEntry:
                    continue
                if not source.locked or source.cell_type != "code":
                    continue
                if cell.source != source.source:      # e.g. a test cell re-marked as a solution, then edited
                    self.log.warning("Cell %s differs from the gradebook's: restored", grade_id)
                    cell.source = source.source
                    cell.metadata.nbgrader["solution"] = False
                trusted.add(index)
        return trusted

    # --- paths -----------------------------------------------------------------------------------------------

    def _course_root(self) -> str:
        try:
            return os.path.abspath(self.parent.coursedir.root)
        except AttributeError:
            return os.path.abspath(os.getcwd())

    def _hidden(self) -> list[str]:
        hidden = [self._course_root(), *self.hidden_paths]
        try:
            hidden.append(self.parent.config.Exchange.root)
        except AttributeError:
            pass
        for package in self.fenced_modules:
            spec = __import__("importlib.util").util.find_spec(package)
            if spec and spec.submodule_search_locations:
                hidden.extend(spec.submodule_search_locations)
        from jupyter_core.paths import jupyter_runtime_dir
        hidden.append(jupyter_runtime_dir())
        return sorted({os.path.abspath(str(h)) for h in hidden if h and isinstance(h, str)})

    def _keep(self) -> list[str]:
        import sys

        keep = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.abspath(__file__)),
                *(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)}
        for package in self.fenced_modules:
            spec = __import__("importlib.util").util.find_spec(package)
            for folder in (spec.submodule_search_locations or []) if spec else []:
                data = os.path.join(folder, "data")
                if os.path.isdir(data):
                    keep.add(data)
        return sorted(os.path.abspath(k) for k in keep)

    # --- afterwards ------------------------------------------------------------------------------------------

    def _end_workers(self) -> None:
        try:
            with open(os.path.join(self.tmp, "workers")) as f:
                pids = [int(line) for line in f if line.strip()]
        except (OSError, ValueError):
            pids = []
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _events(self) -> list[dict]:
        try:
            with open(os.path.join(self.tmp, "events.jsonl")) as f:
                return [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError):
            return []

    def _log_flags(self, nb, grading: dict) -> None:
        who = "/".join(str(grading[k]) for k in ("student", "assignment") if grading.get(k)) or "this notebook"
        for index, flags in self.flags.items():
            name = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
            for flag in flags:
                self.log.warning("Flagged for review: %s, %s line %d: %s", who, name, flag.line, flag.reason)

    def _annotate(self, nb) -> None:
        for index, flags in self.flags.items():
            if flags:
                nb.cells[index].setdefault("outputs", []).append(static_check.feedback_output(flags))


_forkservers: dict[tuple, tuple[subprocess.Popen, str]] = {}


def forkserver(fenced: list[str], allowed: list[str]) -> str:
    """The folder of this process's forkserver (started on first use, ended with this process)."""
    key = (tuple(fenced), tuple(allowed))
    if key in _forkservers and _forkservers[key][0].poll() is None:
        return _forkservers[key][1]
    folder = tempfile.mkdtemp(prefix="isolation-forkserver-")
    matplotlib_dir = os.path.join(folder, "matplotlib")
    os.makedirs(matplotlib_dir)
    for cache in _matplotlib_cache():
        shutil.copy(cache, matplotlib_dir)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": folder, "LANG": "C.UTF-8", "TMPDIR": folder,
           "MPLBACKEND": "module://isolation.mpl_backend", "MPLCONFIGDIR": matplotlib_dir,
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    log = open(os.path.join(folder, "forkserver.log"), "ab")
    process = subprocess.Popen([sys.executable, "-I", "-m", "isolation.forkserver", folder, json.dumps(fenced),
                                json.dumps(allowed)], env=env, cwd=folder, stdin=subprocess.DEVNULL,
                               stdout=log, stderr=log, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(folder, "forkserver.sock")):   # ready when it listens
        if process.poll() is not None or time.monotonic() > deadline:
            with open(os.path.join(folder, "forkserver.log"), errors="replace") as f:
                raise RuntimeError(f"the grading forkserver did not start:\n{f.read()[-2000:]}")
        time.sleep(0.02)
    _forkservers[key] = (process, folder)
    atexit.register(_end_forkserver, process, folder)
    return folder


def _end_forkserver(process: subprocess.Popen, folder: str) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
    shutil.rmtree(folder, ignore_errors=True)


def _matplotlib_cache() -> list[str]:
    """The font list matplotlib builds once (copied into each worker, which could not write it): found where
    matplotlib keeps it, or built by importing matplotlib's font manager if it is not there yet."""
    import glob

    home = os.path.expanduser("~")
    folders = [os.environ.get("MPLCONFIGDIR"), os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                            os.path.join(home, ".cache"), "matplotlib")]
    found = [f for folder in folders if folder for f in glob.glob(os.path.join(folder, "fontlist-*.json"))]
    if found:
        return found[:1]
    try:
        import matplotlib
        from matplotlib import font_manager  # noqa: F401 (builds the cache)
        return glob.glob(os.path.join(matplotlib.get_cachedir(), "fontlist-*.json"))[:1]
    except Exception:
        return []
