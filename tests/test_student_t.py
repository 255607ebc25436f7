"""Generalized EM on the multivariate t (and a mixture of t's): the log-likelihood never decreases whether the nu
part of the M step maximizes Q_nu ("maximize"), only increases it by one Newton step ("newton", GEM), or maximizes
the log-likelihood itself ("ecme", Liu and Rubin's ECME); all reach the maximum-likelihood estimate, GEM pays in
iterations and ECME saves them.

Peers: scipy.stats.multivariate_t for the density (and through it the log-likelihood that scipy.optimize
maximizes directly); scipy.stats.t.fit, scipy's own maximum-likelihood fit of the 1-D t; the Gaussian MLE
(sample mean and covariance) for nu -> infinity.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st_
from scipy import optimize, stats
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import digamma, logsumexp
from scipy.stats import multivariate_t

from emlib import student_t as st
from emlib.em import ROUNDOFF


def scipy_log_likelihood(X, params):
    """sum_n log sum_k w_k t(x_n | mu_k, Sigma_k, nu_k), every density from scipy."""
    m = as_mixture(params)
    log_joint = np.stack([np.log(m.weights[k]) + multivariate_t(m.means[k], m.covariances[k], df=m.nus[k]).logpdf(X)
                          for k in range(m.n_components)], axis=-1)
    return logsumexp(log_joint.reshape(len(X), -1), axis=1).sum()


def heavy_tailed_problem(seed, N=300, n_outliers=10):
    """t data with a random mean, scale and nu in [1, 8], D = 1..4, and a few gross outliers (30 sd of noise)."""
    rng = np.random.default_rng(seed)
    D = 1 + seed % 4
    A = rng.normal(size=(D, D))
    truth = st.StudentTParams(rng.normal(size=D), A @ A.T + D * np.eye(D), rng.uniform(1, 8))
    X = st.sample(truth, N, rng)
    X[:n_outliers] += 30 * rng.normal(size=(n_outliers, D))
    return X


def mixture_problem(seed):
    rng = np.random.default_rng(100 + seed)
    truth = st.TMixtureParams([0.4, 0.6], [[0, 0], [4, 1]], [np.eye(2), [[1.5, 0.5], [0.5, 1]]], [3.0, 8.0])
    X, _ = st.sample_mixture(truth, 600, rng)
    return X, st.initial_params(X, 2, rng=seed, nu=20.0)


def chapter_outlier_data():
    """Chapter 05's data: 400 points of a 2-D t (nu = 4) and 20 gross outliers (5 %) in a clump near (12, -6),
    with the chapter's start: the sample mean and covariance, and nu = 100."""
    rng = np.random.default_rng(5)
    truth = st.StudentTParams(mean=[1.0, 2.0], covariance=[[1.0, 0.3], [0.3, 0.5]], nu=4.0)
    X = np.vstack([st.sample(truth, 400, rng), np.array([12.0, -6.0]) + 0.5 * rng.normal(size=(20, 2))])
    return X, st.moment_params(X, nu=100.0)


def as_mixture(params):
    return params.as_mixture() if isinstance(params, st.StudentTParams) else params


def params_distance(p, q):
    """Largest absolute difference of the parameters (weights, means, scale matrices, nus) of two fits."""
    p, q = as_mixture(p), as_mixture(q)
    return max(np.abs(a - b).max() for a, b in zip(p, q))


def iterations_to(objective, optimum, rel=1e-9):
    """The first iteration whose log-likelihood is within rel * |optimum| of the optimum."""
    close = optimum - objective <= rel * abs(optimum)
    assert close.any(), "the run never got close to the optimum"
    return int(np.argmax(close))


# ----------------------------------------------------------------------------------------------- the density

