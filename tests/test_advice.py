"""Issue 15: advice that fits the context, and arguments of the wrong kind named instead of a raw numpy error.

Each message says what is wrong, naming the argument, and what to do: not "Use Prior.default" when Prior.default is
what failed, not "try theta = 0.5" to a run that started there, not "impute" about parameters, and "set reg_covar"
only from functions that take reg_covar.
"""
import numpy as np
import pytest

from emlib import datasets, gaussian, gmm, linkage, student_t, vb

X = datasets.old_faithful()
CONSTANT_COLUMN = np.column_stack([X[:, 0], np.ones(len(X))])


def message(call, error=ValueError) -> str:
    with pytest.raises(error) as info:
        call()
    return str(info.value)


def test_prior_default_does_not_recommend_itself():
    text = message(lambda: gmm.Prior.default(CONSTANT_COLUMN, 2))
    assert "no spread in some direction" in text and "variance in coordinate 1 is 0" in text
    assert "Use Prior.default" not in text and "constant" in text
    text = message(lambda: vb.Prior.default(CONSTANT_COLUMN, 2))
    assert "no spread in some direction" in text and "Prior.default" not in text


@pytest.mark.parametrize("counts, prior, side", [([10, 0, 0, 5], None, "1"), ([0, 3, 4, 0], None, "0"),
                                                  ([0, 3, 4, 0], (1, 2), "0")])
def test_linkage_on_the_boundary_says_so_and_keeps_the_start(counts, prior, side):
    """y2 = y3 = 0 puts the MLE at theta = 1, x2 + y4 = 0 at theta = 0: the first M step lands there. Before, the
    next E step said "theta must be strictly between 0 and 1, got 1.0; try theta = 0.5" to a run started at 0.5."""
    with pytest.raises(ValueError) as info:
        linkage.fit(counts, prior=prior)
    text = str(info.value)
    assert "try theta" not in text
    assert f"the M step gives theta = {side}" in text and f"the boundary theta = {side}" in text
    assert ("linkage.mle(counts)" in text) == (prior is None) and "prior=(2, 2)" in text
    assert info.value.result.params == 0.5 and info.value.result.n_iter == 0
    if prior is None:
        assert linkage.mle(counts) == float(side)
    assert 0 < linkage.fit(counts, prior=(2, 2)).params < 1  # what the message recommends works
    # the M step itself still gives the maximizer of Q, on the boundary: only the fit refuses to go on from there
    assert linkage.m_step(linkage.LinkageStats(5.0, 0.0)) == 1.0 and linkage.m_step(linkage.LinkageStats(0.0, 7.0)) == 0


def test_linkage_names_theta0():
    assert "theta0 must be a single number strictly between 0 and 1, got True; try theta0 = 0.5" in message(
        lambda: linkage.fit(datasets.genetic_linkage(), theta0=True))
    assert "theta0 must be" in message(lambda: linkage.fit(datasets.genetic_linkage(), theta0=1.5))


@pytest.mark.parametrize("call, name", [
    (lambda: gmm.GMMParams([0.5, 0.5], [[0, np.nan], [1, 1]], [np.eye(2)] * 2), "means"),
    (lambda: gmm.GMMParams([0.5, np.nan], [[0, 0], [1, 1]], [np.eye(2)] * 2), "weights"),
    (lambda: gmm.GMMParams([0.5, 0.5], [[0, 0], [1, 1]], [np.eye(2), np.full((2, 2), np.inf)]), "covariances"),
    (lambda: gmm.Prior([1, 1], [0, np.nan], 0.01, 4, np.eye(2)), "m0"),
    (lambda: gmm.Prior([1, np.inf], [0, 0], 0.01, 4, np.eye(2)), "alpha"),
    (lambda: gmm.Prior([1, 1], [0, 0], 0.01, 4, np.full((2, 2), np.nan)), "S0"),
    (lambda: vb.Prior(1.0, [0, np.nan], 1.0, 2, np.eye(2)), "the prior mean"),
    (lambda: vb.VBParams([1.0], [1.0], [[np.nan, 0]], [3.0], [np.eye(2)]), "means"),
    (lambda: student_t.StudentTParams([0, np.nan], np.eye(2), 5.0), "mean"),
])
def test_parameters_that_are_not_finite_are_not_told_to_impute(call, name):
    text = message(call)
    assert text.startswith(f"{name} has 1 NaN or infinite value") or text.startswith(f"{name} has 4 NaN")
    assert "impute" not in text and "must be finite numbers" in text


def test_data_that_are_not_finite_are_still_told_to_impute():
    bad = X.copy()
    bad[3, 1] = np.nan
    assert "remove or impute them before fitting" in message(lambda: gmm.fit(bad, 2))


POINTS = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0], [5.0, 5.0], [6.0, 6.0]])


def collapsing_statistics():
    """Statistics of a component on two points (a line: its covariance has rank 1) and of a healthy one."""
    resp = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    return gmm.gaussian_statistics(gaussian.features(POINTS), resp)


