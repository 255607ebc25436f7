"""The model-agnostic driver: objective bookkeeping, the stopping rule, and the monotonicity guard."""
import dataclasses

import numpy as np
import pytest

from emlib import checks
from emlib.em import (EMResult, FitStoppedError, ObjectiveDecreasedError, Stats, run_em, run_incremental, run_online,
                      squarem)


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
    # objective L_t = -1e6 theta_t^2 with theta halving: gain_t = 3 |L_t| exactly, and |L_t| > 1 for 5 iterations
    e_step = lambda theta: (theta, -1e6 * theta**2)
    m_step = contraction(rate=0.5, target=0.0)[1]
    assert not run_em(e_step, m_step, 1.0, max_iter=5, tol=2.9).converged
    stopped = run_em(e_step, m_step, 1.0, max_iter=5, tol=3.1)
    assert stopped.converged and stopped.n_iter == 1
    # objective 100 - (theta - 3)^2: it stops at the first gain below tol * |L_t|, not before
    e_step = lambda theta: (theta, 100.0 - (theta - 3.0) ** 2)
    result = run_em(e_step, contraction()[1], 1.0, max_iter=100, tol=1e-6)
    gains = np.diff(result.objective)
    assert result.converged
    assert gains[-1] < 1e-6 * abs(result.objective[-1])
    assert np.all(gains[:-1] >= 1e-6 * np.abs(result.objective[1:-1]))


def test_stopping_rule_is_absolute_below_one():
    # L_t = -theta_t^2 with theta halving from 1: |L_t| < 1 after the start, so the rule is gain_t = 3 |L_t| < tol
    e_step, m_step = contraction(rate=0.5, target=0.0)
    result = run_em(e_step, m_step, 1.0, max_iter=30, tol=1e-3)
    gains = np.diff(result.objective)
    assert result.converged and gains[-1] < 1e-3 <= gains[-2]
    assert result.n_iter == 6  # 3 / 4^t < 1e-3 first at t = 6


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


# ----------------------------------------------------------------------------------------------- a decrease never stops
# Issue 15: with the monotonicity guard off (gmm.fit with reg_covar > 0), a step that LOWERED the objective by less
# than tol * |L| was taken for convergence. The rule is now 0 <= gain < tol * max(|L|, 1), in every driver.

def sequence(values):
    """A toy run whose objective after t iterations is values[t] (the parameters are the iteration number)."""
    return (lambda t: (t, values[min(t, len(values) - 1)])), (lambda t: t + 1)


def test_run_em_does_not_call_a_decrease_convergence():
    # -100 -> -50 -> -50.004: the second gain, -0.004, is below tol |L| = 0.005 in size, but it is a decrease
    e_step, m_step = sequence([-100.0, -50.0, -50.004, -50.004 - 1e-3, -50.004 - 2e-3, -45.0, -45.0])
    result = run_em(e_step, m_step, 0, max_iter=20, tol=1e-4, check_monotone=False)
    assert result.converged and result.n_iter == 6  # the first gain in [0, tol |L|): 0 at iteration 6
    assert np.all(np.diff(result.objective)[1:4] < 0)


def test_incremental_em_does_not_call_a_decrease_convergence():
    values = [-100.0, -50.0, -50.004, -50.005, -45.0, -45.0]
    block_e_step = lambda block, t: (Total(t), 0.0)
    m_step = lambda total: total.t + 1
    expected_log_joint = lambda total, t: values[min(t, len(values) - 1)]
    result = run_incremental(block_e_step, m_step, expected_log_joint, 0, [None], max_passes=20, tol=1e-4,
                             check_monotone=False)
    assert result.converged and result.n_iter == 5


def test_squarem_does_not_call_a_decrease_convergence():
    # F(x) = x / 2 with objective -1000 + 1e-3 x: the iterates fall towards 0 and so does the objective, by less
    # than tol |L| = 0.01 a cycle. Every gain is negative: the run never converges (it used to stop at cycle 1).
    result = squarem(lambda x: (x / 2, -1000.0 + 1e-3 * x), 1.0, np.atleast_1d, lambda v: float(v[0]),
                     max_iter=5, tol=1e-5, check_monotone=False)
    assert np.all(np.diff(result.objective) < 0)
    assert not result.converged and result.n_iter == 5