@pytest.mark.parametrize("D, nu", [(1, 0.5), (2, 1.0), (3, 4.0), (5, 30.0), (2, 1e4)])
def test_log_density_equals_scipy(D, nu, rng):
    A = rng.normal(size=(D, D))
    params = st.StudentTParams(rng.normal(size=D), A @ A.T + 0.5 * np.eye(D), nu)
    X = st.sample(params, 200, rng) * 3  # points in the tails too
    np.testing.assert_allclose(st.log_density(X, params),
                               multivariate_t(params.mean, params.covariance, df=nu).logpdf(X), rtol=1e-12, atol=1e-12)
    assert st.log_likelihood(X, params) == pytest.approx(scipy_log_likelihood(X, params), rel=1e-13)


def test_mixture_log_likelihood_equals_scipy():
    X, start = mixture_problem(0)
    assert st.log_likelihood(X, start) == pytest.approx(scipy_log_likelihood(X, start), rel=1e-13)


def test_sample_has_the_t_moments(rng):
    """E[x] = mu and Cov[x] = nu/(nu - 2) Sigma for nu > 2 (the scale mixture: E[1/u] = nu/(nu - 2))."""
    params = st.StudentTParams([1.0, -2.0], [[2.0, 0.6], [0.6, 1.0]], 6.0)
    X = st.sample(params, 400_000, rng)
    np.testing.assert_allclose(X.mean(axis=0), params.mean, atol=0.01)
    np.testing.assert_allclose(np.cov(X, rowvar=False), 1.5 * params.covariance, rtol=0.03)


# ----------------------------------------------------------------------------------------------- the E step

def test_e_step_statistics_give_the_log_likelihood_gradient(rng):
    """Fisher's identity: d/d theta log p(X | theta) = d/d theta' Q(theta' | theta) at theta' = theta.

    From the E step's statistics: dL/dmu = Sigma^-1 sum_n E[u_n] (x_n - mu) = Sigma^-1 (s + N_u (c - mu)), and
    dL/dnu = n * nu_gradient(nu, a). Checked against central differences of scipy's log-likelihood.
    """
    X = heavy_tailed_problem(1)  # D = 2
    params = st.StudentTParams(X.mean(axis=0) + 0.3, 2 * np.cov(X, rowvar=False), 3.0)
    stats, value = st.e_step(X, params)
    assert value == pytest.approx(scipy_log_likelihood(X, params), rel=1e-13)
    g = stats.weighted
    grad_mu = np.linalg.solve(params.covariance, g.sums[0] + g.counts[0] * (g.centres[0] - params.mean))
    grad_nu = stats.counts[0] * st.nu_gradient(params.nu, stats.log_u_terms[0] / stats.counts[0])
    h = 1e-5
    fd_mu = [(scipy_log_likelihood(X, params._replace(mean=params.mean + h * e))
              - scipy_log_likelihood(X, params._replace(mean=params.mean - h * e))) / (2 * h) for e in np.eye(2)]
    fd_nu = (scipy_log_likelihood(X, params._replace(nu=params.nu + h))
             - scipy_log_likelihood(X, params._replace(nu=params.nu - h))) / (2 * h)
    assert np.abs(grad_mu).min() > 1 and abs(grad_nu) > 1  # not a stationary point: the identity is not 0 = 0
    np.testing.assert_allclose(grad_mu, fd_mu, rtol=1e-6)
    assert grad_nu == pytest.approx(fd_nu, rel=1e-6)


def textbook_em_step(X, params, nu_step):
    """One ECM step as the formulas of McLachlan and Peel (2000, Section 7.5) read, component by component."""
    N, D = X.shape
    log_joint = np.stack([np.log(params.weights[k]) + multivariate_t(params.means[k], params.covariances[k],
                                                                     df=params.nus[k]).logpdf(X)
                          for k in range(params.n_components)], axis=1)
    R = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
    weights, means, covariances, nus = [], [], [], []
    for k in range(params.n_components):
        nu, Y = params.nus[k], X - params.means[k]
        delta = np.einsum("nd,de,ne->n", Y, np.linalg.inv(params.covariances[k]), Y)
        u = (nu + D) / (nu + delta)
        log_u = digamma((nu + D) / 2) - np.log((nu + delta) / 2)
        r = R[:, k]
        mu = (r * u) @ X / (r * u).sum()
        weights.append(r.sum() / N)
        means.append(mu)
        covariances.append(((r * u)[:, None] * (X - mu)).T @ (X - mu) / r.sum())
        a = (r * (log_u - u)).sum() / r.sum()
        nus.append(brentq(lambda v: np.log(v / 2) + 1 - digamma(v / 2) + a, 1e-3, 1e6) if nu_step == "maximize"
                   else nu)
    return st.TMixtureParams(weights, means, covariances, nus)


