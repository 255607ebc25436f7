"""Hidden Markov models and Baum-Welch, which is EM for them.

Model: a hidden state path z_0..z_{T-1} in {0..K-1}, a Markov chain with start distribution pi and transition
matrix A (A_ij = p(z_{t+1} = j | z_t = i)), and observations x_t ~ p(x | z_t), the emission distribution of the
state: ``Categorical(probs)`` (symbols 0..M-1) or ``Gaussian(means, covariances)`` (vectors in D dimensions).

E step (forward-backward, ``emlib.forward_backward``): the expected sufficient statistics under p(z | x, theta),
the parameters of Q:

    start counts    sum over sequences of gamma_0(k) = p(z_0 = k | x)
    transitions     sum_t xi_t(i, j) = sum_t p(z_t = i, z_{t+1} = j | x)
    emissions       the state occupancies gamma_t(k) as weights: symbol counts, or Gaussian moments.

M step: pi = start counts / number of sequences; A = transition counts, each row divided by its sum; the emission
parameters as for a mixture with weights gamma. ``fit`` runs Baum-Welch on the shared EM driver.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import NamedTuple, Union

import numpy as np

from . import forward_backward as fb
from . import gaussian
from ._validation import Validated, finite, frozen, probability_vector, shape
from .em import EMResult, Stats, run_em
from .gmm import GMMStats, gaussian_m_step, gaussian_map_step, gaussian_statistics, log_dirichlet, log_niw
from .gmm import Prior as GMMPrior

__all__ = [
    "Categorical", "Gaussian", "HMMParams", "HMMStats", "e_step", "m_step", "fit", "log_likelihood", "posteriors",
    "viterbi", "sample", "METHODS", "Prior", "log_prior",
]

#: Forward-backward implementations: "fast" (all sequences and chunks at once on a grid), "scaled" (Rabiner's
#: recursion, one step at a time), "log" (log-space messages).
METHODS = ("fast", "scaled", "log")


# ----------------------------------------------------------------------------------------------- parameters

class Categorical(NamedTuple("_Categorical", [("probs", np.ndarray)])):
    """Categorical emissions: probs (K, M), row k the distribution of the symbol emitted in state k."""

    def __new__(cls, probs):
        probs = frozen(probs)
        if probs.ndim != 2:
            raise ValueError(f"emission probs must have shape (K, M), got {probs.shape}.")
        probability_vector(probs, "each row of the emission probs")
        return super().__new__(cls, probs)

    @property
    def n_states(self) -> int:
        return self.probs.shape[0]

    def check(self, x: np.ndarray, name: str) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of symbols, got shape {x.shape}.")
        if x.size and (x.dtype.kind == "f" and not np.all(np.isfinite(x))):
            finite(x, name)
        if x.size and (np.any(x != np.round(x)) or x.min() < 0 or x.max() >= self.probs.shape[1]):
            bad = x[(x != np.round(x)) | (x < 0) | (x >= self.probs.shape[1])][0].item()
            raise ValueError(f"{name} has the symbol {bad}, outside the alphabet 0..{self.probs.shape[1] - 1} "
                             "of the emission probs: recode the symbols as 0..M-1.")
        return x.astype(np.intp)

    def log_probs(self, x: np.ndarray, out=None) -> np.ndarray:
        """log p(x_t | z_t = k), shape (T, K) (into ``out`` if given)."""
        with np.errstate(divide="ignore"):
            return np.take(np.log(self.probs.T), x, axis=0, out=out)


_GaussianFields = NamedTuple("_Gaussian", [("means", np.ndarray), ("covariances", np.ndarray)])


class Gaussian(gaussian.CholeskyFactors, _GaussianFields):
    """Gaussian emissions: means (K, D), covariances (K, D, D) symmetric positive definite."""

    def __new__(cls, means, covariances):
        means, covariances = frozen(means), frozen(covariances)
        if means.ndim == 1:
            means = frozen(means[:, None])
        if means.ndim != 2:
            raise ValueError(f"emission means must have shape (K, D), got {means.shape}.")
        K, D = means.shape
        if covariances.ndim == 1 and D == 1:
            covariances = frozen(covariances[:, None, None])
        shape(covariances, (K, D, D), "emission covariances", "(K, D, D)")
        finite(means, "emission means")
        finite(covariances, "emission covariances")
        self = super().__new__(cls, means, covariances)
        self.__dict__["_cholesky"] = gaussian.cholesky(covariances, "emission covariances")
        return self

    @property
    def n_states(self) -> int:
        return self.means.shape[0]



    def check(self, x: np.ndarray, name: str) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.means.shape[1]:
            raise ValueError(f"{name} must have shape (T, D) with D = {self.means.shape[1]} (the emission means' "
                             f"dimension), got {x.shape}.")
        return finite(x, name)

    def log_probs(self, x, out=None) -> np.ndarray:
        """log N(x_t | mu_k, Sigma_k), shape (T, K) (into ``out`` if given); ``x`` an array or ``gaussian.Features``."""
        F = x if isinstance(x, gaussian.Features) else gaussian.features(x)
        return gaussian.log_densities(F, self.means, self.inverse_cholesky, self.log_dets, out=out)


Emission = Union[Categorical, Gaussian]


class HMMParams(NamedTuple("_HMMParams", [("start", np.ndarray), ("transition", np.ndarray), ("emission", object)])):
    """HMM parameters, validated and read-only: ``start, transition, emission = params``.

    start:      (K,) the distribution of the first state.
    transition: (K, K) rows summing to one, transition[i, j] = p(z_{t+1} = j | z_t = i).
    emission:   ``Categorical`` or ``Gaussian`` with K states.
    """

    def __new__(cls, start, transition, emission):
        start, transition = frozen(start), frozen(transition)
        if not isinstance(emission, (Categorical, Gaussian)):
            raise TypeError(f"emission must be hmm.Categorical(probs) or hmm.Gaussian(means, covariances), "
                            f"got {type(emission).__name__}.")
        if start.ndim != 1:
            raise ValueError(f"start must have shape (K,), got {start.shape}.")
        K = len(start)
        shape(transition, (K, K), "transition", "(K, K)")
        if emission.n_states != K:
            raise ValueError(f"the emission has {emission.n_states} states but start has K = {K}.")
        probability_vector(start, "start")
        probability_vector(transition, "each row of transition")
        return super().__new__(cls, start, transition, emission)

    @property
    def n_states(self) -> int:
        return len(self.start)


# ----------------------------------------------------------------------------------------------- statistics

@dataclasses.dataclass(frozen=True)
class SymbolStats(Stats):
    """counts (K, M): sum_t gamma_t(k) [x_t = m]."""

    counts: np.ndarray


@dataclasses.dataclass(frozen=True)
class HMMStats(Stats):
    """Expected sufficient statistics of an HMM: start_counts (K,), transitions (K, K), emission statistics
    (``SymbolStats`` or ``GMMStats``), and n_sequences (how many sequences they summarise)."""

    start_counts: np.ndarray
    transitions: np.ndarray
    emission: Union[SymbolStats, GMMStats]
    n_sequences: float


class Data(NamedTuple):
    """Sequences checked and prepared once for many E steps.

    sequences: the checked arrays.
    joined:    their concatenation: symbols (sum T,), or Gaussian features of (sum T, D) vectors.
    grid:      the ``forward_backward.Grid`` of the fast forward-backward.
    gridded:   ``joined`` placed in grid order; at the padding, symbol 0 or the features of the centre.
    space:     the arrays the fast E step reuses from one iteration to the next (``forward_backward.buffer``).
    """

    sequences: list
    joined: object
    grid: fb.Grid
    gridded: object
    space: dict


def prepare(sequences, emission: Emission) -> Data:
    """Validate ``sequences`` (one array, or a list of arrays of any lengths) against the emission model."""
    if isinstance(sequences, Data):
        return sequences
    if isinstance(sequences, np.ndarray) or (isinstance(sequences, (list, tuple)) and sequences
                                             and np.isscalar(sequences[0])):
        sequences = [sequences]
    if not isinstance(sequences, (list, tuple)) or not sequences:
        raise ValueError("sequences must be one array, or a non-empty list of arrays (one per sequence).")
    checked = []
    for i, x in enumerate(sequences):
        x = emission.check(x, f"sequence {i}" if len(sequences) > 1 else "the sequence")
        if len(x) == 0:
            raise ValueError(f"sequence {i} is empty: every sequence needs at least one observation.")
        checked.append(x)
    joined = np.concatenate(checked)
    grid = fb.Grid.of([len(x) for x in checked])
    if isinstance(emission, Gaussian):
        joined = gaussian.features(joined)
        X = grid.place(joined.X)
        X[grid.padding] = joined.centre
        gridded = gaussian.Features(X, joined.centre, grid.place(joined.T))
    else:
        gridded = grid.place(joined)
    return Data(checked, joined, grid, gridded, {})


def _log_emissions(data: Data, emission: Emission) -> list[np.ndarray]:
    log_b = emission.log_probs(data.joined)
    return np.split(log_b, np.cumsum([len(x) for x in data.sequences])[:-1])


def _posteriors(data: Data, params: HMMParams, method: str):
    """(gamma (sum T, K), start counts, transition counts, total log-likelihood). gamma is in the order of
    ``data.gridded`` for the fast method, of ``data.joined`` for the others."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    start, A = params.start, params.transition
    if method != "fast":
        log_bs = _log_emissions(data, params.emission)
        if method == "log":
            parts = [fb.log_space(log_b, start, A) for log_b in log_bs]
        else:
            parts = [fb.scaled(*fb.scaled_emissions(log_b), start, A) for log_b in log_bs]
        return (np.concatenate([p.gamma for p in parts]), sum(p.gamma[0] for p in parts),
                sum(p.transitions for p in parts), float(sum(p.log_likelihood for p in parts)))
    grid, K = data.grid, len(start)
    log_b = params.emission.log_probs(data.gridded, out=fb.buffer(data.space, "b", (grid.L * grid.C, K)))
    log_b[grid.padding] = 0.0  # a padded step has likelihood 1
    b, log_scale = fb.scaled_emissions(log_b, overwrite=True, cells=grid.cells)
    s = fb.grid_statistics(b.reshape(grid.L, grid.C, K), grid, start, A, space=data.space)
    return s.gamma, s.start_counts, s.transitions, s.log_c + float(log_scale.sum())