@dataclasses.dataclass(frozen=True)
class Total(Stats):
    t: int


# ----------------------------------------------------------------------------------------------- an objective near 0
# Issue 15: the round-off guard ROUNDOFF * |L| and the stopping rule tol * |L| are both 0 at L = 0, so a round-off
# decrease from 0 raised and a run sitting at L = 0 never converged. Both now use max(|L|, 1): relative above 1,
# absolute (in nats) below.

def test_a_round_off_decrease_from_zero_is_not_a_bug():
    e_step, m_step = sequence([-1.0, 0.0, -2.2e-16, 0.0])
    result = run_em(e_step, m_step, 0, max_iter=3, tol=0)
    assert result.n_iter == 3
    checks.assert_monotone(result.objective)  # the checks of the assignments agree with the driver
    with pytest.raises(ObjectiveDecreasedError, match="from 0 to -1e-09"):  # a real decrease still raises
        run_em(*sequence([-1.0, 0.0, -1e-9]), 0, max_iter=2, tol=0)
    with pytest.raises(AssertionError, match="decreased at iteration 2"):
        checks.assert_monotone([-1.0, 0.0, -1e-9])


def test_a_run_at_zero_objective_converges():
    e_step, m_step = sequence([-1.0, 0.0, 0.0])
    result = run_em(e_step, m_step, 0, max_iter=50, tol=1e-8)
    assert result.converged and result.n_iter == 2
    checks.assert_converged(result.objective, tol=1e-8)
    incremental = run_incremental(lambda block, t: (Total(t), 0.0), lambda total: total.t + 1,
                                  lambda total, t: [-1.0, 0.0, 0.0][min(t, 2)], 0, [None], max_passes=50, tol=1e-8)
    assert incremental.converged and incremental.n_iter == 2


def test_squarem_near_zero_objective_converges():
    # F(x) = x/2 + x^2/10 (fixed point 0) with objective -x^2 / 1000, so |L| < 1 throughout: the gains per cycle are
    # 1e-3, 7e-6, 1.2e-10, ... and the absolute rule gain < tol stops it at cycle 3 (the relative rule gain < tol |L|
    # never fires: each gain is about |L| of the cycle before; it ran until x was exactly 0, 5 cycles)
    result = squarem(lambda x: (x / 2 + 0.1 * x**2, -1e-3 * x**2), 1.0, np.atleast_1d, lambda v: float(v[0]),
                     max_iter=50, tol=1e-8)
    assert result.converged and result.n_iter == 3


# ----------------------------------------------------------------------------------------------- a step that fails
# Issue 15: a ValueError mid-fit (a component collapsing) lost the whole fit. It is now a FitStoppedError (a
# ValueError) whose .result is the fit up to the last iteration that succeeded.

def failing_at(t_fail):
    """A contraction towards 3 whose M step refuses to produce theta >= 3 - 2^-(t_fail - 1), i.e. fails in
    iteration t_fail (from theta_0 = 1: theta_t = 3 - 2^(1 - t))."""
    def m_step(theta):
        new = 3.0 + 0.5 * (theta - 3.0)
        if new >= 3.0 - 2.0 ** (1 - t_fail):
            raise ValueError("component 0 has collapsed")
        return new
    return (lambda theta: (theta, -(theta - 3.0) ** 2)), m_step


