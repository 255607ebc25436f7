"""The posterior of the occasionally dishonest casino, and how it moves with the switching probabilities.

The casino (Durbin, Eddy, Krogh and Mitchison 1998, section 3.2) has two hidden states, a fair die (state 0) and a
loaded one (state 1, which shows a six half of the time), and switches between them with the probabilities
p(fair -> loaded) and p(loaded -> fair). ``casino_params`` builds the model; ``draw_posterior`` draws the posterior
probability of the loaded die at every roll, gamma_t(loaded) = p(z_t = loaded | x_0..x_{T-1}) from ``hmm.posteriors``,
with the stretches where the loaded die was really in play shaded; ``posterior_explorer`` puts two sliders for the
switching probabilities in front of it. The notebook calls ``draw_posterior`` for its static figures too, so a
reader without a widget front end sees the same pictures.

matplotlib and ipywidgets are imported inside the functions that use them, so importing ``emlib.widgets`` does
not need them.
"""
from __future__ import annotations

import numpy as np

from .. import hmm
from .._optional import require

__all__ = ["FAIR", "LOADED", "CASINO_EMISSION", "casino_params", "loaded_stretches", "draw_posterior",
           "posterior_explorer"]

#: The states of the casino, as indices (the code counts from 0).
FAIR, LOADED = 0, 1
#: Emission probabilities (2, 6): row 0 the fair die, row 1 the loaded die (a six half of the time); symbol m is
#: the face m + 1.
CASINO_EMISSION = np.array([[1 / 6] * 6, [1 / 10] * 5 + [1 / 2]])
#: Range of the explorer's sliders for the two switching probabilities (log scale).
SLIDER_RANGE = (0.001, 0.5)


def casino_params(to_loaded: float = 0.05, to_fair: float = 0.1, emission=None) -> hmm.HMMParams:
    """The casino HMM with p(fair -> loaded) = ``to_loaded`` and p(loaded -> fair) = ``to_fair``.

    emission: (2, M) emission probabilities (default ``CASINO_EMISSION``).
    The start distribution is the chain's stationary one, (to_fair, to_loaded) / (to_loaded + to_fair): the casino
    has been running for a while when we start watching.
    """
    for name, p in (("to_loaded", to_loaded), ("to_fair", to_fair)):
        if not 0 < p < 1:
            raise ValueError(f"{name} is a switching probability and must be strictly between 0 and 1, got {p!r}.")
    transition = [[1 - to_loaded, to_loaded], [to_fair, 1 - to_fair]]
    start = np.array([to_fair, to_loaded]) / (to_loaded + to_fair)
    return hmm.HMMParams(start, transition, hmm.Categorical(CASINO_EMISSION if emission is None else emission))