def e_step(sequences, params: HMMParams, *, method: str = "fast") -> tuple[HMMStats, float]:
    """Expected sufficient statistics under p(z | x, params) and the total log-likelihood sum_s log p(x^s | params)."""
    data = prepare(sequences, params.emission)
    gamma, start_counts, transitions, log_p = _posteriors(data, params, method)
    x = data.gridded if method == "fast" else data.joined
    if isinstance(params.emission, Categorical):
        M = params.emission.probs.shape[1]
        emission = SymbolStats(np.stack([np.bincount(x, weights=g, minlength=M) for g in gamma.T]))
    else:
        emission = gaussian_statistics(x, gamma)
    return HMMStats(start_counts, transitions, emission, float(len(data.sequences))), log_p


def m_step(stats: HMMStats, prior: "Prior | None" = None) -> HMMParams:
    """The maximizer of Q: pi = start counts / n_sequences, A_ij = n_ij / sum_j n_ij, emissions from gamma-weighted
    statistics. ValueError for a state with no expected transitions out of it or no expected emissions.

    With a ``Prior``, the maximizer of Q + log p(params) (MAP): every Dirichlet adds its concentration - 1 to the
    expected counts, pi_k = (n_k + a_k - 1) / sum_j (n_j + a_j - 1), A_ij = (n_ij + a_ij - 1) / sum_l (n_il + a_il - 1),
    and Gaussian emissions take ``gmm.gaussian_map_step``."""
    if prior is not None:
        _check_prior(prior, len(stats.start_counts), stats.emission)
    start = stats.start_counts + _pseudo_counts(prior, "start")
    transition = _normalise_rows(stats.transitions + _pseudo_counts(prior, "transition"), "transitions out of")
    if isinstance(stats.emission, SymbolStats):
        counts = stats.emission.counts + _pseudo_counts(prior, "emission")
        emission = Categorical(_normalise_rows(counts, "emissions from"))
    elif prior is None or prior.emission is None:
        emission = Gaussian(*gaussian_m_step(stats.emission, what="state"))
    else:
        emission = Gaussian(*gaussian_map_step(stats.emission, prior.emission, what="state"))
    return HMMParams(start / start.sum(), transition, emission)


