"""Standard errors after EM: the observed information by Louis's method and by SEM, and EM's rate of convergence.

EM gives the maximiser theta* of L(theta) = log p(y | theta) but not its standard errors, which need the observed
information I_obs = -d^2 L / d theta^2 at theta*. Three ways to it, which must agree:

- **directly**: a central-difference Hessian of L (``observed_information``), the check;
- **Louis (1982)**: I_obs = I_c - I_mis, from quantities of the complete data that the E step can average,

      I_c   = E[-d^2 log p(y, z | theta) / d theta^2 | y]                 the complete information,
      I_mis = Var[d log p(y, z | theta) / d theta | y]                   the missing information,

  (``gmm_information`` for a Gaussian mixture; ``emlib.linkage`` has the one-parameter closed forms);
- **SEM (Meng and Rubin 1991)**: from EM itself. Near theta* the EM map M(theta) = argmax Q(. | theta) is linear,
  M(theta) - theta* = J (theta - theta*), with Jacobian J = I_c^-1 I_mis (Dempster, Laird and Rubin 1977,
  section 3), so I_obs = I_c (I - J) and

      Cov(theta*) = I_obs^-1 = (I - J)^-1 I_c^-1;

  J comes from differentiating M numerically (``em_jacobian``): a few extra EM steps, no second derivatives of L.

The largest eigenvalue of J is EM's rate of linear convergence (``rate_of_convergence``): the largest fraction of
missing information over the directions of theta. For a scalar theta it is J = I_mis / I_c itself.

A Gaussian mixture's coordinates here are the free ones (``GMMCoordinates``): the first K - 1 weights (the last is
1 minus their sum), the means, and the upper triangle of each covariance, diagonal included; p = K - 1 + K D +
K D (D + 1) / 2 numbers in all. Standard errors depend on the coordinates (that of a variance is not that of a
standard deviation), so they are reported in these.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .gmm import GMMParams, m_step, e_step, responsibilities

__all__ = ["observed_information", "em_jacobian", "sem_covariance", "rate_of_convergence", "standard_errors",
           "GMMCoordinates", "Information", "gmm_information", "gmm_em_map"]


# ----------------------------------------------------------------------------------------- model-agnostic

def _steps(theta: np.ndarray, relative_step: float) -> np.ndarray:
    return relative_step * np.maximum(np.abs(theta), 1.0)


def observed_information(log_likelihood: Callable[[np.ndarray], float], theta, *,
                         relative_step: float = 1e-4) -> np.ndarray:
    """I_obs = -H, the negative Hessian of ``log_likelihood`` at ``theta`` (shape (p,)), by central differences.

    H_ij = [L(t + h_i e_i + h_j e_j) - L(t + h_i e_i - h_j e_j) - L(t - h_i e_i + h_j e_j) + L(t - h_i e_i - h_j e_j)]
    / (4 h_i h_j), with h_i = relative_step * max(|theta_i|, 1): error O(h^2). Returns a symmetric (p, p) array.
    """
    theta = np.asarray(theta, dtype=float)
    h = _steps(theta, relative_step)
    p = len(theta)
    hessian = np.empty((p, p))
    for i in range(p):
        for j in range(i, p):
            def at(si, sj):
                shifted = theta.copy()
                shifted[i] += si * h[i]
                shifted[j] += sj * h[j]
                return log_likelihood(shifted)
            hessian[i, j] = hessian[j, i] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i] * h[j])
    return -hessian


def em_jacobian(em_map: Callable[[np.ndarray], np.ndarray], theta, *, relative_step: float = 1e-5) -> np.ndarray:
    """J = dM/dtheta at ``theta`` (a fixed point of EM), by central differences of one EM step: J_ij = dM_i/dtheta_j.

    This is the limit that Meng and Rubin's SEM approximates with its sequence of ratios
    (M(theta* + d e_j) - theta*)_i / d; at the MLE it equals I_c^-1 I_mis.
    """
    theta = np.asarray(theta, dtype=float)
    h = _steps(theta, relative_step)
    columns = []
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = h[j]
        columns.append((np.asarray(em_map(theta + step)) - np.asarray(em_map(theta - step))) / (2 * h[j]))
    return np.column_stack(columns)


def sem_covariance(jacobian: np.ndarray, complete_information: np.ndarray) -> np.ndarray:
    """Cov(theta*) = (I - J)^-1 I_c^-1 (SEM), symmetrised: J = dM/dtheta at theta*, I_c the complete information."""
    jacobian, complete_information = np.atleast_2d(jacobian), np.atleast_2d(complete_information)
    p = len(jacobian)
    covariance = np.linalg.solve(np.eye(p) - jacobian, np.linalg.inv(complete_information))
    return (covariance + covariance.T) / 2


def rate_of_convergence(jacobian: np.ndarray) -> float:
    """EM's linear rate at theta*: the largest |eigenvalue| of J = I_c^-1 I_mis (a number in [0, 1))."""
    return float(np.max(np.abs(np.linalg.eigvals(np.atleast_2d(jacobian)))))


