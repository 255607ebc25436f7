"""Figures the lectures share (matplotlib only; imported by notebooks, never by the numerical modules).

Every function draws on a given ``ax`` and returns it, so a notebook composes figures and sets the title
that says what to look at.
"""
from __future__ import annotations

import numpy as np

__all__ = ["covariance_ellipse", "frame_data", "plot_mixture", "plot_objective"]


def covariance_ellipse(ax, mean, covariance, n_std: float = 2.0, **style):
    """Draw the ellipse {x : (x - mean)^T covariance^-1 (x - mean) = n_std^2} of a 2-D Gaussian.

    The axes of the ellipse are the eigenvectors of the covariance, with half-lengths n_std sqrt(eigenvalue).
    """
    from matplotlib.patches import Ellipse

    eigenvalues, eigenvectors = np.linalg.eigh(np.asarray(covariance)[:2, :2])
    angle = np.degrees(np.arctan2(eigenvectors[1, -1], eigenvectors[0, -1]))
    width, height = 2 * n_std * np.sqrt(eigenvalues[::-1])
    ellipse = Ellipse(np.asarray(mean)[:2], width, height, angle=angle, fill=False, **{"lw": 2, **style})
    ax.add_patch(ellipse)
    return ellipse


def plot_mixture(ax, X, params=None, *, labels=None, colors=None, n_std: float = 2.0, point_size: float = 8):
    """Scatter 2-D data (coloured by ``labels`` or by the most responsible component) with each component's
    mean and n_std-sigma covariance ellipse."""
    import matplotlib.pyplot as plt

    X = np.asarray(X)
    colors = colors or plt.rcParams["axes.prop_cycle"].by_key()["color"]
    if labels is None and params is not None:
        from . import gmm

        labels = gmm.responsibilities(X, params).argmax(axis=1)
    point_colors = "0.5" if labels is None else [colors[int(k) % len(colors)] for k in labels]
    ax.scatter(X[:, 0], X[:, 1], s=point_size, c=point_colors, alpha=0.6, linewidths=0)
    if params is not None:
        for k, (w, mu, Sigma) in enumerate(zip(*params)):
            color = colors[k % len(colors)]
            covariance_ellipse(ax, mu, Sigma, n_std, color=color)
            ax.plot(*mu[:2], marker="x", color="k", ms=8, mew=2)
    return ax


def frame_data(ax, X, feature_names=None, margin: float = 0.08):
    """Limits around the first two columns of X (with ``margin`` of their range on each side) and axis labels
    (``feature_names``, default x_1 and x_2): the same frame for every redraw of an explorer."""
    X = np.asarray(X)[:, :2]
    low, high = X.min(axis=0), X.max(axis=0)
    pad = margin * (high - low)
    ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
    ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
    names = feature_names or ["$x_1$", "$x_2$"]
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    return ax


def plot_objective(ax, objective, *, label=None, ylabel: str = "log-likelihood", **style):
    """The objective against the iteration (entry t after t iterations), with markers: EM's curve never goes down."""
    objective = np.asarray(objective)
    ax.plot(np.arange(len(objective)), objective, label=label, **{"marker": "o", "ms": 3, **style})
    ax.set_xlabel("iteration t")
    ax.set_ylabel(ylabel)
    return ax