def test_run_em_keeps_the_fit_up_to_a_failed_step():
    e_step, m_step = failing_at(4)
    with pytest.raises(FitStoppedError, match=r"^at iteration 4: component 0 has collapsed\. The fit up to "
                                              r"iteration 3 \(objective -0\.0625, converged=False\) is in "
                                              r"error\.result\.$") as info:
        run_em(e_step, m_step, 1.0, max_iter=10, tol=0)
    error = info.value
    assert isinstance(error, ValueError) and isinstance(error.__cause__, ValueError)
    result = error.result
    assert isinstance(result, EMResult) and not result.converged and result.n_iter == 3 and error.iteration == 4
    assert result.params == 2.75
    np.testing.assert_allclose(result.objective, [-4.0, -1.0, -0.25, -0.0625])
    # what the fit would have been with the same max_iter = 3
    assert tuple(run_em(e_step, m_step, 1.0, max_iter=3, tol=0)) == (2.75, pytest.approx(result.objective), False, 3)


def test_a_failure_at_the_start_has_no_result():
    def e_step(theta):
        raise ValueError("point 0 has zero density")
    with pytest.raises(ValueError, match="^point 0 has zero density$") as info:
        run_em(e_step, lambda s: s, 1.0)
    assert not isinstance(info.value, FitStoppedError)


def test_incremental_squarem_and_online_keep_the_fit_up_to_a_failed_step():
    e_step, m_step = failing_at(4)
    block_e_step = lambda block, theta: (Total(theta), 0.0)
    expected_log_joint = lambda total, theta: -(theta - 3.0) ** 2
    with pytest.raises(FitStoppedError, match=r"^at pass 4, block 0: component 0 has collapsed\. The fit up to "
                                              r"pass 3 .* is in error\.result\.$") as info:
        run_incremental(block_e_step, lambda total: m_step(total.t), expected_log_joint, 1.0, [None], tol=0)
    result = info.value.result
    assert result.n_iter == 3 and result.params == 2.75 and result.info["n_m_steps"] == 3
    np.testing.assert_allclose(result.objective, [-4.0, -1.0, -0.25, -0.0625])

    # SQUAREM on a map that fails from theta >= 3 - 2^-6 on: cycle 1 ends at 2.9375 (its extrapolation to 3 is
    # refused, the next one, eta = -1.5, accepted), where cycle 2's first EM step fails
    e_step, m_step7 = failing_at(7)
    em_map = lambda theta: (m_step7(theta), e_step(theta)[1])
    with pytest.raises(FitStoppedError, match=r"^at iteration 2: .* The fit up to iteration 1 ") as info:
        squarem(em_map, 1.0, np.atleast_1d, lambda v: float(v[0]), tol=0)
    result = info.value.result
    assert result.n_iter == 1 and result.params == 2.9375 and list(result.objective) == [-4.0, -0.00390625]
    assert list(result.info["step_lengths"]) == [-1.5] and list(result.info["evaluations"]) == [1, 5]

    calls = []

    def online_m_step(s):  # the 4th M step (pass 4: one mini-batch a pass) fails
        calls.append(s)
        if len(calls) == 4:
            raise ValueError("component 0 has collapsed")
        return float(len(calls))
    with pytest.raises(FitStoppedError, match=r"^at pass 4, step 4: .* The fit up to pass 3 ") as info:
        run_online(lambda batch, theta: (Total(theta),), online_m_step, 0.0, [[0]], lambda theta: -(theta - 3.0) ** 2,
                   n_passes=10)
    result = info.value.result
    assert result.n_iter == 3 and result.params == 3.0 and list(result.objective) == [-9.0, -4.0, -1.0, 0.0]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"max_iter": None}, TypeError, "max_iter must be a whole number >= 0"),
    ({"max_iter": "10"}, TypeError, "max_iter must be a whole number >= 0"),
    ({"max_iter": 2.5}, ValueError, "max_iter must be a whole number >= 0"),
    ({"tol": None}, TypeError, "tol must be a number >= 0"),
    ({"tol": "1e-8"}, TypeError, "tol must be a number >= 0"),
])
def test_settings_of_the_wrong_type(kwargs, error, message):
    e_step, m_step = contraction()
    with pytest.raises(error, match=message):
        run_em(e_step, m_step, 1.0, **kwargs)
    assert run_em(e_step, m_step, 1.0, max_iter=np.int64(3), tol=0).n_iter == 3
