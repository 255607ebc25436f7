"""The assertions assignments use: they pass on right answers and fail with messages a student can act on."""
import contextlib
import re

import numpy as np
import pytest

from emlib import checks, datasets, gmm


@contextlib.contextmanager
def fails_with(pattern: str):
    """An AssertionError whose message, read as one line (checks wraps messages at 80 columns), matches ``pattern``."""
    with pytest.raises(AssertionError) as info:
        yield info
    assert re.search(pattern, " ".join(str(info.value).split())), str(info.value)


def test_assert_monotone_names_the_iteration_values_and_hint():
    checks.assert_monotone([-10.0, -5.0, -5.0, -4.0])
    with fails_with(r"the log-likelihood decreased at iteration 4, from -1234.5 to -1240.2 "
                                             r"\(by 5.7\)\. .* Hint: are the covariances computed around the new means\?"):
        checks.assert_monotone([-2000.0, -1500.0, -1300.0, -1234.5, -1240.2],
                               hint="are the covariances computed around the new means?")
    with fails_with("NaN or infinite"):
        checks.assert_monotone([-3.0, np.nan])
    with fails_with("at least two values"):
        checks.assert_monotone([-3.0])
    with fails_with(r"^the log-likelihood is -inf, not a finite number\. Hint: "):
        checks.assert_finite(float("-inf"), "the log-likelihood")
    with fails_with(r"^x has 1 NaN or infinite entries, the first at index \(1,\) \(nan\)\."):
        checks.assert_finite([1.0, np.nan], "x")


def test_assert_converged():
    checks.assert_converged([-10.0, -9.0, -9.0 + 1e-12])
    with fails_with(r"has not converged: .* changed by 1 in the last of 2 iterations"):
        checks.assert_converged([-10.0, -9.0, -8.0])


def test_assert_probabilities():
    checks.assert_probabilities(np.full((4, 3), 1 / 3))
    with fails_with(r"sum to 1 along axis 1, but sum to 1.5 at index \(2,\)"):
        checks.assert_probabilities([[1, 0], [0.5, 0.5], [1, 0.5]], axis=1)
    with fails_with("negative entry"):
        checks.assert_probabilities([1.5, -0.5])


def test_assert_shape_finite_and_close():
    checks.assert_shape(np.zeros((3, 2)), (3, 2))
    with fails_with(r"responsibilities should have shape \(272, 2\), but has shape \(2, 272\)"):
        checks.assert_shape(np.zeros((2, 272)), (272, 2), "responsibilities")
    with fails_with("work in log space"):
        checks.assert_finite([1.0, np.nan])
    checks.assert_close([1.0, 2.0], [1.0, 2.0 + 1e-9])
    with fails_with(r"the mean is off at index \(1,\): yours is 2.5, the reference 2"):
        checks.assert_close([1.0, 2.5], [1.0, 2.0], name="the mean")


def test_assert_params_close_shows_a_table_of_differences():
    X = datasets.old_faithful()
    reference = gmm.fit(X, 2, rng=0).params
    checks.assert_params_close(reference, reference)
    wrong = reference._replace(means=reference.means + [[0.0, 0.0], [0.0, 3.0]])
    with pytest.raises(AssertionError) as info:
        checks.assert_params_close(wrong, reference)
    message = str(info.value)
    assert "first in 'means'" in message
    table = checks.difference_table(wrong, reference).splitlines()
    assert table[0].split()[:2] == ["parameter", "max"]
    means_row = next(row for row in table if row.startswith("means"))
    assert "(1, 1)" in means_row and float(means_row.split()[1]) == pytest.approx(3.0)
    weights_row = next(row for row in table if row.startswith("weights"))
    assert float(weights_row.split()[1]) == 0.0
    with fails_with("first in 'weights'"):
        checks.assert_params_close({"weights": [1.0]}, reference)


