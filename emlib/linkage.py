"""The genetic linkage example of Dempster, Laird and Rubin (1977, Section 1): EM with one parameter.

Model. Counts y = (y1, y2, y3, y4) of n animals are multinomial with cell probabilities

    p(theta) = (1/2 + theta/4, (1 - theta)/4, (1 - theta)/4, theta/4),   0 < theta < 1.

Complete data. Split the first cell, y1 = x1 + x2, into cells of probabilities 1/2 and theta/4. The
complete data (x1, x2, y2, y3, y4) are multinomial too, and their log-likelihood is binomial-like:

    log f(x | theta) = (x2 + y4) log theta + (y2 + y3) log(1 - theta) + const.

E step. Given y1, x2 ~ Binomial(y1, (theta/4) / (1/2 + theta/4)), so, at the current theta,

    x2 = E[x2 | y, theta] = y1 (theta/4) / (1/2 + theta/4).

M step. Q(theta') = (x2 + y4) log theta' + (y2 + y3) log(1 - theta') + const is maximized by

    theta' = (x2 + y4) / (x2 + y2 + y3 + y4).

MAP-EM. With a Beta(a, b) prior, the M step maximizes Q(theta') + log p(theta'), the mode of the complete-data
posterior Beta(x2 + y4 + a, y2 + y3 + b): theta' = (x2 + y4 + a - 1) / (x2 + y2 + y3 + y4 + a + b - 2), i.e. a - 1 and
b - 1 pseudo-animals (``fit(..., prior=(a, b))``); the objective is then log p(y | theta) + log p(theta).

Rate. Near the MLE theta*, theta_{t+1} - theta* ~ lambda (theta_t - theta*) with lambda = 1 - I_obs / I_c, the
fraction of information that is missing (DLR Section 3); lambda = 0.1328 for the DLR counts.
"""
from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
from scipy.special import betaln, gammaln

from .em import EMResult, Stats, run_em

__all__ = [
    "LinkageStats", "validate_counts", "validate_theta", "cell_probabilities", "log_likelihood",
    "e_step", "m_step", "fit", "mle", "score", "lower_bound", "observed_information", "complete_information",
    "missing_information_fraction", "validate_prior", "log_prior",
]


@dataclasses.dataclass(frozen=True)
class LinkageStats(Stats):
    """The expected complete-data statistics: Q(theta) = theta_count log theta + one_minus_theta_count log(1 - theta).

    theta_count:           E[x2 | y, theta] + y4.
    one_minus_theta_count: y2 + y3.
    """

    theta_count: float
    one_minus_theta_count: float


def validate_counts(counts) -> np.ndarray:
    """The counts (y1, y2, y3, y4) as a new float array; ValueError unless they are 4 whole numbers >= 0, not all 0."""
    example = "pass the four category counts, e.g. emlib.datasets.genetic_linkage() = [125, 18, 20, 34]"
    try:
        y = np.array(counts, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"counts must be numbers ({error}): {example}.") from None
    if y.shape != (4,):
        raise ValueError(f"counts must be a 1-D array of length 4, got shape {y.shape}: {example}.")
    if not np.isfinite(y).all():
        raise ValueError(f"counts must be finite, got {y}: {example}.")
    if (y < 0).any():
        raise ValueError(f"counts must be non-negative, got {y}: {example}.")
    if (y != np.round(y)).any():
        raise ValueError(f"counts must be whole numbers (numbers of animals), got {y}: {example}.")
    if y.sum() == 0:
        raise ValueError(f"counts are all zero, so there is nothing to fit: {example}.")
    return y


def validate_theta(theta, name: str = "theta") -> float:
    """theta as a float; ValueError unless 0 < theta < 1, where every cell probability is positive. ``name`` is the
    argument's name in the message (``fit`` says theta0)."""
    try:
        t = float(theta) if np.ndim(theta) == 0 and not isinstance(theta, (bool, np.bool_)) else None
    except (TypeError, ValueError):
        t = None
    if t is None or not 0 < t < 1:
        raise ValueError(f"{name} must be a single number strictly between 0 and 1, got {theta!r}; try {name} = 0.5.")
    return t


