"""emlib's Baum-Welch is exact: against hmmlearn from the same start, brute-force enumeration, and its own
readable recursions."""
import itertools
import warnings

import numpy as np
import pytest

from emlib import forward_backward as fb
from emlib import hmm
from emlib.em import ROUNDOFF

N_ITER = 20


def random_params(rng, K, emission="gaussian", D=1, M=5, stay=0.8):
    """A random HMM: sticky transitions, well-spread emissions."""
    A = stay * np.eye(K) + (1 - stay) * rng.dirichlet(np.ones(K), size=K)
    start = rng.dirichlet(np.ones(K))
    if emission == "gaussian":
        B = rng.normal(size=(K, D, D))
        em = hmm.Gaussian(rng.normal(scale=2.0, size=(K, D)), B @ B.swapaxes(1, 2) / D + 0.3 * np.eye(D))
    else:
        em = hmm.Categorical(rng.dirichlet(np.ones(M), size=K))
    return hmm.HMMParams(start, A, em)


def perturbed(rng, params, scale=0.3):
    """A start for EM near, but not at, the truth."""
    K = params.n_states
    A = params.transition + scale * rng.dirichlet(np.ones(K), size=K)
    start = params.start + scale * rng.dirichlet(np.ones(K))
    e = params.emission
    if isinstance(e, hmm.Gaussian):
        em = hmm.Gaussian(e.means + scale * rng.normal(size=e.means.shape), e.covariances * (1 + scale))
    else:
        P = e.probs + scale * rng.dirichlet(np.ones(e.probs.shape[1]), size=K)
        em = hmm.Categorical(P / P.sum(axis=1, keepdims=True))
    return hmm.HMMParams(start / start.sum(), A / A.sum(axis=1, keepdims=True), em)


def hmmlearn_model(params, n_iter):
    """hmmlearn from the same start: no initialisation, no priors (covars_prior=0), never stopping early."""
    from hmmlearn import hmm as hl

    e = params.emission
    if isinstance(e, hmm.Gaussian):
        model = hl.GaussianHMM(params.n_states, covariance_type="full", init_params="", params="stmc",
                               covars_prior=0, n_iter=n_iter, tol=-np.inf, implementation="scaling")
        model.means_, model.covars_ = e.means, e.covariances
    else:
        model = hl.CategoricalHMM(params.n_states, init_params="", params="ste", n_iter=n_iter, tol=-np.inf,
                                  n_features=e.probs.shape[1], implementation="scaling")
        model.emissionprob_ = e.probs
    model.startprob_, model.transmat_ = params.start, params.transition
    return model


def hmmlearn_fit(sequences, params, n_iter):
    """hmmlearn's objective trajectory: ``monitor_.history`` holds the TOTAL log-likelihood computed in the E step of
    each iteration, i.e. entry i is at the parameters after i iterations (emlib's objective[i])."""
    model = hmmlearn_model(params, n_iter)
    X = np.concatenate(sequences)
    X = X.reshape(len(X), -1) if isinstance(params.emission, hmm.Gaussian) else X.reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, [len(s) for s in sequences])
    return np.array(model.monitor_.history), model


CASES = [(emission, K, D, n_seq, seed) for seed, (emission, K, D, n_seq) in enumerate([
    ("gaussian", 2, 1, 1), ("gaussian", 3, 2, 1), ("gaussian", 5, 1, 7), ("gaussian", 4, 2, 30),
    ("categorical", 2, 0, 1), ("categorical", 3, 0, 12), ("categorical", 5, 0, 1), ("categorical", 4, 0, 40)])]


