"""Time of emlib.hmm.fit (Baum-Welch) against hmmlearn, side by side in one process: per iteration and end to end.

hmmlearn runs its fastest implementation (``implementation="scaling"``, compiled C++); both start from the same
parameters and run the same number of iterations with one BLAS thread. One EM iteration is timed by differencing a
long and a short fit, best of ``--repeats``; "end to end" is a whole fit of ``--whole`` iterations (5), set-up
included (emlib: checks, the grid, the features, the buffers of the first E step, and the E step after the last M
step that gives the objective of the final parameters), best of ``--repeats``, the two taking turns.

    python benchmarks/hmm_speed.py [--repeats 3] [--quick] [--whole 5]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from timing import per_iteration

from emlib import hmm


def gaussian_hmm(K: int, D: int, seed: int = 0) -> hmm.HMMParams:
    rng = np.random.default_rng(seed)
    A = 0.9 * np.eye(K) + 0.1 * rng.dirichlet(np.ones(K), size=K)
    means = np.arange(K)[:, None] * 1.5 + rng.normal(scale=0.3, size=(K, D))
    return hmm.HMMParams(np.full(K, 1 / K), A / A.sum(axis=1, keepdims=True),
                         hmm.Gaussian(means, np.broadcast_to(np.eye(D), (K, D, D))))


def problems(quick: bool):
    """(name, sequences, start): the cases of the issue."""
    rng = np.random.default_rng(1)
    out = []
    for D in (1, 2):
        truth = gaussian_hmm(4, D)
        out.append((f"1 x 100,000 steps, K = 4, D = {D}", [hmm.sample(truth, 100_000, rng)[0]], gaussian_hmm(4, D, seed=2)))
    truth = gaussian_hmm(4, 1)
    out.append(("1,000 x 100 steps, K = 4, D = 1", [hmm.sample(truth, 100, rng)[0] for _ in range(1000)],
                gaussian_hmm(4, 1, seed=2)))
    if not quick:
        out.append(("1 x 1,000,000 steps, K = 4, D = 1", [hmm.sample(truth, 1_000_000, rng)[0]], gaussian_hmm(4, 1, seed=2)))
    return out


def time_emlib(sequences, start, n_iter):
    t = time.perf_counter()
    result = hmm.fit(sequences, start, max_iter=n_iter, tol=0)
    return time.perf_counter() - t, result.objective[n_iter - 1]


def time_hmmlearn(sequences, start, n_iter):
    from hmmlearn.hmm import GaussianHMM

    e = start.emission
    model = GaussianHMM(start.n_states, covariance_type="full", init_params="", params="stmc", covars_prior=0,
                        n_iter=n_iter, tol=-np.inf, implementation="scaling")
    model.startprob_, model.transmat_, model.means_, model.covars_ = start.start, start.transition, e.means, e.covariances
    X = np.concatenate(sequences).reshape(-1, e.means.shape[1])
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, [len(s) for s in sequences])
    return time.perf_counter() - t, model.monitor_.history[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the 1,000,000-step case")
    parser.add_argument("--iterations", type=int, nargs=2, default=[2, 12], metavar=("SHORT", "LONG"))
    parser.add_argument("--whole", type=int, default=5, help="iterations of the end-to-end fit")
    args = parser.parse_args(argv)
    rows = []
    with threadpool_limits(limits=1):
        print(f"{'case':<36} {'emlib ms/iter':>14} {'hmmlearn ms/iter':>17} {'ratio':>7} {'same objective':>15} "
              f"{f'emlib ms, {args.whole} it':>16} {f'hmmlearn ms, {args.whole} it':>19} {'ratio':>7}")
        for name, sequences, start in problems(args.quick):
            e, _, e_obj = per_iteration(time_emlib, sequences, start, *args.iterations, args.repeats)
            h, _, h_obj = per_iteration(time_hmmlearn, sequences, start, *args.iterations, args.repeats)
            same = abs(e_obj - h_obj) <= 1e-9 * abs(h_obj)
            whole_e, whole_h = np.inf, np.inf
            for _ in range(args.repeats):
                whole_e = min(whole_e, time_emlib(sequences, start, args.whole)[0])
                whole_h = min(whole_h, time_hmmlearn(sequences, start, args.whole)[0])
            print(f"{name:<36} {1e3 * e:>14.2f} {1e3 * h:>17.2f} {e / h:>7.3f} {str(same):>15} "
                  f"{1e3 * whole_e:>16.2f} {1e3 * whole_h:>19.2f} {whole_e / whole_h:>7.3f}")
            rows.append(dict(case=name, emlib=e, hmmlearn=h, ratio=e / h, same_objective=same, whole_emlib=whole_e,
                             whole_hmmlearn=whole_h, whole_ratio=whole_e / whole_h))
    return rows


if __name__ == "__main__":
    main()
