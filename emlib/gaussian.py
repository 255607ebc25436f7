"""The Gaussian as an exponential family, and the numerics shared by every Gaussian model.

With y = x - c for a fixed centre c (the data mean: it keeps the one-pass
moment formulas accurate for data far from the origin),

    log N(x | mu, Sigma) = eta(mu, Sigma) . T(y),

    T(y)   = (1, y, vech(y y^T))                                  shape (P,), P = 1 + D + D(D+1)/2
    eta_0  = -D/2 log 2 pi - 1/2 log|Sigma| - 1/2 m^T Lambda m      with m = mu - c, Lambda = Sigma^-1
    eta_y  = Lambda m
    eta_yy = -1/2 Lambda_ii on the diagonal, -Lambda_ij above it (each pair i < j counted once).

So the log-densities of all N points under all K components are one matrix
product T (N, P) @ eta^T (P, K), and the expected sufficient statistics are
another, R^T (K, N) @ T (N, P). That is the whole E step of a Gaussian
mixture, two BLAS calls and a log-sum-exp.

Round-off: eta . T computes -1/2 (y - m)^T Lambda (y - m) from terms of size
about m^T Lambda m. When the centre is far from a component in that
component's own metric (a tight cluster far from the data mean), the
cancellation loses log10(m^T Lambda m) digits; ``far_from_centre`` flags such
components and the models compute them the textbook way, about their own mean.
"""
from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

import numpy as np

from ._validation import data_matrix

#: m^T Lambda m above which a component is computed about its own mean (loses < 4 of 16 digits).
CANCELLATION_LIMIT = 1e4
#: A covariance is singular to working precision when its correlation matrix has an eigenvalue at or below this, or
#: a standard deviation is at or below this times |mean| in that coordinate (``singular``).
SINGULAR_RATIO = 1e3 * np.finfo(float).eps

LOG_2PI = np.log(2 * np.pi)


class Features(NamedTuple):
    """Data prepared for the natural-parameter E step.

    X:      (N, D) the data.
    centre: (D,) the point moments are taken about (the data mean).
    T:      (N, P) sufficient statistics T(x - centre) = (1, y, vech(y y^T)) of every point.
    """

    X: np.ndarray
    centre: np.ndarray
    T: np.ndarray


class CholeskyFactors:
    """Mixin for parameter classes that store the Cholesky factors of their covariances as ``_cholesky``:
    the derived quantities every Gaussian density needs, computed once."""

    @cached_property
    def inverse_cholesky(self) -> np.ndarray:
        """U_k = L_k^-1 with L_k L_k^T = Sigma_k, shape (K, D, D)."""
        return inverse_cholesky(self._cholesky)

    @cached_property
    def log_dets(self) -> np.ndarray:
        """log|Sigma_k|, shape (K,)."""
        return log_det_from_cholesky(self._cholesky)


