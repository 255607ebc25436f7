"""Generalized EM and ECME on the multivariate Student t, and on a mixture of them: M steps that only increase Q,
or that maximize the log-likelihood itself over nu.

Model (Liu and Rubin 1995; McLachlan and Peel 2000, ch. 7). The t is a Gaussian scale mixture:

    u ~ Gamma(nu/2, rate nu/2),   x | u ~ N(mu, Sigma / u)   =>   x ~ t_nu(mu, Sigma),

    log t_nu(x | mu, Sigma) = log Gamma((nu + D)/2) - log Gamma(nu/2) - D/2 log(nu pi) - 1/2 log|Sigma|
                              - (nu + D)/2 log(1 + delta / nu),      delta = (x - mu)^T Sigma^-1 (x - mu).

A mixture adds a label z, p(z = k) = w_k, and a component's own (mu_k, Sigma_k, nu_k); K = 1 is the single t.

E step. Given x and z = k, u is Gamma((nu_k + D)/2, rate (nu_k + delta_k)/2), so

    E[u] = (nu + D) / (nu + delta),   E[log u] = psi((nu + D)/2) - log((nu + delta)/2),

and with the responsibilities r_nk the expected sufficient statistics are additive sums over the data:

    n_k = sum_n r_nk,   sum_n r_nk E[u_nk] (1, x_n - c, (x_n - c)(x_n - c)^T),
    a_k n_k = sum_n r_nk (E[log u_nk] - E[u_nk]).

M step. Q separates into a (w, mu, Sigma) part and one part per nu_k:

    w_k = n_k / N,   mu_k = sum r E[u] x / sum r E[u],   Sigma_k = sum r E[u] (x - mu_k)(x - mu_k)^T / n_k,

    Q_nu(nu) = n_k [(nu/2) log(nu/2) - log Gamma(nu/2)] + (nu/2) a_k n_k        (+ terms free of nu).

Q_nu is strictly concave in nu, and its maximizer solves log(nu/2) + 1 - psi(nu/2) + a_k = 0, which has no
closed form. Four ways to take the nu part of the M step (``nu_step``):

* ``"maximize"``: solve that equation numerically (Brent's method in log(nu/2)). Because Q separates, the
  conditional maximizations over (w, mu, Sigma) and over nu (ECM's CM steps) are together the exact M step.
* ``"newton"``: generalized EM (Dempster, Laird and Rubin 1977, Section 3). ONE Newton step on Q_nu in
  s = log nu from the current nu, halved until Q_nu does not decrease: Q goes up, but is not maximized.
* ``"ecme"``: Liu and Rubin's ECME (1994; 1995, Section 4). First CM step: (w, mu, Sigma) as above, from the E
  step's weights at the old nu (it maximizes Q over them with nu fixed). Second CM step: each nu_k in turn
  (k = 0, 1, ...; the others fixed, earlier ones already updated) maximizes the observed-data log-likelihood
  itself, not Q, with the new (w, mu, Sigma) held fixed:

      nu_k <- argmax_nu  sum_n log sum_j w_j t_nu_j(x_n | mu_j, Sigma_j),   with nu_k = nu in the sum,

  a bounded 1-D maximization in log nu (``ecme_nus``). It needs the data, not only the statistics.
* ``"fixed"``: keep nu (then the M step is exact for the rest).

With "maximize", "newton" and "fixed", Q(new | old) >= Q(old | old), which is all the monotonicity proof needs:
the log-likelihood never decreases. ECME is monotone too: its first CM step raises Q, so (by the same proof) it
raises L, and its second CM step raises L directly (a nu_k that would not is not taken).

What GEM costs is iterations, and here it costs few: EM's own nu step moves nu only a little per iteration near
the optimum, and over so short a distance one Newton step on Q_nu comes close to Q_nu's maximizer (its error is
quadratic in that distance), so the GEM map and the EM map agree to first order and have the same linear rate
(tests/test_student_t.py: 1 or 2 more iterations in 32 to 67 from nu = 100; from a nu below the optimum the Newton
step can overshoot Q_nu's maximizer toward the MLE and GEM then converges faster than EM). Far from it, one
Newton step can fall well short of the maximizer (nu_newton_step(-1.3, 100) = 38.0, against 3.63).

What ECME saves is the slow EM for nu. Q_nu uses the expected log-weights E[log u] at the old nu, so from a poor
start EM moves nu only a little per iteration (100, 94, 87, 80, ... on chapter 05's data, which want nu = 1.76)
while the log-likelihood barely changes; ECME's nu step goes to the likelihood's maximizer at once
(tests/test_student_t.py: about 40 % fewer iterations on those data from nu = 100). When the data look Gaussian
the likelihood is flat in nu and EM crawls toward large nu (a_k -> -1); there too ECME is the remedy. Each ECME
iteration costs one more set of density evaluations per nu_k tried (a few tens of them), but no matrix work: the
Mahalanobis distances are fixed.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import NamedTuple

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import digamma, gammaln, polygamma

from . import gaussian, gmm
from ._validation import (PARAMETER_ADVICE, Validated, data_matrix, finite, frozen, generator, shape, symmetric,
                          whole_number)
from .em import EMResult, Stats, run_em

__all__ = [
    "StudentTParams", "TMixtureParams", "TStats", "NU_STEPS", "log_density", "component_log_densities",
    "log_likelihood", "e_step", "m_step", "fit", "nu_objective", "nu_gradient", "nu_maximizer", "nu_newton_step",
    "ecme_nus",
    "moment_params", "initial_params", "sample", "sample_mixture",
]

NU_STEPS = ("newton", "maximize", "fixed", "ecme")
#: The range of nu an M step may move to (it never leaves a current nu outside it): beyond NU_MAX the t is a
#: Gaussian to every digit that matters, and below NU_MIN it has no useful moments at all.
NU_MIN, NU_MAX = 1e-3, 1e6
#: A component with less total responsibility than this (in data points) has died.
EMPTY_COUNT = 1e-8
#: A scale matrix is singular when its correlation matrix has an eigenvalue at or below this, or a standard deviation
#: is at or below this times |mean| (``gaussian.singular``: relative to the component itself, whatever the units).
SINGULAR_RATIO = gaussian.SINGULAR_RATIO
#: Halvings of the GEM Newton step before it gives up and keeps the current nu (a step of 2^-60 in log nu).
MAX_HALVINGS = 60
#: Absolute tolerance in log nu of ECME's bounded search over nu (scipy's Brent method adds a relative
#: sqrt(machine epsilon), and L's flat top limits it more); the root of the score then polishes the result.
ECME_XATOL = 1e-10
#: Widenings of the bracket in which ECME polishes its maximizer over nu by the root of the score.
ECME_BRACKETS = 12


# ----------------------------------------------------------------------------------------------- parameters

def _positive_nus(nus: np.ndarray, name: str) -> None:
    """Raise unless every nu is finite and > 0; ``nus`` is (K,) for a mixture, 0-d for a single t."""
    for k, nu in enumerate(np.atleast_1d(nus)):
        if not (np.isfinite(nu) and nu > 0):
            where = f"[{k}]" if nus.ndim else ""
            raise ValueError(
                f"{name}{where} = {nu:.6g}, but degrees of freedom must be finite and > 0 (nu = 1 is the Cauchy, "
                "nu -> infinity the Gaussian: fit that with emlib.gmm): start from, say, nu = 10."
            )


class _Fields(NamedTuple):
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    nus: np.ndarray


class TMixtureParams(Validated, gaussian.CholeskyFactors, _Fields):
    """Parameters of a mixture of K multivariate t's, validated and read-only: ``w, mu, Sigma, nu = params``.

    weights:     (K,) positive, summing to one.
    means:       (K, D).
    covariances: (K, D, D) symmetric positive definite (scale matrices: the covariance is nu/(nu-2) Sigma).
    nus:         (K,) degrees of freedom, > 0.
    """

    def __new__(cls, weights, means, covariances, nus):
        gaussians = gmm.GMMParams(weights, means, covariances)  # the checks of a Gaussian mixture's parameters
        nus = frozen(nus)
        shape(nus, (len(gaussians.weights),), "nus", "(K,)")
        _positive_nus(nus, "nus")
        self = super().__new__(cls, *gaussians, nus)
        self.__dict__["_cholesky"] = gaussians._cholesky
        return self

    @property
    def n_components(self) -> int:
        return len(self.weights)

    @property
    def dim(self) -> int:
        return self.means.shape[1]


class _SingleFields(NamedTuple):
    mean: np.ndarray
    covariance: np.ndarray
    nu: float


class StudentTParams(Validated, _SingleFields):
    """Parameters of one multivariate t, validated and read-only: ``mu, Sigma, nu = params``.

    mean:       (D,).
    covariance: (D, D) symmetric positive definite scale matrix.
    nu:         degrees of freedom, > 0.
    """

    __slots__ = ()

    def __new__(cls, mean, covariance, nu):
        mean, covariance = frozen(mean), frozen(covariance)
        if mean.ndim != 1:
            raise ValueError(f"mean must have shape (D,), got {mean.shape}.")
        D = len(mean)
        shape(covariance, (D, D), "covariance", "(D, D)")
        if np.ndim(nu) != 0:
            raise ValueError(f"nu must be a single number, got shape {np.shape(nu)}.")
        nu = float(nu)
        finite(mean, "mean", PARAMETER_ADVICE)
        symmetric(covariance, "covariance")
        _positive_nus(np.array(nu), "nu")
        try:
            np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"covariance is not positive definite (smallest eigenvalue {np.linalg.eigvalsh(covariance)[0]:.3g}): "
                "a scale matrix must be symmetric with positive eigenvalues."
            ) from None
        return super().__new__(cls, mean, covariance, nu)

    @property
    def dim(self) -> int:
        return len(self.mean)

    def as_mixture(self) -> TMixtureParams:
        """The same t as a one-component mixture (w = 1)."""
        return TMixtureParams([1.0], self.mean[None], self.covariance[None], [self.nu])

    @classmethod
    def from_mixture(cls, params: TMixtureParams) -> "StudentTParams":
        if params.n_components != 1:
            raise ValueError(f"a single t is a mixture of K = 1 component, got K = {params.n_components}.")
        return cls(params.means[0], params.covariances[0], params.nus[0])


def _as_mixture(params) -> TMixtureParams:
    if isinstance(params, StudentTParams):
        return params.as_mixture()
    if isinstance(params, TMixtureParams):
        return params
    raise TypeError(f"params must be a StudentTParams or a TMixtureParams, got {type(params).__name__}.")


# ----------------------------------------------------------------------------------------------- densities

def _mahalanobis(X: np.ndarray, params: TMixtureParams) -> np.ndarray:
    """delta_nk = |U_k (x_n - mu_k)|^2 with U_k = L_k^-1, shape (N, K): computed about each component's own mean."""
    U = params.inverse_cholesky
    return np.stack([np.einsum("nd,nd->n", Z, Z) for Z in
                     ((X - params.means[k]) @ U[k].T for k in range(params.n_components))], axis=1)


