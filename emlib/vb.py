"""Variational Bayes for a mixture of K Gaussians with full covariances (Bishop 2006, section 10.2).

Model (10.37-10.40; Bishop writes pi for the weights w): z_n ~ Categorical(w), x_n | z_n = k ~ N(mu_k, Lambda_k^-1),
with the conjugate priors

    w ~ Dir(alpha_0 1_K),   Lambda_k ~ W(W_0, nu_0),   mu_k | Lambda_k ~ N(m_0, (beta_0 Lambda_k)^-1).

Mean field: q(Z, w, mu, Lambda) = q(Z) q(w) prod_k q(mu_k, Lambda_k), and coordinate ascent on the evidence
lower bound (ELBO) L(q) <= log p(X) alternates two updates, each the exact maximizer of L in its own factor:

* the "E step", q(Z): r_nk proportional to rho_nk = exp(E[log w_k] + E[log N(x_n | mu_k, Lambda_k^-1)]) (10.46,
  10.49), followed by the statistics N_k, s_k, S_k of ``gmm.gaussian_statistics`` (10.51-10.53);
* the "M step", q(w, mu, Lambda): Dir(alpha) and Gaussian-Wishart(m_k, beta_k, W_k, nu_k) (10.58, 10.60-10.63).

E[log N(x | mu_k, Lambda_k^-1)] is linear in the sufficient statistics T(x) of ``emlib.gaussian``, with the
expected natural parameters E[Lambda_k], E[Lambda_k mu_k], E[mu_k^T Lambda_k mu_k], E[log|Lambda_k|] (10.64,
10.65). They are those of the Gaussian N(m_k, (nu_k W_k)^-1) plus a constant per component, so the E step is
the Gaussian mixture's: one matrix product T @ eta^T and a log-sum-exp.

The objective the E step returns (and ``fit`` records) is the full ELBO, every constant included, at q(w, mu,
Lambda) and the q(Z) the E step computes from it:

    L = sum_n log sum_k rho_nk - KL(q(w, mu, Lambda) || p(w, mu, Lambda)),

the variational analogue of EM's log-likelihood, which its E step also gets from the log-sum-exp.

Conventions (scikit-learn's, so that its ``BayesianGaussianMixture`` can be compared directly): the prior's
``covariance`` is W_0^-1, the inverse-Wishart scale (scikit-learn's ``covariance_prior``); the posterior's
``covariances`` are E[Lambda_k]^-1 = (nu_k W_k)^-1 (scikit-learn's ``covariances_``).
"""
from __future__ import annotations

from functools import cached_property, partial
from typing import NamedTuple

import numpy as np
from scipy.special import digamma, gammaln, xlogy

from . import gaussian, gmm
from ._validation import (PARAMETER_ADVICE, Validated, data_matrix, finite, frozen,
                          n_components as check_n_components, shape, symmetric, whole_number)
from .em import EMResult, run_em

__all__ = [
    "Prior", "VBParams", "fit", "e_step", "m_step", "elbo", "kl_divergence", "expected_log_joint",
    "responsibilities", "predictive_log_density", "effective_components", "log_wishart_normaliser",
]


def log_wishart_normaliser(log_det_W, dof, D: int):
    """log B(W, nu) of the Wishart density (Bishop B.79), elementwise over log|W| and nu:

    log B = -nu/2 log|W| - nu D/2 log 2 - D(D-1)/4 log pi - sum_{i=1..D} log Gamma((nu + 1 - i)/2).
    """
    nu = np.asarray(dof, dtype=float)
    halves = 0.5 * (nu[..., None] - np.arange(D))
    return (-0.5 * nu * log_det_W - 0.5 * nu * D * np.log(2) - 0.25 * D * (D - 1) * np.log(np.pi)
            - gammaln(halves).sum(axis=-1))


