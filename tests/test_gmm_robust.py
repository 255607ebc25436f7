"""Issue 15, the mixture's fit where it used to go wrong: false convergence with reg_covar, singularity tests that
depended on the units, a collapse that lost the whole fit, restarts, BIC and AIC, and advice that fits the context."""
import numpy as np
import pytest

from emlib import gmm
from conftest import sklearn_gmm


def spike_problem():
    """Chapter 02's example: a good 3-component fit of 400 points in 1-D, and a fourth component started as a spike
    (sd 0.5) on the right-most point. With reg_covar = 1e-2 var(x) the log-likelihood rises, then falls for a long
    stretch while the spike settles at variance reg_covar, then rises a little again."""
    truth = gmm.GMMParams([0.45, 0.35, 0.20], [-2.0, 1.0, 4.0], [0.8**2, 0.6**2, 1.0**2])
    X, _ = gmm.sample(truth, 400, rng=2)
    good = gmm.fit(X, gmm.GMMParams([1 / 3] * 3, [-1.0, 0.0, 1.0], [4.0] * 3), max_iter=500).params
    far = X[np.argmax(X[:, 0])]
    spike = gmm.GMMParams(np.append(0.9 * good.weights, 0.1), np.vstack([good.means, far]),
                          np.concatenate([good.covariances, [[[0.25]]]]))
    return X, spike, 1e-2 * X.var()


@pytest.mark.parametrize("method, options", [("batch", {}), ("squarem", {}), ("incremental", {"n_blocks": 1})])
def test_a_decrease_of_the_log_likelihood_is_not_convergence(method, options):
    """Before: converged=True at iteration 2, just after L fell by 0.438 (less than tol |L|, but a fall); 300 more
    steps move L to -839.411."""
    X, spike, eps = spike_problem()
    result = gmm.fit(X, spike, reg_covar=eps, method=method, **options)
    gains = np.diff(result.objective)
    assert gains.min() < -0.1  # the guard is off (reg_covar > 0) and L does fall on the way
    assert result.converged and gains[-1] >= 0
    long_run = gmm.fit(X, spike, reg_covar=eps, max_iter=300, tol=0)
    assert abs(long_run.objective[-1] - (-839.411)) < 1e-3
    assert abs(result.objective[-1] - long_run.objective[-1]) < 1e-6


# ----------------------------------------------------------------------------------------------- units
# Issue 15: the singularity tests compared a component's smallest eigenvalue with the widest eigenvalue of the
# mixture, a test that depends on the units: columns with standard deviations 3e4 and 0.01 were "singular", and so
# was data with one outlier at 1e12, even with reg_covar. They are now relative to each component's own scale
# (its correlation matrix, and round-off of its own mean), unchanged when any column changes units.

def standard_problem():
    """400 points of a 2-component mixture in standard units, and a start."""
    truth = gmm.GMMParams([0.4, 0.6], [[-1.0, 0.5], [1.0, -0.5]],
                          [[[0.5, 0.2], [0.2, 0.4]], [[0.3, -0.1], [-0.1, 0.6]]])
    X, _ = gmm.sample(truth, 400, rng=11)
    start = gmm.GMMParams([0.5, 0.5], [[-0.5, 0.0], [0.5, 0.0]], [np.eye(2), np.eye(2)])
    return X, start


UNITS = {"standard": [1.0, 1.0], "3e4 and 0.01": [3e4, 0.01], "x 1e6": [1e6, 1e6], "x 1e-6": [1e-6, 1e-6],
         "1e-6 and 1e6": [1e-6, 1e6]}


def in_units(params, a):
    A = np.diag(a)
    return gmm.GMMParams(params.weights, params.means @ A, A @ params.covariances @ A)


