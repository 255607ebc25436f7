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
parameters as for a mixture with weights gamma. ``fit`` runs Baum-Welch on the shared EM driver, from given
parameters or from a seeded start (``fit(sequences, K, rng=seed)``, see ``initial_params``).

One sequence or several (``as_sequences``, the one rule of fit, e_step, log_likelihood, posteriors and viterbi):

    * a numpy array is ONE sequence: (T,) symbols, or hmmlearn's (T, 1) column of them, for ``Categorical``;
      (T, D) vectors for a D-dimensional ``Gaussian``, or (T,) when D = 1;
    * a list or tuple holding numpy arrays is a list of sequences, one per item (``[x0, x1, x2]``, as ``hmm.sample``
      gives them), whatever their lengths, even of one step each;
    * any other list or tuple (Python numbers and lists) is ONE sequence when ``np.asarray`` of it has the shape of
      one sequence, above, and a list of sequences otherwise (ragged lists, a 2-D list of symbols, a 3-D list of
      vectors). So ``x.tolist()`` means what ``x`` means, everywhere;
    * ``lengths=[T0, T1, ...]`` (hmmlearn's convention; a keyword of fit, e_step and log_likelihood): ``sequences`` is
      one concatenated sequence, cut into consecutive sequences of those lengths.

With no emission model yet (a seeded start, ``emission="gaussian"``) the data give D: a 2-D list is then one (T, D)
sequence. ``posteriors`` and ``viterbi`` take one sequence and refuse several.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import NamedTuple, Union

import numpy as np

from . import forward_backward as fb
from . import gaussian
from . import gmm
from ._validation import (Validated, finite, frozen, generator, probability_vector, shape, symmetric, tolerance,
                          whole_number)
from .em import EMResult, Stats, run_em
from .gmm import (SINGULAR_RATIO, GMMStats, gaussian_m_step, gaussian_map_step, gaussian_statistics, log_dirichlet,
                  log_niw)
from .gmm import Prior as GMMPrior

__all__ = [
    "Categorical", "Gaussian", "HMMParams", "HMMStats", "e_step", "m_step", "fit", "log_likelihood", "posteriors",
    "viterbi", "sample", "METHODS", "Prior", "log_prior", "initial_params", "as_sequences", "EMISSIONS",
]

#: Forward-backward implementations: "fast" (all sequences and chunks at once on a grid), "scaled" (Rabiner's
#: recursion, one step at a time), "log" (log-space messages).
METHODS = ("fast", "scaled", "log")
#: The emission models of a seeded start (``initial_params``, ``fit`` with an int K).
EMISSIONS = ("categorical", "gaussian")


# ----------------------------------------------------------------------------------------------- parameters

class Categorical(Validated, NamedTuple("_Categorical", [("probs", np.ndarray)])):
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

    def check(self, x, name: str) -> np.ndarray:
        """One sequence of symbols 0..M-1 as a (T,) int array (``_symbols``)."""
        return _symbols(x, name, self.probs.shape[1])

    def log_probs(self, x: np.ndarray, out=None) -> np.ndarray:
        """log p(x_t | z_t = k), shape (T, K) (into ``out`` if given)."""
        with np.errstate(divide="ignore"):
            return np.take(np.log(self.probs.T), x, axis=0, out=out)


_GaussianFields = NamedTuple("_Gaussian", [("means", np.ndarray), ("covariances", np.ndarray)])


class Gaussian(Validated, gaussian.CholeskyFactors, _GaussianFields):
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
        try:
            symmetric(covariances, "emission covariances")
        except ValueError as error:
            raise ValueError(f"{error} If that is round-off, use (S + S.swapaxes(-1, -2)) / 2; otherwise check how "
                             "they were computed (only one triangle would be used).") from None
        self = super().__new__(cls, means, covariances)
        self.__dict__["_cholesky"] = gaussian.cholesky(covariances, "emission covariances")
        return self

    @property
    def n_states(self) -> int:
        return self.means.shape[0]

    def check(self, x, name: str) -> np.ndarray:
        """One sequence of D-dimensional vectors as a (T, D) float array (``_vectors``)."""
        return _vectors(x, name, self.means.shape[1])

    def log_probs(self, x, out=None) -> np.ndarray:
        """log N(x_t | mu_k, Sigma_k), shape (T, K) (into ``out`` if given); ``x`` an array or ``gaussian.Features``."""
        F = x if isinstance(x, gaussian.Features) else gaussian.features(x)
        return gaussian.log_densities(F, self.means, self.inverse_cholesky, self.log_dets, out=out)


Emission = Union[Categorical, Gaussian]


_HMMFields = NamedTuple("_HMMParams", [("start", np.ndarray), ("transition", np.ndarray), ("emission", object)])


class HMMParams(Validated, _HMMFields):
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


# ----------------------------------------------------------------------------------------------- sequences

def as_sequences(sequences, emission, *, lengths=None) -> list[np.ndarray]:
    """The observations as a list of checked, non-empty sequences, by the module's one rule (see its docstring):
    an array is one sequence; a list holding arrays is one sequence per item; another list is one sequence when
    ``np.asarray`` of it has the shape of one, else one per item; ``lengths`` cuts one concatenation into sequences.

    emission: a ``Categorical`` or ``Gaussian`` (symbols are checked against its alphabet, vectors against its D), or
    "categorical" / "gaussian" when there is no model yet (a seeded start: symbols any integers >= 0, D from the data).
    Returns (T,) int arrays of symbols or (T, D) float arrays of vectors.
    """
    kind = _kind(emission)
    parts = _split(sequences, emission, kind)
    if lengths is not None:
        if len(parts) != 1:
            raise ValueError(
                f"lengths= splits one concatenated array into sequences (hmmlearn's convention), but sequences is "
                f"already a list of {len(parts)} sequences: pass either the list, or their concatenation with lengths.")
        parts = _cut(parts[0], lengths)
    if not parts:
        raise ValueError("sequences must be one array, or a non-empty list of arrays (one per sequence).")
    checked = []
    for i, x in enumerate(parts):
        name = f"sequence {i}" if len(parts) > 1 else "the sequence"
        x = (_symbols(x, name) if kind == "categorical" else _vectors(x, name)) if isinstance(emission, str) \
            else emission.check(x, name)
        if len(x) == 0:
            raise ValueError(f"sequence {i} is empty: every sequence needs at least one observation.")
        if checked and x.ndim == 2 and x.shape[1] != checked[0].shape[1]:
            raise ValueError(f"sequence {i} has vectors of D = {x.shape[1]} but sequence 0 has D = "
                             f"{checked[0].shape[1]}: every observation needs the same dimension.")
        checked.append(x)
    return checked


def _kind(emission) -> str:
    if isinstance(emission, Categorical):
        return "categorical"
    if isinstance(emission, Gaussian):
        return "gaussian"
    if isinstance(emission, str) and emission in EMISSIONS:
        return emission
    raise ValueError(f"emission must be 'categorical' or 'gaussian' (the emission model of a seeded start), or an "
                     f"hmm.Categorical or hmm.Gaussian, got {emission!r}.")


def _is_one_sequence(shape: tuple, emission, kind: str) -> bool:
    """Whether an array of this shape is one sequence for the emission model (D = None: not known yet)."""
    if kind == "categorical":
        return len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)
    D = emission.means.shape[1] if isinstance(emission, Gaussian) else None
    return (len(shape) == 1 and D in (1, None)) or (len(shape) == 2 and D in (shape[1], None))