@pytest.mark.parametrize("nu_step", ["maximize", "fixed"])
def test_e_and_m_step_equal_the_textbook_formulas(nu_step):
    """In particular Sigma_k is divided by n_k = sum r, not by sum r E[u]: the latter has the same fixed point (at
    the MLE sum_n r_nk E[u_nk] = n_k) and also climbs, so only a one-step comparison tells the two apart."""
    X, params = mixture_problem(3)
    for _ in range(4):
        expected = textbook_em_step(X, params, nu_step)
        params = st.m_step(st.e_step(X, params)[0], nu_step=nu_step)
        assert params_distance(params, expected) < 1e-9
        assert not np.allclose(expected.weights, 0.5)  # EM is moving


def test_statistics_are_additive_across_blocks():
    X, start = mixture_problem(0)
    whole, ll = st.e_step(X, start)
    a, ll_a = st.e_step(X[:250], start)
    b, ll_b = st.e_step(X[250:], start)
    assert ll_a + ll_b == pytest.approx(ll, rel=1e-13)
    for nu_step in st.NU_STEPS:  # ECME's nu step needs the data too (all of them, as the statistics are)
        data = X if nu_step == "ecme" else None
        assert params_distance(st.m_step(a + b, nu_step=nu_step, data=data),
                               st.m_step(whole, nu_step=nu_step, data=data)) < 1e-10


def test_single_t_is_a_one_component_mixture():
    X = heavy_tailed_problem(2)
    start = st.moment_params(X, nu=20.0)
    single = st.fit(X, start, nu_step="newton", max_iter=30, tol=0)
    mixture = st.fit(X, start.as_mixture(), nu_step="newton", max_iter=30, tol=0)
    assert isinstance(single.params, st.StudentTParams) and isinstance(mixture.params, st.TMixtureParams)
    np.testing.assert_allclose(single.objective, mixture.objective, rtol=1e-14)
    assert params_distance(single.params, mixture.params) == 0


# ----------------------------------------------------------------------------------------------- the nu step

def test_nu_maximizer_solves_the_first_order_condition():
    """The root of log(nu/2) + 1 - psi(nu/2) + a = 0, and the argmax scipy finds for Q_nu directly."""
    for a in [-1.05, -1.3, -2.0, -5.0, -40.0]:
        nu = st.nu_maximizer(a)
        assert abs(st.nu_gradient(nu, a)) < 1e-12
        direct = minimize_scalar(lambda s: -st.nu_objective(np.exp(s), a), bounds=(-7, 14), method="bounded",
                                 options={"xatol": 1e-10}).x
        assert nu == pytest.approx(np.exp(direct), rel=1e-7)
    # a -> -1 (the u's all alike: Gaussian-looking data): the root is past NU_MAX, where Q_nu still increases
    assert st.nu_maximizer(-1 - 1e-9) == st.NU_MAX and st.nu_gradient(st.NU_MAX, -1 - 1e-9) > 0


@settings(max_examples=300, deadline=None)
@given(log_excess=st_.floats(-12, 4), log_nu=st_.floats(np.log(2e-3), np.log(5e5)))
def test_one_newton_step_increases_q_nu_and_never_decreases_it(log_excess, log_nu):
    """a = -1 - exp(log_excess) < -1 (Jensen), any current nu: Q_nu(new) >= Q_nu(old), strictly when the slope in
    log nu is not round-off, no higher than the maximum, and the step goes toward the maximizer."""
    a, nu = -1 - np.exp(log_excess), np.exp(log_nu)
    new, best = st.nu_newton_step(a, nu), st.nu_maximizer(a, nu)
    q_old, q_new, q_best = (float(st.nu_objective(v, a)) for v in (nu, new, best))
    scale = 1e-12 * max(1.0, abs(q_old))
    assert q_new >= q_old
    assert q_new <= q_best + scale
    if abs(nu * st.nu_gradient(nu, a)) > 1e-6 and abs(q_best - q_old) > 1e3 * scale:
        assert q_new > q_old
        assert np.sign(new - nu) == np.sign(best - nu)
    assert min(st.NU_MIN, nu) <= new <= max(st.NU_MAX, nu)


