"""Decoding time of emlib against hmmlearn, side by side in one process: Viterbi and the state posteriors.

Viterbi: ``hmm.viterbi(x, params)`` against ``CategoricalHMM.decode(X, algorithm="viterbi")`` (compiled C++).
Posteriors: ``hmm.posteriors(x, params)`` (its default method, the chunked forward-backward) against
``CategoricalHMM.score_samples(X)`` with ``implementation="scaling"`` (hmmlearn's fastest). Both sides start from
the observations (each computes its own emission log-likelihoods) and the same parameters, with one BLAS thread;
each call is timed ``--repeats`` times, emlib and hmmlearn alternately, and its fastest run kept (noise only ever
adds time). "same": the same path and log p(x, z*) to 1e-9 relative (Viterbi), the same gamma to 1e-9 and
log p(x) to 1e-9 relative (posteriors).

    python benchmarks/viterbi_speed.py [--repeats 7] [--sizes 100000 1000000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from emlib import hmm

#: The occasionally dishonest casino (Durbin et al. 1998): K = 2 states, 6 symbols.
CASINO = hmm.HMMParams([0.5, 0.5], [[0.95, 0.05], [0.10, 0.90]],
                       hmm.Categorical([[1 / 6] * 6, [0.1] * 5 + [0.5]]))


def sticky_hmm(K: int, M: int = 6, seed: int = 0) -> hmm.HMMParams:
    """K states that stay with probability about 0.9, random emissions over M symbols."""
    rng = np.random.default_rng(seed)
    A = 0.9 * np.eye(K) + 0.1 * rng.dirichlet(np.ones(K), size=K)
    return hmm.HMMParams(np.full(K, 1 / K), A, hmm.Categorical(rng.dirichlet(np.ones(M), size=K)))


MODELS = {"K = 2 (casino)": CASINO, "K = 3": sticky_hmm(3), "K = 4": sticky_hmm(4)}


def hmmlearn_model(params: hmm.HMMParams):
    from hmmlearn.hmm import CategoricalHMM

    model = CategoricalHMM(n_components=params.n_states, init_params="", params="",
                           n_features=params.emission.probs.shape[1], implementation="scaling")
    model.startprob_, model.transmat_, model.emissionprob_ = params.start, params.transition, params.emission.probs
    return model


def fastest(calls, repeats: int) -> list[float]:
    """The fastest of ``repeats`` runs of each call, the calls taking turns within every repeat."""
    best = [np.inf] * len(calls)
    for _ in range(repeats):
        for i, call in enumerate(calls):
            t = time.perf_counter()
            call()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def viterbi_case(params, x, repeats):
    model, X = hmmlearn_model(params), x.reshape(-1, 1)
    (path, log_p), (h_log_p, h_path) = hmm.viterbi(x, params), model.decode(X, algorithm="viterbi")
    same = bool(np.array_equal(path, h_path) and abs(log_p - h_log_p) <= 1e-9 * abs(h_log_p))
    e, h = fastest([lambda: hmm.viterbi(x, params), lambda: model.decode(X, algorithm="viterbi")], repeats)
    return e, h, same


def posteriors_case(params, x, repeats):
    model, X = hmmlearn_model(params), x.reshape(-1, 1)
    post, (h_log_p, h_gamma) = hmm.posteriors(x, params), model.score_samples(X)
    same = bool(np.abs(post.gamma - h_gamma).max() <= 1e-9
                and abs(post.log_likelihood - h_log_p) <= 1e-9 * abs(h_log_p))
    e, h = fastest([lambda: hmm.posteriors(x, params), lambda: model.score_samples(X)], repeats)
    return e, h, same


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rows = []
    with threadpool_limits(limits=1):
        print(f"{'case':<40} {'emlib ms':>10} {'hmmlearn ms':>12} {'ratio':>7} {'same':>6}")
        for name, params in MODELS.items():
            for T in args.sizes:
                x = hmm.sample(params, T, rng=T)[0]
                cases = [("Viterbi", viterbi_case)]
                if T == max(args.sizes):
                    cases.append(("posteriors", posteriors_case))
                for what, case in cases:
                    e, h, same = case(params, x, args.repeats)
                    label = f"{what}, {name}, T = {T:,}"
                    print(f"{label:<40} {1e3 * e:>10.2f} {1e3 * h:>12.2f} {e / h:>7.3f} {str(same):>6}")
                    rows.append(dict(case=label, emlib=e, hmmlearn=h, ratio=e / h, same=same))
    return rows


if __name__ == "__main__":
    main()
