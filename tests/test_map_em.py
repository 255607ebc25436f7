"""MAP-EM: the Gaussian mixture with a Dirichlet x normal-inverse-Wishart prior, MAP Baum-Welch, and the genetic
linkage model with a Beta prior.

What is checked, and against what:
* the objective (log-likelihood + log prior density) never decreases, on many seeded problems;
* the MAP M step maximizes Q + log p: a finite perturbation of any parameter lowers Q + log p, both computed here
  with scipy.stats, independently of emlib (and a deliberately wrong step is caught the same way);
* K = 1: MAP-EM lands on the closed-form NIW posterior mode, which a numerical optimizer confirms;
* the prior keeps alive a component that ML-EM lets collapse onto three identical points, with a covariance
  bounded below by S0 / (nu0 + N_k + D + 2);
* the flat prior gives exactly ML-EM;
* MAP Baum-Welch follows hmmlearn's trajectory (its Dirichlet priors on start, transitions and symbols, and its
  normal-inverse-Wishart-like Gaussian update) from the same start;
* MAP for the linkage model converges to the observed-data posterior mode found by a root finder;
* bad priors give ValueErrors that say what is wrong.
scikit-learn's GaussianMixture has no NIW MAP mode, so it is not used as a peer here.
"""
import logging

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.special import gammaln

from emlib import datasets, gmm, hmm, linkage
from conftest import random_mixture

TINY = 1e-10  # the driver's round-off allowance for a decrease, relative


def gmm_problem(seed, K, D, N, spread=2.0):
    rng = np.random.default_rng(seed)
    X, _ = gmm.sample(random_mixture(rng, K, D, spread=spread), N, rng)
    return X, gmm.initial_params(X, K, rng=rng), rng


def strong_prior(X, K, rng, kappa0=2.0):
    """A prior that matters: 2 pseudo-counts per component, kappa0 pseudo-observations at a random point."""
    D = X.shape[1]
    return gmm.Prior(np.full(K, 3.0), X.mean(axis=0) + rng.normal(size=D), kappa0, D + 4.0,
                     0.5 * np.cov(X, rowvar=False).reshape(D, D))


# ----------------------------------------------------------------------------------------------- GMM: the objective

@pytest.mark.parametrize("seed", range(12))
def test_gmm_log_posterior_never_decreases(seed):
    K, D, N = 1 + seed % 4, 1 + seed % 3, 40 + 20 * seed
    X, start, rng = gmm_problem(seed, K, D, N)
    for prior in (gmm.Prior.default(X, K), strong_prior(X, K, rng), strong_prior(X, K, rng, kappa0=0.0)):
        result = gmm.fit(X, start, max_iter=40, tol=0, prior=prior)
        gains = np.diff(result.objective)
        assert gains.min() >= -TINY * np.abs(result.objective).max()
        # the objective is the log-posterior at the final parameters
        expected = gmm.log_likelihood(X, result.params) + gmm.log_prior(result.params, prior)
        assert result.objective[-1] == pytest.approx(expected, rel=1e-12)


def scipy_log_prior(params, prior):
    """log Dir(w | alpha) + sum_k [log IW(Sigma_k | S0, nu0) + log N(mu_k | m0, Sigma_k / kappa0)] with scipy.stats;
    no normal term for kappa0 = 0."""
    value = stats.dirichlet.logpdf(params.weights, prior.alpha) if len(prior.alpha) > 1 else 0.0
    for mu, Sigma in zip(params.means, params.covariances):
        value += stats.invwishart.logpdf(Sigma, df=prior.nu0, scale=prior.S0)
        if prior.kappa0 > 0:
            value += stats.multivariate_normal.logpdf(mu, prior.m0, Sigma / prior.kappa0)
    return value


