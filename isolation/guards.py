"""In-process guards of the worker: the library fence and an audit hook, installed before any student code runs.

- **The fence.** The modules of the library that assignments ask students to write (for this course every
  ``emlib`` module but a few harmless ones, from ``nbgrader_config.py``) are never imported in the worker. Importing
  one gives a stand-in whose functions raise "this answer calls emlib.gmm.e_step, the library's own implementation
  ...", so an answer that delegates to the library, through an alias, a copy or a lazy value, fails that part and
  says why. The real code is not in the worker's memory, so no patching of the worker can bring it back.
- **The audit hook** (``sys.addaudithook``, which cannot be removed) refuses, with a message, what the operating
  system's containment also refuses where it is available: reading the course folder or the library's sources,
  writing outside the worker's scratch folder, starting processes, sockets, signals, ``ctypes`` and
  sub-interpreters. Where the namespaces and seccomp of ``containment`` are missing it is the only barrier, and an
  in-process one: ``docs/instructor.md`` says what that leaves open.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import types

LIBRARY_MESSAGE = ("this answer uses {name}, part of the library's own implementation of what you were asked to "
                   "write (it is not available while your work is graded). Write the step yourself (numpy and "
                   "scipy are fine).")


class LibraryCall(AssertionError):
    """A call of a fenced library function."""


class Forbidden:
    """Stands for ``name`` in a fenced module: calling it (or anything reached from it) raises LibraryCall."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def __call__(self, *args, **kwargs):
        raise LibraryCall(LIBRARY_MESSAGE.format(name=self._name))

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Forbidden(f"{self._name}.{attr}")

    def __repr__(self) -> str:
        return f"<{self._name}: not available while your work is graded>"


class FencedModule(types.ModuleType):
    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Forbidden(f"{self.__name__}.{attr}")


class Fence(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of ``fenced`` packages' modules (but the ``allowed`` ones) give a FencedModule."""

    def __init__(self, fenced: list[str], allowed: list[str]):
        self.fenced, self.allowed = tuple(fenced), set(allowed)

    def covers(self, name: str) -> bool:
        return (any(name == f or name.startswith(f + ".") for f in self.fenced) and name not in self.allowed
                and name not in self.fenced)

    def find_spec(self, name, path=None, target=None):
        if self.covers(name):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = FencedModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def install_fence(fenced: list[str], allowed: list[str]) -> Fence:
    """Import the allowed modules (they must not pull in a fenced one), then put the fence first on the import path."""
    fence = Fence(fenced, allowed)
    for name in sorted(allowed):
        __import__(name)
    leaked = [name for name in sys.modules if fence.covers(name)]
    if leaked:
        raise RuntimeError(f"the allowed modules imported fenced ones: {leaked}")
    sys.meta_path.insert(0, fence)
    return fence


PROCESS_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                  "pty.spawn", "os.startfile")
SIGNAL_EVENTS = ("os.kill", "os.killpg", "signal.pthread_kill")
NETWORK_EVENTS = ("socket.__new__", "socket.bind", "socket.connect", "socket.getaddrinfo", "socket.sendto",
                  "socket.sendmsg", "socket.socketpair")
PATH_EVENTS = {"os.remove": 0, "os.rename": 0, "os.rmdir": 0, "os.mkdir": 0, "os.symlink": 1, "os.link": 1,
               "os.chmod": 0, "os.chown": 0, "os.truncate": 0, "os.utime": 0, "shutil.rmtree": 0, "shutil.copyfile": 1,
               "shutil.move": 1, "shutil.copytree": 1, "os.chflags": 0}
LISTING_EVENTS = ("os.listdir", "os.scandir", "glob.glob", "os.walk")
SUBINTERPRETERS = ("_xxsubinterpreters", "_interpreters", "_xxinterpchannels", "_interpchannels", "interpreters",
                   "_xxinterpqueues", "_interpqueues")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Refused(PermissionError):
    """What the worker may not do while a student's work is graded."""


def install_audit_hook(hidden: list[str], keep: list[str], scratch: str) -> None:
    """Refuse, irreversibly, reading ``hidden`` folders (but ``keep``), writing outside ``scratch``, new processes,
    sockets, signals, ctypes and sub-interpreters."""
    hidden = [os.path.realpath(h) for h in hidden]
    keep = [os.path.realpath(k) for k in keep]
    scratch = os.path.realpath(scratch)

    def inside(path, folder):
        return path == folder or path.startswith(folder.rstrip("/") + "/")

    def resolve(path):
        if isinstance(path, int):
            return None
        try:
            return os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return None

    def secret(path) -> bool:
        path = resolve(path)
        return path is not None and any(inside(path, h) for h in hidden) and not any(inside(path, k) for k in keep)

    def opens_a_way_in(path) -> bool:
        """A path whose file descriptor, given as ``dir_fd``, would reach a hidden folder: a folder above one, or
        a relative path with ".." (relative to a ``dir_fd``, not to the working folder, which the hook cannot see)."""
        if isinstance(path, int):
            return False
        text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        if not os.path.isabs(text) and ".." in text.replace("\\", "/").split("/"):
            return True
        resolved = resolve(path)
        return resolved is not None and any(inside(h, resolved) and h != resolved for h in hidden)

    def outside_scratch(path) -> bool:
        path = resolve(path)
        return path is not None and not inside(path, scratch) and path != os.devnull

    def hook(event, args):
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS)
            if secret(path) or opens_a_way_in(path):
                raise Refused(f"{os.fsdecode(path)}: the course folder and the library's sources cannot be read "
                              "while your work is graded")
            if writing and outside_scratch(path):
                raise Refused(f"{os.fsdecode(path)}: your code may only write files in its own working folder "
                              "while it is graded")
        elif event == "sqlite3.connect":
            database = args[0] if args else None
            if secret(database) or (database not in (":memory:", "") and outside_scratch(database)):
                raise Refused(f"{database}: your code may only use databases in its own working folder while it is "
                              "graded")
        elif event in LISTING_EVENTS:
            if args and (isinstance(args[0], int) or secret(args[0])):
                raise Refused(f"{args[0]}: the course folder cannot be listed while your work is graded")
        elif event in PATH_EVENTS:
            if len(args) > PATH_EVENTS[event] and outside_scratch(args[PATH_EVENTS[event]]):
                raise Refused(f"{event}: your code may only change files in its own working folder while it is graded")
        elif event.startswith(PROCESS_EVENTS):
            raise Refused("starting another process is not allowed while your work is graded: compute in this one")
        elif event.startswith(SIGNAL_EVENTS):
            raise Refused("sending signals is not allowed while your work is graded")
        elif event.startswith(NETWORK_EVENTS):
            raise Refused("network connections are not allowed while your work is graded")
        elif event.startswith("ctypes."):
            raise Refused("ctypes is not allowed while your work is graded")
        elif event == "import" and args and str(args[0]).split(".")[0] in SUBINTERPRETERS:
            raise Refused("sub-interpreters are not allowed while your work is graded")

    sys.addaudithook(hook)