def _split(sequences, emission, kind: str) -> list:
    """The user's input as a list of unchecked sequences (the rule, without the checks)."""
    if not isinstance(sequences, (list, tuple)):
        if isinstance(sequences, np.ndarray) or np.isscalar(sequences):
            return [np.atleast_1d(sequences)]
        array = np.asarray(sequences)  # an array-like (a pandas Series, say): one sequence
        if array.dtype == object and array.ndim == 0:
            raise ValueError(f"sequences must be one array, or a non-empty list of arrays (one per sequence), got "
                             f"{type(sequences).__name__}.")
        return [array]
    if not sequences or any(isinstance(item, np.ndarray) and item.ndim > 0 for item in sequences):
        return list(sequences)
    try:
        array = np.asarray(sequences)
    except ValueError:  # ragged: inhomogeneous nested lists
        return list(sequences)
    return [array] if _is_one_sequence(array.shape, emission, kind) else list(sequences)


def _cut(x, lengths) -> list:
    """hmmlearn's convention: the concatenation x cut into consecutive sequences of the given lengths."""
    x = np.asarray(x)
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(f"lengths must be a 1-D list of the sequences' lengths (hmmlearn's convention), got shape "
                         f"{lengths.shape}.")
    if lengths.dtype.kind not in "iu":
        raise ValueError(f"lengths must be whole numbers (the number of steps of each sequence), got "
                         f"{lengths.tolist()}.")
    if np.any(lengths <= 0):
        i = int(np.argmax(lengths <= 0))
        raise ValueError(f"lengths must be positive (every sequence needs at least one observation), but lengths[{i}] "
                         f"= {lengths[i]}.")
    if lengths.sum() != len(x):
        raise ValueError(f"lengths sum to {lengths.sum()} but the sequences have {len(x)} observations: the lengths "
                         "must add up to the length of the concatenated array.")
    return np.split(x, np.cumsum(lengths)[:-1])