def _log_t(delta: np.ndarray, nus: np.ndarray, log_dets: np.ndarray, D: int) -> np.ndarray:
    """log t_nu(x | mu, Sigma) from the Mahalanobis distances delta (N, K) (formula in the module docstring)."""
    return (gammaln((nus + D) / 2) - gammaln(nus / 2) - D / 2 * np.log(nus * np.pi) - log_dets / 2
            - (nus + D) / 2 * np.log1p(delta / nus))


def component_log_densities(X, params) -> np.ndarray:
    """log t_nu_k(x_n | mu_k, Sigma_k) for every point and component, shape (N, K)."""
    X = data_matrix(X)
    params = _as_mixture(params)
    _check_compatible(X, params)
    return _log_t(_mahalanobis(X, params), params.nus, params.log_dets, params.dim)


def log_density(X, params: StudentTParams) -> np.ndarray:
    """log t_nu(x_n | mu, Sigma) of each row of X (N, D), shape (N,)."""
    if not isinstance(params, StudentTParams):
        raise TypeError(f"params must be a StudentTParams(mean, covariance, nu), got {type(params).__name__}.")
    return component_log_densities(X, params)[:, 0]


def log_likelihood(X, params) -> float:
    """Total log-likelihood sum_n log sum_k w_k t_nu_k(x_n | mu_k, Sigma_k) (a single t: sum_n log t_nu(x_n))."""
    mixture = _as_mixture(params)
    log_joint = component_log_densities(X, mixture) + np.log(mixture.weights)
    return float(gaussian.log_normalise(log_joint)[1].sum())