def vech_indices(D: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the upper triangle (i <= j), the order of vech."""
    return np.triu_indices(D)


def features(X: np.ndarray, centre: np.ndarray | None = None) -> Features:
    """T(x - centre) = (1, y, vech(y y^T)) for every row of X (N, D) -> Features."""
    centre = X.mean(axis=0) if centre is None else centre
    N, D = X.shape
    i, j = vech_indices(D)
    T = np.empty((N, 1 + D + len(i)))
    T[:, 0] = 1.0
    Y = np.subtract(X, centre, out=T[:, 1 : D + 1])
    np.multiply(Y[:, i], Y[:, j], out=T[:, D + 1 :])
    return Features(X, centre, T)


def prepared(data) -> Features:
    """``data`` as Features: an (N, D) array (or (N,), one dimension) is checked and featurised; Features, prepared
    once for many E steps, pass through."""
    return data if isinstance(data, Features) else features(data_matrix(data))


def vech_to_matrix(v: np.ndarray, D: int) -> np.ndarray:
    """(..., D(D+1)/2) upper-triangle vectors -> (..., D, D) symmetric matrices."""
    i, j = vech_indices(D)
    S = np.empty(v.shape[:-1] + (D, D))
    S[..., i, j] = v
    S[..., j, i] = v
    return S


def cholesky(covariances: np.ndarray, name: str = "covariances") -> np.ndarray:
    """Lower Cholesky factors (K, D, D) of covariances (K, D, D); ValueError naming a matrix that is not positive definite."""
    try:
        return np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError:
        for k, S in enumerate(covariances):
            try:
                np.linalg.cholesky(S)
            except np.linalg.LinAlgError:
                smallest = np.linalg.eigvalsh(S)[0]
                raise ValueError(
                    f"{name}[{k}] is not positive definite (smallest eigenvalue {smallest:.3g}): "
                    "a covariance must be symmetric with positive eigenvalues."
                ) from None
        raise


def singular(covariances: np.ndarray, means: np.ndarray | None = None) -> list[tuple[int, str]]:
    """The covariances (K, D, D) that are singular to working precision, as (k, why) pairs, by a test that does not
    depend on the units: it is unchanged when coordinate d of the data (and of the means, and row and column d of
    every covariance) is multiplied by any a_d > 0. Sigma_k is singular when

      * a variance Sigma_k[d, d] is not positive (or not finite);
      * its correlation matrix R_k = S^-1/2 Sigma_k S^-1/2 (S = diag Sigma_k) has an eigenvalue <= SINGULAR_RATIO:
        a direction with no spread relative to the component's own spread along the axes (linearly dependent
        coordinates, or a component on fewer than D + 1 points);
      * (with ``means`` (K, D)) a standard deviation sqrt(Sigma_k[d, d]) <= SINGULAR_RATIO |mu_k[d]|: the points the
        component sits on agree in all but the last few digits of coordinate d (a collapse onto one point).

    Each component is measured against itself, not against the other components or the whole data: columns in
    very different units, or one outlier far from the rest, make nothing singular.
    """
    covariances = np.asarray(covariances, dtype=float)
    D = covariances.shape[-1]
    variances = np.diagonal(covariances, axis1=-2, axis2=-1)
    positive = np.isfinite(variances) & (variances > 0)
    sds = np.sqrt(np.where(positive, variances, 1.0))
    blurred = (sds <= SINGULAR_RATIO * np.abs(means)) if means is not None else np.zeros_like(positive)
    usable = positive.all(axis=1) & np.isfinite(covariances).all(axis=(1, 2))
    standardised = np.where(usable[:, None, None], covariances / sds[:, :, None] / sds[:, None, :], np.eye(D))
    smallest = np.linalg.eigvalsh(standardised)[:, 0]
    found = []
    for k in np.flatnonzero(~positive.all(axis=1) | blurred.any(axis=1) | ~(smallest > SINGULAR_RATIO)):
        if not positive[k].all():
            d = int(np.argmin(positive[k]))
            found.append((int(k), f"its variance in coordinate {d} is {variances[k, d]:.3g}"))
        elif blurred[k].any():
            d = int(np.argmax(blurred[k]))
            found.append((int(k), f"its standard deviation in coordinate {d}, {sds[k, d]:.3g}, is below round-off "
                                  f"of its mean there, {means[k][d]:.10g}"))
        else:
            found.append((int(k), f"its correlation matrix has smallest eigenvalue {smallest[k]:.3g} (at most "
                                  f"{SINGULAR_RATIO:.3g}): no spread in some direction, relative to its spread "
                                  "along the axes"))
    return found


def inverse_cholesky(L: np.ndarray) -> np.ndarray:
    """U = L^-1 (K, D, D) for lower-triangular L, so Lambda = U^T U and |z|^2 = |U (x - mu)|^2 is the Mahalanobis form."""
    D = L.shape[-1]
    return np.linalg.solve(L, np.broadcast_to(np.eye(D), L.shape))


def log_det_from_cholesky(L: np.ndarray) -> np.ndarray:
    """log|Sigma| = 2 sum_i log L_ii, shape (K,)."""
    return 2 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=-1)


def log_density(X: np.ndarray, mean: np.ndarray, U: np.ndarray, log_det: float) -> np.ndarray:
    """The textbook log N(x | mean, Sigma) of each row of X (N, D), with U = L^-1: shape (N,).

    log N = -1/2 (D log 2 pi + log|Sigma| + |U (x - mean)|^2)
    """
    Z = (X - mean) @ U.T
    return -0.5 * (X.shape[1] * LOG_2PI + log_det + np.einsum("nd,nd->n", Z, Z))


def natural_parameters(means: np.ndarray, U: np.ndarray, log_det: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """eta (K, P) of the components N(mu_k, Sigma_k) in the coordinates y = x - centre (see the module docstring)."""
    K, D = means.shape
    i, j = vech_indices(D)
    m = means - centre
    Um = np.einsum("kij,kj->ki", U, m)
    Lam = np.einsum("kji,kjl->kil", U, U)
    eta = np.empty((K, 1 + D + len(i)))
    eta[:, 0] = -0.5 * (D * LOG_2PI + log_det + np.einsum("ki,ki->k", Um, Um))
    eta[:, 1 : D + 1] = np.einsum("kji,kj->ki", U, Um)
    eta[:, D + 1 :] = np.where(i == j, -0.5, -1.0) * Lam[:, i, j]
    return eta


def log_densities(F: Features, means: np.ndarray, U: np.ndarray, log_dets: np.ndarray, out=None) -> np.ndarray:
    """log N(x_n | mu_k, Sigma_k) for every point and component, shape (N, K): T @ eta^T, one matrix product
    (into ``out`` if given).

    Components far from the centre in their own metric (see CANCELLATION_LIMIT) are computed the textbook way.
    """
    log_dens = np.matmul(F.T, natural_parameters(means, U, log_dets, F.centre).T, out=out)
    for k in np.flatnonzero(centre_distance(means, U, F.centre) > CANCELLATION_LIMIT):
        log_dens[:, k] = log_density(F.X, means[k], U[k], log_dets[k])
    return log_dens


def centre_distance(means: np.ndarray, U: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """m^T Lambda m = |U (mu_k - centre)|^2 for each component, shape (K,): the round-off amplifier of eta . T."""
    Um = np.einsum("kij,kj->ki", U, means - centre)
    return np.einsum("ki,ki->k", Um, Um)


def log_normalise(log_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-sum-exp over the last axis, in place: (N, K) log joint -> (posterior (N, K), log normaliser (N,)).

    log sum_k exp(a_k) = a_max + log sum_k exp(a_k - a_max): no term overflows and the largest is exp(0) = 1,
    so the sum never underflows either. ``log_p`` is overwritten with the posterior probabilities.
    """
    top = np.maximum.reduce([log_p[..., k] for k in range(log_p.shape[-1])])[..., None]  # fast for small K
    if not np.all(np.isfinite(top)):
        n = int(np.argmin(np.isfinite(top[..., 0])))
        raise ValueError(
            f"point {n} has zero density under every component (its largest log joint density is "
            f"{top[n, 0]}): the parameters cannot explain the data."
        )
    np.subtract(log_p, top, out=log_p)
    np.exp(log_p, out=log_p)
    total = (log_p @ np.ones(log_p.shape[-1]))[..., None]
    np.divide(log_p, total, out=log_p)
    log_norm = np.log(total[..., 0])
    log_norm += top[..., 0]
    return log_p, log_norm