def _expected_log_det(log_det_W, dof, D: int):
    """E[log|Lambda|] = sum_{i=1..D} psi((nu + 1 - i)/2) + D log 2 + log|W| under W(W, nu) (10.65)."""
    nu = np.asarray(dof, dtype=float)
    return digamma(0.5 * (nu[..., None] - np.arange(D))).sum(axis=-1) + D * np.log(2) + log_det_W


def _positive(value, name: str, lower: float = 0.0, what: str = "0") -> None:
    bad = ~(np.asarray(value) > lower)
    if np.any(bad):
        first = np.ravel(value)[np.argmax(np.ravel(bad))]
        raise ValueError(f"{name} must be > {what}, got {float(first)!r}.")


# ----------------------------------------------------------------------------------------------- the prior

#: What a prior's parameter that is not finite is told.
PRIOR_ADVICE = "a prior's parameters must be finite numbers (Prior.default(X, K) is scikit-learn's default prior)"


class _PriorFields(NamedTuple):
    weight_concentration: float
    mean: np.ndarray
    mean_precision: float
    dof: float
    covariance: np.ndarray


class Prior(Validated, _PriorFields):
    """The conjugate prior p(w) p(mu, Lambda), validated and read-only.

    weight_concentration: alpha_0 > 0, w ~ Dir(alpha_0, ..., alpha_0).
    mean:                 m_0, shape (D,).
    mean_precision:       beta_0 > 0, mu_k | Lambda_k ~ N(m_0, (beta_0 Lambda_k)^-1).
    dof:                  nu_0 > D - 1, Lambda_k ~ W(W_0, nu_0).
    covariance:           W_0^-1, shape (D, D) symmetric positive definite: the inverse-Wishart scale, as
                          scikit-learn's ``covariance_prior`` (E[Lambda_k] = nu_0 W_0 under the prior).

    Names. The fields are named as the peer the chapter compares with (scikit-learn's BayesianGaussianMixture);
    the symbols are Bishop's (2006, section 10.2, eqs. 10.39-10.40), which chapter 07 uses:

        field                 chapter 07 / Bishop   scikit-learn                   gmm.Prior (MAP-EM, chapter 04)
        weight_concentration  alpha_0 (one value)   weight_concentration_prior     alpha (one per component)
        mean                  m_0                   mean_prior                     m0
        mean_precision        beta_0                mean_precision_prior           kappa0
        dof                   nu_0                  degrees_of_freedom_prior       nu0
        covariance            W_0^-1                covariance_prior               S0

    It is the same conjugate family as ``gmm.Prior``: a normal-Wishart on (mu_k, Lambda_k) is a normal-inverse-
    Wishart on (mu_k, Sigma_k = Lambda_k^-1), with kappa0 = beta_0, S0 = W_0^-1 and the same nu.
    """

    def __new__(cls, weight_concentration, mean, mean_precision, dof, covariance):
        mean, covariance = frozen(mean), frozen(covariance)
        if mean.ndim == 0:
            mean = frozen(mean[None])
        if mean.ndim != 1:
            raise ValueError(f"the prior mean must have shape (D,), got {mean.shape}.")
        D = len(mean)
        if covariance.ndim == 0 and D == 1:
            covariance = frozen(covariance[None, None])
        shape(covariance, (D, D), "the prior covariance", "(D, D)")
        finite(mean, "the prior mean", PRIOR_ADVICE)
        finite(covariance, "the prior covariance", PRIOR_ADVICE)
        scalars = {}
        for name, value in [("weight_concentration", weight_concentration), ("mean_precision", mean_precision),
                            ("dof", dof)]:
            if np.ndim(value) != 0:
                raise ValueError(f"the prior {name} must be a single number, got shape {np.shape(value)}.")
            scalars[name] = float(value)
        _positive(scalars["weight_concentration"], "the prior weight_concentration")
        _positive(scalars["mean_precision"], "the prior mean_precision")
        _positive(scalars["dof"], "the prior dof", D - 1, f"D - 1 = {D - 1} (the Wishart is improper otherwise)")
        if np.abs(covariance - covariance.T).max() > 1e-10 * np.abs(covariance).max():
            raise ValueError("the prior covariance must be symmetric.")
        self = super().__new__(cls, scalars["weight_concentration"], mean, scalars["mean_precision"], scalars["dof"],
                               covariance)
        self.__dict__["_cholesky"] = gaussian.cholesky(covariance[None], "the prior covariance")[0]
        return self

    @classmethod
    def default(cls, X, K: int) -> "Prior":
        """scikit-learn's defaults: alpha_0 = 1/K, m_0 = the data mean, beta_0 = 1, nu_0 = D, W_0^-1 = the data
        covariance (with the N - 1 divisor, as ``np.cov``)."""
        X = data_matrix(X)
        N, D = X.shape
        if N < 2:
            raise ValueError("the default prior uses the data covariance, which needs at least 2 points: pass prior=.")
        K = whole_number(K, "K", 1, "the number of components")
        covariance = np.atleast_2d(np.cov(X, rowvar=False))
        for _, why in gaussian.singular(covariance[None], X.mean(axis=0)[None]):
            raise ValueError(
                f"X has no spread in some direction (its covariance is singular: {why}), so the default prior's "
                "covariance is singular: drop constant or dependent columns, or pass prior=Prior(...) with a "
                "covariance."
            )
        return cls(1.0 / K, X.mean(axis=0), 1.0, D, covariance)

    @property
    def dim(self) -> int:
        return len(self.mean)

    @cached_property
    def log_det_W(self) -> float:
        """log|W_0| = -log|W_0^-1|."""
        return float(-2 * np.log(np.diag(self._cholesky)).sum())


