"""What the operating system can do to contain the worker, applied before it runs any student code (Linux).

Each step is tried in turn and the worker reports which ones took effect (``Containment.summary``):

- **limits**: address space, CPU seconds, file size, open files, no core dumps (``setrlimit``);
- **namespaces**: a mount and network namespace of its own (a user namespace too when not root). Inside it the
  course folder, the exchange and the library's sources are covered by empty file systems (the Python installation
  and the data files the datasets read are bound back, read-only), every mount is made read-only, the worker's
  temporary folder is a small writable tmpfs, ``/proc`` is covered (no other process can be seen), and the network
  is a loopback that is down;
- **no privileges**: every capability dropped, ``no_new_privs`` set;
- **seccomp**: a filter that refuses the system calls that make processes or threads, send signals, trace other
  processes, open sockets or change mounts, whatever Python code asks for them.

Running as root (as on a JupyterHub), the worker keeps uid 0 but loses every capability: with all mounts read-only
and signals refused that is what an unprivileged user gives, and unlike the ``nobody`` account it can still read a
Python installed under ``/root``. Off Linux, or where a step is refused, the report says what is missing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import errno
import os
import platform
import resource
import signal
import struct

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 4096, 16384, 1 << 18
AT_RECURSIVE, MOUNT_ATTR_RDONLY = 0x8000, 0x1
O_PATH = getattr(os, "O_PATH", 0o10000000)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAPBSET_DROP = 1, 38, 22, 24
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000

# System calls the worker never needs once it runs student code (x86-64 and arm64 numbers).
DENIED = {
    "x86_64": dict(arch=0xC000003E, mount_setattr=442, calls=[
        41, 42, 43, 49, 50, 53, 288,            # socket connect accept bind listen socketpair accept4
        56, 57, 58, 59, 322, 435,               # clone fork vfork execve execveat clone3
        62, 200, 234, 424, 434, 438,            # kill tkill tgkill pidfd_send_signal pidfd_open pidfd_getfd
        101, 310, 311,                          # ptrace process_vm_readv process_vm_writev
        155, 161, 165, 166, 272, 308,           # pivot_root chroot mount umount2 unshare setns
        428, 429, 430, 431, 432, 433, 442,      # open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr
        175, 176, 246, 313, 320, 169, 167, 168,  # modules, kexec, reboot, swap
        248, 249, 250, 298, 321, 323,           # add_key request_key keyctl perf_event_open bpf userfaultfd
        425, 426, 427,                          # io_uring_setup io_uring_enter io_uring_register
    ]),
    "aarch64": dict(arch=0xC00000B7, mount_setattr=442, calls=[
        198, 199, 200, 201, 202, 203, 242,
        220, 221, 281, 435,
        129, 130, 131, 424, 434, 438,
        117, 270, 271,
        41, 51, 40, 39, 97, 268,
        428, 429, 430, 431, 432, 433, 442,
        105, 106, 104, 273, 294, 142, 224, 225,
        217, 218, 219, 241, 280, 282,
        425, 426, 427,
    ]),
}


@dataclasses.dataclass
class Containment:
    """Which steps took effect, and why the others did not."""

    steps: dict[str, str] = dataclasses.field(default_factory=dict)   # step -> "ok" or the reason it failed

    def did(self, step: str, error: BaseException | str | None = None) -> None:
        self.steps[step] = "ok" if error is None else str(error)

    @property
    def complete(self) -> bool:
        return all(self.steps.get(s) == "ok" for s in ("limits", "namespaces", "no privileges", "seccomp"))

    @property
    def summary(self) -> str:
        missing = [f"{s} ({why})" for s, why in self.steps.items() if why != "ok"]
        done = [s for s, why in self.steps.items() if why == "ok"]
        return ("separate process" + "".join(f", {s}" for s in done)
                + (f"; not available: {'; '.join(missing)}" if missing else ""))


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def die_with_parent() -> None:
    """SIGKILL this process when the process that started it (the grading kernel) ends."""
    if platform.system() == "Linux":
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def set_limits(memory_mb: int, cpu_seconds: int, file_mb: int = 64, open_files: int = 256) -> None:
    for name, value in (("RLIMIT_AS", memory_mb * 2**20), ("RLIMIT_CPU", cpu_seconds),
                        ("RLIMIT_FSIZE", file_mb * 2**20), ("RLIMIT_NOFILE", open_files), ("RLIMIT_CORE", 0)):
        limit = getattr(resource, name, None)
        if limit is not None:
            soft, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value))
    if os.geteuid() != 0 and hasattr(resource, "RLIMIT_NPROC"):
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))   # no new process or thread (not enforced for root)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def enter_namespaces(hidden: list[str], keep: list[str], scratch: str, scratch_mb: int = 256) -> None:
    """A mount and network namespace in which ``hidden`` folders are empty (but for the ``keep`` folders inside
    them), everything is read-only but ``scratch`` (a fresh tmpfs), and ``/proc`` is covered."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | (CLONE_NEWUSER if os.geteuid() != 0 else 0)
    _check(libc.unshare(flags), "unshare")
    if flags & CLONE_NEWUSER:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    mount = libc.mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    _check(mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    hidden = sorted({os.path.realpath(h) for h in hidden if os.path.isdir(h)}, key=len)
    hidden = [h for h in hidden if not any(_inside(h, other) and h != other for other in hidden)]
    keep = sorted({os.path.realpath(k) for k in keep if os.path.exists(k)})
    kept = [(k, os.open(k, O_PATH)) for k in keep if any(_inside(k, h) for h in hidden)]
    for folder in hidden:
        _check(mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64k,mode=755"), f"cover {folder}")
    for path, fd in kept:
        os.makedirs(path, exist_ok=True) if os.path.isdir(f"/proc/self/fd/{fd}") else _touch(path)
        _check(mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None), f"keep {path}")
        os.close(fd)
    _read_only_everywhere(libc)
    _check(mount(b"tmpfs", scratch.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                 f"size={scratch_mb}m,mode=700,uid={uid},gid={gid}".encode()), "scratch tmpfs")
    _check(mount(b"tmpfs", b"/proc", b"tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, b"size=4k,mode=555"), "cover /proc")


def _touch(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "a").close()


def _read_only_everywhere(libc) -> None:
    # struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
    attr = struct.pack("QQQQ", MOUNT_ATTR_RDONLY, 0, 0, 0)
    buf = ctypes.create_string_buffer(attr, len(attr))
    number = DENIED.get(platform.machine(), {}).get("mount_setattr")
    if number is None:
        raise OSError(errno.ENOSYS, "mount_setattr: unknown architecture")
    dirfd = ctypes.c_int(-100)  # AT_FDCWD
    result = libc.syscall(number, dirfd, b"/", AT_RECURSIVE, buf, len(attr))
    _check(result, "make every mount read-only")


def drop_privileges() -> None:
    """No capabilities (none in the bounding set either) and no way to gain any (no_new_privs)."""
    libc = _libc()
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)   # fails harmlessly past the last capability
    header = ctypes.create_string_buffer(struct.pack("Ii", 0x20080522, 0), 8)  # _LINUX_CAPABILITY_VERSION_3, self
    data = ctypes.create_string_buffer(24)   # effective, permitted, inheritable: all 0, for bits 0-31 and 32-63
    _check(libc.syscall(_capset_number(), header, data), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _capset_number() -> int:
    return {"x86_64": 126, "aarch64": 91}[platform.machine()]


def install_seccomp() -> None:
    """Refuse (EPERM) the system calls in DENIED for this process and any it could make."""
    table = DENIED.get(platform.machine())
    if table is None:
        raise OSError(errno.ENOSYS, f"seccomp: no table for {platform.machine()}")
    calls = table["calls"]
    LD, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06

    def op(code, jt, jf, k):
        return struct.pack("HBBI", code, jt, jf, k)

    deny_at = 5 + len(calls) + 1          # index of the last instruction, the refusal
    program = [op(LD, 0, 0, 4),                               # A = arch
               op(JEQ, 1, 0, table["arch"]),                  # the expected architecture: go on
               op(RET, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM),  # another ABI: refuse every call
               op(LD, 0, 0, 0)]                               # A = syscall number
    program.append(op(JGE, deny_at - len(program) - 1, 0, 0x40000000))  # x32 calls on x86-64
    for number in calls:
        program.append(op(JEQ, deny_at - len(program) - 1, 0, number))
    program.append(op(RET, 0, 0, SECCOMP_RET_ALLOW))
    program.append(op(RET, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM))
    code = b"".join(program)
    filters = ctypes.create_string_buffer(code, len(code))
    fprog = struct.pack("HxxxxxxP", len(program), ctypes.addressof(filters))
    libc = _libc()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")   # what the kernel asks of a filter's maker
    _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.create_string_buffer(fprog, len(fprog)), 0, 0),
           "seccomp")


def contain(*, hidden: list[str], keep: list[str], scratch: str, memory_mb: int, cpu_seconds: int) -> Containment:
    """Apply every step that this system allows; what did not take effect is in the result."""
    done = Containment()
    try:
        set_limits(memory_mb, cpu_seconds)
        done.did("limits")
    except (OSError, ValueError) as error:
        done.did("limits", error)
    if platform.system() != "Linux":
        for step in ("namespaces", "no privileges", "seccomp"):
            done.did(step, f"needs Linux (this is {platform.system()})")
        return done
    for step, action in (("namespaces", lambda: enter_namespaces(hidden, keep, scratch)),
                         ("no privileges", drop_privileges), ("seccomp", install_seccomp)):
        try:
            action()
            done.did(step)
        except (OSError, KeyError, AttributeError) as error:
            done.did(step, error)
    return done
