"""Forward-backward for hidden Markov models: the readable recursions and the fast ones.

Notation (Rabiner 1989): K states, start distribution pi (K,), transition matrix A (K, K) with rows summing to
one, emission likelihoods b_t(k) = p(x_t | z_t = k) for t = 0..T-1 (an (T, K) array). Every function takes the
emissions as *scaled* likelihoods ``b`` together with their log scales ``log_scale`` (T,), b_t(k) =
exp(log b_t(k) - log_scale_t), so that no emission underflows however small its density.

Scaled forward recursion (Rabiner's alpha-hat):

    alpha_0 = pi * b_0 / c_0,     alpha_t = (alpha_{t-1} A) * b_t / c_t,     c_t = the sum that normalises alpha_t,

so alpha_t(k) = p(z_t = k | x_0..x_t) and log p(x_0..x_{T-1}) = sum_t (log c_t + log_scale_t).

Backward, with any positive scale per step (here: normalised to sum one):

    beta_{T-1} = 1,     beta_t proportional to A (b_{t+1} * beta_{t+1}).

Posteriors: gamma_t = alpha_t * beta_t normalised over k, and the expected transition counts

    sum_t xi_t(i, j) = A_ij sum_t alpha_t(i) b_{t+1}(j) beta_{t+1}(j) / n_t,    n_t = (alpha_t A) . (b_{t+1} * beta_{t+1}),

one matrix product over all t. Normalising each xi_t by its own n_t is what makes the statistics of several
sequences simply add: Rabiner's multiple-sequence formulas (his eqs. 109-110) weight each sequence by 1/P_k,
which with scaling is already done and must not be applied again (the errata noted by Rahimi 2000).

The fast versions compute exactly these quantities with few Python steps:

* ``batched``: many sequences as one (L, S, K) block per time step, shorter ones padded at the end with b = 1,
  which is exact (a padded step changes no likelihood and its beta is 1), its transitions masked out;
* ``chunked``: one long sequence cut into C chunks of length L (about sqrt T): each chunk's transfer matrix
  P_c = prod_j A diag(b_j), the messages across chunk boundaries sequentially over C steps, then the exact scaled
  messages inside all chunks at once, each step touching one contiguous (C, K) block.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Posteriors(NamedTuple):
    """gamma (T, K): p(z_t = k | x); transitions (K, K): sum_t p(z_t = i, z_{t+1} = j | x); log_likelihood."""

    gamma: np.ndarray
    transitions: np.ndarray
    log_likelihood: float


def row_sums(a: np.ndarray) -> np.ndarray:
    """sum over the last axis (of length K, small), as a matrix product: much faster than a.sum(-1) for small K."""
    return a @ np.ones(a.shape[-1])


def row_max(a: np.ndarray) -> np.ndarray:
    """max over the last axis (small K), column by column: much faster than a.max(-1) for small K."""
    top = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        np.maximum(top, a[..., k], out=top)
    return top


def scaled_emissions(log_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(b, log_scale) with b_t = exp(log b_t - max_k log b_t(k)): the largest scaled likelihood at each step is 1."""
    log_scale = row_max(log_b)
    if not np.all(np.isfinite(log_scale)):
        t = int(np.argmin(np.isfinite(log_scale)))
        raise ValueError(f"observation {t} has zero probability under every state: the parameters cannot explain it.")
    return np.exp(log_b - log_scale[:, None]), log_scale


IMPOSSIBLE = ("the observations have zero probability under these parameters: an observation can only come from a "
              "state that the start and transition probabilities make unreachable here.")


def _expected_transitions(alpha, beta, b, A):
    """sum_t xi_t = A * (alpha[:-1]^T (b[1:] beta[1:] / n_t)) for arrays (T, K)."""
    W = b[1:] * beta[1:]
    W /= row_sums((alpha[:-1] @ A) * W)[:, None]
    return A * (alpha[:-1].T @ W)


def _posteriors(alpha, beta):
    gamma = alpha * beta
    gamma /= row_sums(gamma)[..., None]
    return gamma


