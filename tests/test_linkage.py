from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import multinomial

from emlib.datasets import genetic_linkage
from emlib.em import ROUNDOFF
from emlib.linkage import (
    LinkageStats, cell_probabilities, complete_information, e_step, fit, log_likelihood, m_step,
    lower_bound, missing_information_fraction, mle, observed_information, score, validate_counts,
    validate_theta,
)

Y = genetic_linkage()

# DLR = Dempster, Laird and Rubin (1977), "Maximum likelihood from incomplete data via the EM
# algorithm", JRSS B 39(1), 1-38.
# Table 1, column theta^(p), p = 0..8, from theta^(0) = 0.5:
DLR_ITERATES = [0.500000000, 0.608247423, 0.624321051, 0.626488879, 0.626777323,
                0.626815632, 0.626820719, 0.626821395, 0.626821484]
# Table 1, last column (theta^(p+1) - theta*) / (theta^(p) - theta*), p = 0..6:
DLR_RATIOS = [0.1465, 0.1346, 0.1330, 0.1328, 0.1328, 0.1328, 0.1328]
# Section 1: theta* = .6268214980
DLR_THETA_STAR = 0.6268214980
# The positive root of 197 t^2 - 15 t - 68 = 0, i.e. (15 + sqrt(53809)) / 394, to 19 digits
# (Python's decimal module at 40 digits).
THETA_STAR = 0.6268214978709824142


def em_iterates(counts, theta0, n):
    """theta_0, ..., theta_n with theta_{p+1} = m_step(e_step(counts, theta_p))."""
    thetas = [theta0]
    for _ in range(n):
        stats, _ = e_step(counts, thetas[-1])
        thetas.append(m_step(stats))
    return np.array(thetas)


def exact_iterates(n):
    """The same iterates in exact rational arithmetic, straight from the formulas of DLR Section 1."""
    y1, y2, y3, y4 = 125, 18, 20, 34
    theta = Fraction(1, 2)
    thetas = [theta]
    for _ in range(n):
        x2 = y1 * (theta / 4) / (Fraction(1, 2) + theta / 4)
        theta = (x2 + y4) / (x2 + y2 + y3 + y4)
        thetas.append(theta)
    return thetas


# ---------------------------------------------------------------------------------------------
# The MLE


def test_mle_is_the_root_of_the_dlr_quadratic():
    # n = 197, y1 - 2 y2 - 2 y3 - y4 = 125 - 36 - 40 - 34 = 15, 2 y4 = 68: 197 t^2 - 15 t - 68 = 0
    t = mle(Y)
    assert t == pytest.approx((15 + np.sqrt(53809)) / 394, abs=1e-15)
    assert t == pytest.approx(THETA_STAR, abs=1e-15)
    assert 197 * t**2 - 15 * t - 68 == pytest.approx(0, abs=1e-12)


def test_mle_agrees_with_dlr_theta_star():
    # DLR print theta* = .6268214980, but the root is 0.62682149787..., which rounds to .6268214979 at
    # ten decimals: DLR's last digit is one unit high. The first nine decimals agree.
    assert round(mle(Y), 9) == round(DLR_THETA_STAR, 9) == 0.626821498
    assert abs(mle(Y) - DLR_THETA_STAR) < 2e-10


@pytest.mark.parametrize("counts", [
    [125, 18, 20, 34], [1, 100, 100, 1], [3, 7, 2, 9], [100, 5, 5, 0], [0, 1, 0, 1], [1000, 1, 0, 1],
])
def test_mle_maximizes_the_log_likelihood(counts):
    t = mle(counts)
    y1, y2, y3, y4 = counts
    assert sum(counts) * t**2 - (y1 - 2 * y2 - 2 * y3 - y4) * t - 2 * y4 == pytest.approx(0, abs=1e-9)
    grid = np.linspace(1e-3, 1 - 1e-3, 999)
    assert 0 < t < 1
    assert log_likelihood(counts, t) >= max(log_likelihood(counts, s) for s in grid) - 1e-12


def test_mle_is_accurate_when_b_is_negative():
    # b = 3 - 2 (123456789 + 98765432) - 1 < 0 and 8 n y4 << b^2: the textbook (b + sqrt(.)) / (2 n)
    # loses 8 digits to cancellation (relative error ~1e-8). Reference: the same root evaluated with
    # Python's decimal module at 50 digits.
    assert mle([3, 123456789, 98765432, 1]) == pytest.approx(4.500000034875e-09, rel=1e-13)


def test_mle_on_the_boundary():
    # y4 = 0 and b = y1 - 2 y2 - 2 y3 - y4 = 10 - 20 < 0: the score is negative on (0, 1), so theta* = 0.
    assert mle([10, 5, 5, 0]) == 0
    # y2 = y3 = 0: the score is positive on (0, 1), so theta* = 1.
    assert mle([10, 0, 0, 5]) == pytest.approx(1, abs=1e-15)
    with pytest.raises(ValueError, match="boundary"):
        missing_information_fraction([10, 5, 5, 0])