@pytest.mark.parametrize("emission, K, D, n_seq, seed", CASES)
@pytest.mark.parametrize("method", ["fast", "scaled"])
def test_objective_trajectory_equals_hmmlearn(emission, K, D, n_seq, seed, method):
    rng = np.random.default_rng(seed)
    truth = random_params(rng, K, emission, D=D)
    lengths = [6000] if n_seq == 1 else rng.integers(20, 300, size=n_seq)  # 6000 >= hmm.LONG: the chunked path
    sequences = [hmm.sample(truth, int(T), rng)[0] for T in lengths]
    start = perturbed(rng, truth)
    result = hmm.fit(sequences, start, max_iter=N_ITER, tol=0, method=method)
    reference, model = hmmlearn_fit(sequences, start, N_ITER)
    assert np.ptp(reference) > 1e-6 * abs(reference[-1])  # EM moved
    np.testing.assert_allclose(result.objective[:N_ITER], reference, rtol=1e-9, atol=0)
    np.testing.assert_allclose(result.params.transition, model.transmat_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(result.params.start, model.startprob_, rtol=1e-6, atol=1e-9)


def test_a_million_steps_do_not_underflow():
    rng = np.random.default_rng(7)
    params = random_params(rng, 3, "gaussian", D=1)
    x, _ = hmm.sample(params, 1_000_000, rng)
    log_p = hmm.log_likelihood(x, params)
    model = hmmlearn_model(params, 1)
    assert np.isfinite(log_p) and log_p == pytest.approx(model.score(x.reshape(-1, 1)), rel=1e-10)
    post = hmm.posteriors(x, params, method="fast")
    np.testing.assert_allclose(post.gamma.sum(axis=1), 1.0, atol=1e-12)
    assert post.log_likelihood == pytest.approx(log_p, rel=1e-12)
    # the plain product of probabilities underflows long before: the forward pass without scaling is -inf
    b = np.exp(params.emission.log_probs(x[:5000]))
    alpha = params.start * b[0]
    for t in range(1, 5000):
        alpha = (alpha @ params.transition) * b[t]
    assert alpha.sum() == 0.0


def enumerate_paths(x, params):
    """Every state path of a tiny problem: log p(x, z) for each z, the brute-force truth."""
    K, T = params.n_states, len(x)
    log_b = params.emission.log_probs(x)
    paths = np.array(list(itertools.product(range(K), repeat=T)))
    log_joint = (np.log(params.start)[paths[:, 0]] + log_b[np.arange(T), paths].sum(axis=1)
                 + np.log(params.transition)[paths[:, :-1], paths[:, 1:]].sum(axis=1))
    return paths, log_joint


@pytest.mark.parametrize("seed", range(6))
def test_forward_backward_and_viterbi_equal_brute_force_enumeration(seed):
    rng = np.random.default_rng(100 + seed)
    K, T = 2 + seed % 3, 6
    params = random_params(rng, K, "categorical" if seed % 2 else "gaussian", D=2, stay=0.5)
    x, _ = hmm.sample(params, T, rng)
    paths, log_joint = enumerate_paths(x, params)
    log_p = np.logaddexp.reduce(log_joint)
    weights = np.exp(log_joint - log_p)
    gamma = np.stack([np.bincount(paths[:, t], weights=weights, minlength=K) for t in range(T)])
    xi = np.zeros((K, K))
    for t in range(T - 1):
        np.add.at(xi, (paths[:, t], paths[:, t + 1]), weights)
    for method in ("scaled", "log", "fast"):
        post = hmm.posteriors(x, params, method=method)
        assert post.log_likelihood == pytest.approx(log_p, rel=1e-12)
        np.testing.assert_allclose(post.gamma, gamma, atol=1e-12)
        np.testing.assert_allclose(post.transitions, xi, atol=1e-12)
    assert hmm.log_likelihood(x, params) == pytest.approx(log_p, rel=1e-12)
    path, log_prob = hmm.viterbi(x, params)
    assert log_prob == pytest.approx(log_joint.max(), rel=1e-12)
    np.testing.assert_array_equal(path, paths[log_joint.argmax()])


@pytest.mark.parametrize("L", [1, 2, 7, 64, 300, 10_000])
def test_the_grid_forward_backward_equals_the_plain_recursion(L):
    """One long sequence cut into chunks of L steps, and several of unequal lengths (chunked and padded), against
    Rabiner's recursion run on each sequence alone."""
    rng = np.random.default_rng(L)
    params = random_params(rng, 4, "categorical", stay=0.3)
    x, _ = hmm.sample(params, 3001, rng)
    b, s = fb.scaled_emissions(params.emission.log_probs(x))
    for lengths in ([3001], [1, 49, 1, 849, 2101]):
        pieces = np.split(np.arange(len(x)), np.cumsum(lengths)[:-1])
        want = [fb.scaled(b[i], s[i], params.start, params.transition) for i in pieces]
        gamma, start_counts, transitions, log_p = fb.fast(b, s, lengths, params.start, params.transition, L=L)
        assert log_p == pytest.approx(sum(w.log_likelihood for w in want), rel=1e-12)
        np.testing.assert_allclose(gamma, np.concatenate([w.gamma for w in want]), atol=1e-12)
        np.testing.assert_allclose(start_counts, sum(w.gamma[0] for w in want), rtol=1e-12)
        np.testing.assert_allclose(transitions, sum(w.transitions for w in want), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", ["informative: sweeps settle", "slow mixing, barely informative: transfer matrices"])
def test_boundary_messages_by_sweeps_or_by_transfer_matrices_are_exact(case):
    """With a space (as in every E step of a fit), the boundary messages between chunks are first sought by
    sweeps from guesses; where the chain mixes and the symbols inform, the guesses settle and the transfer matrices
    are never built; where they cannot settle within a chunk (A near the identity, near-identical emissions),
    the grid falls back to the transfer matrices. Both equal the plain recursion."""
    rng = np.random.default_rng(11)
    if case.startswith("informative"):
        params = random_params(rng, 3, "categorical", stay=0.6)
    else:
        params = hmm.HMMParams([0.5, 0.5], [[0.999, 0.001], [0.002, 0.998]],
                               hmm.Categorical([[0.5, 0.5], [0.49, 0.51]]))
    x, _ = hmm.sample(params, 20_000, rng)
    b, s = fb.scaled_emissions(params.emission.log_probs(x))
    reference = fb.scaled(b, s, params.start, params.transition)
    space = {}
    for _ in range(2):  # the second call starts from the messages the first one found
        gamma, start_counts, transitions, log_p = fb.fast(b, s, [len(x)], params.start, params.transition, space=space)
        assert log_p == pytest.approx(reference.log_likelihood, rel=1e-12)
        np.testing.assert_allclose(gamma, reference.gamma, atol=1e-12)
        np.testing.assert_allclose(transitions, reference.transitions, rtol=1e-12, atol=1e-12)
    assert space.get("sweeps fail", False) == case.startswith("slow")
    assert ("P" in space) == case.startswith("slow")  # the transfer matrices' buffer exists only if they were built


def test_the_grid_layout():
    """Sequences of lengths 3 and 5 in chunks of L = 2: columns 0-1 hold the first, 2-4 the second."""
    grid = fb.Grid.of([3, 5], L=2)
    assert (grid.L, grid.C) == (2, 5)
    # step t of a sequence with head column h sits at (t mod 2, h + t div 2), flat (t mod 2) * 5 + h + t div 2
    np.testing.assert_array_equal(grid.cells, [0, 5, 1, 2, 7, 3, 8, 4])
    np.testing.assert_array_equal(grid.padding, [6, 9])
    np.testing.assert_array_equal(grid.heads, [0, 2])
    np.testing.assert_array_equal(grid.before, [0, 1, 0, 1, 2])
    np.testing.assert_array_equal(grid.after, [1, 0, 2, 1, 0])
    np.testing.assert_array_equal(grid.continued, [1, 3, 4])


def test_tiny_transition_probabilities_shorten_the_renormalisation_interval():
    """Transitions of 1e-30 between two states that emit disjoint symbol sets, so the path must switch: a message
    may lose a factor 1e-30 per step, the rule (mass >= 1e-100 between renormalisations) allows R = 3 steps, and the
    fast results still equal the plain recursion."""
    A = np.array([[1 - 1e-30, 1e-30], [1e-30, 1 - 1e-30]])
    assert fb.renormalisation_interval(A) == 3  # floor(100 / 30)
    params = hmm.HMMParams([0.5, 0.5], A, hmm.Categorical([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]))
    x = np.array([0, 1, 1, 1, 2, 1, 1, 0] * 50)
    for method in ("scaled", "fast", "log"):
        post = hmm.posteriors(x, params, method=method)
        assert np.isfinite(post.log_likelihood) and np.isfinite(post.gamma).all()
    reference = hmm.posteriors(x, params, method="scaled")
    fast = hmm.posteriors(x, params, method="fast")
    assert fast.log_likelihood == pytest.approx(reference.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(fast.gamma, reference.gamma, atol=1e-12)
    np.testing.assert_allclose(fast.transitions, reference.transitions, rtol=1e-9, atol=1e-12)


def test_structural_zeros_are_kept_and_exact():
    """A left-to-right chain (zeros in A: renormalisation at every step) stays left-to-right under Baum-Welch."""
    rng = np.random.default_rng(3)
    A = np.array([[0.9, 0.1, 0.0], [0.0, 0.95, 0.05], [0.0, 0.0, 1.0]])
    params = hmm.HMMParams([1.0, 0.0, 0.0], A, hmm.Gaussian([[0.0], [3.0], [6.0]], np.ones((3, 1, 1))))
    sequences = [hmm.sample(params, 200, rng)[0] for _ in range(20)]
    result = hmm.fit(sequences, params, max_iter=30, tol=0)
    assert np.all(result.params.transition[np.triu_indices(3)[::-1]] >= 0)
    np.testing.assert_array_equal(np.tril(result.params.transition, -1), 0.0)
    reference, _ = hmmlearn_fit(sequences, params, 30)
    np.testing.assert_allclose(result.objective[:30], reference, rtol=1e-9)


@pytest.mark.parametrize("emission", ["gaussian", "categorical"])
def test_baum_welch_never_decreases_the_objective(emission):
    """A seeded sweep over 150 random problems per emission type, with the driver's guard off."""
    from emlib.em import run_em
    from functools import partial

    for seed in range(150):
        rng = np.random.default_rng([seed, len(emission)])
        K = int(rng.integers(2, 5))
        truth = random_params(rng, K, emission, D=int(rng.integers(1, 3)), stay=rng.uniform(0.2, 0.95))
        sequences = [hmm.sample(truth, int(T), rng)[0] for T in rng.integers(5, 150, size=rng.integers(1, 6))]
        start = perturbed(rng, truth, scale=1.0)
        data = hmm.prepare(sequences, start.emission)
        try:
            result = run_em(partial(hmm.e_step, data), hmm.m_step, start, max_iter=60, tol=0, check_monotone=False)
        except ValueError as error:  # a state emptied or a covariance collapsed: documented errors, not bugs
            assert "state" in str(error), str(error)
            continue
        gains = np.diff(result.objective)
        assert gains.min() >= -ROUNDOFF * np.abs(result.objective).max(), (seed, gains.min())


def test_statistics_add_over_sequences():
    rng = np.random.default_rng(11)
    params = random_params(rng, 3, "gaussian", D=2)
    a, b = hmm.sample(params, 400, rng)[0], hmm.sample(params, 9000, rng)[0]
    both, log_p = hmm.e_step([a, b], params)
    sa, la = hmm.e_step(a, params)
    sb, lb = hmm.e_step(b, params)
    total = sa + sb
    assert la + lb == pytest.approx(log_p, rel=1e-12)
    np.testing.assert_allclose(total.transitions, both.transitions, rtol=1e-11)
    np.testing.assert_allclose(total.start_counts, both.start_counts, rtol=1e-11)
    assert total.n_sequences == 2
    new, new_both = hmm.m_step(total), hmm.m_step(both)
    np.testing.assert_allclose(new.emission.covariances, new_both.emission.covariances, rtol=1e-10)


def test_batched_sequences_of_equal_length_equal_the_plain_recursion():
    rng = np.random.default_rng(5)
    params = random_params(rng, 3, "gaussian", D=2)
    sequences = [hmm.sample(params, 50, rng)[0] for _ in range(20)]
    fast, log_fast = hmm.e_step(sequences, params, method="fast")
    plain, log_plain = hmm.e_step(sequences, params, method="scaled")
    assert log_fast == pytest.approx(log_plain, rel=1e-12)
    np.testing.assert_allclose(fast.transitions, plain.transitions, rtol=1e-11)
    np.testing.assert_allclose(fast.start_counts, plain.start_counts, rtol=1e-11)
    np.testing.assert_allclose(fast.emission.scatters, plain.emission.scatters, rtol=1e-10)
