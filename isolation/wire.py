"""Plain data between the grading kernel and the worker: a strict codec and length-prefixed frames.

Only these values cross, in either direction: None, bool, int, float, complex, str, bytes, numpy arrays of a
numeric or boolean dtype, and lists, tuples, dicts and named tuples of those. Nothing is pickled and nothing is
evaluated: a frame is a JSON tree of tagged nodes plus raw array buffers, and the decoder checks every node, so
whatever the worker sends, the kernel gets back built-in values and fresh numpy arrays, never an object the
student's code made.

    frame   = 8-byte big-endian length, then: 8-byte header length, header (UTF-8 JSON), buffers
    header  = {"tree": node, "buffers": [length, ...]}
    node    = null | true | false | number | string
            | ["l", [node, ...]] | ["t", [node, ...]] | ["d", [[node, node], ...]]
            | ["c", re, im] | ["B", buffer] | ["a", dtype, shape, buffer] | ["n", typename, [field, ...], [node, ...]]
"""
from __future__ import annotations

import collections
import json
import math
import re
import select
import socket
import struct
import time

import numpy as np

MAX_FRAME = 512 * 2**20   # bytes in one message: far above any answer, far below what would exhaust the kernel
MAX_DEPTH = 64            # nesting of lists, tuples and dicts
MAX_NODES = 1_000_000
NUMERIC_DTYPE = re.compile(r"^[<>|]?(b1|[iu][1248]|f[248]|c(8|16))$")


class WireError(ValueError):
    """A value that cannot cross (an object of another type), or a frame that breaks the format."""


# --- encoding ---------------------------------------------------------------------------------------------------

def encode(value) -> tuple[object, list[bytes]]:
    """``value`` as a JSON tree and its buffers; raises WireError naming the first value that cannot cross."""
    buffers: list[bytes] = []
    return _encode(value, buffers, 0, "the value"), buffers


def _encode(value, buffers: list, depth: int, where: str):
    if depth > MAX_DEPTH:
        raise WireError(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (complex, np.complexfloating)):
        return ["c", float(value.real), float(value.imag)]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        buffers.append(bytes(value))
        return ["B", len(buffers) - 1]
    if isinstance(value, np.ndarray):
        array = np.asarray(value, order="C")   # not ascontiguousarray, which makes a 0-d array 1-d
        dtype = array.dtype.newbyteorder("=") if array.dtype.byteorder not in "=|" else array.dtype
        array = array.astype(dtype, copy=False)
        if not NUMERIC_DTYPE.match(array.dtype.str):
            raise WireError(f"{where} is an array of dtype {value.dtype}, not of numbers")
        buffers.append(array.tobytes())
        return ["a", array.dtype.str, list(array.shape), len(buffers) - 1]
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        fields = [str(f) for f in type(value)._fields]
        items = [_encode(v, buffers, depth + 1, f"{where}.{f}") for f, v in zip(fields, value)]
        return ["n", type(value).__name__, fields, items]
    if isinstance(value, (list, tuple)):
        tag = "l" if isinstance(value, list) else "t"
        return [tag, [_encode(v, buffers, depth + 1, f"{where}[{i}]") for i, v in enumerate(value)]]
    if isinstance(value, dict):
        return ["d", [[_encode(k, buffers, depth + 1, f"a key of {where}"), _encode(v, buffers, depth + 1, f"{where}[{k!r}]")]
                      for k, v in value.items()]]
    raise WireError(f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which is not plain data "
                    "(numbers, strings, numpy arrays, and lists, tuples or dicts of them)")


# --- decoding ---------------------------------------------------------------------------------------------------

def decode(tree, buffers: list[bytes]):
    """The value a tree from ``encode`` stands for; raises WireError at the first node that is not in the format."""
    count = [0]
    return _decode(tree, buffers, 0, count)


