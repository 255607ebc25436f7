"""EM as minorize-maximize, on the genetic linkage model: the bound G(theta | theta_t) under log p(y | theta).

At the current iterate theta_t the E step builds

    G(theta | theta_t) = log p(y | theta_t) + Q(theta | theta_t) - Q(theta_t | theta_t)   (``linkage.lower_bound``),

which lies below the log-likelihood everywhere and touches it at theta_t; the M step moves to the bound's
maximum theta_{t+1}. ``draw_q_bound`` draws that picture on an ``ax``; ``q_bound_explorer`` puts a slider for
theta_t in front of it. The notebook calls ``draw_q_bound`` for its static figures too, so a reader without a
widget front end sees the same pictures.

matplotlib and ipywidgets are imported inside the functions that use them, so importing ``emlib.widgets`` does
not need them.
"""
from __future__ import annotations

import numpy as np

from .. import datasets, linkage
from .._optional import require

__all__ = ["draw_q_bound", "q_bound_explorer"]

#: Range of the explorer's slider for theta_t.
SLIDER_RANGE = (0.05, 0.95)


def draw_q_bound(ax, counts=None, theta_t: float = 0.3, *, theta_range="full", ylim=None, legend: bool = True,
                 n_points: int = 400):
    """Draw log p(y | theta) and the bound G(theta | theta_t) on ``ax``, with theta_t, theta_{t+1} and theta*.

    counts:      the four category counts (default: ``datasets.genetic_linkage()``).
    theta_t:     the current iterate, strictly between 0 and 1.
    theta_range: "full" (theta from 0.01 to 0.99), "zoom" (a close-up around theta_t, theta_{t+1} and theta*),
                 or (lo, hi) with 0 < lo < hi < 1. theta_t is always added to the grid.
    ylim:        (bottom, top), or None to fit the picture between log p(y | theta_t) and the maximum.

    The two curves are Line2D objects with gid "log-likelihood" and "bound", on the same theta grid. The title
    says where EM goes next; a notebook may replace it. Returns ``ax``.
    """
    counts = linkage.validate_counts(datasets.genetic_linkage() if counts is None else counts)
    theta_t = linkage.validate_theta(theta_t)
    theta_next = linkage.m_step(linkage.e_step(counts, theta_t)[0])
    theta_star = linkage.mle(counts)
    lo, hi = _window(theta_range, theta_t, theta_next, theta_star)
    theta = np.union1d(np.linspace(lo, hi, n_points), [theta_t])
    log_l = np.array([linkage.log_likelihood(counts, t) for t in theta])
    bound = linkage.lower_bound(counts, theta_t, theta)
    log_l_t = linkage.log_likelihood(counts, theta_t)
    log_l_next = linkage.log_likelihood(counts, theta_next)
    bound_next = linkage.lower_bound(counts, theta_t, theta_next)

    ax.plot(theta, log_l, color="C0", lw=2.2, gid="log-likelihood", label=r"$\log p(y\mid\theta)$")
    ax.plot(theta, bound, color="C1", lw=2, ls="--", gid="bound", label=r"bound $G(\theta\mid\theta^{(t)})$")
    if lo < theta_star < hi:
        ax.axvline(theta_star, color="0.55", lw=1, ls=":", zorder=0, label=r"MLE $\theta^*$")
    ax.plot([theta_t], [log_l_t], "o", color="k", ms=7, zorder=5, label=r"$\theta^{(t)}$, where they touch")
    ax.plot([theta_next], [bound_next], "o", color="C1", ms=7, zorder=5,
            label=r"$\theta^{(t+1)}$ = argmax of the bound")
    ax.plot([theta_next], [log_l_next], "o", color="C0", ms=7, zorder=5)
    ax.annotate("", xy=(theta_next, log_l_next), xytext=(theta_next, bound_next),
                arrowprops=dict(arrowstyle="->", color="C2", lw=1.5, shrinkA=3, shrinkB=3))

    if ylim is None:
        top = log_l.max()
        span = max(top - log_l_t, 1e-9 * max(abs(top), 1.0))
        ylim = (log_l_t - 0.7 * span, top + 0.25 * span)
    ax.set_ylim(*ylim)
    ax.set_xlim(lo, hi)
    ax.set_xlabel(r"$\theta$")
    ax.set_ylabel("log-likelihood (nats)")
    ax.set_title(rf"$\theta^{{(t)}}$ = {theta_t:.4f} $\to$ $\theta^{{(t+1)}}$ = {theta_next:.4f}" "\n"
                 r"the bound touches $\log p(y\mid\theta)$ at $\theta^{(t)}$ and lies below it elsewhere",
                 fontsize=10)
    if legend:
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
    return ax


