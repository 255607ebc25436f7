"""Standard errors after EM (emlib.information): Louis's method, SEM and the observed information computed directly
agree, on the genetic-linkage model and on Gaussian mixtures, and EM's observed rate is the largest eigenvalue of
J = I_c^-1 I_mis. The direct check differentiates a log-likelihood written with scipy, not with emlib."""
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from emlib import datasets, gmm, information, linkage


def scipy_log_likelihood(X, params):
    """sum_n log sum_k w_k N(x_n | mu_k, Sigma_k), from scipy's densities: independent of emlib's E step."""
    densities = [w * multivariate_normal(m, S).pdf(X) for w, m, S in zip(*params)]
    return float(np.log(np.sum(densities, axis=0)).sum())


@pytest.fixture(scope="module")
def faithful():
    X = datasets.old_faithful()
    fit = gmm.fit(X, 2, rng=0, tol=0, max_iter=2000)   # run to the fixed point: J is the Jacobian *at* theta*
    coordinates = information.GMMCoordinates(2, 2)
    theta = coordinates.vector(fit.params)
    direct = information.observed_information(lambda t: scipy_log_likelihood(X, coordinates.params(t)), theta)
    return X, fit.params, coordinates, theta, direct


def assert_information_close(actual, expected, rtol):
    scale = np.abs(expected).max()
    assert np.max(np.abs(actual - expected)) <= rtol * scale, np.max(np.abs(actual - expected)) / scale


def test_louis_equals_the_observed_information_computed_directly(faithful):
    X, params, coordinates, theta, direct = faithful
    louis = information.gmm_information(X, params)
    assert louis.observed.shape == (11, 11) and coordinates.size == 11      # 1 weight, 4 means, 2 x 3 covariances
    assert_information_close(louis.observed, direct, rtol=5e-5)   # a central-difference Hessian: about 1e-5 of its scale
    assert_information_close(louis.observed, louis.complete - louis.missing, rtol=1e-14)
    assert np.all(np.linalg.eigvalsh(louis.missing) >= -1e-9 * np.abs(louis.missing).max())  # a covariance: PSD


def test_louis_holds_away_from_the_maximum_too(faithful):
    """The points are independent, so I_obs = I_c - I_mis at any theta, not only where the score is zero."""
    X, params, coordinates, _, _ = faithful
    elsewhere = gmm.GMMParams([0.4, 0.6], params.means + 0.3, params.covariances * 1.2)
    direct = information.observed_information(lambda t: scipy_log_likelihood(X, coordinates.params(t)),
                                              coordinates.vector(elsewhere))
    assert_information_close(information.gmm_information(X, elsewhere).observed, direct, rtol=5e-5)


def test_sem_gives_the_same_standard_errors_and_J_is_Ic_inverse_Imis(faithful):
    X, params, coordinates, theta, direct = faithful
    louis = information.gmm_information(X, params)
    J = information.em_jacobian(information.gmm_em_map(X, 2), theta)
    np.testing.assert_allclose(J, np.linalg.solve(louis.complete, louis.missing), atol=1e-5)
    sem = np.sqrt(np.diag(information.sem_covariance(J, louis.complete)))
    np.testing.assert_allclose(sem, information.standard_errors(louis.observed), rtol=1e-5)
    np.testing.assert_allclose(information.standard_errors(direct), information.standard_errors(louis.observed),
                               rtol=1e-5)


def test_the_rate_of_convergence_is_the_largest_eigenvalue_of_J(faithful):
    """DLR section 3: ||theta^(t+1) - theta*|| / ||theta^(t) - theta*|| tends to the largest eigenvalue of J."""
    X, params, coordinates, theta, _ = faithful
    em_map = information.gmm_em_map(X, 2)
    rate = information.rate_of_convergence(information.em_jacobian(em_map, theta))
    t = theta + 1e-2 * np.maximum(np.abs(theta), 1) * np.cos(np.arange(len(theta)))   # a start off theta*, all ways
    errors = []
    for _ in range(12):
        t = em_map(t)
        errors.append(np.linalg.norm(t - theta))
    observed = errors[-1] / errors[-2]
    assert 0 < rate < 1
    assert abs(observed - rate) < 1e-3 * rate, (observed, rate)