def _one_sequence(obs, emission, caller: str) -> np.ndarray:
    """The single checked sequence that ``posteriors`` and ``viterbi`` take; ValueError for several."""
    sequences = as_sequences(obs, emission)
    if len(sequences) > 1:
        verb = {"viterbi": "decodes"}.get(caller, "takes")
        raise ValueError(f"{caller} {verb} one sequence; got {len(sequences)}: call it on each, "
                         f"[hmm.{caller}(x, params) for x in sequences].")
    return sequences[0]


def _symbols(x, name: str, M: int | None = None) -> np.ndarray:
    """One sequence of symbols as a (T,) int array: integers 0..M-1 (any integers >= 0 when M is None), given as (T,)
    or hmmlearn's (T, 1) column."""
    x = np.asarray(x)
    alphabet = "0..M-1" if M is None else f"0..{M - 1}"
    if x.dtype.kind in "USO":
        strings = x.dtype.kind in "US" or any(isinstance(v, (str, bytes)) for v in x.ravel())
        got = "strings" if strings else f"values of type {type(x.ravel()[0]).__name__}" if x.size else "objects"
        raise ValueError(f"{name}: symbols must be integers 0..M-1, got {got}. Recode them, for example "
                         "alphabet, x = np.unique(x, return_inverse=True) (then alphabet[m] is the symbol coded m).")
    if x.dtype.kind == "c":
        raise ValueError(f"{name}: symbols must be integers 0..M-1, got complex numbers.")
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of symbols (or hmmlearn's (T, 1) column), got shape {x.shape}: "
                         "for several sequences of equal length, pass a list of arrays, list(x).")
    if x.size and x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        finite(x, name)
    if x.dtype.kind == "b":
        x = x.astype(np.intp)
    if x.size:
        bad = (x != np.round(x)) | (x < 0) | ((x >= M) if M is not None else False)
        if np.any(bad):
            symbol = x[bad][0].item()
            where = "" if M is None else " of the emission probs"
            raise ValueError(f"{name} has the symbol {symbol}, outside the alphabet {alphabet}{where}: recode the "
                             "symbols as 0..M-1 (np.unique(x, return_inverse=True)).")
    return x.astype(np.intp)


def _vectors(x, name: str, D: int | None = None) -> np.ndarray:
    """One sequence of vectors as a (T, D) float array of finite values; (T,) when D = 1 (D = None: any D)."""
    try:
        x = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers of shape (T, D): {error}") from None
    if x.ndim == 1 and D in (1, None):
        x = x[:, None]
    if x.ndim != 2 or (D is not None and x.shape[1] != D):
        want = "(T, D)" if D is None else f"(T, D) with D = {D} (the emission means' dimension)"
        raise ValueError(f"{name} must have shape {want}, got {x.shape}.")
    return finite(x, name)


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


def prepare(sequences, emission: Emission, *, lengths=None) -> Data:
    """Check ``sequences`` against the emission model (``as_sequences``: one array, a list of them, or one
    concatenation with ``lengths``) and prepare them for many E steps."""
    if isinstance(sequences, Data):
        if lengths is not None:
            raise ValueError("lengths= splits raw observations; these are already prepared Data.")
        return sequences
    return _prepared(as_sequences(sequences, emission, lengths=lengths), emission)


