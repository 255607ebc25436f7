"""EM for a mixture of K Gaussians with full covariances.

Model: p(x) = sum_k w_k N(x | mu_k, Sigma_k), with a latent label z in {1..K}, p(z = k) = w_k.

E step: the responsibilities r_nk = p(z_n = k | x_n) = w_k N(x_n | mu_k, Sigma_k) / p(x_n), computed in
log space with log-sum-exp, and from them the expected sufficient statistics of Q, about a centre c_k:

    N_k = sum_n r_nk,   s_k = sum_n r_nk (x_n - c_k),   S_k = sum_n r_nk (x_n - c_k)(x_n - c_k)^T.

M step (the maximizer of Q):

    w_k = N_k / N,   mu_k = c_k + s_k / N_k,   Sigma_k = S_k / N_k - (s_k / N_k)(s_k / N_k)^T (+ reg_covar I).

The E step is two matrix products in natural parameters (see ``emlib.gaussian``); ``component_log_densities``
is the textbook per-component computation, kept as the readable reference the fast one is tested against.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import NamedTuple

import numpy as np

from . import gaussian
from ._validation import data_matrix, finite, frozen, probability_vector, shape
from .em import EMResult, Stats, run_em

__all__ = [
    "GMMParams", "GMMStats", "e_step", "m_step", "fit", "log_likelihood", "responsibilities", "component_log_densities",
    "sample", "initial_params", "gaussian_statistics", "gaussian_m_step",
]

#: A component with less total responsibility than this (in data points) has died.
EMPTY_COUNT = 1e-8
#: A covariance whose smallest eigenvalue is below this fraction of the mixture's largest is singular.
SINGULAR_RATIO = 1e3 * np.finfo(float).eps


class _Fields(NamedTuple):
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


class GMMParams(gaussian.CholeskyFactors, _Fields):
    """Mixture parameters, validated and read-only: ``w, mu, Sigma = params``.

    weights:     (K,) positive, summing to one.
    means:       (K, D).
    covariances: (K, D, D) symmetric positive definite.
    """

    def __new__(cls, weights, means, covariances):
        weights, means, covariances = frozen(weights), frozen(means), frozen(covariances)
        if weights.ndim != 1:
            raise ValueError(f"weights must have shape (K,), got {weights.shape}.")
        K = len(weights)
        if means.ndim == 1 and K >= 1:
            means = frozen(means[:, None])
        if means.ndim != 2 or len(means) != K:
            raise ValueError(f"means must have shape (K, D) with K = {K} (the length of weights), got {means.shape}.")
        D = means.shape[1]
        if covariances.ndim == 1 and D == 1:
            covariances = frozen(covariances[:, None, None])
        shape(covariances, (K, D, D), "covariances", "(K, D, D)")
        probability_vector(weights, "weights", positive=True)
        finite(means, "means")
        finite(covariances, "covariances")
        asymmetry = np.abs(covariances - covariances.swapaxes(1, 2)).max()
        if asymmetry > 1e-10 * np.abs(covariances).max():
            raise ValueError(f"covariances must be symmetric, but differ from their transposes by up to {asymmetry:.3g}.")
        self = super().__new__(cls, weights, means, covariances)
        self.__dict__["_cholesky"] = gaussian.cholesky(covariances)
        return self

    def _replace(self, **changes):
        return type(self)(**{**self._asdict(), **changes})

    @property
    def n_components(self) -> int:
        return len(self.weights)

    @property
    def dim(self) -> int:
        return self.means.shape[1]




@dataclasses.dataclass(frozen=True)
class GMMStats(Stats):
    """Expected sufficient statistics of a Gaussian mixture, taken about centres c_k.

    counts:   (K,)       N_k = sum_n r_nk
    sums:     (K, D)     sum_n r_nk (x_n - c_k)
    scatters: (K, D, D)  sum_n r_nk (x_n - c_k)(x_n - c_k)^T
    centres:  (K, D)     c_k (a label, not a sum: statistics about other centres are moved here before adding)
    """

    counts: np.ndarray
    sums: np.ndarray
    scatters: np.ndarray
    centres: np.ndarray

    _fixed = ("centres",)

    def _align(self, other):
        return other.recentred(self.centres)

    def recentred(self, centres: np.ndarray) -> "GMMStats":
        """The same statistics about other centres: with delta = c_old - c_new, y_new = y_old + delta."""
        delta = self.centres - centres
        if not delta.any():
            return self
        sums = self.sums + self.counts[:, None] * delta
        outer = self.sums[:, :, None] * delta[:, None, :]
        scatters = (self.scatters + outer + outer.swapaxes(1, 2)
                    + self.counts[:, None, None] * delta[:, :, None] * delta[:, None, :])
        return GMMStats(self.counts, sums, scatters, np.array(centres, dtype=float))


# ----------------------------------------------------------------------------------------------- E step

def component_log_densities(X, params: GMMParams) -> np.ndarray:
    """log N(x_n | mu_k, Sigma_k) for every point and component, the textbook way: shape (N, K)."""
    X = data_matrix(X)
    _check_compatible(X, params)
    U, log_dets = params.inverse_cholesky, params.log_dets
    return np.stack([gaussian.log_density(X, params.means[k], U[k], log_dets[k])
                     for k in range(params.n_components)], axis=1)


def _log_joint(F: gaussian.Features, params: GMMParams) -> np.ndarray:
    """log w_k + log N(x_n | mu_k, Sigma_k), shape (N, K): one matrix product in natural parameters."""
    log_joint = gaussian.log_densities(F, params.means, params.inverse_cholesky, params.log_dets)
    log_joint += np.log(params.weights)
    return log_joint


def gaussian_statistics(F: gaussian.Features, resp: np.ndarray) -> GMMStats:
    """N_k, s_k, S_k from the responsibilities (N, K): S = R^T T, one matrix product.

    A component whose covariance the one-pass formula S_k/N_k - d d^T would get wrong (a tight cluster far from
    the centre) is accumulated again about its own new mean: the two-pass formula, for that component only.
    """
    K, D = resp.shape[1], F.X.shape[1]
    S = resp.T @ F.T
    counts, sums = S[:, 0], S[:, 1 : D + 1]
    scatters = gaussian.vech_to_matrix(S[:, D + 1 :], D)
    centres = np.broadcast_to(F.centre, (K, D)).copy()
    for k in _inaccurate_one_pass(counts, sums, scatters):
        centres[k] = F.centre + sums[k] / counts[k]
        Y = F.X - centres[k]
        rY = Y * resp[:, k : k + 1]
        sums[k] = rY.sum(axis=0)
        scatters[k] = rY.T @ Y
    return GMMStats(counts, sums, scatters, centres)


def _inaccurate_one_pass(counts, sums, scatters) -> list[int]:
    """Components whose covariance from moments about the common centre loses more than a quarter of its digits."""
    bad = []
    for k in np.flatnonzero(counts > EMPTY_COUNT):
        d = sums[k] / counts[k]
        covariance = scatters[k] / counts[k] - np.outer(d, d)
        try:
            z = np.linalg.solve(np.linalg.cholesky(covariance), d)
        except np.linalg.LinAlgError:
            bad.append(k)
            continue
        if z @ z > gaussian.CANCELLATION_LIMIT:
            bad.append(k)
    return bad


def _prepared(data) -> gaussian.Features:
    return data if isinstance(data, gaussian.Features) else gaussian.features(data_matrix(data))


def e_step(data, params: GMMParams) -> tuple[GMMStats, float]:
    """Expected sufficient statistics under p(z | x, params), and the total log-likelihood of params.

    data: (N, D) array, or ``gaussian.features(X)`` prepared once for many E steps.
    Returns (GMMStats, log p(X | params) = sum_n log sum_k w_k N(x_n | mu_k, Sigma_k)).
    """
    F = _prepared(data)
    _check_compatible(F.X, params)
    resp, log_norm = gaussian.log_normalise(_log_joint(F, params))
    return gaussian_statistics(F, resp), float(log_norm.sum())


def responsibilities(X, params: GMMParams) -> np.ndarray:
    """r_nk = p(z_n = k | x_n, params), shape (N, K); each row sums to one."""
    F = _prepared(X)
    _check_compatible(F.X, params)
    return gaussian.log_normalise(_log_joint(F, params))[0]


def log_likelihood(X, params: GMMParams) -> float:
    """Total log-likelihood sum_n log p(x_n | params) (not a per-sample mean, unlike scikit-learn's score)."""
    F = _prepared(X)
    _check_compatible(F.X, params)
    return float(gaussian.log_normalise(_log_joint(F, params))[1].sum())


# ----------------------------------------------------------------------------------------------- M step

def m_step(stats: GMMStats, *, reg_covar: float = 0.0) -> GMMParams:
    """The maximizer of Q: w_k = N_k / N, mu_k = c_k + s_k/N_k, Sigma_k = S_k/N_k - d_k d_k^T + reg_covar I."""
    means, covariances = gaussian_m_step(stats, reg_covar=reg_covar)
    return GMMParams(stats.counts / stats.counts.sum(), means, covariances)


def gaussian_m_step(stats: GMMStats, *, reg_covar: float = 0.0, what: str = "component") -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances from Gaussian statistics: mu_k = c_k + d_k, Sigma_k = S_k/N_k - d_k d_k^T (+ reg_covar I),
    with d_k = s_k / N_k. Shared by every model with Gaussian components (mixtures, HMM emissions).

    ValueError if a ``what`` (component, state) has lost all its responsibility or collapsed onto a few points.
    """
    counts, D = stats.counts, stats.sums.shape[1]
    for k in np.flatnonzero(~(counts >= EMPTY_COUNT)):
        raise ValueError(
            f"{what} {k} has lost all its responsibility (N_{k} = {counts[k]:.3g} points): its mean and "
            f"covariance are undefined. Start from other initial means, or use fewer {what}s."
        )
    d = stats.sums / counts[:, None]
    means = stats.centres + d
    covariances = stats.scatters / counts[:, None, None] - d[:, :, None] * d[:, None, :]
    covariances = 0.5 * (covariances + covariances.swapaxes(1, 2))
    covariances[:, np.arange(D), np.arange(D)] += reg_covar
    _check_not_collapsed(covariances, counts, what)
    return means, covariances


def _check_not_collapsed(covariances: np.ndarray, counts: np.ndarray, what: str = "component") -> None:
    eigenvalues = np.linalg.eigvalsh(covariances)
    smallest, widest = eigenvalues[:, 0], eigenvalues[:, -1].max()
    for k in np.flatnonzero(~(smallest > SINGULAR_RATIO * widest)):
        raise ValueError(
            f"{what} {k} has collapsed: its covariance is singular (smallest eigenvalue {smallest[k]:.3g}, "
            f"against {widest:.3g} for the widest {what}), with about {counts[k]:.3g} data points' worth of "
            "responsibility. The likelihood is unbounded there: set reg_covar (for example 1e-6 times the data "
            "variance), use a prior (MAP-EM), or start from other initial means."
        )


# ----------------------------------------------------------------------------------------------- fitting

def fit(X, init, *, max_iter: int = 500, tol: float = 1e-8, reg_covar: float = 0.0, rng=None) -> EMResult:
    """Fit a K-component mixture by EM.

    X:    (N, D) data (or (N,) for one dimension).
    init: a GMMParams (or a (weights, means, covariances) triple), or an int K for ``initial_params(X, K, rng)``.
    Stops when the gain of the log-likelihood is below tol * |log-likelihood| or after max_iter iterations.
    reg_covar is added to the diagonal of every covariance in the M step, as in scikit-learn. That M step no
    longer maximizes Q, so the log-likelihood may then go down (a little, near a collapse): the driver's
    monotonicity guard is only on when reg_covar = 0. (MAP-EM, with a prior, keeps a monotone objective.)
    Returns EMResult(params, objective = log-likelihoods after 0, 1, ... iterations, converged, n_iter).
    """
    X = data_matrix(X)
    if not (np.isfinite(reg_covar) and reg_covar >= 0):
        raise ValueError(f"reg_covar must be a finite number >= 0, got {reg_covar!r}.")
    if isinstance(init, (int, np.integer)):
        params = initial_params(X, int(init), rng=rng, reg_covar=reg_covar)
    else:
        params = init if isinstance(init, GMMParams) else GMMParams(*init)
    _check_compatible(X, params)
    _check_n_components(params.n_components, X.shape[0])
    F = gaussian.features(X)
    return run_em(partial(e_step, F), partial(m_step, reg_covar=reg_covar), params, max_iter=max_iter, tol=tol,
                  check_monotone=reg_covar == 0)


def initial_params(X, K: int, *, rng=None, reg_covar: float = 0.0) -> GMMParams:
    """A seeded start: k-means++ seeding for the means (Arthur and Vassilvitskii 2007), equal weights, and the
    data covariance (+ reg_covar I) for every component.

    k-means++ picks the first mean uniformly among the points and each next one with probability proportional
    to the squared distance to the nearest mean already chosen, which spreads the means over the data.
    """
    X = data_matrix(X)
    N, D = X.shape
    _check_n_components(K, N)
    rng = np.random.default_rng(rng)
    means = np.empty((K, D))
    means[0] = X[rng.integers(N)]
    nearest = ((X - means[0]) ** 2).sum(axis=1)
    for k in range(1, K):
        if nearest.sum() <= 0:
            raise ValueError(f"X has fewer than K = {K} distinct points: there are not enough places for the components.")
        means[k] = X[rng.choice(N, p=nearest / nearest.sum())]
        nearest = np.minimum(nearest, ((X - means[k]) ** 2).sum(axis=1))
    covariance = np.atleast_2d(np.cov(X, rowvar=False, bias=True)) + reg_covar * np.eye(D)
    spread = np.linalg.eigvalsh(covariance)
    if spread[0] <= SINGULAR_RATIO * spread[-1]:
        raise ValueError(
            "X has no spread in some direction (its covariance is singular): drop constant or linearly "
            "dependent columns, or set reg_covar > 0."
        )
    return GMMParams(np.full(K, 1.0 / K), means, np.broadcast_to(covariance, (K, D, D)))


def sample(params: GMMParams, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """n draws from the mixture: (X (n, D), labels z (n,)). z_i ~ Categorical(w), x_i ~ N(mu_z, Sigma_z)."""
    rng = np.random.default_rng(rng)
    z = rng.choice(params.n_components, size=n, p=params.weights)
    noise = rng.standard_normal((n, params.dim))
    X = params.means[z] + np.einsum("nij,nj->ni", params._cholesky[z], noise)
    return X, z


def _check_n_components(K: int, N: int) -> None:
    if K < 1:
        raise ValueError(f"the number of components K must be at least 1, got {K}.")
    if K > N:
        raise ValueError(f"K = {K} components need at least K data points, but X has only N = {N}: use K <= {N}.")


def _check_compatible(X: np.ndarray, params: GMMParams) -> None:
    if not isinstance(params, GMMParams):
        raise TypeError(f"params must be a GMMParams(weights, means, covariances), got {type(params).__name__}.")
    if X.shape[1] != params.dim:
        raise ValueError(f"X has D = {X.shape[1]} columns but the parameters are for D = {params.dim} dimensions.")