def test_log_prior_is_the_normalised_density():
    X, start, rng = gmm_problem(5, 3, 2, 100)
    params = gmm.fit(X, start, max_iter=5, tol=0).params
    for prior in (gmm.Prior.default(X, 3), strong_prior(X, 3, rng), strong_prior(X, 3, rng, kappa0=0.0)):
        assert gmm.log_prior(params, prior) == pytest.approx(scipy_log_prior(params, prior), rel=1e-12)
    # the flat prior: only the uniform Dirichlet's density (K - 1)! = 2 on the simplex
    assert gmm.log_prior(params, gmm.Prior.flat(2, 3)) == pytest.approx(np.log(2.0), rel=1e-14)


# ----------------------------------------------------------------------------------------------- GMM: the M step

def q_plus_log_prior(X, resp, params, prior):
    """sum_n sum_k r_nk [log w_k + log N(x_n | mu_k, Sigma_k)] + log p(params), from scipy.stats."""
    q = sum(resp[:, k] @ (np.log(params.weights[k]) + stats.multivariate_normal.logpdf(X, params.means[k],
                                                                                     params.covariances[k]))
            for k in range(params.n_components))
    return q + scipy_log_prior(params, prior)


def perturbations(params, eps=1e-3):
    """Each parameter moved a little either way: weights along e_i - e_j, every mean coordinate, every covariance
    entry (symmetrically); step eps times the parameter's scale."""
    K, D = params.means.shape
    w, mu, Sigma = (np.array(a) for a in params)
    scale = np.sqrt(np.diagonal(Sigma, axis1=1, axis2=2))
    for sign in (1, -1):
        for i in range(K):
            for j in range(i + 1, K):
                v = w.copy()
                v[i] += sign * eps * min(w[i], w[j])
                v[j] -= sign * eps * min(w[i], w[j])
                yield gmm.GMMParams(v, mu, Sigma)
        for k in range(K):
            for d in range(D):
                m = mu.copy()
                m[k, d] += sign * eps * scale[k, d]
                yield gmm.GMMParams(w, m, Sigma)
            for a in range(D):
                for b in range(a, D):
                    S = Sigma.copy()
                    step = sign * eps * scale[k, a] * scale[k, b]
                    S[k, a, b] += step
                    if a != b:
                        S[k, b, a] += step
                    yield gmm.GMMParams(w, mu, S)


@pytest.mark.parametrize("which", ["default", "strong", "strong, kappa0 = 0"])
def test_map_m_step_maximizes_q_plus_log_prior(which):
    # a small sample (N = 40, K = 3) so that the prior is a sizeable part of every component's statistics
    X, start, rng = gmm_problem(11, 3, 2, 40)
    prior = {"default": gmm.Prior.default(X, 3), "strong": strong_prior(X, 3, rng),
             "strong, kappa0 = 0": strong_prior(X, 3, rng, kappa0=0.0)}[which]
    stats_, _ = gmm.e_step(X, start)
    resp = gmm.responsibilities(X, start)
    best = gmm.m_step(stats_, prior=prior)
    top = q_plus_log_prior(X, resp, best, prior)
    moved = [q_plus_log_prior(X, resp, p, prior) for p in perturbations(best)]
    assert len(moved) == 2 * (3 + 3 * (2 + 3))
    assert max(moved) < top, f"a perturbation raised Q + log p by {max(moved) - top:.3g}"

    # the test has teeth: the covariance denominator off by one (D + 2 <-> D + 1) is beaten by a perturbation
    N_k = stats_.counts
    off = 1 if prior.kappa0 > 0 else -1
    ratio = (prior.nu0 + N_k + 3 + (prior.kappa0 > 0)) / (prior.nu0 + N_k + 3 + (prior.kappa0 > 0) + off)
    wrong = best._replace(covariances=best.covariances * ratio[:, None, None])
    wrong_top = q_plus_log_prior(X, resp, wrong, prior)
    assert max(q_plus_log_prior(X, resp, p, prior) for p in perturbations(wrong)) > wrong_top