def _prepared(checked: list, emission: Emission) -> Data:
    """``Data`` from checked sequences: their concatenation and the fast forward-backward's grid."""
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
    _check_method(method)
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


def e_step(sequences, params: HMMParams, *, method: str = "fast", lengths=None) -> tuple[HMMStats, float]:
    """Expected sufficient statistics under p(z | x, params) and the total log-likelihood sum_s log p(x^s | params).

    sequences: one sequence or several, by the module's rule (``as_sequences``); ``lengths`` as in hmmlearn."""
    data = prepare(sequences, params.emission, lengths=lengths)
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
    statistics. ValueError for a state with no expected transitions out of it or no expected emissions, or a
    Gaussian state collapsed onto a point (with the remedies hmm offers: an emission prior, fewer states, another
    start).

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
        emission = Gaussian(*gaussian_m_step(stats.emission, what="state", advice=COLLAPSE_ADVICE))
    else:
        emission = Gaussian(*gaussian_map_step(stats.emission, prior.emission, what="state", advice=COLLAPSE_ADVICE))
    return HMMParams(start / start.sum(), transition, emission)


#: What hmm offers against a collapsing Gaussian state (gmm's advice names reg_covar, which hmm.fit does not have).
COLLAPSE_ADVICE = (
    "The likelihood is unbounded there (a state's variance can shrink to zero on a few points). Give the emissions "
    "a normal-inverse-Wishart prior and fit by MAP Baum-Welch, hmm.fit(sequences, init, prior=hmm.Prior(np.ones(K), "
    "np.ones((K, K)), gmm.Prior.default(X, K))) with X all the observations stacked; or use fewer states; or start "
    "from other initial parameters (another rng seed, or states further apart)."
)


def _in_hmm_terms(gaussian_step, *arguments, **options):
    """A function of ``gmm`` that hmm calls (``gmm.initial_params``, for the seeded start), with its advice about
    gmm.fit's reg_covar (which hmm.fit does not have) replaced by ``COLLAPSE_ADVICE``. (The M steps take
    ``advice=COLLAPSE_ADVICE`` themselves.)"""
    try:
        return gaussian_step(*arguments, **options)
    except ValueError as error:
        message = str(error)
        if "reg_covar" not in message:
            raise
        kept = [sentence for sentence in message.split(". ") if "reg_covar" not in sentence]
        raise ValueError(". ".join(kept).rstrip(".") + ". " + COLLAPSE_ADVICE) from None


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


def fit(sequences, init, *, max_iter: int = 500, tol: float = 1e-8, method: str = "fast",
        prior: "Prior | None" = None, rng=None, emission: str | None = None, n_symbols: int | None = None,
        lengths=None) -> EMResult:
    """Baum-Welch from ``init`` on one sequence or several; the start distribution is re-estimated.

    sequences: one sequence or several, by the module's rule (``as_sequences``): an array is one sequence, a list of
               arrays several, ``x.tolist()`` the same as ``x``; or hmmlearn's concatenation with ``lengths=``.
    init:      an ``HMMParams``, or an int K for the seeded start ``initial_params(sequences, K, emission=...,
               n_symbols=..., rng=...)``: emission "categorical" (the default; M = n_symbols, or the largest
               symbol + 1) or "gaussian". rng, emission and n_symbols belong to that start.
    Returns EMResult(params, objective = total log-likelihoods after 0, 1, ... iterations, converged, n_iter);
    the stopping rule is the driver's (0 <= gain < tol * max(|log-likelihood|, 1); tol = 0 runs all max_iter
    iterations).
    With a ``Prior`` (MAP Baum-Welch) the objective is the log-posterior log p(x | params) + ``log_prior``, which
    the MAP M step maximizes exactly: it never decreases either.
    """
    max_iter = whole_number(max_iter, "max_iter", 0, "the most EM iterations to run")
    tol = tolerance(tol)
    _check_method(method)
    if isinstance(init, HMMParams):
        generator(rng)
        if emission is not None or n_symbols is not None:
            raise ValueError(f"emission= and n_symbols= choose the model of a seeded start (when init is an int K); "
                             f"this init is an HMMParams with {type(init.emission).__name__} emissions: leave them "
                             "out.")
        data = prepare(sequences, init.emission, lengths=lengths)
    else:
        kind = _seeded_emission(emission)
        _check_n_states(init)
        checked = as_sequences(sequences, kind, lengths=lengths)  # split and checked once, for the start and the fit
        init = initial_params(checked, init, emission=kind, n_symbols=n_symbols, rng=rng)
        data = prepare(checked, init.emission)
    if prior is not None:
        _check_prior(prior, init.n_states, init.emission)
        return run_em(partial(_map_e_step, data, prior, method), partial(m_step, prior=prior), init,
                      max_iter=max_iter, tol=tol)
    return run_em(partial(e_step, data, method=method), m_step, init, max_iter=max_iter, tol=tol)