def cell_probabilities(theta) -> np.ndarray:
    """p(theta) = (1/2 + theta/4, (1 - theta)/4, (1 - theta)/4, theta/4)."""
    t = validate_theta(theta)
    return np.array([1 / 2 + t / 4, (1 - t) / 4, (1 - t) / 4, t / 4])


def log_likelihood(counts, theta) -> float:
    """The multinomial log-pmf log p(y | theta) = log n! - sum_j log y_j! + sum_j y_j log p_j(theta)."""
    y = validate_counts(counts)
    n = y.sum()
    return float(gammaln(n + 1) - gammaln(y + 1).sum() + y @ np.log(cell_probabilities(theta)))


def e_step(counts, theta) -> tuple[LinkageStats, float]:
    """x2 = y1 (theta/4) / (1/2 + theta/4); returns (LinkageStats(x2 + y4, y2 + y3), log p(y | theta))."""
    y1, y2, y3, y4 = validate_counts(counts)
    t = validate_theta(theta)
    x2 = y1 * (t / 4) / (1 / 2 + t / 4)
    return LinkageStats(theta_count=x2 + y4, one_minus_theta_count=y2 + y3), log_likelihood(counts, t)


def m_step(stats: LinkageStats, prior=None) -> float:
    """theta = (x2 + y4) / (x2 + y2 + y3 + y4), the maximizer of a log theta + b log(1 - theta).

    With a Beta(a, b) ``prior`` (MAP-EM), the maximizer of Q + log p(theta), the mode of the complete-data
    posterior Beta(x2 + y4 + a, y2 + y3 + b): theta = (x2 + y4 + a - 1) / (x2 + y2 + y3 + y4 + a + b - 2).
    """
    if prior is not None:
        a, b = validate_prior(prior)
        return float((stats.theta_count + a - 1) / (stats.theta_count + stats.one_minus_theta_count + a + b - 2))
    a, b = stats.theta_count, stats.one_minus_theta_count
    return float(a / (a + b))


def _inside(step, stats: LinkageStats, prior=None) -> float:
    """``step(stats)`` (an M step), refused with the reason when it lands on theta = 0 or 1: the maximizer of Q
    is on the boundary there, and the E step is defined only for 0 < theta < 1, so a fit cannot go on."""
    theta = step(stats)
    if not 0 < theta < 1:
        side = "1" if theta >= 1 else "0"
        cells = {"1": "y2 + y3", "0": "E[x2] + y4"}[side]
        cells += "" if prior is None else {"1": " + b - 1", "0": " + a - 1"}[side]
        answer = "linkage.mle(counts) gives it in closed form" if prior is None else "the posterior mode"
        raise ValueError(
            f"the M step gives theta = {theta:g}: {cells} = 0, so the maximum is on the boundary theta = {side}, "
            f"outside 0 < theta < 1 where the E step is defined, and EM cannot go on. theta = {side} is the answer "
            f"({answer}); a Beta prior with a, b > 1 (prior=(2, 2)) keeps theta inside."
        )
    return theta


def validate_prior(prior) -> tuple[float, float]:
    """A Beta(a, b) prior on theta as (a, b); ValueError unless a, b >= 1 are finite.

    As pseudo-data: a - 1 extra animals in the theta cell and b - 1 in the 1 - theta cells (a = b = 1 is flat, and
    MAP-EM is then ML-EM). Below 1 the Beta density is infinite at theta = 0 or 1, where the MAP estimate may sit.
    """
    try:
        a, b = (float(v) for v in prior)
    except (TypeError, ValueError):
        raise ValueError(f"prior must be a pair (a, b) of Beta parameters, got {prior!r}; try prior=(2, 2).") from None
    if not (np.isfinite(a) and np.isfinite(b) and a >= 1 and b >= 1):
        raise ValueError(f"the Beta prior's (a, b) must be finite and >= 1 (a - 1 and b - 1 pseudo-counts), got "
                         f"({a:g}, {b:g}); use (1, 1) for a flat prior.")
    return a, b