# ----------------------------------------------------------------------------------------------- the posterior

class _Fields(NamedTuple):
    weight_concentration: np.ndarray
    mean_precision: np.ndarray
    means: np.ndarray
    dof: np.ndarray
    covariances: np.ndarray


class VBParams(Validated, gaussian.CholeskyFactors, _Fields):
    """The variational posterior q(w) q(mu, Lambda), validated and read-only:
    ``alpha, beta, m, nu, Sigma = params``.

    weight_concentration: alpha (K,) > 0, q(w) = Dir(alpha) (10.57).
    mean_precision:       beta (K,) > 0 (10.60).
    means:                m (K, D), the posterior means of mu_k (10.61).
    dof:                  nu (K,) > D - 1 (10.63).
    covariances:          (K, D, D) symmetric positive definite, E[Lambda_k]^-1 = (nu_k W_k)^-1; W_k from 10.62.

    Derived: ``weights`` E[w_k] = alpha_k / sum alpha, ``inverse_scale`` W_k^-1, ``precisions`` E[Lambda_k].
    """

    def __new__(cls, weight_concentration, mean_precision, means, dof, covariances):
        alpha, beta, means, nu, covariances = map(frozen, (weight_concentration, mean_precision, means, dof,
                                                           covariances))
        if alpha.ndim != 1:
            raise ValueError(f"weight_concentration must have shape (K,), got {alpha.shape}.")
        K = len(alpha)
        if means.ndim == 1 and K >= 1:
            means = frozen(means[:, None])
        if means.ndim != 2 or len(means) != K:
            raise ValueError(f"means must have shape (K, D) with K = {K} (the length of weight_concentration), "
                             f"got {means.shape}.")
        D = means.shape[1]
        if covariances.ndim == 1 and D == 1:
            covariances = frozen(covariances[:, None, None])
        shape(beta, (K,), "mean_precision", "(K,)")
        shape(nu, (K,), "dof", "(K,)")
        shape(covariances, (K, D, D), "covariances", "(K, D, D)")
        for name, value in [("weight_concentration", alpha), ("mean_precision", beta), ("means", means), ("dof", nu),
                            ("covariances", covariances)]:
            finite(value, name, PARAMETER_ADVICE)
        _positive(alpha, "weight_concentration")
        _positive(beta, "mean_precision")
        _positive(nu, "dof", D - 1, f"D - 1 = {D - 1}")
        symmetric(covariances, "covariances")
        self = super().__new__(cls, alpha, beta, means, nu, covariances)
        self.__dict__["_cholesky"] = gaussian.cholesky(covariances)
        return self

    @property
    def n_components(self) -> int:
        return len(self.weight_concentration)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def weights(self) -> np.ndarray:
        """E[w_k] = alpha_k / sum_j alpha_j, shape (K,)."""
        return self.weight_concentration / self.weight_concentration.sum()

    @property
    def inverse_scale(self) -> np.ndarray:
        """W_k^-1 = nu_k covariances_k, shape (K, D, D) (10.62)."""
        return self.dof[:, None, None] * self.covariances

    @property
    def precisions(self) -> np.ndarray:
        """E[Lambda_k] = nu_k W_k, shape (K, D, D) (10.64)."""
        U = self.inverse_cholesky
        return U.swapaxes(1, 2) @ U

    @cached_property
    def log_det_W(self) -> np.ndarray:
        """log|W_k| = -log|covariances_k| - D log nu_k, shape (K,)."""
        return -self.log_dets - self.dim * np.log(self.dof)

    @cached_property
    def expected_log_weights(self) -> np.ndarray:
        """E[log w_k] = psi(alpha_k) - psi(sum_j alpha_j), shape (K,) (10.66)."""
        return digamma(self.weight_concentration) - digamma(self.weight_concentration.sum())

    @cached_property
    def expected_log_det_precision(self) -> np.ndarray:
        """E[log|Lambda_k|], shape (K,) (10.65)."""
        return _expected_log_det(self.log_det_W, self.dof, self.dim)


