"""The forkserver: one process per grading run that imports what answers use once, and forks a fresh worker for
each notebook (``python -I -m isolation.forkserver FOLDER FENCED ALLOWED``).

Starting a worker from scratch costs about a second of CPU (numpy, scipy.special, scipy.stats and matplotlib are
imported again for every submission); a fork of a process that has imported them costs milliseconds. The
forkserver imports nothing of the fenced library and runs no student code: it listens on ``FOLDER/forkserver.sock``
(a folder only the grading user can enter), and for each connection it reads the worker's policy, forks, and the
child contains itself and serves that connection (``worker.start``). When a child ends, its exit status is written
to ``FOLDER/exit-PID`` for the kernel that used it (which is not its parent, so cannot wait for it). It ends with the
nbgrader process that started it.
"""
from __future__ import annotations

import errno
import json
import os
import select
import signal
import socket
import sys

from . import containment, wire, worker

PRELOAD = ("numpy", "numpy.linalg", "scipy", "scipy.linalg", "scipy.special", "scipy.stats", "scipy.optimize",
           "matplotlib", "matplotlib.pyplot")


def preload() -> None:
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass


def reap(folder: str) -> None:
    """Record the exit status of every child that has ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        with open(os.path.join(folder, f"exit-{pid}.tmp"), "w") as f:
            f.write(str(os.waitstatus_to_exitcode(status)))
        os.replace(os.path.join(folder, f"exit-{pid}.tmp"), os.path.join(folder, f"exit-{pid}"))


def serve(folder: str, fenced: list[str], allowed: list[str]) -> None:
    containment.die_with_parent()
    preload()
    fence_error = worker.fence({"fenced": fenced, "allowed": allowed})
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(folder, "forkserver.sock"))
    listener.listen(64)
    signal.signal(signal.SIGCHLD, lambda *_: None)   # wake select() when a child ends
    while True:
        try:
            ready = select.select([listener], [], [], 1.0)[0]
        except InterruptedError:
            ready = []
        reap(folder)
        if not ready:
            continue
        try:
            connection, _ = listener.accept()
        except OSError as error:
            if error.errno in (errno.EINTR, errno.EAGAIN):
                continue
            raise
        try:
            policy = wire.receive(connection, 30)
        except (wire.WireError, wire.Closed, wire.TimedOut, OSError):
            connection.close()
            continue
        pid = os.fork()
        if pid == 0:                                          # the worker
            try:
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.setsid()
                containment.die_with_parent()
                worker.start(connection, policy, fence_error)
            finally:
                os._exit(0)
        connection.close()


if __name__ == "__main__":
    serve(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]))
