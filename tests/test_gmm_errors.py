"""Bad input gets a ValueError that names the problem and what to do; never a silent NaN or a bare LinAlgError."""
import numpy as np
import pytest

from emlib import datasets, gmm

X = datasets.old_faithful()
GOOD = gmm.initial_params(X, 2, rng=0)


def with_(**changes):
    fields = GOOD._asdict()
    fields.update(changes)
    return fields


@pytest.mark.parametrize("data, message", [
    (np.where(np.arange(544).reshape(272, 2) == 33, np.nan, X), r"NaN or infinite.*first \(NaN\) at index \(16, 1\)"),
    (np.where(np.arange(544).reshape(272, 2) == 5, np.inf, X), r"first \(infinite\)"),
    (X[None], r"shape \(N, D\)"),
    (np.empty((0, 2)), "empty"),
    ([["a", "b"]], "array of numbers"),
])
def test_bad_data(data, message):
    with pytest.raises(ValueError, match=message):
        gmm.fit(data, 2)


def test_more_components_than_points():
    with pytest.raises(ValueError, match=r"K = 5 components need at least K data points, but X has only N = 3"):
        gmm.fit(X[:3], 5)
    # evaluating a fitted mixture at fewer points than components is fine
    assert gmm.responsibilities(X[:1], GOOD).shape == (1, 2)


def test_data_and_parameters_of_different_dimensions():
    with pytest.raises(ValueError, match=r"X has D = 1 columns but the parameters are for D = 2"):
        gmm.fit(X[:, :1], GOOD)


@pytest.mark.parametrize("changes, message", [
    ({"weights": [0.6, 0.6]}, r"weights must sum to one, but sums to 1.2: divide by the sum"),
    ({"weights": [1.5, -0.5]}, r"weights must be positive, but the entry at 1 is -0.5"),
    ({"weights": [[0.5, 0.5]]}, r"weights must have shape \(K,\)"),
    ({"means": np.zeros((3, 2))}, r"means must have shape \(K, D\) with K = 2"),
    ({"means": [[0, np.nan], [1, 1]]}, r"means has 1 NaN"),
    ({"covariances": np.ones((2, 2, 2))}, r"covariances\[0\] is not positive definite \(smallest eigenvalue"),
    ({"covariances": [np.eye(2), [[1, 0.5], [0.4, 1]]]}, r"covariances must be symmetric"),
    ({"covariances": np.ones((2, 3, 3))}, r"covariances must have shape \(K, D, D\)"),
])
def test_invalid_parameters(changes, message):
    with pytest.raises(ValueError, match=message):
        gmm.GMMParams(**with_(**changes))


def test_parameters_are_read_only_and_replace_validates():
    with pytest.raises(ValueError, match="read-only"):
        GOOD.means[0, 0] = 1.0
    with pytest.raises(ValueError, match="sum to one"):
        GOOD._replace(weights=np.array([0.2, 0.2]))


def test_a_component_collapsing_onto_one_point_is_named():
    """One isolated point and a component started on it: its variance shrinks to 0, the likelihood to infinity."""
    rng = np.random.default_rng(0)
    data = np.vstack([rng.normal(size=(100, 2)), [[8.0, 8.0]]])
    start = gmm.GMMParams([0.9, 0.1], [[0, 0], [8, 8]], [np.eye(2), 0.5 * np.eye(2)])
    with pytest.raises(ValueError, match=r"at iteration \d+: component 1 has collapsed: its covariance is singular.*"
                                         r"about 1 data points.*set reg_covar.*prior"):
        gmm.fit(data, start, max_iter=100)
    fixed = gmm.fit(data, start, max_iter=100, reg_covar=1e-3)  # what the message recommends works
    assert fixed.converged and np.all(np.isfinite(fixed.objective))
    assert np.linalg.eigvalsh(fixed.params.covariances[1]).min() >= 1e-3


def test_a_component_that_loses_all_responsibility_is_named():
    start = gmm.GMMParams([0.5, 0.5], [X.mean(axis=0), [500.0, 500.0]], [np.cov(X.T), np.eye(2)])
    with pytest.raises(ValueError, match=r"at iteration 1: component 1 has lost all its responsibility \(N_1 = 0 points\)"):
        gmm.fit(X, start)


def test_initialisation_errors():
    with pytest.raises(ValueError, match="fewer than K = 3 distinct points"):
        gmm.fit(np.repeat([[0.0, 1.0], [2.0, 3.0]], 10, axis=0), 3)
    with pytest.raises(ValueError, match="no spread in some direction"):
        gmm.fit(np.column_stack([X[:, 0], np.ones(len(X))]), 2)
    with pytest.raises(ValueError, match=r"K must be a whole number >= 1 \(the number of components\), got 0"):
        gmm.fit(X, 0)
    with pytest.raises(ValueError, match="reg_covar must be"):
        gmm.fit(X, 2, reg_covar=-1.0)


def test_no_nan_from_extreme_but_valid_input():
    """Points far in the tails of every component: log-space responsibilities still sum to one."""
    far = np.vstack([X, [[1e4, -1e4]]])
    R = gmm.responsibilities(far, GOOD)
    assert np.all(np.isfinite(R)) and np.allclose(R.sum(axis=1), 1.0)
    assert np.isfinite(gmm.log_likelihood(far, GOOD))
