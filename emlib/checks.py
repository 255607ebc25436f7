"""Assertions for assignments and self-study: each failure says what went wrong and where to look.

They raise ``AssertionError`` (what nbgrader counts as a failed test) with a message a student can act on,
for example "the log-likelihood decreased at iteration 4, from -1234.5 to -1240.2 (by 5.7): are the
covariances computed around the new means?".
"""
from __future__ import annotations

import textwrap

import numpy as np

from ._validation import ROUNDOFF, objective_scale  # not from .em: checks must import without the algorithms

__all__ = [
    "assert_shape", "assert_finite", "assert_probabilities", "assert_monotone", "assert_converged",
    "assert_close", "assert_params_close", "difference_table", "library_forbidden", "explaining",
    "assert_stopping_rule",
]


MESSAGE_WIDTH = 80  # nbgrader's Validate cuts every line of a failure at 87 characters (90 less its indent)
UNBROKEN = {"break_on_hyphens": False, "break_long_words": False}  # "pseudo-scatter", a long number, stay whole


def wrapped(message: str, hint: str | None = None) -> str:
    """``message`` (and ``Hint: hint`` on a line of its own) broken into lines of at most MESSAGE_WIDTH characters,
    the first one short enough to follow "AssertionError: ", so that no viewer cuts or hides the hint."""
    prefix = "AssertionError: "
    first = textwrap.fill(message, MESSAGE_WIDTH, initial_indent=" " * len(prefix), **UNBROKEN)[len(prefix):]
    return first + (f"\n{textwrap.fill(f'Hint: {hint}', MESSAGE_WIDTH, **UNBROKEN)}" if hint else "")


def _fail(message: str, hint: str | None = None):
    raise AssertionError(wrapped(message, hint))


def assert_shape(array, expected: tuple, name: str = "the result", hint: str | None = None) -> None:
    """``array`` is an array of shape ``expected``."""
    got = np.shape(array)
    if got != tuple(expected):
        _fail(f"{name} should have shape {tuple(expected)}, but has shape {got}.", hint)


def assert_finite(array, name: str = "the result", hint: str | None = None) -> None:
    """No NaN or infinity in ``array``."""
    array = np.asarray(array, dtype=float)
    bad = ~np.isfinite(array)
    if bad.any():
        if array.ndim == 0:
            message = f"{name} is {float(array)}, not a finite number."
        else:
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            message = f"{name} has {int(bad.sum())} NaN or infinite entries, the first at index {where} ({array[where]})."
        _fail(message, hint or "an underflow (a probability multiplied down to 0, then divided by) "
              "or a log of 0 is the usual cause: work in log space.")


def assert_probabilities(p, axis: int = -1, name: str = "the probabilities", atol: float = 1e-8,
                         hint: str | None = None) -> None:
    """Entries of ``p`` are in [0, 1] and sum to one along ``axis``."""
    p = np.asarray(p, dtype=float)
    assert_finite(p, name, hint)
    if (p < -atol).any():
        _fail(f"{name} has a negative entry ({p.min():.6g}).", hint)
    totals = p.sum(axis=axis)
    worst = np.unravel_index(np.argmax(np.abs(totals - 1)), np.shape(totals))
    if abs(totals[worst] - 1) > atol:
        where = f" at index {tuple(int(i) for i in worst)}" if np.ndim(totals) else ""
        _fail(f"{name} should sum to 1 along axis {axis}, but sum to {totals[worst]:.10g}{where}.",
              hint or "normalise by the sum along the right axis.")


def assert_monotone(objective, name: str = "the log-likelihood", rtol: float = ROUNDOFF,
                    hint: str | None = None) -> None:
    """The sequence ``objective`` (entry t after t iterations) never decreases beyond round-off, rtol * max(|L|, 1)
    (the EM driver's guard: relative, absolute below |L| = 1)."""
    values = np.asarray(objective, dtype=float)
    assert_finite(values, name, hint)
    if values.ndim != 1 or len(values) < 2:
        _fail(f"{name} should be a sequence of at least two values (one per iteration), got shape {values.shape}.")
    gains = np.diff(values)
    bad = np.flatnonzero(gains < -rtol * objective_scale(values[:-1]))
    if bad.size:
        t = int(bad[0]) + 1
        _fail(f"{name} decreased at iteration {t}, from {values[t - 1]:.10g} to {values[t]:.10g} "
              f"(by {-gains[t - 1]:.3g}). EM never decreases it, so a step is wrong.", hint)