def _pseudo_counts(prior: "Prior | None", name: str):
    """concentration - 1 of the prior's Dirichlet ``name`` (start, transition, emission); 0 without one."""
    alpha = None if prior is None else getattr(prior, name)
    return 0.0 if alpha is None else alpha - 1


def _normalise_rows(counts: np.ndarray, what: str) -> np.ndarray:
    totals = counts.sum(axis=1)
    for k in np.flatnonzero(~(totals > 1e-300)):
        raise ValueError(
            f"state {k} has no expected {what} it (the expected count is {totals[k]:.3g}): it is never visited, "
            "so its row cannot be estimated. Use fewer states, start from other parameters, or add pseudo-counts "
            "(a Dirichlet prior, MAP-EM)."
        )
    return counts / totals[:, None]


def fit(sequences, init: HMMParams, *, max_iter: int = 500, tol: float = 1e-8, method: str = "fast",
        prior: "Prior | None" = None) -> EMResult:
    """Baum-Welch from ``init`` on one sequence or a list of sequences; the start distribution is re-estimated.

    Returns EMResult(params, objective = total log-likelihoods after 0, 1, ... iterations, converged, n_iter);
    the stopping rule is the driver's (gain below tol * |log-likelihood|).
    With a ``Prior`` (MAP Baum-Welch) the objective is the log-posterior log p(x | params) + ``log_prior``, which
    the MAP M step maximizes exactly: it never decreases either.
    """
    if not isinstance(init, HMMParams):
        raise TypeError(f"init must be an HMMParams, got {type(init).__name__}.")
    data = prepare(sequences, init.emission)
    if prior is not None:
        _check_prior(prior, init.n_states, init.emission)
        return run_em(partial(_map_e_step, data, prior, method), partial(m_step, prior=prior), init,
                      max_iter=max_iter, tol=tol)
    return run_em(partial(e_step, data, method=method), m_step, init, max_iter=max_iter, tol=tol)