def test_the_newton_step_does_not_maximize_q_nu_but_repeating_it_does():
    a, nu = -1.3, 1e4
    best = st.nu_maximizer(a, nu)
    one = st.nu_newton_step(a, nu)
    assert st.nu_objective(nu, a) < st.nu_objective(one, a) < st.nu_objective(best, a) - 1e-3
    for _ in range(60):
        nu = st.nu_newton_step(a, nu)
    assert nu == pytest.approx(best, rel=1e-10)


# ----------------------------------------------------------------------------------------------- monotonicity

@pytest.mark.parametrize("nu_step", st.NU_STEPS)
def test_log_likelihood_never_decreases(nu_step):
    """Single t's (12 seeded heavy-tailed problems, 3 starting nus each) and two t mixtures; the driver's guard is
    on, and the objective is checked here too."""
    problems = [(heavy_tailed_problem(seed), nu0) for seed in range(12) for nu0 in (0.5, 5.0, 1e3)]
    problems = [(X, st.moment_params(X, nu=nu0)) for X, nu0 in problems] + [mixture_problem(seed) for seed in (0, 3)]
    for X, start in problems:
        result = st.fit(X, start, nu_step=nu_step, max_iter=150, tol=0)
        gains = np.diff(result.objective)
        assert gains.min() >= -ROUNDOFF * np.abs(result.objective).max()
        assert result.objective[-1] - result.objective[0] > 0.01  # EM really moved
        moved = np.abs(np.log(as_mixture(result.params).nus / as_mixture(start).nus)).max()
        assert (moved > 0.1) == (nu_step != "fixed")


# ----------------------------------------------------------------------------------------------- the optimum

SEEDS = range(8)


def test_gem_and_em_reach_the_same_optimum_and_gem_takes_at_least_as_many_iterations():
    """From nu = 100 (above every optimum here, nu* in [1, 3]): both nu steps reach the same parameters to 1e-6,
    and the Newton step, which undershoots the maximizer of Q_nu, needs at least as many iterations to get within
    1e-9 (relative) of the maximal log-likelihood. Runs of 1000 iterations with tol=0 converge the parameters
    (EM's rate here is about 0.9 per iteration), which a stopping rule on the objective's gain does not."""
    counts = []
    for seed in SEEDS:
        X = heavy_tailed_problem(seed)
        start = st.moment_params(X, nu=100.0)
        em, gem = (st.fit(X, start, nu_step=step, max_iter=1000, tol=0) for step in ("maximize", "newton"))
        assert params_distance(em.params, gem.params) < 1e-6
        optimum = max(em.objective[-1], gem.objective[-1])
        counts.append((iterations_to(em.objective, optimum), iterations_to(gem.objective, optimum)))
        assert gem.params.nu < 3.5
    print("single t, iterations to 1e-9 of the optimum (EM, GEM):", counts)
    assert all(n_gem >= n_em for n_em, n_gem in counts)
    assert sum(n_gem for _, n_gem in counts) > sum(n_em for n_em, _ in counts)


def test_gem_and_em_reach_the_same_optimum_for_a_mixture():
    counts = []
    for seed in (0, 3):
        X, start = mixture_problem(seed)
        em, gem = (st.fit(X, start, nu_step=step, max_iter=1500, tol=0) for step in ("maximize", "newton"))
        assert params_distance(em.params, gem.params) < 1e-6
        optimum = max(em.objective[-1], gem.objective[-1])
        counts.append((iterations_to(em.objective, optimum), iterations_to(gem.objective, optimum)))
    print("t mixture, iterations to 1e-9 of the optimum (EM, GEM):", counts)
    assert all(n_gem >= n_em for n_em, n_gem in counts)


