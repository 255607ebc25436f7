"""The grading kernel's side: it starts the worker, sends it the student's cells, and calls the student's functions.

The nbgrader preprocessor (``isolation.preprocessor``) makes the kernel create one ``Session`` at the top of the
notebook and rewrites each cell before the kernel runs it:

- a **student cell** (a solution cell, or any cell the student added or changed) becomes ``run_cell(source)``: the
  worker runs it and answers with its output and the names of the functions it defines. Those names become
  ``Proxy`` objects in the kernel, so the tests call ``e_step(X, **START)`` as before, and get back plain data;
- a **course cell** (set-up, given helpers) runs in the kernel as written, then its data and definitions are sent
  to the worker (``share``), so the student's code sees the same ``X`` and ``START``;
- a **test cell** runs in the kernel only.

A call that does not return within ``call_timeout`` seconds, or that ends the worker, fails with a message that
says so; the worker is started again, with the course cells and the student's cells so far, for the next test.
What the student's code prints or warns is shown, on stdout, and never counts as a failure. Events that the
instructor should know of (the worker's containment, faults) are appended to ``events_file`` as JSON lines.
"""
from __future__ import annotations

import ast
import base64
import builtins
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import warnings

from IPython import get_ipython

from . import wire

SIGNAL_NAMES = {signal.SIGSEGV: "a segmentation fault", signal.SIGKILL: "killed (out of memory, or stopped)",
                signal.SIGXCPU: "its CPU time ran out", signal.SIGABRT: "aborted", signal.SIGBUS: "a bus error",
                signal.SIGFPE: "a floating-point exception", signal.SIGXFSZ: "a file grew too large"}


class StudentCodeError(Exception):
    """Raised in the kernel for what the student's code did in the worker; its traceback is the worker's."""

    student_traceback = ""

    def _render_traceback_(self):   # IPython shows this instead of the kernel's own frames
        return (self.student_traceback or f"{type(self).__name__}: {self}").splitlines()


class StudentCodeTimeout(StudentCodeError, TimeoutError):
    pass


class StudentProcessEnded(StudentCodeError, RuntimeError):
    pass


class NotInYourNotebook(StudentCodeError, NameError):
    pass


_error_classes: dict[tuple[str, str], type] = {}


def student_error(info: dict, name: str | None = None) -> StudentCodeError:
    """The kernel-side exception for an error the student's code raised: the same name, a subclass of the same
    built-in exception (so ``except ValueError`` in a test still works), the message, and where it happened."""
    ename, module = str(info.get("ename", "Exception")), str(info.get("module", "builtins"))
    bases = [getattr(builtins, b, None) for b in info.get("base", [])]
    builtin = next((b for b in bases if isinstance(b, type) and issubclass(b, Exception)), Exception)
    if ename == "LinAlgError" and module.startswith("numpy"):
        import numpy as np
        builtin = np.linalg.LinAlgError
    key = (ename, builtin.__name__)
    if key not in _error_classes:
        _error_classes[key] = type(ename if ename.isidentifier() else "StudentError", (StudentCodeError, builtin), {})
    message, where = str(info.get("evalue", "")), info.get("where")
    if where:
        code = f": {where['code']}" if where.get("code") else ""
        place = f"(raised in your cell {where['cell']}, line {where['line']}{code})"
    else:
        place = f"(raised while your {name} ran)" if name else ""
    error = _error_classes[key]("\n".join(part for part in (message, place) if part))
    error.student_traceback = str(info.get("traceback", ""))
    return error


class Proxy:
    """A student's function, as the tests see it: calling it runs it in the worker and returns plain data."""

    def __init__(self, session: "Session", name: str):
        self._session, self.__name__ = session, name

    def __call__(self, *args, **kwargs):
        return self._session.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<your function {self.__name__} (it runs apart from the tests)>"


class Undefined(Proxy):
    """A name the student's cell would have defined had it not stopped the worker."""

    def __init__(self, session, name: str, why: str):
        super().__init__(session, name)
        self._why = why

    def __call__(self, *args, **kwargs):
        raise NotInYourNotebook(f"{self.__name__} is not defined: {self._why}")


def _print_warning(message, category, filename, lineno, file=None, line=None):
    # warnings raised by a test go to stdout: nbgrader counts any stderr output in a test cell as a failure
    sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))


