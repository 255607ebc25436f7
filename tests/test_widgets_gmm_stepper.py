"""The EM stepper of notebook 02: draws one ellipse per component, and moving its slider redraws the figure."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

from emlib import checks, datasets, gmm  # noqa: E402
from emlib.widgets import gmm_stepper  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*non-interactive.*:UserWarning")  # plt.show() under Agg


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_history_holds_every_iterate_and_matches_fit():
    X = datasets.old_faithful()
    start = gmm.initial_params(X, 2, rng=0)
    history = gmm_stepper.em_history(X, start, max_iter=7, tol=0)
    assert len(history.params) == len(history.objective) == 8
    assert history.params[0] is start
    checks.assert_monotone(history.objective)
    result = gmm.fit(X, start, max_iter=7, tol=0)
    np.testing.assert_allclose(history.objective, result.objective, rtol=1e-12)
    checks.assert_params_close(history.params[-1], result.params, rtol=1e-12)


def test_history_with_reg_covar_runs_like_fit_though_the_log_likelihood_falls():
    """With reg_covar > 0 the step is not an EM step: the history follows gmm.fit (guard off) instead of raising,
    and never calls a fall convergence. The problem is chapter 02's spike (tests/test_gmm_robust.py)."""
    from test_gmm_robust import spike_problem

    X, spike, eps = spike_problem()
    history = gmm_stepper.em_history(X, spike, max_iter=40, tol=0, reg_covar=eps)
    fit = gmm.fit(X, spike, max_iter=40, tol=0, reg_covar=eps)
    assert np.diff(history.objective).min() < -0.1
    np.testing.assert_allclose(history.objective, fit.objective, rtol=1e-12)


def test_history_refuses_a_bool_for_k():
    X = datasets.old_faithful()
    with pytest.raises(TypeError, match="init must be an int K"):
        gmm_stepper.em_history(X, True)


@pytest.mark.parametrize("K", [2, 3])
def test_draw_em_state_draws_one_ellipse_per_component(K):
    X = datasets.old_faithful()
    history = gmm_stepper.em_history(X, K, max_iter=5, rng=1)
    fig, (data_ax, curve_ax) = plt.subplots(1, 2)
    gmm_stepper.draw_em_state((data_ax, curve_ax), X, history, 3)
    ellipses = [p for p in data_ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == K
    for ellipse, mean in zip(ellipses, history.params[3].means):
        np.testing.assert_allclose(ellipse.center, mean)
    assert "t = 3" in data_ax.get_title()
    assert data_ax.get_xlabel() and data_ax.get_ylabel() and curve_ax.get_xlabel() and curve_ax.get_ylabel()
    marked = [line for line in curve_ax.get_lines() if len(line.get_xdata()) == 1]
    assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in marked] == [(3, history.objective[3])]


def test_draw_em_state_accepts_one_axes_and_one_dimensional_data():
    X, _ = gmm.sample(gmm.GMMParams([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0]), 200, rng=0)
    history = gmm_stepper.em_history(X, 2, max_iter=3, rng=0)
    fig, ax = plt.subplots()
    gmm_stepper.draw_em_state(ax, X, history, 2)
    assert len(ax.get_lines()) == 3  # two weighted components and the mixture density
    with pytest.raises(ValueError, match="iteration of the run"):
        gmm_stepper.draw_em_state(ax, X, history, len(history.objective))


def test_moving_the_slider_rerenders_the_output(monkeypatch):
    import ipywidgets

    drawn, cleared = [], []
    draw = gmm_stepper.draw_em_state
    monkeypatch.setattr(gmm_stepper, "draw_em_state", lambda axes, X, history, t, **kw: (
        drawn.append(t), draw(axes, X, history, t, **kw))[1])
    monkeypatch.setattr(ipywidgets.Output, "clear_output", lambda self, *a, **kw: cleared.append(kw))
    X = datasets.old_faithful()
    open_before = set(plt.get_fignums())
    box = gmm_stepper.em_stepper(X, gmm.initial_params(X, 2, rng=0), max_iter=6)
    slider, output = box.children
    assert isinstance(box, ipywidgets.VBox)
    assert isinstance(slider, ipywidgets.IntSlider) and isinstance(output, ipywidgets.Output)
    assert slider.min == 0 and 1 <= slider.max <= 6
    assert drawn == [0] and len(cleared) == 1
    slider.value = slider.max
    slider.value = 1
    assert drawn == [0, slider.max, 1]
    assert len(cleared) == 3 and all(kw.get("wait") for kw in cleared)
    assert set(plt.get_fignums()) <= open_before  # each redraw closes its figure
