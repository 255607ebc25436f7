"""Incremental EM (Neal and Hinton 1999) and online EM (Cappe and Moulines 2009) on the shared drivers.

Every golden number is a closed form derived in a comment or a batch-EM / scikit-learn run in the same test.
"""
import numpy as np
import pytest
from scipy import stats as st

from emlib import datasets, gmm
from emlib.em import EMResult, ObjectiveDecreasedError, run_incremental

from conftest import random_mixture, sklearn_gmm


# ----------------------------------------------------------------------------------------------- the free energy

def test_free_energy_equals_log_likelihood_after_a_full_e_step(rng):
    # F(q, theta) = L(theta) - KL(q || p(z | x, theta)) and the KL is 0 when q is the posterior at theta.
    from sklearn.mixture import GaussianMixture

    X = datasets.old_faithful()
    params = gmm.initial_params(X, 3, rng=1)
    stats, entropy = gmm.e_step_with_entropy(X, params)
    L = gmm.log_likelihood(X, params)
    assert gmm.free_energy(stats, entropy, params) == pytest.approx(L, rel=1e-12, abs=0)
    # the log-likelihood itself, by scikit-learn (score_samples is log p(x_n))
    peer = GaussianMixture(3, covariance_type="full").fit(X[:10])  # any fit; its parameters are replaced below
    peer.weights_, peer.means_, peer.covariances_ = params.weights, params.means, params.covariances
    peer.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(params.covariances))
    assert peer.score_samples(X).sum() == pytest.approx(L, rel=1e-12)
    for K, D in [(1, 1), (2, 3), (4, 2)]:
        truth = random_mixture(rng, K, D)
        X, _ = gmm.sample(truth, 300, rng)
        stats, entropy = gmm.e_step_with_entropy(X, truth)
        assert gmm.free_energy(stats, entropy, truth) == pytest.approx(gmm.log_likelihood(X, truth), rel=1e-12)


def test_free_energy_is_the_log_likelihood_minus_the_kl_of_a_stale_posterior(rng):
    # q from theta_a, evaluated at theta_b: F = sum_nk r_a (log w_bk + log N(x_n | b_k)) - sum r_a log r_a,
    # brute force with scipy's multivariate normal; and F = L(theta_b) - sum_n KL(r_a,n || r_b,n) (scipy.stats.entropy)
    truth = random_mixture(rng, 3, 2)
    X, _ = gmm.sample(truth, 400, rng)
    theta_a, theta_b = random_mixture(rng, 3, 2), truth
    r_a, r_b = gmm.responsibilities(X, theta_a), gmm.responsibilities(X, theta_b)
    log_joint_b = np.stack([np.log(theta_b.weights[k]) + st.multivariate_normal(theta_b.means[k], theta_b.covariances[k]).logpdf(X)
                            for k in range(3)], axis=1)
    brute = (r_a * log_joint_b).sum() + st.entropy(r_a, axis=1).sum()
    stats, entropy = gmm.e_step_with_entropy(X, theta_a)
    F = gmm.free_energy(stats, entropy, theta_b)
    assert entropy == pytest.approx(st.entropy(r_a, axis=1).sum(), rel=1e-12)
    assert F == pytest.approx(brute, rel=1e-11)
    kl = st.entropy(r_a, r_b, axis=1).sum()
    assert kl > 1.0
    assert F == pytest.approx(gmm.log_likelihood(X, theta_b) - kl, rel=1e-11)


# ----------------------------------------------------------------------------------------------- incremental EM

def test_incremental_free_energy_never_decreases_on_many_problems():
    seen = 0
    for seed in range(24):
        rng = np.random.default_rng(seed)
        K, D = int(rng.integers(2, 5)), int(rng.integers(1, 4))
        X, _ = gmm.sample(random_mixture(rng, K, D, spread=2.0), 240, rng)
        n_blocks = [2, 3, 7, 24, 240][seed % 5]
        # the driver's own guard raises ObjectiveDecreasedError on a decrease; the assertion below is stricter
        result = gmm.fit_incremental(X, K, n_blocks, max_passes=12, tol=0, rng=seed, track_log_likelihood=True)
        seen += 1
        F, L = result.objective, result.info["log_likelihood"]
        assert np.all(np.diff(F) >= -1e-12 * np.abs(F[1:]))
        assert F[0] == pytest.approx(L[0], rel=1e-12)             # q is the posterior at init
        assert np.all(F <= L + 1e-10 * np.abs(L))                 # F is a lower bound on L(params)
    assert seen == 24