def log_likelihood(sequences, params: HMMParams, *, method: str = "fast") -> float:
    """Total log-likelihood sum over sequences of log p(x | params) (not a per-step or per-sequence mean)."""
    return _posteriors(prepare(sequences, params.emission), params, method)[3]


def posteriors(obs, params: HMMParams, *, method: str = "fast") -> fb.Posteriors:
    """For one sequence: gamma (T, K) = p(z_t = k | x), the expected transition counts sum_t xi_t (K, K), and log p(x).

    ``method``: one of METHODS. "fast" (the default) is ``forward_backward.grid_statistics``, which computes the
    quantities of "scaled" (Rabiner's recursion one step at a time, the readable reference) to round-off in far
    fewer Python steps; "log" is the log-space recursion. gamma is in time order whichever the method."""
    data = prepare([obs], params.emission)
    gamma, _, transitions, log_p = _posteriors(data, params, method)
    if method == "fast":
        gamma = gamma[data.grid.cells]  # grid order -> time order (a copy: the grid's buffers are reused)
    return fb.Posteriors(gamma, transitions, log_p)


def viterbi(obs, params: HMMParams) -> tuple[np.ndarray, float]:
    """The most probable state path z* = argmax_z p(z | x) of one sequence, (T,) states, and its joint
    log-probability log p(x, z*): ``forward_backward.viterbi``, the max-product recursion

        delta_t(k) = max_l [delta_{t-1}(l) + log A_lk] + log b_t(k),    delta_0(k) = log pi_k + log b_0(k),

    run over chunks of the sequence at once, exact against ``forward_backward.viterbi_reference`` (one step at a
    time). The observations are checked as ``prepare`` checks one sequence (without building its grid)."""
    x = params.emission.check([obs] if np.isscalar(obs) else obs, "the sequence")
    if len(x) == 0:
        raise ValueError("sequence 0 is empty: every sequence needs at least one observation.")
    return fb.viterbi(params.emission.log_probs(x), params.start, params.transition)