def niw_posterior_mode(X, prior):
    """The joint mode of the NIW posterior of one Gaussian (Murphy 2012, Sections 4.6.3.3-4.6.3.4):
    kappa_N = kappa0 + N, m_N = (kappa0 m0 + N xbar) / kappa_N, nu_N = nu0 + N,
    S_N = S0 + sum_n (x_n - xbar)(x_n - xbar)^T + kappa0 N / kappa_N (xbar - m0)(xbar - m0)^T,
    mode (m_N, S_N / (nu_N + D + 2)). Two-pass moments."""
    N, D = X.shape
    xbar = X.mean(axis=0)
    kappa_N = prior.kappa0 + N
    e = xbar - prior.m0
    S_N = prior.S0 + (X - xbar).T @ (X - xbar) + prior.kappa0 * N / kappa_N * np.outer(e, e)
    return (prior.kappa0 * prior.m0 + N * xbar) / kappa_N, S_N / (prior.nu0 + N + D + 2)


def numerical_mode(X, prior, start):
    """argmax over (mu, Sigma = L L^T) of log-likelihood + log prior (scipy.stats), by BFGS from ``start``."""
    D = X.shape[1]
    rows, cols = np.tril_indices(D)

    def unpack(z):
        L = np.zeros((D, D))
        L[rows, cols] = z[D:]
        L[np.diag_indices(D)] = np.exp(np.diag(L))
        return z[:D], L @ L.T

    def minus_log_posterior(z):
        mu, Sigma = unpack(z)
        return -q_plus_log_prior(X, np.ones((len(X), 1)), gmm.GMMParams([1.0], [mu], [Sigma]), prior)

    L0 = np.linalg.cholesky(start[1])
    L0[np.diag_indices(D)] = np.log(np.diag(L0))
    z = optimize.minimize(minus_log_posterior, np.concatenate([start[0], L0[rows, cols]]), method="BFGS",
                          options={"gtol": 1e-9}).x
    return unpack(z)


