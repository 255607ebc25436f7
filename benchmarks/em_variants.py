"""Incremental, online and accelerated EM against batch EM: passes over the data, EM-map evaluations, time.

Part 1, passes to the optimum. N points from a 4-component mixture in D = 2 (``datasets.random_mixture(4, 2,
spread=2.5, rng=7)``, overlapping components), one k-means++ start (``gmm.initial_params(X, 4, rng=0)``) for every
method. The optimum L* is batch EM's log-likelihood after a long run (tol 1e-13). For each method: the first pass
after which the objective is within 1e-3 and 1e-5 nats per point of L* (batch: L; incremental: the free energy F,
a lower bound on L of the same parameters; online: L of the parameters after the pass), and the time of one pass.

Part 2, SQUAREM on a slowly converging problem: 500 points from 0.4 N(0, 1) + 0.6 N(2, 1), start
(1/2, 1/2; -1, 3; 1, 1) (``tests/test_squarem.py``'s problem; EM's linear rate there is about 0.995). Plain EM and
SQUAREM run until within 1e-6 of the fixed point in every parameter; reported: iterations (SQUAREM: cycles),
EM-map evaluations (one E step and one M step each, including the one that evaluates the final objective) and
wall time (best of 3).

    python benchmarks/em_variants.py [--n 100000]
"""
from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
from threadpoolctl import threadpool_limits

from emlib import datasets, gaussian, gmm
from emlib.em import squarem


def first_within(objective, best, n, gap):
    hits = np.flatnonzero(objective >= best - gap * n)
    return int(hits[0]) if len(hits) else None


def passes_to_optimum(n: int, max_passes: int) -> list[dict]:
    truth = datasets.random_mixture(4, 2, spread=2.5, rng=7)
    X, _ = gmm.sample(truth, n, rng=8)
    start = gmm.initial_params(X, 4, rng=0)
    best = gmm.fit(X, start, max_iter=5000, tol=1e-13).objective[-1]
    runs = {
        "batch EM": lambda: gmm.fit(X, start, max_iter=max_passes, tol=0),
        "incremental, 10 blocks": lambda: gmm.fit_incremental(X, start, 10, max_passes=max_passes, tol=0),
        "incremental, 100 blocks": lambda: gmm.fit_incremental(X, start, 100, max_passes=max_passes, tol=0),
        "online, batches of 1000, alpha 0.6": lambda: gmm.fit_online(X, start, batch_size=1000, n_passes=max_passes),
        "online, batches of 1000, alpha 0.6, averaged after pass 1":
            lambda: gmm.fit_online(X, start, batch_size=1000, n_passes=max_passes, average_after=-(-n // 1000)),
    }
    rows = []
    for name, run in runs.items():
        t = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - t
        rows.append(dict(method=name, to_1e3=first_within(result.objective, best, n, 1e-3),
                         to_1e5=first_within(result.objective, best, n, 1e-5), seconds_per_pass=seconds / result.n_iter,
                         final_gap=(best - result.objective[-1]) / n))
    return rows


def slow_problem():
    truth = gmm.GMMParams([0.4, 0.6], [[0.0], [2.0]], [[[1.0]], [[1.0]]])
    X, _ = gmm.sample(truth, 500, rng=3)
    return X, gmm.GMMParams([0.5, 0.5], [[-1.0], [3.0]], [[[1.0]], [[1.0]]])


def squarem_against_em(repeats: int) -> list[dict]:
    X, start = slow_problem()
    F = gaussian.features(X)

    def em_map(params):
        stats, value = gmm.e_step(F, params)
        return gmm.m_step(stats), value

    # the fixed point, and how many EM iterations reach 1e-6 of it
    params, vectors = start, [gmm.params_to_vector(start)]
    while len(vectors) < 20000:
        params = em_map(params)[0]
        vectors.append(gmm.params_to_vector(params))
        if np.abs(vectors[-1] - vectors[-2]).max() < 1e-14:
            break
    vectors = np.array(vectors)
    fixed = vectors[-1]
    em_iterations = int(np.argmax(np.abs(vectors - fixed).max(axis=1) < 1e-6))
    cycles = next(c for c in range(1, 500) if np.abs(gmm.params_to_vector(squarem(
        em_map, start, gmm.params_to_vector, partial(gmm.params_from_vector, K=2, D=1), max_iter=c, tol=0
    ).params) - fixed).max() < 1e-6)

    def time_it(run):
        best, result = np.inf, None
        for _ in range(repeats):
            t = time.perf_counter()
            result = run()
            best = min(best, time.perf_counter() - t)
        return best, result

    em_seconds, em = time_it(lambda: gmm.fit(X, start, max_iter=em_iterations, tol=0))
    sq_seconds, sq = time_it(lambda: gmm.fit_squarem(X, start, max_iter=cycles, tol=0))
    return [dict(method="EM", iterations=em_iterations, evaluations=em_iterations + 1, seconds=em_seconds,
                 objective=em.objective[-1]),
            dict(method="SQUAREM (S3)", iterations=cycles, evaluations=int(sq.info["n_evaluations"]), seconds=sq_seconds,
                 objective=sq.objective[-1], backtracks=sq.info["n_backtracks"])]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--max-passes", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1):
        print(f"Passes to the optimum, N = {args.n}, K = 4, D = 2")
        print(f"{'method':<58} {'to 1e-3':>8} {'to 1e-5':>8} {'s/pass':>8} {'gap after last pass':>20}")
        rows = passes_to_optimum(args.n, args.max_passes)
        for r in rows:
            print(f"{r['method']:<58} {str(r['to_1e3']):>8} {str(r['to_1e5']):>8} {r['seconds_per_pass']:>8.3f} "
                  f"{r['final_gap']:>20.3g}")
        print("\nSQUAREM against EM on the slow problem (to 1e-6 of the fixed point)")
        print(f"{'method':<14} {'iterations':>10} {'evaluations':>12} {'seconds':>8} {'objective':>20}")
        squares = squarem_against_em(args.repeats)
        for r in squares:
            print(f"{r['method']:<14} {r['iterations']:>10} {r['evaluations']:>12} {r['seconds']:>8.3f} "
                  f"{r['objective']:>20.12f}  {r.get('backtracks', '')}")
    return rows, squares


if __name__ == "__main__":
    main()
