"""How the weight concentration alpha_0 of a variational Bayesian mixture switches components off.

With the prior w ~ Dir(alpha_0, ..., alpha_0) a small alpha_0 says "most weights are near zero": the variational
posterior then empties the components it does not need (their N_k goes to 0 and E[w_k] to
alpha_0 / (N + K alpha_0)), and a K = 6 fit of Old Faithful keeps two (Bishop 2006, Figure 10.6). A large alpha_0
says "the weights are all about 1/K" and keeps every component busy.

``concentration_fit`` runs ``vb.fit`` at one alpha_0 from a fixed start; ``draw_concentration`` draws a fit: the
data with the ellipses of the components that survive (E[w_k] >= threshold) and a bar chart of every E[w_k];
``concentration_explorer`` puts a log-scale slider over alpha_0 in front of it. The notebook calls
``draw_concentration`` for its static figures too, so a reader without a widget front end sees the same pictures.

matplotlib and ipywidgets are imported inside the functions that use them, so importing ``emlib.widgets`` does
not need them.
"""
from __future__ import annotations

import numpy as np

from .. import gmm, plotting, vb
from .._optional import require
from .._validation import data_matrix

__all__ = ["SLIDER_RANGE", "initial_responsibilities", "concentration_fit", "draw_concentration",
           "concentration_explorer"]

#: Range of the explorer's slider for alpha_0 (log scale, steps of 10^0.25).
SLIDER_RANGE = (1e-3, 1e3)
SLIDER_STEP = 0.25


def initial_responsibilities(X, K: int, rng=0) -> np.ndarray:
    """The (N, K) responsibilities of ``gmm.initial_params(X, K, rng=rng)`` (a seeded k-means++ start): every fit
    of the explorer starts from them, so the only thing that changes along the slider is alpha_0."""
    X = data_matrix(X)
    return gmm.responsibilities(X, gmm.initial_params(X, K, rng=rng))


def concentration_fit(X, resp, concentration: float, *, prior: vb.Prior | None = None, max_iter: int = 2000,
                      tol: float = 1e-8):
    """``vb.fit(X, resp, prior=prior with weight_concentration = concentration)``: the fitted EMResult.

    resp:  (N, K) starting responsibilities (``initial_responsibilities``).
    prior: the rest of the prior (default ``vb.Prior.default(X, K)``, scikit-learn's defaults); its
           weight_concentration is replaced by ``concentration``.
    """
    X = data_matrix(X)
    resp = np.asarray(resp, dtype=float)
    prior = vb.Prior.default(X, resp.shape[1]) if prior is None else prior
    return vb.fit(X, resp, prior=prior._replace(weight_concentration=concentration), max_iter=max_iter, tol=tol)