def standard_errors(information: np.ndarray) -> np.ndarray:
    """sqrt(diag(I_obs^-1)); LinAlgError with advice if I_obs is not positive definite (theta is not a maximum)."""
    information = np.atleast_2d(np.asarray(information, dtype=float))
    eigenvalues = np.linalg.eigvalsh((information + information.T) / 2)
    if eigenvalues.min() <= 0:
        raise np.linalg.LinAlgError(
            f"the observed information is not positive definite (smallest eigenvalue {eigenvalues.min():.3g}): "
            "theta is not a strict local maximum of the log-likelihood. Run EM to convergence first (tol = 0 and "
            "enough iterations), and check that no component is empty or on a single point.")
    return np.sqrt(np.diag(np.linalg.inv(information)))


# ----------------------------------------------------------------------------------------- Gaussian mixtures

class GMMCoordinates(NamedTuple):
    """The free coordinates of a K-component mixture in D dimensions: (w_1..w_{K-1}, vec(mu), vech(Sigma_k) for each k).

    ``vector(params)`` and ``params(vector)`` convert; ``names`` labels each coordinate ("w[0]", "mu[1][0]",
    "Sigma[0][0,1]", ...).
    """

    K: int
    D: int

    @property
    def size(self) -> int:
        return self.K - 1 + self.K * self.D + self.K * self.D * (self.D + 1) // 2

    @property
    def _upper(self):
        return np.triu_indices(self.D)

    def vector(self, params: GMMParams) -> np.ndarray:
        i, j = self._upper
        return np.concatenate([params.weights[:-1], params.means.ravel(),
                               np.concatenate([S[i, j] for S in params.covariances])])

    def params(self, vector) -> GMMParams:
        K, D = self.K, self.D
        vector = np.asarray(vector, dtype=float)
        if vector.shape != (self.size,):
            raise ValueError(f"the free coordinates of K = {K}, D = {D} mixture parameters are {self.size} numbers "
                             f"(K - 1 + K D + K D (D + 1) / 2), got shape {vector.shape}.")
        weights = np.append(vector[: K - 1], 1 - vector[: K - 1].sum())
        means = vector[K - 1 : K - 1 + K * D].reshape(K, D)
        upper = vector[K - 1 + K * D :].reshape(K, -1)
        covariances = np.zeros((K, D, D))
        i, j = self._upper
        covariances[:, i, j] = upper
        covariances[:, j, i] = upper
        return GMMParams(weights, means, covariances)

    @property
    def names(self) -> list[str]:
        i, j = self._upper
        return ([f"w[{k}]" for k in range(self.K - 1)]
                + [f"mu[{k}][{d}]" for k in range(self.K) for d in range(self.D)]
                + [f"Sigma[{k}][{a},{b}]" for k in range(self.K) for a, b in zip(i, j)])


class Information(NamedTuple):
    """Louis's decomposition at one theta, in the free coordinates: observed = complete - missing, each (p, p)."""

    complete: np.ndarray
    missing: np.ndarray
    observed: np.ndarray


def _symmetric_units(D: int) -> np.ndarray:
    """E_ab = dSigma/dsigma_ab for each upper-triangle coordinate (a <= b): e_a e_b^T + e_b e_a^T, or e_a e_a^T."""
    i, j = np.triu_indices(D)
    units = np.zeros((len(i), D, D))
    units[np.arange(len(i)), i, j] = 1.0
    units[np.arange(len(i)), j, i] = 1.0
    return units


