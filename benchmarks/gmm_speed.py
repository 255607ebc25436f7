"""Per-iteration time of emlib.gmm.fit against scikit-learn's GaussianMixture, side by side in one process.

Same data, same start, same number of iterations, one BLAS thread. The time of one EM iteration is
measured by differencing: (time of a fit with n_long iterations - time with n_short) / (n_long - n_short),
so set-up costs (scikit-learn's validation, emlib's one-off feature matrix) are reported separately.

    python benchmarks/gmm_speed.py [--sizes 100000 1000000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from timing import blas_description, per_iteration

from emlib import gmm


def problem(N: int, D: int = 5, K: int = 8, seed: int = 0):
    """N points from a random K-component mixture in D dimensions, and a k-means++ start for K components."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(K, D, D))
    truth = gmm.GMMParams(rng.dirichlet(np.full(K, 5.0)), rng.normal(scale=3.0, size=(K, D)),
                          A @ A.swapaxes(1, 2) / D + 0.1 * np.eye(D))
    X, _ = gmm.sample(truth, N, rng)
    return X, gmm.initial_params(X, K, rng=1)


def time_emlib(X, start, n_iter):
    t = time.perf_counter()
    result = gmm.fit(X, start, max_iter=n_iter, tol=0)
    return time.perf_counter() - t, result.objective[-2]


def time_sklearn(X, start, n_iter):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(start.n_components, covariance_type="full", tol=0, max_iter=n_iter, reg_covar=0.0,
                            weights_init=start.weights, means_init=start.means,
                            precisions_init=np.linalg.inv(start.covariances), init_params="random_from_data")
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - t, model.lower_bounds_[-1] * len(X)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, nargs=2, default=[2, 12], metavar=("SHORT", "LONG"))
    args = parser.parse_args(argv)
    rows = []
    with threadpool_limits(limits=1):
        blas = blas_description()
        print(f"Gaussian mixture, full covariances, D = 5, K = 8; BLAS: {blas}")
        print(f"{'N':>10} {'emlib ms/iter':>14} {'sklearn ms/iter':>16} {'ratio':>7} {'emlib set-up ms':>16} {'same objective':>15}")
        for N in args.sizes:
            X, start = problem(N)
            e, e_setup, e_obj = per_iteration(time_emlib, X, start, *args.iterations, args.repeats)
            s, _, s_obj = per_iteration(time_sklearn, X, start, *args.iterations, args.repeats)
            same = abs(e_obj - s_obj) <= 1e-9 * abs(s_obj)
            print(f"{N:>10} {1e3 * e:>14.2f} {1e3 * s:>16.2f} {e / s:>7.3f} {1e3 * e_setup:>16.1f} {str(same):>15}")
            rows.append(dict(N=N, emlib=e, sklearn=s, ratio=e / s, same_objective=same))
    return rows


if __name__ == "__main__":
    main()
