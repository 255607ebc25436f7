"""emlib.vb, the variational Bayesian Gaussian mixture (Bishop 2006, section 10.2).

Peer: scikit-learn's BayesianGaussianMixture (Dirichlet-distribution prior, full covariances, reg_covar=0, tol=0),
started from the same responsibilities through its ``_initialize(X, resp)`` hook. Golden numbers: the Bishop
10.71-10.77 terms written out here, the Gaussian-Wishart evidence (Murphy 2012, eq. 4.215) derived below, and
scipy's multivariate_t.
"""
import warnings

import numpy as np
import pytest
from scipy.special import digamma, gammaln, multigammaln
from scipy.stats import multivariate_t

from emlib import datasets, gaussian, gmm, vb
from emlib.em import ObjectiveDecreasedError


def sklearn_vb(X, resp, prior: vb.Prior, n_iter: int):
    """scikit-learn's BayesianGaussianMixture after exactly n_iter iterations from the responsibilities ``resp``.

    Its ``_initialize_parameters(X, random_state)`` turns the init_params choice into responsibilities and calls
    ``self._initialize(X, resp)``, the update of q(pi, mu, Lambda): overriding it starts from ours.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    class FromResponsibilities(BayesianGaussianMixture):
        def _initialize_parameters(self, X, random_state, xp=None):
            self._initialize(X, resp)

    model = FromResponsibilities(
        n_components=resp.shape[1], covariance_type="full", weight_concentration_prior_type="dirichlet_distribution",
        weight_concentration_prior=prior.weight_concentration, mean_prior=prior.mean,
        mean_precision_prior=prior.mean_precision, degrees_of_freedom_prior=prior.dof,
        covariance_prior=prior.covariance, reg_covar=0.0, tol=0.0, max_iter=n_iter, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never "converges", by design
        model.fit(X)
    return model


def problem(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    if name.startswith("faithful"):
        X = datasets.old_faithful()
        K = 4
    else:
        K, D, N = {"D=1 K=3": (3, 1, 300), "D=3 K=5": (5, 3, 600)}[name]
        X, _ = gmm.sample(datasets.random_mixture(K, D, spread=2.0, rng=rng), N, rng)
    resp = rng.dirichlet(np.ones(K), size=len(X))
    prior = vb.Prior.default(X, K)
    if name == "faithful, own prior":
        prior = vb.Prior(0.3, [3.0, 70.0], 0.05, 4.5, [[0.5, 2.0], [2.0, 40.0]])
    return X, resp, prior


PROBLEMS = ["faithful", "faithful, own prior", "D=1 K=3", "D=3 K=5"]


def assert_same_posterior(params, model, rtol):
    np.testing.assert_allclose(params.weight_concentration, model.weight_concentration_, rtol=rtol)
    np.testing.assert_allclose(params.mean_precision, model.mean_precision_, rtol=rtol)
    np.testing.assert_allclose(params.dof, model.degrees_of_freedom_, rtol=rtol)
    scale = np.abs(model.means_).max()
    np.testing.assert_allclose(params.means, model.means_, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(params.covariances, model.covariances_, rtol=rtol,
                               atol=rtol * np.abs(model.covariances_).max())
    np.testing.assert_allclose(params.weights, model.weights_, rtol=rtol)


@pytest.mark.parametrize("name", PROBLEMS)
def test_trajectory_and_converged_solution_equal_sklearn(name):
    X, resp, prior = problem(name)
    for n_iter, rtol in [(10, 1e-9), (250, 1e-6)]:
        result = vb.fit(X, resp, prior=prior, max_iter=n_iter, tol=0)
        model = sklearn_vb(X, resp, prior, n_iter)
        assert result.n_iter == n_iter
        assert_same_posterior(result.params, model, rtol)
    # after 250 iterations both have converged (D=1 K=3, where a component dies slowly, needs about 200):
    # the last gain is round-off, and the start was far away
    gains = np.diff(result.objective)
    assert gains[-1] < 1e-12 * abs(result.objective[-1]) and result.objective[-1] - result.objective[0] > 1.0


def dropped_constant(prior: vb.Prior, N: int, K: int) -> float:
    """What scikit-learn's lower bound leaves out of the ELBO, right after the update of q(pi, mu, Lambda).

    There q(pi, mu, Lambda) is optimal for q(Z), and the integral over (pi, mu, Lambda) of exp E_Z[log p(X, Z, ...)]
    is a ratio of conjugate normalisers, so (Bishop 10.70 with 10.58-10.63 substituted)

        L = H[q(Z)] + log C(alpha_0 1_K) - log C(alpha) + sum_k [log B(W_0, nu_0) - log B(W_k, nu_k)]
            + D/2 sum_k log(beta_0 / beta_k) - N D/2 log 2 pi.

    scikit-learn's ``_compute_lower_bound`` returns H[q(Z)] - log C(alpha) - sum_k log B'(W_k, nu_k)
    - D/2 sum_k log beta_k, where its ``_log_wishart_norm`` B' is B without the Gamma_D factor pi^{D(D-1)/4}
    (log B' = log B + D(D-1)/4 log pi). The difference L - lower_bound_ is therefore

        log C(alpha_0 1_K) + K log B(W_0, nu_0) + K D/2 log beta_0 - N D/2 log 2 pi + K D(D-1)/4 log pi:

    the prior's normalisers, the 2 pi of every data point's Gaussian, and the pi of the posterior Wisharts.
    """
    D = prior.dim
    a0, b0, nu0 = prior.weight_concentration, prior.mean_precision, prior.dof
    log_C0 = gammaln(K * a0) - K * gammaln(a0)
    log_det_W0 = -np.linalg.slogdet(prior.covariance)[1]
    log_B0 = -0.5 * nu0 * log_det_W0 - 0.5 * nu0 * D * np.log(2) - multigammaln(0.5 * nu0, D)
    return (log_C0 + K * log_B0 + 0.5 * K * D * np.log(b0) - 0.5 * N * D * np.log(2 * np.pi)
            + 0.25 * K * D * (D - 1) * np.log(np.pi))


@pytest.mark.parametrize("name", PROBLEMS)
def test_elbo_is_sklearns_lower_bound_plus_the_dropped_constant(name):
    X, resp, prior = problem(name)
    N, K = resp.shape
    n_iter = 15
    model = sklearn_vb(X, resp, prior, n_iter)
    result = vb.fit(X, resp, prior=prior, max_iter=n_iter, tol=0)
    # scikit-learn's iteration t: E step (q(Z)), M step (q(pi, mu, Lambda)), then the bound; replay it
    F = gaussian.features(X)
    params = vb.m_step(gmm.gaussian_statistics(F, resp), prior)
    ours = []
    for _ in range(n_iter):
        R = vb.responsibilities(F, params)
        params = vb.m_step(gmm.gaussian_statistics(F, R), prior)
        ours.append(vb.elbo(F, R, params, prior))
    ours, theirs = np.array(ours), np.array(model.lower_bounds_)
    constant = dropped_constant(prior, N, K)
    assert np.ptp(theirs) > 1e-3                                    # the bound really moved
    np.testing.assert_allclose(ours - theirs, constant, rtol=1e-11, atol=1e-9)
    # that point lies between ours before and after the update of q(Z): objective[t-1] <= ours[t-1] <= objective[t]
    assert np.all(result.objective[:-1] <= ours + 1e-9) and np.all(ours <= result.objective[1:] + 1e-9)


# ----------------------------------------------------------------------------------------------- the ELBO itself

def bishop_elbo(X, R, params: vb.VBParams, prior: vb.Prior) -> float:
    """The ELBO as Bishop writes it, 10.70 = sum of 10.71-10.77, component by component with explicit inverses."""
    N, D = X.shape
    K = R.shape[1]
    alpha, beta, m, nu = params.weight_concentration, params.mean_precision, params.means, params.dof
    W = np.linalg.inv(nu[:, None, None] * params.covariances)            # covariances = (nu W)^-1
    W0_inv, a0, b0, m0, nu0 = prior.covariance, prior.weight_concentration, prior.mean_precision, prior.mean, prior.dof

    def log_B(W, nu):  # B.79
        return -0.5 * nu * np.linalg.slogdet(W)[1] - 0.5 * nu * D * np.log(2) - multigammaln(0.5 * nu, D)

    E_log_pi = digamma(alpha) - digamma(alpha.sum())                                          # 10.66
    E_log_det = np.array([digamma(0.5 * (nu[k] + 1 - np.arange(1, D + 1))).sum() + D * np.log(2)
                          + np.linalg.slogdet(W[k])[1] for k in range(K)])                      # 10.65
    Nk = R.sum(axis=0)                                                                          # 10.51
    x_bar = (R.T @ X) / Nk[:, None]                                                             # 10.52
    S = [(R[:, k, None] * (X - x_bar[k])).T @ (X - x_bar[k]) / Nk[k] for k in range(K)]         # 10.53
    e71 = 0.5 * sum(Nk[k] * (E_log_det[k] - D / beta[k] - nu[k] * np.trace(S[k] @ W[k])
                             - nu[k] * (x_bar[k] - m[k]) @ W[k] @ (x_bar[k] - m[k]) - D * np.log(2 * np.pi))
                    for k in range(K))
    e72 = (R * E_log_pi).sum()
    e73 = gammaln(K * a0) - K * gammaln(a0) + (a0 - 1) * E_log_pi.sum()
    e74 = (0.5 * sum(D * np.log(b0 / (2 * np.pi)) + E_log_det[k] - D * b0 / beta[k]
                     - b0 * nu[k] * (m[k] - m0) @ W[k] @ (m[k] - m0) for k in range(K))
           + K * log_B(np.linalg.inv(W0_inv), nu0) + 0.5 * (nu0 - D - 1) * E_log_det.sum()
           - 0.5 * sum(nu[k] * np.trace(W0_inv @ W[k]) for k in range(K)))
    e75 = (R[R > 0] * np.log(R[R > 0])).sum()
    e76 = ((alpha - 1) * E_log_pi).sum() + gammaln(alpha.sum()) - gammaln(alpha).sum()
    entropy = [-log_B(W[k], nu[k]) - 0.5 * (nu[k] - D - 1) * E_log_det[k] + 0.5 * nu[k] * D for k in range(K)]  # B.82
    e77 = sum(0.5 * E_log_det[k] + 0.5 * D * np.log(beta[k] / (2 * np.pi)) - 0.5 * D - entropy[k] for k in range(K))
    return e71 + e72 + e73 + e74 - e75 - e76 - e77


def random_posterior(rng, K, D, centre):
    A = rng.normal(size=(K, D, D + 1))
    return vb.VBParams(rng.uniform(0.2, 50, K), rng.uniform(0.1, 50, K), centre + rng.normal(size=(K, D)),
                       D - 1 + rng.uniform(0.1, 50, K), A @ A.swapaxes(1, 2) / (D + 1) + 0.1 * np.eye(D))


def test_elbo_equals_the_sum_of_bishops_terms(rng):
    """At arbitrary (not optimal) q(Z) and q(pi, mu, Lambda), and the E step's value at the new q(Z)."""
    X, _, prior = problem("D=3 K=5")
    prior = prior._replace(weight_concentration=0.7, mean_precision=2.5, dof=6.0)
    for _ in range(5):
        params = random_posterior(rng, 5, 3, X.mean(axis=0))
        R = rng.dirichlet(np.ones(5), size=len(X))
        assert vb.elbo(X, R, params, prior) == pytest.approx(bishop_elbo(X, R, params, prior), rel=1e-11)
        stats, value = vb.e_step(X, params, prior)
        new_R = vb.responsibilities(X, params)
        assert value == pytest.approx(bishop_elbo(X, new_R, params, prior), rel=1e-11)
        np.testing.assert_allclose(stats.counts, new_R.sum(axis=0), rtol=1e-12)


def test_hundreds_of_random_problems_never_decrease_the_elbo_and_each_update_increases_it():
    """300 seeded problems: random data, K, D, prior, start. run_em raises ObjectiveDecreasedError on a decrease;
    the gains are checked here too. Each update alone: the new q(Z) beats the old and a random one for the same
    q(pi, mu, Lambda); the new q(pi, mu, Lambda) beats the old and a random one for the same q(Z)."""
    rng = np.random.default_rng(2026)
    strict = 0
    for case in range(300):
        D, K = rng.integers(1, 4), rng.integers(1, 6)
        N = int(rng.integers(max(K, 2), 120))
        X, _ = gmm.sample(datasets.random_mixture(K, D, spread=rng.uniform(0.5, 5), rng=rng), N, rng)
        A = rng.normal(size=(D, D + 1))
        prior = vb.Prior(np.exp(rng.uniform(-6, 2)), X.mean(axis=0) + rng.normal(size=D), np.exp(rng.uniform(-4, 2)),
                         D - 1 + np.exp(rng.uniform(-3, 3)), A @ A.T / (D + 1) + 0.05 * np.eye(D))
        resp = rng.dirichlet(np.full(K, 0.5), size=N)
        result = vb.fit(X, resp, prior=prior, max_iter=30, tol=0)
        gains = np.diff(result.objective)
        assert np.all(gains >= -1e-10 * np.abs(result.objective[1:])), (case, gains.min())

        F = gaussian.features(X)
        params = vb.m_step(gmm.gaussian_statistics(F, resp), prior)
        new_R = vb.responsibilities(F, params)
        best = vb.elbo(F, new_R, params, prior)
        for other in (resp, rng.dirichlet(np.ones(K), size=N)):
            assert best >= vb.elbo(F, other, params, prior) - 1e-10 * abs(best), case
        new_params = vb.m_step(gmm.gaussian_statistics(F, new_R), prior)
        best = vb.elbo(F, new_R, new_params, prior)
        for other in (params, random_posterior(rng, K, D, X.mean(axis=0))):
            value = vb.elbo(F, new_R, other, prior)
            assert best >= value - 1e-10 * abs(best), case
            strict += best > value + 1e-6 * abs(best)
    assert strict > 500  # the updates really moved, in almost every case (600 comparisons)


def test_driver_catches_a_wrong_update():
    """The shared driver's guard sees a q(pi, mu, Lambda) update that is not the maximizer (prior dof off by 3)."""
    X, resp, prior = problem("faithful")
    F = gaussian.features(X)
    wrong = prior._replace(dof=prior.dof + 3)
    from emlib.em import run_em
    start = vb.m_step(gmm.gaussian_statistics(F, resp), prior)
    with pytest.raises(ObjectiveDecreasedError, match="decreased at iteration"):
        run_em(lambda p: vb.e_step(F, p, prior), lambda s: vb.m_step(s, wrong), start, max_iter=50, tol=0)


# ----------------------------------------------------------------------------------------------- K = 1: exact

def test_one_component_elbo_equals_the_gaussian_wishart_evidence(rng):
    """With K = 1, z is certain and the mean field q(Z) q(mu, Lambda) is the exact posterior, so the ELBO is the
    log evidence. Integrating mu and Lambda out of the Gaussian-Wishart model (Murphy 2012, eq. 4.215; Bishop's
    normalisers B of B.79):

        p(X) = (2 pi)^{-ND/2} (beta_0/beta_N)^{D/2} B(W_0, nu_0) / B(W_N, nu_N)
             = pi^{-ND/2} Gamma_D(nu_N/2) / Gamma_D(nu_0/2) |W_0^-1|^{nu_0/2} / |W_N^-1|^{nu_N/2} (beta_0/beta_N)^{D/2},

    beta_N = beta_0 + N, nu_N = nu_0 + N, W_N^-1 = W_0^-1 + sum_n (x_n - x_bar)(x_n - x_bar)^T
    + beta_0 N / beta_N (x_bar - m_0)(x_bar - m_0)^T. The 2^{ND/2} of the B ratio cancels against (2 pi)^{-ND/2}.

    Independent check of the same number: the chain rule p(X) = prod_n p(x_n | x_1..x_{n-1}) with the Student-t
    posterior predictive (Murphy eq. 4.214) from scipy, and the same with vb.predictive_log_density.
    """
    N, D = 40, 3
    X = rng.normal(size=(N, D)) @ rng.normal(size=(D, D)) + 5.0
    A = rng.normal(size=(D, D))
    prior = vb.Prior(0.8, [4.0, 5.0, 6.0], 0.3, D + 0.5, A @ A.T + np.eye(D))

    def posterior(Y):
        n = len(Y)
        beta, nu = prior.mean_precision + n, prior.dof + n
        x_bar = Y.mean(axis=0) if n else prior.mean
        m = (prior.mean_precision * prior.mean + n * x_bar) / beta
        W_inv = prior.covariance + (Y - x_bar).T @ (Y - x_bar) + prior.mean_precision * n / beta * np.outer(
            x_bar - prior.mean, x_bar - prior.mean)
        return beta, nu, m, W_inv

    beta_N, nu_N, _, W_N_inv = posterior(X)
    log_evidence = (-0.5 * N * D * np.log(np.pi) + multigammaln(0.5 * nu_N, D) - multigammaln(0.5 * prior.dof, D)
                    + 0.5 * prior.dof * np.linalg.slogdet(prior.covariance)[1] - 0.5 * nu_N * np.linalg.slogdet(W_N_inv)[1]
                    + 0.5 * D * np.log(prior.mean_precision / beta_N))

    chain_scipy, chain_vb = 0.0, 0.0
    for n in range(N):
        beta, nu, m, W_inv = posterior(X[:n])
        df = nu - D + 1
        chain_scipy += multivariate_t(m, (beta + 1) / (beta * df) * W_inv, df=df).logpdf(X[n])
        params = vb.VBParams([prior.weight_concentration + n], [beta], m[None], [nu], (W_inv / nu)[None])
        chain_vb += vb.predictive_log_density(X[n:n + 1], params)[0]
    assert chain_scipy == pytest.approx(log_evidence, rel=1e-12)
    assert chain_vb == pytest.approx(log_evidence, rel=1e-12)

    result = vb.fit(X, np.ones((N, 1)), prior=prior, max_iter=3, tol=0)
    np.testing.assert_allclose(result.objective, log_evidence, rtol=1e-12)
    # and the "VB posterior" is the exact one
    np.testing.assert_allclose(result.params.inverse_scale[0], W_N_inv, rtol=1e-12)


# ----------------------------------------------------------------------------------------------- using the posterior

def test_predictive_density_is_a_mixture_of_student_ts(rng):
    X, resp, prior = problem("D=3 K=5")
    params = vb.fit(X, resp, prior=prior, max_iter=20, tol=0).params
    D = params.dim
    Y = X[:50] + rng.normal(size=(50, 3))
    components = []
    for k in range(params.n_components):   # Bishop 10.81-10.82: St(m_k, L_k, nu_k + 1 - D), L_k^-1 is scipy's shape
        df = params.dof[k] + 1 - D
        L = df * params.mean_precision[k] / (1 + params.mean_precision[k]) * params.precisions[k] / params.dof[k]
        components.append(np.log(params.weights[k]) + multivariate_t(params.means[k], np.linalg.inv(L), df=df).logpdf(Y))
    expected = np.logaddexp.reduce(np.array(components), axis=0)
    np.testing.assert_allclose(vb.predictive_log_density(Y, params), expected, rtol=1e-12)


def test_superfluous_components_are_switched_off():
    """Three well-separated clusters fitted with K = 8 and the default prior (alpha_0 = 1/8): 3 effective components,
    the same as scikit-learn's weights from the same start say."""
    rng = np.random.default_rng(3)
    truth = gmm.GMMParams([0.5, 0.3, 0.2], [[0, 0], [10, 0], [0, 10]], np.broadcast_to(np.eye(2), (3, 2, 2)))
    X, _ = gmm.sample(truth, 600, rng)
    resp = gmm.responsibilities(X, gmm.initial_params(X, 8, rng=0))
    result = vb.fit(X, resp, max_iter=1000, tol=1e-10)
    assert result.converged
    assert vb.effective_components(result.params) == 3
    assert vb.effective_components(result.params, threshold=1e-12) == 8   # none is exactly zero
    model = sklearn_vb(X, resp, vb.Prior.default(X, 8), result.n_iter)
    assert np.sum(model.weights_ >= 0.01) == 3
    np.testing.assert_allclose(np.sort(result.params.weights)[-3:], [0.2, 0.3, 0.5], atol=0.04)


def test_fit_from_an_int_is_seeded():
    X = datasets.old_faithful()
    first, again, other = vb.fit(X, 3, rng=5), vb.fit(X, 3, rng=5), vb.fit(X, 3, rng=6, max_iter=3)
    np.testing.assert_array_equal(first.objective, again.objective)
    assert first.converged and first.params.n_components == 3
    assert not np.array_equal(first.objective[:4], other.objective)


def test_far_from_the_origin():
    """Data offset by 1e6 give the same posterior, moved by 1e6, as the same data moved back to the origin.

    (X + 1e6) - 1e6 is exact (Sterbenz's lemma), so the two problems are the same; one-pass moments about a far
    origin would lose about 12 digits, moments about the data mean lose none.
    """
    X, resp, prior = problem("faithful")
    far_X = X + 1e6
    far_prior = prior._replace(mean=prior.mean + 1e6)
    near = vb.fit(far_X - 1e6, resp, prior=prior._replace(mean=far_prior.mean - 1e6), max_iter=30, tol=0)
    far = vb.fit(far_X, resp, prior=far_prior, max_iter=30, tol=0)
    np.testing.assert_allclose(far.params.means - 1e6, near.params.means, atol=1e-7)
    np.testing.assert_allclose(far.params.covariances, near.params.covariances, rtol=1e-8)
    # a mean near 1e6 is itself stored to 1e6 * eps = 1e-10 only, and 30 iterations amplify that a little
    np.testing.assert_allclose(far.objective, near.objective, rtol=1e-9)


# ----------------------------------------------------------------------------------------------- bad input

FAITHFUL = datasets.old_faithful()
GOOD_RESP = np.full((272, 2), 0.5)


@pytest.mark.parametrize("data, init, message", [
    (np.where(np.arange(544).reshape(272, 2) == 33, np.nan, FAITHFUL), 2, r"X has 1 NaN.*index \(16, 1\)"),
    (FAITHFUL[None], 2, r"X must have shape \(N, D\)"),
    (FAITHFUL, np.full((271, 2), 0.5), r"responsibilities must have shape \(N, K\) = \(272, K\).*got \(271, 2\)"),
    (FAITHFUL, np.full(272, 1.0), r"responsibilities must have shape"),
    (FAITHFUL, np.full((272, 2), 0.6), r"row 0 sums to 1.2: divide each row by its sum"),
    (FAITHFUL, np.where(np.arange(544).reshape(272, 2) == 3, np.nan, GOOD_RESP), r"responsibilities has 1 NaN"),
    (FAITHFUL, np.tile([1.5, -0.5], (272, 1)), r"must be >= 0, but r\[0, 1\] = -0.5"),
    (FAITHFUL[:3], 5, r"K = 5 components need at least K data points, but X has only N = 3"),
    (FAITHFUL[:3], np.full((3, 4), 0.25), r"K = 4 components need at least K data points"),
    (FAITHFUL, 0, r"K must be at least 1"),
])
def test_bad_data_and_start(data, init, message):
    with pytest.raises(ValueError, match=message):
        vb.fit(data, init)


GOOD_PRIOR = dict(weight_concentration=0.5, mean=[3.0, 70.0], mean_precision=1.0, dof=2.0,
                  covariance=[[1.0, 0.0], [0.0, 100.0]])


@pytest.mark.parametrize("changes, message", [
    ({"weight_concentration": 0.0}, r"weight_concentration must be > 0, got 0.0"),
    ({"weight_concentration": [0.5, 0.5]}, r"weight_concentration must be a single number"),
    ({"mean_precision": -1.0}, r"mean_precision must be > 0, got -1.0"),
    ({"mean_precision": np.nan}, r"mean_precision must be > 0, got nan"),
    ({"dof": 1.0}, r"dof must be > D - 1 = 1"),
    ({"mean": [3.0, np.nan]}, r"prior mean has 1 NaN"),
    ({"mean": [[3.0, 70.0]]}, r"prior mean must have shape \(D,\)"),
    ({"covariance": np.eye(3)}, r"prior covariance must have shape \(D, D\) = \(2, 2\)"),
    ({"covariance": [[1.0, 2.0], [2.0, 1.0]]}, r"prior covariance\[0\] is not positive definite"),
    ({"covariance": [[1.0, 0.5], [0.4, 1.0]]}, r"prior covariance must be symmetric"),
])
def test_invalid_prior(changes, message):
    with pytest.raises(ValueError, match=message):
        vb.Prior(**{**GOOD_PRIOR, **changes})


def test_prior_of_another_dimension_and_degenerate_default():
    prior = vb.Prior(**GOOD_PRIOR)
    with pytest.raises(ValueError, match=r"prior is for D = 2 dimensions but the data have D = 1"):
        vb.fit(FAITHFUL[:, :1], 2, prior=prior)
    with pytest.raises(ValueError, match=r"no spread in some direction.*pass prior=Prior"):
        vb.fit(np.c_[FAITHFUL, FAITHFUL[:, 0]], 2)
    with pytest.raises(ValueError, match=r"needs at least 2 points"):
        vb.Prior.default(FAITHFUL[:1], 1)


@pytest.mark.parametrize("changes, message", [
    ({"weight_concentration": [1.0, -1.0]}, r"weight_concentration must be > 0, got -1.0"),
    ({"mean_precision": [1.0]}, r"mean_precision must have shape \(K,\) = \(2,\)"),
    ({"dof": [5.0, 0.5]}, r"dof must be > D - 1 = 1, got 0.5"),
    ({"means": np.zeros((3, 2))}, r"means must have shape \(K, D\) with K = 2"),
    ({"covariances": np.ones((2, 2, 2))}, r"covariances\[0\] is not positive definite"),
])
def test_invalid_posterior(changes, message):
    fields = dict(weight_concentration=[1.0, 2.0], mean_precision=[1.0, 2.0], means=np.zeros((2, 2)), dof=[3.0, 4.0],
                  covariances=np.broadcast_to(np.eye(2), (2, 2, 2)))
    with pytest.raises(ValueError, match=message):
        vb.VBParams(**{**fields, **changes})
    params = vb.VBParams(**fields)
    with pytest.raises(ValueError, match="read-only"):
        params.means[0, 0] = 1.0
    with pytest.raises(ValueError, match=r"threshold must be between 0 and 1"):
        vb.effective_components(params, threshold=2)
    with pytest.raises(ValueError, match=r"X has D = 1 columns but the parameters are for D = 2"):
        vb.predictive_log_density(FAITHFUL[:, :1], params)