# ----------------------------------------------------------------------------------------------- E step

@dataclasses.dataclass(frozen=True)
class TStats(Stats):
    """Expected sufficient statistics of a t mixture.

    counts:      (K,)  n_k = sum_n r_nk
    weighted:    GMMStats of the weights r_nk E[u_nk]: sum r E[u], sum r E[u] (x - c_k), sum r E[u] (x - c_k)(x - c_k)^T
    log_u_terms: (K,)  sum_n r_nk (E[log u_nk] - E[u_nk])  (= a_k n_k, the data part of Q_nu)
    nus:         (K,)  the nu_k the E step was taken at: where the GEM Newton step starts (a label, not a sum)
    """

    counts: np.ndarray
    weighted: gmm.GMMStats
    log_u_terms: np.ndarray
    nus: np.ndarray

    _fixed = ("nus",)


def e_step(data, params) -> tuple[TStats, float]:
    """Expected sufficient statistics under p(z, u | x, params), and the total log-likelihood of params.

    data:   (N, D) array, or ``gaussian.features(X)`` prepared once for many E steps.
    params: a TMixtureParams, or a StudentTParams (a mixture of one).
    """
    F = gaussian.prepared(data)
    params = _as_mixture(params)
    _check_compatible(F.X, params)
    nus, D = params.nus, params.dim
    delta = _mahalanobis(F.X, params)
    log_joint = _log_t(delta, nus, params.log_dets, D) + np.log(params.weights)
    resp, log_norm = gaussian.log_normalise(log_joint)
    expected_u = (nus + D) / (nus + delta)
    expected_log_u = digamma((nus + D) / 2) - np.log((nus + delta) / 2)
    stats = TStats(resp.sum(axis=0), gmm.gaussian_statistics(F, resp * expected_u),
                   (resp * (expected_log_u - expected_u)).sum(axis=0), nus.copy())
    return stats, float(log_norm.sum())


