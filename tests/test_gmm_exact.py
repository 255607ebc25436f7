"""emlib's Gaussian-mixture EM is exact: it follows scikit-learn's trajectory from the same start.

scikit-learn's GaussianMixture is the peer: same start (weights_init, means_init, precisions_init), same
reg_covar, tol=0. Its ``lower_bounds_`` are per-sample means, so they are multiplied by N.
"""
import numpy as np
import pytest

from emlib import datasets, gaussian, gmm
from conftest import random_mixture, sklearn_gmm

N_ITER = 25
RTOL = 1e-10


def problem(name):
    rng = np.random.default_rng(sum(map(ord, name)))  # a fixed seed per problem
    if name == "faithful K=2":
        X = datasets.old_faithful()
        return X, gmm.initial_params(X, 2, rng=0), 0.0
    if name == "faithful K=4, reg_covar":
        X = datasets.old_faithful()
        return X, gmm.initial_params(X, 4, rng=1), 1e-3
    K, D, N = {"D=1 K=3": (3, 1, 400), "D=3 K=4": (4, 3, 1000), "D=5 K=3": (3, 5, 2000)}[name]
    X, _ = gmm.sample(random_mixture(rng, K, D, spread=2.0), N, rng)  # overlapping: EM moves for many iterations
    return X, gmm.initial_params(X, K, rng=rng), 0.0