def _check_method(method) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")


def _seeded_emission(emission) -> str:
    if emission is None:
        return "categorical"
    if not (isinstance(emission, str) and emission in EMISSIONS):
        raise ValueError(f"emission must be 'categorical' or 'gaussian' (the emission model of a seeded start), "
                         f"got {emission!r}.")
    return emission


def _check_n_states(K) -> int:
    """K of a seeded start: an int >= 1 (a bool is not a count); the upper bound is checked against the data."""
    if isinstance(K, (bool, np.bool_)):
        raise TypeError(f"the number of states K must be an int, but init is {K!r}, a bool: pass an int K >= 1 or an "
                        "HMMParams.")
    if not isinstance(K, (int, np.integer)):
        raise TypeError(f"init must be an HMMParams or an int K (the number of states, for a seeded start), got "
                        f"{type(K).__name__} {K!r}.")
    if K < 1:
        raise ValueError(f"the number of states K must be at least 1, got {K}.")
    return int(K)


def initial_params(sequences, K: int, *, emission: str = "categorical", n_symbols: int | None = None, rng=None,
                   lengths=None) -> HMMParams:
    """A seeded start for Baum-Welch with K states (``fit(sequences, K, rng=...)``); the same rng, the same start.

    start:      uniform, 1/K.
    transition: A_i = (e_i + d_i) / 2 with d_i ~ Dirichlet(1, ..., 1): every entry positive, the diagonal at least
                1/2 (states that persist, as most fitted chains do), the rest random so the states differ.
    emission:   "categorical": M = n_symbols, or the largest symbol + 1; B_k = (f + d_k) / 2, the symbol frequencies
                f of the data mixed with d_k ~ Dirichlet(1, ..., 1) (every symbol possible, the states different).
                "gaussian": the means K distinct observations picked by k-means++ seeding (``gmm.initial_params``:
                the first uniformly, each next with probability proportional to its squared distance to the nearest
                one picked), every covariance the covariance of all the observations.
    sequences as in ``fit`` (``as_sequences``); rng: None, an int seed or a numpy Generator (drawn from, not copied).
    """
    kind = _seeded_emission(emission)
    K = _check_n_states(K)
    rng = generator(rng)
    X = np.concatenate(as_sequences(sequences, kind, lengths=lengths))
    T = len(X)
    if K > T:
        raise ValueError(f"K = {K} states need at least K observations, but the sequences have only {T} observations "
                         f"in all: use K <= {T}.")
    start = np.full(K, 1.0 / K)
    if kind == "categorical":
        largest = int(X.max())
        if n_symbols is None:
            M = largest + 1
        else:
            M = whole_number(n_symbols, "n_symbols", 1, "the number of symbols M")
            if M <= largest:
                raise ValueError(f"n_symbols = {M} but the sequences have the symbol {largest}: use n_symbols >= "
                                 f"{largest + 1} (or leave it out: M = the largest symbol + 1).")
        transition = 0.5 * np.eye(K) + 0.5 * rng.dirichlet(np.ones(K), size=K)
        frequencies = np.bincount(X, minlength=M) / T
        return HMMParams(start, transition, Categorical(0.5 * frequencies + 0.5 * rng.dirichlet(np.ones(M), size=K)))
    if n_symbols is not None:
        raise ValueError("n_symbols is the alphabet of categorical emissions: leave it out for emission='gaussian'.")
    distinct = len(np.unique(X, axis=0))
    if distinct < K:
        raise ValueError(f"the sequences hold fewer than K = {K} distinct observations (only {distinct}), and a seeded "
                         f"start puts each state's mean on a different one: use K <= {distinct}, or pass init as an "
                         "HMMParams.")
    covariance = np.atleast_2d(np.cov(X, rowvar=False, bias=True))
    spread = np.linalg.eigvalsh(covariance)
    if not spread[0] > SINGULAR_RATIO * spread[-1]:
        raise ValueError(f"the observations have no spread in some direction (their covariance is singular, smallest "
                         f"eigenvalue {spread[0]:.3g}): drop constant or linearly dependent columns, or pass init as "
                         "an HMMParams with covariances of your own.")
    means = _in_hmm_terms(gmm.initial_params, X, K, rng=rng).means
    transition = 0.5 * np.eye(K) + 0.5 * rng.dirichlet(np.ones(K), size=K)
    return HMMParams(start, transition, Gaussian(means, np.broadcast_to(covariance, (K,) + covariance.shape)))


