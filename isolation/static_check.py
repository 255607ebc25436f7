"""A static check of student cells: what grading cannot prove harmless is flagged for the instructor.

Nothing is zeroed here (the worker's containment is what makes a trick earn nothing); a flag is a line the
instructor should read, with the reason, in the autograde log, the report, and the student's feedback. Flagged:

- imports outside ``ALLOWED_IMPORTS`` (numpy, scipy, math and the standard modules a numerical answer uses);
- double-underscore attributes and names (``f.__code__``, ``__builtins__``, ``__import__``), and special methods
  other than a class's ordinary ones (``__array__``, ``__eq__``, ``__float__``: an object that pretends to be a
  result);
- ``exec``, ``eval``, ``compile``, ``globals``, ``locals``, ``vars``, ``open``, ``breakpoint``, ``setattr``,
  ``delattr``, and ``getattr`` with a name that is not a plain string;
- assigning to an attribute or item of something the cell did not create: a module or an object the tests share
  (``np.allclose = ...``, ``checks.assert_close = ...``, ``get_ipython().user_ns["checks"] = ...``);
- ``sys`` beyond its streams and numeric facts (``sys.modules``, ``sys._getframe``, ``sys.settrace``);
- ``get_ipython``, IPython magics other than ``%matplotlib``, ``%time`` and ``%timeit``, and shell commands.
"""
from __future__ import annotations

import ast
import dataclasses

ALLOWED_IMPORTS = ("numpy", "scipy", "math", "cmath", "functools", "itertools", "collections", "operator", "typing",
                   "dataclasses", "numbers", "fractions", "decimal", "statistics", "warnings", "time", "copy",
                   "heapq", "bisect", "string", "textwrap", "enum", "abc", "matplotlib", "emlib.checks",
                   "emlib.datasets", "emlib.plotting", "__future__", "sys")
# What of ``sys`` an answer may use without a flag (its other attributes reach the interpreter's machinery).
SYS_ATTRIBUTES = {"stdout", "stderr", "float_info", "int_info", "maxsize", "version", "version_info", "platform",
                  "getsizeof", "getrecursionlimit", "setrecursionlimit", "exit", "float_repr_style"}
ORDINARY_SPECIAL_METHODS = {"__init__", "__repr__", "__str__", "__len__", "__iter__", "__next__", "__getitem__",
                            "__contains__", "__post_init__", "__enter__", "__exit__"}
HARMLESS_DUNDERS = {"__name__", "__doc__", "__init__"}
CALLS = {"exec": "runs code from a string", "eval": "evaluates code from a string", "compile": "compiles code",
         "globals": "reaches the notebook's globals", "locals": "reaches local variables by name",
         "vars": "reaches an object's namespace", "open": "opens a file", "breakpoint": "starts the debugger",
         "setattr": "sets an attribute by name", "delattr": "deletes an attribute by name", "__import__": "imports by name"}
MAGICS = {"matplotlib", "time", "timeit"}


@dataclasses.dataclass(frozen=True)
class Flag:
    line: int
    reason: str
    code: str