# ----------------------------------------------------------------------------------------------- the nu part of Q

def nu_objective(nu, a) -> np.ndarray:
    """Q_nu(nu) / n_k = (nu/2) log(nu/2) - log Gamma(nu/2) + (nu/2) a, with a = (1/n_k) sum r (E[log u] - E[u])."""
    nu = np.asarray(nu, dtype=float)
    return nu / 2 * np.log(nu / 2) - gammaln(nu / 2) + nu / 2 * a


def nu_gradient(nu, a) -> np.ndarray:
    """d(Q_nu / n_k)/d nu = 1/2 [log(nu/2) + 1 - psi(nu/2) + a]: decreasing in nu from +inf to (1 + a)/2 < 0."""
    nu = np.asarray(nu, dtype=float)
    return 0.5 * (np.log(nu / 2) + 1 - digamma(nu / 2) + a)


def _bounds(nu: float) -> tuple[float, float]:
    return min(NU_MIN, nu), max(NU_MAX, nu)


def nu_maximizer(a: float, nu: float = 10.0) -> float:
    """argmax of Q_nu: the root of log(nu/2) + 1 - psi(nu/2) + a = 0, by Brent's method in t = log(nu/2).

    Q_nu is strictly concave, so on the allowed range [NU_MIN, NU_MAX] (stretched to include the current ``nu``)
    the maximizer is the root, or the end of the range the root lies beyond. Jensen gives a < -1, so the root is
    finite; a close to -1 (u nearly constant: Gaussian-looking data) puts it far out.
    """
    low, high = _bounds(nu)
    root = lambda t: t + 1 - digamma(np.exp(t)) + a  # noqa: E731  (2 x the gradient, in t = log(nu/2))
    t_low, t_high = np.log(low / 2), np.log(high / 2)
    if root(t_high) >= 0:
        return high
    if root(t_low) <= 0:
        return low
    return float(2 * np.exp(brentq(root, t_low, t_high, xtol=1e-13, rtol=4 * np.finfo(float).eps)))