def _complete_scores(X: np.ndarray, params: GMMParams) -> np.ndarray:
    """S[n, k] = d/dtheta log p(x_n, z_n = k | theta) in the free coordinates, shape (N, K, p).

    weights: d log w_k / d w_j = [k = j] / w_k - [k = K] / w_K (j < K)
    means:   d/dmu_k = Lambda_k (x_n - mu_k)
    Sigma_k: d/dsigma_ab = 1/2 tr(E_ab G_nk), G_nk = Lambda_k d d^T Lambda_k - Lambda_k, d = x_n - mu_k
    """
    (N, D), K = X.shape, params.n_components
    w, mu = params.weights, params.means
    precisions = np.linalg.inv(params.covariances)
    units = _symmetric_units(D)
    scores = np.zeros((N, K, K - 1 + K * D + K * len(units)))
    for k in range(K):
        if k < K - 1:
            scores[:, k, k] = 1 / w[k]
        else:
            scores[:, k, : K - 1] = -1 / w[K - 1]
        d = X - mu[k]
        Ld = d @ precisions[k]                                           # (N, D): Lambda_k d_n
        scores[:, k, K - 1 + k * D : K - 1 + (k + 1) * D] = Ld
        G = Ld[:, :, None] * Ld[:, None, :] - precisions[k]              # (N, D, D)
        start = K - 1 + K * D + k * len(units)
        scores[:, k, start : start + len(units)] = 0.5 * np.einsum("qab,nab->nq", units, G)
    return scores


def _complete_information(X: np.ndarray, resp: np.ndarray, params: GMMParams) -> np.ndarray:
    """I_c = sum_n sum_k r_nk (-d^2/dtheta^2 log p(x_n, z_n = k | theta)), shape (p, p); block by block:

    weights:        diag(N_j / w_j^2) + (N_K / w_K^2) 1 1^T
    mu_k, mu_k:     N_k Lambda_k
    mu_k, Sigma_k:  Lambda_k E_ab Lambda_k b_k,      b_k = sum_n r_nk (x_n - mu_k)   (0 at an M step's output)
    Sigma_k twice:  tr(Lambda E_ab Lambda E_cd Lambda B_k) (symmetrised) - N_k/2 tr(Lambda E_ab Lambda E_cd),
                    B_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T
    """
    D, K = X.shape[1], params.n_components
    w, mu = params.weights, params.means
    counts = resp.sum(axis=0)
    units = _symmetric_units(D)
    q = len(units)
    p = K - 1 + K * D + K * q
    info = np.zeros((p, p))
    info[: K - 1, : K - 1] = np.diag(counts[:-1] / w[:-1] ** 2) + counts[-1] / w[-1] ** 2
    for k in range(K):
        Lam = np.linalg.inv(params.covariances[k])
        d = X - mu[k]
        b = resp[:, k] @ d
        B = (resp[:, k, None] * d).T @ d
        m = slice(K - 1 + k * D, K - 1 + (k + 1) * D)
        s = slice(K - 1 + K * D + k * q, K - 1 + K * D + (k + 1) * q)
        info[m, m] = counts[k] * Lam
        LE = np.einsum("ij,qjk->qik", Lam, units)                       # Lambda E_ab, (q, D, D)
        cross = np.einsum("qij,jk,k->iq", LE, Lam, b)                    # Lambda E_ab Lambda b, (D, q)
        info[m, s], info[s, m] = cross, cross.T
        third = np.einsum("aij,bjk,ki->ab", LE, LE, Lam @ B)             # tr(Lambda E_a Lambda E_b Lambda B)
        info[s, s] = (third + third.T) / 2 - counts[k] / 2 * np.einsum("aij,bji->ab", LE, LE)
    return info


def gmm_information(X, params: GMMParams) -> Information:
    """Louis's method for a Gaussian mixture at ``params``: I_c, I_mis and I_obs = I_c - I_mis in the free coordinates.

    The points are independent given theta, so I_mis is a sum over points of the posterior covariance of the
    complete-data score, I_mis = sum_n (sum_k r_nk S_nk S_nk^T - sbar_n sbar_n^T) with sbar_n = sum_k r_nk S_nk;
    the identity I_obs = I_c - I_mis then holds at any theta, not only at the MLE.
    X: (N, D); returns three (p, p) arrays, p = K - 1 + K D + K D (D + 1) / 2.
    """
    X = np.asarray(X, dtype=float)
    resp = responsibilities(X, params)
    scores = _complete_scores(X, params)
    mean_score = np.einsum("nk,nkp->np", resp, scores)
    missing = np.einsum("nk,nkp,nkq->pq", resp, scores, scores) - mean_score.T @ mean_score
    complete = _complete_information(X, resp, params)
    return Information(complete, missing, complete - missing)


def gmm_em_map(X, K: int) -> Callable[[np.ndarray], np.ndarray]:
    """One EM step of a K-component mixture on X as a map of the free coordinates: theta -> M(theta)."""
    X = np.asarray(X, dtype=float)
    coordinates = GMMCoordinates(K, X.shape[1])

    def em_map(theta: np.ndarray) -> np.ndarray:
        stats, _ = e_step(X, coordinates.params(theta))
        return coordinates.vector(m_step(stats))

    return em_map
