"""The casino posterior explorer of notebook 03: the drawn curve is hmm.posteriors' gamma, and its sliders redraw it."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from emlib import hmm  # noqa: E402
from emlib.widgets import hmm_posterior, posterior_explorer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*non-interactive.*:UserWarning")  # plt.show() under Agg


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def casino_rolls():
    rolls, states = hmm.sample(hmm_posterior.casino_params(), 300, rng=1)
    return rolls, states


def posterior_line(ax):
    lines = [line for line in ax.get_lines() if line.get_gid() == "posterior"]
    assert len(lines) == 1, f"draw_posterior drew {len(lines)} lines with gid 'posterior'"
    return tuple(map(np.asarray, lines[0].get_data()))


def test_casino_params_are_the_durbin_casino():
    params = hmm_posterior.casino_params()
    np.testing.assert_allclose(params.transition, [[0.95, 0.05], [0.1, 0.9]])
    np.testing.assert_allclose(params.emission.probs[hmm_posterior.FAIR], np.full(6, 1 / 6))
    np.testing.assert_allclose(params.emission.probs[hmm_posterior.LOADED], [0.1] * 5 + [0.5])
    np.testing.assert_allclose(params.start @ params.transition, params.start)  # stationary
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        hmm_posterior.casino_params(to_loaded=0.0)


@pytest.mark.parametrize("to_loaded, to_fair", [(0.05, 0.1), (0.001, 0.5), (0.3, 0.002)])
def test_the_drawn_curve_is_the_posterior_of_the_loaded_die(casino_rolls, to_loaded, to_fair):
    rolls, states = casino_rolls
    params = hmm_posterior.casino_params(to_loaded, to_fair)
    fig, ax = plt.subplots()
    assert hmm_posterior.draw_posterior(ax, rolls, params, states) is ax
    t, drawn = posterior_line(ax)
    np.testing.assert_array_equal(t, np.arange(len(rolls)))
    np.testing.assert_allclose(drawn, hmm.posteriors(rolls, params).gamma[:, hmm_posterior.LOADED], rtol=0, atol=1e-14)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    right = np.mean((drawn > 0.5) == (states == hmm_posterior.LOADED))
    assert f"{right:.0%}" in ax.get_title()


def test_the_true_loaded_stretches_are_shaded(casino_rolls):
    rolls, states = casino_rolls
    stretches = hmm_posterior.loaded_stretches(states)
    assert sum(end - first for first, end in stretches) == np.sum(states == hmm_posterior.LOADED)
    for first, end in stretches:
        assert np.all(states[first:end] == hmm_posterior.LOADED)
        assert first == 0 or states[first - 1] != hmm_posterior.LOADED
        assert end == len(states) or states[end] != hmm_posterior.LOADED
    fig, ax = plt.subplots()
    hmm_posterior.draw_posterior(ax, rolls, hmm_posterior.casino_params(), states)
    assert len(ax.patches) == len(stretches)
    fig, bare = plt.subplots()
    hmm_posterior.draw_posterior(bare, rolls, hmm_posterior.casino_params())  # without the truth: no shading
    assert not bare.patches
    with pytest.raises(ValueError, match="one state per roll"):
        hmm_posterior.draw_posterior(bare, rolls, hmm_posterior.casino_params(), states[:-1])


def test_explorer_is_two_log_sliders_over_an_output(casino_rolls):
    import ipywidgets as widgets

    box = posterior_explorer(*casino_rolls)
    assert isinstance(box, widgets.VBox)
    sliders, output = box.children
    assert isinstance(output, widgets.Output)
    to_loaded, to_fair = sliders.children
    for slider, value in ((to_loaded, 0.05), (to_fair, 0.1)):
        assert isinstance(slider, widgets.FloatLogSlider)
        assert slider.value == pytest.approx(value)
        assert 10 ** slider.min == pytest.approx(0.001) and 10 ** slider.max == pytest.approx(0.5)
    with pytest.raises(ValueError, match="sliders' range"):
        posterior_explorer(*casino_rolls, to_fair=0.9)
    assert not plt.get_fignums(), "the explorer leaves figures open"


def test_moving_a_slider_changes_the_drawing(casino_rolls, monkeypatch):
    import ipywidgets

    drawn, cleared = [], []
    draw = hmm_posterior.draw_posterior

    def spy(ax, rolls, params, true_states=None, **kw):
        draw(ax, rolls, params, true_states, **kw)
        drawn.append((params.transition.copy(), posterior_line(ax)[1]))

    monkeypatch.setattr(hmm_posterior, "draw_posterior", spy)
    monkeypatch.setattr(ipywidgets.Output, "clear_output", lambda self, *a, **kw: cleared.append(kw))
    rolls, states = casino_rolls
    box = posterior_explorer(rolls, states)
    to_loaded, to_fair = box.children[0].children
    assert len(drawn) == 1 and len(cleared) == 1
    to_loaded.value = 0.002
    to_fair.value = 0.3
    assert len(drawn) == 3 and len(cleared) == 3 and all(kw.get("wait") for kw in cleared)
    (A0, g0), (A1, g1), (A2, g2) = drawn
    assert A0[0, 1] == pytest.approx(0.05) and A0[1, 0] == pytest.approx(0.1)
    assert A1[0, 1] == pytest.approx(0.002) and A1[1, 0] == pytest.approx(0.1)
    assert A2[0, 1] == pytest.approx(0.002) and A2[1, 0] == pytest.approx(0.3)
    for A, gamma in drawn:
        expected = hmm.posteriors(rolls, hmm_posterior.casino_params(A[0, 1], A[1, 0])).gamma[:, hmm_posterior.LOADED]
        np.testing.assert_allclose(gamma, expected, rtol=0, atol=1e-14)
    assert np.abs(g1 - g0).max() > 0.1 and np.abs(g2 - g1).max() > 0.1  # the curve really moved
    assert not plt.get_fignums(), "each redraw closes its figure"