def test_driver_reports_a_free_energy_decrease():
    # a toy "model" on an integer whose free energy goes 0, 1, 2, 1.5 over passes
    values = [0.0, 1.0, 2.0, 1.5, 3.0]
    with pytest.raises(ObjectiveDecreasedError, match=r"decreased in pass 3, from 2 to 1.5"):
        run_incremental(lambda block, theta: (theta, 0.0), lambda s: s + 1, lambda s, theta: values[theta], 0, [None],
                        max_passes=4, tol=0)


def test_one_block_is_batch_em_exactly(rng):
    for X, K in [(datasets.old_faithful(), 2), (gmm.sample(random_mixture(rng, 3, 3), 500, rng)[0], 3)]:
        start = gmm.initial_params(X, K, rng=0)
        batch = gmm.fit(X, start, max_iter=40, tol=0)
        incremental = gmm.fit_incremental(X, start, 1, max_passes=40, tol=0)
        assert isinstance(incremental, EMResult) and incremental.n_iter == 40
        np.testing.assert_allclose(incremental.objective, batch.objective, rtol=1e-12, atol=0)
        for a, b in zip(incremental.params, batch.params):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_incremental_reaches_the_batch_optimum_on_old_faithful_in_fewer_passes():
    X = datasets.old_faithful()
    start = gmm.initial_params(X, 2, rng=0)
    optimum = gmm.fit(X, start, max_iter=1000, tol=0)      # the batch optimum, from a long run
    best = optimum.objective[-1]
    peer, _ = sklearn_gmm(X, start, 300)                   # scikit-learn, same start: the same optimum
    assert peer[-1] == pytest.approx(best, rel=1e-12)
    # "reaches": the objective is within 1e-8 |L*| (about 1e-5 nats) of the batch optimum
    reached = lambda objective: int(np.argmax(objective >= best - 1e-8 * abs(best)))
    batch_passes = reached(optimum.objective)
    incremental = gmm.fit_incremental(X, start, 10, max_passes=200, tol=0)
    incremental_passes = reached(incremental.objective)
    assert 0 < incremental_passes < batch_passes            # observed: 11 passes against 18
    assert incremental.objective[-1] == pytest.approx(best, rel=1e-12)
    for a, b in zip(incremental.params, optimum.params):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    # the relative-gain stopping rule per pass
    stopped = gmm.fit_incremental(X, start, 10, max_passes=200, tol=1e-10)
    assert stopped.converged and stopped.n_iter < 200
    gains = np.diff(stopped.objective)
    assert gains[-1] < 1e-10 * abs(stopped.objective[-1]) and np.all(gains[:-1] >= 1e-10 * np.abs(stopped.objective[1:-1]))
    assert stopped.info["n_m_steps"] == 10 * stopped.n_iter


@pytest.mark.parametrize("n_blocks", [0, 273, 2.5])
def test_incremental_rejects_a_bad_number_of_blocks(n_blocks):
    with pytest.raises(ValueError, match="n_blocks must be a whole number between 1 and 272"):
        gmm.fit_incremental(datasets.old_faithful(), 2, n_blocks)


# ----------------------------------------------------------------------------------------------- online EM

def test_online_em_one_pass_gets_within_one_percent_per_sample_of_the_batch_optimum():
    truth = datasets.random_mixture(3, 2, spread=4.0, rng=2)
    X, _ = gmm.sample(truth, 200_000, rng=102)
    batch = gmm.fit(X, truth, max_iter=500, tol=1e-12)     # the batch optimum on the same data
    assert batch.converged
    start = gmm.initial_params(X, 3, rng=0)
    online = gmm.fit_online(X, start, batch_size=500, alpha=0.6, n_passes=1)
    assert online.n_iter == 1 and online.info["n_steps"] == 400 and not online.converged
    per_sample_batch, per_sample_online = batch.objective[-1] / len(X), online.objective[-1] / len(X)
    gap = (per_sample_batch - per_sample_online) / abs(per_sample_batch)
    assert 0 <= gap < 0.01                                  # observed: 3e-5
    assert online.objective[-1] == pytest.approx(gmm.log_likelihood(X, online.params), rel=1e-12)
    # with Polyak-Ruppert averaging of the statistics over the second half of the pass
    averaged = gmm.fit_online(X, start, batch_size=500, alpha=0.6, average_after=200)
    assert averaged.info["n_averaged"] == 200
    assert (per_sample_batch - averaged.objective[-1] / len(X)) / abs(per_sample_batch) < 0.01


