"""SQUAREM (Varadhan and Roland 2008, scheme S3) around an EM map: exact cases, the safeguard, the speed-up.

Golden numbers: closed forms derived in comments (a linear map, the DLR MLE), or plain EM in the same test.
"""
from functools import partial

import numpy as np
import pytest

from emlib import datasets, gaussian, gmm, linkage
from emlib.em import EMResult, ObjectiveDecreasedError, run_em, squarem


def gmm_em_map(X):
    F = gaussian.features(np.asarray(X, dtype=float).reshape(len(X), -1))

    def em_map(params):
        stats, value = gmm.e_step(F, params)
        return gmm.m_step(stats), value
    return em_map


def counted(em_map):
    calls = []

    def wrapper(params):
        calls.append(params)
        return em_map(params)
    return wrapper, calls


def test_a_linear_scalar_map_is_solved_in_one_cycle():
    # F(theta) = 3 + (theta - 3)/2 from theta_0 = 1: r = 1, v = -1/2, alpha = -|r|/|v| = -2,
    # theta' = 1 - 2(-2)(1) + 4(-1/2) = 3, the fixed point; then theta_1 = theta_0 ends the run (4 map calls).
    em_map, calls = counted(lambda t: (3 + 0.5 * (t - 3), -(t - 3) ** 2))
    result = squarem(em_map, 1.0, np.atleast_1d, lambda v: float(v[0]), tol=0)
    assert isinstance(result, EMResult)
    assert result.params == 3.0 and list(result.objective) == [-4.0, 0.0] and result.converged
    assert result.info["n_evaluations"] == len(calls) == 4 and list(result.info["step_lengths"]) == [-2.0]


def test_when_every_extrapolation_is_invalid_a_cycle_is_three_em_steps():
    # from_vector refuses everything: each cycle falls back to theta' = theta_2 and the stabilising step, so
    # cycle t ends at EM's iterate 3t, with 1 + 3t map calls and no evaluation spent on the refused vectors.
    X = datasets.old_faithful()
    start = gmm.initial_params(X, 2, rng=0)

    def refuse(vector):
        raise ValueError("not a valid parameter")
    result = squarem(gmm_em_map(X), start, gmm.params_to_vector, refuse, max_iter=6, tol=0, max_backtracks=2)
    em = gmm.fit(X, start, max_iter=18, tol=0)
    np.testing.assert_array_equal(result.objective, em.objective[::3])
    for a, b in zip(result.params, em.params):
        np.testing.assert_array_equal(a, b)
    assert result.info["n_evaluations"] == 1 + 3 * 6
    assert result.info["n_backtracks"] == result.info["n_invalid"] > 0
    assert np.all(result.info["step_lengths"] == -1.0)


def test_a_map_that_lowers_the_objective_is_reported():
    # r = 1, v = 0: alpha = -1, the plain steps 1 -> 2 -> 3 -> 4 with objective -theta: it went down
    with pytest.raises(ObjectiveDecreasedError, match=r"decreased in SQUAREM cycle 1, from -1 to -4"):
        squarem(lambda t: (t + 1.0, -t), 1.0, np.atleast_1d, lambda v: float(v[0]), max_iter=3, tol=0)


def slow_problem():
    """Two unit-variance Gaussians two standard deviations apart, 500 points: heavy overlap, EM crawls."""
    truth = gmm.GMMParams([0.4, 0.6], [[0.0], [2.0]], [[[1.0]], [[1.0]]])
    X, _ = gmm.sample(truth, 500, rng=3)
    return X, gmm.GMMParams([0.5, 0.5], [[-1.0], [3.0]], [[[1.0]], [[1.0]]])