def test_the_caller_chooses_the_collapse_advice():
    stats = collapsing_statistics()
    default = message(lambda: gmm.gaussian_m_step(stats))
    assert "component 1 has collapsed" in default and "set reg_covar" in default
    regularised = message(lambda: gmm.gaussian_m_step(stats, reg_covar=1e-300))
    assert "reg_covar = 1e-300 is too small" in regularised and "increase it" in regularised
    custom = message(lambda: gmm.gaussian_m_step(stats, what="state", advice="Use fewer states."))
    assert custom.startswith("state 1 has collapsed") and custom.endswith("Use fewer states.")
    assert "reg_covar" not in custom
    flat = message(lambda: gmm.gaussian_map_step(stats, gmm.Prior.flat(2, 2)))
    assert "reg_covar" not in flat and "proper prior" in flat
    assert message(lambda: gmm.gaussian_map_step(stats, gmm.Prior.flat(2, 2), advice="Add data.")).endswith(
        "Add data.")
    # the mixture's own fit still says reg_covar, and MAP-EM with the flat prior does not
    start = gmm.GMMParams([0.6, 0.4], [[1.0, 1.0], [5.5, 5.5]], [np.eye(2), 0.1 * np.eye(2)])
    assert "set reg_covar" in message(lambda: gmm.fit(POINTS, start))
    assert "reg_covar" not in message(lambda: gmm.fit(POINTS, start, prior=gmm.Prior.flat(2, 2)))


START = gmm.initial_params(X, 2, rng=0)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: gmm.fit(X, 2, rng="abc"), TypeError, r"^rng must be None, an int seed"),
    (lambda: gmm.fit(X, 2, rng=-1), ValueError, r"^rng must be .* a seed must be >= 0, got -1"),
    (lambda: gmm.initial_params(X, 2, rng=1.5), TypeError, r"^rng must be"),
    (lambda: gmm.fit(X, 2, max_iter=None), TypeError, r"max_iter must be a whole number >= 0"),
    (lambda: gmm.fit(X, 2, tol=None), TypeError, r"tol must be a number >= 0"),
    (lambda: gmm.fit(X, 2, reg_covar=None), TypeError, r"^reg_covar must be a finite number >= 0"),
    (lambda: gmm.fit(X, 2, method="squarem", max_iter=None), TypeError, r"max_iter must be a whole number"),
    (lambda: gmm.fit_incremental(X, 2, 2, rng="abc"), TypeError, r"^rng must be"),
    (lambda: gmm.sample(START, -1), ValueError, r"^n must be a whole number >= 0 \(the number of draws\), got -1"),
    (lambda: gmm.sample(START, 2.5), TypeError, r"^n must be a whole number >= 0"),
    (lambda: gmm.sample(START, 5, rng="abc"), TypeError, r"^rng must be"),
    (lambda: gmm.sample(START.means, 5), TypeError, r"^params must be a GMMParams"),
    (lambda: gmm.fit(X, True), TypeError, r"^init must be a GMMParams.* or an int K .* got True"),
    (lambda: gmm.fit(X, 2.0), TypeError, r"^init must be a GMMParams.* got 2\.0"),
    (lambda: gmm.initial_params(X, True), TypeError, r"^K must be a whole number >= 1 \(the number of components\)"),
    (lambda: gmm.Prior.default(X, True), TypeError, r"^K must be a whole number >= 1"),
    (lambda: vb.fit(X, True), TypeError, r"^init must be an \(N, K\) matrix of responsibilities or an int K"),
    (lambda: vb.fit(X, 2, rng="abc"), TypeError, r"^rng must be"),
    (lambda: vb.fit(X, 2, max_iter=None), TypeError, r"max_iter must be a whole number"),
    (lambda: vb.Prior.default(X, True), TypeError, r"^K must be a whole number >= 1"),
    (lambda: student_t.fit(X, True), TypeError, r"^init must be a StudentTParams, a TMixtureParams or an int K"),
    (lambda: student_t.fit(X, 2, rng="abc"), TypeError, r"^rng must be"),
    (lambda: student_t.initial_params(X, True), TypeError, r"^K must be a whole number >= 1"),
    (lambda: student_t.sample(student_t.moment_params(X), -1), ValueError, r"^n must be a whole number >= 0"),
    (lambda: student_t.sample(student_t.moment_params(X), 3, rng="abc"), TypeError, r"^rng must be"),
    (lambda: student_t.sample_mixture(student_t.initial_params(X, 2, rng=0), -1), ValueError, r"^n must be"),
    (lambda: student_t.sample(student_t.initial_params(X, 2, rng=0), 3), TypeError, r"^params must be a StudentT"),
    (lambda: linkage.fit(datasets.genetic_linkage(), max_iter=None), TypeError, r"max_iter must be a whole number"),
    (lambda: linkage.fit(datasets.genetic_linkage(), tol="small"), TypeError, r"tol must be a number >= 0"),
])
def test_arguments_of_the_wrong_kind_are_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
