"""Shared helpers for the tests: peer-library runs from the same start, and random problems."""
import os
import warnings

# One BLAS thread per process: the suite runs two workers on two cores, and each worker's kernels, nbgrader runs and
# notebooks would otherwise start a BLAS thread per core, four busy threads on two cores. Set before numpy loads;
# every process the tests start inherits it. (Results do not depend on it; time does.)
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pytest

from emlib import datasets, gmm


def sklearn_gmm(X, params: gmm.GMMParams, n_iter: int, reg_covar: float = 0.0):
    """scikit-learn's GaussianMixture run for exactly n_iter EM iterations from ``params``.

    Returns (objective, model): objective[t] is the TOTAL log-likelihood after t iterations
    (scikit-learn records the per-sample mean in ``lower_bounds_``, evaluated in the E step of
    iteration t + 1, i.e. at the parameters after t iterations), t = 0 .. n_iter - 1.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(
        params.n_components, covariance_type="full", tol=0, max_iter=n_iter, reg_covar=reg_covar,
        weights_init=params.weights, means_init=params.means,
        precisions_init=np.linalg.inv(params.covariances), init_params="random_from_data", random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never "converges", by design
        model.fit(np.asarray(X).reshape(len(X), -1))
    return np.asarray(model.lower_bounds_) * len(X), model


def random_mixture(rng, K: int, D: int, spread: float = 4.0) -> gmm.GMMParams:
    return datasets.random_mixture(K, D, spread=spread, rng=rng)


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


# Scheduling on several cores (pytest-xdist, `-n auto --dist loadgroup` in pyproject.toml) ------------------------
# Tests that share a costly set-up run on one worker: each assignment's nbgrader batch, the student's venv and the
# notebooks executed in it, the JupyterLab server of the browser tests, the JupyterHub class. The groups are sent
# to the workers longest first (and the quick tests last, to fill the gaps), so that neither core waits at the end.
# The book's group reads the chapters that student-env executes, so it comes once that is likely done.
LONGEST_FIRST = ["jupyterhub", "student-env", "browser", "a03", "a04", "a06", "book", "a05", "a02", "a01",
                 "instructor-guide"]


def groups_of(item) -> list[str]:
    """The names of the item's xdist groups, sorted (as pytest-xdist names them)."""
    return sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                   for m in item.iter_markers("xdist_group")})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        assignment = getattr(item, "callspec", None) and item.callspec.params.get("assignment")
        if item.module.__name__ == "test_assignments" and assignment:
            item.add_marker(pytest.mark.xdist_group(assignment))

    def rank(item):
        return min((LONGEST_FIRST.index(g) for g in groups_of(item) if g in LONGEST_FIRST), default=len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order within a group is kept


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reports the collected node ids to the scheduler
def pytest_collection_finish(session):
    """Name each grouped test's group in its node id ("...@group"), which is how --dist loadgroup sends a group to
    one worker. pytest-xdist 3.8 does this by setting ``item._nodeid``, which pytest 9.2 no longer reads (its node
    ids are NodeId objects in ``item._id``), so every group was spread over the workers; do it here."""
    if not getattr(session.config.option, "loadgroup", False):  # set in xdist workers with --dist loadgroup
        return
    for item in session.items:
        groups = groups_of(item)
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            _rename(item, item.nodeid + suffix)


def _rename(item, nodeid: str) -> None:
    if hasattr(item, "_id"):  # pytest >= 9.2
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(nodeid)
    else:
        item._nodeid = nodeid