def test_squarem_reaches_the_em_optimum_with_far_fewer_evaluations_on_a_slow_problem():
    X, start = slow_problem()
    em_map = gmm_em_map(X)
    # plain EM, iterate by iterate, to its fixed point
    params, vectors, objective = start, [gmm.params_to_vector(start)], []
    for _ in range(6000):
        params, value = em_map(params)
        vectors.append(gmm.params_to_vector(params))
        objective.append(value)
        if np.abs(vectors[-1] - vectors[-2]).max() < 1e-14:
            break
    vectors, objective = np.array(vectors), np.array(objective)
    best_params, best = vectors[-1], objective[-1]
    assert np.abs(vectors[-1] - vectors[-2]).max() < 1e-14        # a fixed point of the EM map
    # the problem is slow: EM's linear rate (the largest fraction of missing information) is near one
    steps = np.linalg.norm(np.diff(vectors, axis=0), axis=1)
    rate = steps[1001] / steps[1000]
    assert rate > 0.99                                              # observed: 0.995
    # EM's cost to get within 1e-6 (parameters) and 1e-9 relative (objective) of its own optimum: t maps to
    # reach theta_t, and one more E step to know L(theta_t)
    close = (np.abs(vectors[:-1] - best_params).max(axis=1) < 1e-6) & (np.abs(objective - best) <= 1e-9 * abs(best))
    em_evaluations = int(np.argmax(close)) + 1
    assert em_evaluations > 2000                                    # observed: 2470

    result = squarem(em_map, start, gmm.params_to_vector, partial(gmm.params_from_vector, K=2, D=1),
                     max_iter=100, tol=0)
    np.testing.assert_allclose(gmm.params_to_vector(result.params), best_params, rtol=0, atol=1e-6)
    assert result.objective[-1] == pytest.approx(best, rel=1e-9, abs=0)
    assert result.info["n_evaluations"] < em_evaluations / 5        # observed: about 340 against 2470
    assert np.all(np.diff(result.objective) >= -1e-12 * abs(best))  # monotone by construction
    assert result.info["n_backtracks"] > 0                          # the safeguard did work here
    # the same through the model's wrapper, with its relative-gain stopping rule
    fitted = gmm.fit_squarem(X, start, max_iter=100, tol=0)
    np.testing.assert_array_equal(fitted.objective, result.objective)


def test_squarem_on_the_genetic_linkage_example():
    # EM's rate there is r = 0.1328 (DLR Section 3), already fast, so the gain is smaller than on a slow mixture;
    # in one dimension S3 is Aitken's extrapolation, and the error falls from 4e-5 to 3e-12 in the second cycle.
    y = datasets.genetic_linkage()
    theta_star = linkage.mle(y)

    def em_map(theta):
        stats, value = linkage.e_step(y, theta)
        return linkage.m_step(stats), value

    from_vector = lambda v: linkage.validate_theta(v[0])  # noqa: E731 (ValueError outside (0, 1))
    em_thetas = [0.5]
    for _ in range(40):
        em_thetas.append(em_map(em_thetas[-1])[0])
    em_errors = np.abs(np.array(em_thetas) - theta_star)
    two_cycles = squarem(em_map, 0.5, np.atleast_1d, from_vector, max_iter=2, tol=0)
    cost = two_cycles.info["evaluations"][-1]
    assert cost == 7 and abs(two_cycles.params - theta_star) < 1e-11       # observed: 3.2e-12
    # EM after the same 7 evaluations (theta_6, and the E step that gives L(theta_6)) is still 7.8e-7 away,
    # and needs 12 evaluations to get within 1e-10 (14 for 1e-12)
    assert em_errors[cost - 1] > 1e-7
    assert int(np.argmax(em_errors < 1e-10)) + 1 >= 12
    # run to the end: theta* itself (to the last bit), with a monotone objective matching EM's optimum
    result = squarem(em_map, 0.5, np.atleast_1d, from_vector, max_iter=20, tol=0)
    assert result.converged and result.params == pytest.approx(theta_star, abs=1e-15)
    assert np.all(np.diff(result.objective) >= 0)
    em = run_em(partial(linkage.e_step, y), linkage.m_step, 0.5, max_iter=40, tol=0)
    assert result.objective[-1] == pytest.approx(em.objective[-1], rel=1e-14)


def test_vector_maps_round_trip_and_refuse_invalid_parameters(rng):
    params = datasets.random_mixture(3, 2, rng=rng)
    back = gmm.params_from_vector(gmm.params_to_vector(params), 3, 2)
    for a, b in zip(back, params):
        np.testing.assert_array_equal(a, b)
    vector = gmm.params_to_vector(params)
    negative = vector.copy()
    negative[:3] = [1.2, -0.1, -0.1]
    with pytest.raises(ValueError, match="weights must be positive"):
        gmm.params_from_vector(negative, 3, 2)
    indefinite = vector.copy()
    indefinite[3 + 6 : 3 + 10] = [1.0, 2.0, 2.0, 1.0]  # covariance 0 = [[1, 2], [2, 1]], eigenvalues 3 and -1
    with pytest.raises(ValueError, match="not positive definite"):
        gmm.params_from_vector(indefinite, 3, 2)
    with pytest.raises(ValueError, match="length K \\+ K D \\+ K D\\^2 = 21"):
        gmm.params_from_vector(vector[:-1], 3, 2)


@pytest.mark.parametrize("kwargs, message", [(dict(max_iter=-1), "max_iter"), (dict(tol=-1.0), "tol"),
                                             (dict(max_backtracks=-1), "max_backtracks")])
def test_squarem_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        squarem(lambda t: (t, 0.0), 1.0, np.atleast_1d, lambda v: float(v[0]), **kwargs)
