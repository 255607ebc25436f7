"""Input checks shared by the models: each failure says what is wrong and what to do."""
from __future__ import annotations

import numpy as np

#: Relative size of a decrease of the objective that is still taken for round-off (the EM driver and emlib.checks),
#: measured against ``objective_scale``.
ROUNDOFF = 1e-10


def objective_scale(value):
    """max(|value|, 1): the size a change of an objective is measured against, by the round-off guard and by the
    stopping rule. Relative to the objective when |L| >= 1, absolute (in nats) below, so that at L = 0 (a tiny
    data set) a round-off decrease is not taken for a bug and the stopping rule can still fire."""
    return np.maximum(np.abs(value), 1.0)


def frozen(array) -> np.ndarray:
    """A read-only float64 copy, so parameters cannot be changed behind the model's back."""
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


#: What ``finite`` advises for data (the default) and for parameters (of a model or a prior).
DATA_ADVICE = "remove or impute them before fitting"
PARAMETER_ADVICE = "parameters must be finite numbers: check the values passed or the step that computed them"


def finite(array: np.ndarray, name: str, advice: str = DATA_ADVICE) -> np.ndarray:
    """Raise if ``array`` holds NaN or infinity, naming the first bad entry; the message ends with ``advice``
    (``DATA_ADVICE`` by default; ``PARAMETER_ADVICE`` for a model's or a prior's parameters)."""
    bad = ~np.isfinite(array)
    if bad.any():
        if np.ndim(array) == 0:
            raise ValueError(f"{name} is {float(array)}: it must be a finite number.")
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(array[where]) else "infinite"
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN or infinite value(s), the first ({kind}) at index "
            f"{where if len(where) > 1 else where[0]}: {advice}."
        )
    return array


def data_matrix(X, name: str = "X") -> np.ndarray:
    """X as an (N, D) float array of finite values; a 1-D array is N points in one dimension."""
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers of shape (N, D): {error}") from None
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{name} must have shape (N, D) (or (N,) for 1-D data), got shape {X.shape}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}): EM needs at least one point in at least one dimension.")
    return finite(X, name)


def shape(array: np.ndarray, expected: tuple, name: str, meaning: str) -> None:
    """Raise unless ``array.shape == expected``; ``meaning`` spells the shape out, e.g. '(K, D)'."""
    if array.shape != expected:
        raise ValueError(f"{name} must have shape {meaning} = {expected}, got {array.shape}.")


def probability_vector(p: np.ndarray, name: str, *, positive: bool = False, atol: float = 1e-8) -> None:
    """Raise unless p >= 0 (or > 0) and sums to one within ``atol``."""
    finite(p, name, PARAMETER_ADVICE)
    k = np.unravel_index(np.argmin(p), p.shape)
    where = k[0] if len(k) == 1 else k
    if positive and p[k] <= 0:
        raise ValueError(f"{name} must be positive, but the entry at {where} is {p[k]:.6g}.")
    if p[k] < 0:
        raise ValueError(f"{name} must be non-negative, but the entry at {where} is {p[k]:.6g}.")
    total = p.sum(axis=-1)
    off = np.abs(total - 1) > atol
    if np.any(off):
        where = "" if np.ndim(total) == 0 else f" in row {int(np.argmax(off))}"
        value = float(np.ravel(total)[np.argmax(np.ravel(off))])
        raise ValueError(
            f"{name} must sum to one, but sums to {value:.10g}{where}: divide by the sum "
            "(and check the step that computed it)."
        )


def symmetric(matrices: np.ndarray, name: str) -> None:
    """Raise unless the matrices (..., D, D) are finite and equal their transposes up to round-off."""
    finite(matrices, name, PARAMETER_ADVICE)
    asymmetry = np.abs(matrices - matrices.swapaxes(-1, -2)).max()
    if asymmetry > 1e-10 * np.abs(matrices).max():
        raise ValueError(f"{name} must be symmetric, but differ from their transposes by up to {asymmetry:.3g}.")


class Validated:
    """Mixin for validated NamedTuple parameter classes: ``_replace`` builds through ``__new__``, so a changed copy
    is checked like a new one."""

    __slots__ = ()

    def _replace(self, **changes):
        return type(self)(**{**self._asdict(), **changes})


def n_components(K: int, N: int) -> None:
    """Raise unless 1 <= K <= N: every component of a mixture needs at least one data point."""
    if K < 1:
        raise ValueError(f"the number of components K must be at least 1, got {K}.")
    if K > N:
        raise ValueError(f"K = {K} components need at least K data points, but X has only N = {N}: use K <= {N}.")


def whole_number(value, name: str, low: int = 0, meaning: str = "") -> int:
    """``value`` as an int >= ``low``: TypeError for anything but an int (a bool, a float, None), ValueError below
    ``low``. ``meaning`` says what the number counts, e.g. 'the number of steps'."""
    what = f"{name} must be a whole number >= {low}" + (f" ({meaning})" if meaning else "")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what}, got {value!r} (a bool).")
    if not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what}, got {value!r}.")
    if value < low:
        raise ValueError(f"{what}, got {value!r}.")
    return int(value)


def tolerance(tol, name: str = "tol") -> float:
    """``tol`` as a float >= 0 (the EM drivers' relative stopping tolerance); TypeError for a non-number."""
    what = (f"{name} must be a number >= 0 (EM stops when an iteration gains less than {name} * max(|objective|, 1); "
            "0 runs all max_iter iterations)")
    if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what}, got {tol!r}.")
    if not tol >= 0:
        raise ValueError(f"{what}, got {tol!r}.")
    return float(tol)


def generator(rng, name: str = "rng") -> np.random.Generator:
    """``np.random.default_rng(rng)`` for None, an int seed >= 0 (or a list of them), a numpy Generator, BitGenerator
    or SeedSequence (a Generator is used as it is, not copied); TypeError or ValueError naming ``name`` otherwise."""
    if rng is None or isinstance(rng, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    what = f"{name} must be None, an int seed (or a list of them) or a numpy Generator (np.random.default_rng(seed))"
    seeds = list(rng) if isinstance(rng, (list, tuple)) else [rng]
    if isinstance(rng, np.ndarray):
        seeds = list(rng.ravel()) if rng.dtype.kind in "iu" else [rng]
    for seed in seeds:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"{what}, got {rng!r}.")
        if seed < 0:
            raise ValueError(f"{what}; a seed must be >= 0, got {rng!r}.")
    return np.random.default_rng(rng)
