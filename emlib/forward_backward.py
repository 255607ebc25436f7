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

The fast version (``grid_statistics``) computes exactly these quantities with few Python steps. All the sequences
are cut into chunks of L steps laid side by side as the C columns of a grid (``Grid``), so that step j of every
chunk is one (C, K) block and each recursion is a loop over L steps, not T:

* the messages across chunk boundaries: guessed (the previous E step's), swept forward and backward through all
  the chunks at once, and swept again from the messages each sweep implies until they no longer change (a wrong
  guess is forgotten along a chunk as the chain mixes and the observations inform, so a sweep after the first
  stops where it meets the previous one); where that does not happen within a few sweeps, from the transfer
  matrix of each chunk, P_c = prod_j A diag(b_j), as running products over the chunks of each sequence in
  log2(chunks) vectorised steps;
* one forward and one backward sweep over all the chunks at once, renormalised every R steps rather than every
  step (R from a bound on how fast the mass can drain), the backward messages scaled by the forward normalisers
  as in Rabiner's scaling, so that gamma = alpha * beta and the expected transition counts are one matrix product;
* sequences of different lengths are padded at their ends with emission likelihood 1, which is exact.

Viterbi decoding (``viterbi``, exact against the step-by-step ``viterbi_reference``) cuts a sequence into chunks
in the same way: max-product is associative too, and a max-product message forgets its start as the chain
mixes, so guessed entry messages are checked and repaired (the transfer matrices are only the fallback).

Large arrays are reused: the E step's within a fit (``buffer``), and those of a finished fit or Viterbi call by
the next one (a pool per thread), since a fresh page costs far more than a pass over it.
"""
from __future__ import annotations

import sys
import threading
from typing import NamedTuple

import numpy as np

from ._blas import transposed_product


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


def scaled_emissions(log_b: np.ndarray, *, overwrite: bool = False, cells: np.ndarray | None = None):
    """(b, log_scale) with b_t = exp(log b_t - max_k log b_t(k)): the largest scaled likelihood at each step is 1.

    ``overwrite=True`` computes b in the memory of log_b. ``cells``: for log_b in grid order, the cell of each
    observation (``Grid.cells``), so that an error names the observation, not the cell.
    """
    log_scale = row_max(log_b)
    if not np.all(np.isfinite(log_scale)):
        t = int(np.argmin(np.isfinite(log_scale)))
        t = t if cells is None else int(np.flatnonzero(cells == t)[0])
        raise ValueError(f"observation {t} has zero probability under every state: the parameters cannot explain it.")
    b = np.subtract(log_b, log_scale[:, None], out=log_b if overwrite else None)
    return np.exp(b, out=b), log_scale


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


# --------------------------------------------------------------------------------------- the fast one

#: Sequences up to this long fill one column of the grid each; longer ones are cut into chunks.
LONG = 4096


def chunk_length(T: int) -> int:
    """L about sqrt(T / 2): balances the L vectorised steps inside chunks (three loops: transfer matrices,
    forward, backward) against the C = T / L sequential steps across chunk boundaries (two loops, cheaper)."""
    return max(1, int(np.ceil(np.sqrt(T / 2.0))))


class Grid(NamedTuple):
    """Where the observations of several sequences sit in the (L, C) grid of the fast forward-backward.

    Each sequence is cut into chunks of L steps that fill consecutive columns; step t of a sequence whose first
    chunk is column h goes to grid cell (t mod L, h + t div L), flat index (t mod L) C + h + t div L. Step j of
    every chunk is then one contiguous (C, K) block of an (L, C, K) array. Cells after a sequence's end are
    padding: their emission likelihood is 1, which changes no probability.

    cells:     (sum T,) the flat cell of each observation, sequences concatenated in order.
    padding:   flat cells that hold no observation.
    heads:     (S,) the column of each sequence's first chunk.
    before:    (C,) how many chunks of its sequence come before each column (0 at the heads).
    after:     (C,) how many chunks of its sequence come after each column.
    """

    L: int
    C: int
    cells: np.ndarray
    padding: np.ndarray
    heads: np.ndarray
    before: np.ndarray
    after: np.ndarray

    @classmethod
    def of(cls, lengths, L: int | None = None) -> "Grid":
        """The grid for sequences of these lengths: one column each if none is longer than LONG, else chunks of
        ``chunk_length`` of the longest."""
        lengths = np.asarray(lengths, dtype=np.intp)
        longest = int(lengths.max())
        L = int(L or (longest if longest <= LONG else chunk_length(longest)))
        n_chunks = -(-lengths // L)
        heads = np.concatenate([[0], np.cumsum(n_chunks)[:-1]]).astype(np.intp)
        C = int(n_chunks.sum())
        held = np.full(C, L)  # steps in each chunk: L, and the rest of its sequence in a sequence's last chunk
        held[heads + n_chunks - 1] = lengths - (n_chunks - 1) * L
        step = np.arange(L)
        cell = step * C + np.arange(C)[:, None]  # (C, L): the flat cell of step j of chunk c, j C + c
        filled = step < held[:, None]
        # chunk by chunk, step by step is the order of the concatenated sequences; step by step, chunk by chunk
        # the order of the cells (a few times faster than the arithmetic on every observation's t)
        cells, padding = cell[filled], cell.T[~filled.T]
        before = np.arange(C) - np.repeat(heads, n_chunks)
        after = np.repeat(n_chunks, n_chunks) - 1 - before
        return cls(L, C, cells, padding, heads, before, after)

    @property
    def continued(self) -> np.ndarray:
        """The columns whose sequence goes on from the column to their left."""
        return np.flatnonzero(self.before > 0)

    def place(self, rows: np.ndarray, fill=0) -> np.ndarray:
        """Rows (sum T, ...) of the concatenated sequences -> (L C, ...) in grid order, ``fill`` at the padding."""
        out = np.full((self.L * self.C,) + rows.shape[1:], fill, dtype=rows.dtype)
        out[self.cells] = rows
        return out


class Statistics(NamedTuple):
    """gamma (L C, K) in grid order (zero at the padding), start counts (K,), transition counts (K, K), and
    sum_t log c_t, the log-likelihood of the scaled emissions (add the log scales for the log-likelihood)."""

    gamma: np.ndarray
    start_counts: np.ndarray
    transitions: np.ndarray
    log_c: float


def buffer(space: dict | None, name: str, shape: tuple) -> np.ndarray:
    """An uninitialised float array, kept in ``space`` and reused by the next call with the same name and shape.

    The fast E step keeps its large arrays in such a space from one iteration to the next: a fresh array of a few
    megabytes costs more than a pass over it, because the operating system maps and zeroes its pages on first touch
    (about 3 microseconds a 4 KiB page on the project's VM: 10 ms for the four buffers of a fit on 10^5 steps with
    K = 4, more than an E step). When the space is dropped (the fit is over), its arrays go back to a pool of the
    thread (``_Lease``), from which the next space takes arrays of the same shape.
    """
    if space is None:
        return np.empty(shape)
    a = space.get(name)
    if a is None or a.shape != shape:
        a = space[name] = _POOL.take(shape)
        lease = space.pop("lease", None) or _Lease()
        lease.arrays.append(a)
        space["lease"] = lease  # last: a dict drops its items in order, so the arrays go first and the lease last
    return a


#: The largest total size of the arrays the pool keeps for later spaces (``buffer``), in bytes.
POOL_BYTES = 64 * 2 ** 20


class _Pool(threading.local):
    """Large arrays no longer used (those of dropped spaces, ``viterbi``'s grid), by shape and type, for the next
    uninitialised arrays of the same thread (at most POOL_BYTES)."""

    def __init__(self):
        self.free, self.bytes = {}, 0

    def take(self, shape: tuple, dtype=float) -> np.ndarray:
        """np.empty(shape, dtype), from the pool if it has one."""
        key = (shape, np.dtype(dtype))
        free = self.free.get(key)
        if not free:
            return np.empty(shape, dtype)
        a = free.pop()
        if not free:
            del self.free[key]  # give() evicts from the first kind in the pool, which must hold an array
        self.bytes -= a.nbytes
        return a

    def give(self, a: np.ndarray) -> None:
        """Keep ``a``, which nothing else may use any more, for a later ``take``; to keep within POOL_BYTES, the
        arrays kept longest go first."""
        if a.nbytes > POOL_BYTES:
            return
        while self.bytes + a.nbytes > POOL_BYTES:
            key = next(iter(self.free))
            self.bytes -= self.free[key].pop(0).nbytes
            if not self.free[key]:
                del self.free[key]
        key = (a.shape, a.dtype)
        self.free[key] = self.free.pop(key, []) + [a]  # (last: the latest kind goes last)
        self.bytes += a.nbytes


_POOL = _Pool()


class _Lease:
    """The arrays ``buffer`` made for one space. When the space is dropped, those that nothing else holds (no view,
    no other reference: a Statistics' gamma the caller kept is not taken back) return to the pool. (A lease dropped
    before its space's arrays, which it is not, would only give back nothing.)"""

    __slots__ = ("arrays",)

    def __init__(self):
        self.arrays = []

    def __del__(self):
        try:
            for a in self.arrays:
                if sys.getrefcount(a) <= 3:  # the list, the loop variable, getrefcount's argument
                    _POOL.give(a)
        except Exception:  # interpreter shutdown: nothing to give back to
            pass


def renormalisation_interval(A: np.ndarray) -> int:
    """R such that messages renormalised every R steps cannot underflow.

    The scaled emissions have max_k b_t(k) = 1, so one step keeps at least min_ij A_ij of a message's mass:
    after R steps at least (min A)^R, which must stay above 1e-100 (a wide margin, so that the backward messages,
    which are divided by the forward normalisers, stay far from overflow too). With a zero in A there is no such
    bound, and the messages are renormalised at every step, as in Rabiner's scaling.
    """
    smallest = A.min()
    if smallest <= 0:
        return 1
    return int(max(1, min(64, np.floor(-100 * np.log(10) / np.log(smallest)))))


def _transfer_matrices(A: np.ndarray, B: np.ndarray, R: int, space: dict | None = None) -> np.ndarray:
    """P_c = prod_{j=1}^{L-1} A diag(b_j) for every chunk c, each scaled to sum one: an array (K, C, K) with
    P[i, c, l] = (P_c)_il. Row i of every P_c is the forward pass of chunk c from state i, so the K rows advance
    together: one matrix product and one product with b_j (broadcast over the outer axis, which is fast) a step."""
    L, C, K = B.shape
    P, Q = buffer(space, "P", (K, C, K)), buffer(space, "Q", (K, C, K))
    P[:] = np.eye(K)[:, None, :]
    P_rows, Q_rows = P.reshape(K * C, K), Q.reshape(K * C, K)  # views: one matrix product per step
    b = list(B)  # the (C, K) block of each step, as views made once (see _forward_block)
    for j in range(1, L):
        np.dot(P_rows, A, Q_rows)
        np.multiply(Q, b[j], P)
        if j % R == 0 or j == L - 1:
            P /= (P.sum(axis=0) @ np.ones(K))[:, None]
    return P.transpose(1, 0, 2)


def _normalised(v: np.ndarray) -> np.ndarray:
    """v / (sum of each v[c]) for v of shape (C, K) or (C, K, K)."""
    return v / row_sums(v.reshape(len(v), -1)).reshape((-1,) + (1,) * (v.ndim - 1))


def _running_products(M: np.ndarray, depth: np.ndarray, step: int) -> np.ndarray:
    """Products along chains of columns, in log2(max depth) vectorised steps (a Hillis-Steele scan).

    With step = -1: out[c] = M[c - depth[c] + 1] @ ... @ M[c - 1] @ M[c], the product of the depth[c] matrices
    ending at column c; with step = +1: out[c] = M[c] @ M[c + 1] @ ... @ M[c + depth[c] - 1]. Columns with
    depth 0 are not used. Each product is scaled to sum one: only its direction matters here.
    """
    out, d = M.copy(), 1
    while d < depth.max():
        c = np.flatnonzero(depth > d)
        out[c] = _normalised(out[c - d] @ out[c] if step < 0 else out[c] @ out[c + d])
        d *= 2
    return out


def _boundary_messages(grid: Grid, A: np.ndarray, B: np.ndarray, start: np.ndarray, R: int, space=None):
    """first (C, K): the predictive distribution p(z | everything before) at the first step of each chunk, and
    last (C, K): the direction of beta at the last step of each chunk, carried across the chunk boundaries.

    With G_c = diag(b_0) P_c the whole of chunk c: first_c is proportional to start G_h A G_{h+1} A ... G_{c-1} A
    (h the sequence's first chunk), and last_c to A G_{c+1} A G_{c+2} ... A G_e 1 (e its last chunk): running
    products of the chunk maps, computed for all columns at once."""
    C, K = B.shape[1:]
    first, last = np.empty((C, K)), np.ones((C, K))
    first[:] = start
    continued = grid.continued
    if len(continued):
        G = B[0][:, :, None] * _transfer_matrices(A, B, R, space)
        forward = _running_products(G @ A, grid.before + 1, step=-1)  # forward[c - 1]: all the chunks before c
        first[continued] = _normalised(start @ forward[continued - 1])
        backward = _running_products(A @ G, grid.after + 1, step=+1)  # backward[c + 1]: all the chunks after c
        has_next = np.flatnonzero(grid.after > 0)
        last[has_next] = _normalised(backward[has_next + 1] @ np.ones(K))
    return first, last


def _forward_block(first: np.ndarray, A: np.ndarray, B: np.ndarray, R: int, space=None,
                   previous: tuple | None = None) -> tuple[np.ndarray, dict]:
    """Forward over all chunks at once: alpha (L, C, K) from each chunk's predictive ``first`` (C, K).

    alpha_j = (alpha_{j-1} A) * b_j, renormalised to sum one at the first and last steps and at every R-th
    (j = R - 1, 2R - 1, ...); there c_j is the sum divided out, the other steps have c_j = 1. Returns alpha and
    {j: c_j (C,)} for the renormalised steps: sum log c over a sequence's cells is its scaled log-likelihood.

    ``previous``: (alpha, c) of a sweep of these chunks from other first messages, which this one overwrites only
    up to the first renormalised step where its alpha equals the previous one to SETTLED in every chunk: from there
    on the previous sweep is this one (the same recursion from the same normalised message), c_j included. (A
    wrong first message is forgotten within some tens of steps.)

    The loop runs L times on small blocks, so its cost is mostly the calls themselves: the blocks of each step
    are views made once (``list(alpha)``), outputs are passed by position, and np.dot is the lightest call for a
    small 2-D product."""
    L, C, K = B.shape
    alpha, c = (buffer(space, "alpha", (L, C, K)), {}) if previous is None else previous
    renormalised = {0, L - 1} | set(range(R - 1, L, R))
    a, b = list(alpha), list(B)
    new = np.empty((C, K))
    np.multiply(first, b[0], a[0])
    for j in range(L):
        check = previous is not None and j and j in renormalised
        out = new if check else a[j]
        if j:
            np.dot(a[j - 1], A, out)
            np.multiply(out, b[j], out)
        if j in renormalised:
            c[j] = row_sums(out)
            if not np.all(c[j] > 0):
                raise ValueError(IMPOSSIBLE)
            out /= c[j][:, None]
            if check:
                if np.abs(out - a[j]).max() <= SETTLED:
                    break
                a[j][...] = out
    return alpha, c


#: A backward sweep from corrected last messages compares its messages with the previous sweep's every CHECK_BACK
#: steps (``_backward_block``).
CHECK_BACK = 16


def _backward_block(last: np.ndarray, alpha: np.ndarray, c: dict, A: np.ndarray, B: np.ndarray, space=None,
                    previous: tuple | None = None):
    """Backward over all chunks at once, scaled by the forward normalisers as in Rabiner (1989):

        beta_j = A W_{j+1},    W_j = b_j * beta_j / c_j,

    from beta at each chunk's last step, ``last`` scaled so that alpha . beta = 1 there. Then every step has
    alpha_j * beta_j = gamma_j exactly, and sum_j alpha_j^T W_{j+1} = sum_j xi_j / A (elementwise): the expected
    transition counts need no normaliser of their own. Returns W (L, C, K), beta (L, C, K).

    ``previous``: (W, beta) of a sweep from other last messages, which this one overwrites only down to the first
    of every CHECK_BACK steps where its beta equals the previous one to SETTLED (relative to each chunk's largest
    component): alpha_j . beta_j = 1 at every step of both sweeps, so messages of the same direction are equal, and
    from there on the previous sweep is this one."""
    L, C, K = B.shape
    beta, W = (buffer(space, "beta", (L, C, K)), buffer(space, "W", (L, C, K))) if previous is None else previous[::-1]
    At = np.ascontiguousarray(A.T)
    beta[-1] = last / row_sums(alpha[-1] * last)[:, None]
    w, v, b = list(W), list(beta), list(B)  # views made once, as in _forward_block
    new = np.empty((C, K))
    for j in range(L - 1, -1, -1):
        np.multiply(b[j], v[j], w[j])
        if j in c:
            w[j] /= c[j][:, None]
        if not j:
            break
        if previous is not None and (L - j) % CHECK_BACK == 0:
            np.dot(w[j], At, new)
            if np.all(np.abs(new - v[j - 1]) <= SETTLED * row_max(v[j - 1])[:, None]):
                break
            v[j - 1][...] = new
        else:
            np.dot(w[j], At, v[j - 1])
    return W, beta


#: Largest change, relative to the message, that a boundary message may still make on a further sweep.
SETTLED = 1e-13
#: Sweeps in each direction before the boundary messages are taken from the transfer matrices instead.
SWEEPS = 3


def _settled_sweeps(grid: Grid, A: np.ndarray, B: np.ndarray, start: np.ndarray, R: int, space: dict | None):
    """The forward and backward sweeps from guessed boundary messages, repeated until the guesses are the true
    messages; None if SWEEPS sweeps in each direction do not get there (then the transfer matrices are needed,
    and are used for this grid from then on).

    The first message of chunk c is right exactly when it equals the predictive distribution that the forward
    sweep of chunk c - 1 ends with, normalise(alpha_{L-1} A); a wrong guess is forgotten along the chunk (as fast
    as the chain mixes and the observations inform), so a sweep started from the messages implied by the previous
    sweep is exact to round-off once the change falls below SETTLED; likewise backwards, where the last message of
    chunk c - 1 must be proportional to A W_0 of chunk c. The guesses are the messages of the previous E step
    (kept in ``space``): EM changes the parameters little from one iteration to the next. A sweep after the first
    only recomputes the steps before its messages meet the previous sweep's (``previous`` of ``_forward_block``
    and ``_backward_block``): the wrong guess is forgotten after some tens of steps of a chunk's hundreds.
    """
    continued = grid.continued
    if not len(continued) or space is None or space.get("sweeps fail"):
        return None  # nothing to guess (every chunk starts a sequence), or guessing has failed here before
    C, K = B.shape[1:]
    first, last = space.get("first"), space.get("last")
    if first is None or first.shape != (C, K):
        first, last = np.broadcast_to(start, (C, K)).copy(), np.ones((C, K))
    first[grid.heads] = start
    swept = None
    for _ in range(SWEEPS):
        alpha, c = swept = _forward_block(first, A, B, R, space, previous=swept)
        implied = _normalised(alpha[-1, continued - 1] @ A)
        change = np.abs(implied - first[continued]).max()
        first[continued] = implied
        if change <= SETTLED:
            break
    else:
        space["sweeps fail"] = True
        return None
    At = np.ascontiguousarray(A.T)
    swept = None
    for _ in range(SWEEPS):
        W, beta = swept = _backward_block(last, alpha, c, A, B, space, previous=swept)
        implied = _normalised(W[0, continued] @ At)
        change = np.abs(implied - _normalised(last[continued - 1])).max()
        last[continued - 1] = implied
        if change <= SETTLED:
            break
    else:
        space["sweeps fail"] = True
        return None
    space["first"], space["last"] = first, last
    return alpha, c, W, beta


def grid_statistics(B: np.ndarray, grid: Grid, start: np.ndarray, A: np.ndarray, R: int | None = None,
                    space: dict | None = None) -> Statistics:
    """The posterior statistics of all the sequences of ``grid`` from their scaled emissions B (L, C, K) in grid
    order (1 at the padding): the transfer matrices and boundary messages, then one forward and one backward sweep
    over all chunks at once, then gamma = alpha * beta and the transition counts as one matrix product.
    ``space``: see ``buffer``; gamma is then one of its arrays, overwritten by the next call.

    Range: the forward messages keep at least 1e-100 of their mass between renormalisations
    (``renormalisation_interval``), and the backward ones are at most Rabiner's scaled beta, which is at most
    1 / min A_ij; so only a transition matrix with zeros (renormalisation at every step, Rabiner's scaling
    exactly) could overflow, and then a ValueError says so rather than return NaN."""
    L, C, K = B.shape
    R = R or renormalisation_interval(A)
    settled = _settled_sweeps(grid, A, B, start, R, space)
    if settled is None:
        first, last = _boundary_messages(grid, A, B, start, R, space)
        alpha, c = _forward_block(first, A, B, R, space)
        W, beta = _backward_block(last, alpha, c, A, B, space)
    else:
        alpha, c, W, beta = settled
    W.reshape(L * C, K)[grid.padding] = 0.0  # no transition into a padded step
    counts = transposed_product(alpha[:-1].reshape(-1, K), W[1:].reshape(-1, K))
    continued = grid.continued  # the pairs (last step of a chunk, first step of the next):
    counts += alpha[-1, continued - 1].T @ W[0, continued]
    gamma = np.multiply(alpha, beta, out=beta).reshape(L * C, K)
    gamma[grid.padding] = 0.0
    log_c = float(sum(np.log(v).sum() for v in c.values()))
    transitions = A * counts
    if not (np.isfinite(transitions).all() and np.isfinite(gamma.sum())):
        raise ValueError("the scaled forward-backward overflowed (a transition matrix with zeros and extremely "
                         "unlikely observations): use method='log', the log-space recursion.")
    return Statistics(gamma, gamma[grid.heads].sum(axis=0), transitions, log_c)


def fast(b: np.ndarray, log_scale: np.ndarray, lengths, start: np.ndarray, A: np.ndarray, L: int | None = None,
         space: dict | None = None):
    """The fast statistics of sequences given in time order (scaled emissions (sum T, K) concatenated and their
    lengths): (gamma (sum T, K) in time order, start counts, transition counts, total log-likelihood).
    ``space``: as for ``grid_statistics`` (with one, the boundary messages are found by sweeps when they can be)."""
    grid = Grid.of(lengths, L)
    B = grid.place(b, fill=1.0).reshape(grid.L, grid.C, -1)
    s = grid_statistics(B, grid, start, A, space=space)
    return s.gamma[grid.cells], s.start_counts, s.transitions, s.log_c + float(log_scale.sum())


# --------------------------------------------------------------------------------------- Viterbi

def viterbi_reference(log_b: np.ndarray, start: np.ndarray, A: np.ndarray) -> tuple[np.ndarray, float]:
    """The most probable state path argmax_z log p(x, z) and its log-probability, by dynamic programming in log space,
    one time step at a time as the formulas read (the reference for ``viterbi``):

        delta_0(k) = log pi_k + log b_0(k),    delta_t(k) = max_l [delta_{t-1}(l) + log A_lk] + log b_t(k),

    with back-pointers psi_t(k) = the first l attaining that max; z*_{T-1} = argmax_k delta_{T-1}(k),
    z*_{t-1} = psi_t(z*_t), and log p(x, z*) = max_k delta_{T-1}(k). log_b (T, K); returns ((T,) path, float).
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


#: Steps at the end of a chunk (at most all of them) from which the next chunk's entry message is guessed
#: (``viterbi``): with 48 of 63, 6% of the guesses were wrong for a slowly mixing model (K = 4) and 1% for the
#: casino, with all 63, 1% and 0.3%; a wrong guess costs a repair.
WARM_UP = 64
#: Steps into the next chunk from which the state at the end of a chunk is guessed (``viterbi``).
LOOK_AHEAD = 16
#: The forward pass keeps its messages at steps CHECK - 1, 2 CHECK - 1, 4 CHECK - 1, ...: a chunk run again from a
#: corrected entry message stops at the first of these where it meets its first run (``_repair``).
CHECK = 8
#: Chunks still running again are run to their end by the transfer matrices of their pieces (``_rerun``) once that
#: costs at most this share of the work of a pass.
RERUN_WORK = 1 / 8
#: Rounds of repairs of wrong entry messages, and of wrong chunk ends, before ``viterbi`` takes them from the
#: transfer matrices and the entry maps instead.
REPAIRS = 8
#: Two max-product messages that agree to this, relative to the size of their chunk's scores, are the same: the
#: reference recursion, whose messages grow to the size of log p(x, z*), has a round-off of this order.
SAME = 1e-12


def viterbi_chunk_length(N: int) -> int:
    """L about sqrt(N / 25) for N transitions (63 for 10^5, 201 for 10^6): the C = N / L chunks keep every
    vectorised step busy while the L Python steps of each loop stay few, and a chunk is long enough for most
    messages to forget where they started (see ``viterbi``). L is odd: with L K a power of two times 8 bytes apart,
    the chunks' steps fall in a few cache sets and laying them out in a grid (``_viterbi_grid``) is three times
    slower (K = 4, L = 64 against 63)."""
    return int(np.ceil(np.sqrt(N / 25.0))) // 2 * 2 + 1


def _viterbi_grid(log_b: np.ndarray, L: int, C: int) -> np.ndarray:
    """log b_t for t = 0..N-1, (N, K), in grid order (L, K, C): step cL + j at [j, :, c]; 0 at the padding after N."""
    N, K = log_b.shape
    B = _POOL.take((L, K, C))
    full = N // L
    chunks = log_b[:full * L].reshape(full, L, K)
    for c in range(0, full, 256):  # 256 chunks at a time: the transposition stays in cache (twice as fast)
        B[:, :, c:min(c + 256, full)] = chunks[c:c + 256].transpose(1, 2, 0)
    if full < C:
        B[:N - full * L, :, full] = log_b[full * L:]
        B[N - full * L:, :, full] = 0.0
    return B


#: The largest (K, K, n) block of log A that ``_max_product`` lays out in full (256 KiB of numbers: with the
#: block S of the same size, they stay in a core's cache; on 10^6 steps, 4,975 chunks, K = 3, the full layout
#: made the pass 40% slower).
FULL_BLOCK = 32768


def _max_product(delta: np.ndarray, log_A: np.ndarray, B: np.ndarray, psi: np.ndarray | None = None, keep=()):
    """The max-product recursion through the L steps of B for every chunk at once, from the messages ``delta`` at
    the step before the first:

        delta_j(k) = max_l [delta_{j-1}(l) + log A_lk] + log b_j(k),    psi_j(k) = the first l attaining the max.

    B (L, K, n): the log emissions of n chunks in grid order (``_viterbi_grid``); delta (K, n), a message per chunk,
    or (K, E, n), E of them. psi (L, K, n) uint8, if given, receives the back-pointers (one message per chunk).
    Returns delta_{L-1} and {j: delta_j} for the steps j in ``keep`` (arrays of their own, written by the loop).

    A step is a few operations on blocks whose last axis, the chunks, is contiguous: S[l, k] = delta(l) + log A_lk
    (log A laid out once as a full (K, K, n) block while that is at most FULL_BLOCK numbers: numpy broadcasts a
    (K, K, 1) operand over such blocks markedly slower, but a larger block pushes S out of the cache), then the
    running max over l; where S[l] beats the max of every earlier l, psi = l (l exceeds every earlier index, so the
    max of l * [S[l] beats them] over l is the first maximiser, as argmax would give)."""
    L, K = B.shape[:2]
    d = np.asarray(delta, dtype=float)
    shape, extra = d.shape, (1,) * (d.ndim - 2)
    log_A = log_A.reshape((K, K, 1) + extra)
    if K * d.size <= FULL_BLOCK:
        log_A = np.ascontiguousarray(np.broadcast_to(log_A, (K, K) + shape[1:]))
    b = list(B if d.ndim == 2 else B.reshape((L, K) + extra + B.shape[2:]))  # views made once (see _forward_block)
    S, best = np.empty((K,) + shape), np.empty(shape)
    s = list(S)
    s0, s1 = s[0], s[min(1, K - 1)]  # (K = 1: best = S[0], psi = 0)
    if psi is not None:
        beats, index = np.empty(shape, dtype=bool), np.empty(shape, dtype=psi.dtype)
    kept, spare = {j: np.empty(shape) for j in keep}, np.empty(shape)
    for j in range(L):
        np.add(d[:, None], log_A, out=S)
        np.maximum(s0, s1, out=best)
        if psi is not None:
            p = psi[j]
            np.greater(s1, s0, out=p.view(bool))  # psi = 1 where l = 1 beats l = 0, else 0
        for l in range(2, K):
            if psi is not None:
                np.greater(s[l], best, out=beats)
                np.multiply(beats, index.dtype.type(l), out=index)
                np.maximum(p, index, out=p)
            np.maximum(best, s[l], out=best)
        d = kept.get(j, spare)  # (S is made: delta_{j-1} may be overwritten)
        np.add(best, b[j], out=d)
    return d, kept


def _relative(delta: np.ndarray) -> np.ndarray:
    """delta - max_k delta(k) for every chunk: the argmaxes of a message only depend on its differences."""
    with np.errstate(invalid="ignore"):  # a message of -inf only: NaN, which no check takes for a right message
        return delta - row_max(delta.T)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) bool: the messages a and b (K, n) are the same up to a constant per chunk (-inf where both are -inf,
    equal to SAME relative to the chunk's score elsewhere)."""
    top = row_max(a.T)
    with np.errstate(invalid="ignore"):
        rel_a, rel_b = a - top, b - row_max(b.T)
        same = (rel_a == rel_b) | (np.abs(rel_a - rel_b) <= SAME * (1.0 + np.abs(top)))
    return same.all(axis=0)


def _disagree(end: np.ndarray, entry: np.ndarray) -> np.ndarray:
    """The chunks whose end messages ``end`` (K, n) are not the entry messages ``entry`` (K, n) of the chunks after
    them (``_same``)."""
    return np.flatnonzero(~_same(end, entry))


def _guessed_entries(delta_0: np.ndarray, log_A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The entry messages (K, C) of the chunks, relative to their max: the first chunk's is delta_0, exact; chunk
    c + 1's is guessed as the message with which the last WARM_UP steps of chunk c end when run from no information
    (delta = 0): a message forgets where it started once the best paths into all the states share a state, usually
    within a few tens of steps."""
    L, K, C = B.shape
    entry = np.empty((K, C))
    entry[:, 0] = delta_0
    if C > 1:  # (all C chunks warm up: contiguous blocks are faster than the first C - 1 of them)
        guess, _ = _max_product(np.zeros((K, C)), log_A, B[max(0, L - WARM_UP):])
        entry[:, 1:] = _relative(guess[:, :-1])
    return entry


class _Runs(NamedTuple):
    """Where the forward pass of every chunk stands: its messages (K, C) kept at some steps (always the last, L - 1,
    and ``stop``, the last step of the last chunk), and for a chunk run again from a corrected entry up to the kept
    step ``prefix`` where it met its first run, the constant ``shift`` by which its right messages exceed the kept
    ones after that step (prefix -1: a single run throughout)."""

    kept: dict
    prefix: np.ndarray
    shift: np.ndarray
    stop: int

    @classmethod
    def of(cls, kept: dict, stop: int) -> "_Runs":
        C = kept[stop].shape[1]
        return cls(kept, np.full(C, -1), np.zeros(C), stop)

    def ends(self) -> np.ndarray:
        """The messages (K, C) with which the chunks end, up to their shift."""
        end = self.kept[max(self.kept)].copy()
        end[:, -1] = self.kept[self.stop][:, -1]
        return end

    def scores(self) -> np.ndarray:
        """max_k of every chunk's right end message: log p(x, z*) = max delta_0 + their sum."""
        last = np.full(len(self.prefix), max(self.kept))
        last[-1] = self.stop
        return row_max(self.ends().T) + np.where(last > self.prefix, self.shift, 0.0)


def _repair(columns: np.ndarray, entry: np.ndarray, log_A: np.ndarray, B: np.ndarray, psi: np.ndarray,
            runs: _Runs) -> np.ndarray:
    """Run the chunks ``columns`` again from their corrected entry messages ``entry`` (K, n), from one kept step to
    the next, until their messages meet the kept ones up to a constant at a kept step j past their prefix. From j on
    the first run is right, back-pointers included: delta_j determines every later message up to that constant (the
    chunk's ``shift``, which corrects its score) and every later back-pointer. The back-pointers and the kept
    messages up to j are rewritten. Most chunks meet their first run within a few steps; those that have not after
    2 CHECK steps may take long, and once they are few enough that running the rest of their steps (over 32) by
    transfer matrices costs at most RERUN_WORK of a pass, ``_rerun`` does that in about 3 sqrt(steps) Python steps
    (its own cost is that of some 30 steps). Returns the chunks that did not meet their first run: their end
    messages may have changed, and the next chunk's entry must be checked again."""
    L, K, C = B.shape
    d, active, j0 = entry, columns, 0
    for j in sorted(runs.kept):
        if j0 >= 2 * CHECK and L - j0 > 32 and (K + 1) * len(active) * (L - j0) <= RERUN_WORK * L * C:
            _rerun(active, d, log_A, B, psi, runs.kept, j0)  # about 3 sqrt(L - j0) steps instead of L - j0
            break
        back = np.empty((j + 1 - j0, K, len(active)), dtype=psi.dtype)
        d, _ = _max_product(d, log_A, B[j0:j + 1][:, :, active], psi=back)
        psi[j0:j + 1, :, active] = back
        old = runs.kept[j][:, active]
        met = _same(d, old) & (runs.prefix[active] < j)
        runs.kept[j][:, active] = d
        if met.any():
            runs.shift[active[met]] = row_max(d[:, met].T) - row_max(old[:, met].T)
            runs.prefix[active[met]] = j
            active, d = active[~met], d[:, ~met]
            if not len(active):
                break
        j0 = j + 1
    runs.prefix[active], runs.shift[active] = -1, 0.0
    return active


def _rerun(columns: np.ndarray, entry: np.ndarray, log_A: np.ndarray, B: np.ndarray, psi: np.ndarray, kept: dict,
           first: int = 0):
    """Run steps first..L-1 of the chunks ``columns`` (n,) again from their messages ``entry`` (K, n) at the step
    before, into the back-pointers psi and the kept messages, in few Python steps. These R = L - first steps are
    cut into P pieces of l steps (l about sqrt(R)); the transfer matrix of every piece, M_p(i, k) = the best score
    through piece p from state i before it to state k at its end (the max-product from the K unit messages at
    once), gives the entry message of every piece in turn,

        e_{p+1}(k) = max_i [e_p(i) + M_p(i, k)]    (scaled to max 0, the scales o_p added up),

    and then all the pieces of all the chunks run at once from their entries: l + P + l Python steps instead of
    R, for K + 1 times the work of the n chunks."""
    L, K = B.shape[:2]
    R, n = L - first, len(columns)
    l = int(np.ceil(np.sqrt(R)))
    P = -(-R // l)
    pieces = np.zeros((P * l, K, n))  # (the steps past L: padding, log b = 0)
    pieces[:R] = B[first:][:, :, columns]
    pieces = np.ascontiguousarray(pieces.reshape(P, l, K, n).transpose(1, 2, 0, 3)).reshape(l, K, P * n)
    unit = np.where(np.eye(K, dtype=bool), 0.0, -np.inf)
    M, _ = _max_product(np.broadcast_to(unit[:, :, None], (K, K, P * n)), log_A, pieces)
    M = np.ascontiguousarray(M.reshape(K, K, P, n).transpose(2, 0, 1, 3))  # M[p, k, i, c] = M_p(i, k) of chunk c
    e, scale = np.empty((P, K, n)), np.zeros((P, n))
    e[0] = entry
    with np.errstate(invalid="ignore"):  # -inf only: an impossible chunk, which viterbi sees in its scores
        for p in range(P - 1):
            v = (M[p] + e[p]).max(axis=1)
            top = row_max(v.T)
            e[p + 1], scale[p + 1] = v - top, scale[p] + top
    back = np.empty((l, K, P * n), dtype=psi.dtype)
    steps = [j for j in kept if j >= first]
    _, got = _max_product(e.transpose(1, 0, 2).reshape(K, P * n), log_A, pieces, psi=back,
                          keep={(j - first) % l for j in steps})
    psi[first:, :, columns] = back.reshape(l, K, P, n).transpose(2, 0, 1, 3).reshape(P * l, K, n)[:R]
    for j in steps:
        p, i = divmod(j - first, l)
        kept[j][:, columns] = got[i].reshape(K, P, n)[:, p] + scale[p]


def _transfer_entries(entry_0: np.ndarray, log_A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The exact entry message (K,) of every chunk, (K, C), from the first one's and the transfer matrices
    M_c(i, k) = the best score through chunk c from state i before it to state k at its end (the max-product from
    the K unit messages, 0 at i and -inf elsewhere, at once): entry_{c+1}(k) = max_i [entry_c(i) + M_c(i, k)],
    one chunk after the other. K times the work of a pass: the fallback when guessing does not settle."""
    L, K, C = B.shape
    unit = np.where(np.eye(K, dtype=bool), 0.0, -np.inf)
    M, _ = _max_product(np.repeat(unit[:, :, None], C - 1, axis=2), log_A, B[:, :, :-1])  # M[k, i, c] = M_c(i, k)
    entry = np.empty((K, C))
    entry[:, 0] = entry_0
    for c in range(C - 1):
        v = (M[:, :, c] + entry[:, c]).max(axis=1)
        entry[:, c + 1] = v - v.max()
    return entry


def _backtrack(psi: np.ndarray, state: np.ndarray):
    """z_{j-1} = psi_j(z_j) in every chunk at once, from ``state`` (C,) or (E, C), the states at the last step of
    each chunk: (the states at every step, (L,) + state.shape, and the states at the step before each chunk)."""
    L, K, C = psi.shape
    flat, column = psi.reshape(L, K * C), np.arange(C)
    path = np.empty((L,) + np.shape(state), dtype=psi.dtype)
    path[-1] = state
    index = np.empty(np.shape(state), dtype=np.intp)
    for j in range(L - 1, -1, -1):
        np.multiply(path[j], C, out=index, dtype=np.intp)  # psi_j(z) of chunk c is at z C + c
        index += column
        if j:
            np.take(flat[j], index, out=path[j - 1])
    return path, flat[0][index]


def _retrace(psi: np.ndarray, path: np.ndarray, columns: np.ndarray, state: np.ndarray):
    """Backtrack the chunks ``columns`` again, into ``path`` (L, C), from new states at their last step, until each
    meets its old path: from there on the old path is its path. Returns the chunks that never met it, with their
    new states at the step before the chunk (the others arrive where they did). The few chunks left after a step
    or two (paths merge fast) are followed one at a time."""
    j = len(path) - 1
    while len(columns) > 8 and j >= 0:
        met = path[j, columns] == state
        path[j, columns] = state
        columns, state = columns[~met], state[~met]
        state = psi[j, state, columns]
        j -= 1
    if j < 0:
        return columns, state
    arrived = []
    for c, z in zip(columns.tolist(), state.tolist()):
        for i in range(j, -1, -1):
            if path[i, c] == z:
                break
            path[i, c] = z
            z = psi[i, z, c]
        else:
            arrived.append((c, z))
    return np.array([c for c, _ in arrived], dtype=np.intp), np.array([z for _, z in arrived], dtype=psi.dtype)


def viterbi(log_b: np.ndarray, start: np.ndarray, A: np.ndarray, L: int | None = None) -> tuple[np.ndarray, float]:
    """The most probable state path z* = argmax_z log p(x, z), (T,), and log p(x, z*) for log_b (T, K): the result
    of ``viterbi_reference`` (the same path, ties aside, and the same log-probability to round-off) in few Python
    steps.

    Max-product is associative, so the recursion of ``viterbi_reference`` runs over chunks, as the fast
    forward-backward does. The T - 1 transitions are cut into C chunks of L steps (``viterbi_chunk_length``) laid
    side by side in a grid (L, K, C), and each loop below is over the L steps of all the chunks at once:

    * Entry messages. Chunk c + 1 starts from the message delta with which chunk c ends (relative to its max; the
      first chunk from delta_0 = log pi + log b_0), guessed by ``_guessed_entries`` from the end of the chunk
      before. The forward pass of every chunk from its guessed entry (``_max_product``, with the back-pointers
      psi (L, K, C), its messages kept at steps CHECK - 1, 2 CHECK - 1, 4 CHECK - 1, ...) then checks each guess:
      chunk c + 1 started from the right message exactly when chunk c, itself started right, ends with it (by
      induction from the first chunk, every entry is then exact). The chunks after a wrong guess run again from
      the message they should have had, only until their messages meet the first run (``_repair``), the last few
      by the transfer matrices of their pieces (``_rerun``), until no entry is wrong; after REPAIRS rounds, the
      transfer matrices of the chunks give every entry (``_transfer_entries``).
    * Back-pointers. z*_{T-1} = argmax_k delta_{T-1}(k) ends the last chunk; the state at the end of every other
      chunk is guessed by backtracking from the best state LOOK_AHEAD steps into the next one. Every chunk is
      backtracked at once from its guessed end (``_backtrack``), which was right when the next chunk's path
      arrives in it; the chunks whose guess was wrong are backtracked again from the arrival state until they meet
      their old path (``_retrace``), until every guess is right (again by induction, from the last chunk). After
      REPAIRS rounds, the arrival state for each of the K end states of every chunk resolves them one by one.
    * log p(x, z*) = max delta_0 + the sum over chunks of the max of their end messages (``_Runs.scores``).

    The last chunk is padded after the last step (log b = 0), which changes nothing: its end message is taken at
    the last step, and its back-pointers in the padding are set to stay. Ties between predecessors go to the
    first, as in the reference; two different paths of exactly the same probability can still come out
    differently, as the messages here are rounded differently (relative to each chunk, not to the start).
    An impossible sequence (log p(x, z*) = -inf) gets ``viterbi_reference``'s answer, and so do models with more
    than 256 states (back-pointers are bytes here; the reference's steps are then large enough to cost little).
    """
    T, K = log_b.shape
    with np.errstate(divide="ignore"):
        log_A, log_start = np.log(A), np.log(start)
    delta_0 = log_start + log_b[0]
    top_0 = delta_0.max()
    if not top_0 > -np.inf or K > 256:
        return viterbi_reference(log_b, start, A)
    if T == 1:
        return np.array([delta_0.argmax()]), float(top_0)
    N = T - 1
    L = int(L or viterbi_chunk_length(N))
    C = -(-N // L)
    stop, look = N - 1 - (C - 1) * L, min(LOOK_AHEAD, L) - 1  # the last chunk ends at step `stop`
    B = _viterbi_grid(log_b[1:], L, C)
    psi = _POOL.take((L, K, C), np.uint8)

    entry = _guessed_entries(delta_0 - top_0, log_A, B)
    keep = {look, stop, L - 1} | {j for j in CHECK * 2 ** np.arange(L.bit_length()) - 1 if j < L}
    runs = _Runs.of(_max_product(entry, log_A, B, psi=psi, keep=keep)[1], stop)
    end = runs.ends()
    wrong = 1 + _disagree(end[:, :-1], entry[:, 1:])
    for _ in range(REPAIRS):
        if not len(wrong) or not np.isfinite(row_max(end.T)).all():
            break
        entry[:, wrong] = _relative(end[:, wrong - 1])
        changed = _repair(wrong, entry[:, wrong], log_A, B, psi, runs)
        end = runs.ends()
        after = changed[changed < C - 1]
        wrong = after[_disagree(end[:, after], entry[:, after + 1])] + 1
    if len(wrong) and np.isfinite(row_max(end.T)).all():
        entry = _transfer_entries(entry[:, 0], log_A, B)
        runs = _Runs.of(_max_product(entry, log_A, B, psi=psi, keep=keep)[1], stop)
    scores = runs.scores()
    if not np.isfinite(scores).all():  # a chunk that no path gets through: the sequence is impossible
        return viterbi_reference(log_b, start, A)

    psi[stop + 1:, :, -1] = np.arange(K)  # the padding after the last step: stay
    ends = np.empty(C, dtype=psi.dtype)
    ends[-1] = runs.kept[stop][:, -1].argmax()
    ends[:-1] = _backtrack(psi[:look + 1], runs.kept[look].argmax(axis=0))[1][1:]
    path, before = _backtrack(psi, ends)
    for _ in range(REPAIRS):
        moved = np.flatnonzero(before[1:] != ends[:-1])  # the next chunk's path arrives elsewhere
        if not len(moved):
            break
        ends[moved] = before[moved + 1]
        changed, arrival = _retrace(psi, path, moved, ends[moved])
        before[changed] = arrival
    if np.any(before[1:] != ends[:-1]):
        _, arrival = _backtrack(psi, np.repeat(np.arange(K, dtype=psi.dtype)[:, None], C, axis=1))
        arrival, ends = arrival.T.tolist(), ends.tolist()
        for c in range(C - 1, 0, -1):
            ends[c - 1] = arrival[c][ends[c]]
        path, before = _backtrack(psi, np.array(ends, dtype=psi.dtype))
    z = np.empty(T, dtype=np.intp)
    z[0] = before[0]
    z[1:] = path.T.reshape(-1)[:N]
    for a in (B, psi):  # for the next call (fresh memory costs a page fault every 4 KiB on first touch)
        if sys.getrefcount(a) <= 4:  # its name here, the tuple, the loop variable, getrefcount's argument
            _POOL.give(a)
    return z, float(top_0 + scores.sum())