# ----------------------------------------------------------------------------------------------- E step

def expected_log_joint(F: gaussian.Features, params: VBParams) -> np.ndarray:
    """log rho_nk = E[log w_k] + 1/2 E[log|Lambda_k|] - D/2 log 2 pi - 1/2 E[(x_n - mu_k)^T Lambda_k (x_n - mu_k)],
    shape (N, K) (10.46), with E[...] = D/beta_k + nu_k (x_n - m_k)^T W_k (x_n - m_k) (10.64).

    That is log N(x_n | m_k, (nu_k W_k)^-1) + E[log w_k] + 1/2 (E[log|Lambda_k|] - log|nu_k W_k|) - D/(2 beta_k):
    the Gaussian log-densities of ``gaussian.log_densities`` (one matrix product) plus a constant per component.
    """
    D = params.dim
    log_rho = gaussian.log_densities(F, params.means, params.inverse_cholesky, params.log_dets)
    log_rho += (params.expected_log_weights
                + 0.5 * (params.expected_log_det_precision - params.log_det_W - D * np.log(params.dof))
                - 0.5 * D / params.mean_precision)
    return log_rho


def kl_divergence(params: VBParams, prior: Prior) -> float:
    """KL(q(w, mu, Lambda) || p(w, mu, Lambda)) = E[log q(w)] + E[log q(mu, Lambda)] - E[log p(w)]
    - E[log p(mu, Lambda)] (10.73, 10.74, 10.76, 10.77), in closed form:

    KL(Dir(alpha) || Dir(alpha_0)) = log C(alpha) - log C(alpha_0 1_K) + sum_k (alpha_k - alpha_0) E[log w_k],
    and for each k, with E[log|Lambda_k|] from 10.65,
    KL(q(mu_k, Lambda_k) || p) = D/2 (log(beta_k/beta_0) + beta_0/beta_k - 1) + beta_0 nu_k/2 (m_k - m_0)^T W_k (m_k - m_0)
                                 + log B(W_k, nu_k) - log B(W_0, nu_0) + (nu_k - nu_0)/2 E[log|Lambda_k|]
                                 + nu_k/2 (Tr(W_0^-1 W_k) - D).
    """
    _check_prior(prior, params.dim)
    K, D = params.n_components, params.dim
    alpha, a0 = params.weight_concentration, prior.weight_concentration
    log_C = gammaln(alpha.sum()) - gammaln(alpha).sum()
    log_C0 = gammaln(K * a0) - K * gammaln(a0)
    kl_weights = log_C - log_C0 + ((alpha - a0) * params.expected_log_weights).sum()

    beta, nu, b0, nu0 = params.mean_precision, params.dof, prior.mean_precision, prior.dof
    U = params.inverse_cholesky                                     # U_k^T U_k = nu_k W_k
    Ud = np.einsum("kij,kj->ki", U, params.means - prior.mean)
    UL0 = U @ prior._cholesky                                       # |U_k L_0|_F^2 = nu_k Tr(W_0^-1 W_k)
    kl_gaussians = (0.5 * D * (np.log(beta / b0) + b0 / beta - 1) + 0.5 * b0 * np.einsum("ki,ki->k", Ud, Ud)
                    + log_wishart_normaliser(params.log_det_W, nu, D) - log_wishart_normaliser(prior.log_det_W, nu0, D)
                    + 0.5 * (nu - nu0) * params.expected_log_det_precision
                    + 0.5 * (np.einsum("kij,kij->k", UL0, UL0) - nu * D))
    return float(kl_weights + kl_gaussians.sum())