def nu_newton_step(a: float, nu: float) -> float:
    """One safeguarded Newton step on f(s) = Q_nu(e^s) / n_k from s = log nu: the GEM update of nu.

        f'(s)  = nu g(nu),   f''(s) = nu g(nu) + nu^2 g'(nu),   g = nu_gradient,  g'(nu) = 1/2 (1/nu - psi'(nu/2)/2).

    The step is -f'/f'' where f'' < 0 (f is concave there), else one unit of log nu uphill; it is halved until
    f does not decrease (at most MAX_HALVINGS times, then nu is kept). So Q_nu never goes down, and it goes up
    unless nu already maximizes it. The new nu stays in [NU_MIN, NU_MAX] (stretched to include ``nu``).
    """
    s = np.log(nu)
    slope = nu * float(nu_gradient(nu, a))
    curvature = slope + nu ** 2 * 0.5 * (1 / nu - polygamma(1, nu / 2) / 2)
    step = -slope / curvature if curvature < 0 else np.sign(slope)
    low, high = _bounds(nu)
    start = nu_objective(nu, a)
    for _ in range(MAX_HALVINGS):
        candidate = float(np.clip(np.exp(s + step), low, high))
        if nu_objective(candidate, a) >= start:
            return candidate
        step /= 2
    return float(nu)


def _updated_nus(stats: TStats, nu_step: str) -> np.ndarray:
    a = stats.log_u_terms / stats.counts
    if nu_step in ("fixed", "ecme"):  # ECME's nu step comes after the (w, mu, Sigma) step: m_step
        return stats.nus
    if nu_step == "maximize":
        return np.array([nu_maximizer(a_k, nu_k) for a_k, nu_k in zip(a, stats.nus)])
    return np.array([nu_newton_step(a_k, nu_k) for a_k, nu_k in zip(a, stats.nus)])


def _dlog_t_dnu(delta: np.ndarray, nu: float, D: int) -> np.ndarray:
    """d/dnu log t_nu(x | mu, Sigma) = 1/2 [psi((nu+D)/2) - psi(nu/2) - log(1 + delta/nu) + (delta-D)/(nu+delta)]."""
    return 0.5 * (digamma((nu + D) / 2) - digamma(nu / 2) - np.log1p(delta / nu) + (delta - D) / (nu + delta))