def log_prior(theta, prior) -> float:
    """log Beta(theta | a, b) = (a - 1) log theta + (b - 1) log(1 - theta) - log B(a, b), the normalised density."""
    a, b = validate_prior(prior)
    t = validate_theta(theta)
    return float((a - 1) * np.log(t) + (b - 1) * np.log1p(-t) - betaln(a, b))


def _map_e_step(counts, prior, theta) -> tuple[LinkageStats, float]:
    """The E step with MAP-EM's objective, the log-posterior log p(y | theta) + log p(theta) (up to log p(y))."""
    stats, log_likelihood_ = e_step(counts, theta)
    return stats, log_likelihood_ + log_prior(theta, prior)


def fit(counts, theta0=0.5, *, max_iter: int = 100, tol: float = 1e-12, prior=None) -> EMResult:
    """EM from theta0 with the shared driver ``emlib.em.run_em``.

    Returns EMResult(params = theta, objective = log p(y | theta) after 0, 1, ... iterations, converged,
    n_iter). The stopping rule is on the log-likelihood's relative gain (0 <= gain < tol max(|L|, 1)), about
    I_obs (theta - theta*)^2 / (2 |L|): tol = 1e-12 stops within about 1e-7 of theta*. For more, pass tol=0 and a
    max_iter. An M step that reaches the boundary theta = 0 or 1 (the maximum is there) raises FitStoppedError.
    prior: (a, b) for a Beta(a, b) prior on theta (MAP-EM); the objective is then the log-posterior
    log p(y | theta) + log Beta(theta | a, b), and the iterates converge to the observed-data posterior mode.
    """
    y = validate_counts(counts)
    if prior is not None:
        prior = validate_prior(prior)
        return run_em(partial(_map_e_step, y, prior), partial(_inside, partial(m_step, prior=prior), prior=prior),
                      validate_theta(theta0, "theta0"), max_iter=max_iter, tol=tol)
    return run_em(partial(e_step, y), partial(_inside, m_step), validate_theta(theta0, "theta0"), max_iter=max_iter,
                  tol=tol)


def mle(counts) -> float:
    """The maximum-likelihood estimate theta*, in closed form.

    Up to a constant, log L(t) = y1 log(2 + t) + (y2 + y3) log(1 - t) + y4 log t, so the score equation is

        y1 / (2 + t) - (y2 + y3) / (1 - t) + y4 / t = 0.

    Multiply by t (2 + t)(1 - t) > 0:

        y1 t (1 - t) - (y2 + y3) t (2 + t) + y4 (2 + t)(1 - t) = 0,

    and collect powers of t (the t^2 terms add up to -n t^2, n = y1 + y2 + y3 + y4):

        q(t) = n t^2 - b t - 2 y4 = 0,   b = y1 - 2 y2 - 2 y3 - y4.

    The score has the sign of -q(t). As q(0) = -2 y4 <= 0 and q(1) = 3 (y2 + y3) >= 0, the larger root

        theta* = (b + sqrt(b^2 + 8 n y4)) / (2 n)

    lies in [0, 1], with log L increasing below it and decreasing above: it is the maximizer. It is
    inside (0, 1) unless y4 = 0 and b <= 0 (theta* = 0) or y2 = y3 = 0 (theta* = 1).
    For b < 0 the equal form 4 y4 / (sqrt(b^2 + 8 n y4) - b) is used, which avoids cancellation.

    DLR counts: 197 t^2 - 15 t - 68 = 0, theta* = (15 + sqrt(53809)) / 394 = 0.62682149787... (DLR print .6268214980)
    """
    y1, y2, y3, y4 = validate_counts(counts)
    n = y1 + y2 + y3 + y4
    b = y1 - 2 * y2 - 2 * y3 - y4
    root = np.sqrt(b**2 + 8 * n * y4)
    return float((b + root) / (2 * n) if b >= 0 else 4 * y4 / (root - b))


