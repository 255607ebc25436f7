"""Per-iteration time of emlib.vb.fit against scikit-learn's BayesianGaussianMixture, side by side in one process.

Same data as gmm_speed (a random 8-component mixture, D = 5), the same start (the responsibilities of the
k-means++ start of gmm_speed, from which both first update q(pi, mu, Lambda)), the same default prior, the same
number of iterations, one BLAS thread. One iteration = (a long fit - a short fit) / the extra iterations.

    python benchmarks/vb_speed.py [--sizes 100000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from gmm_speed import problem
from timing import blas_description, per_iteration

from emlib import gmm, vb


def time_emlib(X, resp, n_iter):
    t = time.perf_counter()
    result = vb.fit(X, resp, max_iter=n_iter, tol=0)
    p = result.params
    return time.perf_counter() - t, (p.weight_concentration, p.means, p.covariances)


def time_sklearn(X, resp, n_iter):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    class FromResponsibilities(BayesianGaussianMixture):
        def _initialize_parameters(self, X, random_state, xp=None):
            self._initialize(X, resp)  # the hook scikit-learn's own initialisations end in

    model = FromResponsibilities(n_components=resp.shape[1], covariance_type="full",
                                 weight_concentration_prior_type="dirichlet_distribution", reg_covar=0.0, tol=0,
                                 max_iter=n_iter)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return time.perf_counter() - t, (model.weight_concentration_, model.means_, model.covariances_)


def same_posterior(a, b, rtol=1e-8) -> bool:
    return all(np.allclose(x, y, rtol=rtol, atol=rtol * np.abs(y).max()) for x, y in zip(a, b))


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, nargs=2, default=[2, 12], metavar=("SHORT", "LONG"))
    args = parser.parse_args(argv)
    rows = []
    with threadpool_limits(limits=1):
        blas = blas_description()
        print(f"Variational Bayesian Gaussian mixture, full covariances, D = 5, K = 8; BLAS: {blas}")
        print(f"{'N':>10} {'emlib ms/iter':>14} {'sklearn ms/iter':>16} {'ratio':>7} {'emlib set-up ms':>16} {'same posterior':>15}")
        for N in args.sizes:
            X, start = problem(N)
            resp = gmm.responsibilities(X, start)
            e, e_setup, e_post = per_iteration(time_emlib, X, resp, *args.iterations, args.repeats)
            s, _, s_post = per_iteration(time_sklearn, X, resp, *args.iterations, args.repeats)
            same = same_posterior(e_post, s_post)
            print(f"{N:>10} {1e3 * e:>14.2f} {1e3 * s:>16.2f} {e / s:>7.3f} {1e3 * e_setup:>16.1f} {str(same):>15}")
            rows.append(dict(N=N, emlib=e, sklearn=s, ratio=e / s, same_posterior=same))
    return rows


if __name__ == "__main__":
    main()