def ecme_nus(X, params) -> np.ndarray:
    """ECME's nu step: each nu_k in turn maximizes the log-likelihood with everything else held fixed, shape (K,).

        nu_k <- argmax_nu  L(nu),
        L(nu) = sum_n log [ sum_{j != k} w_j t_nu_j(x_n | mu_j, Sigma_j) + w_k t_nu(x_n | mu_k, Sigma_k) ]

    for k = 0, 1, ..., K - 1, each with the nu_j already updated for j < k (for a single t, K = 1, it is the
    maximizer of sum_n log t_nu(x_n | mu, Sigma) over nu). The Mahalanobis distances do not depend on nu: they are
    computed once, and each L(nu) costs O(N) with no matrix work.

    How: scipy's bounded Brent method (``minimize_scalar``) on -L in s = log nu over [NU_MIN, NU_MAX] (stretched
    to include the current nu_k) finds a maximizer to about sqrt(machine epsilon) relative in L's flat top; the
    root of the score s -> nu dL/dnu, bracketed next to it (Brent's root finder), then gives it to full precision
    (the score is sum_n r_nk(nu) d log t_nu(x_n)/d nu, with r_nk the responsibilities at nu). A maximum at an end
    of the range is that end. L need not be unimodal in nu, so the result is a local maximizer; it replaces nu_k
    only if L is no lower there than at nu_k, so the step never lowers the log-likelihood.

    X:      (N, D) data (or ``gaussian.features(X)``).
    params: a TMixtureParams or a StudentTParams; its nus are where the step starts.
    """
    X = gaussian.prepared(X).X
    params = _as_mixture(params)
    _check_compatible(X, params)
    D, nus = params.dim, params.nus.copy()
    delta = _mahalanobis(X, params)
    log_joint = _log_t(delta, nus, params.log_dets, D) + np.log(params.weights)
    for k in range(params.n_components):
        others = np.delete(log_joint, k, axis=1)
        rest = np.logaddexp.reduce(others, axis=1) if others.shape[1] else np.full(len(X), -np.inf)

        def column(nu, k=k):
            return _log_t(delta[:, k], nu, params.log_dets[k], D) + np.log(params.weights[k])

        def minus_l(s):
            return -float(np.logaddexp(rest, column(np.exp(s))).sum())

        def score(s, k=k):  # dL/ds = nu dL/dnu
            nu = np.exp(s)
            own = column(nu)
            return nu * float(np.exp(own - np.logaddexp(rest, own)) @ _dlog_t_dnu(delta[:, k], nu, D))

        low, high = (np.log(b) for b in _bounds(nus[k]))
        s = minimize_scalar(minus_l, bounds=(low, high), method="bounded",
                            options={"xatol": ECME_XATOL, "maxiter": 500}).x
        s = _polished_root(score, float(s), low, high)
        if minus_l(s) <= minus_l(np.log(nus[k])):
            nus[k] = float(np.exp(s))
            log_joint[:, k] = column(nus[k])
    return nus


def _polished_root(score, s: float, low: float, high: float) -> float:
    """The maximizer of a smooth f on [low, high] next to an approximate one ``s``, from f's derivative ``score``:
    a bracket [a, b] around s with score(a) >= 0 >= score(b), widened fourfold up to ECME_BRACKETS times from
    1e-6, then Brent's root finder in it; an end of the range where f still rises toward it; else ``s`` itself."""
    width = 1e-6
    for _ in range(ECME_BRACKETS):
        a, b = max(s - width, low), min(s + width, high)
        up_a, up_b = score(a), score(b)
        if up_a >= 0 >= up_b:
            return s if up_a == up_b == 0 else float(brentq(score, a, b, xtol=1e-14, rtol=4 * np.finfo(float).eps))
        if b == high and up_b > 0:
            return high
        if a == low and up_a < 0:
            return low
        width *= 4
    return s


# ----------------------------------------------------------------------------------------------- M step

def _check_nu_step(nu_step) -> None:
    if nu_step not in NU_STEPS:
        raise ValueError(f"nu_step must be one of {NU_STEPS}, got {nu_step!r}.")