class Session:
    """One worker (restarted after a fault) for the notebook being graded; ``config`` comes from the preprocessor."""

    def __init__(self, config: dict):
        self.config = config
        self.call_timeout = float(config["call_timeout"])
        self.history: list[dict] = []          # what a restarted worker is sent again, in order
        self.cell = None                       # the cell being run (for the events)
        self.shared = set()                    # names course cells bound in the kernel: never replaced by a proxy
        self.pending_share = None
        self.worker = None
        self.unanswered: list[str] = []        # requests sent whose replies are still to be read
        warnings.showwarning = _print_warning
        self._start()
        get_ipython().events.register("post_run_cell", self._after_cell)

    # --- the worker process ------------------------------------------------------------------------------------

    def _policy(self, scratch: str) -> dict:
        c = self.config
        env = {"HOME": scratch, "TMPDIR": scratch, "MPLCONFIGDIR": os.path.join(scratch, "matplotlib")}
        return {"hidden": c["hidden"], "keep": c["keep"], "scratch": scratch, "fenced": c["fenced"],
                "allowed": c["allowed"], "memory_mb": c["memory_mb"], "cpu_seconds": c["cpu_seconds"], "env": env}

    def _start(self) -> None:
        """A new worker: forked by the forkserver (``isolation.forkserver``), which the preprocessor started."""
        scratch = tempfile.mkdtemp(prefix="worker-", dir=self.config["tmp"])
        os.makedirs(os.path.join(scratch, "matplotlib"))
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(os.path.join(self.config["forkserver"], "forkserver.sock"))
        wire.send(connection, self._policy(scratch))
        self.worker = {"pid": None, "socket": connection, "scratch": scratch, "hello": None}

    def _ready(self) -> dict:
        """The worker, started again (and sent the history) if the last one ended."""
        if self.worker is None:
            self._restart()
        return self.worker

    def _hello(self) -> None:
        hello = self._receive(self.call_timeout + 30, "the grading worker")
        if not hello.get("hello"):
            raise RuntimeError(f"the grading worker did not start: {hello}")
        self.worker["hello"], self.worker["pid"] = hello, int(hello["pid"])
        with open(os.path.join(self.config["tmp"], "workers"), "a") as f:
            f.write(f"{self.worker['pid']}\n")
        if not getattr(self, "_reported", False):
            self._reported = True
            self.event("containment", str(hello.get("containment", "")), complete=bool(hello.get("complete")))
            if hello.get("fence"):
                self.event("fault", f"the library fence failed: {hello['fence']}")

    def _restart(self) -> None:
        """A new worker with everything sent so far, but a request that now stops it (each is tried once)."""
        history = self.history
        while True:
            self.history = []
            self._start()
            for i, request in enumerate(history):
                try:
                    self._exchange(request, "an earlier cell")
                except StudentCodeError:
                    history = history[:i] + history[i + 1:]
                    break
                self.history.append(request)
            else:
                return

    def _stop(self) -> None:
        worker, self.worker, self.unanswered = self.worker, None, []
        if worker is None:
            return
        if worker["pid"]:
            try:
                os.killpg(worker["pid"], signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        worker["socket"].close()
        shutil.rmtree(worker["scratch"], ignore_errors=True)

    def _exit_code(self, pid: int | None, wait: float = 5.0) -> int | None:
        """The worker's exit code (negative: the signal), as the forkserver recorded it; None if it has not ended."""
        path = os.path.join(self.config["forkserver"], f"exit-{pid}")
        deadline = time.monotonic() + wait
        while pid and time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    return int(f.read())
            time.sleep(0.02)
        return None

    def _ended(self, what: str) -> StudentProcessEnded:
        code = self._exit_code(self.worker["pid"])
        self._stop()
        if code is None:
            how = "stopped answering"
        elif code < 0:
            how = f"was killed by signal {-code} ({SIGNAL_NAMES.get(-code, signal.Signals(-code).name)})"
        else:
            how = f"ended the Python process with exit code {code}"
        return StudentProcessEnded(f"your code {how} while {what} ran; the tests go on without it.")

    def _receive(self, timeout: float, what: str) -> dict:
        if self.worker["hello"] is None and what != "the grading worker":
            self._hello()
        try:
            reply = wire.receive(self.worker["socket"], timeout)
        except (wire.TimedOut, KeyboardInterrupt) as stop:
            self._stop()
            limit = f"within {timeout:g} s" if isinstance(stop, wire.TimedOut) else "within the cell's time limit"
            # (an interrupt comes from nbclient's cell timeout, which the call's own, shorter, limit should precede)
            verb = "return" if what.startswith("your ") and " cell " not in what else "finish"
            raise StudentCodeTimeout(f"{what} did not {verb} {limit}, so it was stopped (an endless loop, or a "
                                     "stopping rule that never fires?).") from None
        except (wire.Closed, ConnectionError):
            raise self._ended(what) from None
        except wire.WireError as problem:
            self._stop()
            raise StudentProcessEnded(f"{what} sent back something that is not plain data ({problem}).") from None
        if type(reply) is not dict:
            self._stop()
            raise StudentProcessEnded(f"{what} sent back something that is not plain data.")
        return reply

    def _send(self, request: dict, what: str) -> None:
        """Send without waiting: the reply is read before the next exchange (see _drain)."""
        if self.worker["hello"] is None:
            self._hello()
        try:
            wire.send(self.worker["socket"], request)
        except (BrokenPipeError, ConnectionError):
            raise self._ended(what) from None
        self.unanswered.append(what)

    def _drain(self) -> None:
        while self.unanswered:
            what = self.unanswered[0]
            reply = self._receive(self.call_timeout, what)
            self.unanswered.pop(0)
            if not reply.get("ok"):
                self.event("fault", f"{what} failed in the worker: {(reply.get('error') or {}).get('evalue', '')}")

    def _exchange(self, request: dict, what: str) -> dict:
        self._drain()
        self._send(request, what)
        self.unanswered.pop()
        return self._receive(self.call_timeout, what)

    def _request(self, request: dict, what: str) -> dict:
        self._ready()
        return self._exchange(request, what)

    def close(self) -> None:
        self._stop()

    # --- cells -------------------------------------------------------------------------------------------------

    def enter(self, cell: str, share: str | None = None) -> None:
        """Called first in every cell the kernel runs. A course cell passes its source: its imports are sent to the
        worker at once (so that the worker imports scipy while the kernel does), the rest after it has run."""
        self.cell, self.pending_share = cell, share
        if share is not None:
            imports, _, _ = _course_cell_parts(share)
            if imports:
                request = {"op": "define", "code": imports, "values": {}}
                self._ready()
                self._send(request, f"the course cell {cell}")
                self.history.append(request)

    def _after_cell(self, result=None) -> None:
        source, self.pending_share = self.pending_share, None
        if source is not None:
            self.share(source, get_ipython().user_ns)

    def share(self, source: str, namespace: dict) -> None:
        """Send a course cell's definitions (as code) and data (as values) to the worker."""
        _, code, names = _course_cell_parts(source)
        values = {}
        for name in names:      # a value that is not plain data (a module, a function) stays in the kernel
            if name in namespace:
                try:
                    wire.encode(namespace[name])
                    values[name] = namespace[name]
                except wire.WireError:
                    pass
        self.shared |= names | _defined_names(code)
        request = {"op": "define", "code": code, "values": values}
        self._ready()
        self._send(request, f"the course cell {self.cell}")
        self.history.append(request)

    def run_cell(self, source: str, namespace: dict) -> None:
        """Run a student's cell in the worker; its functions become proxies in ``namespace``."""
        cell = self.cell
        code = _python(source)
        request = {"op": "run", "code": code, "cell": cell}
        try:
            reply = self._request(request, f"your cell {cell}")
        except StudentCodeError as fault:
            self.event("fault", str(fault))
            expected = {cell} if cell.isidentifier() else set()   # a solution cell is named after its function
            for name in _defined_names(code) | expected:
                if name not in namespace or isinstance(namespace[name], Proxy):
                    namespace[name] = Undefined(self, name, f"your cell {cell}, which defines it, did not finish "
                                                            f"({fault})")
            raise
        self.history.append(request)
        self._show(reply.get("outputs", []), stderr=True)
        names = [n for n in reply.get("callables", []) if type(n) is str and n.isidentifier()]
        for name in [n for n, v in namespace.items() if isinstance(v, Proxy) and n not in names]:
            del namespace[name]
        for name in names:
            if name not in self.shared and (name not in namespace or isinstance(namespace[name], Proxy)):
                namespace[name] = Proxy(self, name)
        if not reply.get("ok"):
            raise student_error(reply.get("error") or {})

    def call(self, name: str, args: tuple, kwargs: dict):
        try:
            wire.encode([list(args), kwargs])
        except wire.WireError as problem:
            raise TypeError(f"the test passes {name} something that is not plain data: {problem}") from None
        request = {"op": "call", "name": name, "args": list(args), "kwargs": kwargs}
        try:
            reply = self._request(request, f"your {name}")
        except StudentCodeError as fault:
            self.event("fault", str(fault))
            raise
        self._show(reply.get("outputs", []), stderr=False)
        if not reply.get("ok"):
            raise student_error(reply.get("error") or {}, name)
        return reply.get("value")

    def _show(self, outputs: list, stderr: bool) -> None:
        """Print what the worker's code printed (stderr too only outside test cells) and display its figures."""
        for item in outputs:
            if type(item) is not list or len(item) != 2:
                continue
            kind, content = item
            if kind == "stdout" and type(content) is str:
                sys.stdout.write(content)
            elif kind == "stderr" and type(content) is str:
                (sys.stderr if stderr else sys.stdout).write(content)
            elif kind == "result" and type(content) is str:
                _display({"text/plain": content})
            elif kind == "image/png" and type(content) is bytes and content.startswith(b"\x89PNG"):
                _display({"image/png": base64.b64encode(content).decode(), "text/plain": "<Figure>"})
        sys.stdout.flush()
        sys.stderr.flush()

    def event(self, kind: str, detail: str, **extra) -> None:
        with open(self.config["events_file"], "a") as f:
            f.write(json.dumps({"kind": kind, "cell": self.cell, "detail": detail, **extra}) + "\n")


def _display(data: dict) -> None:
    from IPython.display import display
    display(data, raw=True)


def _python(source: str) -> str:
    """The student's cell as plain Python (IPython's ``%magic`` and ``!shell`` lines made into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _defined_names(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _course_cell_parts(source: str) -> tuple[str, str, set[str]]:
    """A course cell split into its imports and its definitions (functions, classes), sent as code, and the names
    its other statements bind, sent as values."""
    tree = ast.parse(source)
    imports, definitions, names = [], [], set()
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            imports.append(ast.unparse(statement))
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions.append(ast.unparse(statement))
        else:
            names |= {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)
                      and isinstance(node.ctx, ast.Store)}
    return "\n".join(imports), "\n\n".join(definitions), names