def _window(theta_range, theta_t, theta_next, theta_star):
    if isinstance(theta_range, str):
        if theta_range == "full":
            return 0.01, 0.99
        if theta_range == "zoom":
            points = (theta_t, theta_next, theta_star)
            margin = max(0.6 * (max(points) - min(points)), 1e-6)
            return max(min(points) - margin, 0.001), min(max(points) + margin, 0.999)
    else:
        lo, hi = theta_range
        if 0 < lo < hi < 1:
            return float(lo), float(hi)
    raise ValueError(f'theta_range must be "full", "zoom" or (lo, hi) with 0 < lo < hi < 1, got {theta_range!r}.')


def q_bound_explorer(counts=None, theta_t: float = 0.3):
    """A slider for theta_t in (0.05, 0.95) over two ``draw_q_bound`` panels (the whole picture on fixed axes,
    and a close-up), redrawn when the slider moves.

    Returns ``VBox([FloatSlider, Output])``; display it as the last line of a notebook cell.
    """
    widgets = require("ipywidgets", "emlib.widgets.q_bound_explorer")
    import matplotlib.pyplot as plt

    counts = linkage.validate_counts(datasets.genetic_linkage() if counts is None else counts)
    low, high = SLIDER_RANGE
    if not low <= theta_t <= high:
        raise ValueError(f"theta_t must be between {low} and {high} (the slider's range), got {theta_t!r}.")
    slider = widgets.FloatSlider(value=theta_t, min=low, max=high, step=0.01, description="θ⁽ᵗ⁾",
                                 readout_format=".2f", continuous_update=False,
                                 layout=widgets.Layout(width="480px"))
    output = widgets.Output()

    # Fixed axes for the whole picture, so that moving the slider moves the curves, not the frame.
    top = linkage.log_likelihood(counts, float(np.clip(linkage.mle(counts), 0.01, 0.99)))
    bottom = min(linkage.log_likelihood(counts, t) for t in SLIDER_RANGE)
    full_ylim = (bottom - 0.3 * (top - bottom), top + 0.1 * (top - bottom))

    def redraw(change=None):
        output.clear_output(wait=True)
        with output:
            fig, (whole, close_up) = plt.subplots(1, 2, figsize=(12, 4.6))
            draw_q_bound(whole, counts, slider.value, ylim=full_ylim)
            draw_q_bound(close_up, counts, slider.value, theta_range="zoom", legend=False)
            whole.set_title("the whole picture: the bound (dashed) lies under the log-likelihood", fontsize=10)
            close_up.set_title("close-up: they touch at " r"$\theta^{(t)}$" "; the M step climbs the bound",
                               fontsize=10)
            theta_next = linkage.m_step(linkage.e_step(counts, slider.value)[0])
            fig.suptitle(rf"one EM step: $\theta^{{(t)}}$ = {slider.value:.2f} $\to$ $\theta^{{(t+1)}}$ = "
                         f"{theta_next:.4f}; the log-likelihood rises from "
                         f"{linkage.log_likelihood(counts, slider.value):.2f} to "
                         f"{linkage.log_likelihood(counts, theta_next):.2f}", fontsize=11)
            fig.tight_layout()
            plt.show()
        plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, output])