def test_assert_stopping_rule():
    checks.assert_stopping_rule([-10.0, -5.0, -4.99, -4.99], tol=1e-3, max_iter=100)  # stopped at the first small gain
    checks.assert_stopping_rule([-10.0, -5.0, -4.0], tol=1e-3, max_iter=2)  # ran out of iterations: allowed
    with fails_with(r"your loop ran 3 iterations, more than max_iter = 2"):  # one past the boundary
        checks.assert_stopping_rule([-10.0, -5.0, -4.0, -3.5], tol=1e-3, max_iter=2)
    with fails_with(r"stopped after 1 iteration\(s\)"):  # one short of it, with a rule that never fires
        checks.assert_stopping_rule([-10.0, -5.0], tol=-np.inf, max_iter=2)
    with fails_with(r"stopped after 1 iteration\(s\), while the log-likelihood still rose by 5"):
        checks.assert_stopping_rule([-10.0, -5.0], tol=1e-3, max_iter=100)
    with fails_with(r"fell below tol = 0.001 at iteration 3, but the loop ran all 5 iterations"):
        checks.assert_stopping_rule([-10.0, -5.0, -4.99, -4.99, -4.99, -4.99], tol=1e-3, max_iter=5)


def test_library_forbidden_catches_aliases_and_restores():
    from emlib import linkage
    from emlib.linkage import mle as my_alias

    reference = linkage.mle(datasets.genetic_linkage())
    with checks.library_forbidden(linkage):
        with fails_with(r"calls emlib.linkage.mle, the library's own implementation"):
            my_alias(datasets.genetic_linkage())
        with fails_with(r"emlib.linkage.fit"):
            linkage.fit(datasets.genetic_linkage())
        assert datasets.genetic_linkage().sum() == 197  # other modules are untouched
    assert my_alias(datasets.genetic_linkage()) == reference  # restored


def test_explaining_adds_the_hint_for_the_error_type_and_keeps_the_rest():
    emission = np.full((2, 6), 1 / 6)
    with fails_with(r"^your code raised IndexError: index 5 is out of bounds for axis 0 with size 2 "
                    r"Hint: b_t is the column emission\[:, obs\[t\]\]\.$") as info:
        with checks.explaining(IndexError="b_t is the column emission[:, obs[t]].", ValueError="not this one"):
            emission[5]
    assert isinstance(info.value.__cause__, IndexError)  # the original error and its traceback stay attached
    with fails_with(r"your code raised LinAlgError: .*Hint: a covariance is not positive definite"):
        with checks.explaining(LinAlgError="a covariance is not positive definite."):
            np.linalg.cholesky(-np.eye(2))
    with pytest.raises(KeyError):  # a type without a hint passes through unchanged
        with checks.explaining(IndexError="not this one"):
            {}["missing"]
    with checks.explaining(IndexError="unused"):  # and no error, no failure
        emission[1]
    with pytest.raises(TypeError, match="'IndexErorr' is not the name of a built-in exception"):
        checks.explaining(IndexErorr="a typo is caught where the test is written")


def test_messages_wrap_so_that_no_viewer_cuts_the_hint():
    """nbgrader's Validate cuts each line at 87 characters, after "AssertionError: " on the first line; the
    feedback page shows the message in a <pre>. Every line fits, and the hint starts a line of its own."""
    with pytest.raises(AssertionError) as info:
        checks.assert_monotone([-2000.0, -1500.0, -1300.0, -1234.5, -1240.2], name="the log-likelihood of your fit",
                               hint="are the covariances computed around the new means, and are the weights "
                                    "normalised by the number of points N?")
    lines = f"AssertionError: {info.value}".splitlines()
    assert len(lines) > 2 and max(map(len, lines)) <= checks.MESSAGE_WIDTH, lines
    assert [line for line in lines if line.startswith("Hint: are the covariances")], lines
    assert " ".join(" ".join(lines).split()).endswith("normalised by the number of points N?")


def test_params_close_reads_nested_parameters_such_as_gaussian_emissions():
    from emlib import hmm

    params = hmm.HMMParams(np.array([0.5, 0.5]), np.array([[0.9, 0.1], [0.2, 0.8]]),
                           hmm.Gaussian(np.array([[0.0], [3.0]]), np.array([[[1.0]], [[2.0]]])))
    checks.assert_params_close(params, params)
    moved = params._replace(emission=hmm.Gaussian(np.array([[0.0], [3.5]]), np.array([[[1.0]], [[2.0]]])))
    with fails_with(r"first in 'emission.means'.*emission.means\s+0.5\s+\(1, 0\)\s+3.5\s+3"):
        checks.assert_params_close(moved, params)

