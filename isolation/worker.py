"""The worker: the process in which a student's code runs while it is graded (``python -I -m isolation.worker``).

It is started by the grading kernel (``isolation.kernel``) with one end of a socket pair and a JSON policy. Before
it reads a message it contains itself (``containment``), fences the library and installs the audit hook
(``guards``); then it serves requests, each a plain-data message (``wire``), until the kernel closes the socket:

    {"op": "define", "code": ..., "values": {...}}   the course's own set-up: data and definitions
    {"op": "run", "code": ..., "cell": ...}          a student's cell; answers with its output and the names it defines
    {"op": "call", "name": ..., "args": [...], "kwargs": {...}}   call a student's function; answers with the result

Everything the student's code prints, warns or draws is captured and sent back as text and PNG images. Nothing in
this process is trusted: the kernel only ever reads plain data from it.
"""
from __future__ import annotations

import ast
import builtins
import io
import json
import linecache
import os
import socket
import sys
import traceback

from . import containment, guards, wire

OUTPUT_LIMIT = 200_000     # characters of printed output kept per cell or call
MAX_FIGURES = 20


class Output(io.TextIOBase):
    """A stand-in for sys.stdout / sys.stderr that records what is written, up to OUTPUT_LIMIT characters."""

    def __init__(self, sink: list, stream: str):
        self.sink, self.stream = sink, stream

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        used = sum(len(t) for kind, t in self.sink if kind in ("stdout", "stderr"))
        if used < OUTPUT_LIMIT:
            kept = text[: OUTPUT_LIMIT - used]
            if len(kept) < len(text):
                kept += "\n[... more output was cut]\n"
            if self.sink and self.sink[-1][0] == self.stream:
                self.sink[-1] = (self.stream, self.sink[-1][1] + kept)
            else:
                self.sink.append((self.stream, kept))
        return len(text)


class Shell:
    """What ``get_ipython()`` gives student code here: the magics a notebook commonly has, run or ignored."""

    IGNORED = {"matplotlib", "load_ext", "autoreload", "config", "precision", "reload_ext", "aimport"}

    def run_line_magic(self, name, line, _stack_depth=1):
        if name in self.IGNORED:
            return None
        if name in ("time", "timeit"):
            return exec(compile(line, "<magic>", "exec"), sys._getframe(1).f_globals)
        raise RuntimeError(f"%{name} does not run while your work is graded: take it out of the graded cells")

    def run_cell_magic(self, name, line, cell):
        if name in ("time", "timeit", "capture"):
            return exec(compile(cell, "<magic>", "exec"), sys._getframe(1).f_globals)
        raise RuntimeError(f"%%{name} does not run while your work is graded: take it out of the graded cells")

    def system(self, command):
        raise RuntimeError(f"shell commands (!{command}) do not run while your work is graded")

    getoutput = system


class Worker:
    def __init__(self):
        self.namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": lambda: self.shell,
                          "display": self.display}
        self.shell = Shell()
        self.sink: list = []

    # --- capture ---------------------------------------------------------------------------------------------

    def display(self, *objects, **kwargs):
        for obj in objects:
            self.sink.append(("result", _short_repr(obj)))

    def captured(self, action):
        """Run ``action()`` with stdout, stderr and warnings recorded; returns (value, error, outputs)."""
        self.sink = []
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = Output(self.sink, "stdout"), Output(self.sink, "stderr")
        try:
            return action(), None, self.outputs()
        except BaseException as error:  # noqa: B902 - whatever student code raises is reported, never re-raised
            return None, describe(error), self.outputs()
        finally:
            sys.stdout, sys.stderr = saved

    def outputs(self) -> list:
        figures = []
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            try:
                for number in pyplot.get_fignums()[:MAX_FIGURES]:
                    buffer = io.BytesIO()
                    pyplot.figure(number).savefig(buffer, format="png", bbox_inches="tight")
                    figures.append(("image/png", buffer.getvalue()))
            except Exception as error:  # a figure the student's code broke: say so, keep the rest
                self.sink.append(("stderr", f"the figure could not be drawn: {error}\n"))
            finally:
                pyplot.close("all")
        return [list(item) for item in self.sink] + [list(f) for f in figures]

    # --- requests ----------------------------------------------------------------------------------------------

    def define(self, code: str, values: dict) -> dict:
        self.namespace.update(values)
        _, error, outputs = self.captured(lambda: exec(compile(code, "<course set-up>", "exec"), self.namespace))
        return {"ok": error is None, "error": error, "outputs": outputs}

    def run(self, code: str, cell: str) -> dict:
        filename = f"<your cell {cell}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        _, error, outputs = self.captured(lambda: self._execute(code, filename))
        return {"ok": error is None, "error": error, "outputs": outputs, "callables": self.callables()}

    def _execute(self, code: str, filename: str) -> None:
        tree = ast.parse(code, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), self.namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), self.namespace)
            if value is not None:
                self.sink.append(("result", _short_repr(value)))

    def callables(self) -> list[str]:
        return sorted(name for name, value in list(self.namespace.items())
                      if not name.startswith("_") and callable(value) and name not in ("get_ipython", "display")
                      and not isinstance(value, type(sys)))

    def call(self, name: str, args: list, kwargs: dict) -> dict:
        function = self.namespace.get(name)
        if not callable(function):
            return {"ok": False, "outputs": [], "error": {
                "ename": "NameError", "evalue": f"name {name!r} is not defined in your notebook", "traceback": ""}}
        value, error, outputs = self.captured(lambda: _plain(function(*args, **kwargs), name))
        return {"ok": error is None, "error": error, "outputs": outputs, "value": value}


