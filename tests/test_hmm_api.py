"""emlib.hmm's calling conventions: one rule for "one sequence or several" (an array, its ``tolist()``, a list of it and
hmmlearn's concatenation with ``lengths=`` all mean the same data, checked against hmmlearn's ``score``), and the seeded
start ``hmm.fit(sequences, K, rng=...)``."""
import warnings

import numpy as np
import pytest

from emlib import hmm

A = np.array([[0.8, 0.2], [0.3, 0.7]])
CAT = hmm.HMMParams([0.6, 0.4], A, hmm.Categorical([[0.4, 0.3, 0.1, 0.1, 0.05, 0.05], [0.1, 0.1, 0.1, 0.2, 0.2, 0.3]]))
GAUSS1 = hmm.HMMParams([0.6, 0.4], A, hmm.Gaussian([[0.0], [3.0]], [[[1.0]], [[2.0]]]))
GAUSS2 = hmm.HMMParams([0.6, 0.4], A, hmm.Gaussian([[0.0, 0.0], [2.0, 1.0]],
                                                   [[[1.0, 0.3], [0.3, 1.0]], [[2.0, 0.0], [0.0, 0.5]]]))
PARAMS = {"categorical": CAT, "gaussian D=1": GAUSS1, "gaussian D=2": GAUSS2}


def one_sequence(name, T=9, seed=0):
    x, _ = hmm.sample(PARAMS[name], T, rng=seed)
    return x


def spellings(name, x):
    """The same one sequence written every way a user might: the array, hmmlearn's (T, 1) column for symbols, its
    tolist() (nested lists for (T, 1) and (T, D)), a tuple, a list holding it, and one concatenation with lengths."""
    out = {"array": (x, {}), "tolist": (x.tolist(), {}), "tuple": (tuple(x.tolist()), {}), "[x]": ([x], {}),
           "lengths=[T]": (x, {"lengths": [len(x)]})}
    column = x.reshape(len(x), -1)
    out["(T, 1) or (T, D)"] = (column, {})
    out["(T, 1) or (T, D) tolist"] = (column.tolist(), {})
    if x.ndim == 2 and x.shape[1] == 1:
        out["(T,)"] = (x[:, 0], {})
        out["(T,) tolist"] = (x[:, 0].tolist(), {})
    return out


@pytest.mark.parametrize("name", PARAMS)
def test_one_sequence_means_the_same_however_it_is_written(name):
    """Before: ``x.tolist()`` of a (T, 1) array was read as T sequences of one step by log_likelihood, fit and e_step
    (and as one sequence by posteriors and viterbi); hmmlearn's (T, 1) column of symbols was refused."""
    params = PARAMS[name]
    x = one_sequence(name)
    reference = hmm.log_likelihood(x, params, method="scaled")
    reference_fit = hmm.fit(x, params, max_iter=3, tol=0)
    reference_post = hmm.posteriors(x, params)
    reference_path = hmm.viterbi(x, params)
    stats, _ = hmm.e_step(x, params)
    for spelling, (data, kw) in spellings(name, x).items():
        for method in hmm.METHODS:
            value = hmm.log_likelihood(data, params, method=method, **kw)
            assert value == pytest.approx(reference, rel=1e-12), (spelling, method)
        other, log_p = hmm.e_step(data, params, **kw)
        assert log_p == pytest.approx(reference, rel=1e-12), spelling
        assert other.n_sequences == 1, spelling
        np.testing.assert_allclose(other.transitions, stats.transitions, rtol=1e-12, err_msg=spelling)
        result = hmm.fit(data, params, max_iter=3, tol=0, **kw)
        np.testing.assert_allclose(result.objective, reference_fit.objective, rtol=1e-12, err_msg=spelling)
        if kw:
            continue  # posteriors and viterbi take one sequence: no lengths
        post = hmm.posteriors(data, params)
        np.testing.assert_allclose(post.gamma, reference_post.gamma, rtol=1e-12, err_msg=spelling)
        path, log_prob = hmm.viterbi(data, params)
        np.testing.assert_array_equal(path, reference_path[0], err_msg=spelling)
        assert log_prob == pytest.approx(reference_path[1], rel=1e-12), spelling


def several(name, lengths=(7, 3, 12), seed=1):
    rng = np.random.default_rng(seed)
    return [hmm.sample(PARAMS[name], T, rng)[0] for T in lengths]


