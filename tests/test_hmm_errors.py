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