# ---------------------------------------------------------------------------------------------
# The EM iterates: DLR Table 1


def test_first_iterate_is_59_over_97():
    # From theta = 1/2: x2 = 125 (1/8) / (1/2 + 1/8) = 25, theta_1 = (25 + 34) / (25 + 18 + 20 + 34) = 59/97.
    stats, _ = e_step(Y, 0.5)
    assert stats == LinkageStats(theta_count=25 + 34, one_minus_theta_count=18 + 20)
    assert m_step(stats) == 59 / 97
    assert exact_iterates(1)[1] == Fraction(59, 97)


def test_iterates_match_exact_rational_arithmetic():
    thetas = em_iterates(Y, 0.5, 8)
    np.testing.assert_allclose(thetas, [float(t) for t in exact_iterates(8)], rtol=0, atol=1e-15)


def test_iterates_reproduce_dlr_table_1():
    # To one unit in the ninth decimal, not half a unit: DLR's printed theta^(2), theta^(4) and
    # theta^(7) are one unit high. The exact iterates (test above) are 0.62432105037,
    # 0.62677732235 and 0.62682139446, which round to .624321050, .626777322 and .626821394.
    thetas = em_iterates(Y, 0.5, 8)
    np.testing.assert_allclose(thetas, DLR_ITERATES, rtol=0, atol=1e-9)
    # The other six entries agree with DLR to the printed digits.
    others = [0, 1, 3, 5, 6, 8]
    np.testing.assert_allclose(thetas[others], np.array(DLR_ITERATES)[others], rtol=0, atol=5e-10)


def test_fit_after_eight_iterations_is_the_eighth_iterate():
    result = fit(Y, 0.5, max_iter=8, tol=0)
    assert result.n_iter == 8 and not result.converged
    assert result.params == em_iterates(Y, 0.5, 8)[8]
    # objective[t] is the log-likelihood at theta_t
    np.testing.assert_allclose(result.objective, [log_likelihood(Y, t) for t in em_iterates(Y, 0.5, 8)], rtol=1e-15)


def test_error_ratios_reproduce_dlr_table_1():
    thetas = em_iterates(Y, 0.5, 8)
    ratios = (thetas[1:] - THETA_STAR) / (thetas[:-1] - THETA_STAR)
    np.testing.assert_allclose(ratios[:7], DLR_RATIOS, rtol=0, atol=5e-5)
    np.testing.assert_allclose(ratios[3:], 0.1328, rtol=0, atol=5e-5)


def test_rate_is_the_fraction_of_missing_information():
    # DLR Section 3: the linear rate of EM is 1 - I_obs / I_c at theta*; DLR Table 1 gives 0.1328.
    rate = missing_information_fraction(Y)
    assert rate == pytest.approx(0.1328, abs=5e-5)
    thetas = em_iterates(Y, 0.5, 8)
    p = 6
    assert (thetas[p + 1] - THETA_STAR) / (thetas[p] - THETA_STAR) == pytest.approx(rate, abs=1e-4)
    # ... and the derivative of the EM map theta -> m_step(e_step(theta)) at theta*.
    em_map = lambda t: m_step(e_step(Y, t)[0])
    h = 1e-6
    assert (em_map(THETA_STAR + h) - em_map(THETA_STAR - h)) / (2 * h) == pytest.approx(rate, abs=1e-7)


# ---------------------------------------------------------------------------------------------
# Log-likelihood and information


@pytest.mark.parametrize("theta", [0.1, 0.5, THETA_STAR, 0.9])
def test_log_likelihood_is_the_multinomial_log_pmf(theta):
    # With the multinomial coefficient 197! / (125! 18! 20! 34!): scipy's multinomial.logpmf.
    expected = multinomial.logpmf(Y, n=197, p=cell_probabilities(theta))
    assert log_likelihood(Y, theta) == pytest.approx(expected, rel=1e-12)
    assert cell_probabilities(theta).sum() == pytest.approx(1, abs=1e-15)


@pytest.mark.parametrize("theta", [0.2, THETA_STAR, 0.8])
def test_observed_information_is_minus_the_second_derivative(theta):
    h = 1e-4
    second = (log_likelihood(Y, theta + h) - 2 * log_likelihood(Y, theta) + log_likelihood(Y, theta - h)) / h**2
    assert observed_information(Y, theta) == pytest.approx(-second, rel=1e-5)