def test_one_component_has_no_missing_information_and_the_gaussian_fisher_information():
    """K = 1: nothing is missing, I_mis = 0, and I_obs = I_c is the Gaussian's Fisher information in (mu, vech Sigma):
    N Lambda for the mean, N/2 tr(Lambda E_ab Lambda E_cd) for the covariance, 0 between them at the MLE."""
    X = datasets.old_faithful()
    mu, Sigma = X.mean(axis=0), np.cov(X.T, bias=True)
    info = information.gmm_information(X, gmm.GMMParams([1.0], [mu], [Sigma]))
    N, Lam = len(X), np.linalg.inv(Sigma)
    units = [np.outer(np.eye(2)[a], np.eye(2)[b]) + (np.outer(np.eye(2)[b], np.eye(2)[a]) if a != b else 0)
             for a, b in zip(*np.triu_indices(2))]
    fisher_sigma = np.array([[N / 2 * np.trace(Lam @ Ea @ Lam @ Eb) for Eb in units] for Ea in units])
    assert np.abs(info.missing).max() < 1e-9 * np.abs(info.complete).max()
    np.testing.assert_allclose(info.observed[:2, :2], N * Lam, rtol=1e-12)
    np.testing.assert_allclose(info.observed[2:, 2:], fisher_sigma, rtol=1e-10)
    assert np.abs(info.observed[:2, 2:]).max() < 1e-9 * np.abs(info.observed).max()


def test_linkage_sem_and_louis_agree_with_the_closed_forms():
    """One parameter: J = I_mis / I_c is the fraction of missing information (0.1328 for the DLR counts, DLR
    section 3), and the standard error I_obs^-1/2 of theta* = 0.6268 is 0.0515, from the closed-form I_obs."""
    counts = datasets.genetic_linkage()
    theta = linkage.mle(counts)
    em_map = lambda t: np.array([linkage.m_step(linkage.e_step(counts, float(t[0]))[0])])
    J = information.em_jacobian(em_map, [theta])
    np.testing.assert_allclose(J[0, 0], linkage.missing_information_fraction(counts), rtol=1e-8)
    covariance = information.sem_covariance(J, linkage.complete_information(counts, theta))
    np.testing.assert_allclose(np.sqrt(covariance[0, 0]), linkage.observed_information(counts, theta) ** -0.5,
                               rtol=1e-8)
    direct = information.observed_information(lambda t: linkage.log_likelihood(counts, t[0]), [theta])
    np.testing.assert_allclose(direct[0, 0], linkage.observed_information(counts, theta), rtol=1e-6)
    assert round(float(np.sqrt(covariance[0, 0])), 4) == 0.0515


def test_coordinates_round_trip_and_name_each_number():
    coordinates = information.GMMCoordinates(3, 2)
    params = gmm.initial_params(datasets.old_faithful(), 3, rng=1)
    assert np.array_equal(coordinates.vector(coordinates.params(coordinates.vector(params))), coordinates.vector(params))
    assert len(coordinates.names) == coordinates.size == 2 + 6 + 9
    assert coordinates.names[:3] == ["w[0]", "w[1]", "mu[0][0]"] and coordinates.names[-1] == "Sigma[2][1,1]"
    with pytest.raises(ValueError, match=r"are 17 numbers \(K - 1 \+ K D \+ K D \(D \+ 1\) / 2\), got shape \(16,\)"):
        coordinates.params(np.zeros(16))


def test_standard_errors_refuse_a_point_that_is_not_a_maximum():
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite .* not a strict local maximum"):
        information.standard_errors(np.array([[1.0, 0.0], [0.0, -2.0]]))
    np.testing.assert_allclose(information.standard_errors(np.diag([4.0, 100.0])), [0.5, 0.1])
