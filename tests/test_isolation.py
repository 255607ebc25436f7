"""The isolation package: plain data on the wire, the static check, the contained worker and the report.

Fast unit tests: the worker is driven directly, as ``isolation.kernel.Session`` starts it, without IPython or
nbgrader (test_assignments.py grades whole submissions through it).
"""
from __future__ import annotations

import collections
import contextlib
import csv
import dataclasses
import json
import math
import os
import pathlib
import re
import platform
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import typing

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import emlib
import isolation
from assignment_cases import CASES
from grading import solution_answers
from isolation import report, static_check, wire

ROOT = pathlib.Path(__file__).resolve().parents[1]


# --- wire: what crosses comes back the same -----------------------------------------------------------------

Params = collections.namedtuple("Params", ["weights", "means"])


class Fit(typing.NamedTuple):
    params: Params
    objective: np.ndarray


def deep(levels: int):
    """A number inside ``levels`` nested lists: it sits at depth ``levels`` of the tree."""
    value = 0
    for _ in range(levels):
        value = [value]
    return value


def deep_tree(levels: int):
    """The wire's tree of ``deep(levels)``, built by hand (as a hostile worker would send it)."""
    node = 0
    for _ in range(levels):
        node = ["l", [node]]
    return node


ROUND_TRIP = {
    "None": None, "True": True, "False": False, "zero": 0, "negative int": -7,
    "int beyond 64 bits": 2**200 + 1, "float": 0.1, "negative zero": -0.0, "nan": math.nan, "inf": math.inf,
    "-inf": -math.inf, "complex": 1.5 - 2j, "str": "Old Faithful: éruption ✓", "empty str": "",
    "bytes": b"\x00\xff\x89PNG", "empty bytes": b"",
    **{f"array {t}": np.arange(6).astype(t).reshape(2, 3)
       for t in ("bool", "int8", "uint16", "int32", "int64", "float32", "float64", "complex64", "complex128")},
    "0-d array": np.array(3.5), "empty array": np.zeros((0, 3)),
    "transposed array": np.arange(12.0).reshape(3, 4).T, "strided array": np.arange(10)[::3],
    "big-endian float array": np.array([0.1, -2.5, 1e300], dtype=">f8"),
    "big-endian 2-d int array": np.arange(6, dtype=">i4").reshape(3, 2),
    "array with nan and inf": np.array([np.nan, np.inf, -np.inf, 1.0]),
    "nested": {"weights": [0.5, 0.5], "runs": ({"tol": 1e-8}, [np.eye(2), None]), 3: "three", (1, 2): b"pair",
               2.5: [[], (), {}]},
    "named tuple": Params(weights=np.array([0.3, 0.7]), means=[1.0, 2.0]),
    "typing.NamedTuple of a named tuple": Fit(Params(0.5, 1.0), np.array([-3.0, -2.0])),
    "list of named tuples": [Params(1, 2), Params(3, 4)],
    f"nested {wire.MAX_DEPTH} levels deep (the most allowed)": deep(wire.MAX_DEPTH),
}


def through_tree(value):
    return wire.decode(*wire.encode(value))


def through_frame(value):
    frame = wire.pack(value)
    (length,) = struct.unpack(">Q", frame[:8])
    assert length == len(frame) - 8
    return wire.unpack(frame[8:])


def through_socket(value):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        wire.send(ours, value)
        return wire.receive(theirs, timeout=10)


def assert_same(decoded, original, where="value"):
    """``decoded`` is ``original`` rebuilt from built-in types and fresh arrays (native byte order)."""
    if isinstance(original, np.ndarray):
        assert type(decoded) is np.ndarray, where
        assert decoded.dtype == original.dtype.newbyteorder("="), where
        assert decoded.dtype.isnative, where
        assert decoded.shape == original.shape, where
        assert np.array_equal(decoded, original, equal_nan=original.dtype.kind in "fc"), where
    elif isinstance(original, tuple) and hasattr(original, "_fields"):
        assert type(decoded).__name__ == type(original).__name__, where
        assert decoded._fields == original._fields, where
        for field in original._fields:
            assert_same(getattr(decoded, field), getattr(original, field), f"{where}.{field}")
    elif isinstance(original, (list, tuple)):
        assert type(decoded) is type(original) and len(decoded) == len(original), where
        for i, (d, o) in enumerate(zip(decoded, original)):
            assert_same(d, o, f"{where}[{i}]")
    elif isinstance(original, dict):
        assert type(decoded) is dict and list(decoded) == list(original), where
        for key in original:
            assert_same(decoded[key], original[key], f"{where}[{key!r}]")
    elif isinstance(original, float) and math.isnan(original):
        assert type(decoded) is float and math.isnan(decoded), where
    else:
        assert type(decoded) is type(original) and decoded == original, where
        if isinstance(original, float):   # -0.0 == 0.0: the sign must cross too
            assert math.copysign(1, decoded) == math.copysign(1, original), where