def score(counts, theta) -> float:
    """The score d/dt log L(t) = y1 / (2 + t) - (y2 + y3) / (1 - t) + y4 / t; zero at the MLE theta*."""
    y1, y2, y3, y4 = validate_counts(counts)
    t = validate_theta(theta)
    return float(y1 / (2 + t) - (y2 + y3) / (1 - t) + y4 / t)


def lower_bound(counts, theta_t, theta):
    """EM's minorizer G(theta | theta_t) = log p(y | theta_t) + Q(theta | theta_t) - Q(theta_t | theta_t).

    With (a, b) the E step's statistics at theta_t (a = E[x2 | y, theta_t] + y4, b = y2 + y3),

        G(theta | theta_t) = log p(y | theta_t) + a log(theta / theta_t) + b log((1 - theta) / (1 - theta_t)).

    G <= log p(y | theta) for every theta in (0, 1), with equality at theta = theta_t: the gap is
    KL(p(x2 | y, theta_t) || p(x2 | y, theta)) >= 0. The M step's theta_{t+1} maximizes G.
    theta: a number or an array of numbers in (0, 1); returns a float or an array of the same shape.
    """
    stats, log_likelihood_t = e_step(counts, theta_t)
    t = validate_theta(theta_t)
    theta = np.asarray(theta, dtype=float)
    if not np.all((theta > 0) & (theta < 1)):
        raise ValueError(f"theta must lie strictly between 0 and 1, got values from {theta.min():g} to {theta.max():g}.")
    a, b = stats.theta_count, stats.one_minus_theta_count
    bound = log_likelihood_t + a * np.log(theta / t) + b * (np.log1p(-theta) - np.log1p(-t))
    return float(bound) if bound.ndim == 0 else bound


def observed_information(counts, theta) -> float:
    """I_obs(t) = -d^2/dt^2 log L(t) = y1 / (2 + t)^2 + (y2 + y3) / (1 - t)^2 + y4 / t^2."""
    y1, y2, y3, y4 = validate_counts(counts)
    t = validate_theta(theta)
    return float(y1 / (2 + t) ** 2 + (y2 + y3) / (1 - t) ** 2 + y4 / t**2)


def complete_information(counts, theta) -> float:
    """I_c(t) = E[-d^2/dt^2 log f(x | t) | y, t] = (E[x2 | y, t] + y4) / t^2 + (y2 + y3) / (1 - t)^2.

    log f(x | t) is linear in x2, so the expectation only replaces x2 by the E step's E[x2 | y, t].
    """
    stats, _ = e_step(counts, theta)
    t = validate_theta(theta)
    return float(stats.theta_count / t**2 + stats.one_minus_theta_count / (1 - t) ** 2)


def missing_information_fraction(counts, theta=None) -> float:
    """lambda = 1 - I_obs / I_c = I_mis / I_c at theta (by default the MLE): EM's linear rate of convergence.

    I_mis = I_c - I_obs = Var(x2 | y, t) / t^2 = 2 y1 / (t (2 + t)^2) is the information lost by
    observing y1 instead of (x1, x2). At theta = theta*, theta_{t+1} - theta* ~ lambda (theta_t - theta*)
    (DLR Section 3); lambda = 0.1328 for the DLR counts.
    """
    y = validate_counts(counts)
    if theta is None:
        theta = mle(y)
        if not 0 < theta < 1:
            raise ValueError(f"the MLE of counts {y} is theta = {theta:g}, on the boundary: the rate "
                             "1 - I_obs / I_c needs a theta strictly between 0 and 1; pass one.")
    return 1 - observed_information(y, theta) / complete_information(y, theta)
