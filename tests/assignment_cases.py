"""The submissions each assignment is graded against, as data: adding a mutant is adding one entry.

mutants:       real mistakes (a Mutant edits one solution cell); each must lose the points of the test meant to
               catch it, with feedback that names the mistake.
alternatives:  correct answers written differently (grade_id -> code replacing the solution's); full marks.
library:       answers that only call emlib's implementation (grade_id -> code); no points for those parts.
broken_test:   (a mistake, the test cell meant to catch it): the student also empties that test cell.
forever:       (grade_id, code) of a part that never returns; that part's test is interrupted and scores 0.
"""
from __future__ import annotations

import dataclasses

from grading import Mutant


@dataclasses.dataclass(frozen=True)
class Cases:
    mutants: list[Mutant]
    alternatives: dict[str, dict[str, str]]
    library: dict[str, str]
    broken_test: tuple[str, str]
    forever: tuple[str, str]
    kill: tuple[str, str]


A01 = Cases(
    mutants=[
        Mutant("E step without the normalising denominator", "expected_x2",
               "return y1 * (theta / 4) / (1 / 2 + theta / 4)", "return y1 * theta / 4",
               catches="test_expected_x2",
               message=r"expected_x2\(Y, 0.5\) is off: yours is 15.625, the reference 25 .*Hint: E\[x2 \| y, theta\]"),
        Mutant("M step forgets x2 in the denominator", "m_step",
               "return (x2 + y4) / (x2 + y2 + y3 + y4)", "return (x2 + y4) / (y2 + y3 + y4)",
               catches="test_m_step", message=r"m_step\(25.0, Y\) is off.*theta = \(x2 \+ y4\) / \(x2 \+ y2 \+ y3 \+ y4\)"),
        Mutant("log-likelihood without the 1/2 in the first cell", "log_likelihood",
               "1 / 2 + theta / 4, (1 - theta)", "theta / 4, (1 - theta)",
               catches="test_log_likelihood", message=r"log_likelihood\(Y, 0.6\) - log_likelihood\(Y, 0.3\) is off"),
        Mutant("stopping test the wrong way round: stops after one step", "run_em",
               "log_likelihoods[-2] < tol", "log_likelihoods[-2] > tol",
               catches="test_run_em", message=r"your loop stopped after 1 iteration\(s\), while the log-likelihood still rose"),
        Mutant("no stopping rule: runs all max_iter iterations", "run_em",
               "if log_likelihoods[-1] - log_likelihoods[-2] < tol:\n            break", "pass",
               catches="test_run_em", message=r"your loop never stopped at the rule.*ran all 1000 iterations"),
        Mutant("E step always at the starting value", "run_em",
               "m_step(expected_x2(counts, theta), counts)", "m_step(expected_x2(counts, theta0), counts)",
               catches="test_run_em", message=r"the theta run_em returns is off"),
        Mutant("the other root of the quadratic", "closed_form_mle",
               "(b + np.sqrt(b ** 2 + 8 * n * y4))", "(b - np.sqrt(b ** 2 + 8 * n * y4))",
               catches="test_closed_form_mle", message=r"closed_form_mle\(Y\) is off: yours is -0.55.*root.*in \[0, 1\]"),
    ],
    alternatives={
        "theta/(2+theta), a while loop, np.roots and scipy's multinomial": {
            "expected_x2": "def expected_x2(counts, theta):\n    y1 = float(counts[0])\n    return y1 * theta / (2.0 + theta)",
            "m_step": "def m_step(x2, counts):\n    a = x2 + counts[3]\n    b = counts[1] + counts[2]\n    return a / (a + b)",
            "log_likelihood": (
                "from scipy.stats import multinomial\n\n"
                "def log_likelihood(counts, theta):\n"
                "    p = [0.5 + theta / 4, (1 - theta) / 4, (1 - theta) / 4, theta / 4]\n"
                "    return multinomial.logpmf(counts, n=int(np.sum(counts)), p=p)"),
            "run_em": (
                "def run_em(counts, theta0, tol=1e-10, max_iter=1000):\n"
                "    history = [log_likelihood(counts, theta0)]\n"
                "    theta, t = theta0, 0\n"
                "    while t < max_iter:\n"
                "        t += 1\n"
                "        theta = m_step(expected_x2(counts, theta), counts)\n"
                "        history.append(log_likelihood(counts, theta))\n"
                "        if history[-1] - history[-2] < tol:\n"
                "            break\n"
                "    return theta, np.array(history)"),
            "closed_form_mle": (
                "def closed_form_mle(counts):\n"
                "    y1, y2, y3, y4 = counts\n"
                "    roots = np.roots([y1 + y2 + y3 + y4, -(y1 - 2 * y2 - 2 * y3 - y4), -2 * y4]).real\n"
                "    return float(roots[(roots >= -1e-12) & (roots <= 1 + 1e-12)].max())"),
        },
    },
    library={
        "expected_x2": "from emlib import linkage\n\ndef expected_x2(counts, theta):\n"
                       "    return linkage.e_step(counts, theta)[0].theta_count - counts[3]",
        "m_step": "from emlib.linkage import m_step as _m, LinkageStats\n\ndef m_step(x2, counts):\n"
                  "    return _m(LinkageStats(x2 + counts[3], counts[1] + counts[2]))",
        "log_likelihood": "def log_likelihood(counts, theta):\n    return linkage.log_likelihood(counts, theta)",
        "run_em": "def run_em(counts, theta0, tol=1e-10, max_iter=1000):\n"
                  "    result = linkage.fit(counts, theta0, tol=0, max_iter=max_iter)\n"
                  "    return result.params, result.objective",
        "closed_form_mle": "from emlib.linkage import mle as my_mle\n\ndef closed_form_mle(counts):\n"
                           "    return my_mle(counts)",
    },
    broken_test=("M step forgets x2 in the denominator", "test_m_step"),
    forever=("run_em", "def run_em(counts, theta0, tol=1e-10, max_iter=1000):\n"
                       "    theta = theta0\n    while True:\n        theta = m_step(expected_x2(counts, theta), counts)"),
    kill=("m_step", "import os\nos._exit(1)"),
)