@pytest.mark.parametrize("name", ["faithful K=2", "faithful K=4, reg_covar", "D=1 K=3", "D=3 K=4", "D=5 K=3"])
def test_objective_trajectory_equals_sklearn(name):
    X, start, reg_covar = problem(name)
    result = gmm.fit(X, start, max_iter=N_ITER, tol=0, reg_covar=reg_covar)
    reference, model = sklearn_gmm(X, start, N_ITER, reg_covar)
    assert result.n_iter == N_ITER and len(result.objective) == N_ITER + 1
    assert np.ptp(reference) > 1e-3 * abs(reference[-1]) or name.startswith("faithful K=2")  # EM really moved
    np.testing.assert_allclose(result.objective[:N_ITER], reference, rtol=RTOL, atol=0)
    # and the parameters after N_ITER iterations
    np.testing.assert_allclose(result.params.weights, model.weights_, rtol=1e-8)
    np.testing.assert_allclose(result.params.means, model.means_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(result.params.covariances, model.covariances_, rtol=1e-8, atol=1e-12)


def test_exact_far_from_the_origin():
    """Data offset by 1e6: emlib on X + 1e6 equals scikit-learn on the same problem moved back to the origin.

    The likelihood is translation invariant, and (X + 1e6) - 1e6 is computed exactly (Sterbenz's lemma), so the
    two problems are the same to the bit; the one-pass moments about a far origin would lose about 12 digits.
    """
    offset = 1e6
    X, start, _ = problem("faithful K=2")
    far_X = X + offset
    far_start = gmm.GMMParams(start.weights, start.means + offset, start.covariances)
    near_X = far_X - offset
    near_start = gmm.GMMParams(start.weights, far_start.means - offset, start.covariances)
    result = gmm.fit(far_X, far_start, max_iter=N_ITER, tol=0)
    reference, model = sklearn_gmm(near_X, near_start, N_ITER)
    np.testing.assert_allclose(result.objective[:N_ITER], reference, rtol=RTOL, atol=0)
    np.testing.assert_allclose(result.params.means - offset, model.means_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.params.covariances, model.covariances_, rtol=1e-7)


def tight_far_cluster(rng):
    """A cluster of standard deviation 1e-3 at distance 1e3 from the others: 1e12 in that cluster's own metric."""
    X = np.vstack([rng.normal(size=(500, 3)), 1e3 + 1e-3 * rng.normal(size=(300, 3)), 5 + rng.normal(size=(200, 3))])
    start = gmm.GMMParams([0.4, 0.3, 0.3], [[0.5, 0, 0], [1e3 + 1e-3] * 3, [4, 4, 4]],
                          [np.eye(3), 1e-4 * np.eye(3), np.eye(3)])
    return X, start


def test_exact_for_a_tight_cluster_far_from_the_data_mean(rng):
    X, start = tight_far_cluster(rng)
    result = gmm.fit(X, start, max_iter=N_ITER, tol=0)
    reference, model = sklearn_gmm(X, start, N_ITER)
    np.testing.assert_allclose(result.objective[:N_ITER], reference, rtol=RTOL, atol=0)
    np.testing.assert_allclose(result.params.covariances[1], model.covariances_[1], rtol=1e-7)
    assert np.linalg.eigvalsh(result.params.covariances[1]).max() < 2e-6  # the cluster's variance, not round-off


def textbook_em_step(X, params):
    """One EM step as the formulas read, component by component, with responsibilities from exp/sum."""
    log_joint = np.log(params.weights) + gmm.component_log_densities(X, params)
    log_norm = np.logaddexp.reduce(log_joint, axis=1)
    R = np.exp(log_joint - log_norm[:, None])
    Nk = R.sum(axis=0)
    means = (R.T @ X) / Nk[:, None]
    covariances = np.stack([(R[:, k, None] * (X - means[k])).T @ (X - means[k]) / Nk[k] for k in range(len(Nk))])
    return gmm.GMMParams(Nk / len(X), means, covariances), log_norm.sum()


@pytest.mark.parametrize("case", ["faithful", "tight far cluster"])
def test_fast_e_and_m_step_equal_the_textbook_formulas(case, rng):
    X, start = (datasets.old_faithful(), gmm.initial_params(datasets.old_faithful(), 3, rng=2)) \
        if case == "faithful" else tight_far_cluster(rng)
    params = start
    for _ in range(5):
        expected, expected_ll = textbook_em_step(X, params)
        stats, ll = gmm.e_step(X, params)
        assert ll == pytest.approx(expected_ll, rel=1e-12)
        params = gmm.m_step(stats)
        np.testing.assert_allclose(params.weights, expected.weights, rtol=1e-12)
        np.testing.assert_allclose(params.means, expected.means, rtol=1e-12)
        np.testing.assert_allclose(params.covariances, expected.covariances, rtol=1e-9, atol=1e-15)


def test_log_likelihood_responsibilities_and_natural_parameters_agree(rng):
    params = random_mixture(rng, 4, 3)
    X, _ = gmm.sample(params, 500, rng)
    log_dens = gmm.component_log_densities(X, params)
    # the textbook density against scipy's
    from scipy.stats import multivariate_normal
    np.testing.assert_allclose(log_dens[:, 1], multivariate_normal(params.means[1], params.covariances[1]).logpdf(X),
                               rtol=1e-12)
    log_joint = np.log(params.weights) + log_dens
    assert gmm.log_likelihood(X, params) == pytest.approx(np.logaddexp.reduce(log_joint, axis=1).sum(), rel=1e-13)
    R = gmm.responsibilities(X, params)
    np.testing.assert_allclose(R, np.exp(log_joint - np.logaddexp.reduce(log_joint, axis=1)[:, None]), atol=1e-13)
    # eta . T(x - c) is the log-density
    F = gaussian.features(X)
    eta = gaussian.natural_parameters(params.means, params.inverse_cholesky, params.log_dets, F.centre)
    np.testing.assert_allclose(F.T @ eta.T, log_dens, rtol=1e-11)


def test_statistics_are_additive_across_blocks_with_different_centres(rng):
    """e_step(X) = e_step(X[:300]) + e_step(X[300:]), each block with its own centre (its mean)."""
    params = random_mixture(rng, 3, 2)
    X, _ = gmm.sample(params, 700, rng)
    whole, ll = gmm.e_step(X, params)
    a, ll_a = gmm.e_step(X[:300], params)
    b, ll_b = gmm.e_step(X[300:], params)
    assert not np.allclose(a.centres, b.centres)
    total = a + b
    assert ll_a + ll_b == pytest.approx(ll, rel=1e-13)
    for got, want in [(total.counts, whole.counts), (total.recentred(whole.centres).scatters, whole.scatters)]:
        np.testing.assert_allclose(got, want, rtol=1e-11)
    np.testing.assert_allclose(gmm.m_step(total).covariances, gmm.m_step(whole).covariances, rtol=1e-11)
    np.testing.assert_allclose(gmm.m_step((total - b)).means, gmm.m_step(a).means, rtol=1e-11)
    np.testing.assert_allclose(gmm.m_step(2.0 * whole).covariances, gmm.m_step(whole).covariances, rtol=1e-13)


def test_fit_from_an_int_is_seeded_and_converges():
    X = datasets.old_faithful()
    first, again = gmm.fit(X, 2, rng=7), gmm.fit(X, 2, rng=7)
    assert first.converged and first.n_iter < 200
    np.testing.assert_array_equal(first.objective, again.objective)
    # the well-known two-cluster optimum of Old Faithful, found from the same start by scikit-learn
    reference, model = sklearn_gmm(X, gmm.initial_params(X, 2, rng=7), 200)
    assert first.objective[-1] == pytest.approx(reference[-1], rel=1e-9)
    np.testing.assert_allclose(np.sort(first.params.means[:, 0]), np.sort(model.means_[:, 0]), rtol=1e-5)


def test_sample_draws_from_the_mixture(rng):
    params = random_mixture(rng, 3, 2)
    X, z = gmm.sample(params, 200_000, rng)
    np.testing.assert_allclose(np.bincount(z) / len(z), params.weights, atol=5e-3)
    for k in range(3):
        np.testing.assert_allclose(X[z == k].mean(axis=0), params.means[k], atol=0.05)
        np.testing.assert_allclose(np.cov(X[z == k], rowvar=False), params.covariances[k], atol=0.05)
