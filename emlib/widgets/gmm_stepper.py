"""Step through EM on a Gaussian mixture, one iteration at a time.

``em_history`` runs EM once and keeps every iterate theta^(0), theta^(1), ...; ``draw_em_state`` draws
iterate t (the data with the mixture, and the log-likelihood curve with t marked); ``em_stepper`` puts a
slider over t. The notebook calls ``draw_em_state`` for its static figures too, so a reader without a widget
front end sees the same pictures.

matplotlib and ipywidgets are imported inside the functions that draw, so ``em_history`` works without them.
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from .. import gaussian, gmm, plotting
from .._optional import require
from .._validation import data_matrix
from ..em import run_em

__all__ = ["EMHistory", "em_history", "draw_em_state", "em_stepper"]


class EMHistory(NamedTuple):
    """Every iterate of one EM run.

    params:    tuple of GMMParams; entry t is theta^(t), the parameters after t iterations (entry 0 the start).
    objective: array of the same length; entry t is L(theta^(t)) = log p(X | theta^(t)), the total log-likelihood.
    converged: whether the stopping rule was met before max_iter.
    """

    params: tuple
    objective: np.ndarray
    converged: bool


def em_history(X, init, *, max_iter: int = 100, tol: float = 1e-8, reg_covar: float = 0.0, rng=None) -> EMHistory:
    """Run EM from ``init`` (a GMMParams, or an int K for ``gmm.initial_params(X, K, rng=rng)``) and keep
    every iterate.

    The iterations are emlib's own: ``gmm.e_step`` and ``gmm.m_step`` alternated by ``em.run_em``, with its
    stopping rule (0 <= gain < tol * max(|L|, 1), or max_iter iterations) and, as in ``gmm.fit``, its check that L
    never decreases unless reg_covar > 0 (a step with reg_covar is not an EM step and may lower L).
    """
    X = data_matrix(X)
    if isinstance(init, (bool, np.bool_)):
        raise TypeError(f"init must be an int K or a gmm.GMMParams, got {init!r} (a bool is not a number of components).")
    if isinstance(init, (int, np.integer)):
        init = gmm.initial_params(X, int(init), rng=rng, reg_covar=reg_covar)
    elif not isinstance(init, gmm.GMMParams):
        init = gmm.GMMParams(*init)
    iterates = [init]

    def m_step(stats):
        params = gmm.m_step(stats, reg_covar=reg_covar)
        iterates.append(params)
        return params

    result = run_em(partial(gmm.e_step, gaussian.features(X)), m_step, init, max_iter=max_iter, tol=tol,
                    check_monotone=reg_covar == 0)
    return EMHistory(tuple(iterates), result.objective, result.converged)


def draw_em_state(axes, X, history: EMHistory, t: int, *, feature_names=None, n_std: float = 2.0):
    """Draw iterate t of ``history``: returns ``axes``.

    axes: one Axes, or a pair (data_ax, curve_ax) where either may be None.
      data_ax:  2-D data: the points coloured by their most responsible component, and each component's mean
                and n_std-sigma covariance ellipse (``plotting.plot_mixture``). 1-D data: a histogram with the
                mixture density and its weighted components w_k N(x | mu_k, Sigma_k).
      curve_ax: L(theta^(t)) against t, with iteration t marked.
    feature_names: axis labels for the data (default x_1, x_2; for 1-D, x).
    """
    import matplotlib.pyplot as plt

    data_ax, curve_ax = (axes, None) if isinstance(axes, plt.Axes) else tuple(axes)
    X = data_matrix(X)
    if not 0 <= t < len(history.objective):
        raise ValueError(f"t must be an iteration of the run, 0 <= t <= {len(history.objective) - 1}, got {t}.")
    params, value = history.params[t], history.objective[t]
    if data_ax is not None:
        if X.shape[1] == 1:
            _draw_density(data_ax, X[:, 0], params)
            data_ax.set_xlabel((feature_names or ["x"])[0])
            data_ax.set_ylabel("density")
        else:
            plotting.plot_mixture(data_ax, X, params, n_std=n_std)
            plotting.frame_data(data_ax, X, feature_names)
        data_ax.set_title(f"t = {t}: L = {value:.1f}")
    if curve_ax is not None:
        _draw_curve(curve_ax, history.objective, t)
    return axes


def _draw_density(ax, x, params):
    """Histogram of 1-D data with the mixture density and its weighted components."""
    from scipy.stats import norm

    ax.hist(x, bins=40, density=True, color="0.8", edgecolor="white")
    span = x.max() - x.min()
    grid = np.linspace(x.min() - 0.1 * span, x.max() + 0.1 * span, 400)
    w, mu, sd = params.weights, params.means[:, 0], np.sqrt(params.covariances[:, 0, 0])
    parts = w * norm.pdf(grid[:, None], mu, sd)
    ax.plot(grid, parts, lw=1, ls="--")
    ax.plot(grid, parts.sum(axis=1), color="k", lw=2)


def _draw_curve(ax, objective, t):
    """The log-likelihood curve with iteration t marked; a first value far below the rest is left off the scale."""
    from matplotlib.ticker import MaxNLocator

    plotting.plot_objective(ax, objective, color="0.3")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.plot(t, objective[t], "o", color="C3", ms=9, zorder=3)
    ax.axvline(t, color="C3", lw=1, alpha=0.5)
    rest = objective[1:]
    if len(rest) >= 2 and objective[0] < rest.min() - 2 * np.ptp(rest):
        bottom = rest.min() - 0.15 * max(np.ptp(rest), 1e-9)
        ax.set_ylim(bottom, rest.max() + 0.05 * max(np.ptp(rest), 1e-9))
        ax.text(0.03, 0.93, f"t = 0: L = {objective[0]:.0f} (below the scale)", transform=ax.transAxes,
                fontsize=8, color="0.3", va="top")
    ax.set_title("log-likelihood L($\\theta^{(t)}$): never goes down")


def em_stepper(X, init, max_iter: int = 100, *, tol: float = 1e-8, reg_covar: float = 0.0, rng=None,
               feature_names=None, figsize=(10, 4)):
    """A slider over the iterations of one EM run: returns an ipywidgets VBox(IntSlider, Output).

    The iterates are computed once (``em_history``); moving the slider redraws iterate t with
    ``draw_em_state``: the data and the ellipses on the left, the log-likelihood curve with t marked on the
    right. The slider redraws when released (or at each arrow-key step).
    """
    widgets = require("ipywidgets", "emlib.widgets.em_stepper")
    import matplotlib.pyplot as plt

    X = data_matrix(X)
    history = em_history(X, init, max_iter=max_iter, tol=tol, reg_covar=reg_covar, rng=rng)
    last = len(history.objective) - 1
    slider = widgets.IntSlider(value=0, min=0, max=last, step=1, description="iteration t",
                               continuous_update=False, layout=widgets.Layout(width="60%"))
    output = widgets.Output()

    def render(t):
        output.clear_output(wait=True)
        with output:
            fig, axes = plt.subplots(1, 2, figsize=figsize)
            draw_em_state(axes, X, history, t, feature_names=feature_names)
            fig.tight_layout()
            plt.show()
        plt.close(fig)

    slider.observe(lambda change: render(change["new"]), names="value")
    render(slider.value)
    return widgets.VBox([slider, output])
