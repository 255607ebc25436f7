"""emlib's fast Viterbi (chunked max-product) is exact: against the step-by-step reference recursion, hmmlearn's
compiled decoder and brute force; and ``hmm.posteriors`` defaults to the fast forward-backward, equal to the
reference to round-off."""
import inspect
import itertools
import pathlib
import sys

import numpy as np
import pytest

from emlib import forward_backward as fb
from emlib import hmm


def random_params(rng, K, M=5, stay=0.8):
    """A random sticky HMM with categorical emissions (continuous random numbers: no two paths tie)."""
    A = stay * np.eye(K) + (1 - stay) * rng.dirichlet(np.ones(K), size=K)
    return hmm.HMMParams(rng.dirichlet(np.ones(K)), A, hmm.Categorical(rng.dirichlet(np.ones(M), size=K)))


def assert_same_decoding(fast, reference):
    (path, log_p), (ref_path, ref_log_p) = fast, reference
    assert path.dtype == np.intp and path.shape == ref_path.shape
    np.testing.assert_array_equal(path, ref_path)
    assert log_p == pytest.approx(ref_log_p, rel=1e-9, abs=0)


def decode_both(x, params, **kw):
    log_b = params.emission.log_probs(x)
    return (fb.viterbi(log_b, params.start, params.transition, **kw),
            fb.viterbi_reference(log_b, params.start, params.transition))


# the chunk boundaries: T - 1 transitions = a multiple of L, one more, one fewer; L = 1 (every step a chunk), 2, 7
LENGTHS = [1, 2, 3, 8, 9, 10, 15, 16, 22, 50, 701]


@pytest.mark.parametrize("K", [1, 2, 3, 5])
def test_equals_the_reference_recursion_at_every_length_and_chunk_length(K):
    rng = np.random.default_rng(K)
    for T, L in itertools.product(LENGTHS, [None, 1, 2, 7]):
        params = random_params(rng, K)
        x, _ = hmm.sample(params, T, rng)
        assert_same_decoding(*decode_both(x, params, L=L))


@pytest.mark.parametrize("K, stay", [(2, 0.95), (4, 0.9), (4, 0.99), (8, 0.9)])
def test_equals_the_reference_on_long_sequences(K, stay):
    """Long enough for the default chunking (C chunks of L > 1 steps). Stickier chains (stay = 0.99) and more states
    forget their start slowly: guessed entry messages and chunk ends are often wrong there, and get repaired."""
    rng = np.random.default_rng(10 + K)
    params = random_params(rng, K, stay=stay)
    x, _ = hmm.sample(params, 12_000, rng)
    assert_same_decoding(*decode_both(x, params))


@pytest.mark.parametrize("warm_up, repairs", [(1, 8), (1, 0), (0, 1)])
def test_every_repair_path_is_exact(monkeypatch, warm_up, repairs):
    """A warm-up of one step guesses most entry messages wrong (repairs); with no repair rounds the transfer
    matrices give the entry messages and the entry maps the chunk ends; with no warm-up every guess is the message
    of no information."""
    monkeypatch.setattr(fb, "WARM_UP", warm_up)
    monkeypatch.setattr(fb, "REPAIRS", repairs)
    rng = np.random.default_rng(20 + warm_up + repairs)
    for K in (2, 3, 4):
        params = random_params(rng, K, stay=0.95)
        x, _ = hmm.sample(params, 3000, rng)
        assert_same_decoding(*decode_both(x, params, L=40))