def m_step(stats: TStats, *, nu_step: str = "maximize", data=None) -> TMixtureParams:
    """w_k = n_k / N, mu_k = c_k + d_k, Sigma_k = (S_k - N_uk d_k d_k^T) / n_k, and nu_k by ``nu_step``.

    With N_uk, s_k, S_k the E[u]-weighted count, sum and scatter about c_k, and d_k = s_k / N_uk. (Sigma_k is
    divided by n_k, not by N_uk: that is what maximizes Q, the u's being part of the complete data.)

    data: the (N, D) data the statistics came from (or ``gaussian.features(X)``), needed by nu_step="ecme" only:
    its nu step maximizes the log-likelihood of the data, at the new (w, mu, Sigma) (``ecme_nus``).
    """
    _check_nu_step(nu_step)
    if nu_step == "ecme" and data is None:
        raise ValueError(
            "nu_step='ecme' maximizes the log-likelihood of the data over nu, so m_step needs them: pass "
            "data=X (the points the statistics came from), or use student_t.fit(X, init, nu_step='ecme')."
        )
    counts, g = stats.counts, stats.weighted
    for k in np.flatnonzero(~(counts >= EMPTY_COUNT)):
        raise ValueError(
            f"component {k} has lost all its responsibility (n_{k} = {counts[k]:.3g} points): its parameters are "
            "undefined. Start from other initial means, or use fewer components."
        )
    d = g.sums / g.counts[:, None]
    means = g.centres + d
    covariances = (g.scatters - g.counts[:, None, None] * d[:, :, None] * d[:, None, :]) / counts[:, None, None]
    covariances = 0.5 * (covariances + covariances.swapaxes(1, 2))
    _check_not_collapsed(covariances, counts, means)
    params = TMixtureParams(counts / counts.sum(), means, covariances, _updated_nus(stats, nu_step))
    if nu_step == "ecme":  # the second CM step: nu by the log-likelihood, at the new (w, mu, Sigma)
        params = params._replace(nus=ecme_nus(data, params))
    return params


def _check_not_collapsed(covariances: np.ndarray, counts: np.ndarray, means: np.ndarray | None = None) -> None:
    """ValueError naming the first singular scale matrix (``gaussian.singular``: the same whatever the units)."""
    for k, why in gaussian.singular(covariances, means)[:1]:
        raise ValueError(
            f"component {k} has collapsed: its scale matrix is singular ({why}), with about {counts[k]:.3g} data "
            "points' worth of responsibility. The data may lie in a lower-dimensional subspace (drop dependent "
            "columns), or the component sits on a few points: start from other initial means, or use fewer "
            "components."
        )


# ----------------------------------------------------------------------------------------------- fitting

def fit(X, init, *, nu_step: str = "maximize", max_iter: int = 1000, tol: float = 1e-10, rng=None) -> EMResult:
    """Fit a multivariate t, or a mixture of t's, by (generalized) EM.

    X:       (N, D) data (or (N,) for one dimension), N >= D + 1.
    init:    a StudentTParams (a single t; the result's params are a StudentTParams too), a TMixtureParams, or an
             int K for ``initial_params(X, K, rng=rng)``.
    nu_step: "newton" (GEM: one Newton step on Q_nu), "maximize" (the exact M step), "ecme" (Liu and Rubin's
             ECME: nu maximizes the log-likelihood itself, after the (w, mu, Sigma) step), or "fixed" (keep nu).
    Stops when 0 <= gain of the log-likelihood < tol * max(|log-likelihood|, 1) or after max_iter iterations; the
    driver checks that the log-likelihood never decreases, which holds for all four nu steps.
    Returns EMResult(params, objective = log-likelihoods after 0, 1, ... iterations, converged, n_iter).
    """
    X = data_matrix(X)
    _check_nu_step(nu_step)
    N, D = X.shape
    if N < D + 1:
        raise ValueError(
            f"X has N = {N} points in D = {D} dimensions, but a scale matrix needs at least D + 1 = {D + 1} points "
            "(a weighted scatter of N points about their weighted mean has rank at most N - 1): add data or drop "
            "columns."
        )
    if isinstance(init, (bool, np.bool_)):
        raise TypeError(f"init must be a StudentTParams, a TMixtureParams or an int K (the number of components), "
                        f"got {init!r}.")
    if isinstance(init, (int, np.integer)):
        init = initial_params(X, int(init), rng=rng)
    elif isinstance(init, tuple) and not isinstance(init, (StudentTParams, TMixtureParams)):
        init = StudentTParams(*init) if len(init) == 3 else TMixtureParams(*init)
    params = _as_mixture(init)
    _check_compatible(X, params)
    if params.n_components > N:
        raise ValueError(f"K = {params.n_components} components need at least K data points, but X has N = {N}.")
    features = gaussian.features(X)
    step = partial(m_step, nu_step=nu_step, data=features if nu_step == "ecme" else None)
    if isinstance(init, StudentTParams):
        mixture_step = step
        params, step = init, lambda stats: StudentTParams.from_mixture(mixture_step(stats))
    return run_em(partial(e_step, features), step, params, max_iter=max_iter, tol=tol)