def e_step(data, params: VBParams, prior: Prior) -> tuple[gmm.GMMStats, float]:
    """The update of q(Z) and its statistics, and the ELBO there.

    data: (N, D) array, or ``gaussian.features(X)`` prepared once for many E steps.
    Returns (GMMStats of r_nk (10.49): N_k, s_k, S_k (10.51-10.53) about centres,
             L = sum_n log sum_k rho_nk - KL(q(w, mu, Lambda) || p(w, mu, Lambda))), the ELBO (10.70) at the new
    q(Z) and the given q(w, mu, Lambda).
    """
    F = gaussian.prepared(data)
    _check_compatible(F.X, params)
    resp, log_norm = gaussian.log_normalise(expected_log_joint(F, params))
    return gmm.gaussian_statistics(F, resp), float(log_norm.sum()) - kl_divergence(params, prior)


def responsibilities(X, params: VBParams) -> np.ndarray:
    """r_nk = rho_nk / sum_j rho_nj, shape (N, K) (10.49): the update of q(Z)."""
    F = gaussian.prepared(X)
    _check_compatible(F.X, params)
    return gaussian.log_normalise(expected_log_joint(F, params))[0]


def elbo(X, resp, params: VBParams, prior: Prior) -> float:
    """The ELBO L(q) = E[log p(X, Z, w, mu, Lambda)] - E[log q(Z, w, mu, Lambda)] (10.70) at any q(Z) = resp
    (N, K) and q(w, mu, Lambda) = params, with every constant: the sum of 10.71-10.77, which is

        L = sum_nk r_nk log rho_nk - sum_nk r_nk log r_nk - KL(q(w, mu, Lambda) || p(w, mu, Lambda)).

    It is <= log p(X), with equality when q is the exact posterior.
    """
    F = gaussian.prepared(X)
    _check_compatible(F.X, params)
    resp = _responsibility_matrix(resp, F.X.shape[0], params.n_components)
    log_rho = expected_log_joint(F, params)
    return float(np.einsum("nk,nk->", resp, log_rho) - xlogy(resp, resp).sum() - kl_divergence(params, prior))


# ----------------------------------------------------------------------------------------------- M step