def test_online_em_with_alpha_one_is_the_running_maximum_likelihood_estimate(rng):
    # K = 1 (no latent variable), alpha = 1, n0 = 0: gamma_n = 1/n, so s_n is the mean of the first n equal-sized
    # mini-batches' per-sample statistics, and params_n the MLE of the points seen: after one pass the sample mean
    # and the biased sample covariance of all of X.
    X, _ = gmm.sample(random_mixture(rng, 1, 3), 10_000, rng)
    result = gmm.fit_online(X, 1, batch_size=100, alpha=1.0, rng=0)
    np.testing.assert_allclose(result.params.means[0], X.mean(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.params.covariances[0], np.cov(X, rowvar=False, bias=True), rtol=1e-10)
    # and its log-likelihood is the Gaussian's maximum, -N/2 (D log 2 pi + log|S| + D)
    N, D = X.shape
    maximum = -N / 2 * (D * np.log(2 * np.pi) + np.linalg.slogdet(np.cov(X, rowvar=False, bias=True))[1] + D)
    assert result.objective[-1] == pytest.approx(maximum, rel=1e-11)


def test_online_em_with_one_batch_takes_a_batch_em_step_first():
    # one mini-batch holding all of X, one pass: s_1 = s(X; init) / N whatever gamma_1, params_1 = M(s_1), the first
    # batch EM iterate (the M step does not change when the statistics are scaled)
    X = datasets.old_faithful()
    start = gmm.initial_params(X, 2, rng=0)
    online = gmm.fit_online(X, start, batch_size=272, n0=5.0)
    batch = gmm.fit(X, start, max_iter=1, tol=0)
    np.testing.assert_allclose(online.objective, batch.objective, rtol=1e-13)
    for a, b in zip(online.params, batch.params):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    (dict(alpha=0.5), "1/2 < alpha <= 1"), (dict(alpha=1.01), "1/2 < alpha <= 1"), (dict(alpha=np.nan), "alpha"),
    (dict(n0=-1.0), "n0 must be a finite number >= 0"), (dict(batch_size=0), "batch_size must be a whole number >= 1"),
    (dict(batch_size=1.5), "batch_size"), (dict(n_passes=0), "n_passes must be a whole number >= 1"),
    (dict(average_after=-1), "average_after must be None or a whole number"),
])
def test_online_em_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gmm.fit_online(datasets.old_faithful(), 2, rng=0, **kwargs)


# ------------------------------------------------------------------ gmm.fit(method=...) dispatches to the variants

def test_fit_method_dispatches_to_the_variants():
    X = datasets.old_faithful()
    start = gmm.initial_params(X, 2, rng=0)
    batch = gmm.fit(X, start, max_iter=30, tol=0)
    one_block = gmm.fit(X, start, max_iter=30, tol=0, method="incremental", n_blocks=1)
    np.testing.assert_allclose(one_block.objective, batch.objective, rtol=1e-12)
    accelerated = gmm.fit(X, start, max_iter=40, tol=0, method="squarem")
    assert accelerated.objective[-1] >= batch.objective[-1] - 1e-9 * abs(batch.objective[-1])
    online = gmm.fit(X, start, method="online", batch_size=50, n_passes=2)
    assert online.n_iter == 2 and len(online.objective) == 3


def test_fit_method_errors():
    X = datasets.old_faithful()
    with pytest.raises(ValueError, match="method must be one of"):
        gmm.fit(X, 2, rng=0, method="stochastic")
    with pytest.raises(ValueError, match="maximum likelihood: use method='batch' with a prior"):
        gmm.fit(X, 2, rng=0, method="incremental", n_blocks=4, prior=gmm.Prior.default(X, 2))
    with pytest.raises(TypeError, match="does not take"):
        gmm.fit(X, 2, rng=0, n_blocks=4)