def assert_converged(objective, tol: float = 1e-8, name: str = "the log-likelihood",
                     hint: str | None = None) -> None:
    """The last gain of ``objective`` is below ``tol`` times its size, max(|L|, 1) (as the EM driver's stopping
    rule: relative, absolute below |L| = 1): the fit has settled."""
    values = np.asarray(objective, dtype=float)
    assert_finite(values, name, hint)
    if len(values) < 2:
        _fail(f"{name} has only {len(values)} value(s): the loop should record one per iteration, "
              "and run at least one.", hint)
    gain = values[-1] - values[-2]
    if abs(gain) > tol * objective_scale(values[-1]):
        _fail(f"the fit has not converged: {name} still changed by {gain:.3g} in the last of "
              f"{len(values) - 1} iterations (the tolerance was {tol:g} relative).",
              hint or "run more iterations, or check the stopping rule.")


def assert_close(actual, expected, rtol: float = 1e-6, atol: float = 1e-10, name: str = "the result",
                 hint: str | None = None) -> None:
    """``actual`` equals ``expected`` elementwise within ``atol + rtol * |expected|``."""
    expected = np.asarray(expected, dtype=float)
    assert_shape(actual, expected.shape, name, hint)
    actual = np.asarray(actual, dtype=float)
    assert_finite(actual, name, hint)
    error = np.abs(actual - expected)
    if (error > atol + rtol * np.abs(expected)).any():
        where = np.unravel_index(np.argmax(error - rtol * np.abs(expected)), expected.shape)
        at = f" at index {tuple(int(i) for i in where)}" if expected.ndim else ""
        _fail(f"{name} is off{at}: yours is {actual[where]:.10g}, the reference {expected[where]:.10g} "
              f"(difference {error[where]:.3g}).", hint)


def _fields(params) -> dict:
    """name -> array of every parameter; a nested parameter tuple (an HMM's emissions) becomes "emission.means"..."""
    if hasattr(params, "_asdict"):
        items = params._asdict().items()
    elif isinstance(params, dict):
        items = params.items()
    else:
        items = ((f"part {i}", value) for i, value in enumerate(params))
    fields = {}
    for key, value in items:
        if hasattr(value, "_asdict"):
            fields.update({f"{key}.{inner}": v for inner, v in _fields(value).items()})
        else:
            fields[key] = value
    return fields


def difference_table(actual, expected) -> str:
    """A small table of the largest difference in each parameter, with the entry where it happens."""
    rows = [f"{'parameter':<14}{'max |diff|':>12}  {'at':<12}{'yours':>14}{'reference':>14}"]
    mine = _fields(actual)
    for key, reference in _fields(expected).items():
        reference = np.asarray(reference, dtype=float)
        value = np.asarray(mine.get(key, np.nan), dtype=float)
        if value.shape != reference.shape:
            rows.append(f"{key:<14}{'shape':>12}  {str(value.shape):<12}{'':>14}{str(reference.shape):>14}")
            continue
        error = np.abs(value - reference)
        where = np.unravel_index(np.nanargmax(error) if np.isfinite(error).any() else 0, reference.shape)
        rows.append(f"{key:<14}{error[where]:>12.3g}  {str(tuple(int(i) for i in where)):<12}"
                    f"{value[where]:>14.6g}{reference[where]:>14.6g}")
    return "\n".join(rows)


def assert_params_close(actual, expected, rtol: float = 1e-6, atol: float = 1e-8,
                        hint: str | None = None) -> None:
    """Every parameter of ``actual`` (a NamedTuple, dict or tuple) is close to ``expected``'s; on failure, the table."""
    mine = _fields(actual)
    for key, reference in _fields(expected).items():
        reference = np.asarray(reference, dtype=float)
        value = mine.get(key)
        ok = (value is not None and np.shape(value) == reference.shape
              and np.all(np.isfinite(np.asarray(value, dtype=float)))
              and np.allclose(value, reference, rtol=rtol, atol=atol))
        if not ok:
            _fail(f"the parameters differ from the reference (first in '{key}'):\n"
                  f"{difference_table(actual, expected)}\n", hint)


