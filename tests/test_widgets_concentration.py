"""The concentration explorer of notebook 06: its fits are vb.fit's (and scikit-learn's), its drawing shows the
components that survive, and its slider redraws, in a real kernel too."""
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Ellipse, Rectangle  # noqa: E402

from widget_kernel import assert_slider_rerenders  # noqa: E402
from emlib import datasets, gmm, vb  # noqa: E402
from emlib.widgets import concentration, concentration_explorer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*non-interactive.*:UserWarning")  # plt.show() under Agg


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def faithful():
    """Old Faithful standardised, as Bishop (2006, Figure 10.6) uses it, and the explorer's seeded start for K = 6."""
    X = datasets.old_faithful()
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    return Z, concentration.initial_responsibilities(Z, 6, rng=0)


def test_the_fit_is_vb_fit_with_the_concentration_replaced(faithful):
    Z, R = faithful
    np.testing.assert_allclose(R, gmm.responsibilities(Z, gmm.initial_params(Z, 6, rng=0)), rtol=0, atol=0)
    ours = concentration.concentration_fit(Z, R, 0.05)
    prior = vb.Prior.default(Z, 6)._replace(weight_concentration=0.05)
    direct = vb.fit(Z, R, prior=prior, max_iter=2000, tol=1e-8)
    np.testing.assert_array_equal(ours.objective, direct.objective)
    for mine, theirs in zip(ours.params, direct.params):
        np.testing.assert_array_equal(mine, theirs)


def test_small_concentration_keeps_two_components_like_scikit_learn(faithful):
    """Bishop's Figure 10.6: K = 6, a small alpha_0, two components left. scikit-learn's BayesianGaussianMixture with
    the same prior, from its own k-means start, prunes to the same two components (up to their order)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    Z, R = faithful
    ours = concentration.concentration_fit(Z, R, 1e-3).params
    prior = vb.Prior.default(Z, 6)
    model = BayesianGaussianMixture(
        n_components=6, covariance_type="full", weight_concentration_prior_type="dirichlet_distribution",
        weight_concentration_prior=1e-3, mean_prior=prior.mean, mean_precision_prior=prior.mean_precision,
        degrees_of_freedom_prior=prior.dof, covariance_prior=prior.covariance, reg_covar=0.0, tol=1e-10,
        max_iter=5000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Z)
    assert vb.effective_components(ours) == 2 and np.sum(model.weights_ >= 0.01) == 2
    mine, theirs = np.flatnonzero(ours.weights >= 0.01), np.flatnonzero(model.weights_ >= 0.01)
    mine, theirs = mine[np.argsort(ours.means[mine, 0])], theirs[np.argsort(model.means_[theirs, 0])]
    np.testing.assert_allclose(ours.weights[mine], model.weights_[theirs], rtol=1e-5)
    np.testing.assert_allclose(ours.means[mine], model.means_[theirs], atol=1e-5)
    np.testing.assert_allclose(ours.covariances[mine], model.covariances_[theirs], atol=1e-5)
    # the four empty components hold alpha_0 / (N + K alpha_0) each (their N_k is zero to round-off)
    dead = np.setdiff1d(np.arange(6), mine)
    np.testing.assert_allclose(ours.weights[dead], 1e-3 / (len(Z) + 6e-3), rtol=1e-6)


@pytest.mark.parametrize("alpha0, survivors", [(1e-3, 2), (1e3, 6)])
def test_drawing_shows_the_surviving_components_and_every_weight(faithful, alpha0, survivors):
    Z, R = faithful
    params = concentration.concentration_fit(Z, R, alpha0).params
    fig, (data_ax, bar_ax) = plt.subplots(1, 2)
    assert concentration.draw_concentration((data_ax, bar_ax), Z, params, concentration=alpha0) == (data_ax, bar_ax)
    ellipses = {p.get_gid(): p for p in data_ax.patches if isinstance(p, Ellipse)}
    alive = np.flatnonzero(params.weights >= 0.01)
    assert len(alive) == survivors and sorted(ellipses) == sorted(f"component {k}" for k in alive)
    for k in alive:
        np.testing.assert_allclose(ellipses[f"component {k}"].center, params.means[k])
        # the ellipse's axes are 2 sqrt(eigenvalues) of E[Lambda_k]^-1, times 2 for n_std = 2
        expected = 4 * np.sqrt(np.linalg.eigvalsh(params.covariances[k]))
        np.testing.assert_allclose(sorted([ellipses[f"component {k}"].width, ellipses[f"component {k}"].height]),
                                   expected, rtol=1e-12)
    bars = {p.get_gid(): p.get_height() for p in bar_ax.patches if isinstance(p, Rectangle) and p.get_gid()}
    np.testing.assert_allclose([bars[f"weight {k}"] for k in range(6)], params.weights, rtol=1e-14)
    assert f"{survivors} of 6 components survive" in data_ax.get_title()
    assert f"{alpha0:.3g}" in data_ax.get_title()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in (data_ax, bar_ax))
    with pytest.raises(ValueError, match="2-D data"):
        concentration.draw_concentration((data_ax, bar_ax), np.c_[Z, Z[:, :1]], params)


def test_explorer_is_a_log_slider_over_an_output(faithful):
    import ipywidgets as widgets

    Z, _ = faithful
    box = concentration_explorer(Z)
    slider, output = box.children
    assert isinstance(slider, widgets.FloatLogSlider) and isinstance(output, widgets.Output)
    assert slider.value == pytest.approx(1e-3)
    assert 10 ** slider.min == pytest.approx(1e-3) and 10 ** slider.max == pytest.approx(1e3)
    with pytest.raises(ValueError, match="slider's range"):
        concentration_explorer(Z, concentration=1e4)
    assert not plt.get_fignums(), "the explorer leaves figures open"


def test_moving_the_slider_refits_once_per_position_and_redraws(faithful, monkeypatch):
    import ipywidgets

    Z, R = faithful
    fitted, drawn, cleared = [], [], []
    fit, draw = concentration.concentration_fit, concentration.draw_concentration

    def fit_spy(X, resp, value, **kw):
        fitted.append(value)
        return fit(X, resp, value, **kw)

    def draw_spy(axes, X, params, **kw):
        drawn.append((kw["concentration"], vb.effective_components(params)))
        return draw(axes, X, params, **kw)

    monkeypatch.setattr(concentration, "concentration_fit", fit_spy)
    monkeypatch.setattr(concentration, "draw_concentration", draw_spy)
    monkeypatch.setattr(ipywidgets.Output, "clear_output", lambda self, *a, **kw: cleared.append(kw))
    slider, _ = concentration_explorer(Z).children
    slider.value = 100.0
    slider.value = 1e-3  # back to the start: redrawn, not refitted
    assert [round(a, 9) for a in fitted] == [1e-3, 100.0]
    assert [(round(a, 9), n) for a, n in drawn] == [(1e-3, 2), (100.0, 6), (1e-3, 2)]
    assert len(cleared) == 3 and all(kw.get("wait") for kw in cleared)
    assert not plt.get_fignums(), "each redraw closes its figure"


def test_moving_the_slider_rerenders_the_output_in_a_kernel():
    """In a real kernel, with nbclient standing in for the browser, the Output widget's figure changes."""
    assert_slider_rerenders(
        "from emlib import datasets\nfrom emlib.widgets import concentration_explorer\n"
        "X = datasets.old_faithful()\nexplorer = concentration_explorer((X - X.mean(0)) / X.std(0))\nexplorer",
        "explorer.children[0].value = 100.0",
    )