def _plain(value, name: str):
    """A plain copy of ``value``, made here where the student's code runs and is timed (a lazy value computes now):
    exact built-in types and numpy arrays only, so that sending it runs none of the student's code again."""
    try:
        return wire.decode(*wire.encode(value))
    except wire.WireError as problem:
        raise UnusableResult(f"your {name} returned something the tests cannot use: {str(problem).replace('the value', 'it')}. "
                             "Return numbers, numpy arrays, or tuples, lists or dicts of them.") from None


class UnusableResult(TypeError):
    pass


def _short_repr(value, limit: int = 10_000) -> str:
    try:
        text = repr(value)
    except Exception as error:
        text = f"<repr failed: {error}>"
    return text if len(text) <= limit else text[:limit] + " ..."


def describe(error: BaseException) -> dict:
    """An exception as plain data: its type, message, the traceback through the student's code, and where it was."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = os.path.dirname(os.path.abspath(__file__))
    frames = [f for f in frames if not f.filename.startswith(ours)]
    student = [f for f in frames if f.filename.startswith("<your cell ")]
    where = None
    if student:
        f = student[-1]
        where = {"cell": f.filename[len("<your cell "):-1], "line": f.lineno, "code": (f.line or "").strip()}
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames),
             *traceback.format_exception_only(type(error), error)]
    try:
        message = str(error)
    except Exception:
        message = "<the error's message could not be shown>"
    return {"ename": type(error).__name__, "module": type(error).__module__, "evalue": message[:20_000],
            "traceback": "".join(lines)[-20_000:], "where": where,
            "base": [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"]}


def serve(sock: socket.socket, worker: Worker) -> None:
    while True:
        try:
            request = wire.receive(sock)
        except wire.Closed:
            return
        op = request.get("op")
        if op == "define":
            reply = worker.define(request["code"], request.get("values", {}))
        elif op == "run":
            reply = worker.run(request["code"], request["cell"])
        elif op == "call":
            reply = worker.call(request["name"], request.get("args", []), request.get("kwargs", {}))
        else:
            reply = {"ok": False, "error": {"ename": "ValueError", "evalue": f"unknown request {op!r}", "traceback": ""}}
        try:
            wire.send(sock, reply)
        except wire.WireError as problem:   # output that cannot cross (too large): say so instead
            wire.send(sock, {"ok": False, "outputs": [], "error": {
                "ename": "UnusableResult", "evalue": str(problem), "traceback": "", "base": ["TypeError"]}})


def start(sock: socket.socket, policy: dict, fence_error: str | None = None) -> None:
    """Contain this process as ``policy`` says, say hello (with what containment took effect), and serve."""
    os.environ.update(policy.get("env", {}))
    done = containment.contain(hidden=policy["hidden"], keep=policy["keep"], scratch=policy["scratch"],
                               memory_mb=policy["memory_mb"], cpu_seconds=policy["cpu_seconds"])
    guards.install_audit_hook(policy["hidden"], policy["keep"], policy["scratch"])
    os.chdir(policy["scratch"])
    wire.send(sock, {"hello": True, "containment": done.summary, "complete": done.complete, "fence": fence_error,
                     "pid": os.getpid()})
    serve(sock, Worker())


def fence(policy: dict) -> str | None:
    """Install the library fence; the error, as text, if the allowed modules pulled in a fenced one."""
    try:
        guards.install_fence(policy["fenced"], policy["allowed"])
        return None
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def main(argv: list[str]) -> None:
    """``python -I -m isolation.worker FD POLICY``: one worker on an inherited socket (the forkserver is the usual
    way to start one: ``isolation.forkserver``)."""
    fd, policy = int(argv[1]), json.loads(argv[2])
    sock = socket.socket(fileno=fd)
    containment.die_with_parent()
    import numpy  # noqa: F401  (before the limits: numpy is what every answer uses)
    start(sock, policy, fence(policy))


if __name__ == "__main__":
    main(sys.argv)