# --------------------------------------------------------------------------------------- the readable reference

def scaled(b: np.ndarray, log_scale: np.ndarray, start: np.ndarray, A: np.ndarray) -> Posteriors:
    """The scaled forward-backward recursion of Rabiner (1989), one time step at a time, as the formulas read."""
    T, K = b.shape
    alpha, c = np.empty((T, K)), np.empty(T)
    alpha[0] = start * b[0]
    c[0] = alpha[0].sum()
    if not c[0] > 0:
        raise ValueError(f"observation 0: {IMPOSSIBLE}")
    alpha[0] /= c[0]
    for t in range(1, T):
        alpha[t] = (alpha[t - 1] @ A) * b[t]
        c[t] = alpha[t].sum()
        if not c[t] > 0:
            raise ValueError(f"observation {t}: {IMPOSSIBLE}")
        alpha[t] /= c[t]
    beta = np.empty((T, K))
    beta[-1] = 1.0
    for t in range(T - 2, -1, -1):
        beta[t] = A @ (b[t + 1] * beta[t + 1]) / c[t + 1]
    return Posteriors(_posteriors(alpha, beta), _expected_transitions(alpha, beta, b, A),
                      float(np.log(c).sum() + log_scale.sum()))


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = a.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):  # an all -inf slice gives -inf, as it should
        return (top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def log_space(log_b: np.ndarray, start: np.ndarray, A: np.ndarray) -> Posteriors:
    """The same posteriors with log-messages and log-sum-exp at each step. The log-messages are normalised at each
    step (log alpha_t is log p(z_t | x_0..x_t), log c_t the log normaliser), which keeps them of size one however
    long the sequence: unnormalised log-messages of size 10^4 would cost the expected counts digits."""
    T, K = log_b.shape
    with np.errstate(divide="ignore"):
        log_A, log_start = np.log(A), np.log(start)
    log_alpha, log_beta, log_c = np.empty((T, K)), np.zeros((T, K)), np.empty(T)
    a = log_start + log_b[0]
    for t in range(T):
        if t:
            a = _logsumexp(log_alpha[t - 1][:, None] + log_A, axis=0) + log_b[t]
        log_c[t] = _logsumexp(a, axis=0)
        if not np.isfinite(log_c[t]):
            raise ValueError(f"observation {t}: {IMPOSSIBLE}")
        log_alpha[t] = a - log_c[t]
    for t in range(T - 2, -1, -1):
        log_beta[t] = _logsumexp(log_A + (log_b[t + 1] + log_beta[t + 1])[None, :], axis=1) - log_c[t + 1]
    gamma = np.exp(log_alpha + log_beta)
    log_xi = log_alpha[:-1, :, None] + log_A[None] + (log_b[1:] + log_beta[1:] - log_c[1:, None])[:, None, :]
    return Posteriors(gamma / gamma.sum(axis=1, keepdims=True), np.exp(log_xi).sum(axis=0), float(log_c.sum()))


# --------------------------------------------------------------------------------------- the fast ones

def renormalisation_interval(A: np.ndarray) -> int:
    """R such that messages renormalised every R steps cannot underflow.

    The scaled emissions have max_k b_t(k) = 1, so one step keeps at least min_ij A_ij of a message's mass:
    after R steps at least (min A)^R, which must stay above about 1e-250. With a zero in A there is no such
    bound, and the messages are renormalised at every step.
    """
    smallest = A.min()
    if smallest <= 0:
        return 1
    return int(max(1, min(64, np.floor(-250 * np.log(10) / np.log(smallest)))))


def _forward_block(first: np.ndarray, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward over a block of independent runs: B (L, C, K) emissions, ``first`` (C, K) the predictive
    distribution of each run's first step. Returns alpha (L, C, K), each alpha_t proportional to the filtered
    distribution p(z_t | x_0..x_t), and log c (L, C), the log normalisers: their sum over a run is its
    log-likelihood. Messages are renormalised every R steps (``renormalisation_interval``); in between,
    log c is 0 and alpha carries the mass."""
    L, C, K = B.shape
    R = renormalisation_interval(A)
    alpha, log_c = np.empty((L, C, K)), np.zeros((L, C))
    np.multiply(first, B[0], out=alpha[0])
    for j in range(L):
        if j:
            np.matmul(alpha[j - 1], A, out=alpha[j])
            alpha[j] *= B[j]
        if j % R == R - 1 or j == L - 1 or j == 0:
            s = row_sums(alpha[j])
            if not np.all(s > 0):
                raise ValueError(IMPOSSIBLE)
            alpha[j] /= s[:, None]
            log_c[j] = np.log(s)
    return alpha, log_c


def _backward_block(last: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Backward over a block: beta (L, C, K) from each run's last message ``last`` (C, K); each beta_t is known up
    to a positive factor per run (renormalised every R steps), which the posteriors normalise away."""
    L, C, K = B.shape
    R = renormalisation_interval(A)
    beta = np.empty((L, C, K))
    beta[-1] = last
    At = np.ascontiguousarray(A.T)
    for j in range(L - 2, -1, -1):
        m = np.multiply(B[j + 1], beta[j + 1], out=beta[j])
        np.matmul(m, At, out=beta[j])
        if (L - 1 - j) % R == 0:
            beta[j] /= row_sums(beta[j])[:, None]
    return beta


def batched_statistics(b: np.ndarray, log_scale: np.ndarray, lengths: np.ndarray, start: np.ndarray, A: np.ndarray):
    """Posterior statistics of many sequences at once, with no loop over the sequences.

    b, log_scale: the scaled emissions of all the sequences, concatenated: (sum T, K) and (sum T,).
    lengths: (S,) the length of each sequence.
    Returns (gamma (sum T, K) in the same order, start counts (K,), transition counts (K, K), log-likelihoods (S,)).
    """
    S, K, L = len(lengths), len(start), lengths.max()
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    if np.all(lengths == L):  # equal lengths: the block is a transpose, no padding
        B = np.ascontiguousarray(b.reshape(S, L, K).transpose(1, 0, 2))
        rows = None
    else:  # row n of b goes to step (n - its sequence's offset) of column (its sequence): one flat index
        column = np.repeat(np.arange(S), lengths)
        rows = (np.arange(len(b)) - offsets[column]) * S + column
        B = np.ones((L * S, K))
        B[rows] = b
        B = B.reshape(L, S, K)
    alpha, log_c = _forward_block(np.broadcast_to(start, (S, K)), A, B)
    beta = _backward_block(np.ones((S, K)), A, B)
    log_p = log_c.sum(axis=0) + np.add.reduceat(log_scale, offsets)  # padded steps (b = 1) keep the mass exactly
    gamma = _posteriors(alpha, beta)
    W = B[1:] * beta[1:]
    n = row_sums((alpha[:-1].reshape(-1, K) @ A).reshape(W.shape) * W)  # one 2-D product, not L small ones
    if rows is None:
        W /= n[:, :, None]
        gamma_rows = gamma.transpose(1, 0, 2).reshape(-1, K)
    else:
        valid = np.arange(1, L)[:, None] < lengths[None, :]  # a step j -> j + 1 counts when j + 1 < length
        W *= (valid / np.where(valid, n, 1.0))[:, :, None]
        gamma_rows = gamma.reshape(L * S, K)[rows]
    transitions = A * (alpha[:-1].reshape(-1, K).T @ W.reshape(-1, K))
    return gamma_rows, gamma[0].sum(axis=0), transitions, log_p


def chunk_length(T: int) -> int:
    """L about sqrt(2 T): balances the L vectorised steps inside chunks against the C sequential boundary steps."""
    return max(1, int(np.ceil(np.sqrt(2.0 * T))))


def chunked(b: np.ndarray, log_scale: np.ndarray, start: np.ndarray, A: np.ndarray, L: int | None = None) -> Posteriors:
    """Posteriors of one long sequence by chunks (see the module docstring); equal to ``scaled`` to round-off."""
    T, K = b.shape
    L = L or chunk_length(T)
    C = -(-T // L)
    padded = np.ones((C * L, K))
    padded[:T] = b
    B = np.ascontiguousarray(padded.reshape(C, L, K).transpose(1, 0, 2))  # (L, C, K): step j of every chunk

    # transfer matrices of steps 1..L-1 of each chunk, P_c = prod_j A diag(b_j), renormalised as they grow
    R = renormalisation_interval(A)
    P = np.broadcast_to(np.eye(K), (C, K, K)).copy()
    Q = np.empty_like(P)
    P_rows, Q_rows = P.reshape(C * K, K), Q.reshape(C * K, K)  # views: one matrix product per step
    for j in range(1, L):
        np.matmul(P_rows, A, out=Q_rows)
        np.multiply(Q, B[j][:, None, :], out=P)
        if j % R == 0 or j == L - 1:
            P /= row_sums(P.reshape(C, K * K))[:, None, None]

    # messages across chunk boundaries, sequentially over the chunks:
    # first[c] = p(z at the start of chunk c | everything before), last[c] = beta at the last step of chunk c
    forward = (B[0][:, :, None] * P) @ A  # alpha at a chunk start -> predictive at the next chunk's start
    backward = A @ (B[0][:, :, None] * P)  # beta at a chunk's last step -> beta at the previous chunk's last step
    first, last = np.empty((C, K)), np.empty((C, K))
    first[0], last[-1] = start, 1.0
    for c in range(1, C):
        v = first[c - 1] @ forward[c - 1]
        first[c] = v / v.sum()
    for c in range(C - 2, -1, -1):
        v = backward[c + 1] @ last[c + 1]
        last[c] = v / v.sum()

    alpha, log_c = _forward_block(first, A, B)
    beta = _backward_block(last, A, B)
    log_p = log_c.sum() + log_scale.sum()  # the padded steps (b = 1) keep the mass exactly
    gamma = _posteriors(alpha, beta).transpose(1, 0, 2).reshape(C * L, K)[:T]

    # expected transitions, in the block layout: pairs (j, j + 1) inside each chunk, and each chunk's last step
    # with the next chunk's first; a pair counts when its second step is a real one (time c L + j + 1 < T)
    W = B * beta
    AW = (alpha.reshape(-1, K) @ A).reshape(alpha.shape)  # one 2-D product, not L small ones
    inside = W[1:] / row_sums(AW[:-1] * W[1:])[:, :, None]
    inside[T - (C - 1) * L - 1:, -1] = 0.0
    across = W[0, 1:] / row_sums(AW[-1, :-1] * W[0, 1:])[:, None]
    counts = alpha[:-1].reshape(-1, K).T @ inside.reshape(-1, K) + alpha[-1, :-1].T @ across
    return Posteriors(gamma, A * counts, float(log_p))


def viterbi(log_b: np.ndarray, start: np.ndarray, A: np.ndarray) -> tuple[np.ndarray, float]:
    """The most probable state path argmax_z log p(x, z) and its log-probability, by dynamic programming in log space.

    delta_t(j) = max_i [delta_{t-1}(i) + log A_ij] + log b_t(j), with back-pointers psi_t(j) = that argmax.
    """
    T, K = log_b.shape
    with np.errstate(divide="ignore"):
        log_A, log_start = np.log(A), np.log(start)
    psi = np.empty((T, K), dtype=np.intp)
    delta = log_start + log_b[0]
    for t in range(1, T):
        scores = delta[:, None] + log_A
        psi[t] = scores.argmax(axis=0)
        delta = scores[psi[t], np.arange(K)] + log_b[t]
    path = np.empty(T, dtype=np.intp)
    path[-1] = int(delta.argmax())
    for t in range(T - 1, 0, -1):
        path[t - 1] = psi[t, path[t]]
    return path, float(delta.max())