@pytest.mark.parametrize("rerun_work", [0.0, np.inf])
@pytest.mark.parametrize("warm_up", [0, 3])
def test_repairs_that_stop_where_a_chunk_meets_its_first_run_or_run_by_pieces_are_exact(monkeypatch, rerun_work,
                                                                                       warm_up):
    """Guesses from no warm-up (or 3 steps) are wrong for nearly every chunk, in a chain this sticky (stay = 0.99):
    chunks are repaired several rounds over, a chunk repaired once (its prefix rewritten, its later messages
    shifted) is repaired again after the chunk before it changed its end, and the repairs either run block by block
    until they meet the first run (rerun_work = 0) or run every step by the transfer matrices of their pieces
    (rerun_work = inf)."""
    monkeypatch.setattr(fb, "WARM_UP", warm_up)
    monkeypatch.setattr(fb, "RERUN_WORK", rerun_work)
    seen = {"rounds": 0, "again": 0, "pieces": 0}
    repair, rerun = fb._repair, fb._rerun

    def counting_repair(columns, entry, log_A, B, psi, runs):
        seen["rounds"] += 1
        seen["again"] += int(np.any(runs.prefix[columns] >= 0))
        return repair(columns, entry, log_A, B, psi, runs)

    def counting_rerun(*args, **kwargs):
        seen["pieces"] += 1
        return rerun(*args, **kwargs)

    monkeypatch.setattr(fb, "_repair", counting_repair)
    monkeypatch.setattr(fb, "_rerun", counting_rerun)
    rng = np.random.default_rng(25)
    for K, L in [(2, 40), (3, 33), (4, 64), (4, 17)]:
        params = random_params(rng, K, stay=0.99)
        x, _ = hmm.sample(params, 4000, rng)
        assert_same_decoding(*decode_both(x, params, L=L))
    assert seen["rounds"] > 4 and (seen["again"] > 0 or rerun_work > 0)
    assert (seen["pieces"] > 0) == (rerun_work > 0)


def test_chunk_lengths_are_odd_and_about_sqrt_of_N_over_25():
    """An odd L keeps the L K values of a chunk from falling into a few cache sets when the grid is laid out."""
    for N in [1, 2, 10, 99, 100, 10_000, 99_999, 999_999]:
        L = fb.viterbi_chunk_length(N)
        assert L % 2 == 1 and abs(L - np.sqrt(N / 25)) <= 2


def test_equals_brute_force_enumeration():
    rng = np.random.default_rng(30)
    for K, T in [(2, 1), (2, 7), (3, 6), (4, 5)]:
        params = random_params(rng, K, stay=0.5)
        x, _ = hmm.sample(params, T, rng)
        paths = np.array(list(itertools.product(range(K), repeat=T)))
        log_joint = (np.log(params.start)[paths[:, 0]] + params.emission.log_probs(x)[np.arange(T), paths].sum(axis=1)
                     + np.log(params.transition)[paths[:, :-1], paths[:, 1:]].sum(axis=1))
        path, log_p = hmm.viterbi(x, params)
        np.testing.assert_array_equal(path, paths[log_joint.argmax()])
        assert log_p == pytest.approx(log_joint.max(), rel=1e-12)


def hmmlearn_decode(x, params):
    from hmmlearn.hmm import CategoricalHMM, GaussianHMM

    e = params.emission
    if isinstance(e, hmm.Categorical):
        model = CategoricalHMM(n_components=params.n_states, init_params="", params="", n_features=e.probs.shape[1])
        model.emissionprob_ = e.probs
        X = x.reshape(-1, 1)
    else:
        model = GaussianHMM(n_components=params.n_states, covariance_type="full", init_params="", params="")
        model.means_, model.covars_ = e.means, e.covariances
        X = x.reshape(len(x), -1)
    model.startprob_, model.transmat_ = params.start, params.transition
    log_p, path = model.decode(X, algorithm="viterbi")
    return path, log_p


@pytest.mark.parametrize("K", [2, 3, 4])
def test_equals_hmmlearn_decode(K):
    rng = np.random.default_rng(40 + K)
    params = random_params(rng, K, M=6, stay=0.9)
    x, _ = hmm.sample(params, 30_000, rng)
    assert_same_decoding(hmm.viterbi(x, params), hmmlearn_decode(x, params))
    A = 0.9 * np.eye(K) + 0.1 * rng.dirichlet(np.ones(K), size=K)
    gaussian = hmm.HMMParams(np.full(K, 1 / K), A, hmm.Gaussian(rng.normal(scale=2, size=(K, 2)),
                                                                 np.broadcast_to(np.eye(2), (K, 2, 2))))
    y, _ = hmm.sample(gaussian, 5000, rng)
    assert_same_decoding(hmm.viterbi(y, gaussian), hmmlearn_decode(y, gaussian))


