"""The EM driver, shared by every model of the course.

A model supplies two functions:

* ``e_step(params) -> (stats, objective)``: the expected sufficient statistics
  under p(z | y, params) -- the fixed, data-dependent parameters of
  Q(. | params) -- and the objective at ``params`` (the observed-data
  log-likelihood for ML, plus the log prior density for MAP), which the E step
  gets for free;
* ``m_step(stats) -> params``: the maximizer of Q given those statistics.

``run_em`` alternates them and checks the EM guarantee as it goes: the
objective never decreases (Dempster, Laird and Rubin 1977, Theorem 1).

Statistics are additive: a model's statistics type derives from ``Stats`` and
so supports ``s1 + s2``, ``s1 - s2`` and ``c * s``. The statistics of a data
set are the sum of the statistics of its parts, which is what incremental and
online EM are built on.
"""
from __future__ import annotations

import dataclasses
import operator
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = ["EMResult", "ObjectiveDecreasedError", "Stats", "run_em", "ROUNDOFF"]

#: Relative size of a decrease of the objective that is still taken for round-off.
ROUNDOFF = 1e-10


class EMResult(NamedTuple):
    """What every fit of the course returns.

    params:    the parameters after ``n_iter`` iterations.
    objective: array of length ``n_iter + 1``; entry t is the objective at the
               parameters after t iterations (entry 0 at the initial ones).
    converged: whether the stopping rule was met before ``max_iter``.
    n_iter:    the number of EM iterations (M steps) taken.
    """

    params: Any
    objective: np.ndarray
    converged: bool
    n_iter: int


class ObjectiveDecreasedError(RuntimeError):
    """The objective went down between two EM iterations: EM never does that."""


@dataclasses.dataclass(frozen=True)
class Stats:
    """Base of additive sufficient statistics.

    Subclasses are frozen dataclasses whose fields are arrays, floats, or other ``Stats``.
    Fields listed in ``_fixed`` are labels, not sums (for example the centre
    about which moments are taken): they must agree between operands, and
    ``_align`` may bring ``other`` to ``self``'s labels first.
    """

    _fixed = ()

    def _align(self, other):
        return other

    def _combine(self, other, op):
        if type(other) is not type(self):
            return NotImplemented
        other = self._align(other)
        values = {}
        for field in dataclasses.fields(self):
            a, b = getattr(self, field.name), getattr(other, field.name)
            values[field.name] = a if field.name in self._fixed else op(a, b)
        return type(self)(**values)

    def __add__(self, other):
        return self._combine(other, operator.add)

    def __sub__(self, other):
        return self._combine(other, operator.sub)

    def __mul__(self, factor):
        if not np.isscalar(factor):
            return NotImplemented
        return type(self)(**{
            f.name: getattr(self, f.name) if f.name in self._fixed else factor * getattr(self, f.name)
            for f in dataclasses.fields(self)
        })

    __rmul__ = __mul__


def run_em(
    e_step: Callable[[Any], tuple[Any, float]],
    m_step: Callable[[Any], Any],
    init: Any,
    *,
    max_iter: int = 500,
    tol: float = 1e-8,
    check_monotone: bool = True,
) -> EMResult:
    """Iterate params <- m_step(e_step(params)) from ``init``.

    Stopping rule: stop after iteration t when the gain of the objective,
    L_t - L_{t-1}, is below ``tol * |L_t|`` (a relative tolerance), or after
    ``max_iter`` iterations. With ``tol=0`` the run always takes ``max_iter``
    iterations.

    Monotonicity: a decrease L_t < L_{t-1} larger than ``ROUNDOFF * |L_{t-1}|``
    raises ``ObjectiveDecreasedError`` with the iteration and both values,
    unless ``check_monotone=False``.

    A ``ValueError`` from a step (a collapsing component, say) is raised again
    with the iteration at which it happened.
    """
    if max_iter < 0 or int(max_iter) != max_iter:
        raise ValueError(f"max_iter must be a whole number >= 0, got {max_iter!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")

    params = init
    stats, value = _evaluate(0, e_step, params)
    objective = [value]
    converged = False
    for t in range(1, max_iter + 1):
        params = _at_iteration(t, m_step, stats)
        stats, value = _evaluate(t, e_step, params)
        previous = objective[-1]
        objective.append(value)
        gain = value - previous
        if check_monotone and gain < -ROUNDOFF * abs(previous):
            raise ObjectiveDecreasedError(
                f"the objective decreased at iteration {t}, from {previous:.10g} to {value:.10g} "
                f"(by {-gain:.3g}). An exact EM step never decreases it: the E step or the M step "
                "does not match the model whose objective is computed."
            )
        if tol > 0 and gain < tol * abs(value):
            converged = True
            break
    return EMResult(params, np.array(objective), converged, len(objective) - 1)


def _at_iteration(t, step, argument):
    try:
        result = step(argument)
    except ValueError as error:
        if t == 0 or str(error).startswith("at iteration"):
            raise
        raise type(error)(f"at iteration {t}: {error}") from error
    return result


def _evaluate(t, e_step, params):
    stats, value = _at_iteration(t, e_step, params)
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(
            f"at iteration {t}: the objective is {value}; the parameters have left the model "
            "(a zero probability where there is data, or an unbounded density)."
        )
    return stats, value