def test_from_below_the_newton_step_overshoots_q_and_gem_can_be_faster():
    """Not a law: from nu = 0.3, below nu* = 2.22, the one Newton step on Q_nu in log nu lands past Q_nu's maximizer,
    toward the MLE (EM's own step falls short of it), so on this problem GEM is over-relaxed EM and converges faster."""
    X = heavy_tailed_problem(8)
    start = st.moment_params(X, nu=0.3)
    em1, gem1 = (st.fit(X, start, nu_step=step, max_iter=1, tol=0).params.nu for step in ("maximize", "newton"))
    em, gem = (st.fit(X, start, nu_step=step, max_iter=1000, tol=0) for step in ("maximize", "newton"))
    assert 0.3 < em1 < gem1 < em.params.nu
    optimum = max(em.objective[-1], gem.objective[-1])
    n_em, n_gem = iterations_to(em.objective, optimum), iterations_to(gem.objective, optimum)
    print("from nu = 0.3, iterations to 1e-9 of the optimum (EM, GEM):", n_em, n_gem)
    assert n_gem < n_em


# ----------------------------------------------------------------------------------------------- ECME

def test_ecme_nu_step_maximizes_the_log_likelihood_over_nu():
    """Single t: at (mu, Sigma) fixed, ecme_nus is the argmax over nu of scipy's log-likelihood (found here by
    scipy's own bounded search in the best bracket of a fine grid). Mixture: the nu_k are updated in turn, so the
    derivative of scipy's log-likelihood in nu_k is zero (central differences) with the nu_j, j < k, updated and
    the later ones not, or L still rises at NU_MAX; and L is higher than at the start."""
    X, start = chapter_outlier_data()
    nu = st.ecme_nus(X, start)[0]
    scipy_l = lambda v: multivariate_t(start.mean, start.covariance, df=v).logpdf(X).sum()  # noqa: E731
    grid = np.geomspace(0.05, 1e4, 400)
    i = int(np.argmax([scipy_l(v) for v in grid]))
    direct = minimize_scalar(lambda s: -scipy_l(np.exp(s)), bounds=np.log(grid[[i - 1, i + 1]]), method="bounded",
                             options={"xatol": 1e-10}).x
    assert nu == pytest.approx(np.exp(direct), rel=1e-6)
    assert 1 < nu < 5  # the likelihood wants heavy tails at once, from nu = 100

    for seed in (0, 3):
        Xm, mixture = mixture_problem(seed)
        mixture = st.m_step(st.e_step(Xm, mixture)[0], nu_step="fixed")  # nu = 20 with the data's (w, mu, Sigma)
        nus = st.ecme_nus(Xm, mixture)
        for k in range(2):  # nu_k maximizes L with nu_j, j < k, already updated and nu_j, j > k, not yet
            def at(v, k=k):
                return scipy_log_likelihood(Xm, mixture._replace(nus=np.r_[nus[:k], v, mixture.nus[k + 1:]]))
            h = 1e-4 * nus[k]
            slope = (at(nus[k] + h) - at(nus[k] - h)) / (2 * h) * nus[k]  # dL / d log nu
            if nus[k] == st.NU_MAX:  # L still rises at the end of the range: the maximum is there
                assert slope > 0
            else:
                assert abs(slope) < 1e-6
        assert scipy_log_likelihood(Xm, mixture._replace(nus=nus)) > scipy_log_likelihood(Xm, mixture)