def moment_params(X, *, nu: float = 10.0) -> StudentTParams:
    """A start for the single t: the sample mean, the (biased) sample covariance, and ``nu``."""
    X = data_matrix(X)
    return StudentTParams(X.mean(axis=0), np.atleast_2d(np.cov(X, rowvar=False, bias=True)), nu)


def initial_params(X, K: int, *, rng=None, nu: float = 10.0) -> TMixtureParams:
    """A seeded start for a K-component mixture: ``gmm.initial_params`` (k-means++ means, equal weights, the data
    covariance for every component) and nu_k = ``nu``."""
    start = gmm.initial_params(X, K, rng=rng)  # checks K and rng
    return TMixtureParams(start.weights, start.means, start.covariances, np.full(K, float(nu)))


def sample(params: StudentTParams, n: int, rng=None) -> np.ndarray:
    """n draws (n, D) from t_nu(mu, Sigma): u ~ Gamma(nu/2, rate nu/2), x = mu + L z / sqrt(u), z ~ N(0, I)."""
    if not isinstance(params, StudentTParams):
        raise TypeError(f"params must be a StudentTParams(mean, covariance, nu), got {type(params).__name__} "
                        "(sample_mixture draws from a TMixtureParams).")
    n, rng = whole_number(n, "n", 0, "the number of draws"), generator(rng)
    u = rng.gamma(params.nu / 2, 2 / params.nu, size=n)
    Z = rng.standard_normal((n, params.dim)) @ np.linalg.cholesky(params.covariance).T
    return params.mean + Z / np.sqrt(u)[:, None]


def sample_mixture(params: TMixtureParams, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """n draws from the mixture: (X (n, D), labels z (n,)). z ~ Categorical(w), then x ~ t_nu_z(mu_z, Sigma_z)."""
    if not isinstance(params, TMixtureParams):
        raise TypeError(f"params must be a TMixtureParams(weights, means, covariances, nus), got "
                        f"{type(params).__name__} (sample draws from a StudentTParams).")
    n, rng = whole_number(n, "n", 0, "the number of draws"), generator(rng)
    z = rng.choice(params.n_components, size=n, p=params.weights)
    u = rng.gamma(params.nus[z] / 2, 2 / params.nus[z])
    noise = rng.standard_normal((n, params.dim))
    X = params.means[z] + np.einsum("nij,nj->ni", params._cholesky[z], noise) / np.sqrt(u)[:, None]
    return X, z


def _check_compatible(X: np.ndarray, params: TMixtureParams) -> None:
    if X.shape[1] != params.dim:
        raise ValueError(f"X has D = {X.shape[1]} columns but the parameters are for D = {params.dim} dimensions.")