class library_forbidden:
    """Context manager: while it is active, every function defined in the given emlib modules raises.

    Assignments ask students to write steps that emlib already implements; a graded test runs the student's
    code inside ``with library_forbidden(emlib.gmm):`` so that an answer that merely calls the library gets no
    points for that part. The functions' code objects are swapped, so aliases made with ``from emlib.gmm
    import e_step as mine`` are caught as well; everything is restored on exit.
    """

    def __init__(self, *modules):
        self.functions = [f for m in modules for f in vars(m).values()
                          if callable(f) and hasattr(f, "__code__") and not f.__code__.co_freevars
                          and getattr(f, "__module__", None) == m.__name__]

    def __enter__(self):
        self.saved = [(f, f.__code__) for f in self.functions]
        for f, original in self.saved:
            f.__code__ = _forbidden_code(f"{f.__module__}.{f.__name__}")
        return self

    def __exit__(self, *exc_info):
        for f, original in self.saved:
            f.__code__ = original
        return False


def _forbidden(*args, **kwargs):
    # This code runs as the replaced library function, with that function's module globals: import what it uses.
    import sys

    from emlib.checks import wrapped

    name = sys._getframe().f_code.co_name
    raise AssertionError(wrapped(f"this answer calls {name}, the library's own implementation of what you were "
                                 "asked to write. Write the step yourself (numpy and scipy are fine)."))


def _forbidden_code(name: str):
    """The code of ``_forbidden`` under the name of the function it replaces, so the message can name it."""
    code = _forbidden.__code__.replace(co_name=name)
    return code.replace(co_qualname=name) if hasattr(code, "co_qualname") else code


class explaining:
    """Context manager: an error of a named type raised inside it becomes a failure with the hint for that type.

    A raw ``IndexError: index 5 is out of bounds for axis 0 with size 2`` says where the student's code broke
    but not why; the test that knows which mistake usually causes it says so::

        with checks.explaining(IndexError="b_t is the column emission[:, obs[t]] ..."):
            alpha_hat, scales = forward(ROLLS, **CASINO)

    Keywords are exception names: a built-in one, or ``LinAlgError`` (numpy's). The failure is an
    ``AssertionError`` whose message starts "your code raised IndexError: ..." and keeps the original message;
    other errors pass through unchanged.
    """

    def __init__(self, **hints: str):
        self.hints = [(_exception_type(name), hint) for name, hint in hints.items()]

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        for exception_type, hint in self.hints:
            if isinstance(error, exception_type):
                raise AssertionError(wrapped(f"your code raised {type(error).__name__}: {error}", hint)) from error
        return False


def _exception_type(name: str) -> type:
    import builtins

    found = np.linalg.LinAlgError if name == "LinAlgError" else getattr(builtins, name, None)
    if not (isinstance(found, type) and issubclass(found, Exception)):
        raise TypeError(f"explaining({name}=...): {name!r} is not the name of a built-in exception or LinAlgError.")
    return found


def assert_stopping_rule(objective, tol: float, max_iter: int, name: str = "the log-likelihood",
                         hint: str | None = None) -> None:
    """A loop with the rule "stop when the gain is below tol, or after max_iter iterations" obeyed it.

    ``objective`` has one entry per iteration plus the start. It must have stopped at the first iteration whose
    gain was below ``tol`` (not later: the loop never stops; not earlier: it stops too soon), and after at most
    ``max_iter`` iterations (exactly ``max_iter`` when the rule never fired).
    """
    values = np.asarray(objective, dtype=float)
    assert_finite(values, name, hint)
    n_iter = len(values) - 1
    if n_iter < 1:
        _fail(f"{name} has {len(values)} value(s): record the value at the start and after every iteration.", hint)
    if n_iter > max_iter:
        _fail(f"your loop ran {n_iter} iterations, more than max_iter = {max_iter}.",
              hint or "max_iter bounds the number of iterations: at most max_iter, so at most max_iter + 1 values "
                      "with the start.")
    gains = np.diff(values)
    small = np.flatnonzero(gains < tol)
    if small.size == 0:
        if n_iter >= max_iter:
            return
        _fail(f"your loop stopped after {n_iter} iteration(s), while {name} still rose by {gains[-1]:.3g} in the "
              f"last one (more than tol = {tol:g}).",
              hint or "stop only when the gain is below tol (or after max_iter iterations).")
    first = int(small[0]) + 1
    if first < n_iter:
        more = f"all {max_iter} iterations" if n_iter >= max_iter else f"{n_iter} iterations"
        _fail(f"your loop never stopped at the rule: the gain of {name} fell below tol = {tol:g} at iteration "
              f"{first}, but the loop ran {more}.", hint or "check the stopping rule inside the loop.")
