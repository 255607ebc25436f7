"""How strongly a prior pulls MAP-EM: one slider over the amount of pseudo-data.

A conjugate prior is pseudo-data (``gmm.Prior``): alpha_k - 1 pseudo-counts per component, kappa0
pseudo-observations at m0, and a pseudo-scatter S0 spread over n0 = nu0 + D + 2 pseudo-points, whose own guess
for a covariance is S0 / n0. ``scaled_prior`` multiplies every one of those amounts by a strength s while keeping
the guesses (m0 and S0 / n0) fixed: s = 1 is the given prior, s = 10 ten times as much pseudo-data saying the
same thing, s -> 0 towards no prior at all.

``strength_path`` fits MAP-EM at a grid of strengths from one start; ``draw_prior_strength`` draws the fit at one
strength (the data with the MAP ellipses) and the smallest covariance eigenvalue of each component along the grid;
``prior_strength_explorer`` puts a slider over the strength. The notebook calls ``draw_prior_strength`` for its
static figures too, so a reader without a widget front end sees the same pictures.

matplotlib and ipywidgets are imported inside the functions that draw, so ``scaled_prior`` and ``strength_path``
work without them.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import gmm, plotting
from .._optional import require
from .._validation import data_matrix

__all__ = ["scaled_prior", "map_fit", "StrengthPath", "strength_path", "draw_prior_strength",
           "prior_strength_explorer"]

#: Default grid of strengths for the path and the slider: 10^-0.2 .. 10^3.
STRENGTHS = np.logspace(-0.2, 3, 17)


def scaled_prior(prior: gmm.Prior, strength: float) -> gmm.Prior:
    """The prior with s = ``strength`` times its pseudo-data and the same guesses:

        alpha_k - 1 -> s (alpha_k - 1),   kappa0 -> s kappa0,   n0 = nu0 + D + 2 -> s n0,   S0 -> s S0,

    so m0 and the covariance guess S0 / n0 are unchanged. ValueError if s n0 - D - 2 is not a valid nu0 (> D - 1),
    that is if s < (2 D + 1) / n0: the inverse-Wishart needs more than 2 D + 1 pseudo-points in this form.
    """
    strength = float(strength)
    if not (np.isfinite(strength) and strength > 0):
        raise ValueError(f"strength must be a positive number, got {strength!r}.")
    if prior.is_flat:
        raise ValueError("the flat prior has no pseudo-data to scale: start from a proper prior, e.g. Prior.default(X, K).")
    D = prior.dim
    n0 = prior.nu0 + D + 2
    lowest = (2 * D + 1) / n0
    if not strength * n0 - D - 2 > D - 1:
        raise ValueError(f"strength {strength:.3g} leaves the inverse-Wishart {strength * n0:.3g} pseudo-points, but it "
                         f"needs more than 2 D + 1 = {2 * D + 1}: use a strength above {lowest:.3g}.")
    return gmm.Prior(1 + strength * (prior.alpha - 1), prior.m0, strength * prior.kappa0, strength * n0 - D - 2,
                     strength * prior.S0)


def map_fit(X, init, prior: gmm.Prior, strength: float = 1.0, *, max_iter: int = 300, tol: float = 1e-8):
    """MAP-EM (``gmm.fit(..., prior=scaled_prior(prior, strength))``) from ``init`` (GMMParams or an int K with rng 0)."""
    X = data_matrix(X)
    if isinstance(init, (int, np.integer)):
        init = gmm.initial_params(X, int(init), rng=0)
    return gmm.fit(X, init, max_iter=max_iter, tol=tol, prior=scaled_prior(prior, strength))


class StrengthPath(NamedTuple):
    """MAP fits along a grid of prior strengths, all from the same start.

    strengths:     (S,) the grid.
    smallest:      (S, K) the smallest eigenvalue of each fitted covariance.
    log_posterior: (S,) the final log-posterior of each fit (under its own scaled prior).
    """

    strengths: np.ndarray
    smallest: np.ndarray
    log_posterior: np.ndarray


def strength_path(X, init, prior: gmm.Prior, strengths=STRENGTHS, **fit_options) -> StrengthPath:
    """Fit MAP-EM at every strength of the grid (``map_fit``) and keep the smallest eigenvalues and log-posteriors."""
    strengths = np.asarray(strengths, dtype=float)
    fits = [map_fit(X, init, prior, s, **fit_options) for s in strengths]
    smallest = np.array([np.linalg.eigvalsh(f.params.covariances)[:, 0] for f in fits])
    return StrengthPath(strengths, smallest, np.array([f.objective[-1] for f in fits]))


def draw_prior_strength(axes, X, init, prior: gmm.Prior, strength: float, *, path: StrengthPath | None = None,
                        feature_names=None, n_std: float = 2.0, **fit_options):
    """Draw the MAP fit at ``strength``: returns ``axes``.

    axes: one Axes, or a pair (data_ax, path_ax) where either may be None.
      data_ax: the 2-D data coloured by the most responsible component, each component's mean and n_std-sigma
               ellipse, and the prior's guess (m0 with the ellipse of S0 / n0) dashed in grey. The title gives the
               strength, the smallest covariance eigenvalue and the log-posterior.
      path_ax: the smallest eigenvalue of each component's covariance against the strength (log-log), from
               ``path`` (computed with ``strength_path`` if None), the floor lambda_min(S0_s) / (nu0_s + N + D + 2)
               that no MAP covariance can go below, and the current strength marked.
    """
    import matplotlib.pyplot as plt

    data_ax, path_ax = (axes, None) if isinstance(axes, plt.Axes) else tuple(axes)
    X = data_matrix(X)
    result = map_fit(X, init, prior, strength, **fit_options)
    params, scaled = result.params, scaled_prior(prior, strength)
    smallest = np.linalg.eigvalsh(params.covariances)[:, 0]
    N, D = X.shape
    if data_ax is not None:
        if D != 2:
            raise ValueError(f"draw_prior_strength draws 2-D data, got D = {D}.")
        plotting.plot_mixture(data_ax, X, params, n_std=n_std)
        guess = scaled.S0 / (scaled.nu0 + D + 2)
        plotting.covariance_ellipse(data_ax, scaled.m0, guess, n_std, color="0.45", ls="--", lw=1.2)
        data_ax.plot(*scaled.m0, marker="+", color="0.45", ms=12, mew=2)
        plotting.frame_data(data_ax, X, feature_names)
        data_ax.set_title(f"strength s = {strength:.3g} (kappa0 = {scaled.kappa0:.3g}, {scaled.nu0 + D + 2:.3g} "
                          f"pseudo-points)\nsmallest eigenvalue {smallest.min():.3g}, log-posterior "
                          f"{result.objective[-1]:.1f}", fontsize=10)
    if path_ax is not None:
        path = path if path is not None else strength_path(X, init, prior, **fit_options)
        for k in range(path.smallest.shape[1]):
            path_ax.loglog(path.strengths, path.smallest[:, k], "o-", ms=3, color=f"C{k}", label=f"component {k}")
            path_ax.plot([strength], [smallest[k]], "o", ms=9, mfc="none", mec=f"C{k}", mew=2)
        floors = [np.linalg.eigvalsh(scaled_prior(prior, s).S0)[0] / (scaled_prior(prior, s).nu0 + N + D + 2)
                  for s in path.strengths]
        path_ax.loglog(path.strengths, floors, color="0.4", ls=":", label="floor: $\\lambda_{min}(S_0)/(\\nu_0 + N + D + 2)$")
        path_ax.axvline(strength, color="C3", lw=1, alpha=0.6)
        path_ax.set_xlabel("prior strength s (times the pseudo-data of the base prior)")
        path_ax.set_ylabel("smallest eigenvalue of $\\Sigma_k$")
        path_ax.set_title("no covariance goes below the floor;\na strong prior pulls every one to its guess", fontsize=10)
        path_ax.legend(fontsize=8, loc="best")
    return axes


def prior_strength_explorer(X, init, prior: gmm.Prior, strength: float = 1.0, *, strengths=STRENGTHS,
                            feature_names=None, figsize=(12, 4.6), **fit_options):
    """A log slider over the prior strength s (the range of ``strengths``) over two ``draw_prior_strength`` panels.

    The path of smallest eigenvalues is computed once; moving the slider refits MAP-EM at the new strength and
    redraws. Returns ``VBox([FloatLogSlider, Output])``; display it as the last line of a notebook cell.
    """
    widgets = require("ipywidgets", "emlib.widgets.prior_strength_explorer")
    import matplotlib.pyplot as plt

    X = data_matrix(X)
    strengths = np.asarray(strengths, dtype=float)
    low, high = strengths.min(), strengths.max()
    if not low <= strength <= high:
        raise ValueError(f"strength must be within the slider's range, {low:.3g} to {high:.3g}, got {strength!r}.")
    path = strength_path(X, init, prior, strengths, **fit_options)
    slider = widgets.FloatLogSlider(value=strength, base=10, min=np.log10(low), max=np.log10(high), step=0.05,
                                    description="strength s", readout_format=".3g", continuous_update=False,
                                    layout=widgets.Layout(width="60%"))
    output = widgets.Output()

    def render(change=None):
        output.clear_output(wait=True)
        with output:
            fig, axes = plt.subplots(1, 2, figsize=figsize)
            draw_prior_strength(axes, X, init, prior, slider.value, path=path, feature_names=feature_names,
                                **fit_options)
            fig.tight_layout()
            plt.show()
        plt.close(fig)

    slider.observe(render, names="value")
    render()
    return widgets.VBox([slider, output])