def m_step(stats: gmm.GMMStats, prior: Prior) -> VBParams:
    """The update of q(w, mu, Lambda) from the statistics of q(Z), with x_bar_k = c_k + s_k/N_k and
    N_k C_k = sum_n r_nk (x_n - x_bar_k)(x_n - x_bar_k)^T:

        alpha_k = alpha_0 + N_k                                                              (10.58)
        beta_k  = beta_0 + N_k                                                               (10.60)
        m_k     = (beta_0 m_0 + N_k x_bar_k) / beta_k                                        (10.61)
        W_k^-1  = W_0^-1 + N_k C_k + beta_0 N_k / beta_k (x_bar_k - m_0)(x_bar_k - m_0)^T    (10.62)
        nu_k    = nu_0 + N_k                                                                 (10.63)

    A component with N_k = 0 gets the prior back.
    """
    _check_prior(prior, stats.sums.shape[1])
    counts = stats.counts
    if np.any(counts < 0):
        raise ValueError(f"the counts N_k must be >= 0, got {counts}.")
    d = np.divide(stats.sums, counts[:, None], out=np.zeros_like(stats.sums), where=counts[:, None] > 0)
    x_bar = stats.centres + d
    scatter = stats.scatters - counts[:, None, None] * d[:, :, None] * d[:, None, :]   # N_k C_k
    beta = prior.mean_precision + counts
    means = (prior.mean_precision * prior.mean + counts[:, None] * x_bar) / beta[:, None]
    diff = x_bar - prior.mean
    inverse_scale = (prior.covariance + scatter
                     + (prior.mean_precision * counts / beta)[:, None, None] * diff[:, :, None] * diff[:, None, :])
    inverse_scale = 0.5 * (inverse_scale + inverse_scale.swapaxes(1, 2))
    dof = prior.dof + counts
    return VBParams(prior.weight_concentration + counts, beta, means, dof, inverse_scale / dof[:, None, None])


# ----------------------------------------------------------------------------------------------- fitting

def fit(X, init, *, prior: Prior | None = None, max_iter: int = 500, tol: float = 1e-8, rng=None) -> EMResult:
    """Fit the variational posterior by coordinate ascent on the ELBO, with the shared EM driver.

    X:     (N, D) data (or (N,) for one dimension).
    init:  an (N, K) matrix of responsibilities (rows summing to one), or an int K: then the responsibilities of
           ``gmm.initial_params(X, K, rng=rng)`` (a k-means++ start). The first step is the update of
           q(w, mu, Lambda) from them; that q is the run's parameters after 0 iterations.
    prior: a ``Prior``; default ``Prior.default(X, K)`` (scikit-learn's defaults).
    Returns EMResult(params = VBParams, objective, converged, n_iter); objective[t] is the full ELBO at the
    q(w, mu, Lambda) after t iterations and the q(Z) computed from it (see ``e_step``). Stops when
    0 <= gain of the ELBO < tol * max(|ELBO|, 1) or after max_iter iterations.
    """
    X = data_matrix(X)
    N = X.shape[0]
    if isinstance(init, (bool, np.bool_)):
        raise TypeError(f"init must be an (N, K) matrix of responsibilities or an int K (the number of components), "
                        f"got {init!r}.")
    resp = None if isinstance(init, (int, np.integer)) else _responsibility_matrix(init, N)
    K = int(init) if resp is None else resp.shape[1]
    check_n_components(K, N)
    prior = Prior.default(X, K) if prior is None else prior
    _check_prior(prior, X.shape[1])
    if resp is None:
        resp = gmm.responsibilities(X, gmm.initial_params(X, K, rng=rng))
    F = gaussian.features(X)
    start = m_step(gmm.gaussian_statistics(F, resp), prior)
    return run_em(partial(e_step, F, prior=prior), partial(m_step, prior=prior), start, max_iter=max_iter, tol=tol)


# ----------------------------------------------------------------------------------------------- using the posterior

