"""Bad input to the HMM code gets a ValueError that says what is wrong and what to do; never a silent NaN."""
import numpy as np
import pytest

from emlib import hmm

A = np.array([[0.9, 0.1], [0.2, 0.8]])
CAT = hmm.HMMParams([0.5, 0.5], A, hmm.Categorical([[0.5, 0.5, 0.0], [0.1, 0.1, 0.8]]))
GAUSS = hmm.HMMParams([0.5, 0.5], A, hmm.Gaussian([[0.0], [3.0]], [[[1.0]], [[1.0]]]))


@pytest.mark.parametrize("build, message", [
    (lambda: hmm.HMMParams([0.5, 0.5], [[0.9, 0.2], [0.2, 0.8]], CAT.emission),
     r"each row of transition must sum to one, but sums to 1.1 in row 0"),
    (lambda: hmm.HMMParams([0.5, 0.5], [[1.1, -0.1], [0.2, 0.8]], CAT.emission), r"must be non-negative"),
    (lambda: hmm.HMMParams([0.7, 0.7], A, CAT.emission), r"start must sum to one"),
    (lambda: hmm.HMMParams([0.5, 0.5], A[:1], CAT.emission), r"transition must have shape \(K, K\)"),
    (lambda: hmm.HMMParams([1 / 3] * 3, np.full((3, 3), 1 / 3), CAT.emission), r"the emission has 2 states but start has K = 3"),
    (lambda: hmm.Categorical([[0.5, 0.6]]), r"each row of the emission probs must sum to one"),
    (lambda: hmm.Gaussian([[0.0], [1.0]], [[[1.0]], [[-1.0]]]), r"emission covariances\[1\] is not positive definite"),
    (lambda: hmm.HMMParams([0.5, 0.5], A, np.eye(2)), r"emission must be hmm.Categorical"),
])
def test_invalid_parameters(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


@pytest.mark.parametrize("sequences, params, message", [
    (np.array([0, 1, 3]), CAT, r"symbol 3, outside the alphabet 0..2"),
    (np.array([0, -1]), CAT, r"symbol -1"),
    (np.array([0.0, 1.5]), CAT, r"symbol 1.5"),
    ([np.array([0, 1]), np.array([], dtype=int)], CAT, r"sequence 1 is empty"),
    (np.array([0.0, np.nan, 1.0]), GAUSS, r"NaN or infinite.*index \(1, 0\)"),
    (np.zeros((5, 3)), GAUSS, r"shape \(T, D\) with D = 1"),
    ([], CAT, r"non-empty list"),
])
def test_invalid_sequences(sequences, params, message):
    with pytest.raises(ValueError, match=message):
        hmm.log_likelihood(sequences, params)


def test_an_impossible_observation_is_named():
    """Symbol 2 has probability 0 in state 0; with start and transitions forcing state 0 it cannot be explained."""
    params = hmm.HMMParams([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], CAT.emission)
    for method in hmm.METHODS:
        with pytest.raises(ValueError, match=r"zero probability under these parameters"):
            hmm.log_likelihood(np.array([0, 1, 2]), params, method=method)
    with pytest.raises(ValueError, match=r"observation 0 has zero probability under every state"):
        hmm.log_likelihood(np.array([2]), hmm.HMMParams([1.0, 0.0], A, hmm.Categorical([[1.0, 0.0, 0.0]] * 2)))


def test_a_state_never_visited_is_named():
    """State 1 can never be reached (start 0, no transition into it): Baum-Welch cannot estimate its rows."""
    params = hmm.HMMParams([1.0, 0.0], [[1.0, 0.0], [0.5, 0.5]], hmm.Categorical([[0.5, 0.5], [0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"at iteration 1: state 1 has no expected transitions out of it.*never visited"):
        hmm.fit(np.array([0, 1, 1, 0]), params)


def test_fit_needs_hmm_params_and_a_known_method():
    with pytest.raises(TypeError, match="init must be an HMMParams"):
        hmm.fit(np.array([0, 1]), (CAT.start, CAT.transition, CAT.emission))
    with pytest.raises(ValueError, match=r"method must be one of"):
        hmm.log_likelihood(np.array([0, 1]), CAT, method="magic")


def test_one_step_and_list_inputs_are_fine():
    assert np.isfinite(hmm.log_likelihood(np.array([2]), CAT))
    assert hmm.log_likelihood([0, 1, 2], CAT) == pytest.approx(hmm.log_likelihood(np.array([0, 1, 2]), CAT))
    two = hmm.log_likelihood([np.array([0, 1]), np.array([2])], CAT)
    assert two == pytest.approx(hmm.log_likelihood(np.array([0, 1]), CAT) + hmm.log_likelihood(np.array([2]), CAT))


# ----------------------------------------------------------------------------------------------- issue 15

def test_replace_validates_like_the_constructor():
    """Before: HMMParams._replace and Categorical._replace took a negative start or a row summing to 1.1 (posteriors
    then below 0), and a Gaussian._replace copy had no Cholesky factor (AttributeError at its first density)."""
    with pytest.raises(ValueError, match=r"start must be non-negative"):
        CAT._replace(start=np.array([-0.5, 1.5]))
    with pytest.raises(ValueError, match=r"each row of transition must sum to one, but sums to 1.1 in row 0"):
        CAT._replace(transition=np.array([[0.9, 0.2], [0.2, 0.8]]))
    with pytest.raises(ValueError, match=r"each row of the emission probs must sum to one"):
        CAT.emission._replace(probs=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"emission covariances\[0\] is not positive definite"):
        GAUSS.emission._replace(covariances=np.array([[[-1.0]], [[1.0]]]))
    with pytest.raises(TypeError, match=r"emission must be hmm.Categorical"):
        CAT._replace(emission=np.eye(2))
    moved = GAUSS.emission._replace(means=np.array([[1.0], [2.0]]))
    assert isinstance(moved, hmm.Gaussian) and moved.means.flags.writeable is False
    assert moved.log_probs(np.array([[1.0]]))[0, 0] == pytest.approx(-0.5 * np.log(2 * np.pi))
    params = GAUSS._replace(emission=moved)
    assert hmm.log_likelihood(np.array([1.0, 2.0]), params) == pytest.approx(
        hmm.log_likelihood(np.array([1.0, 2.0]), hmm.HMMParams(GAUSS.start, GAUSS.transition, hmm.Gaussian(
            [[1.0], [2.0]], [[[1.0]], [[1.0]]]))), rel=1e-14)


def test_a_gaussian_covariance_must_be_symmetric():
    """Before: a non-symmetric covariance was taken, and only its lower triangle used."""
    with pytest.raises(ValueError, match=r"emission covariances must be symmetric"):
        hmm.Gaussian([[0.0, 0.0]], [[[1.0, 0.5], [0.0, 1.0]]])
    with pytest.raises(ValueError, match=r"emission covariances must be symmetric"):
        hmm.Gaussian([[0.0, 0.0]], [np.eye(2)])._replace(covariances=np.array([[[1.0, 0.5], [0.0, 1.0]]]))
    with pytest.raises(ValueError, match=r"emission covariances\[0\] is not positive definite.*positive eigenvalues"):
        hmm.Gaussian([[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]])


@pytest.mark.parametrize("call, error, message", [
    (lambda: hmm.sample(CAT, 5, rng="abc"), TypeError, r"rng must be None, an int seed .* or a numpy Generator.*'abc'"),
    (lambda: hmm.sample(CAT, 5, rng=1.5), TypeError, r"rng must be None, an int seed"),
    (lambda: hmm.sample(CAT, 5, rng=-1), ValueError, r"rng .* seed must be >= 0"),
    (lambda: hmm.fit(np.array([0, 1, 2, 0]), 2, rng="abc"), TypeError, r"rng must be None, an int seed"),
    (lambda: hmm.sample(CAT, -1), ValueError, r"length must be a whole number >= 1 \(the number of steps\), got -1"),
    (lambda: hmm.sample(CAT, 0), ValueError, r"length must be a whole number >= 1"),
    (lambda: hmm.sample(CAT, 2.5), TypeError, r"length must be a whole number.*got 2.5"),
    (lambda: hmm.sample(CAT, True), TypeError, r"length must be a whole number.*bool"),
    (lambda: hmm.fit(np.array([0, 1]), CAT, max_iter=None), TypeError, r"max_iter must be a whole number >= 0.*None"),
    (lambda: hmm.fit(np.array([0, 1]), CAT, max_iter=-2), ValueError, r"max_iter must be a whole number >= 0"),
    (lambda: hmm.fit(np.array([0, 1]), CAT, tol=None), TypeError, r"tol must be a number >= 0.*None"),
    (lambda: hmm.fit(np.array([0, 1]), CAT, tol=-1e-3), ValueError, r"tol must be a number >= 0.*-0.001"),
    (lambda: hmm.fit(np.array([0, 1]), CAT, tol=float("nan")), ValueError, r"tol must be a number >= 0"),
    (lambda: hmm.fit(np.array([0, 1]), CAT, method="slow"), ValueError,
     r"method must be one of \('fast', 'scaled', 'log'\), got 'slow'"),
    (lambda: hmm.posteriors(np.array([0, 1]), CAT, method="slow"), ValueError, r"method must be one of"),
    (lambda: hmm.e_step(np.array([0, 1]), CAT, method="slow"), ValueError, r"method must be one of"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("function", [
    lambda x: hmm.log_likelihood(x, CAT), lambda x: hmm.fit(x, CAT), lambda x: hmm.viterbi(x, CAT),
    lambda x: hmm.posteriors(x, CAT), lambda x: hmm.fit(x, 2, rng=0),
])
@pytest.mark.parametrize("x", [np.array(["a", "b", "a"]), ["a", "b", "a"], np.array([b"a", b"b"])])
def test_string_symbols_say_how_to_recode(function, x):
    recode = r"symbols must be integers 0..M-1, got strings.*np.unique\(x, return_inverse=True\)"
    with pytest.raises(ValueError, match=recode):
        function(x)


@pytest.mark.parametrize("sequences, lengths, message", [
    (np.array([0, 1, 2, 0]), [2, 3], r"lengths sum to 5 but the sequences have 4 observations"),
    (np.array([0, 1, 2, 0]), [4, 0], r"lengths must be positive"),
    (np.array([0, 1, 2, 0]), [2.5, 1.5], r"lengths must be whole numbers"),
    (np.array([0, 1, 2, 0]), [[2, 2]], r"lengths must be a 1-D list"),
    ([np.array([0, 1]), np.array([2, 0])], [2, 2], r"lengths= splits one concatenated array"),
])
def test_bad_lengths_are_named(sequences, lengths, message):
    with pytest.raises(ValueError, match=message):
        hmm.log_likelihood(sequences, CAT, lengths=lengths)


def test_symbols_in_a_column_or_a_matrix():
    """hmmlearn's (T, 1) column of symbols is one sequence; a wider 2-D array is not symbols."""
    column = hmm.log_likelihood(np.array([[0], [1], [2]]), CAT)
    assert column == pytest.approx(hmm.log_likelihood(np.array([0, 1, 2]), CAT))
    wide = r"1-D array of symbols \(or hmmlearn's \(T, 1\) column\), got shape \(2, 3\).*list"
    with pytest.raises(ValueError, match=wide):
        hmm.log_likelihood(np.array([[0, 1, 2], [1, 2, 0]]), CAT)


def collapsing_problem():
    """State 1 sits on one outlier with a tiny variance: after one M step it holds that one point, variance 0."""
    x = np.random.default_rng(0).normal(size=50)
    x[25] = 10.0
    params = hmm.HMMParams([0.5, 0.5], A, hmm.Gaussian([[0.0], [10.0]], [[[1.0]], [[1e-4]]]))
    return x, params


def test_a_collapsing_state_gets_advice_that_hmm_offers():
    """Before: hmm.fit told the user to "set reg_covar", an argument of gmm.fit that hmm.fit does not have."""
    x, params = collapsing_problem()
    with pytest.raises(ValueError, match=r"state 1 has collapsed") as info:
        hmm.fit(x, params)
    message = str(info.value)
    assert "reg_covar" not in message and "component" not in message
    assert "hmm.Prior" in message and "gmm.Prior.default" in message and "fewer states" in message
    assert "rng" in message or "other initial parameters" in message
    with pytest.raises(ValueError, match=r"state 1 has collapsed") as info:
        hmm.m_step(hmm.e_step(x, params)[0])
    assert "reg_covar" not in str(info.value)
    # the advice works: with the NIW prior it names, MAP Baum-Welch does not collapse
    from emlib import gmm
    prior = hmm.Prior(np.ones(2), np.ones((2, 2)), gmm.Prior.default(x, 2))
    assert hmm.fit(x, params, prior=prior).converged
