"""The model-agnostic driver: objective bookkeeping, the stopping rule, and the monotonicity guard."""
import numpy as np
import pytest

from emlib.em import ObjectiveDecreasedError, run_em


def contraction(rate=0.5, target=3.0):
    """A toy "EM" on a scalar: objective -(theta - target)^2, each step moves theta a fraction toward target."""
    e_step = lambda theta: (theta, -(theta - target) ** 2)
    m_step = lambda theta: target + rate * (theta - target)
    return e_step, m_step


def test_objective_entry_t_is_at_the_parameters_after_t_iterations():
    e_step, m_step = contraction()
    result = run_em(e_step, m_step, 1.0, max_iter=4, tol=0)
    thetas = [1.0, 2.0, 2.5, 2.75, 2.875]
    np.testing.assert_allclose(result.objective, [-(t - 3) ** 2 for t in thetas])
    assert result.params == thetas[-1] and result.n_iter == 4 and not result.converged


def test_max_iter_zero_returns_the_start():
    e_step, m_step = contraction()
    result = run_em(e_step, m_step, 1.0, max_iter=0)
    assert result.params == 1.0 and result.n_iter == 0 and list(result.objective) == [-4.0]


def test_stopping_rule_is_relative_gain_below_tol():
    # objective L_t = -theta_t^2 with theta halving: gain_t = -theta_t^2 + 4 theta_t^2 = 3 |L_t| exactly
    e_step, m_step = contraction(rate=0.5, target=0.0)
    assert not run_em(e_step, m_step, 1.0, max_iter=30, tol=2.9).converged
    stopped = run_em(e_step, m_step, 1.0, max_iter=30, tol=3.1)
    assert stopped.converged and stopped.n_iter == 1
    # objective 100 - (theta - 3)^2: it stops at the first gain below tol * |L_t|, not before
    e_step = lambda theta: (theta, 100.0 - (theta - 3.0) ** 2)
    result = run_em(e_step, contraction()[1], 1.0, max_iter=100, tol=1e-6)
    gains = np.diff(result.objective)
    assert result.converged
    assert gains[-1] < 1e-6 * abs(result.objective[-1])
    assert np.all(gains[:-1] >= 1e-6 * np.abs(result.objective[1:-1]))


def test_a_decrease_is_reported_with_iteration_and_values():
    e_step = lambda theta: (theta, [0.0, 1.0, 2.0, 1.5, 3.0][theta])
    with pytest.raises(ObjectiveDecreasedError, match=r"decreased at iteration 3, from 2 to 1.5 \(by 0.5\)"):
        run_em(e_step, lambda t: t + 1, 0, max_iter=4, tol=0)
    # a decrease within round-off is not a bug
    e_step = lambda theta: (theta, [1.0, 1.0 - 1e-14, 1.0][theta])
    assert run_em(e_step, lambda t: t + 1, 0, max_iter=2, tol=0).n_iter == 2


def test_errors_in_a_step_name_the_iteration():
    def m_step(theta):
        if theta >= 2:
            raise ValueError("component 0 collapsed")
        return theta + 1
    with pytest.raises(ValueError, match=r"^at iteration 3: component 0 collapsed"):
        run_em(lambda t: (t, float(t)), m_step, 0, max_iter=10, tol=0)
    with pytest.raises(ValueError, match=r"at iteration 1: the objective is -inf"):
        run_em(lambda t: (t, -np.inf if t else 0.0), lambda t: 1, 0, max_iter=3)


@pytest.mark.parametrize("kwargs, message", [({"max_iter": -1}, "max_iter"), ({"tol": -1.0}, "tol"),
                                             ({"tol": np.nan}, "tol")])
def test_bad_settings(kwargs, message):
    e_step, m_step = contraction()
    with pytest.raises(ValueError, match=message):
        run_em(e_step, m_step, 1.0, **kwargs)