@pytest.mark.parametrize("units", UNITS)
def test_the_same_problem_in_other_units_gives_the_same_fit(units):
    a = np.array(UNITS[units])
    X, start = standard_problem()
    n_iter = 30
    reference = gmm.fit(X, start, max_iter=n_iter, tol=0)
    scaled = gmm.fit(X * a, in_units(start, a), max_iter=n_iter, tol=0)
    # L shifts by -N log|det A|; the parameters map as the data do
    np.testing.assert_allclose(scaled.objective, reference.objective - len(X) * np.log(a).sum(), rtol=1e-10,
                               atol=1e-9 * len(X))
    back = in_units(scaled.params, 1 / a)  # the fit in units a, measured in standard units again
    np.testing.assert_allclose(back.weights, reference.params.weights, rtol=1e-9)
    np.testing.assert_allclose(back.means, reference.params.means, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(back.covariances, reference.params.covariances, rtol=1e-8, atol=1e-12)
    # and scikit-learn, from the same start, with no regulariser on either side
    sklearn_objective, model = sklearn_gmm(X * a, in_units(start, a), n_iter)
    np.testing.assert_allclose(scaled.objective[:n_iter], sklearn_objective, rtol=1e-10)
    np.testing.assert_allclose(model.covariances_ / np.outer(a, a), back.covariances, rtol=1e-8, atol=1e-12)
    # a seeded start and a regulariser work in every unit too (the k-means++ seeding itself depends on the units)
    for reg_covar in (0.0, 1e-6):
        assert gmm.fit(X * a, 2, rng=0, reg_covar=reg_covar).converged
        assert gmm.initial_params(X * a, 2, rng=0, reg_covar=reg_covar).n_components == 2


@pytest.mark.parametrize("outlier", [[1e12, 1e12], [1e12, 0.0], [1e9, 1e9]])
def test_one_far_outlier_is_not_a_singular_data_set(outlier):
    """The outlier makes the data covariance singular to working precision (the bulk's spread is below its
    round-off) when it is far in every coordinate: the seeded start then takes the covariance within the
    k-means++ cells. The outlier's own component collapses onto it, unless reg_covar keeps it, as in
    scikit-learn."""
    X, _ = standard_problem()
    Y = np.vstack([X, outlier])
    start = gmm.initial_params(Y, 3, rng=0)
    assert np.linalg.eigvalsh(start.covariances).min() > 0.1  # the bulk's spread, not the outlier's
    with pytest.raises(ValueError, match=r"at iteration 1: component \d has collapsed.*about 1 data points.*"
                                         r"set reg_covar"):
        gmm.fit(Y, start)
    result = gmm.fit(Y, start, reg_covar=1e-6, max_iter=20, tol=0)
    sklearn_objective, model = sklearn_gmm(Y, start, 20, reg_covar=1e-6)
    alone = int(np.argmax(np.abs(result.params.means).sum(axis=1)))
    bulk = [k for k in range(3) if k != alone]
    np.testing.assert_allclose(result.params.means[bulk], model.means_[bulk], rtol=1e-8)
    np.testing.assert_allclose(result.params.covariances[bulk], model.covariances_[bulk], rtol=1e-8)
    np.testing.assert_allclose(result.params.means[alone], outlier, rtol=1e-15)  # on the point
    np.testing.assert_allclose(result.params.covariances[alone], 1e-6 * np.eye(2), rtol=1e-3, atol=1e-12)
    # The log-likelihoods agree but for one constant term: scikit-learn divides by N_k + 10 eps, which moves the
    # outlier's mean 2.2e-15 |x| off the point (2.2e-3 at 1e12, twice the s.d. of 1e-3), and so lowers that point's
    # log-density by the same amount at every iteration. Every other term agrees to round-off.
    assert result.objective[0] == pytest.approx(sklearn_objective[0], rel=1e-10)  # its x P - mu P: round-off
    offset = result.objective[1:20] - sklearn_objective[1:]
    assert np.ptp(offset) < 1e-9 * abs(result.objective[-1]) and 0 <= offset[0] < 3
    moved = np.asarray(outlier) * (1 - 1 / (1 + 10 * np.finfo(float).eps))
    np.testing.assert_allclose(model.means_[alone], outlier - moved, rtol=1e-15)
    assert gmm.fit(Y, 3, rng=0, reg_covar=1e-6).converged


@pytest.mark.parametrize("units", ["3e4 and 0.01", "1e-6 and 1e6"])
def test_t_mixtures_and_variational_bayes_do_not_depend_on_the_units(units):
    from emlib import student_t, vb
    a = np.array(UNITS[units])
    X, start = standard_problem()
    t_start = student_t.TMixtureParams(start.weights, start.means, start.covariances, [10.0, 10.0])
    t_scaled = student_t.TMixtureParams(*in_units(start, a), [10.0, 10.0])
    reference = student_t.fit(X, t_start, max_iter=20, tol=0)
    scaled = student_t.fit(X * a, t_scaled, max_iter=20, tol=0)
    np.testing.assert_allclose(scaled.objective, reference.objective - len(X) * np.log(a).sum(), rtol=1e-9)
    np.testing.assert_allclose(scaled.params.nus, reference.params.nus, rtol=1e-6)
    # the default prior of variational Bayes scales with the data, so the posterior does too
    R = gmm.responsibilities(X, start)
    q_reference = vb.fit(X, R, max_iter=20, tol=0)
    q_scaled = vb.fit(X * a, R, max_iter=20, tol=0)
    np.testing.assert_allclose(q_scaled.params.means / a, q_reference.params.means, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(q_scaled.params.weights, q_reference.params.weights, rtol=1e-8)


# ----------------------------------------------------------------------------------------------- a collapse mid-fit
# Issue 15: a collapse raised a ValueError and the whole fit was lost. It is now a FitStoppedError (a ValueError)
# with the fit up to the last good iteration in error.result.

@pytest.mark.parametrize("method, options", [("batch", {}), ("squarem", {}), ("incremental", {"n_blocks": 2})])
def test_a_collapse_keeps_the_fit_up_to_the_last_good_iteration(method, options):
    """Chapter 02's spike without reg_covar: EM shrinks it onto its point (batch EM: for 9 iterations, the variance
    falling from 0.25 to 9e-6, then to 0 in the 10th)."""
    X, start, _ = spike_problem()
    with pytest.raises(gmm.FitStoppedError, match=r"at (iteration|pass) (\d+)(, block \d)?: component 3 has "
                                                  r"collapsed: .* The fit up to (iteration|pass) \d+ \(objective "
                                                  r"-?\d+\.\d+, converged=False\) is in error\.result\.") as info:
        gmm.fit(X, start, method=method, max_iter=100, **options)
    error = info.value
    result = error.result
    assert isinstance(error, ValueError) and not result.converged and error.iteration == result.n_iter + 1
    assert len(result.objective) == result.n_iter + 1 and result.n_iter >= 1
    assert isinstance(result.params, gmm.GMMParams)
    np.testing.assert_allclose(result.objective[-1], gmm.log_likelihood(X, result.params) if method != "incremental"
                               else result.objective[-1])
    # the same as a fit told to stop there
    again = gmm.fit(X, start, method=method, max_iter=result.n_iter, tol=0, **options)
    np.testing.assert_array_equal(again.objective, result.objective)
    np.testing.assert_array_equal(again.params.covariances, result.params.covariances)
    # the component was on its way to the point (SQUAREM jumps there from a variance of 0.21 in one cycle)
    assert result.params.covariances[3, 0, 0] < (0.25 if method == "squarem" else 1e-3 * 0.25)
    if method == "batch":
        assert result.n_iter == 9 and np.all(np.diff(result.objective) > 0)


# ----------------------------------------------------------------------------------------------- restarts, BIC, AIC

def small_problem():
    """20 standard normal points in 2-D: with K = 3 most seeded starts agree, one of six collapses."""
    return np.random.default_rng(23).normal(size=(20, 2))


def test_n_init_keeps_the_best_of_seeded_starts_and_skips_those_that_stop():
    X = small_problem()
    result = gmm.fit(X, 3, rng=0, n_init=6, max_iter=300)
    singles = []
    for child in np.random.default_rng(0).spawn(6):  # start i is seeded by the i-th child of rng
        try:
            singles.append(gmm.fit(X, 3, rng=child, max_iter=300))
        except gmm.FitStoppedError:
            singles.append(None)
    finals = [np.nan if r is None else r.objective[-1] for r in singles]
    assert any(r is None for r in singles) and sum(r is not None for r in singles) >= 2
    np.testing.assert_array_equal(result.info["final_objectives"], finals)
    best = int(np.nanargmax(finals))
    assert result.info["best_start"] == best and result.info["n_init"] == 6
    assert sorted(result.info["stopped"]) == [i for i, r in enumerate(singles) if r is None]
    assert "collapsed" in next(iter(result.info["stopped"].values()))
    np.testing.assert_array_equal(result.objective, singles[best].objective)
    np.testing.assert_array_equal(result.params.means, singles[best].params.means)
    assert result.converged == singles[best].converged and result.n_iter == singles[best].n_iter
    # the same seed gives the same answer; n_init=1 is the single start seeded by rng itself, as before
    again = gmm.fit(X, 3, rng=0, n_init=6, max_iter=300)
    np.testing.assert_array_equal(again.objective, result.objective)
    np.testing.assert_array_equal(gmm.fit(X, 2, rng=5, n_init=1).objective,
                                  gmm.fit(X, gmm.initial_params(X, 2, rng=5)).objective)


def test_n_init_when_every_start_stops():
    X = small_problem()[:15]
    with pytest.raises(gmm.FitStoppedError, match=r"all n_init = 3 starts stopped .* error\.result") as info:
        gmm.fit(X, 5, rng=0, n_init=3)
    assert not info.value.result.converged and isinstance(info.value.result.params, gmm.GMMParams)


@pytest.mark.parametrize("n_init, error, message", [
    (0, ValueError, r"n_init must be a whole number >= 1 \(the number of seeded starts\), got 0"),
    (2.0, TypeError, "n_init must be a whole number >= 1"),
    (True, TypeError, "n_init must be a whole number >= 1"),
    (None, TypeError, "n_init must be a whole number >= 1"),
])
def test_n_init_is_validated(n_init, error, message):
    with pytest.raises(error, match=message):
        gmm.fit(small_problem(), 2, n_init=n_init)


def test_n_init_with_given_parameters_is_an_error():
    X = small_problem()
    with pytest.raises(ValueError, match=r"n_init = 3 restarts need seeded starts: pass init as an int K"):
        gmm.fit(X, gmm.initial_params(X, 2, rng=0), n_init=3)


def sklearn_model_of(params: gmm.GMMParams):
    """A scikit-learn GaussianMixture holding emlib's parameters."""
    from sklearn.mixture import GaussianMixture
    model = GaussianMixture(params.n_components, covariance_type="full")
    model.weights_, model.means_ = np.array(params.weights), np.array(params.means)
    model.covariances_ = np.array(params.covariances)
    model.precisions_cholesky_ = np.linalg.inv(np.linalg.cholesky(params.covariances)).swapaxes(1, 2)
    model.precisions_ = np.linalg.inv(params.covariances)
    model.n_features_in_ = params.dim
    return model


@pytest.mark.parametrize("K, D", [(1, 1), (2, 2), (3, 2), (4, 3)])
def test_bic_and_aic_equal_sklearn(K, D):
    rng = np.random.default_rng(K * 10 + D)
    X = rng.normal(size=(300, D)) + np.repeat(np.arange(3)[:, None], 100, axis=0) * 3
    params = gmm.fit(X, K, rng=0, max_iter=50).params
    model = sklearn_model_of(params)
    assert gmm.n_parameters(K, D) == model._n_parameters() == (K - 1) + K * D + K * D * (D + 1) // 2
    assert gmm.bic(X, params) == pytest.approx(model.bic(X), rel=1e-12)
    assert gmm.aic(X, params) == pytest.approx(model.aic(X), rel=1e-12)
    L = gmm.log_likelihood(X, params)
    assert gmm.bic(X, params) == pytest.approx(-2 * L + gmm.n_parameters(K, D) * np.log(len(X)), rel=1e-14)
    assert gmm.aic(X, params) == pytest.approx(-2 * L + 2 * gmm.n_parameters(K, D), rel=1e-14)