@pytest.mark.parametrize("name", PARAMS)
def test_several_sequences_mean_the_same_however_they_are_written(name):
    """A list of arrays, the list of their tolist()s (ragged), and hmmlearn's concatenation with lengths=; equal
    lengths too (a 2-D list of symbols, a 3-D nested list of vectors, a list of (T, 1) arrays)."""
    params = PARAMS[name]
    for lengths in [(7, 3, 12), (5, 5, 5)]:
        seqs = several(name, lengths)
        reference = sum(hmm.log_likelihood(s, params) for s in seqs)
        ways = {"list of arrays": (seqs, {}), "tuple of arrays": (tuple(seqs), {}),
                "list of lists": ([s.tolist() for s in seqs], {}),
                "list of columns": ([s.reshape(len(s), -1) for s in seqs], {}),
                "list of column lists": ([s.reshape(len(s), -1).tolist() for s in seqs], {}),
                "lengths": (np.concatenate(seqs), {"lengths": list(lengths)}),
                "lengths, array": (np.concatenate(seqs), {"lengths": np.array(lengths)}),
                "lengths, a column": (np.concatenate(seqs).reshape(sum(lengths), -1), {"lengths": lengths})}
        for way, (data, kw) in ways.items():
            assert hmm.log_likelihood(data, params, **kw) == pytest.approx(reference, rel=1e-12), (lengths, way)
            stats, _ = hmm.e_step(data, params, **kw)
            assert stats.n_sequences == 3, (lengths, way)
        objective = hmm.fit(seqs, params, max_iter=3, tol=0).objective
        np.testing.assert_allclose(hmm.fit(np.concatenate(seqs), params, lengths=lengths, max_iter=3, tol=0).objective,
                                   objective, rtol=1e-12)
        np.testing.assert_allclose(hmm.fit([s.tolist() for s in seqs], params, max_iter=3, tol=0).objective,
                                   objective, rtol=1e-12)


def test_split_arrays_equal_lengths():
    x = one_sequence("categorical", T=30)
    lengths = [10, 15, 5]
    parts = np.split(x, np.cumsum(lengths)[:-1])
    assert hmm.log_likelihood(parts, CAT) == pytest.approx(hmm.log_likelihood(x, CAT, lengths=lengths), rel=1e-12)
    assert hmm.log_likelihood(x, CAT, lengths=[30]) == pytest.approx(hmm.log_likelihood(x, CAT), rel=1e-12)
    assert hmm.log_likelihood(x, CAT, lengths=None) == pytest.approx(hmm.log_likelihood(x, CAT), rel=1e-12)


def hmmlearn_score(X, lengths, params):
    from hmmlearn.hmm import CategoricalHMM, GaussianHMM

    e = params.emission
    if isinstance(e, hmm.Categorical):
        model = CategoricalHMM(n_components=params.n_states, init_params="", params="", n_features=e.probs.shape[1])
        model.emissionprob_ = e.probs
    else:
        model = GaussianHMM(n_components=params.n_states, covariance_type="full", init_params="", params="")
        model.means_, model.covars_ = e.means, e.covariances
    model.startprob_, model.transmat_ = params.start, params.transition
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.score(X, lengths)


@pytest.mark.parametrize("name", PARAMS)
def test_hmmlearns_convention_agrees_with_hmmlearn(name):
    """hmmlearn's X: one (n, 1) int column of symbols (or (n, D) vectors) and lengths; score is the total
    log-likelihood."""
    params = PARAMS[name]
    seqs = several(name, (40, 1, 25, 60))
    X = np.concatenate(seqs).reshape(sum(map(len, seqs)), -1)
    lengths = [len(s) for s in seqs]
    expected = hmmlearn_score(X, lengths, params)
    assert hmm.log_likelihood(X, params, lengths=lengths) == pytest.approx(expected, rel=1e-10)
    assert hmm.log_likelihood(seqs, params) == pytest.approx(expected, rel=1e-10)
    assert hmm.log_likelihood(X, params) == pytest.approx(hmmlearn_score(X, None, params), rel=1e-10)


@pytest.mark.parametrize("function", [hmm.posteriors, hmm.viterbi])
def test_posteriors_and_viterbi_refuse_several_sequences(function):
    seqs = several("categorical")
    name = function.__name__
    for data in [seqs, [s.tolist() for s in seqs], [[0, 1, 2], [1, 2, 0], [2, 2, 2]]]:
        with pytest.raises(ValueError, match=rf"{name} .* one sequence; got 3: call it on each"):
            function(data, CAT)


def test_lists_of_arrays_used_by_the_course_keep_their_meaning():
    """The course's notebooks and assignments pass lists of arrays from hmm.sample: several sequences, as before,
    also when every one has a single step."""
    seqs = [np.array([0]), np.array([5]), np.array([2])]
    expected = sum(hmm.log_likelihood(s, CAT) for s in seqs)
    assert hmm.log_likelihood(seqs, CAT) == pytest.approx(expected, rel=1e-12)
    assert hmm.e_step(seqs, CAT)[0].n_sequences == 3
    assert hmm.log_likelihood([0, 5, 2], CAT) == pytest.approx(hmm.log_likelihood(np.array([0, 5, 2]), CAT))


# ----------------------------------------------------------------------------------------------- seeded start

def categorical_data(seed=0, n=6, T=80):
    truth = hmm.HMMParams([0.5, 0.5], [[0.95, 0.05], [0.1, 0.9]],
                          hmm.Categorical([[1 / 6] * 6, [0.1, 0.1, 0.1, 0.1, 0.1, 0.5]]))
    rng = np.random.default_rng(seed)
    return [hmm.sample(truth, T, rng)[0] for _ in range(n)]