def loaded_stretches(states, state: int = LOADED) -> list[tuple[int, int]]:
    """The maximal runs [first, last] of time steps with ``states == state``, as (first, last + 1) pairs."""
    on = np.concatenate([[False], np.asarray(states) == state, [False]])
    edges = np.flatnonzero(np.diff(on.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def draw_posterior(ax, rolls, params: hmm.HMMParams, true_states=None, *, state: int = LOADED,
                   mark_symbol: int | None = 5, title: str | None = None):
    """Draw gamma_t(state) = p(z_t = state | rolls, params) against t on ``ax``; returns ``ax``.

    rolls:       the observed symbols x_0..x_{T-1} (for the casino 0..5, the faces 1..6).
    params:      the HMM under which the posterior is computed (``hmm.posteriors``).
    true_states: the hidden states that really generated the rolls, if known: the steps where they equal
                 ``state`` are shaded, and the title gives the fraction of steps that posterior decoding
                 (gamma_t(state) > 1/2 or not) gets right.
    state:       which state's posterior to draw (default ``LOADED``).
    mark_symbol: the steps where this symbol was rolled (default 5, a six) are marked by ticks under the curve;
                 None for no ticks.
    title:       replaces the default title.

    The curve is the Line2D with gid "posterior" (x = 0..T-1, y = gamma_t(state)).
    """
    rolls = np.asarray(rolls)
    name = {FAIR: "fair", LOADED: "loaded"}.get(state, f"state {state + 1}")
    post = hmm.posteriors(rolls, params)
    gamma = post.gamma[:, state]
    T = len(rolls)
    steps = np.arange(T)
    if true_states is not None:
        true_states = np.asarray(true_states)
        if true_states.shape != (T,):
            raise ValueError(f"true_states must have one state per roll, shape ({T},), got {true_states.shape}.")
        for i, (first, end) in enumerate(loaded_stretches(true_states, state)):
            ax.axvspan(first - 0.5, end - 0.5, color="C3", alpha=0.15, lw=0,
                       label=f"the {name} die was in play" if i == 0 else None)
    ax.plot(steps, gamma, color="C0", lw=1.6, gid="posterior",
            label=rf"$\gamma_t(\mathrm{{{name}}}) = p(z_t = \mathrm{{{name}}} \mid x_{{0:T-1}})$")
    if mark_symbol is not None:
        sixes = steps[rolls == mark_symbol]
        ax.plot(sixes, np.full(len(sixes), -0.06), "|", color="0.35", ms=6, gid="marks",
                label="a six was rolled" if mark_symbol == 5 else f"symbol {mark_symbol} was rolled")
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xlim(-0.5, T - 0.5)
    ax.set_ylim(-0.1, 1.05)
    ax.set_xlabel("roll t")
    ax.set_ylabel(f"P({name} die | all the rolls)")
    if title is None:
        A = params.transition
        title = (f"p(fair→loaded) = {A[FAIR, LOADED]:.3g}, p(loaded→fair) = {A[LOADED, FAIR]:.3g}: "
                 f"log p(rolls) = {post.log_likelihood:.1f}")
        if true_states is not None:
            right = np.mean((gamma > 0.5) == (true_states == state))
            title += f"\nposterior decoding is right at {right:.0%} of the rolls"
    ax.set_title(title, fontsize=10)
    return ax


def posterior_explorer(rolls, true_states=None, *, to_loaded: float = 0.05, to_fair: float = 0.1, emission=None,
                       figsize=(11, 3.8)):
    """Two log-scale sliders, p(fair -> loaded) and p(loaded -> fair) in [0.001, 0.5], over a ``draw_posterior``
    figure of ``casino_params(to_loaded, to_fair, emission)``, redrawn when a slider is released.

    Returns ``VBox([HBox([FloatLogSlider, FloatLogSlider]), Output])``; display it as the last line of a cell.
    """
    widgets = require("ipywidgets", "emlib.widgets.posterior_explorer")
    import matplotlib.pyplot as plt

    low, high = SLIDER_RANGE
    for name, value in (("to_loaded", to_loaded), ("to_fair", to_fair)):
        if not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high} (the sliders' range), got {value!r}.")
    rolls = np.asarray(rolls)

    def slider(value, description):
        return widgets.FloatLogSlider(value=value, base=10, min=np.log10(low), max=np.log10(high), step=0.05,
                                      description=description, readout_format=".3f", continuous_update=False,
                                      style={"description_width": "initial"}, layout=widgets.Layout(width="420px"))

    to_loaded_slider = slider(to_loaded, "p(fair → loaded)")
    to_fair_slider = slider(to_fair, "p(loaded → fair)")
    output = widgets.Output()

    def redraw(change=None):
        output.clear_output(wait=True)
        with output:
            fig, ax = plt.subplots(figsize=figsize)
            params = casino_params(to_loaded_slider.value, to_fair_slider.value, emission)
            draw_posterior(ax, rolls, params, true_states)
            ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
            fig.tight_layout()
            plt.show()
        plt.close(fig)

    to_loaded_slider.observe(redraw, names="value")
    to_fair_slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([to_loaded_slider, to_fair_slider]), output])
