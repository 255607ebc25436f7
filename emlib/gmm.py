"""EM for a mixture of K Gaussians with full covariances.

Model: p(x) = sum_k w_k N(x | mu_k, Sigma_k), with a latent label z in {1..K}, p(z = k) = w_k.

E step: the responsibilities r_nk = p(z_n = k | x_n) = w_k N(x_n | mu_k, Sigma_k) / p(x_n), computed in
log space with log-sum-exp, and from them the expected sufficient statistics of Q, about a centre c_k:

    N_k = sum_n r_nk,   s_k = sum_n r_nk (x_n - c_k),   S_k = sum_n r_nk (x_n - c_k)(x_n - c_k)^T.

M step (the maximizer of Q):

    w_k = N_k / N,   mu_k = c_k + s_k / N_k,   Sigma_k = S_k / N_k - (s_k / N_k)(s_k / N_k)^T (+ reg_covar I).

MAP-EM (``fit(..., prior=Prior(...))``): a Dirichlet prior on the weights and a normal-inverse-Wishart prior on each
(mu_k, Sigma_k) act as pseudo-data added to the same statistics (``Prior``, ``gaussian_map_step``); the objective is
the log-posterior, log-likelihood + ``log_prior``, and it never decreases either.

The E step is two matrix products in natural parameters (see ``emlib.gaussian``); ``component_log_densities``
is the textbook per-component computation, kept as the readable reference the fast one is tested against.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln, multigammaln, xlogy

from . import gaussian
from ._blas import transposed_product
from ._validation import (PARAMETER_ADVICE, Validated, data_matrix, finite, frozen, generator,
                          n_components as check_n_components, probability_vector, shape, symmetric, whole_number)
from .em import EMResult, EMResultWithInfo, FitStoppedError, Stats, run_em, run_incremental, run_online, squarem

__all__ = [
    "FitStoppedError", "GMMParams", "GMMStats", "e_step", "m_step", "fit", "log_likelihood", "responsibilities",
    "component_log_densities",
    "sample", "initial_params", "n_parameters", "bic", "aic", "gaussian_statistics", "gaussian_m_step", "FIT_METHODS",
    "Prior", "log_prior", "log_dirichlet", "log_niw", "gaussian_map_step",
]

#: A component with less total responsibility than this (in data points) has died.
EMPTY_COUNT = 1e-8
#: A covariance is singular when its correlation matrix has an eigenvalue at or below this, or a standard deviation
#: is at or below this times |mean| (``gaussian.singular``: relative to the component itself, whatever the units).
SINGULAR_RATIO = gaussian.SINGULAR_RATIO
#: What ``gaussian_m_step`` advises when a component collapses (maximum likelihood, no reg_covar).
COLLAPSE_ADVICE = ("The likelihood is unbounded there: set reg_covar (for example 1e-6 times the data variance), use "
                   "a prior (MAP-EM), or start from other initial means.")


class _Fields(NamedTuple):
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


class GMMParams(Validated, gaussian.CholeskyFactors, _Fields):
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
        finite(means, "means", PARAMETER_ADVICE)
        finite(covariances, "covariances", PARAMETER_ADVICE)
        symmetric(covariances, "covariances")
        self = super().__new__(cls, weights, means, covariances)
        self.__dict__["_cholesky"] = gaussian.cholesky(covariances)
        return self

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
    S = transposed_product(resp, F.T)
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


def e_step(data, params: GMMParams) -> tuple[GMMStats, float]:
    """Expected sufficient statistics under p(z | x, params), and the total log-likelihood of params.

    data: (N, D) array, or ``gaussian.features(X)`` prepared once for many E steps.
    Returns (GMMStats, log p(X | params) = sum_n log sum_k w_k N(x_n | mu_k, Sigma_k)).
    """
    F = gaussian.prepared(data)
    _check_compatible(F.X, params)
    resp, log_norm = gaussian.log_normalise(_log_joint(F, params))
    return gaussian_statistics(F, resp), float(log_norm.sum())


def responsibilities(X, params: GMMParams) -> np.ndarray:
    """r_nk = p(z_n = k | x_n, params), shape (N, K); each row sums to one."""
    F = gaussian.prepared(X)
    _check_compatible(F.X, params)
    return gaussian.log_normalise(_log_joint(F, params))[0]


def log_likelihood(X, params: GMMParams) -> float:
    """Total log-likelihood sum_n log p(x_n | params) (not a per-sample mean, unlike scikit-learn's score)."""
    F = gaussian.prepared(X)
    _check_compatible(F.X, params)
    return float(gaussian.log_normalise(_log_joint(F, params))[1].sum())


# ----------------------------------------------------------------------------------------------- M step

def m_step(stats: GMMStats, *, reg_covar: float = 0.0, prior: "Prior | None" = None) -> GMMParams:
    """The maximizer of Q: w_k = N_k / N, mu_k = c_k + s_k/N_k, Sigma_k = S_k/N_k - d_k d_k^T + reg_covar I.

    With a ``prior`` (MAP-EM), the maximizer of Q + log p(params): w_k = (N_k + alpha_k - 1) / (N + sum(alpha) - K)
    and the means and covariances of ``gaussian_map_step``. reg_covar must then be 0 (the prior's S0 regularizes).
    """
    if prior is not None:
        _check_prior(prior, len(stats.counts), stats.sums.shape[1])
        if reg_covar != 0:
            raise ValueError("pass either reg_covar or a prior, not both: the prior's S0 already keeps the covariances "
                             "positive definite, and with reg_covar the M step would no longer maximize the posterior.")
        return GMMParams(_map_weights(stats.counts, prior.alpha), *gaussian_map_step(stats, prior))
    means, covariances = gaussian_m_step(stats, reg_covar=reg_covar)
    return GMMParams(stats.counts / stats.counts.sum(), means, covariances)


def gaussian_m_step(stats: GMMStats, *, reg_covar: float = 0.0, what: str = "component",
                    advice: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances from Gaussian statistics: mu_k = c_k + d_k, Sigma_k = S_k/N_k - d_k d_k^T (+ reg_covar I),
    with d_k = s_k / N_k. Shared by every model with Gaussian components (mixtures, HMM emissions).

    ValueError if a ``what`` (component, state) has lost all its responsibility or collapsed onto a few points
    (``gaussian.singular``). ``advice`` ends the collapse message: what the caller's user can change. By default the
    mixture's, ``COLLAPSE_ADVICE`` (set reg_covar, a prior, other initial means; with reg_covar > 0 already:
    increase it); a model whose fit has no reg_covar passes its own.
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
    if advice is None:
        advice = COLLAPSE_ADVICE if reg_covar == 0 else (
            f"reg_covar = {reg_covar:.3g} is too small to keep it positive definite at the scale of the data: "
            "increase it, use a prior (MAP-EM), or start from other initial means.")
    # with reg_covar > 0 every variance is at least reg_covar, the user's choice, even below round-off of the mean
    _check_not_collapsed(covariances, counts, what, means=means if reg_covar == 0 else None, advice=advice)
    return means, covariances


def _check_not_collapsed(covariances: np.ndarray, counts: np.ndarray, what: str = "component", *,
                         means: np.ndarray | None = None, advice: str = COLLAPSE_ADVICE) -> None:
    """ValueError naming the first singular covariance (``gaussian.singular``: relative to the component's own
    scale, so the same whatever the units of the data), its responsibility, and ``advice``."""
    for k, why in gaussian.singular(covariances, means)[:1]:
        raise ValueError(
            f"{what} {k} has collapsed: its covariance is singular ({why}), with about {counts[k]:.3g} data points' "
            f"worth of responsibility. {advice}"
        )


# ----------------------------------------------------------------------------------------------- MAP-EM: the prior

#: What a prior's parameter that is not finite is told.
PRIOR_ADVICE = "a prior's parameters must be finite numbers (Prior.default(X, K) gives a weak one from the data)"


class _PriorFields(NamedTuple):
    alpha: np.ndarray
    m0: np.ndarray
    kappa0: float
    nu0: float
    S0: np.ndarray


class Prior(Validated, _PriorFields):
    """The conjugate prior of a Gaussian mixture, for MAP-EM: ``alpha, m0, kappa0, nu0, S0 = prior``.

        w ~ Dirichlet(alpha),   Sigma_k ~ IW(S0, nu0),   mu_k | Sigma_k ~ N(m0, Sigma_k / kappa0),

    every component (mu_k, Sigma_k) independently normal-inverse-Wishart NIW(m0, kappa0, nu0, S0), with
    IW(Sigma | S0, nu0) = |S0|^(nu0/2) / (2^(nu0 D/2) Gamma_D(nu0/2)) |Sigma|^(-(nu0+D+1)/2) exp(-tr(S0 Sigma^-1)/2)
    (scipy.stats.invwishart(df=nu0, scale=S0)).

    alpha: (K,) Dirichlet concentrations, each >= 1.  kappa0: >= 0.  m0: (D,).
    nu0:   > D - 1.  S0: (D, D) symmetric positive definite.

    Priors as pseudo-data: the MAP M step (``m_step``) is the ML M step on the data plus
      * alpha_k - 1 pseudo-counts for component k (alpha = 1: none; below 1 the density is infinite at w_k = 0 and
        the posterior mode can sit on the boundary, so alpha >= 1 is required);
      * kappa0 pseudo-observations at m0, which pull mu_k towards m0 and add their scatter about mu_k to Sigma_k;
      * the pseudo-scatter S0, added to the scatter of the data and spread over nu0 + D + 2 pseudo-points in the
        covariance's denominator (nu0 + D + 1 when kappa0 = 0; S0 / (nu0 + D + 2) is the NIW's own mode for
        Sigma): no covariance can be smaller than S0 / (nu0 + N + D + 2), so no component collapses onto a point.

    kappa0 = 0 is allowed: an improper flat prior on the means. Then the normal factor is left out entirely, so
    it contributes no term to ``log_prior`` (no constant and no |Sigma_k|^(-1/2)), and the covariance
    denominator is nu0 + N_k + D + 1 instead of nu0 + N_k + D + 2 (see ``gaussian_map_step``).

    ``Prior.default(X, K)`` is the data-dependent default of Fraley and Raftery (2007); ``Prior.flat(D, K)`` is no
    prior at all (MAP-EM is then exactly ML-EM).

    Names. The fields are the symbols of chapter 04 (those of Murphy 2012, section 4.6.3), in ASCII:

        field   chapter 04 / Murphy   Fraley and Raftery (2007), mclust   vb.Prior (chapter 07)
        alpha   alpha_k               (no prior on the weights)           weight_concentration (one value)
        m0      m_0                   mu_P (mean)                         mean
        kappa0  kappa_0               kappa_P (shrinkage)                 mean_precision (Bishop's beta_0)
        nu0     nu_0                  nu_P (dof)                          dof
        S0      S_0                   Lambda_P (scale)                    covariance (Bishop's W_0^-1)
    """

    def __new__(cls, alpha, m0, kappa0, nu0, S0):
        alpha, m0, S0 = frozen(alpha), frozen(m0), frozen(S0)
        if alpha.ndim != 1 or len(alpha) == 0:
            raise ValueError(f"alpha (the Dirichlet concentrations of the weights) must have shape (K,), got {alpha.shape}.")
        finite(alpha, "alpha", PRIOR_ADVICE)
        low = int(np.argmin(alpha))
        if alpha[low] < 1:
            raise ValueError(
                f"alpha must be >= 1 (alpha_k - 1 pseudo-counts for component k), but alpha[{low}] = {alpha[low]:.6g}. "
                "Below 1 the Dirichlet density is infinite at w_k = 0 and the MAP estimate may not exist: use "
                "alpha = 1 for no pseudo-counts."
            )
        if m0.ndim != 1 or len(m0) == 0:
            raise ValueError(f"m0 (the prior mean of the means) must have shape (D,), got {m0.shape}.")
        finite(m0, "m0", PRIOR_ADVICE)
        D = len(m0)
        kappa0, nu0 = _number(kappa0, "kappa0"), _number(nu0, "nu0")
        if kappa0 < 0:
            raise ValueError(f"kappa0 (pseudo-observations at m0) must be >= 0, got {kappa0:.6g}; 0 is a flat prior on the means.")
        shape(S0, (D, D), "S0", "(D, D)")
        finite(S0, "S0", PRIOR_ADVICE)
        self = super().__new__(cls, alpha, m0, kappa0, nu0, S0)
        if self.is_flat:
            return self
        if not nu0 > D - 1:
            raise ValueError(
                f"nu0 (the inverse-Wishart degrees of freedom) must be > D - 1 = {D - 1}, got {nu0:.6g}: a smaller "
                f"nu0 is not a distribution. nu0 = D + 2 = {D + 2} is the usual weak choice (Prior.default)."
            )
        if np.abs(S0 - S0.T).max() > 1e-10 * np.abs(S0).max():
            raise ValueError("S0 (the inverse-Wishart scale) must be symmetric.")
        smallest = np.linalg.eigvalsh(S0)[0]
        if not smallest > 0:
            raise ValueError(
                f"S0 (the inverse-Wishart scale, a pseudo-scatter matrix) must be positive definite, but its smallest "
                f"eigenvalue is {smallest:.3g}. Use Prior.default(X, K), or Prior.flat(D, K) for no prior."
            )
        return self

    @classmethod
    def default(cls, X, K: int) -> "Prior":
        """The default prior of Fraley and Raftery (2007), mclust's ``defaultPrior`` for full covariances:

            alpha = 1 (no pseudo-counts: the weights are ML, as in mclust), m0 = the data mean, kappa0 = 0.01,
            nu0 = D + 2, S0 = cov(X) / K^(2/D) (cov with divisor N - 1, R's ``var``).

        C. Fraley and A. E. Raftery, "Bayesian regularization for normal mixture estimation and model-based
        clustering", J. Classification 24:155-181 (2007), Section 3. Why S0 / K^(2/D): K components share the data's
        volume, so each has about |cov(X)|^(1/2) / K of it, which is |Sigma_k|^(1/2) for Sigma_k = cov(X) / K^(2/D).

        Murphy (2012, "Machine Learning: a Probabilistic Perspective", Section 11.4.2.8) cites this prior but takes
        kappa0 = 0 and S0 = diag(s_1^2..s_D^2) / K^(1/D). We follow Fraley and Raftery: kappa0 > 0 keeps the prior
        proper and the M step the mode of a true NIW posterior (Murphy's covariance denominator nu0 + N_k + D + 2 is
        that mode only for kappa0 > 0), and K^(2/D) is the volume argument above (K^(1/D) scales lengths, not
        variances). A data-dependent prior, as theirs: the data are used twice, weakly.
        """
        X = data_matrix(X)
        N, D = X.shape
        K = _count(K, N)
        if N < 2:
            raise ValueError("Prior.default needs at least 2 points, to estimate the data covariance.")
        covariance = np.atleast_2d(np.cov(X, rowvar=False, ddof=1))
        for _, why in gaussian.singular(covariance[None], X.mean(axis=0)[None]):
            raise ValueError(
                f"X has no spread in some direction (its covariance is singular: {why}), so the default prior's "
                "S0 = cov(X) / K^(2/D) is not positive definite: drop constant or linearly dependent columns, or "
                "pass Prior(alpha, m0, kappa0, nu0, S0) with a positive definite S0."
            )
        return cls(np.ones(K), X.mean(axis=0), 0.01, D + 2.0, covariance / K ** (2.0 / D))

    @classmethod
    def flat(cls, D: int, K: int) -> "Prior":
        """No prior: alpha = 1, kappa0 = 0, S0 = 0, nu0 = -(D + 1), the limits under which the MAP M step is the ML
        M step. The prior is improper (flat in the means and covariances); ``log_prior`` is the constant
        log Gamma(K) of the uniform Dirichlet, so the objective is the log-likelihood plus log (K - 1)!."""
        return cls(np.ones(K), np.zeros(D), 0.0, -(D + 1.0), np.zeros((D, D)))

    @property
    def is_flat(self) -> bool:
        """No prior on means and covariances: kappa0 = 0, S0 = 0 and nu0 = -(D + 1)."""
        return self.kappa0 == 0 and self.nu0 == -(len(self.m0) + 1) and not self.S0.any()

    @property
    def n_components(self) -> int:
        return len(self.alpha)

    @property
    def dim(self) -> int:
        return len(self.m0)


def _number(value, name: str) -> float:
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a single number, got an array of shape {np.shape(value)}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    return value


def log_dirichlet(p: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """log Dir(p | alpha) = log Gamma(sum alpha) - sum log Gamma(alpha_k) + sum (alpha_k - 1) log p_k, along the
    last axis (a probability vector (K,) or rows (..., K)); 0 log 0 = 0, so alpha_k = 1 allows p_k = 0."""
    return gammaln(alpha.sum(axis=-1)) - gammaln(alpha).sum(axis=-1) + xlogy(alpha - 1, p).sum(axis=-1)


def log_niw(gaussians, prior: Prior) -> np.ndarray:
    """log NIW(mu_k, Sigma_k | m0, kappa0, nu0, S0) for each component, shape (K,).

    ``gaussians`` has means (K, D) and covariances (K, D, D) with their Cholesky factors (GMMParams, hmm.Gaussian).

        log IW(Sigma | S0, nu0) = nu0/2 log|S0| - nu0 D/2 log 2 - log Gamma_D(nu0/2) - (nu0 + D + 1)/2 log|Sigma|
                                  - 1/2 tr(S0 Sigma^-1)
        log N(mu | m0, Sigma/kappa0) = -D/2 log 2 pi + D/2 log kappa0 - 1/2 log|Sigma|
                                       - kappa0/2 (mu - m0)^T Sigma^-1 (mu - m0)

    Every constant is kept. kappa0 = 0 (a flat prior on the means) leaves the second line out; the flat prior
    (``Prior.flat``) contributes 0.
    """
    K, D = gaussians.means.shape
    if prior.is_flat:
        return np.zeros(K)
    U, log_dets = gaussians.inverse_cholesky, gaussians.log_dets
    L0 = np.linalg.cholesky(prior.S0)
    trace = ((U @ L0) ** 2).sum(axis=(1, 2))  # tr(S0 Sigma^-1) = |U L0|_F^2 with S0 = L0 L0^T, Sigma^-1 = U^T U
    nu0 = prior.nu0
    log_iw = (0.5 * nu0 * gaussian.log_det_from_cholesky(L0) - 0.5 * nu0 * D * np.log(2.0)
              - multigammaln(0.5 * nu0, D) - 0.5 * (nu0 + D + 1) * log_dets - 0.5 * trace)
    if prior.kappa0 == 0:
        return log_iw
    z = np.einsum("kij,kj->ki", U, gaussians.means - prior.m0)
    log_normal = -0.5 * (D * gaussian.LOG_2PI - D * np.log(prior.kappa0) + log_dets + prior.kappa0 * (z**2).sum(axis=1))
    return log_iw + log_normal


def log_prior(params: GMMParams, prior: Prior) -> float:
    """log p(params) = log Dir(w | alpha) + sum_k log NIW(mu_k, Sigma_k | m0, kappa0, nu0, S0), every constant kept
    (see ``Prior`` for kappa0 = 0 and the flat prior). MAP-EM's objective is log p(X | params) + log p(params)."""
    _check_prior(prior, params.n_components, params.dim)
    return float(log_dirichlet(params.weights, prior.alpha) + log_niw(params, prior).sum())


def gaussian_map_step(stats: GMMStats, prior: Prior, *, what: str = "component",
                      advice: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances maximizing Q + log NIW (Fraley and Raftery 2007, Table 2; Murphy 2012, eqs. 11.42-11.44):

        mu_k    = (N_k xbar_k + kappa0 m0) / (N_k + kappa0)
        Sigma_k = (S0 + B_k) / (nu0 + N_k + D + 1 + [kappa0 > 0]),
        B_k     = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T + kappa0 (m0 - mu_k)(m0 - mu_k)^T
                = N_k cov_k + kappa0 N_k / (kappa0 + N_k) (xbar_k - m0)(xbar_k - m0)^T,

    the scatter about mu_k of the data and of the kappa0 pseudo-observations at m0. Derivation: the terms of
    Q + log prior in (mu_k, Sigma_k) are -(N_k + nu0 + D + 1 + [kappa0 > 0])/2 log|Sigma_k| - 1/2 tr(Sigma_k^-1
    (S0 + B_k)); mu_k minimizes B_k, then d/dSigma^-1 = 0 gives the Sigma_k above. The normal prior on mu_k
    brings a |Sigma_k|^(-1/2): hence D + 2 for kappa0 > 0 (the joint mode of the NIW posterior) and D + 1 for
    kappa0 = 0 (no normal factor). From the statistics about c_k: with a = mu_k - c_k and s, S the sums and
    scatters, sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T = S - s a^T - a s^T + N_k a a^T.
    Shared by every model with Gaussian components (mixtures, HMM emissions). Only the flat prior (``Prior.flat``)
    lets a covariance collapse; ``advice`` ends that message (by default: use a proper prior, Prior.default).
    """
    counts, sums, scatters, centres = stats.counts, stats.sums, stats.scatters, stats.centres
    D = sums.shape[1]
    _check_prior(prior, None, D)
    kappa0 = prior.kappa0
    if kappa0 == 0:
        for k in np.flatnonzero(~(counts >= EMPTY_COUNT)):
            raise ValueError(
                f"{what} {k} has lost all its responsibility (N_{k} = {counts[k]:.3g} points) and kappa0 = 0 puts no "
                f"prior on its mean, so the mean is undefined. Use kappa0 > 0 (pseudo-observations at m0), start "
                f"from other initial means, or use fewer {what}s."
            )
    offset = prior.m0 - centres  # m0 - c_k
    a = (sums + kappa0 * offset) / (counts + kappa0)[:, None]
    means = centres + a
    outer = sums[:, :, None] * a[:, None, :]
    e = a - offset  # mu_k - m0
    scatter = (scatters - outer - outer.swapaxes(1, 2) + counts[:, None, None] * a[:, :, None] * a[:, None, :]
               + kappa0 * e[:, :, None] * e[:, None, :])
    denominator = prior.nu0 + counts + D + 1 + (kappa0 > 0)
    covariances = (prior.S0 + scatter) / denominator[:, None, None]
    covariances = 0.5 * (covariances + covariances.swapaxes(1, 2))
    if prior.is_flat:
        _check_not_collapsed(covariances, counts, what, means=means, advice=advice or (
            "The likelihood is unbounded there and the flat prior does not bound it: use a proper prior "
            "(Prior.default(X, K)), or start from other initial means."))
    return means, covariances


def _map_weights(counts: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """w_k = (N_k + alpha_k - 1) / (N + sum_k alpha_k - K): the mode of the Dirichlet posterior."""
    pseudo = counts + (alpha - 1)
    for k in np.flatnonzero(~(pseudo > 0)):
        raise ValueError(
            f"component {k} has lost all its responsibility (N_{k} = {counts[k]:.3g} points) and alpha[{k}] = 1 gives "
            f"it no pseudo-counts, so its MAP weight is 0. Use alpha > 1, start from other initial means, or use "
            "fewer components."
        )
    return pseudo / pseudo.sum()


def _check_prior(prior, K, D: int) -> None:
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a gmm.Prior(alpha, m0, kappa0, nu0, S0), got {type(prior).__name__}.")
    if K is not None and prior.n_components != K:
        raise ValueError(f"the prior is for K = {prior.n_components} components (len(alpha)) but the model has K = {K}.")
    if prior.dim != D:
        raise ValueError(f"the prior is for D = {prior.dim} dimensions (len(m0)) but the data have D = {D}.")


def _map_e_step(data, prior: Prior, params: GMMParams) -> tuple[GMMStats, float]:
    """The E step with MAP-EM's objective, the log-posterior log p(X | params) + log p(params) (up to log p(X))."""
    stats, log_likelihood_ = e_step(data, params)
    return stats, log_likelihood_ + log_prior(params, prior)


# ----------------------------------------------------------------------------------------------- fitting

#: The ways ``fit`` can run EM.
FIT_METHODS = ("batch", "incremental", "online", "squarem")


def fit(X, init, *, max_iter: int = 500, tol: float = 1e-8, reg_covar: float = 0.0, rng=None,
        prior: "Prior | None" = None, method: str = "batch", n_init: int = 1, **options) -> EMResult:
    """Fit a K-component mixture by EM.

    X:    (N, D) data (or (N,) for one dimension).
    init: a GMMParams (or a (weights, means, covariances) triple), or an int K for ``initial_params(X, K, rng)``.
    Stops when 0 <= gain of the log-likelihood < tol * max(|log-likelihood|, 1) (a fall never stops it), or after
    max_iter iterations.
    reg_covar is added to the diagonal of every covariance in the M step, as in scikit-learn. That M step no
    longer maximizes Q, so the log-likelihood may then go down (a little, near a collapse): the driver's
    monotonicity guard is only on when reg_covar = 0. (MAP-EM, with a prior, keeps a monotone objective.)
    prior: a ``Prior`` for MAP-EM (reg_covar must then be 0). The objective is then the log-posterior
    log p(X | params) + log p(params) (``log_prior``, every constant kept), which the MAP M step maximizes
    exactly, so the monotonicity guard stays on.
    Returns EMResult(params, objective = log-likelihoods (log-posteriors with a prior) after 0, 1, ... iterations,
    converged, n_iter).

    method: "batch" (EM, above), or one of its variants, with their ``options``:
    "incremental" (``fit_incremental``: n_blocks; max_iter counts passes over the data; objective = the free
    energy after each pass), "online" (``fit_online``: batch_size, n_passes, alpha, n0, average_after; max_iter
    and tol do not apply; objective = log-likelihood after each pass), "squarem" (``fit_squarem``: max_backtracks;
    max_iter counts SQUAREM cycles). The variants fit by maximum likelihood (prior=None).

    n_init: with an int K, the number of seeded starts: start i is ``initial_params(X, K, rng=child_i)``, child_i
    the i-th of ``np.random.default_rng(rng).spawn(n_init)``, each fit as above, and the one with the best final
    objective is returned, as an EMResultWithInfo with info = {"n_init", "best_start" (its i), "final_objectives"
    (each start's, NaN for a start that stopped), "stopped" ({i: message} of the starts that raised
    FitStoppedError)}. A start that stops (a collapse) is skipped; if every start stops, FitStoppedError is raised
    with the one that got furthest (the highest objective) in error.result. n_init = 1 (the default) is the single
    start ``initial_params(X, K, rng=rng)``. With a GMMParams init there is one start: n_init must be 1.

    A step that cannot be taken (a component collapses or loses all its responsibility) raises FitStoppedError, a
    ValueError whose ``result`` is the fit up to the last good iteration (converged=False).
    """
    n_init = whole_number(n_init, "n_init", 1, "the number of seeded starts")
    if n_init > 1:
        if not _is_count(init):
            raise ValueError(f"n_init = {n_init} restarts need seeded starts: pass init as an int K (the number of "
                             "components). From given parameters there is only one start: use n_init=1.")
        return _best_of(n_init, lambda child: fit(X, init, max_iter=max_iter, tol=tol, reg_covar=reg_covar,
                                                  rng=child, prior=prior, method=method, **options), rng)
    if method != "batch":
        common = dict(reg_covar=reg_covar, rng=rng)
        variants = {"incremental": lambda: fit_incremental(X, init, max_passes=max_iter, tol=tol, **common, **options),
                    "online": lambda: fit_online(X, init, **common, **options),
                    "squarem": lambda: fit_squarem(X, init, max_iter=max_iter, tol=tol, **common, **options)}
        if method not in variants:
            raise ValueError(f"method must be one of {FIT_METHODS}, got {method!r}.")
        if prior is not None:
            raise ValueError(f"method={method!r} fits by maximum likelihood: use method='batch' with a prior.")
        return variants[method]()
    if options:
        raise TypeError(f"fit() got options {sorted(options)} that method='batch' does not take.")
    F, params = _start(X, init, reg_covar, rng)
    if prior is not None:
        _check_prior(prior, params.n_components, params.dim)
        if reg_covar != 0:
            raise ValueError("pass either reg_covar or a prior, not both: the prior's S0 already keeps the covariances "
                             "positive definite, and with reg_covar the M step would no longer maximize the posterior.")
        return run_em(partial(_map_e_step, F, prior), partial(m_step, prior=prior), params, max_iter=max_iter, tol=tol)
    return run_em(partial(e_step, F), partial(m_step, reg_covar=reg_covar), params, max_iter=max_iter, tol=tol,
                  check_monotone=reg_covar == 0)


def _best_of(n_init: int, fit_one, rng) -> EMResultWithInfo:
    """fit_one(child) for each of n_init children of rng; the result with the best final objective (see ``fit``)."""
    results, stopped = {}, {}
    for i, child in enumerate(generator(rng).spawn(n_init)):
        try:
            results[i] = fit_one(child)
        except FitStoppedError as error:
            stopped[i] = error
    finals = np.array([results[i].objective[-1] if i in results else np.nan for i in range(n_init)])
    if not results:
        furthest = max(stopped, key=lambda i: stopped[i].result.objective[-1])
        raise FitStoppedError(
            f"all n_init = {n_init} starts stopped before the end of their fits. The one that got furthest (start "
            f"{furthest}, objective {stopped[furthest].result.objective[-1]:.10g}) is in error.result; it stopped "
            f"{stopped[furthest]}", stopped[furthest].result, stopped[furthest].iteration) from stopped[furthest]
    best = max(results, key=lambda i: results[i].objective[-1])
    info = {**getattr(results[best], "info", {}), "n_init": n_init, "best_start": best, "final_objectives": finals,
            "stopped": {i: str(error) for i, error in stopped.items()}}
    return EMResultWithInfo(*results[best], info=info)


def _count(K, N: int) -> int:
    """K as an int, 1 <= K <= N; TypeError unless it is an int (a bool, a float, None)."""
    K = whole_number(K, "K", 1, "the number of components")
    check_n_components(K, N)
    return K


def _is_count(init) -> bool:
    """init is a number of components (an int, not a bool), not parameters."""
    return isinstance(init, (int, np.integer)) and not isinstance(init, (bool, np.bool_))


def n_parameters(K: int, D: int) -> int:
    """The free parameters of a K-component full-covariance mixture in D dimensions:
    p = (K - 1) weights + K D means + K D (D + 1) / 2 covariance entries."""
    return (K - 1) + K * D + K * D * (D + 1) // 2


def bic(X, params: GMMParams) -> float:
    """The Bayesian information criterion BIC = -2 L + p log N (lower is better), with L = ``log_likelihood(X,
    params)`` and p = ``n_parameters(K, D)``; scikit-learn's ``GaussianMixture.bic`` for covariance_type="full"."""
    X = data_matrix(X)
    _check_compatible(X, params)
    return -2 * log_likelihood(X, params) + n_parameters(params.n_components, params.dim) * np.log(len(X))


def aic(X, params: GMMParams) -> float:
    """Akaike's information criterion AIC = -2 L + 2 p (lower is better), L and p as in ``bic``; scikit-learn's
    ``GaussianMixture.aic`` for covariance_type="full"."""
    X = data_matrix(X)
    _check_compatible(X, params)
    return -2 * log_likelihood(X, params) + 2 * n_parameters(params.n_components, params.dim)


def initial_params(X, K: int, *, rng=None, reg_covar: float = 0.0) -> GMMParams:
    """A seeded start: k-means++ seeding for the means (Arthur and Vassilvitskii 2007), equal weights, and the
    data covariance (+ reg_covar I) for every component.

    k-means++ picks the first mean uniformly among the points and each next one with probability proportional
    to the squared distance to the nearest mean already chosen, which spreads the means over the data.

    When the data covariance is singular to working precision (``gaussian.singular``) but the covariance within the
    k-means++ cells (each point with its nearest mean, the scatter about the cells' own means pooled) is not -- one
    point so far from the rest that the rest's spread is below the round-off of the data covariance -- every
    component starts with that pooled covariance instead. ValueError when both are singular (a constant column,
    linearly dependent columns).
    """
    X = data_matrix(X)
    N, D = X.shape
    K = _count(K, N)
    rng = generator(rng)
    means = np.empty((K, D))
    means[0] = X[rng.integers(N)]
    nearest = ((X - means[0]) ** 2).sum(axis=1)
    for k in range(1, K):
        if nearest.sum() <= 0:
            raise ValueError(f"X has fewer than K = {K} distinct points: there are not enough places for the components.")
        means[k] = X[rng.choice(N, p=nearest / nearest.sum())]
        nearest = np.minimum(nearest, ((X - means[k]) ** 2).sum(axis=1))
    covariance = np.atleast_2d(np.cov(X, rowvar=False, bias=True)) + reg_covar * np.eye(D)
    problems = gaussian.singular(covariance[None], X.mean(axis=0)[None])
    if problems:
        within = _within_cells(X, means) + reg_covar * np.eye(D)
        if gaussian.singular(within[None]):
            remedy = ("set reg_covar > 0" if reg_covar == 0 else
                      f"increase reg_covar (it is {reg_covar:.3g}, below round-off at the scale of the data)")
            raise ValueError(
                f"X has no spread in some direction: its covariance is singular ({problems[0][1]}). Drop constant or "
                f"linearly dependent columns, or {remedy}."
            )
        covariance = within
    return GMMParams(np.full(K, 1.0 / K), means, np.broadcast_to(covariance, (K, D, D)))


def _within_cells(X: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The pooled covariance within the cells of ``means``: each point with its nearest mean, (D, D)."""
    nearest = np.argmin(((X[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    residuals = np.empty_like(X)
    for k in np.unique(nearest):
        cell = nearest == k
        residuals[cell] = X[cell] - X[cell].mean(axis=0)
    return residuals.T @ residuals / len(X)


def sample(params: GMMParams, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """n draws from the mixture: (X (n, D), labels z (n,)). z_i ~ Categorical(w), x_i ~ N(mu_z, Sigma_z)."""
    if not isinstance(params, GMMParams):
        raise TypeError(f"params must be a GMMParams(weights, means, covariances), got {type(params).__name__}.")
    n = whole_number(n, "n", 0, "the number of draws")
    rng = generator(rng)
    z = rng.choice(params.n_components, size=n, p=params.weights)
    noise = rng.standard_normal((n, params.dim))
    X = params.means[z] + np.einsum("nij,nj->ni", params._cholesky[z], noise)
    return X, z


def _check_compatible(X: np.ndarray, params: GMMParams) -> None:
    if not isinstance(params, GMMParams):
        raise TypeError(f"params must be a GMMParams(weights, means, covariances), got {type(params).__name__}.")
    if X.shape[1] != params.dim:
        raise ValueError(f"X has D = {X.shape[1]} columns but the parameters are for D = {params.dim} dimensions.")


# ----------------------------------------------------------------------------------------------- EM variants
#
# Incremental EM, online EM and SQUAREM for the mixture, on the drivers of ``emlib.em``: what they need of the
# model beyond e_step and m_step (the free energy, the vector maps) and thin wrappers in the style of ``fit``.

__all__ += [
    "expected_complete_log_likelihood", "e_step_with_entropy", "free_energy", "params_to_vector",
    "params_from_vector", "fit_incremental", "fit_online", "fit_squarem",
]


def expected_complete_log_likelihood(stats: GMMStats, params: GMMParams) -> float:
    """E_q[log p(X, z | params)] from the expected statistics under q; linear in them, so no pass over the data:

        sum_k [ N_k log w_k - N_k/2 (D log 2 pi + log|Sigma_k|) - 1/2 tr(Sigma_k^-1 S_k(mu_k)) ],

    S_k(mu_k) = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T, the scatter about the component's own mean (the statistics
    are moved there by ``GMMStats.recentred``), and tr(Sigma^-1 S) = tr(U S U^T) with U = L^-1. This is
    Q(params | q) of the lectures, up to nothing: the constant is included.
    """
    _check_compatible(stats.sums, params)
    about_means = stats.recentred(params.means)
    counts, U = about_means.counts, params.inverse_cholesky
    traces = np.einsum("kij,kjl,kil->k", U, about_means.scatters, U)
    return float(counts @ np.log(params.weights) - 0.5 * counts @ (params.dim * gaussian.LOG_2PI + params.log_dets)
                 - 0.5 * traces.sum())


def e_step_with_entropy(data, params: GMMParams) -> tuple[GMMStats, float]:
    """The E step's statistics and the entropy of the posterior q(z) = prod_n p(z_n | x_n, params):

        H(q) = -sum_n sum_k r_nk log r_nk   (0 log 0 = 0).

    data: (N, D) array or ``gaussian.features(X)``. Returns (GMMStats, H(q)): a ``block_e_step`` for
    ``emlib.em.run_incremental``. With them, free_energy(stats, H, params) = log p(X | params).
    """
    F = gaussian.prepared(data)
    _check_compatible(F.X, params)
    resp, _ = gaussian.log_normalise(_log_joint(F, params))
    log_resp = np.log(resp, out=np.zeros_like(resp), where=resp > 0)
    return gaussian_statistics(F, resp), float(-np.einsum("nk,nk->", resp, log_resp))


def free_energy(stats: GMMStats, entropy: float, params: GMMParams) -> float:
    """F(q, params) = E_q[log p(X, z | params)] + H(q) = log p(X | params) - KL(q || p(z | X, params)).

    stats and entropy describe q (from ``e_step_with_entropy``, possibly at other parameters, possibly summed over
    blocks computed at different parameters). F <= log p(X | params), with equality when q is the posterior at
    params (Neal and Hinton 1999).
    """
    return expected_complete_log_likelihood(stats, params) + float(entropy)


def params_to_vector(params: GMMParams) -> np.ndarray:
    """(w, vec(mu), vec(Sigma)) as one float vector of length K + K D + K D^2: SQUAREM's coordinates."""
    return np.concatenate([params.weights, params.means.ravel(), params.covariances.ravel()])


def params_from_vector(vector, K: int, D: int) -> GMMParams:
    """The inverse of ``params_to_vector``; ValueError (from GMMParams) unless the weights are positive and sum to
    one and every covariance is symmetric positive definite, which SQUAREM's safeguard catches."""
    vector = np.asarray(vector, dtype=float)
    if vector.shape != (K + K * D + K * D * D,):
        raise ValueError(f"a vector of K = {K}, D = {D} mixture parameters has length K + K D + K D^2 = "
                         f"{K + K * D + K * D * D}, got shape {vector.shape}.")
    return GMMParams(vector[:K], vector[K : K + K * D].reshape(K, D), vector[K + K * D :].reshape(K, D, D))


def _start(X, init, reg_covar, rng) -> tuple[gaussian.Features, GMMParams]:
    """The checks and start of ``fit`` and its variants: (features of X, initial parameters)."""
    X = data_matrix(X)
    if isinstance(reg_covar, (bool, np.bool_)) or not isinstance(reg_covar, (int, float, np.integer, np.floating)):
        raise TypeError(f"reg_covar must be a finite number >= 0 (added to every covariance's diagonal), got "
                        f"{reg_covar!r}.")
    if not (np.isfinite(reg_covar) and reg_covar >= 0):
        raise ValueError(f"reg_covar must be a finite number >= 0, got {reg_covar!r}.")
    if _is_count(init):
        params = initial_params(X, int(init), rng=rng, reg_covar=reg_covar)
    elif isinstance(init, GMMParams):
        params = init
    elif isinstance(init, (tuple, list)) and len(init) == 3:
        params = GMMParams(*init)
    else:
        raise TypeError(f"init must be a GMMParams(weights, means, covariances), such a triple, or an int K (the "
                        f"number of components, for a seeded start), got {init!r}.")
    _check_compatible(X, params)
    check_n_components(params.n_components, X.shape[0])
    return gaussian.features(X), params


def _row_blocks(F: gaussian.Features, n_blocks: int) -> list[gaussian.Features]:
    """F split into n_blocks runs of consecutive rows, sizes differing by at most one; views, one common centre."""
    bounds = np.linspace(0, len(F.X), n_blocks + 1).round().astype(int)
    return [gaussian.Features(F.X[a:b], F.centre, F.T[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _whole_number(value, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (high and value > high):
        bound = f"between {low} and {high}" if high else f">= {low}"
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}.")
    return int(value)


def fit_incremental(X, init, n_blocks: int, *, max_passes: int = 100, tol: float = 1e-8, reg_covar: float = 0.0,
                    rng=None, track_log_likelihood: bool = False) -> EMResultWithInfo:
    """Incremental EM (Neal and Hinton 1999) with X in ``n_blocks`` blocks of consecutive rows (shuffle X first if
    its order means something); see ``emlib.em.run_incremental``. An M step follows every block's E step.

    Returns EMResultWithInfo(params, objective = the free energy F after 0, 1, ... passes -- monotone, and equal
    to the log-likelihood at init and whenever n_blocks = 1 -- converged, n_iter = passes). n_blocks = 1 is batch
    EM, ``fit``, exactly. track_log_likelihood=True also records log p(X | params) after every pass in
    ``info["log_likelihood"]`` (one more E step over X per pass). init, reg_covar, rng, tol: as in ``fit``.
    """
    F, params = _start(X, init, reg_covar, rng)
    n_blocks = _whole_number(n_blocks, "n_blocks", 1, len(F.X))
    return run_incremental(e_step_with_entropy, partial(m_step, reg_covar=reg_covar), expected_complete_log_likelihood,
                           params, _row_blocks(F, n_blocks), max_passes=max_passes, tol=tol,
                           check_monotone=reg_covar == 0,
                           log_likelihood=partial(log_likelihood, F) if track_log_likelihood else None)


def fit_online(X, init, *, batch_size: int = 1000, n_passes: int = 1, alpha: float = 0.6, n0: float = 0.0,
               average_after: int | None = None, reg_covar: float = 0.0, rng=None) -> EMResultWithInfo:
    """Online EM (Cappe and Moulines 2009) over mini-batches of ``batch_size`` consecutive rows of X (the last one
    may be shorter; X should be in random order); see ``emlib.em.run_online`` for gamma_n = (n + n0)^-alpha and
    ``average_after`` (Polyak-Ruppert averaging of the statistics).

    The M step sees the per-sample statistics times N, so its counts are in points of X and its messages read as
    in ``fit`` (the M step is unchanged by scaling the statistics).
    Returns EMResultWithInfo(params, objective = log p(X | params) after 0, 1, ... passes (not monotone),
    converged = False, n_iter = n_passes).
    """
    F, params = _start(X, init, reg_covar, rng)
    batch_size = _whole_number(batch_size, "batch_size", 1)
    N = len(F.X)
    batches = _row_blocks(F, -(-N // batch_size)) if batch_size < N else [F]
    return run_online(e_step, lambda s: m_step(N * s, reg_covar=reg_covar), params, batches,
                      partial(log_likelihood, F), n_passes=n_passes, alpha=alpha, n0=n0,
                      average_after=average_after, size=lambda block: len(block.X))


def fit_squarem(X, init, *, max_iter: int = 500, tol: float = 1e-8, max_backtracks: int = 3, reg_covar: float = 0.0,
                rng=None) -> EMResultWithInfo:
    """EM accelerated by SQUAREM (Varadhan and Roland 2008, scheme S3), in the coordinates of ``params_to_vector``;
    see ``emlib.em.squarem``. An extrapolation with a negative weight or a covariance that is not positive
    definite is rejected by the safeguard, as is one that lowers the log-likelihood.

    Returns EMResultWithInfo(params, objective = log-likelihood after 0, 1, ... SQUAREM cycles (monotone),
    converged, n_iter = cycles; info["n_evaluations"] = EM steps (E and M) taken, 3 a cycle without backtracking).
    """
    F, params = _start(X, init, reg_covar, rng)
    K, D = params.n_components, params.dim

    def em_map(p):
        stats, value = e_step(F, p)
        return m_step(stats, reg_covar=reg_covar), value

    return squarem(em_map, params, params_to_vector, partial(params_from_vector, K=K, D=D), max_iter=max_iter,
                   tol=tol, max_backtracks=max_backtracks, check_monotone=reg_covar == 0)
