"""Data sets of the course: small, real, and shipped with the package (no downloads)."""
from __future__ import annotations

import io
from importlib import resources

import numpy as np

__all__ = ["old_faithful", "genetic_linkage", "random_mixture", "mixture_data"]


def old_faithful() -> np.ndarray:
    """The Old Faithful geyser data: a (272, 2) float64 array, one row per eruption.

    Column 0: eruption duration (minutes); column 1: waiting time to the next eruption (minutes).
    Two clusters (short and long eruptions), the classic first data set for a Gaussian mixture.

    Source: Azzalini, A. and Bowman, A. W. (1990) "A look at some data on the Old Faithful geyser",
    Applied Statistics 39, 357-365; shipped as ``faithful`` in R's datasets package, whose rows and
    order this file keeps.

    Each call returns a new array, so the caller may modify it.
    """
    text = (resources.files("emlib") / "data" / "old_faithful.csv").read_text(encoding="utf-8")
    data = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.float64)
    if data.shape != (272, 2):
        raise RuntimeError(f"emlib/data/old_faithful.csv is damaged: expected 272 rows of 2 columns, got {data.shape}.")
    return data


def genetic_linkage() -> np.ndarray:
    """The genetic linkage counts of Dempster, Laird and Rubin: ``array([125, 18, 20, 34])``.

    197 animals distributed multinomially into four phenotype categories with cell probabilities

        (1/2 + theta/4, (1 - theta)/4, (1 - theta)/4, theta/4),   0 < theta < 1.

    Source: Dempster, A. P., Laird, N. M. and Rubin, D. B. (1977) "Maximum likelihood from incomplete
    data via the EM algorithm", Journal of the Royal Statistical Society B 39(1), 1-38, Section 1
    (data from Rao, C. R. (1965) Linear Statistical Inference and its Applications). Fitted in
    ``emlib.linkage``.
    """
    return np.array([125, 18, 20, 34])


# =====================================================================================================
# Mixture samplers: synthetic data drawn from known mixtures go below this line (added by the lead).
# =====================================================================================================


def random_mixture(K: int, D: int, *, spread: float = 4.0, rng=None):
    """Random Gaussian-mixture parameters (a ``gmm.GMMParams``) for synthetic problems.

    weights ~ Dirichlet(2, ..., 2); means ~ N(0, spread^2 I); covariances A A^T / (D + 2) + 0.05 I with
    A a D x (D + 2) standard normal matrix (a Wishart draw, kept away from singular). A larger ``spread``
    separates the components more.
    """
    from . import gmm

    rng = np.random.default_rng(rng)
    weights = rng.dirichlet(np.full(K, 2.0))
    means = rng.normal(scale=spread, size=(K, D))
    A = rng.normal(size=(K, D, D + 2))
    return gmm.GMMParams(weights, means, A @ A.swapaxes(1, 2) / (D + 2) + 0.05 * np.eye(D))


def mixture_data(n: int, params, *, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """n points drawn from the mixture ``params`` and their true labels: (X (n, D), z (n,))."""
    from . import gmm

    return gmm.sample(params, n, rng)