def sample(params: HMMParams, length: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """One sequence of ``length`` steps: (observations (T,) symbols or (T, D) vectors, states (T,))."""
    rng = np.random.default_rng(rng)
    K = params.n_states
    states = np.empty(length, dtype=np.intp)
    states[0] = rng.choice(K, p=params.start)
    cumulative = np.cumsum(params.transition, axis=1)
    u = rng.random(length)
    for t in range(1, length):
        states[t] = min(np.searchsorted(cumulative[states[t - 1]], u[t], side="right"), K - 1)
    emission = params.emission
    if isinstance(emission, Categorical):
        cumulative = np.cumsum(emission.probs, axis=1)
        obs = np.minimum((rng.random(length)[:, None] > cumulative[states]).sum(axis=1), emission.probs.shape[1] - 1)
    else:
        noise = rng.standard_normal((length, emission.means.shape[1]))
        obs = emission.means[states] + np.einsum("tij,tj->ti", emission._cholesky[states], noise)
    return obs, states


# ----------------------------------------------------------------------------------------------- MAP Baum-Welch

class Prior(Validated, NamedTuple("_Prior", [("start", np.ndarray), ("transition", np.ndarray), ("emission", object)])):
    """Conjugate priors for MAP Baum-Welch: ``start, transition, emission = prior``.

    start:      (K,) concentrations of a Dirichlet on pi: start_k - 1 pseudo-counts of sequences starting in k.
    transition: (K, K) concentrations of a Dirichlet on each row of A: transition[i, j] - 1 pseudo-transitions i -> j.
    emission:   None (ML emissions); for ``Categorical`` emissions a (K, M) array, row k the concentrations of a
                Dirichlet on state k's symbol distribution (emission[k, m] - 1 pseudo-emissions of m from k); for
                ``Gaussian`` emissions a ``gmm.Prior`` with K components and alpha = 1 (an HMM has no mixture weights:
                start and transition play that part), the NIW on each state's mean and covariance.

    Every concentration must be >= 1 (1 is no pseudo-count; below 1 the density is infinite at a zero probability
    and the MAP estimate may not exist). These are hmmlearn's ``startprob_prior``, ``transmat_prior`` and
    ``emissionprob_prior``: its M step also adds concentration - 1 to the expected counts.
    """

    def __new__(cls, start, transition, emission=None):
        start, transition = frozen(start), frozen(transition)
        if start.ndim != 1 or len(start) == 0:
            raise ValueError(f"the start concentrations must have shape (K,), got {start.shape}.")
        K = len(start)
        shape(transition, (K, K), "the transition concentrations", "(K, K)")
        _check_concentrations(start, "start")
        _check_concentrations(transition, "transition")
        if isinstance(emission, GMMPrior):
            if emission.n_components != K:
                raise ValueError(f"the emission prior is for {emission.n_components} components but start has K = {K}.")
            if np.any(emission.alpha != 1):
                raise ValueError("the emission gmm.Prior must have alpha = 1: an HMM has no mixture weights (the start "
                                 "and transition concentrations are its pseudo-counts).")
        elif emission is not None:
            emission = frozen(emission)
            if emission.ndim != 2 or emission.shape[0] != K:
                raise ValueError(f"the emission concentrations must have shape (K, M) with K = {K}, got {emission.shape}.")
            _check_concentrations(emission, "emission")
        return super().__new__(cls, start, transition, emission)


def _check_concentrations(alpha: np.ndarray, name: str) -> None:
    finite(alpha, f"the {name} concentrations")
    low = np.unravel_index(np.argmin(alpha), alpha.shape)
    if alpha[low] < 1:
        where = int(low[0]) if len(low) == 1 else tuple(int(i) for i in low)
        raise ValueError(
            f"the {name} concentrations must be >= 1 (concentration - 1 pseudo-counts), but the entry at {where} is "
            f"{alpha[low]:.6g}. Below 1 the Dirichlet density is infinite at a zero probability and the MAP estimate "
            "may not exist: use 1 for no pseudo-counts."
        )


def _check_prior(prior, K: int, emission) -> None:
    """``emission``: the emission parameters (Categorical, Gaussian) or statistics (SymbolStats, GMMStats)."""
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be an hmm.Prior(start, transition, emission), got {type(prior).__name__}.")
    if len(prior.start) != K:
        raise ValueError(f"the prior is for K = {len(prior.start)} states but the model has K = {K}.")
    symbols = isinstance(emission, (Categorical, SymbolStats))
    if prior.emission is None:
        return
    if symbols:
        if isinstance(prior.emission, GMMPrior):
            raise ValueError("the emissions are Categorical: their prior is a (K, M) array of Dirichlet concentrations, "
                             "not a gmm.Prior.")
        M = (emission.probs if isinstance(emission, Categorical) else emission.counts).shape[1]
        if prior.emission.shape[1] != M:
            raise ValueError(f"the emission prior is for M = {prior.emission.shape[1]} symbols but the model has M = {M}.")
    else:
        if not isinstance(prior.emission, GMMPrior):
            raise ValueError("the emissions are Gaussian: their prior is a gmm.Prior (normal-inverse-Wishart), "
                             "not an array of Dirichlet concentrations.")
        D = (emission.means if isinstance(emission, Gaussian) else emission.sums).shape[1]
        if prior.emission.dim != D:
            raise ValueError(f"the emission prior is for D = {prior.emission.dim} dimensions but the model has D = {D}.")


def log_prior(params: HMMParams, prior: Prior) -> float:
    """log p(params) = log Dir(pi | start) + sum_i log Dir(A_i | transition_i) + the emissions' log prior
    (sum_k log Dir(B_k | emission_k), or sum_k log NIW(mu_k, Sigma_k), ``gmm.log_niw``), every constant kept.
    MAP Baum-Welch's objective is the log-likelihood plus this."""
    _check_prior(prior, params.n_states, params.emission)
    parts = {"start": log_dirichlet(params.start, prior.start),
             "transition": log_dirichlet(params.transition, prior.transition).sum()}
    if isinstance(prior.emission, GMMPrior):
        parts["emission"] = log_niw(params.emission, prior.emission).sum()
    elif prior.emission is not None:
        parts["emission"] = log_dirichlet(params.emission.probs, prior.emission).sum()
    for name, value in parts.items():
        if not np.isfinite(value):
            raise ValueError(
                f"the {name} prior density is zero at these parameters: a probability is 0 where its concentration "
                "is above 1 (pseudo-counts for something the parameters forbid). Give such entries concentration 1, "
                "or start from positive probabilities."
            )
    return float(sum(parts.values()))


def _map_e_step(data: Data, prior: Prior, method: str, params: HMMParams) -> tuple[HMMStats, float]:
    """The E step with MAP's objective, log p(x | params) + log p(params)."""
    stats, log_p = e_step(data, params, method=method)
    return stats, log_p + log_prior(params, prior)
