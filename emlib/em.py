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

The rules every driver shares, with |L|+ = max(|L|, 1) (``objective_scale``:
relative to the objective, absolute below |L| = 1, so that an objective at 0
is judged too):

* stopping: converged after iteration t when 0 <= L_t - L_{t-1} < tol |L_t|+.
  A decrease is never convergence (without the monotonicity guard, as with
  ``gmm.fit(..., reg_covar > 0)``, the objective can fall and rise again);
* monotonicity: a decrease larger than ROUNDOFF |L_{t-1}|+ raises
  ``ObjectiveDecreasedError``;
* a step that cannot be taken (a ``ValueError`` from the E or M step: a
  collapsing component, say) raises ``FitStoppedError``, a ``ValueError`` whose
  ``result`` is the fit up to the last iteration that succeeded.

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

from ._validation import ROUNDOFF, objective_scale  # re-exported: emlib.em.ROUNDOFF

__all__ = [
    "EMResult", "EMResultWithInfo", "ObjectiveDecreasedError", "FitStoppedError", "Stats", "run_em", "run_incremental",
    "run_online", "squarem", "ROUNDOFF", "objective_scale",
]


class EMResult(NamedTuple):
    """What every fit of the course returns.

    params:    the parameters after ``n_iter`` iterations.
    objective: array of length ``n_iter + 1``; entry t is the objective at the
               parameters after t iterations (entry 0 at the initial ones).
    converged: whether the stopping rule (0 <= gain < tol max(|L|, 1)) was met before ``max_iter``.
    n_iter:    the number of EM iterations (M steps) taken.
    """

    params: Any
    objective: np.ndarray
    converged: bool
    n_iter: int


class ObjectiveDecreasedError(RuntimeError):
    """The objective went down between two EM iterations: EM never does that."""


class FitStoppedError(ValueError):
    """A step of a fit could not be taken (a component collapsed or lost all its data, the objective left the
    model), so the fit stopped; what it had reached is kept.

    result:    an ``EMResult`` (``EMResultWithInfo`` from the variants) of the fit up to the last iteration that
               succeeded: its params, the objective after 0 .. n_iter iterations, converged=False, n_iter.
    iteration: the iteration (pass, cycle) whose step failed, n_iter + 1.

    The message is the step's, "at iteration t: ...", and says where the result is. The error the step raised is
    ``__cause__``. A ``ValueError``, so ``except ValueError`` catches it as before.
    """

    def __init__(self, message, result=None, iteration=None):
        super().__init__(message)
        self.result = result
        self.iteration = iteration