def test_each_cm_step_of_ecme_raises_the_log_likelihood():
    """ECME's monotonicity, step by step: the first CM step ((w, mu, Sigma) from Q at the old nu) raises L, and
    the second (nu by L itself) raises it again; the fit's objective never decreases (the driver's check is on)."""
    problems = [chapter_outlier_data()] + [mixture_problem(seed) for seed in (0, 3)]
    problems += [(X, st.moment_params(X, nu=nu0)) for X, nu0 in
                 ((heavy_tailed_problem(seed), nu0) for seed in range(4) for nu0 in (0.5, 1e3))]
    for X, params in problems:
        params = as_mixture(params)
        for _ in range(8):
            stats_, before = st.e_step(X, params)
            half = st.m_step(stats_, nu_step="fixed")
            after_cm1 = st.log_likelihood(X, half)
            params = st.m_step(stats_, nu_step="ecme", data=X)
            after_cm2 = st.log_likelihood(X, params)
            assert params_distance(params._replace(nus=half.nus), half) == 0  # CM1 is EM's (w, mu, Sigma) step
            tiny = ROUNDOFF * abs(before)
            assert after_cm1 >= before - tiny and after_cm2 >= after_cm1 - tiny
        result = st.fit(X, params, nu_step="ecme", max_iter=40, tol=0)
        assert np.diff(result.objective).min() >= -ROUNDOFF * np.abs(result.objective).max()


def test_ecme_reaches_em_fixed_point_in_far_fewer_iterations_on_the_chapter_data():
    """Chapter 05's outlier data from nu = 100: EM's nu crawls (100 -> 94 -> 87 ...: Q_nu uses E[log u] at the old
    nu) while L barely moves; ECME's first nu step goes straight to the heavy tails the likelihood wants. Both
    reach the same fixed point (L to 1e-8 nats, parameters to 1e-5), and ECME in at most 70 % of EM's iterations
    to 1e-9 (relative) of the maximum, and in at most half of them to 1e-4."""
    X, start = chapter_outlier_data()
    em = st.fit(X, start, nu_step="maximize", max_iter=400, tol=0)
    ecme = st.fit(X, start, nu_step="ecme", max_iter=400, tol=0)
    assert abs(ecme.objective[-1] - em.objective[-1]) < 1e-8
    assert params_distance(ecme.params, em.params) < 1e-5
    em_nus = [st.fit(X, start, nu_step="maximize", max_iter=t, tol=0).params.nu for t in (1, 2, 5)]
    ecme_nu = st.fit(X, start, nu_step="ecme", max_iter=1, tol=0).params.nu
    print("nu after 1, 2, 5 EM iterations:", np.round(em_nus, 2), "after one ECME iteration:", round(ecme_nu, 3))
    assert 90 < em_nus[0] < 100 and 80 < em_nus[1] < 90 and em_nus[2] > 50
    assert ecme_nu < 5
    optimum = max(em.objective[-1], ecme.objective[-1])
    n = {rel: (iterations_to(em.objective, optimum, rel), iterations_to(ecme.objective, optimum, rel))
         for rel in (1e-4, 1e-9)}
    print("iterations to 1e-4 and 1e-9 of the optimum (EM, ECME):", n)
    assert n[1e-9][1] <= 0.7 * n[1e-9][0]
    assert n[1e-4][1] <= 0.5 * n[1e-4][0]


def test_ecme_reaches_em_fixed_point_for_a_mixture():
    for seed in (0, 3):
        X, start = mixture_problem(seed)
        em = st.fit(X, start, nu_step="maximize", max_iter=1500, tol=0)
        ecme = st.fit(X, start, nu_step="ecme", max_iter=400, tol=0)
        assert params_distance(em.params, ecme.params) < 1e-6
        optimum = max(em.objective[-1], ecme.objective[-1])
        assert iterations_to(ecme.objective, optimum) < iterations_to(em.objective, optimum)