def _allowed(module: str, allowed) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def check(source: str, allowed_imports=ALLOWED_IMPORTS) -> list[Flag]:
    """The flags of one cell's source, in line order."""
    lines = source.splitlines()
    flags = []

    def flag(line: int, reason: str):
        flags.append(Flag(line, reason, lines[line - 1].strip() if 0 < line <= len(lines) else ""))

    python_lines = []
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if stripped.startswith(("%", "!")):
            magic = stripped.lstrip("%").split()[0] if stripped.startswith("%") and len(stripped) > 1 else ""
            if stripped.startswith("!") or magic not in MAGICS:
                flag(number, f"runs {'a shell command' if stripped.startswith('!') else 'the magic ' + stripped.split()[0]}")
                python_lines.append("")
            else:   # %time and %timeit run the rest of the line: check it as the code it is
                python_lines.append(_magic_code(stripped, magic))
        else:
            python_lines.append(text)
    try:
        tree = ast.parse("\n".join(python_lines))
    except SyntaxError as error:
        flag(error.lineno or 1, f"does not parse as Python ({error.msg})")
        return sorted(flags, key=lambda f: f.line)
    modules, sys_names = set(), {"sys"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                modules.add(alias.asname or alias.name.split(".")[0])
                if alias.name == "sys" and alias.asname:
                    sys_names.add(alias.asname)
                if not _allowed(alias.name, allowed_imports):
                    flag(node.lineno, f"imports {alias.name}, which this assignment does not need")
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                modules.add(alias.asname or alias.name)
                if base == "sys" and alias.name not in SYS_ATTRIBUTES:
                    flag(node.lineno, f"imports sys.{alias.name}, which reaches the interpreter's machinery")
                if not (_allowed(base, allowed_imports) or _allowed(full, allowed_imports)):
                    flag(node.lineno, f"imports {full}, which this assignment does not need")
        elif isinstance(node, ast.Attribute) and _dunder(node.attr) and node.attr not in HARMLESS_DUNDERS:
            flag(node.lineno, f"uses the special attribute {node.attr}")
        elif isinstance(node, ast.Name) and _dunder(node.id) and node.id not in HARMLESS_DUNDERS:
            flag(node.lineno, f"uses {node.id}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _dunder(node.name) \
                and node.name not in ORDINARY_SPECIAL_METHODS:
            flag(node.lineno, f"defines {node.name}, which lets an object pretend to be a number or an array")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CALLS:
            name = node.func.id
            flag(node.lineno, f"calls {name}, which {CALLS[name]}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            attribute = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)
                    and not _dunder(attribute.value)):
                flag(node.lineno, "calls getattr with a computed name")
        elif isinstance(node, ast.Name) and node.id == "get_ipython":
            flag(node.lineno, "reaches IPython, which runs the tests")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in sys_names
              and node.attr not in SYS_ATTRIBUTES):
            flag(node.lineno, f"uses sys.{node.attr}, which reaches the interpreter's machinery")
    for line, name in _foreign_changes(tree, set()):
        flag(line, f"changes the module {name}, which the tests use too" if name in modules else
             f"changes {name}, which this cell did not create (a module or an object the tests may use)")
    unique = {(f.line, f.reason): f for f in flags}
    return sorted(unique.values(), key=lambda f: (f.line, f.reason))


def _magic_code(line: str, magic: str) -> str:
    """The statement a ``%time`` / ``%timeit`` line runs (its options dropped); "" for ``%matplotlib``."""
    if magic == "matplotlib":
        return ""
    words = line.lstrip("%").split()[1:]
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option in ("-n", "-r", "-p") and words:
            words.pop(0)
    return " ".join(words)


def _bound_names(scope) -> set[str]:
    """The names a function (its arguments too), a class body or a module binds, not counting imports or the
    scopes nested in it."""
    names = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        arguments = scope.args
        names |= {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
        names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a}
    for node in _scope_nodes(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def _scope_nodes(scope):
    """The nodes of ``scope`` outside the functions, lambdas and classes nested in it."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _foreign_changes(scope, enclosing: set[str]):
    """(line, name) of each assignment to an attribute or item of a name that neither this scope nor an enclosing
    one binds: a module, or an object the tests share (``np.allclose = ...``, ``checks.assert_close = ...``)."""
    names = enclosing | _bound_names(scope)
    for node in _scope_nodes(scope):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name) and root.id not in names:
                yield node.lineno, root.id
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            yield from _foreign_changes(node, names if not isinstance(node, ast.ClassDef) else names)


def _dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def describe(flags: list[Flag]) -> str:
    return "\n".join(f"line {f.line}: {f.reason} ({f.code})" for f in flags)


def feedback_output(flags: list[Flag]) -> dict:
    """A display output for the flagged cell: what the student reads in the feedback."""
    from nbformat.v4 import new_output

    text = ("Flagged for your instructor to read (your points are not changed by this):\n" + describe(flags))
    items = "".join(f"<li>line {f.line}: {_escape(f.reason)} (<code>{_escape(f.code)}</code>)</li>" for f in flags)
    html = (f"<div class='isolation-flag'><strong>Flagged for your instructor to read</strong> (your points are not "
            f"changed by this):<ul>{items}</ul></div>")
    return new_output("display_data", data={"text/plain": text, "text/html": html})


def _escape(text: str) -> str:
    import html
    return html.escape(text)
