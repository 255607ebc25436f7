"""The prior-strength explorer of notebook 04: the scaled prior keeps its guesses, the drawing is the MAP fit, no
covariance goes below its floor, and moving the slider refits and redraws (also in a real kernel)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

from widget_kernel import assert_slider_rerenders  # noqa: E402
from emlib import datasets, gmm  # noqa: E402
from emlib.widgets import prior_strength, prior_strength_explorer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*non-interactive.*:UserWarning")  # plt.show() under Agg


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def stuck_problem():
    """Old Faithful with four copies of one mistyped record, and a start with a component on them (notebook 04)."""
    X = np.vstack([datasets.old_faithful(), np.tile([[1.6, 85.0]], (4, 1))])
    start = gmm.GMMParams([0.45, 0.45, 0.1], [[2.0, 55.0], [4.3, 80.0], [1.6, 85.0]],
                          [np.diag([0.3, 30.0])] * 2 + [np.diag([0.1, 10.0])])
    return X, start, gmm.Prior.default(X, 3)


def test_scaled_prior_multiplies_the_pseudo_data_and_keeps_the_guesses():
    X, _, base = stuck_problem()
    base = base._replace(alpha=np.array([2.0, 3.0, 1.0]))
    D = 2
    assert all(np.array_equal(a, b) for a, b in zip(prior_strength.scaled_prior(base, 1.0), base))
    for s in (0.7, 3.0, 250.0):
        p = prior_strength.scaled_prior(base, s)
        np.testing.assert_allclose(p.alpha - 1, s * (base.alpha - 1), rtol=1e-14)
        assert p.kappa0 == pytest.approx(s * base.kappa0, rel=1e-14)
        assert p.nu0 + D + 2 == pytest.approx(s * (base.nu0 + D + 2), rel=1e-14)
        np.testing.assert_array_equal(p.m0, base.m0)
        # the covariance guess, S0 / (nu0 + D + 2), the NIW's own mode, does not move
        np.testing.assert_allclose(p.S0 / (p.nu0 + D + 2), base.S0 / (base.nu0 + D + 2), rtol=1e-13)
    # default prior: nu0 + D + 2 = 8 pseudo-points, and the inverse-Wishart needs more than 2 D + 1 = 5
    with pytest.raises(ValueError, match="above 0.625"):
        prior_strength.scaled_prior(base, 0.6)
    with pytest.raises(ValueError, match="positive"):
        prior_strength.scaled_prior(base, 0.0)
    with pytest.raises(ValueError, match="flat prior"):
        prior_strength.scaled_prior(gmm.Prior.flat(2, 3), 2.0)


def test_the_drawing_is_the_map_fit_and_no_covariance_goes_below_the_floor():
    X, start, prior = stuck_problem()
    strengths = np.logspace(0, 3, 7)
    path = prior_strength.strength_path(X, start, prior, strengths)
    N, D = X.shape
    for s, smallest in zip(strengths, path.smallest):
        p = prior_strength.scaled_prior(prior, s)
        # Sigma_k = (S0 + B_k) / (nu0 + N_k + D + 2) with B_k >= 0 and N_k <= N (gmm.gaussian_map_step)
        assert smallest.min() >= np.linalg.eigvalsh(p.S0)[0] / (p.nu0 + N + D + 2)
    # a strong prior pulls every covariance towards its guess: the spread of the smallest eigenvalues shrinks
    assert np.ptp(path.smallest[-1]) < 0.2 * np.ptp(path.smallest[0])

    fig, (data_ax, path_ax) = plt.subplots(1, 2)
    prior_strength.draw_prior_strength((data_ax, path_ax), X, start, prior, 10.0, path=path)
    expected = gmm.fit(X, start, max_iter=300, tol=1e-8, prior=prior_strength.scaled_prior(prior, 10.0)).params
    ellipses = [p for p in data_ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 3 + 1  # one per component and the prior's guess
    for ellipse, mean in zip(ellipses, expected.means):
        np.testing.assert_allclose(ellipse.center, mean, rtol=1e-12)
    np.testing.assert_allclose(ellipses[-1].center, prior.m0)
    assert "s = 10" in data_ax.get_title()
    curves = [line for line in path_ax.get_lines() if line.get_label().startswith("component")]
    assert len(curves) == 3
    for k, line in enumerate(curves):
        np.testing.assert_allclose(line.get_ydata(), path.smallest[:, k])
    for ax in (data_ax, path_ax):
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_explorer_is_a_log_slider_over_an_output():
    import ipywidgets as widgets

    X, start, prior = stuck_problem()
    box = prior_strength_explorer(X, start, prior, strength=2.0, strengths=np.logspace(0, 2, 5))
    slider, output = box.children
    assert isinstance(slider, widgets.FloatLogSlider) and isinstance(output, widgets.Output)
    assert (slider.min, slider.max, slider.value) == (0.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="slider's range"):
        prior_strength_explorer(X, start, prior, strength=500.0, strengths=np.logspace(0, 2, 5))
    assert not plt.get_fignums(), "the explorer leaves figures open"


def test_moving_the_slider_refits_and_redraws(monkeypatch):
    import ipywidgets

    drawn, cleared = [], []
    draw = prior_strength.draw_prior_strength

    def spy(axes, X, init, prior, strength, **kw):
        drawn.append(strength)
        return draw(axes, X, init, prior, strength, **kw)

    monkeypatch.setattr(prior_strength, "draw_prior_strength", spy)
    monkeypatch.setattr(ipywidgets.Output, "clear_output", lambda self, *a, **kw: cleared.append(kw))
    X, start, prior = stuck_problem()
    slider, _ = prior_strength_explorer(X, start, prior, strengths=np.logspace(0, 2, 5)).children
    assert drawn == [1.0] and len(cleared) == 1
    slider.value = 50.0
    assert drawn == [1.0, 50.0] and len(cleared) == 2 and all(kw.get("wait") for kw in cleared)
    assert not plt.get_fignums(), "each redraw closes its figure"


def test_moving_the_slider_rerenders_the_output_in_a_kernel():
    """In a real kernel, with nbclient standing in for the browser, the Output widget's figure changes."""
    assert_slider_rerenders(
        "import numpy as np\nfrom emlib import datasets, gmm\nfrom emlib.widgets import prior_strength_explorer\n"
        "X = np.vstack([datasets.old_faithful(), np.tile([[1.6, 85.0]], (4, 1))])\n"
        "explorer = prior_strength_explorer(X, 3, gmm.Prior.default(X, 3), strengths=np.logspace(0, 2, 5))\n"
        "explorer",
        "explorer.children[0].value = 100.0",
    )