def predictive_log_density(X, params: VBParams) -> np.ndarray:
    """log p(x | data) of each row of X (N, D) under the posterior predictive, shape (N,) (10.78-10.82):

        p(x | data) = sum_k alpha_k / sum_j alpha_j  St(x | m_k, L_k, nu_k + 1 - D),
        L_k = (nu_k + 1 - D) beta_k / (1 + beta_k) W_k,

    a mixture of multivariate Student-t distributions, St with location m_k, precision L_k and nu_k + 1 - D
    degrees of freedom (scale matrix L_k^-1 = (1 + beta_k) nu_k / ((nu_k + 1 - D) beta_k) covariances_k).
    """
    X = data_matrix(X)
    _check_compatible(X, params)
    D = params.dim
    df = params.dof + 1 - D
    c = (1 + params.mean_precision) * params.dof / (df * params.mean_precision)    # L_k^-1 = c_k covariances_k
    U, log_dets = params.inverse_cholesky, params.log_dets + D * np.log(c)
    log_p = np.empty((X.shape[0], params.n_components))
    for k in range(params.n_components):
        Z = (X - params.means[k]) @ U[k].T
        maha = np.einsum("nd,nd->n", Z, Z) / c[k]
        log_p[:, k] = (gammaln(0.5 * (df[k] + D)) - gammaln(0.5 * df[k]) - 0.5 * D * np.log(df[k] * np.pi)
                       - 0.5 * log_dets[k] - 0.5 * (df[k] + D) * np.log1p(maha / df[k]))
    log_p += np.log(params.weights)
    return gaussian.log_normalise(log_p)[1]


def effective_components(params: VBParams, threshold: float = 0.01) -> int:
    """The number of components with expected weight E[w_k] = alpha_k / sum_j alpha_j >= threshold.

    With a small alpha_0 (the default 1/K) the variational posterior switches superfluous components off: their
    N_k goes to zero and their weight to alpha_0 / (N + K alpha_0), far below any reasonable threshold. E[w_k] counts
    the prior's pseudo-counts too (an empty component keeps alpha_0 / (N + K alpha_0): 3% at alpha_0 = 10, N = 272,
    K = 6), so with a large alpha_0 this is not the share of the data a component explains, N_k / N (chapter 07
    counts by that). This rule is scikit-learn's: ``weights_ >= threshold`` of ``BayesianGaussianMixture``.
    """
    if not isinstance(params, VBParams):
        raise TypeError(f"params must be a VBParams, got {type(params).__name__}.")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1 (an expected weight), got {threshold!r}.")
    return int(np.sum(params.weights >= threshold))


# ----------------------------------------------------------------------------------------------- checks

def _responsibility_matrix(resp, N: int, K: int | None = None) -> np.ndarray:
    try:
        resp = np.asarray(resp, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the responsibilities must be an array of numbers of shape (N, K): {error}") from None
    if resp.ndim != 2 or resp.shape[0] != N or (K is not None and resp.shape[1] != K):
        expected = f"(N, K) = ({N}, {'K' if K is None else K})"
        raise ValueError(f"the responsibilities must have shape {expected}, one row per data point, got {resp.shape}.")
    finite(resp, "the responsibilities", "responsibilities are probabilities: each row of init must sum to one")
    if resp.min() < 0:
        n, k = np.unravel_index(np.argmin(resp), resp.shape)
        raise ValueError(f"the responsibilities must be >= 0, but r[{n}, {k}] = {resp[n, k]:.6g}.")
    off = np.abs(resp.sum(axis=1) - 1) > 1e-8
    if off.any():
        n = int(np.argmax(off))
        raise ValueError(f"each row of the responsibilities must sum to one, but row {n} sums to "
                         f"{resp[n].sum():.10g}: divide each row by its sum.")
    return resp


def _check_prior(prior, D: int) -> None:
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a vb.Prior(weight_concentration, mean, mean_precision, dof, covariance), "
                        f"got {type(prior).__name__}.")
    if prior.dim != D:
        raise ValueError(f"the prior is for D = {prior.dim} dimensions but the data have D = {D}.")


def _check_compatible(X: np.ndarray, params: VBParams) -> None:
    if not isinstance(params, VBParams):
        raise TypeError(f"params must be a VBParams, got {type(params).__name__}.")
    if X.shape[1] != params.dim:
        raise ValueError(f"X has D = {X.shape[1]} columns but the parameters are for D = {params.dim} dimensions.")