def tight_nelder_mead(func, x0, args=(), disp=0):
    """scipy.stats.t.fit's own optimizer (Nelder-Mead, optimize.fmin), with tolerances tight enough to compare to
    1e-5: its defaults (xtol = ftol = 1e-4) stop at about 1e-4 relative in the parameters."""
    return optimize.fmin(func, x0, args=args, disp=disp, xtol=1e-10, ftol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_ecme_fit_of_1d_data_equals_scipy_t_fit(seed):
    """The peer check: for 1-D data ECME's (nu, mu, Sigma) is scipy's maximum-likelihood (df, loc, scale^2)."""
    rng = np.random.default_rng(seed)
    x = stats.t.rvs(df=3.0, loc=1.0, scale=2.0, size=300, random_state=rng)
    x[:6] += 40 * rng.normal(size=6)  # a few gross outliers too
    df, loc, scale = stats.t.fit(x, optimizer=tight_nelder_mead)
    fit = st.fit(x, st.moment_params(x, nu=30.0), nu_step="ecme", max_iter=300, tol=0)
    np.testing.assert_allclose([fit.params.nu, fit.params.mean[0], fit.params.covariance[0, 0]],
                               [df, loc, scale ** 2], rtol=1e-5)
    assert fit.objective[-1] >= stats.t.logpdf(x, df, loc, scale).sum() - 1e-9


def log_likelihood_at(X, theta, D):
    """scipy's log-likelihood at theta = (mu, lower Cholesky entries with log diagonal, log nu)."""
    mu = theta[:D]
    L = np.zeros((D, D))
    L[np.tril_indices(D)] = theta[D:-1]
    L[np.diag_indices(D)] = np.exp(np.diag(L))
    return multivariate_t(mu, L @ L.T, df=np.exp(theta[-1])).logpdf(X).sum()


def unconstrained(params):
    D = params.dim
    L = np.linalg.cholesky(params.covariance)
    L[np.diag_indices(D)] = np.log(np.diag(L))
    return np.concatenate([params.mean, L[np.tril_indices(D)], [np.log(params.nu)]])


def test_optimum_is_stationary_and_equals_direct_maximization():
    X = heavy_tailed_problem(5, N=200)  # D = 2: 6 free parameters
    D = X.shape[1]
    start = st.moment_params(X, nu=10.0)
    result = st.fit(X, start, max_iter=1000, tol=0)
    theta = unconstrained(result.params)
    h = 1e-5
    gradient = np.array([(log_likelihood_at(X, theta + h * e, D) - log_likelihood_at(X, theta - h * e, D)) / (2 * h)
                         for e in np.eye(len(theta))])
    theta0 = unconstrained(start)
    gradient0 = np.array([(log_likelihood_at(X, theta0 + h * e, D) - log_likelihood_at(X, theta0 - h * e, D)) / (2 * h)
                          for e in np.eye(len(theta))])
    print("gradient at the start", gradient0, "at the EM optimum", gradient)
    assert np.abs(gradient0).max() > 10
    assert np.abs(gradient).max() < 1e-4  # central differences: error ~ h^2 * third derivative ~ 1e-7
    direct = minimize(lambda t: -log_likelihood_at(X, t, D), theta0, method="BFGS", options={"gtol": 1e-7})
    assert -direct.fun <= result.objective[-1] + 1e-9 * abs(result.objective[-1])
    np.testing.assert_allclose(direct.x, theta, atol=1e-5)


# ----------------------------------------------------------------------------------------------- limits and robustness

def test_fixed_large_nu_approaches_the_gaussian_mle(rng):
    """nu -> infinity: E[u_n] = (nu + D)/(nu + delta_n) = 1 + (D - delta_n)/nu + O(nu^-2), so the fit is the
    sample mean and (biased) sample covariance up to O(1/nu): the error falls 100-fold from nu = 1e6 to 1e8."""
    X = rng.normal(size=(500, 3)) @ np.array([[2.0, 0, 0], [0.5, 1, 0], [0.3, -0.2, 0.7]]) + 5
    mean, covariance = X.mean(axis=0), np.cov(X, rowvar=False, bias=True)
    errors = []
    for nu in (1e6, 1e8):
        params = st.fit(X, st.moment_params(X, nu=nu)._replace(mean=mean + 1), nu_step="fixed", tol=1e-14).params
        assert params.nu == nu
        errors.append(max(np.abs(params.mean - mean).max(), np.abs(params.covariance - covariance).max()))
    print("distance to the Gaussian MLE at nu = 1e6, 1e8:", errors)
    assert errors[1] < 1e-6
    assert 30 < errors[0] / errors[1] < 300


def test_t_location_is_robust_to_gross_outliers(rng):
    """380 points from N(0, I_2) and 20 (5%) at o = (100, 100).

    Sample mean = 0.95 m_in + 0.05 (o + e) with m_in ~ N(0, I/380) the inlier mean and e (the outliers' jitter)
    ~ N(0, 0.01 I/20), so its error is at least 0.05 |o| - 0.95 |m_in| - 0.05 |e| > 7.07 - 0.25 (|m_in| < 0.25
    except with probability exp(-380 0.25^2 / 2) ~ 7e-6). The t gives an outlier the weight E[u] = (nu + 2)/(nu +
    delta), delta ~ |o|^2 / sigma^2 ~ 2e4: its pull on the location is about 20 (nu + 2) / 2e4 * |o| / 380 ~ 1e-3.
    So the t location is an inlier-only location estimate, whose standard error is about 0.05 per coordinate
    (a little above the mean's 1/sqrt(380), the t being less efficient on Gaussian inliers): 0.3 is about 5 of them.
    """
    o = np.array([100.0, 100.0])
    X = np.vstack([rng.normal(size=(380, 2)), np.tile(o, (20, 1)) + 0.1 * rng.normal(size=(20, 2))])
    fitted = st.fit(X, st.moment_params(X, nu=10.0), nu_step="newton", tol=1e-12).params
    mean_error, t_error = np.linalg.norm(X.mean(axis=0)), np.linalg.norm(fitted.mean)
    print(f"location error: sample mean {mean_error:.3f}, t fit {t_error:.4f} (nu = {fitted.nu:.3g})")
    assert mean_error > 0.05 * np.linalg.norm(o) - 0.25
    assert t_error < 0.3
    assert mean_error > 20 * t_error


# ----------------------------------------------------------------------------------------------- bad input

def test_bad_input_gives_clear_errors():
    eye = np.eye(2)
    with pytest.raises(ValueError, match="nu = 0, but degrees of freedom must be finite and > 0"):
        st.StudentTParams([0, 0], eye, 0.0)
    with pytest.raises(ValueError, match=r"nus\[1\] = -1, but degrees of freedom must be finite and > 0"):
        st.TMixtureParams([0.5, 0.5], [[0, 0], [1, 1]], [eye, eye], [3.0, -1.0])
    with pytest.raises(ValueError, match="nu = nan, but degrees of freedom must be finite"):
        st.StudentTParams([0, 0], eye, np.nan)
    with pytest.raises(ValueError, match="mean has 1 NaN"):
        st.StudentTParams([0, np.nan], eye, 3.0)
    with pytest.raises(ValueError, match="covariance is not positive definite"):
        st.StudentTParams([0, 0], [[1.0, 1.0], [1.0, 1.0]], 3.0)
    with pytest.raises(ValueError, match=r"covariances\[1\] is not positive definite"):
        st.TMixtureParams([0.5, 0.5], [[0, 0], [1, 1]], [eye, np.zeros((2, 2))], [3.0, 3.0])
    with pytest.raises(ValueError, match="symmetric"):
        st.StudentTParams([0, 0], [[1.0, 0.5], [0.0, 1.0]], 3.0)
    X = np.random.default_rng(0).normal(size=(50, 2))
    start = st.moment_params(X)
    bad = X.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="X has 1 NaN or infinite value.*remove or impute"):
        st.fit(bad, start)
    with pytest.raises(ValueError, match="N = 2 points in D = 2 dimensions.*at least D \\+ 1 = 3"):
        st.fit(X[:2], start)
    with pytest.raises(ValueError, match="nu_step must be one of"):
        st.fit(X, start, nu_step="gradient")
    with pytest.raises(ValueError, match="nu_step='ecme' maximizes the log-likelihood of the data.*pass data=X"):
        st.m_step(st.e_step(X, start)[0], nu_step="ecme")
    with pytest.raises(ValueError, match="D = 3 columns"):
        st.fit(np.ones((10, 3)) + np.arange(30).reshape(10, 3) ** 2, start)
    on_a_line = np.outer(np.arange(10.0), [1.0, 2.0])
    with pytest.raises(ValueError, match="at iteration 1: component 0 has collapsed.*drop dependent columns"):
        st.fit(on_a_line, start)