def log_likelihood(sequences, params: HMMParams, *, method: str = "fast", lengths=None) -> float:
    """Total log-likelihood sum over sequences of log p(x | params) (not a per-step or per-sequence mean): hmmlearn's
    ``score(X, lengths)``. sequences: one or several, by the module's rule (``as_sequences``)."""
    _check_method(method)
    return _posteriors(prepare(sequences, params.emission, lengths=lengths), params, method)[3]


def posteriors(obs, params: HMMParams, *, method: str = "fast") -> fb.Posteriors:
    """For one sequence: gamma (T, K) = p(z_t = k | x), the expected transition counts sum_t xi_t (K, K), and log p(x).

    obs: one sequence by the module's rule (``as_sequences``: an array, its tolist(), hmmlearn's (T, 1) column of
    symbols); ValueError for several (call it on each).
    ``method``: one of METHODS. "fast" (the default) is ``forward_backward.grid_statistics``, which computes the
    quantities of "scaled" (Rabiner's recursion one step at a time, the readable reference) to round-off in far
    fewer Python steps; "log" is the log-space recursion. gamma is in time order whichever the method."""
    _check_method(method)
    data = _prepared([_one_sequence(obs, params.emission, "posteriors")], params.emission)
    gamma, _, transitions, log_p = _posteriors(data, params, method)
    if method == "fast":
        gamma = gamma[data.grid.cells]  # grid order -> time order (a copy: the grid's buffers are reused)
    return fb.Posteriors(gamma, transitions, log_p)


def viterbi(obs, params: HMMParams) -> tuple[np.ndarray, float]:
    """The most probable state path z* = argmax_z p(z | x) of one sequence, (T,) states, and its joint
    log-probability log p(x, z*): ``forward_backward.viterbi``, the max-product recursion

        delta_t(k) = max_l [delta_{t-1}(l) + log A_lk] + log b_t(k),    delta_0(k) = log pi_k + log b_0(k),

    run over chunks of the sequence at once, exact against ``forward_backward.viterbi_reference`` (one step at a
    time). obs: one sequence by the module's rule (``as_sequences``, which checks it without building the grid of
    ``prepare``); ValueError for several (call it on each)."""
    x = _one_sequence(obs, params.emission, "viterbi")
    return fb.viterbi(params.emission.log_probs(x), params.start, params.transition)


def sample(params: HMMParams, length: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """One sequence of ``length`` >= 1 steps: (observations (T,) symbols or (T, D) vectors, states (T,)).
    rng: None, an int seed (or a list of them) or a numpy Generator."""
    length = whole_number(length, "length", 1, "the number of steps")
    rng = generator(rng)
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

    Names. The fields are named as the parameters they are priors on (``HMMParams``' fields); a_ij is chapter 04's
    symbol (eq. 4.9), a^pi and c_km name here the concentrations the chapter describes in words:

        field       chapter 04                                  hmmlearn
        start       pi ~ Dir(a^pi)                              startprob_prior
        transition  (A_i1, ..., A_iK) ~ Dir(a_i1, ..., a_iK)    transmat_prior
        emission    (B_k1, ..., B_kM) ~ Dir(c_k1, ..., c_kM),   emissionprob_prior (categorical); for Gaussian
                    or gmm.Prior's NIW(m0, kappa0, nu0, S0)     emissions means_prior/means_weight, covars_prior/
                                                                covars_weight (another parametrisation)
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
