"""Shared helpers for the tests: peer-library runs from the same start, and random problems."""
import warnings

import numpy as np
import pytest

from emlib import datasets, gmm


def sklearn_gmm(X, params: gmm.GMMParams, n_iter: int, reg_covar: float = 0.0):
    """scikit-learn's GaussianMixture run for exactly n_iter EM iterations from ``params``.

    Returns (objective, model): objective[t] is the TOTAL log-likelihood after t iterations
    (scikit-learn records the per-sample mean in ``lower_bounds_``, evaluated in the E step of
    iteration t + 1, i.e. at the parameters after t iterations), t = 0 .. n_iter - 1.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(
        params.n_components, covariance_type="full", tol=0, max_iter=n_iter, reg_covar=reg_covar,
        weights_init=params.weights, means_init=params.means,
        precisions_init=np.linalg.inv(params.covariances), init_params="random_from_data", random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never "converges", by design
        model.fit(np.asarray(X).reshape(len(X), -1))
    return np.asarray(model.lower_bounds_) * len(X), model


def random_mixture(rng, K: int, D: int, spread: float = 4.0) -> gmm.GMMParams:
    return datasets.random_mixture(K, D, spread=spread, rng=rng)


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)