def left_to_right(rng, T):
    """Zeros in the start distribution and below the diagonal of A: most paths have probability 0."""
    A = np.array([[0.9, 0.1, 0.0, 0.0], [0.0, 0.95, 0.05, 0.0], [0.0, 0.0, 0.97, 0.03], [0.0, 0.0, 0.0, 1.0]])
    emission = hmm.Categorical(rng.dirichlet(np.ones(4), size=4))
    params = hmm.HMMParams([0.7, 0.3, 0.0, 0.0], A, emission)
    return params, hmm.sample(params, T, rng)[0]


def test_zero_probabilities_are_decoded_like_the_reference():
    rng = np.random.default_rng(50)
    params, x = left_to_right(rng, 400)
    for L in (None, 7, 50):
        (path, log_p), reference = decode_both(x, params, L=L)
        assert np.isfinite(log_p) and np.all(np.diff(path) >= 0)  # left to right
        assert_same_decoding((path, log_p), reference)
    # symbols that some states never emit: -inf emission log-probabilities as well (random non-zero entries: no
    # two paths tie, as they would with round numbers)
    mask = 1 - np.eye(3)[[2, 0, 1]]

    def masked(m):
        p = rng.random(m.shape) * m
        return p / p.sum(axis=-1, keepdims=True)

    zeros = hmm.HMMParams(masked(mask[0]), masked(mask[[1, 2, 0]]), hmm.Categorical(masked(mask)))
    x, _ = hmm.sample(zeros, 3000, rng)
    assert_same_decoding(*decode_both(x, zeros, L=20))


@pytest.mark.parametrize("repairs", [8, 0])
def test_an_impossible_sequence_is_decoded_like_the_reference(monkeypatch, repairs):
    """log p(x, z*) = -inf: the observations cannot all be explained. The result is the reference's, path included
    (also when the entry messages come from the transfer matrices)."""
    monkeypatch.setattr(fb, "REPAIRS", repairs)
    params, _ = left_to_right(np.random.default_rng(60), 1)
    B = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # state 3 alone shows a 2
    impossible = hmm.HMMParams(params.start, params.transition, hmm.Categorical(B))
    after_the_end = np.r_[np.zeros(100, int), np.ones(100, int), np.full(90, 2), 0, np.full(9, 2)]
    at_the_start = np.r_[2, np.zeros(99, int)]  # state 3 cannot start
    for y in (after_the_end, at_the_start):
        for L in (None, 10):
            (path, log_p), reference = decode_both(y, impossible, L=L)
            assert log_p == -np.inf == reference[1]
            np.testing.assert_array_equal(path, reference[0])