@pytest.mark.parametrize("theta", [0.2, THETA_STAR, 0.8])
def test_complete_information_is_minus_the_second_derivative_of_q(theta):
    stats, _ = e_step(Y, theta)
    Q = lambda t: stats.theta_count * np.log(t) + stats.one_minus_theta_count * np.log(1 - t)
    h = 1e-4
    second = (Q(theta + h) - 2 * Q(theta) + Q(theta - h)) / h**2
    assert complete_information(Y, theta) == pytest.approx(-second, rel=1e-5)
    # The missing information I_c - I_obs = Var(x2 | y) / theta^2 = 2 y1 / (theta (2 + theta)^2).
    missing = complete_information(Y, theta) - observed_information(Y, theta)
    assert missing == pytest.approx(2 * 125 / (theta * (2 + theta) ** 2), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# fit


@pytest.mark.parametrize("theta0", [0.5, 0.05, 0.95])
def test_fit_never_decreases_the_log_likelihood_and_converges_to_the_mle(theta0):
    result = fit(Y, theta0, max_iter=40, tol=0)
    gains = np.diff(result.objective)
    assert np.all(gains[:5] > 0)  # far above round-off while theta moves
    assert np.all(gains >= -ROUNDOFF * np.abs(result.objective[:-1]))
    assert result.params == pytest.approx(mle(Y), abs=1e-10)
    assert result.objective[-1] == pytest.approx(log_likelihood(Y, mle(Y)), abs=1e-12)


def test_fit_with_default_stopping_rule():
    # The relative gain of the log-likelihood is ~ I_obs (theta - theta*)^2 / (2 |L|): tol = 1e-12
    # stops within about 1e-7 of theta*, not at machine precision.
    result = fit(Y)
    assert result.converged and result.n_iter < 20
    assert result.params == pytest.approx(mle(Y), abs=1e-7)


def test_statistics_add_over_data():
    # The expected complete-data statistics are linear in the counts.
    a, b = np.array([60, 10, 5, 20]), np.array([65, 8, 15, 14])
    whole, _ = e_step(a + b, 0.3)
    parts = e_step(a, 0.3)[0] + e_step(b, 0.3)[0]
    assert parts.theta_count == pytest.approx(whole.theta_count, rel=1e-15)
    assert parts.one_minus_theta_count == whole.one_minus_theta_count


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("counts, message", [
    ([125, 18, 20], "length 4"),
    ([[125, 18], [20, 34]], "length 4"),
    ([125, -18, 20, 34], "non-negative"),
    ([125, np.nan, 20, 34], "finite"),
    ([125, 18, np.inf, 34], "finite"),
    ([125, 18.5, 20, 34], "whole numbers"),
    ([0, 0, 0, 0], "all zero"),
    (["a", 18, 20, 34], "numbers"),
])
def test_bad_counts_are_rejected(counts, message):
    with pytest.raises(ValueError, match=message) as error:
        validate_counts(counts)
    assert "125, 18, 20, 34" in str(error.value)  # the message says what to pass
    for function in (lambda: fit(counts), lambda: mle(counts), lambda: log_likelihood(counts, 0.5)):
        with pytest.raises(ValueError, match=message):
            function()


@pytest.mark.parametrize("theta", [0.0, 1.0, -0.1, 1.5, np.nan, [0.5], "half", None])
def test_bad_theta_is_rejected(theta):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        validate_theta(theta)
    for function in (lambda: fit(Y, theta), lambda: e_step(Y, theta), lambda: log_likelihood(Y, theta),
                     lambda: observed_information(Y, theta)):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            function()


def test_good_input_is_accepted_as_floats():
    np.testing.assert_array_equal(validate_counts((125.0, 18, 20, 34)), [125, 18, 20, 34])
    assert validate_theta(np.float32(0.25)) == 0.25


# ---------------------------------------------------------------------------------------------
# The score and EM's lower bound


@pytest.mark.parametrize("theta", [0.1, 0.5, THETA_STAR, 0.9])
def test_score_is_the_derivative_of_the_log_likelihood(theta):
    h = 1e-6
    slope = (log_likelihood(Y, theta + h) - log_likelihood(Y, theta - h)) / (2 * h)
    assert score(Y, theta) == pytest.approx(slope, rel=1e-7, abs=1e-6)
    assert score(Y, THETA_STAR) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("theta_t", [0.05, 0.3, THETA_STAR, 0.95])
def test_lower_bound_touches_the_log_likelihood_from_below(theta_t):
    grid = np.linspace(0.001, 0.999, 999)
    bound = lower_bound(Y, theta_t, grid)
    log_l = np.array([log_likelihood(Y, t) for t in grid])
    # The gap is KL(Binomial(y1, pi_t) || Binomial(y1, pi)), pi = theta / (2 + theta): P(x2 | y, theta).
    pi_t, pi = theta_t / (2 + theta_t), grid / (2 + grid)
    kl = Y[0] * (pi_t * np.log(pi_t / pi) + (1 - pi_t) * np.log((1 - pi_t) / (1 - pi)))
    np.testing.assert_allclose(log_l - bound, kl, rtol=1e-9, atol=1e-9)
    assert lower_bound(Y, theta_t, theta_t) == pytest.approx(log_likelihood(Y, theta_t), abs=1e-12)


def test_m_step_maximizes_the_lower_bound():
    theta_next = m_step(e_step(Y, 0.3)[0])
    grid = np.linspace(0.001, 0.999, 9999)
    assert lower_bound(Y, 0.3, theta_next) >= lower_bound(Y, 0.3, grid).max()
    with pytest.raises(ValueError, match="strictly between"):
        lower_bound(Y, 0.3, [0.5, 1.0])