def draw_concentration(axes, X, params: vb.VBParams, *, concentration: float | None = None,
                       threshold: float = 0.01, feature_names=None, n_std: float = 2.0):
    """Draw a variational fit on a pair of axes (data_ax, bar_ax); returns ``axes``. Either may be None.

    data_ax: the 2-D data, coloured by their most responsible component, and the n_std-sigma ellipse of
             E[Lambda_k]^-1 (``params.covariances``) with the mean m_k of each component whose expected weight
             E[w_k] is at least ``threshold``. The ellipses are the patches with gid "component k".
    bar_ax:  E[w_k] = alpha_k / sum_j alpha_j for every k, on a log scale, with the threshold as a dotted line;
             the bars are the patches with gid "weight k".
    concentration: alpha_0 of the fit, for the titles.
    The titles say how many components survive.
    """
    import matplotlib.pyplot as plt

    data_ax, bar_ax = axes
    X = data_matrix(X)
    if X.shape[1] != 2:
        raise ValueError(f"draw_concentration draws 2-D data, but X has D = {X.shape[1]} columns.")
    if not isinstance(params, vb.VBParams):
        raise TypeError(f"params must be a vb.VBParams, got {type(params).__name__}.")
    weights = params.weights
    alive = weights >= threshold
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    which = f"\u03b1\u2080 = {concentration:.3g}: " if concentration is not None else ""
    survive = f"{int(alive.sum())} of {params.n_components} components survive"
    if data_ax is not None:
        labels = vb.responsibilities(X, params).argmax(axis=1)
        data_ax.scatter(X[:, 0], X[:, 1], s=8, c=[colors[k % len(colors)] for k in labels], alpha=0.6, linewidths=0)
        for k in np.flatnonzero(alive):
            ellipse = plotting.covariance_ellipse(data_ax, params.means[k], params.covariances[k], n_std,
                                                  color=colors[k % len(colors)])
            ellipse.set_gid(f"component {k}")
            data_ax.plot(*params.means[k], marker="x", color="k", ms=8, mew=2)
        plotting.frame_data(data_ax, X, feature_names)
        data_ax.set_title(f"{which}{survive}\n(ellipses of the components with E[w\u2096] \u2265 {threshold:g})",
                          fontsize=10)
    if bar_ax is not None:
        bars = bar_ax.bar(np.arange(params.n_components), weights,
                          color=[colors[k % len(colors)] if alive[k] else "0.75" for k in range(params.n_components)])
        for k, bar in enumerate(bars):
            bar.set_gid(f"weight {k}")
        bar_ax.set_yscale("log")
        bar_ax.set_ylim(min(1e-6, 0.3 * weights.min()), 1.5)
        bar_ax.axhline(threshold, color="0.3", ls=":", lw=1)
        bar_ax.set_xticks(np.arange(params.n_components))
        bar_ax.set_xlabel("component k")
        bar_ax.set_ylabel("expected weight E[w\u2096] (log scale)")
        rest = ("grey = switched off\n(weight \u2248 \u03b1\u2080 / (N + K\u03b1\u2080))" if not alive.all()
                else "every component\nkeeps a share of the data")
        bar_ax.set_title(f"E[w\u2096]: {rest}", fontsize=10)
    return axes


def concentration_explorer(X, K: int = 6, *, concentration: float = 1e-3, prior: vb.Prior | None = None, rng=0,
                           feature_names=None, figsize=(11, 4.2)):
    """A log-scale slider over alpha_0 in [1e-3, 1e3] (steps of 10^0.25) in front of a ``draw_concentration``
    figure of the variational fit of K components at that alpha_0, redrawn when the slider is released.

    Every fit starts from the same responsibilities (``initial_responsibilities(X, K, rng)``) and is computed once
    per slider position and kept, so going back to a position redraws at once.
    Returns ``VBox([FloatLogSlider, Output])``; display it as the last line of a cell.
    """
    widgets = require("ipywidgets", "emlib.widgets.concentration_explorer")
    import matplotlib.pyplot as plt

    low, high = SLIDER_RANGE
    if not low <= concentration <= high:
        raise ValueError(f"concentration must be between {low:g} and {high:g} (the slider's range), "
                         f"got {concentration!r}.")
    X = data_matrix(X)
    resp = initial_responsibilities(X, K, rng)
    prior = vb.Prior.default(X, K) if prior is None else prior
    fits = {}

    slider = widgets.FloatLogSlider(value=concentration, base=10, min=np.log10(low), max=np.log10(high),
                                    step=SLIDER_STEP, description="\u03b1\u2080 (concentration)",
                                    readout_format=".3g", continuous_update=False,
                                    style={"description_width": "initial"}, layout=widgets.Layout(width="60%"))
    output = widgets.Output()

    def redraw(change=None):
        value = float(slider.value)
        key = round(np.log10(value), 6)
        if key not in fits:
            fits[key] = concentration_fit(X, resp, value, prior=prior).params
        output.clear_output(wait=True)
        with output:
            fig, axes = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [3, 2]})
            draw_concentration(axes, X, fits[key], concentration=value, feature_names=feature_names)
            fig.tight_layout()
            plt.show()
        plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, output])