@pytest.mark.parametrize("warm_up, rerun_work", [(fb.WARM_UP, fb.RERUN_WORK), (0, 0.0), (0, np.inf)])
def test_ties_go_to_the_first_state_as_in_the_reference(monkeypatch, warm_up, rerun_work):
    """Every path ties (uniform start and transitions, identical emissions): the path of first maximisers, all 0,
    also across chunk boundaries when every guess is repaired (no warm-up), block by block or by pieces."""
    monkeypatch.setattr(fb, "WARM_UP", warm_up)
    monkeypatch.setattr(fb, "RERUN_WORK", rerun_work)
    K = 3
    params = hmm.HMMParams(np.full(K, 1 / K), np.full((K, K), 1 / K), hmm.Categorical(np.full((K, 4), 0.25)))
    x = np.arange(500) % 4
    for L in (9, 31, None):
        (path, log_p), reference = decode_both(x, params, L=L)
        assert_same_decoding((path, log_p), reference)
        np.testing.assert_array_equal(path, 0)
    # ties between two of the states only, in a chain that otherwise prefers state 2
    A = np.array([[0.3, 0.3, 0.4], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]])
    B = np.array([[0.5, 0.5], [0.5, 0.5], [0.4, 0.6]])
    params = hmm.HMMParams([0.3, 0.3, 0.4], A, hmm.Categorical(B))
    x = (np.arange(700) // 3) % 2
    for L in (9, 31, None):
        assert_same_decoding(*decode_both(x, params, L=L))


def test_posteriors_default_to_the_fast_method_and_equal_the_scaled_recursion():
    assert inspect.signature(hmm.posteriors).parameters["method"].default == "fast"
    rng = np.random.default_rng(70)
    params = random_params(rng, 3)
    x, _ = hmm.sample(params, 9000, rng)
    for T in (1, 2, 300, 9000):  # 9000 > fb.LONG: the grid of chunks, whose gamma comes back in time order
        default, scaled = hmm.posteriors(x[:T], params), hmm.posteriors(x[:T], params, method="scaled")
        assert default.gamma.shape == scaled.gamma.shape == (T, 3)
        np.testing.assert_allclose(default.gamma, scaled.gamma, rtol=0, atol=1e-12)
        np.testing.assert_allclose(default.transitions, scaled.transitions, rtol=1e-9, atol=1e-12)
        assert default.log_likelihood == pytest.approx(scaled.log_likelihood, rel=1e-12)


def test_viterbi_benchmark_runs_and_agrees_with_hmmlearn():
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
    import viterbi_speed

    rows = viterbi_speed.main(["--sizes", "3000", "--repeats", "1"])
    assert rows and all(row["same"] for row in rows)


# --------------------------------------------------------------------------------------- the fast forward-backward

def test_the_grid_puts_step_t_of_a_sequence_at_t_mod_L_of_column_head_plus_t_div_L():
    """The grid by its definition (``Grid``'s docstring), observation by observation, for many layouts."""
    rng = np.random.default_rng(80)
    for lengths, L in [([1], None), ([7], 3), ([3, 5], 2), (rng.integers(1, 60, 40), None), (rng.integers(1, 60, 40), 7),
                       ([5000, 1, 9000, 4096], None), ([100_001], None)]:
        grid = fb.Grid.of(lengths, L)
        lengths = np.asarray(lengths)
        assert grid.L == (L or (lengths.max() if lengths.max() <= fb.LONG else fb.chunk_length(lengths.max())))
        n_chunks = -(-lengths // grid.L)
        np.testing.assert_array_equal(grid.heads, np.r_[0, np.cumsum(n_chunks)[:-1]])
        expected = np.concatenate([(t % grid.L) * grid.C + h + t // grid.L
                                   for t, h in ((np.arange(T), h) for T, h in zip(lengths, grid.heads))])
        np.testing.assert_array_equal(grid.cells, expected)
        np.testing.assert_array_equal(grid.padding, np.setdiff1d(np.arange(grid.L * grid.C), expected))


def test_sweeps_that_stop_where_they_meet_the_previous_sweep_equal_the_plain_recursion(monkeypatch):
    """E step after E step of a fit, the sweeps start from the previous E step's boundary messages; a second sweep
    in each direction only recomputes the steps before it meets the first sweep (forward: at a renormalised step,
    backward: every CHECK_BACK steps), and the statistics still equal Rabiner's recursion."""
    stops = {"forward": 0, "backward": 0}
    forward, backward = fb._forward_block, fb._backward_block

    def counting_forward(first, A, B, R, space=None, previous=None):
        before = None if previous is None else previous[0].copy()
        alpha, c = forward(first, A, B, R, space, previous)
        if before is not None:  # rewritten at its start, the previous sweep's at its end
            stops["forward"] += np.any(alpha[0] != before[0]) and np.array_equal(alpha[-1], before[-1])
        return alpha, c

    def counting_backward(last, alpha, c, A, B, space=None, previous=None):
        before = None if previous is None else previous[0].copy()
        W, beta = backward(last, alpha, c, A, B, space, previous)
        if before is not None:
            stops["backward"] += np.any(W[-1] != before[-1]) and np.array_equal(W[0], before[0])
        return W, beta

    monkeypatch.setattr(fb, "_forward_block", counting_forward)
    monkeypatch.setattr(fb, "_backward_block", counting_backward)
    rng = np.random.default_rng(81)
    params = random_params(rng, 3, stay=0.9)
    x, _ = hmm.sample(params, 30_000, rng)
    data = hmm.prepare(x, params.emission)
    for _ in range(4):
        stats, log_p = hmm.e_step(data, params)
        b, s = fb.scaled_emissions(params.emission.log_probs(x))
        reference = fb.scaled(b, s, params.start, params.transition)
        assert log_p == pytest.approx(reference.log_likelihood, rel=1e-12)
        np.testing.assert_allclose(stats.transitions, reference.transitions, rtol=1e-11, atol=1e-11)
        gamma = data.space["beta"].reshape(-1, 3)[data.grid.cells]
        np.testing.assert_allclose(gamma, reference.gamma, atol=1e-12)
        params = hmm.m_step(stats)
    assert stops["forward"] > 0 and stops["backward"] > 0


def test_the_buffers_of_a_dropped_space_serve_the_next_one_unless_still_held(monkeypatch):
    """A fit's E-step buffers go back to the thread's pool when its space is dropped, and the next fit's space takes
    them instead of fresh memory; an array the caller still holds (here gamma, the backward buffer) is not taken
    back, and the pool keeps at most POOL_BYTES."""
    monkeypatch.setattr(fb, "_POOL", fb._Pool())
    space = {}
    kept = fb.buffer(space, "beta", (50, 20, 3))
    alpha = fb.buffer(space, "alpha", (50, 20, 3))
    assert fb.buffer(space, "alpha", (50, 20, 3)) is alpha  # the same space: the same array
    address = alpha.__array_interface__["data"][0]
    del alpha  # (a name still bound to it when the space goes would keep it out of the pool)
    del space
    assert fb._POOL.bytes == 50 * 20 * 3 * 8  # alpha back, beta still held
    other = {}
    assert fb.buffer(other, "W", (50, 20, 3)).__array_interface__["data"][0] == address
    assert fb.buffer(other, "beta", (50, 20, 3)) is not kept and fb._POOL.bytes == 0
    monkeypatch.setattr(fb, "POOL_BYTES", 1000)
    del other
    assert fb._POOL.bytes == 0  # too large to keep
    rng = np.random.default_rng(90)
    params = random_params(rng, 3)
    x, _ = hmm.sample(params, 9000, rng)
    monkeypatch.setattr(fb, "POOL_BYTES", 2 ** 26)
    first = hmm.fit(x, params, max_iter=3, tol=0)
    assert fb._POOL.bytes > 0
    again = hmm.fit(x, params, max_iter=3, tol=0)  # from the pool's arrays: the same fit
    np.testing.assert_array_equal(first.objective, again.objective)


def test_the_pool_evicts_after_a_kind_was_taken_empty():
    """A kind of array taken until none is left must not stay in the pool as an empty list: eviction (when a new array
    would pass POOL_BYTES) starts from the first kind and failed with "pop from empty list" in CI."""
    pool = fb._Pool()
    third = fb.POOL_BYTES // 3 // 8
    pool.give(np.empty(third))                    # the first kind in the pool
    pool.give(np.empty(third + 1))
    assert pool.take((third,)).shape == (third,)  # its only array: the first kind is now empty
    pool.give(np.empty(2 * third))                # too much with what is kept: the pool must evict
    assert pool.bytes <= fb.POOL_BYTES and all(pool.free.values())
    assert pool.take((2 * third,)).shape == (2 * third,)