def test_the_round_trips_include_big_endian_and_non_contiguous_arrays():
    arrays = [v for v in ROUND_TRIP.values() if isinstance(v, np.ndarray)]
    assert any(a.dtype.byteorder == ">" for a in arrays) or sys.byteorder == "big"
    assert any(not a.flags.c_contiguous for a in arrays)
    assert any(a.ndim == 0 for a in arrays) and any(a.size == 0 for a in arrays)


@pytest.mark.parametrize("route", [through_tree, through_frame, through_socket], ids=["tree", "frame", "socket"])
@pytest.mark.parametrize("value", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_plain_data_round_trips(value, route):
    assert_same(route(value), value)


def test_numpy_scalars_and_bytearrays_arrive_as_built_in_values():
    sent = [np.float64(0.25), np.float32(0.5), np.int64(-3), np.uint8(200), np.bool_(True), np.complex128(1j),
            bytearray(b"ab")]
    received = through_frame(sent)
    assert [type(v) for v in received] == [float, float, int, int, bool, complex, bytes]
    assert received == [0.25, 0.5, -3, 200, True, 1j, b"ab"]


def test_decoded_arrays_are_writable_copies():
    tree, buffers = wire.encode({"means": np.arange(4.0)})
    first, second = wire.decode(tree, buffers)["means"], wire.decode(tree, buffers)["means"]
    assert first.flags.writeable and first.flags.owndata
    first[0] = 99.0
    assert second[0] == 0.0 and wire.decode(tree, buffers)["means"][0] == 0.0


# --- wire: what does not cross -----------------------------------------------------------------------------

class Result:
    def __init__(self):
        self.weights = np.array([0.5, 0.5])


NOT_PLAIN = {
    "object array": (np.array([1, "two"], dtype=object), "dtype object"),
    "structured array": (np.zeros(2, dtype=[("weight", "f8"), ("count", "i4")]), "not of numbers"),
    "string array": (np.array(["a", "bc"]), "not of numbers"),
    "class instance": (Result(), "Result, which is not plain data"),
    "generator": ((x for x in range(3)), "generator, which is not plain data"),
    "lambda": (lambda x: x, "function, which is not plain data"),
    "set": ({1, 2}, "set, which is not plain data"),
    f"nested {wire.MAX_DEPTH + 1} levels deep": (deep(wire.MAX_DEPTH + 1), f"more than {wire.MAX_DEPTH} levels"),
}


@pytest.mark.parametrize("value, message", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_what_is_not_plain_data_is_refused(value, message):
    with pytest.raises(wire.WireError, match=message):
        wire.encode(value)
    with pytest.raises(wire.WireError, match=message):
        wire.pack(value)


def test_the_refusal_names_where_the_value_is():
    with pytest.raises(wire.WireError, match=r"the value\['fit'\]\.params\[1\] is a .*Result"):
        wire.encode({"fit": Fit(params=[1.0, Result()], objective=np.zeros(1))})


# --- wire: hostile frames -----------------------------------------------------------------------------------

def body(tree, *buffers: bytes, sizes=None) -> bytes:
    """A frame's body (what ``unpack`` reads): header length, JSON header, buffers; ``sizes`` overrides the header's."""
    header = json.dumps({"tree": tree, "buffers": [len(b) for b in buffers] if sizes is None else sizes}).encode()
    return struct.pack(">Q", len(header)) + header + b"".join(buffers)


def raw(header: bytes) -> bytes:
    return struct.pack(">Q", len(header)) + header


TWO_FLOATS = np.array([1.0, 2.0]).tobytes()


def test_the_hostile_frames_below_differ_from_a_valid_one_only_where_they_say():
    assert_same(wire.unpack(body(["a", "<f8", [2], 0], TWO_FLOATS)), np.array([1.0, 2.0]))
    assert_same(wire.unpack(body(deep_tree(wire.MAX_DEPTH))), deep(wire.MAX_DEPTH))
    assert_same(wire.unpack(body(["n", "Params", ["weights", "means"], [1, 2]])), Params(1, 2))
    assert wire.unpack(body(["B", 0], b"xy")) == b"xy"


HOSTILE = {
    "shorter than a header length": (b"\x00\x00", "short frame"),
    "header length past the end": (struct.pack(">Q", 100) + b"{}", "bad header length"),
    "header not JSON": (raw(b"{not json"), "not JSON"),
    "header not a dict": (raw(b"[1, 2]"), "bad header$"),
    "buffers not a list": (raw(b'{"tree": 1, "buffers": 3}'), "bad header$"),
    "unknown tag": (body(["x", 1]), "unknown node 'x'"),
    "a JSON object as a node": (body({"op": "run"}), "unexpected node of type dict"),
    "complex of a bool": (body(["c", True, 1.0]), "unknown node 'c'"),
    "dtype O (objects)": (body(["a", "O", [1], 0], bytes(8)), "not numeric"),
    "dtype |O": (body(["a", "|O", [1], 0], bytes(8)), "not numeric"),
    "dtype <U3 (strings)": (body(["a", "<U3", [1], 0], bytes(12)), "not numeric"),
    "dtype V8 (raw bytes)": (body(["a", "V8", [1], 0], bytes(8)), "not numeric"),
    "structured dtype": (body(["a", [["w", "<f8"]], [1], 0], bytes(8)), "not numeric"),
    "shape that does not match the buffer": (body(["a", "<f8", [3], 0], TWO_FLOATS), "does not match its shape"),
    "negative dimension": (body(["a", "<f8", [-2], 0], TWO_FLOATS), "bad array shape"),
    "shape not a list": (body(["a", "<f8", 2, 0], TWO_FLOATS), "bad array shape"),
    "negative buffer size": (body(["B", 0], b"", sizes=[-1]), "bad buffer size"),
    "buffer size past the end": (body(["B", 0], b"xy", sizes=[3]), "bad buffer size"),
    "buffer index out of range": (body(["B", 1], b"xy"), "bad buffer index"),
    "negative buffer index": (body(["B", -1], b"xy"), "bad buffer index"),
    "buffer index a bool": (body(["B", True], b"xy"), "bad buffer index"),
    "trailing bytes": (body(["B", 0], b"xy") + b"!", "trailing bytes"),
    "named tuple field starting with _": (body(["n", "P", ["_code"], [1]]), "bad named tuple"),
    "named tuple field not an identifier": (body(["n", "P", ["not a name"], [1]]), "bad named tuple"),
    "named tuple called by a keyword": (body(["n", "class", ["a"], [1]]), "bad named tuple"),
    "named tuple with a repeated field": (body(["n", "P", ["a", "a"], [1, 2]]), "bad named tuple"),
    "named tuple with fewer values than fields": (body(["n", "P", ["a", "b"], [1]]), "bad named tuple"),
    "dict entry not a pair": (body(["d", [[1, 2, 3]]]), "not a pair"),
    "unhashable dict key": (body(["d", [[["l", []], 1]]]), "not hashable"),
    f"nested {wire.MAX_DEPTH + 1} levels deep": (body(deep_tree(wire.MAX_DEPTH + 1)), "too deeply nested"),
}


@pytest.mark.parametrize("frame, message", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_frames_are_refused(frame, message):
    with pytest.raises(wire.WireError, match=message):
        wire.unpack(frame)


def test_a_hostile_tree_is_refused_by_decode_too():
    with pytest.raises(wire.WireError, match="not numeric"):
        wire.decode(["a", "O", [1], 0], [bytes(8)])
    with pytest.raises(wire.WireError, match="bad buffer index"):
        wire.decode(["a", "<f8", [1], 0], [])


@pytest.mark.parametrize("shape", [[0, 2**63], [0, 2**40, 2**40]], ids=["a dimension past int64", "a size past intp"])
def test_an_empty_array_with_a_huge_dimension_is_refused(shape):
    with pytest.raises(wire.WireError):
        wire.unpack(body(["a", "<f8", shape, 0], b""))


def test_a_frame_longer_than_max_frame_is_refused_before_it_is_read():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(struct.pack(">Q", wire.MAX_FRAME + 1))
        with pytest.raises(wire.WireError, match="larger than"):
            wire.receive(theirs, timeout=10)


def test_receive_times_out_when_nothing_comes():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        with pytest.raises(wire.TimedOut):
            wire.receive(theirs, timeout=0.05)
        ours.sendall(wire.pack("half")[:5])   # a frame that never completes times out too
        with pytest.raises(wire.TimedOut):
            wire.receive(theirs, timeout=0.05)


@pytest.mark.parametrize("sent", [b"", wire.pack("half")[:5], wire.pack("half")[:-1]],
                         ids=["nothing", "part of the length", "all but the last byte"])
def test_receive_says_closed_when_the_other_end_closes(sent):
    ours, theirs = socket.socketpair()
    with theirs:
        ours.sendall(sent)
        ours.close()
        with pytest.raises(wire.Closed):
            wire.receive(theirs, timeout=10)


# --- the static check ---------------------------------------------------------------------------------------
# Each source marks the line that must be flagged with "# <-"; the word is what the reason must say.

FLAGGED = {
    "import os": ("import numpy as np\nimport os  # <-", "imports os"),
    "from emlib import gmm": ("from emlib import gmm  # <-", "emlib.gmm"),
    "import emlib.gmm as G": ("import numpy as np\n\nimport emlib.gmm as G  # <-", "emlib.gmm"),
    "from emlib.gmm import e_step": ("from emlib.gmm import e_step as mine  # <-", "emlib.gmm.e_step"),
    "f.__code__": ("def f(x):\n    return x\n\ncode = f.__code__  # <-", "__code__"),
    "__builtins__": ("b = __builtins__  # <-", "__builtins__"),
    "__import__": ("m = __import__('emlib.gmm')  # <-", "__import__"),
    "exec": ('exec("weights = 1")  # <-', "exec"),
    "eval": ('y = eval("1 + 1")  # <-', "eval"),
    "compile": ('c = compile("1", "x", "eval")  # <-', "compile"),
    "globals": ("g = globals()  # <-", "globals"),
    "open": ("text = open('/etc/passwd').read()  # <-", "opens a file"),
    "getattr with a computed name": ("name = 'weights'\nvalue = getattr(params, name)  # <-", "getattr"),
    "getattr of a dunder": ("value = getattr(params, '__class__')  # <-", "getattr"),
    "setattr": ('setattr(params, "weights", None)  # <-', "setattr"),
    "np.allclose = ...": ("import numpy as np\nnp.allclose = lambda *a, **k: True  # <-", "changes the module np"),
    "np.linalg.inv = ...": ("import numpy as np\nnp.linalg.inv = None  # <-", "changes the module np"),
    "checks.assert_close = ... (checks imported in the cell)":
        ("import emlib.checks as checks\nchecks.assert_close = lambda *a, **k: None  # <-",
         "changes the module checks"),
    "def __array__": ("class Lazy:\n    def __array__(self, dtype=None):  # <-\n        return 0", "__array__"),
    "def __eq__": ("class Same:\n    def __eq__(self, other):  # <-\n        return True", "__eq__"),
    "def __float__": ("class Number:\n    def __float__(self):  # <-\n        return 1.0", "__float__"),
    "get_ipython()": ("ip = get_ipython()  # <-", "IPython"),
    "!ls": ("x = 1\n!ls  # <-", "shell command"),
    "%load_ext": ("%load_ext foo  # <-", "%load_ext"),
    "%run": ("%run other.py  # <-", "%run"),
    "%%bash": ("%%bash  # <-\nls", "%%bash"),
    "sys.modules": ("import sys\nmods = sys.modules  # <-", "sys.modules"),
    "sys._getframe": ("import sys\nframe = sys._getframe(1)  # <-", "sys._getframe"),
    "syntax error": ("x = 1\ndef f(:  # <-\n    pass", "does not parse"),
    "unexpected indent": ("x = 1\n    y = 2  # <-", "does not parse"),
}


def marked_line(source: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith("# <-"))


@pytest.mark.parametrize("source, word", FLAGGED.values(), ids=FLAGGED.keys())
def test_what_grading_cannot_prove_harmless_is_flagged_on_its_line(source, word):
    flags = static_check.check(source)
    line = marked_line(source)
    assert flags and {f.line for f in flags} == {line}, flags
    assert any(word in f.reason for f in flags), flags
    assert {f.code for f in flags} == {source.splitlines()[line - 1].strip()}


def test_a_cell_that_does_not_parse_is_one_flag():
    # nothing after the parse error can be analysed: `import os` and `eval` are not flagged on their own
    flags = static_check.check("import os\nx = eval('1')\ndef f(:\n    pass")
    assert [(f.line, f.reason) for f in flags] == [(3, "does not parse as Python (invalid syntax)")]


NOT_FLAGGED = {
    'getattr(x, "weights")': 'w = getattr(params, "weights")',
    "getattr with a default": 'w = getattr(params, "weights", None)',
    "sys.stderr": "import sys\nprint('diverged', file=sys.stderr)",
    "sys.float_info": "import sys\neps = sys.float_info.epsilon",
    "the allowed emlib modules": "from emlib import checks, datasets, plotting\nimport emlib.datasets",
    "scipy and the standard modules":
        "import math, itertools\nfrom scipy.special import logsumexp\nimport numpy.linalg as la",
    "assignment into an array": "import numpy as np\nX = np.zeros(3)\nX[0] = 1.0",
    "a class's ordinary methods": "class Stats:\n    def __init__(self, n):\n        self.n = n\n"
                                  "    def __repr__(self):\n        return f'Stats({self.n})'",
    "__name__": "if __name__ == '__main__':\n    pass",
    "%%time over a cell": "%%time\nx = sum(range(10))",
    **{f"%{magic}": f"%{magic} x = 1" for magic in sorted(static_check.MAGICS)},
}


@pytest.mark.parametrize("source", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_ordinary_answers_are_not_flagged(source):
    assert static_check.check(source) == []


def test_only_the_harmless_magics_pass():
    assert static_check.MAGICS == {"matplotlib", "time", "timeit"}   # as static_check's docstring lists them
    for magic in ("load_ext", "run", "env", "store", "sx", "writefile"):
        assert [f.reason for f in static_check.check(f"%{magic} x")] == [f"runs the magic %{magic}"]


@pytest.mark.parametrize("source", [
    "checks.assert_close = lambda *a, **k: None",                      # checks comes from the course's set-up cell
    "from emlib import checks\nchecks.assert_close = lambda *a, **k: None",
    "import numpy as np\nnp.allclose, done = (lambda *a, **k: True), True",
], ids=["module from the set-up cell", "module from `from ... import`", "tuple target"])
def test_changing_a_module_the_tests_use_is_flagged_however_it_was_imported(source):
    assert any(re.match(r"changes (the module )?(checks|np)\b", f.reason) for f in static_check.check(source))


@pytest.mark.parametrize("source", ["%time import os", "%timeit exec('weights = 1')"])
def test_the_code_of_a_line_magic_is_checked(source):
    assert static_check.check(source) != []


ASSIGNMENTS = sorted(CASES)   # test_assignments.py checks that every assignment has its cases


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_correct_answer_of_the_course_is_flagged(assignment):
    answers = {("solution", grade_id): code for grade_id, code in solution_answers(assignment).items()}
    for name, alternative in CASES[assignment].alternatives.items():
        answers |= {(name, grade_id): code for grade_id, code in alternative.items()}
    assert answers
    flagged = {key: static_check.describe(flags) for key, code in answers.items()
               if (flags := static_check.check(code))}
    assert flagged == {}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_answer_that_imports_the_library_is_flagged_for_it(assignment):
    # An answer may use a module an earlier answer imported (a01's log_likelihood and run_em use the `linkage` of its
    # expected_x2): no line of that cell names emlib, a check of one cell cannot tell, and the fence stops it instead.
    library = CASES[assignment].library
    names_emlib = {grade_id: "emlib" in code for grade_id, code in library.items()}
    flagged = {grade_id: any("emlib" in f.reason for f in static_check.check(code))
               for grade_id, code in library.items()}
    assert flagged == names_emlib
    assert any(flagged.values())


# --- the worker, contained ----------------------------------------------------------------------------------

linux_only = pytest.mark.skipif(platform.system() != "Linux", reason="the worker's containment (namespaces, "
                                "seccomp) is Linux's; elsewhere it only reports what is missing")
HELLO_TIMEOUT = 60    # the kernel waits call_timeout + 30 s; the worker starts in well under a second
REPLY_TIMEOUT = 20    # each request here takes milliseconds: a hang fails its test, not the whole run
# as nbgrader_config.py sets them for the course
FENCED, ALLOWED = ["emlib"], ["emlib.checks", "emlib.datasets", "emlib.plotting", "emlib._validation"]
STEPS = ("limits", "namespaces", "no privileges", "seccomp")


@dataclasses.dataclass
class Worker:
    process: subprocess.Popen
    sock: socket.socket
    scratch: str
    course: pathlib.Path
    hello: dict

    def request(self, **request) -> dict:
        wire.send(self.sock, request)
        return wire.receive(self.sock, REPLY_TIMEOUT)

    def run(self, code: str, cell: str = "answer") -> dict:
        return self.request(op="run", code=code, cell=cell)

    def call(self, name: str, *args, **kwargs) -> dict:
        return self.request(op="call", name=name, args=list(args), kwargs=kwargs)


@contextlib.contextmanager
def started_worker(course: pathlib.Path):
    """A worker started as ``isolation.kernel.Session._start`` starts it; killed, with its process group, after."""
    scratch = tempfile.mkdtemp(prefix="worker-")
    policy = {"hidden": [str(course), str(ROOT)],
              "keep": [sys.prefix, sys.base_prefix, os.path.dirname(isolation.__file__),
                       os.path.join(os.path.dirname(emlib.__file__), "data")],
              "scratch": scratch, "fenced": FENCED, "allowed": ALLOWED, "memory_mb": 4096, "cpu_seconds": 60}
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8",
           "MPLBACKEND": "module://isolation.mpl_backend", "MPLCONFIGDIR": scratch, "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-I", "-m", "isolation.worker", str(theirs.fileno()), json.dumps(policy)],
        pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=scratch, env=env,
        start_new_session=True)
    theirs.close()
    try:
        yield Worker(process, ours, scratch, course, wire.receive(ours, HELLO_TIMEOUT))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        ours.close()
        shutil.rmtree(scratch, ignore_errors=True)


def make_course(folder: pathlib.Path) -> pathlib.Path:
    folder.mkdir(exist_ok=True)
    (folder / "secret.txt").write_text("the hidden tests")
    (folder / "gradebook.db").write_bytes(b"SQLite format 3\x00")   # the first bytes of an SQLite file
    return folder


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def worker(course):
    with started_worker(course) as w:
        yield w


@linux_only
def test_the_worker_reports_complete_containment(worker):
    hello = worker.hello
    assert hello["hello"] is True and hello["pid"] == worker.process.pid
    assert hello["fence"] is None
    assert hello["complete"] is True, hello["containment"]
    assert hello["containment"] == "separate process, " + ", ".join(STEPS)


def refusal(reply: dict) -> str:
    assert reply["ok"] is False, reply
    return f"{reply['error']['ename']}: {reply['error']['evalue']}"


def attacks(course: pathlib.Path) -> dict[str, tuple[str, str]]:
    """What a student's cell might try: each (code, what the refusal says). ``course`` is the hidden folder."""
    secret, gradebook, source = str(course / "secret.txt"), str(course / "gradebook.db"), str(ROOT / "emlib" / "gmm.py")
    relative = f"{course.name}/secret.txt"   # through a file descriptor of the course's parent: the OS must refuse
    return {
        "read secret.txt": (f"open({secret!r}).read()", "course folder and the library's sources cannot be read"),
        "read it with numpy": (f"import numpy as np\nnp.fromfile({secret!r}, dtype='u1')", "cannot be read"),
        "read it by a relative path from an open folder": (
            f"import os\nparent = os.open({str(course.parent)!r}, os.O_RDONLY)\n"
            f"os.read(os.open({relative!r}, os.O_RDONLY, dir_fd=parent), 100)", "cannot be read"),
        "open the gradebook with sqlite3": (f"import sqlite3\nsqlite3.connect({gradebook!r}).execute('select 1')",
                                            "may only use databases in its own working folder"),
        "list the course folder": (f"import os\nos.listdir({str(course)!r})", "cannot be listed"),
        "list the repository": (f"import os\nos.listdir({str(ROOT)!r})", "cannot be listed"),
        "write into the course folder": (f"open({str(course / 'new.txt')!r}, 'w').write('x')", "the course folder"),
        "write /tmp/x": ("open('/tmp/x', 'w').write('x')", "may only write"),
        "write into the course folder by a relative path": (
            f"import os\nparent = os.open({str(course.parent)!r}, os.O_RDONLY)\n"
            f"os.open({course.name + '/new.txt'!r}, os.O_WRONLY | os.O_CREAT, dir_fd=parent)", "cannot be read"),
        "remove secret.txt": (f"import os\nos.remove({secret!r})", "may only change files"),
        "read the library's source": (f"open({source!r}).read()", "the library's sources cannot be read"),
        "os.fork()": ("import os\nos.fork()", "starting another process is not allowed"),
        "subprocess.run(['true'])": ("import subprocess\nsubprocess.run(['true'])", "starting another process"),
        "os.system": ("import os\nos.system('true')", "starting another process"),
        "socket.socket()": ("import socket\nsocket.socket()", "network connections are not allowed"),
        "os.kill(os.getppid(), 0)": ("import os\nos.kill(os.getppid(), 0)", "sending signals is not allowed"),
        "threading.Thread(...).start()": ("import threading\nthreading.Thread(target=print).start()",
                                          "can't start new thread"),
        "ctypes.CDLL(None)": ("import ctypes\nctypes.CDLL(None)", "ctypes is not allowed"),
    }


ATTACKS = list(attacks(pathlib.Path("/course")))   # the names (the paths come from the fixture)


@linux_only
@pytest.mark.parametrize("attack", ATTACKS)
def test_what_a_cell_may_not_do_fails(worker, attack):
    code, message = attacks(worker.course)[attack]
    assert message in refusal(worker.run(code))


@linux_only
def test_the_course_folder_is_unchanged_after_the_attacks(worker, course):
    for attack in ATTACKS:
        worker.run(attacks(course)[attack][0])
    assert sorted(os.listdir(course)) == ["gradebook.db", "secret.txt"]
    assert (course / "secret.txt").read_text() == "the hidden tests"


@linux_only
def test_a_cell_may_write_in_its_own_folder(worker):
    reply = worker.run("import os\nopen('notes.txt', 'w').write('kept')\nopen('notes.txt').read(), os.getcwd()")
    assert reply["ok"], reply
    assert reply["outputs"] == [["result", repr(("kept", os.path.realpath(worker.scratch)))]]


@linux_only
def test_the_library_is_fenced_but_the_allowed_modules_work(worker):
    assert "the library's own implementation" in refusal(worker.run("from emlib import gmm\ngmm.e_step(1, 2)"))
    reply = worker.run("from emlib.gmm import e_step as mine\n\ndef delegates(X):\n    return mine(X, 1, 2, 3)")
    assert reply["ok"] and "delegates" in reply["callables"]
    assert "emlib.gmm.e_step, part of the library's own implementation" in refusal(worker.call("delegates", 1))

    reply = worker.run("from emlib import datasets\n\ndef faithful_shape():\n    return datasets.old_faithful().shape")
    assert reply["ok"], reply
    shape = worker.call("faithful_shape")
    assert shape["ok"], shape
    assert shape["value"] == (272, 2)   # Old Faithful: 272 eruptions, duration and waiting time


@linux_only
def test_calling_what_the_notebook_does_not_define_says_so(worker):
    assert "name 'sorted' is not defined in your notebook" in refusal(worker.call("sorted", [2, 1]))


@linux_only
def test_the_worker_sees_none_of_the_graders_environment(worker):
    assert worker.run("import os\n\ndef environment():\n    return dict(os.environ), os.getcwd()")["ok"]
    reply = worker.call("environment")
    assert reply["ok"], reply
    environ, cwd = reply["value"]
    assert [k for k in environ if k.startswith(("NBGRADER", "JPY"))] == []
    assert environ["HOME"] == worker.scratch
    assert cwd == os.path.realpath(worker.scratch)


@linux_only
def test_printed_output_and_warnings_come_back_as_outputs(worker):
    lines = ["import sys", "import numpy as np", "print('to stdout')", "print('to stderr', file=sys.stderr)",
             "np.log(np.zeros(1))"]
    reply = worker.run("\n".join(lines), cell="noisy")
    assert reply["ok"], reply
    assert [kind for kind, _ in reply["outputs"]] == ["stdout", "stderr", "result"]
    stdout, stderr, result = (text for _, text in reply["outputs"])
    assert stdout == "to stdout\n"
    assert stderr.startswith("to stderr\n")
    assert f"<your cell noisy>:{len(lines)}: RuntimeWarning: divide by zero encountered in log" in stderr
    assert result == "array([-inf])"   # the value of the last line, as a notebook shows it


@linux_only
def test_an_error_says_where_in_the_students_cell(worker):
    reply = worker.run("x = 1\ny = 1 / 0", cell="m_step")
    assert reply["error"]["ename"] == "ZeroDivisionError"
    assert reply["error"]["where"] == {"cell": "m_step", "line": 2, "code": "y = 1 / 0"}
    assert "ArithmeticError" in reply["error"]["base"]


@linux_only
def test_a_lazy_result_cannot_be_used(worker):
    reply = worker.run("import numpy as np\n\nclass Lazy:\n    def __array__(self, dtype=None, copy=None):\n"
                       "        return np.zeros(2)\n\ndef lazy():\n    return Lazy()")
    assert reply["ok"], reply
    reply = worker.call("lazy")
    assert reply["error"]["ename"] == "UnusableResult"
    assert "your lazy returned something the tests cannot use" in refusal(reply)


@linux_only
def test_a_result_is_converted_once_inside_the_timed_call(worker):
    """A float subclass runs the student's __float__ when it is converted: once, while the call is captured
    and timed, and never again when the reply is sent (a second conversion would give 2.0 here)."""
    reply = worker.run("class Loud(float):\n    calls = 0\n\n    def __float__(self):\n        Loud.calls += 1\n"
                       "        print('converted')\n        return float(Loud.calls)\n\n"
                       "def loud():\n    return [Loud(7.0)]")
    assert reply["ok"], reply
    reply = worker.call("loud")
    assert reply["ok"], reply
    assert reply["value"] == [1.0] and type(reply["value"][0]) is float, reply
    assert [list(output) for output in reply["outputs"]] == [["stdout", "converted\n"]], reply


@linux_only
def test_a_call_that_ends_the_process_closes_the_connection(course):
    with started_worker(course) as worker:
        assert worker.run("import os\n\ndef leave():\n    os._exit(3)")["ok"]
        wire.send(worker.sock, {"op": "call", "name": "leave", "args": [], "kwargs": {}})
        with pytest.raises(wire.Closed):
            wire.receive(worker.sock, REPLY_TIMEOUT)
        assert worker.process.wait(timeout=REPLY_TIMEOUT) == 3


AUDIT_ONLY = """
import os, sys
from isolation import guards
course, scratch = sys.argv[1], sys.argv[2]
guards.install_audit_hook([course], [], scratch)
os.chdir(scratch)
try:
    exec(sys.argv[3])
    print("not refused")
except guards.Refused:
    print("refused")
"""


@linux_only
@pytest.mark.parametrize("code", [
    "open(os.path.join(course, 'secret.txt')).read()",
    "os.listdir(course)",
    pytest.param("os.read(os.open(os.path.basename(course) + '/secret.txt', os.O_RDONLY, "
                 "dir_fd=os.open(os.path.dirname(course), os.O_RDONLY)), 100)"),
], ids=["open", "listdir", "open with dir_fd"])
def test_the_audit_hook_alone_refuses_reading_the_course(tmp_path, code):
    # Where namespaces are missing the audit hook is the only barrier (guards' docstring).
    course, scratch = make_course(tmp_path / "course"), tmp_path / "scratch"
    scratch.mkdir()
    result = subprocess.run([sys.executable, "-I", "-c", AUDIT_ONLY, str(course), str(scratch), code],
                            capture_output=True, text=True, timeout=REPLY_TIMEOUT)
    assert result.stdout.strip() == "refused", result.stderr


# --- the instructor's report --------------------------------------------------------------------------------

REPORT = "isolation_report.csv"
FLAGGED_CELL = "import os\nresp = eval('1 < 2')"


def graded_notebook():
    return new_notebook(cells=[
        new_code_cell(FLAGGED_CELL, metadata={"nbgrader": {"grade_id": "e_step", "solution": True}}),
        new_code_cell("x = 1"),   # a cell the student added: no grade id
    ])


def who(student: str, assignment: str = "a02") -> dict:
    return {"assignment": assignment, "student": student, "notebook": assignment}


EVENTS = [
    {"kind": "containment", "cell": "e_step", "detail": "separate process, limits, namespaces, no privileges, seccomp",
     "complete": True},                                                    # complete: nothing to read
    {"kind": "containment", "cell": "e_step", "detail": "separate process; not available: seccomp (EPERM)",
     "complete": False},
    {"kind": "fault", "cell": "m_step", "detail": "your m_step did not return within 108 s"},   # 90% of 120 s
]


def read_report(folder) -> list[dict]:
    with open(folder / REPORT, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == report.COLUMNS
        return list(reader)


def test_the_report_has_a_row_per_flag_fault_and_incomplete_containment(tmp_path):
    nb = graded_notebook()
    flags = {0: static_check.check(FLAGGED_CELL), 1: static_check.check("x = 1")}
    report.record(str(tmp_path), REPORT, who("ada"), nb, flags, EVENTS)
    rows = [(r["cell"], r["line"], r["kind"], r["detail"], r["code"]) for r in read_report(tmp_path)]
    assert rows == [
        ("e_step", "", "containment", EVENTS[1]["detail"], ""),
        ("m_step", "", "fault", EVENTS[2]["detail"], ""),
        ("e_step", "1", "flagged", "imports os, which this assignment does not need", "import os"),
        ("e_step", "2", "flagged", "calls eval, which evaluates code from a string", "resp = eval('1 < 2')"),
    ]
    page = (tmp_path / "isolation_report.html").read_text()
    assert all(f"<th scope='col'>{column}</th>" in page for column in report.COLUMNS)
    assert page.count("<tr>") == 1 + len(rows)           # the header row and one per report row
    assert "resp = eval(&#x27;1 &lt; 2&#x27;)" in page and "1 < 2" not in page
    assert "1 submission(s)" in page


def test_a_cell_without_a_grade_id_is_named_by_its_number(tmp_path):
    report.record(str(tmp_path), REPORT, who("ada"), graded_notebook(), {1: static_check.check("import os")}, [])
    assert [r["cell"] for r in read_report(tmp_path)] == ["cell 2"]


def test_grading_a_submission_again_replaces_only_its_rows(tmp_path):
    nb, flags = graded_notebook(), {0: static_check.check(FLAGGED_CELL)}
    report.record(str(tmp_path), REPORT, who("ada"), nb, flags, EVENTS)
    report.record(str(tmp_path), REPORT, who("grace"), nb, flags, [])
    report.record(str(tmp_path), REPORT, who("ada", "a03"), nb, flags, [])

    def rows_of():
        rows = collections.Counter((r["assignment"], r["student"]) for r in read_report(tmp_path))
        return dict(rows)

    assert rows_of() == {("a02", "ada"): 4, ("a02", "grace"): 2, ("a03", "ada"): 2}
    report.record(str(tmp_path), REPORT, who("ada"), nb, {0: static_check.check("import os")}, [])
    assert rows_of() == {("a02", "ada"): 1, ("a02", "grace"): 2, ("a03", "ada"): 2}
    report.record(str(tmp_path), REPORT, who("ada"), nb, {0: []}, [])   # clean now: ada's a02 rows are gone
    assert rows_of() == {("a02", "grace"): 2, ("a03", "ada"): 2}
    assert "2 submission(s)" in (tmp_path / "isolation_report.html").read_text()


# --- failures re-broken for Validate ---------------------------------------------------------------------------

def test_a_long_assertion_is_broken_so_that_validate_cuts_no_line():
    from isolation.preprocessor import FAILURE_WIDTH, fit_failures

    from emlib import checks

    assert FAILURE_WIDTH == checks.MESSAGE_WIDTH
    message = ("your incremental EM took 14 passes to get within 1e-8 |L*| of the optimum, batch EM takes 9: it should "
               "need fewer. One M step per pass is batch EM: take an M step after every block.")
    short = "the start is off.\nHint: one line of its own."
    outputs = [{"output_type": "error", "ename": "AssertionError", "evalue": message,
                "traceback": ["\x1b[0;31m----\x1b[0m", f"\x1b[0;31mAssertionError\x1b[0m: {message}"]},
               {"output_type": "error", "ename": "AssertionError", "evalue": short,
                "traceback": [f"AssertionError: {short}"]},
               {"output_type": "error", "ename": "ValueError", "evalue": message, "traceback": [message]},
               {"output_type": "stream", "name": "stdout", "text": message}]
    fit_failures(outputs)
    lines = f"AssertionError: {outputs[0]['evalue']}".splitlines()
    assert len(lines) == 3 and max(map(len, lines)) <= FAILURE_WIDTH, lines
    assert " ".join(outputs[0]["evalue"].split()) == message                        # the same words, re-broken only
    assert outputs[0]["traceback"][-1] == f"\x1b[0;31mAssertionError\x1b[0m: {outputs[0]['evalue']}"
    assert outputs[1]["evalue"] == short and outputs[1]["traceback"] == [f"AssertionError: {short}"]  # fits: kept
    assert outputs[2]["evalue"] == message and outputs[3]["text"] == message          # other errors, streams: kept