def _decode(node, buffers, depth, count):
    count[0] += 1
    if count[0] > MAX_NODES or depth > MAX_DEPTH:
        raise WireError("the value is too large or too deeply nested")
    if node is None or type(node) in (bool, int, float, str):
        return node
    if type(node) is not list or not node or type(node[0]) is not str:
        raise WireError(f"unexpected node of type {type(node).__name__}")
    tag, rest = node[0], node[1:]
    if tag in ("l", "t") and len(rest) == 1 and type(rest[0]) is list:
        items = [_decode(v, buffers, depth + 1, count) for v in rest[0]]
        return items if tag == "l" else tuple(items)
    if tag == "d" and len(rest) == 1 and type(rest[0]) is list:
        result = {}
        for pair in rest[0]:
            if type(pair) is not list or len(pair) != 2:
                raise WireError("a dict entry is not a pair")
            key = _decode(pair[0], buffers, depth + 1, count)
            try:
                result[key] = _decode(pair[1], buffers, depth + 1, count)
            except TypeError:
                raise WireError("a dict key is not hashable") from None
        return result
    if tag == "c" and len(rest) == 2 and all(type(x) in (int, float) for x in rest):
        return complex(rest[0], rest[1])
    if tag == "B" and len(rest) == 1:
        return bytes(_buffer(buffers, rest[0]))
    if tag == "a" and len(rest) == 3:
        dtype, shape, index = rest
        if type(dtype) is not str or not NUMERIC_DTYPE.match(dtype):
            raise WireError(f"array dtype {dtype!r} is not numeric")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
            raise WireError("bad array shape")
        data = _buffer(buffers, index)
        dtype = np.dtype(dtype)
        if math.prod(shape) * dtype.itemsize != len(data):
            raise WireError("array buffer does not match its shape")
        try:
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        except (ValueError, OverflowError):   # an empty buffer with an impossible shape, such as (0, 2**63)
            raise WireError(f"bad array shape {shape}") from None
    if tag == "n" and len(rest) == 3:
        name, fields, values = rest
        if (type(name) is not str or type(fields) is not list or type(values) is not list
                or len(fields) != len(values) or not all(type(f) is str for f in fields)):
            raise WireError("bad named tuple")
        try:
            cls = collections.namedtuple(name, fields)
        except (ValueError, TypeError):
            raise WireError(f"bad named tuple {name!r} {fields!r}") from None
        return cls(*(_decode(v, buffers, depth + 1, count) for v in values))
    raise WireError(f"unknown node {tag!r}")


def _buffer(buffers, index):
    if type(index) is not int or not 0 <= index < len(buffers):
        raise WireError("bad buffer index")
    return buffers[index]


# --- frames -----------------------------------------------------------------------------------------------------

def pack(value) -> bytes:
    tree, buffers = encode(value)
    header = json.dumps({"tree": tree, "buffers": [len(b) for b in buffers]}, allow_nan=True).encode()
    body = struct.pack(">Q", len(header)) + header + b"".join(buffers)
    if len(body) > MAX_FRAME:
        raise WireError(f"the value takes {len(body) / 2**20:.0f} MB, more than the {MAX_FRAME // 2**20} MB allowed")
    return struct.pack(">Q", len(body)) + body


def unpack(body: bytes):
    if len(body) < 8:
        raise WireError("short frame")
    (n,) = struct.unpack(">Q", body[:8])
    if n > len(body) - 8:
        raise WireError("bad header length")
    try:
        header = json.loads(body[8:8 + n])
    except ValueError:
        raise WireError("the header is not JSON") from None
    if type(header) is not dict or type(header.get("buffers")) is not list:
        raise WireError("bad header")
    sizes, offset, buffers = header["buffers"], 8 + n, []
    for size in sizes:
        if type(size) is not int or size < 0 or offset + size > len(body):
            raise WireError("bad buffer size")
        buffers.append(body[offset:offset + size])
        offset += size
    if offset != len(body):
        raise WireError("trailing bytes after the buffers")
    return decode(header.get("tree"), buffers)


def send(sock: socket.socket, value) -> None:
    sock.sendall(pack(value))


class Closed(EOFError):
    """The other side closed the connection (for the kernel: the worker has ended)."""


class TimedOut(TimeoutError):
    """No complete frame arrived in time."""


def receive(sock: socket.socket, timeout: float | None = None):
    """The next value from ``sock``; TimedOut after ``timeout`` seconds, Closed at end of stream."""
    deadline = None if timeout is None else time.monotonic() + timeout
    (length,) = struct.unpack(">Q", _read(sock, 8, deadline))
    if length > MAX_FRAME:
        raise WireError(f"a message of {length} bytes is larger than the {MAX_FRAME} allowed")
    return unpack(_read(sock, length, deadline))


def _read(sock, n: int, deadline) -> bytes:
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([sock], [], [], wait)[0]:
                raise TimedOut()
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            raise Closed()
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