CASES = {"a01": A01}


A02 = Cases(
    mutants=[
        Mutant("probabilities multiplied without log-sum-exp: far points underflow", "e_step",
               "    log_norm = logsumexp(log_joint, axis=1)\n    resp = np.exp(log_joint - log_norm[:, None])",
               "    joint = np.exp(log_joint)\n    resp = joint / joint.sum(axis=1, keepdims=True)\n"
               "    log_norm = np.log(joint.sum(axis=1))",
               catches="test_e_step", message=r"resp for a point far from every component has \d+ NaN.*log-sum-exp"),
        Mutant("responsibilities normalised over the points instead of the components", "e_step",
               "resp = np.exp(log_joint - log_norm[:, None])", "resp = np.exp(log_joint) / np.exp(log_joint).sum(axis=0)",
               catches="test_e_step", message=r"each row of resp should sum to 1 along axis 1.*normalise over the components"),
        Mutant("weights not normalised: N_k instead of N_k / N", "update_weights",
               "return resp.sum(axis=0) / len(resp)", "return resp.sum(axis=0)",
               catches="test_update_weights", message=r"the weights should sum to 1.*w_k = N_k / N"),
        Mutant("means not divided by N_k", "update_means",
               "return (resp.T @ X) / resp.sum(axis=0)[:, None]", "return resp.T @ X / len(X)",
               catches="test_update_means", message=r"the means is off.*mu_k = sum_n r_nk x_n / N_k"),
        Mutant("covariances about the old means", "fit_gmm",
               "        means = update_means(X, resp)\n        covariances = update_covariances(X, resp, means)",
               "        covariances = update_covariances(X, resp, means)\n        means = update_means(X, resp)",
               catches="test_fit_gmm",
               message=r"your log-likelihoods over the first iterations is off.*are the covariances computed around the new means\?"),
        Mutant("a loop that stops after one step", "fit_gmm",
               "log_likelihoods[-2] < tol", "log_likelihoods[-2] > tol",
               catches="test_fit_gmm", message=r"your loop stopped after 1 iteration\(s\)"),
        Mutant("a loop that never stops early", "fit_gmm",
               "        if log_likelihoods[-1] - log_likelihoods[-2] < tol:\n            break\n", "",
               catches="test_fit_gmm", message=r"your loop never stopped at the rule.*ran all 500 iterations"),
    ],
    alternatives={
        "Cholesky and a hand-written log-sum-exp, loops over components, a while loop": {
            "e_step": (
                "def e_step(X, weights, means, covariances):\n"
                "    N, D = X.shape\n"
                "    a = np.empty((N, len(weights)))\n"
                "    for k, (w, m, S) in enumerate(zip(weights, means, covariances)):\n"
                "        L = np.linalg.cholesky(S)\n"
                "        z = np.linalg.solve(L, (X - m).T)\n"
                "        a[:, k] = np.log(w) - 0.5 * (D * np.log(2 * np.pi) + 2 * np.log(np.diag(L)).sum() + (z ** 2).sum(axis=0))\n"
                "    top = a.max(axis=1, keepdims=True)\n"
                "    s = np.exp(a - top).sum(axis=1, keepdims=True)\n"
                "    return np.exp(a - top) / s, float((top + np.log(s)).sum())"),
            "update_weights": "def update_weights(resp):\n    N_k = np.einsum('nk->k', resp)\n    return N_k / N_k.sum()",
            "update_means": (
                "def update_means(X, resp):\n"
                "    return np.array([np.average(X, axis=0, weights=resp[:, k]) for k in range(resp.shape[1])])"),
            "update_covariances": (
                "def update_covariances(X, resp, means):\n"
                "    d = X[:, None, :] - means[None, :, :]\n"
                "    return np.einsum('nk,nki,nkj->kij', resp, d, d) / resp.sum(axis=0)[:, None, None]"),
            "fit_gmm": (
                "def fit_gmm(X, weights, means, covariances, tol=1e-6, max_iter=500):\n"
                "    resp, ll = e_step(X, weights, means, covariances)\n"
                "    history, t = [ll], 0\n"
                "    while t < max_iter:\n"
                "        t += 1\n"
                "        weights, means = update_weights(resp), update_means(X, resp)\n"
                "        covariances = update_covariances(X, resp, means)\n"
                "        resp, ll = e_step(X, weights, means, covariances)\n"
                "        gain = ll - history[-1]\n"
                "        history.append(ll)\n"
                "        if gain < tol:\n"
                "            break\n"
                "    return weights, means, covariances, history"),
        },
    },
    library={
        "e_step": "from emlib import gmm as G\n\ndef e_step(X, weights, means, covariances):\n"
                  "    p = G.GMMParams(weights, means, covariances)\n"
                  "    return G.responsibilities(X, p), G.log_likelihood(X, p)",
        "update_weights": "def update_weights(resp):\n    from emlib.gaussian import log_normalise\n"
                          "    return np.exp(log_normalise(np.log(resp.sum(axis=0))[None, :].copy())[0][0])",
        "fit_gmm": "from emlib import gmm as G\n\ndef fit_gmm(X, weights, means, covariances, tol=1e-6, max_iter=500):\n"
                   "    r = G.fit(X, G.GMMParams(weights, means, covariances), tol=0, max_iter=max_iter)\n"
                   "    return (*r.params, r.objective)",
    },
    broken_test=("weights not normalised: N_k instead of N_k / N", "test_update_weights"),
    forever=("fit_gmm", "def fit_gmm(X, weights, means, covariances, tol=1e-6, max_iter=500):\n"
                        "    lls = []\n    while True:\n        resp, ll = e_step(X, weights, means, covariances)"),
    kill=("update_weights", "import os\nos._exit(1)"),
)

CASES["a02"] = A02