def _stopped(error: ValueError, where: str, unit: str, result) -> FitStoppedError:
    """The FitStoppedError of a step that failed ``at <where>``, keeping ``result``, the fit up to ``unit``
    (iteration, pass, cycle) ``result.n_iter``."""
    message = str(error) if str(error).startswith("at ") else f"at {where}: {error}"
    message = message.rstrip() + ("" if message.rstrip().endswith(".") else ".")
    return FitStoppedError(
        f"{message} The fit up to {unit} {result.n_iter} (objective {result.objective[-1]:.10g}, converged=False) "
        "is in error.result.", result, result.n_iter + 1)


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
    L_t - L_{t-1}, satisfies 0 <= gain < ``tol * max(|L_t|, 1)`` (a relative
    tolerance, absolute below |L| = 1), or after ``max_iter`` iterations. A
    decrease never stops the run. With ``tol=0`` the run always takes
    ``max_iter`` iterations.

    Monotonicity: a decrease L_t < L_{t-1} larger than
    ``ROUNDOFF * max(|L_{t-1}|, 1)`` raises ``ObjectiveDecreasedError`` with the
    iteration and both values, unless ``check_monotone=False``.

    A ``ValueError`` from a step (a collapsing component, say) is raised again
    with the iteration at which it happened; from iteration 1 on, as a
    ``FitStoppedError`` whose ``result`` is the fit up to the iteration before.
    """
    max_iter = _check_settings(max_iter, tol, "max_iter")
    params = init
    stats, value = _evaluate(0, e_step, params)
    objective = [value]
    converged = False
    for t in range(1, max_iter + 1):
        try:
            new = _at_iteration(t, m_step, stats)
            stats, value = _evaluate(t, e_step, new)
        except ValueError as error:
            result = EMResult(params, np.array(objective), False, t - 1)
            raise _stopped(error, f"iteration {t}", "iteration", result) from error
        params = new
        previous = objective[-1]
        objective.append(value)
        if _stops(previous, value, tol, check_monotone, f"the objective decreased at iteration {t}",
                  "An exact EM step never decreases it: the E step or the M step does not match the model whose "
                  "objective is computed."):
            converged = True
            break
    return EMResult(params, np.array(objective), converged, len(objective) - 1)


def _stops(previous: float, value: float, tol: float, check_monotone: bool, what: str, why: str) -> bool:
    """The monotonicity guard and the stopping rule every driver shares: raise ObjectiveDecreasedError (``what``,
    the two values, ``why``) if the objective fell from ``previous`` to ``value`` by more than
    ROUNDOFF * max(|previous|, 1); True when 0 <= gain < tol * max(|value|, 1) (never with tol = 0, never after
    a decrease: without the guard the objective can fall and rise again)."""
    gain = value - previous
    if check_monotone and gain < -ROUNDOFF * objective_scale(previous):
        raise ObjectiveDecreasedError(f"{what}, from {previous:.10g} to {value:.10g} (by {-gain:.3g}). {why}")
    return bool(tol > 0 and 0 <= gain < tol * objective_scale(value))


def _labelled(where: str | None, step, *arguments):
    """step(*arguments), with a ValueError it raises raised again as "at <where>: <message>" (as it is when
    ``where`` is None, at the start, or when the message already says where)."""
    try:
        return step(*arguments)
    except ValueError as error:
        if where is None or str(error).startswith("at "):
            raise
        raise type(error)(f"at {where}: {error}") from error


def _at_iteration(t, step, argument):
    return _labelled(f"iteration {t}" if t else None, step, argument)


def _evaluate(t, e_step, params):
    stats, value = _at_iteration(t, e_step, params)
    value = float(value)
    _check_finite(t, value)
    return stats, value


# ----------------------------------------------------------------------------------------------- variants
#
# Incremental EM, online EM and SQUAREM: the same E and M steps, visited in another order. They return an
# EMResultWithInfo, an EMResult that also carries what the particular driver counts.


class EMResultWithInfo(EMResult):
    """An ``EMResult`` (the same four fields; it unpacks, indexes and compares the same) with ``info``, a dict
    of what a particular driver also counts or traces (EM-map evaluations, step lengths, log-likelihoods)."""

    def __new__(cls, params, objective, converged, n_iter, info=None):
        self = super().__new__(cls, params, objective, converged, n_iter)
        self.info = dict(info or {})
        return self


def run_incremental(
    block_e_step: Callable[[Any, Any], tuple[Any, float]],
    m_step: Callable[[Any], Any],
    expected_log_joint: Callable[[Any, Any], float],
    init: Any,
    blocks,
    *,
    max_passes: int = 100,
    tol: float = 1e-8,
    check_monotone: bool = True,
    log_likelihood: Callable[[Any], float] | None = None,
) -> EMResultWithInfo:
    """Incremental EM (Neal and Hinton 1999, Section 4): an M step after the E step of each block of the data.

    block_e_step(block, params) -> (s_b, H_b): the block's expected statistics under q_b = p(z_b | y_b, params)
        and the entropy H_b = -E_{q_b}[log q_b] of that posterior.
    expected_log_joint(S, params) -> E_q[log p(y, z | params)] for the total statistics S = sum_b s_b (for an
        exponential family it is linear in S: no pass over the data).
    blocks: a sequence of B blocks that together make the data set.

    Start: a full E step at ``init`` (every q_b the posterior at init). One pass visits the blocks in order:

        params <- m_step(S);   (s_b', H_b') <- block_e_step(block_b, params);   S <- S - s_b + s_b'.

    (The M step comes first so that with B = 1 a pass is exactly one iteration of batch EM, ``run_em``.)
    S is summed afresh from the stored s_b after each pass, so the subtractions leave no round-off behind.

    Objective: the free energy after each pass (entry 0 at init),

        F(q, params) = E_q[log p(y, z | params)] + sum_b H_b = L(params) - KL(q || p(z | y, params)) <= L(params).

    Neal and Hinton show that neither a block's E step (it lowers that block's KL term to zero) nor an M step
    (it maximizes the first term) can lower F, so F is monotone and the driver checks it like ``run_em``. The
    log-likelihood L(params) after a pass is not monotone: q lags behind params. F = L whenever q is the exact
    posterior at params (always with B = 1). If ``log_likelihood(params)`` is given, L is also evaluated after
    every pass (one more full E step per pass) into ``info["log_likelihood"]`` (entry 0 at init).

    Stopping rule: the gain of F per pass, 0 <= F_t - F_{t-1} < tol max(|F_t|, 1), or ``max_passes`` passes.
    Returns EMResultWithInfo(params after the last pass's last M step, objective = F after 0, 1, ... passes,
    converged, n_iter = passes; info: n_blocks, n_m_steps, log_likelihood if asked). A step that fails in pass t
    raises ``FitStoppedError`` with the result after pass t - 1.
    """
    max_passes = _check_settings(max_passes, tol, "max_passes")
    blocks = list(blocks)
    if not blocks:
        raise ValueError("blocks is empty: pass the data split into at least one block.")

    def block_step(t, b, params):
        stats, entropy = _labelled(f"pass {t}, block {b}", block_e_step, blocks[b], params)
        return stats, float(entropy)

    def free_energy(t, total, entropies, params):
        value = float(expected_log_joint(total, params)) + sum(entropies)
        if not np.isfinite(value):
            raise ValueError(f"at pass {t}: the free energy is {value}; the parameters have left the model.")
        return value

    params = init
    block_stats, entropies = zip(*(block_step(0, b, params) for b in range(len(blocks))))
    block_stats, entropies = list(block_stats), list(entropies)
    total = sum(block_stats[1:], block_stats[0])
    objective = [free_energy(0, total, entropies, params)]
    likelihoods = [] if log_likelihood is None else [float(log_likelihood(params))]
    converged = False

    def info():
        extra = dict(n_blocks=len(blocks), n_m_steps=(len(objective) - 1) * len(blocks))
        if log_likelihood is not None:
            extra["log_likelihood"] = np.array(likelihoods)
        return extra

    for t in range(1, max_passes + 1):
        good = params
        try:
            for b in range(len(blocks)):
                params = _labelled(f"pass {t}, block {b}", m_step, total)
                new, entropies[b] = block_step(t, b, params)
                total = total - block_stats[b] + new
                block_stats[b] = new
            total = sum(block_stats[1:], block_stats[0])  # afresh: the subtractions leave no round-off behind
            value, previous = free_energy(t, total, entropies, params), objective[-1]
            if log_likelihood is not None:
                likelihood = float(_labelled(f"pass {t}", log_likelihood, params))
        except ValueError as error:
            result = EMResultWithInfo(good, np.array(objective), False, t - 1, info())
            raise _stopped(error, f"pass {t}", "pass", result) from error
        objective.append(value)
        if log_likelihood is not None:
            likelihoods.append(likelihood)
        if _stops(previous, value, tol, check_monotone, f"the free energy decreased in pass {t}",
                  "Neither a partial E step nor an M step can decrease it: the block E step, the entropy, the "
                  "M step or expected_log_joint does not match the model."):
            converged = True
            break
    return EMResultWithInfo(params, np.array(objective), converged, len(objective) - 1, info())


def run_online(
    batch_e_step: Callable[[Any, Any], tuple],
    m_step: Callable[[Any], Any],
    init: Any,
    batches,
    evaluate: Callable[[Any], float],
    *,
    n_passes: int = 1,
    alpha: float = 0.6,
    n0: float = 0.0,
    average_after: int | None = None,
    size: Callable[[Any], int] = len,
) -> EMResultWithInfo:
    """Online EM (Cappe and Moulines 2009): a stochastic approximation of the per-sample statistics.

    batch_e_step(batch, params) -> (s, ...): the expected statistics of a mini-batch (only s is used; a model's
        ``e_step`` fits as it is). size(batch) is its number of samples m (default ``len``).
    batches: the mini-batches of one pass over the data, visited in order (shuffle them beforehand: the
        recursion assumes independent draws).
    evaluate(params) -> the objective on the whole data set (the log-likelihood), used once per pass.

    Step n = 1, 2, ... (counted across passes) takes the next mini-batch Y_n:

        s_n = (1 - gamma_n) s_{n-1} + gamma_n s(Y_n; params_{n-1}) / m_n,   params_n = m_step(s_n),
        gamma_n = (n + n0)^(-alpha),   1/2 < alpha <= 1,  n0 >= 0,

    with s_1 = s(Y_1; init) / m_1 (whatever gamma_1). The step sizes sum to infinity (alpha <= 1) while their
    squares do not (alpha > 1/2), the conditions of the paper's convergence theorem; n0 > 0 damps the first
    steps. It is the statistics that are averaged this way, not the parameters.

    Polyak-Ruppert averaging (``average_after=n_avg``): after step n_avg the driver also keeps the running mean
    of the statistics s_{n_avg+1}, ..., s_n and reports m_step of that mean. Cappe and Moulines average the
    parameters params_k instead; averaging the statistics needs only their additivity, keeps every average a
    valid parameter, and is the same to first order (m_step is smooth). The recursion itself (and every E step)
    uses the unaveraged params_n; averaging is meant for alpha < 1 (the paper uses alpha = 0.6).

    Objective: L of the reported parameters after each pass (entry 0 at init), by one full evaluation per pass.
    It is not monotone in general (the recursion is stochastic): there is no monotonicity check and no
    stopping rule; the driver runs ``n_passes`` passes and reports converged = False.
    Returns EMResultWithInfo(params, objective, False, n_iter = n_passes; info: n_steps, last_step_size). A step
    that fails in pass t raises ``FitStoppedError`` with the result after pass t - 1.
    """
    if isinstance(alpha, bool) or not (np.isscalar(alpha) and 0.5 < alpha <= 1):
        raise ValueError(
            f"alpha must satisfy 1/2 < alpha <= 1, got {alpha!r}: the convergence theorem (Cappe and Moulines "
            "2009) needs step sizes (n + n0)^-alpha that sum to infinity (alpha <= 1) and whose squares do not "
            "(alpha > 1/2). These conditions are sufficient, not necessary; this driver keeps to them. They use 0.6."
        )
    if not (np.isscalar(n0) and np.isfinite(n0) and n0 >= 0):
        raise ValueError(f"n0 must be a finite number >= 0 (the step-size offset), got {n0!r}.")
    if isinstance(n_passes, bool) or int(n_passes) != n_passes or n_passes < 1:
        raise ValueError(f"n_passes must be a whole number >= 1, got {n_passes!r}.")
    if average_after is not None and (isinstance(average_after, bool) or int(average_after) != average_after
                                      or average_after < 0):
        raise ValueError(f"average_after must be None or a whole number of steps >= 0, got {average_after!r}.")
    batches = list(batches)
    if not batches:
        raise ValueError("batches is empty: pass the data split into at least one mini-batch.")
    sizes = [size(batch) for batch in batches]
    for i, m in enumerate(sizes):
        if not m >= 1:
            raise ValueError(f"mini-batch {i} has {m} samples: every mini-batch needs at least one.")

    params = current = init
    evaluate_pair = lambda p: (None, evaluate(p))  # noqa: E731  (_evaluate wants an e_step's pair)
    objective = [_evaluate(0, evaluate_pair, params)[1]]
    s = average = None
    n = n_averaged = 0
    gamma = 1.0
    for t in range(1, n_passes + 1):
        try:
            for batch, m in zip(batches, sizes):
                n += 1
                new = (1.0 / m) * _labelled(f"pass {t}, step {n}", batch_e_step, batch, current)[0]
                gamma = 1.0 if s is None else float((n + n0) ** -alpha)
                s = new if s is None else (1 - gamma) * s + gamma * new
                current = _labelled(f"pass {t}, step {n}", m_step, s)
                if average_after is not None and n > average_after:
                    n_averaged += 1
                    average = s if average is None else average + (1.0 / n_averaged) * (s - average)
            new_params = current if average is None else _labelled(f"pass {t}, step {n}", m_step, average)
            value = _evaluate(t, evaluate_pair, new_params)[1]
        except ValueError as error:
            info = dict(n_steps=n, last_step_size=gamma, n_averaged=n_averaged)
            result = EMResultWithInfo(params, np.array(objective), False, t - 1, info)
            raise _stopped(error, f"pass {t}", "pass", result) from error
        params = new_params
        objective.append(value)
    info = dict(n_steps=n, last_step_size=gamma, n_averaged=n_averaged)
    return EMResultWithInfo(params, np.array(objective), False, n_passes, info)


def squarem(
    em_map: Callable[[Any], tuple[Any, float]],
    init: Any,
    to_vector: Callable[[Any], np.ndarray],
    from_vector: Callable[[np.ndarray], Any],
    *,
    max_iter: int = 500,
    tol: float = 1e-8,
    max_backtracks: int = 3,
    check_monotone: bool = True,
) -> EMResultWithInfo:
    """SQUAREM, scheme S3 (Varadhan and Roland 2008), around an EM map theta -> M(E(theta)).

    em_map(params) -> (M(E(params)), objective at params): one E step and one M step; the E step gives the
        objective at its argument for free (``run_em``'s e_step and m_step composed).
    to_vector(params) -> a 1-D float array; from_vector(vector) -> params, raising ValueError when the vector
        is not a valid parameter (a negative weight, a covariance that is not positive definite).

    One cycle from theta_0, with F the EM map:

        theta_1 = F(theta_0),  theta_2 = F(theta_1),  d1 = theta_1 - theta_0,  d2 = theta_2 - 2 theta_1 + theta_0,
        eta = min(-|d1| / |d2|, -1)                        (S3; eta = -1 gives theta' = theta_2)
        theta' = theta_0 - 2 eta d1 + eta^2 d2              (the squared extrapolation)
        theta_new = F(theta')                               (the stabilising EM step of the paper)

    Safeguard: theta' is accepted when it is a valid parameter, F(theta') can be computed, and
    L(theta') >= L(theta_0) (exactly; L(theta') comes with the stabilising step at no extra cost).
    Then L(theta_new) >= L(theta') >= L(theta_0) by EM's own guarantee: the objective is monotone by
    construction (and checked like ``run_em``). Otherwise eta <- (eta - 1) / 2, halfway to -1, at most
    ``max_backtracks`` times; then eta = -1, theta' = theta_2, three plain EM steps, always accepted.

    Cost: a cycle takes 3 EM-map evaluations (theta_1, theta_2, the stabilising step), plus one for each
    rejected extrapolation that was a valid parameter (an invalid one costs none). The first map of the next
    cycle gives L(theta_new), the cycle's objective entry, so the whole run costs 1 + sum of the cycles' costs.
    ``info["n_evaluations"]`` counts every em_map call (also the ones that failed);
    ``info["n_backtracks"]`` the rejected extrapolations (``info["n_invalid"]`` of them not valid parameters, or
    the EM map failed there); ``info["step_lengths"]`` the eta each cycle used;
    ``info["evaluations"][t]`` the calls made by the time objective[t] was known (for plots against cost).

    Objective: entry t is the objective after t cycles (entry 0 at init). Stopping rule: the gain per cycle in
    [0, tol max(|L|, 1)) (as in ``run_em``), a fixed point (theta_1 = theta_0), or ``max_iter`` cycles. A step
    that fails in cycle t (not a rejected extrapolation: a plain EM step) raises ``FitStoppedError`` with the
    result after cycle t - 1.
    """
    max_iter = _check_settings(max_iter, tol, "max_iter")
    if isinstance(max_backtracks, bool) or int(max_backtracks) != max_backtracks or max_backtracks < 0:
        raise ValueError(f"max_backtracks must be a whole number >= 0, got {max_backtracks!r}.")
    count = dict(n_evaluations=0, n_backtracks=0, n_invalid=0)

    def evaluate_map(t, params):
        count["n_evaluations"] += 1
        new, value = _at_iteration(t, em_map, params)
        return new, float(value)

    theta0 = init
    theta1, value0 = evaluate_map(0, theta0)
    _check_finite(0, value0)
    objective, steps, evaluations = [value0], [], [count["n_evaluations"]]
    converged = False
    for t in range(1, max_iter + 1):
        try:
            x0, x1 = _vector(to_vector, theta0), _vector(to_vector, theta1)
            d1 = x1 - x0
            if not d1.any():
                converged = True  # theta_0 is a fixed point of the EM map
                break
            theta2, _ = evaluate_map(t, theta1)
            d2 = _vector(to_vector, theta2) - 2 * x1 + x0
            norm_d2 = np.linalg.norm(d2)
            eta = min(-np.linalg.norm(d1) / norm_d2, -1.0) if norm_d2 > 0 else -1.0
            accepted = False
            for attempt in range(max_backtracks + 1):
                if eta == -1.0:
                    break
                try:
                    candidate = from_vector(x0 - 2 * eta * d1 + eta**2 * d2)
                except ValueError:
                    candidate = None  # not a valid parameter: rejected without an evaluation
                    count["n_invalid"] += 1
                if candidate is not None:
                    count["n_evaluations"] += 1
                    try:
                        theta_new, value = em_map(candidate)
                        value = float(value)
                        accepted = bool(np.isfinite(value) and value >= value0)
                    except ValueError:
                        count["n_invalid"] += 1
                if accepted:
                    break
                count["n_backtracks"] += 1
                eta = (eta - 1) / 2 if attempt < max_backtracks else -1.0
            if not accepted:
                eta = -1.0
                theta_new, _ = evaluate_map(t, theta2)
            steps.append(eta)
            theta1_next, value_new = evaluate_map(t, theta_new)
            _check_finite(t, value_new)
        except ValueError as error:
            info = dict(count, step_lengths=np.array(steps[: t - 1]), evaluations=np.array(evaluations))
            result = EMResultWithInfo(theta0, np.array(objective), False, t - 1, info)
            raise _stopped(error, f"iteration {t}", "iteration", result) from error
        objective.append(value_new)
        evaluations.append(count["n_evaluations"])
        stop = _stops(value0, value_new, tol, check_monotone, f"the objective decreased in SQUAREM cycle {t}",
                      "The EM map itself is not monotone, or its objective does not match it.")
        theta0, theta1, value0 = theta_new, theta1_next, value_new
        if stop:
            converged = True
            break
    info = dict(count, step_lengths=np.array(steps), evaluations=np.array(evaluations))
    return EMResultWithInfo(theta0, np.array(objective), converged, len(objective) - 1, info)


def _check_settings(max_iter, tol, name):
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, (int, np.integer, float, np.floating)):
        raise TypeError(f"{name} must be a whole number >= 0 (the most iterations to run), got {max_iter!r}.")
    if not (max_iter >= 0 and int(max_iter) == max_iter):
        raise ValueError(f"{name} must be a whole number >= 0 (the most iterations to run), got {max_iter!r}.")
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (int, np.integer, float, np.floating)):
        raise TypeError(f"tol must be a number >= 0 (the stopping tolerance; 0 runs all {name} iterations), "
                        f"got {tol!r}.")
    if not tol >= 0:
        raise ValueError(f"tol must be a number >= 0 (the stopping tolerance; 0 runs all {name} iterations), "
                         f"got {tol!r}.")
    return int(max_iter)


def _vector(to_vector, params) -> np.ndarray:
    x = np.asarray(to_vector(params), dtype=float)
    if x.ndim != 1:
        raise ValueError(f"to_vector must return a 1-D array, got shape {x.shape}.")
    return x


def _check_finite(t, value):
    if not np.isfinite(value):
        raise ValueError(
            f"at iteration {t}: the objective is {value}; the parameters have left the model "
            "(a zero probability where there is data, or an unbounded density)."
        )