def gaussian_data(seed=0, n=3, T=200):
    rng = np.random.default_rng(seed)
    return [hmm.sample(GAUSS2, T, rng)[0] for _ in range(n)]


def test_seeded_start_categorical():
    seqs = categorical_data()
    a, b = hmm.fit(seqs, 2, rng=3), hmm.fit(seqs, 2, rng=3)
    np.testing.assert_array_equal(a.objective, b.objective)
    for x, y in zip(a.params, b.params):
        np.testing.assert_array_equal(getattr(x, "probs", x), getattr(y, "probs", y))
    assert a.converged and np.all(np.diff(a.objective) >= -1e-10 * abs(a.objective[:-1]))
    assert a.params.emission.probs.shape == (2, 6)  # M = the largest symbol + 1
    other = hmm.fit(seqs, 2, rng=4)
    assert other.objective[0] != a.objective[0]  # another seed, another start
    start = hmm.initial_params(seqs, 3, rng=np.random.default_rng(5))
    assert isinstance(start, hmm.HMMParams) and start.n_states == 3
    np.testing.assert_allclose(start.start, 1 / 3)
    assert np.all(np.diag(start.transition) >= 0.5) and np.all(start.transition > 0)
    assert np.all(start.emission.probs > 0)
    assert hmm.initial_params(seqs, 2, n_symbols=9, rng=0).emission.probs.shape == (2, 9)
    assert hmm.fit(seqs, 2, n_symbols=9, rng=0, max_iter=2).params.emission.probs.shape == (2, 9)
    # a generator is used, not copied: two calls on one generator give two different starts
    rng = np.random.default_rng(0)
    first, second = hmm.initial_params(seqs, 2, rng=rng), hmm.initial_params(seqs, 2, rng=rng)
    assert not np.array_equal(first.transition, second.transition)


def test_seeded_start_gaussian():
    seqs = gaussian_data()
    a, b = hmm.fit(seqs, 2, emission="gaussian", rng=1), hmm.fit(seqs, 2, emission="gaussian", rng=1)
    np.testing.assert_array_equal(a.objective, b.objective)
    np.testing.assert_array_equal(a.params.emission.means, b.params.emission.means)
    assert a.converged and isinstance(a.params.emission, hmm.Gaussian)
    start = hmm.initial_params(seqs, 3, emission="gaussian", rng=2)
    X = np.concatenate(seqs)
    for mean in start.emission.means:  # each mean is one of the observations
        assert np.any(np.all(X == mean, axis=1))
    np.testing.assert_allclose(start.emission.covariances, np.broadcast_to(np.cov(X.T, bias=True), (3, 2, 2)))
    other = hmm.initial_params(seqs, 3, emission="gaussian", rng=3)
    assert not np.array_equal(start.emission.means, other.emission.means)
    # the same fit from the concatenation with lengths, and D = 1 data as a 1-D array
    c = hmm.fit(X, 2, emission="gaussian", rng=1, lengths=[len(s) for s in seqs])
    np.testing.assert_array_equal(c.objective, a.objective)
    one_d = hmm.fit(X[:, 0], 2, emission="gaussian", rng=0)
    assert one_d.params.emission.means.shape == (2, 1)


@pytest.mark.parametrize("K, error, message", [
    (True, TypeError, r"K .* bool"),
    (2.0, TypeError, r"init must be an HMMParams or an int"),
    (0, ValueError, r"number of states K must be at least 1, got 0"),
    (-1, ValueError, r"at least 1"),
    (500, ValueError, r"K = 500 states .* only 480 observations.*use K <= 480"),
])
def test_the_number_of_states_is_checked(K, error, message):
    with pytest.raises(error, match=message):
        hmm.fit(categorical_data(), K, rng=0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_symbols=3), r"n_symbols = 3 .* symbol 5.*n_symbols >= 6"),
    (dict(n_symbols=0), r"n_symbols must be"),
    (dict(emission="poisson"), r"emission must be 'categorical' or 'gaussian'"),
])
def test_the_seeded_starts_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hmm.fit(categorical_data(), 2, rng=0, **kwargs)


def test_the_seeded_starts_options_need_an_int_k():
    with pytest.raises(ValueError, match=r"emission= and n_symbols= .* init is an int K"):
        hmm.fit(categorical_data(), CAT, emission="gaussian")


def test_a_gaussian_start_needs_spread_and_distinct_points():
    with pytest.raises(ValueError, match=r"fewer than K = 3 distinct observations"):
        hmm.fit(np.array([0.0, 1.0, 0.0, 1.0]), 3, emission="gaussian", rng=0)
    X = np.c_[np.arange(10.0), np.ones(10)]
    with pytest.raises(ValueError, match=r"no spread in some direction") as info:
        hmm.fit(X, 2, emission="gaussian", rng=0)
    assert "reg_covar" not in str(info.value)
