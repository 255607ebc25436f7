"""The Q-bound explorer: its drawing shows a bound that touches the log-likelihood from below, and its slider redraws."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from widget_kernel import assert_slider_rerenders  # noqa: E402
from emlib import datasets, linkage  # noqa: E402
from emlib.widgets import q_bound_explorer  # noqa: E402
from emlib.widgets.q_bound import draw_q_bound  # noqa: E402

Y = datasets.genetic_linkage()


def curves(ax):
    """The (theta, value) data of the log-likelihood and bound lines that draw_q_bound drew on ax."""
    lines = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
    assert set(lines) >= {"log-likelihood", "bound"}, f"draw_q_bound drew lines with gids {sorted(lines)}"
    (theta, log_l), (theta_b, bound) = (map(np.asarray, lines[g].get_data()) for g in ("log-likelihood", "bound"))
    np.testing.assert_array_equal(theta, theta_b)
    return theta, log_l, bound


@pytest.mark.parametrize("theta_range", ["full", "zoom", (0.2, 0.8)])
@pytest.mark.parametrize("theta_t", [0.05, 0.3, 0.6268, 0.95])
def test_bound_lies_below_the_log_likelihood_and_touches_it_at_theta_t(theta_t, theta_range):
    fig, ax = plt.subplots()
    try:
        assert draw_q_bound(ax, Y, theta_t, theta_range=theta_range) is ax
        theta, log_l, bound = curves(ax)
        assert len(theta) >= 100
        # The blue curve is the log-likelihood (with its multinomial constant) ...
        for i in (0, len(theta) // 2, -1):
            assert log_l[i] == pytest.approx(linkage.log_likelihood(Y, theta[i]), abs=1e-12)
        # ... the dashed one lies under it everywhere ...
        assert np.all(bound <= log_l + 1e-9), f"the bound exceeds the log-likelihood by {np.max(bound - log_l):.3g}"
        # ... and touches it at theta_t, which is on the grid.
        at = np.flatnonzero(theta == theta_t)
        assert at.size == 1, "theta_t is not on the grid of the drawn curves"
        assert bound[at[0]] == pytest.approx(log_l[at[0]], abs=1e-9)
        # Away from theta_t the bound is visibly below (not the log-likelihood drawn twice): at the window's edge
        # the gap is a sizeable fraction of the log-likelihood's own variation over the window.
        assert np.max(log_l - bound) > 1e-2 * np.ptp(log_l)
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    finally:
        plt.close(fig)


def test_draw_q_bound_defaults_to_the_dlr_counts():
    fig, (a, b) = plt.subplots(1, 2)
    try:
        draw_q_bound(a)
        draw_q_bound(b, Y, 0.3)
        for x, y in zip(curves(a), curves(b)):
            np.testing.assert_array_equal(x, y)
    finally:
        plt.close(fig)


def test_draw_q_bound_rejects_a_bad_range():
    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="theta_range"):
            draw_q_bound(ax, Y, 0.3, theta_range=(0.8, 0.2))
        with pytest.raises(ValueError, match="between 0 and 1"):
            draw_q_bound(ax, Y, 1.5)
    finally:
        plt.close(fig)


def test_explorer_is_a_slider_over_an_output():
    import ipywidgets as widgets

    explorer = q_bound_explorer(theta_t=0.4)
    assert isinstance(explorer, widgets.VBox)
    slider, output = explorer.children
    assert isinstance(slider, widgets.FloatSlider) and isinstance(output, widgets.Output)
    assert (slider.min, slider.max, slider.value) == (0.05, 0.95, 0.4)
    with pytest.raises(ValueError, match="slider"):
        q_bound_explorer(theta_t=0.99)
    assert not plt.get_fignums(), "the explorer leaves figures open"


def test_moving_the_slider_redraws_with_the_new_theta(monkeypatch):
    from emlib.widgets import q_bound

    drawn = []
    monkeypatch.setattr(q_bound, "draw_q_bound", lambda ax, counts, theta_t, **kw: drawn.append(theta_t))
    slider, _ = q_bound_explorer(theta_t=0.3).children
    assert drawn and set(drawn) == {0.3}
    drawn.clear()
    slider.value = 0.7
    assert drawn and set(drawn) == {0.7}


def test_moving_the_slider_rerenders_the_output_in_a_kernel():
    """In a real kernel, with nbclient standing in for the browser, the Output widget's figure changes."""
    assert_slider_rerenders(
        "from emlib.widgets import q_bound_explorer\nexplorer = q_bound_explorer(theta_t=0.3)\nexplorer",
        "explorer.children[0].value = 0.8",
    )