def test_one_component_reaches_the_closed_form_niw_mode_in_one_step():
    """K = 1: every responsibility is 1, so one MAP M step is the whole MAP estimate."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 2)) @ np.array([[1.0, 0.4], [0.0, 0.7]]) + [3.0, -1.0]
    prior = gmm.Prior([1.0], [0.0, 0.0], 4.0, 5.0, np.array([[2.0, 0.3], [0.3, 1.0]]))
    start = gmm.GMMParams([1.0], [[0.0, 0.0]], [np.eye(2)])
    result = gmm.fit(X, start, max_iter=3, tol=0, prior=prior)
    mean, covariance = niw_posterior_mode(X, prior)
    np.testing.assert_allclose(result.params.means[0], mean, rtol=1e-12)
    np.testing.assert_allclose(result.params.covariances[0], covariance, rtol=1e-12)
    assert result.objective[1] == result.objective[2] == result.objective[3] > result.objective[0]
    # and that closed form is the maximizer of the log-posterior, found numerically
    mu, Sigma = numerical_mode(X, prior, (mean + 0.1, 1.2 * covariance))
    np.testing.assert_allclose(mu, mean, rtol=1e-5)
    np.testing.assert_allclose(Sigma, covariance, rtol=1e-5)

    # kappa0 = 0: a flat prior on the mean, no normal factor, so the denominator is nu0 + N + D + 1
    flat_mean = prior._replace(kappa0=0.0)
    result = gmm.fit(X, start, max_iter=1, tol=0, prior=flat_mean)
    W = (X - X.mean(axis=0)).T @ (X - X.mean(axis=0))
    np.testing.assert_allclose(result.params.means[0], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(result.params.covariances[0], (prior.S0 + W) / (prior.nu0 + 30 + 2 + 1), rtol=1e-12)
    mu, Sigma = numerical_mode(X, flat_mean, (X.mean(axis=0) + 0.1, np.eye(2)))
    np.testing.assert_allclose(Sigma, result.params.covariances[0], rtol=1e-5)


# ----------------------------------------------------------------------------------------------- GMM: collapse

def collapsing_problem():
    """200 points from N(0, I) and 3 identical points at (6, 6), with a component started on the three."""
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(200, 2)), np.full((3, 2), 6.0)])
    start = gmm.GMMParams([0.9, 0.1], [[0.0, 0.0], [6.0, 6.0]], [np.eye(2), 0.5 * np.eye(2)])
    return X, start


def test_prior_keeps_alive_a_component_that_ml_lets_collapse():
    X, start = collapsing_problem()
    with pytest.raises(ValueError, match=r"at iteration \d+: component 1 has collapsed"):
        gmm.fit(X, start, max_iter=100, tol=0)

    prior = gmm.Prior.default(X, 2)
    N, D = X.shape
    # Sigma_k = (S0 + B_k) / (nu0 + N_k + D + 2) with B_k positive semi-definite, so
    # lambda_min(Sigma_k) >= lambda_min(S0) / (nu0 + N_k + D + 2) >= lambda_min(S0) / (nu0 + N + D + 2).
    floor = np.linalg.eigvalsh(prior.S0)[0]
    params = start
    for t in range(60):
        stats_, _ = gmm.e_step(X, params)
        params = gmm.m_step(stats_, prior=prior)
        smallest = np.linalg.eigvalsh(params.covariances)[:, 0]
        assert np.all(smallest >= floor / (prior.nu0 + stats_.counts + D + 2) * (1 - 1e-12))
        assert np.all(smallest >= floor / (prior.nu0 + N + D + 2))
    # the component lives on, on the three points, and its bound is nearly attained: N_k = 3, B_k is kappa0's
    # small scatter
    assert stats_.counts[1] == pytest.approx(3.0, rel=1e-6)
    np.testing.assert_allclose(params.means[1], 6.0, rtol=1e-2)
    assert smallest[1] == pytest.approx(floor / (prior.nu0 + 3 + D + 2), rel=2e-3)
    result = gmm.fit(X, start, max_iter=60, tol=0, prior=prior)  # and the driver agrees, monotone
    np.testing.assert_allclose(result.params.covariances, params.covariances, rtol=1e-12)


# ----------------------------------------------------------------------------------------------- GMM: flat prior

@pytest.mark.parametrize("name", ["faithful K=2", "D=3 K=4"])
def test_flat_prior_is_ml(name):
    if name == "faithful K=2":
        X = datasets.old_faithful()
        start = gmm.initial_params(X, 2, rng=0)
    else:
        X, start, _ = gmm_problem(4, 4, 3, 600)
    K, D = start.n_components, start.dim
    ml = gmm.fit(X, start, max_iter=25, tol=0)
    flat = gmm.fit(X, start, max_iter=25, tol=0, prior=gmm.Prior.flat(D, K))
    assert np.ptp(ml.objective) > 1.0  # EM moved
    # the flat prior's density is the uniform Dirichlet's (K - 1)! on the simplex, a constant
    np.testing.assert_allclose(flat.objective - gammaln(K), ml.objective, rtol=1e-12, atol=0)
    for a, b in zip(flat.params, ml.params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())


# ----------------------------------------------------------------------------------------------- HMM

def categorical_problem(seed):
    rng = np.random.default_rng(seed)
    K, M = 3, 4
    true = hmm.HMMParams(rng.dirichlet(np.ones(K)), rng.dirichlet(2 * np.ones(K), size=K),
                         hmm.Categorical(rng.dirichlet(np.ones(M), size=K)))
    sequences = [hmm.sample(true, T, rng)[0] for T in (60, 80, 45)]
    init = hmm.HMMParams(rng.dirichlet(3 * np.ones(K)), rng.dirichlet(3 * np.ones(K), size=K),
                         hmm.Categorical(rng.dirichlet(3 * np.ones(M), size=K)))
    prior = hmm.Prior(1 + rng.uniform(0, 3, K), 1 + rng.uniform(0, 3, (K, K)), 1 + rng.uniform(0, 2, (K, M)))
    return sequences, init, prior


def gaussian_problem(seed):
    rng = np.random.default_rng(seed)
    K, D = 3, 2
    true = hmm.HMMParams(rng.dirichlet(np.ones(K)), rng.dirichlet(2 * np.ones(K), size=K),
                         hmm.Gaussian(3 * rng.normal(size=(K, D)), np.broadcast_to(np.eye(D), (K, D, D))))
    sequences = [hmm.sample(true, T, rng)[0] for T in (60, 80, 45)]
    init = hmm.HMMParams(rng.dirichlet(3 * np.ones(K)), rng.dirichlet(3 * np.ones(K), size=K),
                         hmm.Gaussian(true.emission.means + rng.normal(size=(K, D)),
                                      np.broadcast_to(2 * np.eye(D), (K, D, D))))
    niw = gmm.Prior(np.ones(K), rng.normal(size=D), 0.5, D + 3.0, np.array([[0.6, 0.1], [0.1, 0.9]]))
    prior = hmm.Prior(1 + rng.uniform(0, 3, K), 1 + rng.uniform(0, 3, (K, K)), niw)
    return sequences, init, prior


def map_trajectory(sequences, params, prior, n):
    """n MAP Baum-Welch steps by hand: the parameters and log-likelihoods after 0..n iterations."""
    trajectory, log_likelihoods = [params], []
    for _ in range(n):
        stats_, log_p = hmm.e_step(sequences, params)
        log_likelihoods.append(log_p)
        params = hmm.m_step(stats_, prior)
        trajectory.append(params)
    log_likelihoods.append(hmm.log_likelihood(sequences, params))
    return trajectory, np.array(log_likelihoods)


def hmmlearn_map(sequences, init, prior, n):
    """hmmlearn run for n iterations from ``init`` with the same priors.

    hmmlearn's M step (base.py ``_do_mstep``) takes startprob_prior - 1 + counts, transmat_prior - 1 + counts and
    emissionprob_prior - 1 + counts: Dirichlet concentrations, as emlib's. Its GaussianHMM full-covariance update
    (hmm.py ``_do_mstep``) is means = (means_weight means_prior + sum gamma x) / (means_weight + N_k),
    covars = (covars_prior + means_weight (mu - m0)(mu - m0)^T + scatter about mu) / (covars_weight - D + N_k):
    the NIW mode with means_weight = kappa0, means_prior = m0, covars_prior = S0, covars_weight = nu0 + 2 D + 2.
    ``monitor_.history`` holds the log-likelihood before each M step (``_compute_lower_bound`` returns it for
    maximum-likelihood HMMs: no log prior), i.e. at the parameters after 0..n-1 iterations.
    """
    from hmmlearn import hmm as peer

    lengths = [len(x) for x in sequences]
    X = np.concatenate(sequences)
    common = dict(startprob_prior=prior.start, transmat_prior=prior.transition, n_iter=n, tol=-np.inf,
                  init_params="")
    if isinstance(init.emission, hmm.Categorical):
        model = peer.CategoricalHMM(init.n_states, emissionprob_prior=prior.emission, params="ste",
                                    n_features=init.emission.probs.shape[1], **common)
        model.emissionprob_ = np.array(init.emission.probs)
        X = X[:, None]
    else:
        niw, D = prior.emission, init.emission.means.shape[1]
        model = peer.GaussianHMM(init.n_states, covariance_type="full", means_prior=niw.m0, means_weight=niw.kappa0,
                                 covars_prior=niw.S0, covars_weight=niw.nu0 + 2 * D + 2, params="stmc", **common)
        model.means_, model.covars_ = np.array(init.emission.means), np.array(init.emission.covariances)
    model.startprob_, model.transmat_ = np.array(init.start), np.array(init.transition)
    logging.getLogger("hmmlearn").setLevel(logging.ERROR)
    model.fit(X, lengths)
    return model, np.array(model.monitor_.history)


@pytest.mark.parametrize("problem", [categorical_problem, gaussian_problem])
def test_map_baum_welch_follows_hmmlearn(problem):
    n = 15
    sequences, init, prior = problem(0)
    result = hmm.fit(sequences, init, max_iter=n, tol=0, prior=prior)
    trajectory, log_likelihoods = map_trajectory(sequences, init, prior, n)
    model, history = hmmlearn_map(sequences, init, prior, n)
    assert len(history) == n and np.ptp(history) > 1.0  # Baum-Welch moved
    # emlib's objective is the log-likelihood plus the log prior; hmmlearn's history the log-likelihood
    log_priors = np.array([hmm.log_prior(p, prior) for p in trajectory])
    np.testing.assert_allclose(result.objective, log_likelihoods + log_priors, rtol=1e-12)
    np.testing.assert_allclose(log_likelihoods[:n], history, rtol=1e-10)
    assert np.diff(result.objective).min() >= -TINY * np.abs(result.objective).max()
    start, transition, emission = result.params
    np.testing.assert_allclose(start, model.startprob_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(transition, model.transmat_, rtol=1e-8, atol=1e-12)
    if isinstance(emission, hmm.Categorical):
        np.testing.assert_allclose(emission.probs, model.emissionprob_, rtol=1e-8, atol=1e-12)
    else:
        np.testing.assert_allclose(emission.means, model.means_, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(emission.covariances, model.covars_, rtol=1e-8, atol=1e-12)
    # the prior moved the answer: ML Baum-Welch from the same start ends elsewhere
    ml = hmm.fit(sequences, init, max_iter=n, tol=0)
    assert np.abs(ml.params.transition - transition).max() > 1e-3


@pytest.mark.parametrize("seed", range(6))
def test_map_baum_welch_log_posterior_never_decreases(seed):
    sequences, init, prior = (categorical_problem if seed % 2 else gaussian_problem)(100 + seed)
    result = hmm.fit(sequences, init, max_iter=30, tol=0, prior=prior)
    assert np.diff(result.objective).min() >= -TINY * np.abs(result.objective).max()


def test_hmm_log_prior_is_the_normalised_density():
    sequences, init, prior = categorical_problem(1)
    expected = (stats.dirichlet.logpdf(init.start, prior.start)
                + sum(stats.dirichlet.logpdf(a, c) for a, c in zip(init.transition, prior.transition))
                + sum(stats.dirichlet.logpdf(b, c) for b, c in zip(init.emission.probs, prior.emission)))
    assert hmm.log_prior(init, prior) == pytest.approx(expected, rel=1e-12)
    sequences, init, prior = gaussian_problem(1)
    niw = prior.emission
    expected = (stats.dirichlet.logpdf(init.start, prior.start)
                + sum(stats.dirichlet.logpdf(a, c) for a, c in zip(init.transition, prior.transition))
                + sum(stats.invwishart.logpdf(S, df=niw.nu0, scale=niw.S0)
                      + stats.multivariate_normal.logpdf(m, niw.m0, S / niw.kappa0)
                      for m, S in zip(init.emission.means, init.emission.covariances)))
    assert hmm.log_prior(init, prior) == pytest.approx(expected, rel=1e-12)


def test_pseudo_counts_keep_an_unvisited_state_estimable():
    """State 2 is never reached (zero start and transition probability into it): ML has no row for it, MAP has."""
    init = hmm.HMMParams([0.5, 0.5, 0.0], [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]],
                         hmm.Categorical([[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]]))
    x = np.random.default_rng(0).integers(0, 2, 50)
    with pytest.raises(ValueError, match="state 2 has no expected transitions out of it"):
        hmm.fit(x, init, max_iter=5, tol=0)
    pseudo = np.ones((3, 3))
    pseudo[2, 2] = 2.0  # one pseudo-transition 2 -> 2
    symbols = np.ones((3, 2))
    symbols[2] = 2.0  # one pseudo-emission of each symbol from state 2
    prior = hmm.Prior(np.ones(3), pseudo, symbols)
    result = hmm.fit(x, init, max_iter=5, tol=0, prior=prior)
    np.testing.assert_allclose(result.params.transition[2], [0, 0, 1])
    np.testing.assert_allclose(result.params.emission.probs[2], [0.5, 0.5])
    assert result.params.start[2] == 0


# ----------------------------------------------------------------------------------------------- linkage

def posterior_mode(counts, a, b):
    """The observed-data posterior mode: the root in (0, 1) of score(t) + (a - 1)/t - (b - 1)/(1 - t)."""
    def derivative(t):
        return linkage.score(counts, t) + (a - 1) / t - (b - 1) / (1 - t)
    return optimize.brentq(derivative, 1e-9, 1 - 1e-9, xtol=1e-15, rtol=4 * np.finfo(float).eps)


@pytest.mark.parametrize("a, b", [(1, 1), (2, 2), (5, 20), (30, 1), (1.5, 7)])
def test_linkage_map_em_converges_to_the_posterior_mode(a, b):
    counts = datasets.genetic_linkage()
    result = linkage.fit(counts, 0.5, max_iter=200, tol=0, prior=(a, b))
    assert result.params == pytest.approx(posterior_mode(counts, a, b), abs=1e-12)
    assert np.diff(result.objective).min() >= -TINY * np.abs(result.objective).max()
    expected = linkage.log_likelihood(counts, result.params) + stats.beta.logpdf(result.params, a, b)
    assert result.objective[-1] == pytest.approx(expected, rel=1e-12)
    if (a, b) == (1, 1):
        assert result.params == pytest.approx(linkage.mle(counts), abs=1e-12)
    else:
        assert abs(result.params - linkage.mle(counts)) > 1e-3  # the prior moved the estimate


def test_linkage_map_step_is_the_complete_data_posterior_mode():
    """theta' = (x2 + y4 + a - 1) / (x2 + y2 + y3 + y4 + a + b - 2), checked against the Beta posterior's mode
    found by maximizing Q + log prior numerically."""
    counts, a, b = datasets.genetic_linkage(), 3.0, 4.0
    stats_, _ = linkage.e_step(counts, 0.4)
    step = linkage.m_step(stats_, prior=(a, b))
    objective = lambda t: -(stats_.theta_count * np.log(t) + stats_.one_minus_theta_count * np.log1p(-t)
                            + stats.beta.logpdf(t, a, b))
    found = optimize.minimize_scalar(objective, bounds=(1e-6, 1 - 1e-6), method="bounded", options={"xatol": 1e-12}).x
    assert step == pytest.approx(found, abs=1e-8)


# ----------------------------------------------------------------------------------------------- bad input

X2 = datasets.old_faithful()
GOOD = dict(alpha=[1.0, 2.0], m0=[3.0, 70.0], kappa0=0.01, nu0=4.0, S0=[[0.4, 4.0], [4.0, 60.0]])


@pytest.mark.parametrize("changes, message", [
    ({"alpha": [1.0, -2.0]}, r"alpha must be >= 1 .* alpha\[1\] = -2"),
    ({"alpha": [0.5, 1.0]}, r"alpha must be >= 1 .* alpha\[0\] = 0.5"),
    ({"alpha": [[1.0, 1.0]]}, r"alpha .* must have shape \(K,\)"),
    ({"alpha": [1.0, np.nan]}, r"alpha has 1 NaN"),
    ({"m0": [3.0]}, r"S0 must have shape \(D, D\) = \(1, 1\)"),
    ({"m0": [[3.0, 70.0]]}, r"m0 .* must have shape \(D,\)"),
    ({"kappa0": -1.0}, r"kappa0 .* must be >= 0, got -1"),
    ({"kappa0": [1.0]}, r"kappa0 must be a single number"),
    ({"nu0": 1.0}, r"nu0 .* must be > D - 1 = 1, got 1"),
    ({"S0": [[1.0, 2.0], [2.0, 1.0]]}, r"S0 .* must be positive definite, but its smallest eigenvalue is -1"),
    ({"S0": [[1.0, 0.5], [0.0, 1.0]]}, r"S0 .* must be symmetric"),
    ({"S0": np.eye(3)}, r"S0 must have shape \(D, D\) = \(2, 2\)"),
])
def test_bad_gmm_prior(changes, message):
    with pytest.raises(ValueError, match=message):
        gmm.Prior(**{**GOOD, **changes})


def test_gmm_prior_that_does_not_fit_the_model():
    prior = gmm.Prior(**GOOD)
    with pytest.raises(ValueError, match=r"the prior is for K = 2 components .* but the model has K = 3"):
        gmm.fit(X2, 3, prior=prior, rng=0)
    with pytest.raises(ValueError, match=r"the prior is for D = 2 dimensions .* but the data have D = 1"):
        gmm.fit(X2[:, :1], 2, prior=prior, rng=0)
    with pytest.raises(ValueError, match="pass either reg_covar or a prior, not both"):
        gmm.fit(X2, 2, prior=prior, reg_covar=1e-6, rng=0)
    with pytest.raises(TypeError, match=r"prior must be a gmm.Prior"):
        gmm.fit(X2, 2, prior=(1.0, 1.0), rng=0)


@pytest.mark.parametrize("arguments, message", [
    (([1.0, -1.0], np.ones((2, 2))), r"start concentrations must be >= 1 .* the entry at 1 is -1"),
    (([1.0, 1.0], [[1.0, 1.0], [0.5, 1.0]]), r"transition concentrations must be >= 1 .* \(1, 0\) is 0.5"),
    (([1.0, 1.0], np.ones((2, 3))), r"transition concentrations must have shape \(K, K\) = \(2, 2\)"),
    (([1.0, 1.0], np.ones((2, 2)), np.ones((3, 4))), r"emission concentrations must have shape \(K, M\) with K = 2"),
    (([1.0, 1.0], np.ones((2, 2)), gmm.Prior(**GOOD)), r"emission gmm.Prior must have alpha = 1"),
])
def test_bad_hmm_prior(arguments, message):
    with pytest.raises(ValueError, match=message):
        hmm.Prior(*arguments)


def test_hmm_prior_that_does_not_fit_the_model():
    sequences, init, prior = categorical_problem(2)
    with pytest.raises(ValueError, match=r"the emission prior is for M = 5 symbols but the model has M = 4"):
        hmm.fit(sequences, init, prior=prior._replace(emission=np.ones((3, 5))))
    with pytest.raises(ValueError, match=r"the emissions are Categorical: their prior is a \(K, M\) array"):
        hmm.fit(sequences, init, prior=prior._replace(emission=gmm.Prior.flat(2, 3)))
    # a zero probability where the prior puts pseudo-counts: the log-posterior would be -inf
    zero = init._replace(transition=np.array([[1.0, 0.0, 0.0], *init.transition[1:]]))
    with pytest.raises(ValueError, match="the transition prior density is zero at these parameters"):
        hmm.fit(sequences, zero, prior=prior)


@pytest.mark.parametrize("prior, message", [
    ((0.5, 1.0), r"must be finite and >= 1 .* got \(0.5, 1\)"),
    ((-1.0, 2.0), r"must be finite and >= 1"),
    ((1.0, np.inf), r"must be finite and >= 1"),
    ("ab", r"prior must be a pair \(a, b\)"),
    ((1.0, 2.0, 3.0), r"prior must be a pair \(a, b\)"),
])
def test_bad_linkage_prior(prior, message):
    with pytest.raises(ValueError, match=message):
        linkage.fit(datasets.genetic_linkage(), prior=prior)


def test_replace_validates_the_prior():
    with pytest.raises(ValueError, match=r"kappa0 .* must be >= 0"):
        gmm.Prior(**GOOD)._replace(kappa0=-1.0)
    with pytest.raises(ValueError, match=r"transition concentrations must be >= 1"):
        hmm.Prior(np.ones(2), np.ones((2, 2)))._replace(transition=np.zeros((2, 2)))
