"""The submissions each assignment is graded against, as data: adding a mutant is adding one entry.

mutants:       real mistakes (a Mutant edits one solution cell); each must lose the points of the test meant to
               catch it, with feedback that names the mistake.
alternatives:  correct answers written differently (grade_id -> code replacing the solution's); full marks.
library:       answers that only call emlib's implementation (grade_id -> code); no points for those parts.
broken_test:   (a mistake, the test cell meant to catch it): the student also empties that test cell.
forever:       (grade_id, code) of a part that never returns; that part's test is interrupted and scores 0.
kill:          (grade_id, code) of a cell that ends its process when it is run; and
fault:         (grade_id, code, message) of a part that ends its process when it is called. Both are in one
               submission: those parts score 0 with a message that says what happened, the others are graded.
The first alternative of each assignment also prints to stdout and stderr, warns, and has a %matplotlib line
(``with_noise``, in the part the tests call most), which must not cost a point.
"""
from __future__ import annotations

import dataclasses

from grading import Mutant


def past_the_boundary(loop: str, bound: str = "max_iter") -> Mutant:
    """The loop of ``loop`` runs one iteration past its bound; its test (max_iter = 2, a rule that never fires) says so."""
    return Mutant(f"one iteration past the boundary: range({bound} + 1)", loop,
                  f"for _ in range({bound}):", f"for _ in range({bound} + 1):",
                  catches=f"test_{loop}", message=r"your loop ran 3 iterations, more than max_iter = 2")


@dataclasses.dataclass(frozen=True)
class Cases:
    mutants: list[Mutant]
    alternatives: dict[str, dict[str, str]]
    library: dict[str, str]
    broken_test: tuple[str, str]
    forever: tuple[str, str]
    kill: tuple[str, str]
    fault: tuple[str, str, str]


def with_noise(code: str, function: str) -> str:
    """``code`` (a cell defining ``function``) as a student who debugs as they go writes it: progress on stdout and
    stderr, a warning and a numpy RuntimeWarning on every call, and notebook magics that grading must tolerate."""
    lines = code.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {function}("))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith(":"))
    noise = ["    print('working on it', flush=True)", "    print('debug: called', file=sys.stderr)",
             "    warnings.warn('a warning from my code')", "    np.log(np.zeros(1))   # RuntimeWarning: divide by zero"]
    return "\n".join(["%matplotlib inline", "import sys", "import warnings", "", *lines[:end + 1], *noise,
                      *lines[end + 1:]])


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
        past_the_boundary("run_em"),
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
    fault=("closed_form_mle", "import faulthandler\n\n\ndef closed_form_mle(counts):\n    faulthandler._read_null()",
           r"killed by signal 11 \(a segmentation fault\)"),
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
        Mutant("the log-likelihood as the log of a product of the densities: it underflows on many points", "e_step",
               "return resp, float(log_norm.sum())", "return resp, float(np.log(np.prod(np.exp(log_norm))))",
               catches="test_e_step",
               message=r"the log-likelihood of the 272 eruptions is -inf, not a finite number.*underflows to 0.*sum_n log p\(x_n\)"),
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
               message=r"your log-likelihoods over the first iterations is off.*the covariances around those new means"),
        Mutant("stale responsibilities: the M step keeps using those of the first E step", "fit_gmm",
               "        resp, ll = e_step(X, weights, means, covariances)\n        log_likelihoods.append(ll)",
               "        _, ll = e_step(X, weights, means, covariances)\n        log_likelihoods.append(ll)",
               catches="test_fit_gmm",
               message=r"your log-likelihoods over the first iterations is off.*from the responsibilities of the latest E step"),
        Mutant("a loop that stops after one step", "fit_gmm",
               "log_likelihoods[-2] < tol", "log_likelihoods[-2] > tol",
               catches="test_fit_gmm", message=r"your loop stopped after 1 iteration\(s\)"),
        Mutant("a loop that never stops early", "fit_gmm",
               "        if log_likelihoods[-1] - log_likelihoods[-2] < tol:\n            break\n", "",
               catches="test_fit_gmm", message=r"your loop never stopped at the rule.*ran all 500 iterations"),
        past_the_boundary("fit_gmm"),
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
    fault=("update_covariances", "import os\n\n\ndef update_covariances(X, resp, means):\n    os._exit(3)",
           r"ended the Python process with exit code 3"),
)

CASES["a02"] = A02


A03 = Cases(
    mutants=[
        Mutant("forward pass without scaling: a long sequence underflows", "forward",
               "    alpha_hat, scales = np.empty((T, K)), np.empty(T)\n"
               "    alpha_tilde = start * emission[:, obs[0]]\n"
               "    for t in range(T):\n"
               "        if t > 0:\n"
               "            alpha_tilde = (alpha_hat[t - 1] @ transition) * emission[:, obs[t]]\n"
               "        scales[t] = alpha_tilde.sum()\n"
               "        alpha_hat[t] = alpha_tilde / scales[t]\n"
               "    return alpha_hat, scales",
               "    alpha = np.empty((T, K))\n"
               "    alpha[0] = start * emission[:, obs[0]]\n"
               "    for t in range(1, T):\n"
               "        alpha[t] = (alpha[t - 1] @ transition) * emission[:, obs[t]]\n"
               "    totals = alpha.sum(axis=1)  # p(x_0..x_t), normalised only after the loop\n"
               "    return alpha / totals[:, None], totals / np.concatenate([[1.0], totals[:-1]])",
               catches="test_forward",
               message=r"alpha_hat for 5,000 rolls has \d+ NaN or infinite entries.*underflows.*scaling"),
        Mutant("emission indexed [symbol] instead of [:, symbol]: a raw IndexError, explained", "forward",
               "* emission[:, obs[t]]", "* emission[obs[t]]",
               catches="test_forward",
               message=r"your code raised IndexError: index 5 is out of bounds.*\(raised in your cell forward, line 7: "
                       r".*Hint: emission is \(K, M\), one row per state.*b_t = emission\[:, obs\[t\]\]"),
        Mutant("backward pass not divided by the next scale c_{t+1}", "backward",
               " / scales[t + 1]", "",
               catches="test_backward", message=r"beta_hat is off.*division by the next step's scale c_\{t\+1\}"),
        Mutant("backward pass with the transposed transition matrix", "backward",
               "transition @ (", "transition.T @ (",
               catches="test_backward", message=r"beta_hat is off.*transition @ v, not transition.T @ v"),
        Mutant("the backward loop starts at T - 1, one step past the end", "backward",
               "range(T - 2, -1, -1)", "range(T - 1, -1, -1)",
               catches="test_backward",
               message=r"your code raised IndexError: index 100 is out of bounds.*Hint: beta_hat_\{T-1\} = 1 starts "
                       r"the recursion, so the loop runs t = T-2, \.\.\., 0"),
        Mutant("transition counts off by one step: alpha_hat_t paired with b_t beta_hat_t", "expected_counts",
               "emission[:, obs[1:]].T * beta_hat[1:] / scales[1:, None]",
               "emission[:, obs[:-1]].T * beta_hat[:-1] / scales[:-1, None]",
               catches="test_expected_counts",
               message=r"xi_sum is off.*with the emission, beta_hat and scale of step t \+ 1"),
        Mutant("filtered instead of smoothed posteriors: gamma = alpha_hat", "expected_counts",
               "gamma = alpha_hat * beta_hat", "gamma = alpha_hat",
               catches="test_expected_counts", message=r"gamma is off.*later rolls included"),
        Mutant("transition matrix normalised over the columns", "m_step",
               "counts / counts.sum(axis=1, keepdims=True)", "counts / counts.sum(axis=0, keepdims=True)",
               catches="test_m_step",
               message=r"each row of the transition matrix should sum to 1 along axis 1.*normalise each row"),
        Mutant("emission matrix normalised over the states", "m_step",
               "emission /= emission.sum(axis=1, keepdims=True)", "emission /= emission.sum(axis=0, keepdims=True)",
               catches="test_m_step",
               message=r"each row of the emission matrix should sum to 1 along axis 1.*normalise over the symbols"),
        Mutant("emission counts laid out (M, K): a raw broadcasting ValueError, explained", "m_step",
               "np.zeros((len(start), n_symbols))", "np.zeros((n_symbols, len(start)))",
               catches="test_m_step",
               message=r"your code raised ValueError: operands could not be broadcast.*Hint: emission is \(K, M\).*"
                       r"its column m, emission\[:, m\], adds up gamma_t"),
        Mutant("start distribution from the first sequence only", "m_step",
               "start = np.mean([gamma[0] for gamma in gammas], axis=0)", "start = gammas[0][0]",
               catches="test_m_step", message=r"the start distribution is off.*averaged over all S sequences"),
        Mutant("start distribution not re-estimated", "baum_welch",
               "        start, transition, emission = m_step(", "        _, transition, emission = m_step(",
               catches="test_baum_welch",
               message=r"the start distribution you return is still the initial one.*re-estimates it at every iteration"),
        Mutant("log-likelihood of the last sequence instead of the total", "baum_welch",
               "return gammas, xi_sums, sum(lls)", "return gammas, xi_sums, lls[-1]",
               catches="test_baum_welch", message=r"the total over the sequences"),
        Mutant("a loop that stops after one step", "baum_welch",
               "log_likelihoods[-2] < tol", "log_likelihoods[-2] > tol",
               catches="test_baum_welch", message=r"your loop stopped after 1 iteration\(s\)"),
        Mutant("a loop that never stops early", "baum_welch",
               "        if log_likelihoods[-1] - log_likelihoods[-2] < tol:\n            break\n", "",
               catches="test_baum_welch", message=r"your loop never stopped at the rule.*ran all 500 iterations"),
        Mutant("the log-likelihood as the log of a product: it underflows on a long sequence", "expected_counts",
               "float(np.log(scales).sum())", "float(np.log(np.prod(scales)))",
               catches="test_expected_counts",
               message=r"the log-likelihood of 5,000 rolls .*add their logs, sum_t log c_t"),
        past_the_boundary("baum_welch"),
    ],
    alternatives={
        "log-space passes with np.logaddexp.reduce, xi summed step by step, np.add.at, a while loop": {
            "forward": (
                "def forward(obs, start, transition, emission):\n"
                "    with np.errstate(divide='ignore'):\n"
                "        log_A, log_B = np.log(transition), np.log(emission)\n"
                "        log_alpha = np.empty((len(obs), len(start)))\n"
                "        log_alpha[0] = np.log(start) + log_B[:, obs[0]]\n"
                "    for t in range(1, len(obs)):\n"
                "        log_alpha[t] = np.logaddexp.reduce(log_alpha[t - 1][:, None] + log_A, axis=0) + log_B[:, obs[t]]\n"
                "    log_prefix = logsumexp(log_alpha, axis=1)  # log p(x_0..x_t)\n"
                "    return np.exp(log_alpha - log_prefix[:, None]), np.exp(np.diff(log_prefix, prepend=0.0))"),
            "backward": (
                "def backward(obs, transition, emission, scales):\n"
                "    with np.errstate(divide='ignore'):\n"
                "        log_A, log_B = np.log(transition), np.log(emission)\n"
                "    T, K = len(obs), len(transition)\n"
                "    log_beta = np.zeros((T, K))\n"
                "    for t in range(T - 2, -1, -1):\n"
                "        log_beta[t] = np.logaddexp.reduce(log_A + log_B[:, obs[t + 1]] + log_beta[t + 1], axis=1)\n"
                "    # beta_hat_t = beta_t / (c_{t+1} ... c_{T-1})\n"
                "    log_c = np.log(scales)\n"
                "    later = np.append(np.cumsum(log_c[::-1])[::-1][1:], 0.0)\n"
                "    return np.exp(log_beta - later[:, None])"),
            "expected_counts": (
                "def expected_counts(obs, start, transition, emission):\n"
                "    alpha_hat, scales = forward(obs, start, transition, emission)\n"
                "    beta_hat = backward(obs, transition, emission, scales)\n"
                "    gamma = alpha_hat * beta_hat\n"
                "    gamma = gamma / gamma.sum(axis=1, keepdims=True)\n"
                "    xi_sum = np.zeros_like(transition, dtype=float)\n"
                "    for t in range(len(obs) - 1):\n"
                "        xi = np.outer(alpha_hat[t], emission[:, obs[t + 1]] * beta_hat[t + 1]) * transition\n"
                "        xi_sum += xi / scales[t + 1]\n"
                "    return gamma, xi_sum, np.sum(np.log(scales))"),
            "m_step": (
                "def m_step(sequences, gammas, xi_sums, n_symbols):\n"
                "    start = sum(g[0] for g in gammas)\n"
                "    start = start / start.sum()\n"
                "    transition = sum(xi_sums)\n"
                "    transition = transition / transition.sum(axis=1)[:, None]\n"
                "    counts = np.zeros((n_symbols, gammas[0].shape[1]))\n"
                "    for x, g in zip(sequences, gammas):\n"
                "        np.add.at(counts, np.asarray(x), g)\n"
                "    return start, transition, (counts / counts.sum(axis=0)).T"),
            "baum_welch": (
                "def baum_welch(sequences, start, transition, emission, tol=1e-6, max_iter=500):\n"
                "    M = emission.shape[1]\n"
                "    history, t = [], 0\n"
                "    while True:\n"
                "        gammas, xi_sums, ll = [], [], 0.0\n"
                "        for x in sequences:\n"
                "            g, xi, l = expected_counts(x, start, transition, emission)\n"
                "            gammas.append(g)\n"
                "            xi_sums.append(xi)\n"
                "            ll += l\n"
                "        history.append(ll)\n"
                "        if t == max_iter or (t > 0 and history[-1] - history[-2] < tol):\n"
                "            return start, transition, emission, history\n"
                "        start, transition, emission = m_step(sequences, gammas, xi_sums, M)\n"
                "        t += 1"),
        },
    },
    library={
        "forward": (
            "from emlib import hmm as H\n\n"
            "def forward(obs, start, transition, emission):\n"
            "    p = H.HMMParams(start, transition, H.Categorical(emission))\n"
            "    post = [H.posteriors(obs[:t + 1], p) for t in range(len(obs))]\n"
            "    log_p = np.array([q.log_likelihood for q in post])\n"
            "    return np.array([q.gamma[-1] for q in post]), np.exp(np.diff(log_p, prepend=0.0))"),
        "expected_counts": (
            "from emlib.hmm import posteriors as smooth, HMMParams, Categorical\n\n"
            "def expected_counts(obs, start, transition, emission):\n"
            "    post = smooth(obs, HMMParams(start, transition, Categorical(emission)))\n"
            "    return post.gamma, post.transitions, post.log_likelihood"),
        "m_step": (
            "from emlib import hmm as H\n\n"
            "def m_step(sequences, gammas, xi_sums, n_symbols):\n"
            "    counts = np.zeros((gammas[0].shape[1], n_symbols))\n"
            "    for x, g in zip(sequences, gammas):\n"
            "        for m in range(n_symbols):\n"
            "            counts[:, m] += g[x == m].sum(axis=0)\n"
            "    stats = H.HMMStats(sum(g[0] for g in gammas), sum(xi_sums), H.SymbolStats(counts), len(gammas))\n"
            "    p = H.m_step(stats)\n"
            "    return p.start, p.transition, p.emission.probs"),
        "baum_welch": (
            "from emlib import hmm as H\n\n"
            "def baum_welch(sequences, start, transition, emission, tol=1e-6, max_iter=500):\n"
            "    r = H.fit(sequences, H.HMMParams(start, transition, H.Categorical(emission)), tol=0, max_iter=max_iter)\n"
            "    return r.params.start, r.params.transition, r.params.emission.probs, r.objective"),
    },
    broken_test=("emission counts laid out (M, K): a raw broadcasting ValueError, explained", "test_m_step"),
    forever=("baum_welch", "def baum_welch(sequences, start, transition, emission, tol=1e-6, max_iter=500):\n"
                           "    while True:\n"
                           "        gammas = [expected_counts(x, start, transition, emission)[0] for x in sequences]"),
    kill=("m_step", "import os\nos._exit(1)"),
    fault=("forward", "import sys\n\n\ndef forward(obs, start, transition, emission):\n    sys.exit(4)",
           r"SystemExit: 4"),
)

CASES["a03"] = A03


A04 = Cases(
    mutants=[
        Mutant("the prior counts added twice: N_k + 2 (alpha_k - 1) in the weights", "map_weights",
               "resp.sum(axis=0) + alpha - 1", "resp.sum(axis=0) + 2 * (alpha - 1)",
               catches="test_map_weights",
               message=r"your weights, rescaled to sum to 1, is off.*alpha_k - 1 pseudo-counts, added once"),
        Mutant("weights normalised by N instead of N + sum(alpha) - K", "map_weights",
               "/ (N + alpha.sum() - K)", "/ N",
               catches="test_map_weights", message=r"the weights should sum to 1.*divide by N \+ sum\(alpha\) - K"),
        Mutant("means not shrunk toward m0: kappa0 ignored", "map_means",
               "(resp.T @ X + kappa0 * m0) / (N_k + kappa0)[:, None]", "(resp.T @ X) / N_k[:, None]",
               catches="test_map_means", message=r"the means is off.*shrunk toward m0"),
        Mutant("the covariance without the prior scatter S0", "map_covariances",
               "prior_scatter = S0 + kappa0", "prior_scatter = kappa0",
               catches="test_map_covariances",
               message=r"the covariance of a component with no data \(N_k = 0\) is off.*pseudo-scatter S0"),
        Mutant("the objective without the log prior", "fit_map_gmm",
               "log_posteriors.append(ll + log_prior(weights, means, covariances, prior))", "log_posteriors.append(ll)",
               catches="test_fit_map_gmm", message=r"log-likelihood \+ log_prior|plus log_prior"),
        Mutant("a loop that stops after one step", "fit_map_gmm",
               "log_posteriors[-2] < tol", "log_posteriors[-2] > tol",
               catches="test_fit_map_gmm", message=r"your loop stopped after 1 iteration\(s\)"),
        Mutant("a loop that never stops early", "fit_map_gmm",
               "        if log_posteriors[-1] - log_posteriors[-2] < tol:\n            break\n", "",
               catches="test_fit_map_gmm", message=r"your loop never stopped at the rule.*ran all 500 iterations"),
        past_the_boundary("fit_map_gmm"),
    ],
    alternatives={
        "loops over components, weights normalised by their sum, einsum, a while loop": {
            "map_weights": (
                "def map_weights(resp, alpha):\n"
                "    counts = np.array([resp[:, k].sum() + alpha[k] - 1 for k in range(resp.shape[1])])\n"
                "    return counts / counts.sum()"),
            "map_means": (
                "def map_means(X, resp, m0, kappa0):\n"
                "    means = []\n"
                "    for k in range(resp.shape[1]):\n"
                "        r = resp[:, k]\n"
                "        means.append((r @ X + kappa0 * m0) / (r.sum() + kappa0))\n"
                "    return np.array(means)"),
            "map_covariances": (
                "def map_covariances(X, resp, means, m0, kappa0, nu0, S0):\n"
                "    D = X.shape[1]\n"
                "    d = X[:, None, :] - means[None, :, :]\n"
                "    scatter = np.einsum('nk,nki,nkj->kij', resp, d, d)\n"
                "    e = means - m0\n"
                "    extra = 1.0 if kappa0 > 0 else 0.0\n"
                "    denominator = nu0 + resp.sum(axis=0) + D + 1 + extra\n"
                "    return (S0 + scatter + kappa0 * np.einsum('ki,kj->kij', e, e)) / denominator[:, None, None]"),
            "fit_map_gmm": (
                "def fit_map_gmm(X, weights, means, covariances, prior, tol=1e-6, max_iter=500):\n"
                "    a, m0, k0, n0, S0 = (prior[key] for key in ('alpha', 'm0', 'kappa0', 'nu0', 'S0'))\n"
                "    history, t = [], 0\n"
                "    while True:\n"
                "        resp, ll = e_step(X, weights, means, covariances)\n"
                "        history.append(ll + log_prior(weights, means, covariances, prior))\n"
                "        if t == max_iter or (t > 0 and history[-1] - history[-2] < tol):\n"
                "            return weights, means, covariances, history\n"
                "        weights = map_weights(resp, a)\n"
                "        means = map_means(X, resp, m0, k0)\n"
                "        covariances = map_covariances(X, resp, means, m0, k0, n0, S0)\n"
                "        t += 1"),
        },
    },
    library={
        "map_weights": "from emlib import gmm as G\n\ndef map_weights(resp, alpha):\n"
                       "    return G._map_weights(resp.sum(axis=0), alpha)",
        "map_means": (
            "from emlib import gmm as G, gaussian as GA\n\n"
            "def map_means(X, resp, m0, kappa0):\n"
            "    D = X.shape[1]\n"
            "    prior = G.Prior(np.full(resp.shape[1], 2.0), m0, kappa0, D + 2.0, np.eye(D))\n"
            "    return G.m_step(G.gaussian_statistics(GA.features(X), resp), prior=prior).means"),
        "map_covariances": (
            "from emlib.gmm import gaussian_map_step, GMMStats, Prior\n\n"
            "def map_covariances(X, resp, means, m0, kappa0, nu0, S0):\n"
            "    K, D = resp.shape[1], X.shape[1]\n"
            "    stats = GMMStats(resp.sum(axis=0), resp.T @ X, np.einsum('nk,ni,nj->kij', resp, X, X), np.zeros((K, D)))\n"
            "    return gaussian_map_step(stats, Prior(np.ones(K), m0, kappa0, nu0, S0))[1]"),
        "fit_map_gmm": (
            "from emlib import gmm as G\n\n"
            "def fit_map_gmm(X, weights, means, covariances, prior, tol=1e-6, max_iter=500):\n"
            "    r = G.fit(X, G.GMMParams(weights, means, covariances), prior=G.Prior(**prior), tol=0, max_iter=max_iter)\n"
            "    return (*r.params, r.objective)"),
    },
    broken_test=("the covariance without the prior scatter S0", "test_map_covariances"),
    forever=("fit_map_gmm", "def fit_map_gmm(X, weights, means, covariances, prior, tol=1e-6, max_iter=500):\n"
                            "    while True:\n        resp, ll = e_step(X, weights, means, covariances)"),
    kill=("map_weights", "import os\nos._exit(1)"),
    fault=("map_covariances", "def map_covariances(X, resp, means, m0, kappa0, nu0, S0):\n"
           "    return [np.ones(10 ** 8) for _ in range(1000)]   # 800 GB",
           r"MemoryError"),
)

CASES["a04"] = A04


A06 = Cases(
    mutants=[
        Mutant("E[log pi_k] without the -psi(sum_j alpha_j) term", "expected_log_weights",
               "return digamma(alpha) - digamma(alpha.sum())", "return digamma(alpha)",
               catches="test_expected_log_weights",
               message=r"sum_k exp\(E\[log pi_k\]\) = .* is above 1.*is the second digamma term missing\?"),
        Mutant("E[log|Lambda_k|] with the digamma sum over the wrong range: psi((nu - i)/2)", "expected_log_det",
               "(nu[:, None] + 1 - i) / 2", "(nu[:, None] - i) / 2",
               catches="test_expected_log_det",
               message=r"E\[log\|Lambda_k\|\] is off.*check the range of i"),
        Mutant("responsibilities without the D / beta_k term (mu_k treated as known)", "responsibilities",
               "quad = D / beta[k] + nu[k] *", "quad = nu[k] *",
               catches="test_responsibilities",
               message=r"resp is off.*the D / beta_k term is the uncertainty about mu_k"),
        Mutant("prior counts forgotten: alpha_k = N_k", "update_alpha",
               'return prior["alpha0"] + resp.sum(axis=0)', "return resp.sum(axis=0)",
               catches="test_update_alpha",
               message=r"alpha with alpha0 = 2 is off.*alpha_k = alpha0 \+ N_k"),
        Mutant("Wishart degrees of freedom off by one: nu_k = nu0 + N_k + 1", "update_gaussian_wishart",
               'nu = prior["nu0"] + Nk', 'nu = prior["nu0"] + Nk + 1',
               catches="test_update_gaussian_wishart",
               message=r"nu is off.*nu_k = nu0 \+ N_k \(10.63\)"),
        Mutant("beta_k = N_k without the prior's beta0", "update_gaussian_wishart",
               'beta = prior["beta0"] + Nk', "beta = Nk",
               catches="test_update_gaussian_wishart",
               message=r"beta is off.*beta_k = beta0 \+ N_k"),
        Mutant("mean update divides by N_k: NaN for an empty component", "update_gaussian_wishart",
               'm = (prior["beta0"] * prior["m0"] + resp.T @ X) / beta[:, None]',
               'xbar = (resp.T @ X) / Nk[:, None]\n    m = (prior["beta0"] * prior["m0"] + Nk[:, None] * xbar) / beta[:, None]',
               catches="test_update_gaussian_wishart",
               message=r"m for a component with N_k = 0 has \d+ NaN.*without dividing by N_k"),
        Mutant("a loop that stops after one step", "fit_vb",
               "elbos[-2] < tol", "elbos[-2] > tol",
               catches="test_fit_vb", message=r"your loop stopped after 1 iteration\(s\), while the ELBO still rose"),
        Mutant("a loop that never stops early", "fit_vb",
               "        if elbos[-1] - elbos[-2] < tol:\n            break\n", "",
               catches="test_fit_vb", message=r"your loop never stopped at the rule.*ran all 500 iterations"),
        past_the_boundary("fit_vb"),
    ],
    alternatives={
        "loops over components, Cholesky log-determinants, Bishop's x-bar form with a guard, a while loop": {
            "expected_log_weights": (
                "def expected_log_weights(alpha):\n"
                "    total = digamma(np.sum(alpha))\n"
                "    return np.array([digamma(a) - total for a in alpha])"),
            "expected_log_det": (
                "def expected_log_det(W, nu):\n"
                "    K, D = len(nu), W.shape[1]\n"
                "    out = np.empty(K)\n"
                "    for k in range(K):\n"
                "        L = np.linalg.cholesky(W[k])\n"
                "        out[k] = (sum(digamma(0.5 * (nu[k] + 1 - i)) for i in range(1, D + 1)) + D * np.log(2)\n"
                "                  + 2 * np.log(np.diag(L)).sum())\n"
                "    return out"),
            "responsibilities": (
                "def responsibilities(X, E_log_pi, E_log_det, beta, m, W, nu):\n"
                "    D = X.shape[1]\n"
                "    d = X[:, None, :] - m[None, :, :]\n"
                "    maha = np.einsum('nki,kij,nkj->nk', d, W, d)\n"
                "    a = E_log_pi + 0.5 * E_log_det - 0.5 * D * np.log(2 * np.pi) - 0.5 * (D / beta + nu * maha)\n"
                "    a = a - a.max(axis=1, keepdims=True)\n"
                "    e = np.exp(a)\n"
                "    return e / e.sum(axis=1, keepdims=True)"),
            "update_alpha": (
                "def update_alpha(resp, prior):\n"
                "    return np.full(resp.shape[1], prior['alpha0']) + np.einsum('nk->k', resp)"),
            "update_gaussian_wishart": (
                "def update_gaussian_wishart(X, resp, prior):\n"
                "    K, D = resp.shape[1], X.shape[1]\n"
                "    b0, m0, nu0 = prior['beta0'], prior['m0'], prior['nu0']\n"
                "    beta, nu, m, W = np.empty(K), np.empty(K), np.empty((K, D)), np.empty((K, D, D))\n"
                "    for k in range(K):\n"
                "        r = resp[:, k]\n"
                "        Nk = r.sum()\n"
                "        beta[k], nu[k] = b0 + Nk, nu0 + Nk\n"
                "        if Nk > 0:\n"
                "            xbar = r @ X / Nk\n"
                "            NS = (X - xbar).T @ ((X - xbar) * r[:, None])\n"
                "            pull = b0 * Nk / (b0 + Nk) * np.outer(xbar - m0, xbar - m0)\n"
                "        else:\n"
                "            xbar, NS, pull = np.zeros(D), np.zeros((D, D)), np.zeros((D, D))\n"
                "        m[k] = (b0 * m0 + Nk * xbar) / beta[k]\n"
                "        W[k] = np.linalg.solve(prior['W0_inv'] + NS + pull, np.eye(D))\n"
                "    return beta, m, W, nu"),
            "fit_vb": (
                "def fit_vb(X, resp, prior, tol=1e-6, max_iter=500):\n"
                "    history, t = [], 0\n"
                "    while True:\n"
                "        alpha = update_alpha(resp, prior)\n"
                "        beta, m, W, nu = update_gaussian_wishart(X, resp, prior)\n"
                "        resp = responsibilities(X, expected_log_weights(alpha), expected_log_det(W, nu), beta, m, W, nu)\n"
                "        history.append(elbo(X, resp, alpha, beta, m, W, nu, prior))\n"
                "        if t == max_iter or (t > 0 and history[-1] - history[-2] < tol):\n"
                "            return alpha, beta, m, W, nu, history\n"
                "        t += 1"),
        },
    },
    library={
        "expected_log_weights": (
            "from emlib import vb as V\n\n"
            "def expected_log_weights(alpha):\n"
            "    K = len(alpha)\n"
            "    return V.VBParams(alpha, np.ones(K), np.zeros((K, 1)), np.ones(K), np.ones((K, 1, 1))).expected_log_weights"),
        "expected_log_det": (
            "from emlib.vb import _expected_log_det as eld\n\n"
            "def expected_log_det(W, nu):\n"
            "    return eld(np.linalg.slogdet(W)[1], nu, W.shape[-1])"),
        "responsibilities": (
            "from emlib import vb as V\n\n"
            "def responsibilities(X, E_log_pi, E_log_det, beta, m, W, nu):\n"
            "    q = V.VBParams(np.ones(len(beta)), beta, m, nu, np.linalg.inv(nu[:, None, None] * W))\n"
            "    return V.responsibilities(X, q)"),
        "update_gaussian_wishart": (
            "from emlib import vb as V, gmm as G, gaussian as GA\n\n"
            "def update_gaussian_wishart(X, resp, prior):\n"
            "    p = V.Prior(1.0, prior['m0'], prior['beta0'], prior['nu0'], prior['W0_inv'])\n"
            "    q = V.m_step(G.gaussian_statistics(GA.features(X), resp), p)\n"
            "    return q.mean_precision, q.means, np.linalg.inv(q.inverse_scale), q.dof"),
        "fit_vb": (
            "from emlib import vb as V\n\n"
            "def fit_vb(X, resp, prior, tol=1e-6, max_iter=500):\n"
            "    p = V.Prior(prior['alpha0'], prior['m0'], prior['beta0'], prior['nu0'], prior['W0_inv'])\n"
            "    r = V.fit(X, resp, prior=p, tol=0, max_iter=max_iter)\n"
            "    q = r.params\n"
            "    return q.weight_concentration, q.mean_precision, q.means, np.linalg.inv(q.inverse_scale), q.dof, r.objective"),
    },
    broken_test=("prior counts forgotten: alpha_k = N_k", "test_update_alpha"),
    forever=("fit_vb", "def fit_vb(X, resp, prior, tol=1e-6, max_iter=500):\n"
                       "    while True:\n"
                       "        alpha = update_alpha(resp, prior)"),
    kill=("update_alpha", "import os\nos._exit(1)"),
    fault=("expected_log_det", "import os\n\n\ndef expected_log_det(W, nu):\n    os._exit(0)",
           r"ended the Python process with exit code 0"),
)

CASES["a06"] = A06


A05 = Cases(
    mutants=[
        Mutant("the old block not subtracted: S <- S + s_new", "swap_block",
               "return tuple(t - o + n for t, o, n in zip(total, old, new))",
               "return tuple(t + n for t, o, n in zip(total, old, new))",
               catches="test_swap_block", message=r"the old block's statistics were not subtracted"),
        Mutant("one M step per pass instead of one per block: that is batch EM", "incremental_em",
               "        for b, block in enumerate(blocks):\n            weights, means, covariances = m_step(total)\n",
               "        weights, means, covariances = m_step(total)\n        for b, block in enumerate(blocks):\n",
               catches="test_fewer_passes",
               message=r"took \d+ passes .* batch EM takes \d+: it should need fewer\. One M step per pass is batch EM"),
        Mutant("free energy without the entropies", "incremental_em",
               "expected_log_joint(total, weights, means, covariances) + sum(entropies)]",
               "expected_log_joint(total, weights, means, covariances)]",
               catches="test_incremental_em",
               message=r"free_energies\[0\] is off.*plus the sum of the blocks' entropies"),
        Mutant("a loop that never stops early", "incremental_em",
               "        if free_energies[-1] - free_energies[-2] < tol:\n            break\n", "",
               catches="test_incremental_em", message=r"your loop never stopped at the rule.*ran all 200 iterations"),
        Mutant("the block's new statistics not recorded after the swap: a raw LinAlgError, explained", "incremental_em",
               "            stats[b] = new\n", "",
               catches="test_incremental_em",
               message=r"your code raised LinAlgError: Matrix is not positive definite.*Hint: a covariance from "
                       r"m_step\(total\) is not positive definite.*stats\[b\] = new"),
        Mutant("a step size that does not decay: gamma constant", "step_size",
               "return (n + n0) ** -alpha", "return (1 + n0) ** -alpha",
               catches="test_step_size", message=r"your step size does not decay.*constant step online EM never settles"),
        Mutant("a step size with the wrong exponent: (n + n0)^-(1 - alpha)", "step_size",
               "return (n + n0) ** -alpha", "return (n + n0) ** -(1 - alpha)",
               catches="test_step_size", message=r"decays like \(n \+ n0\)\^-0\.400, not \(n \+ n0\)\^-alpha"),
        Mutant("a step size that leaves out n0: n^-alpha", "step_size",
               "return (n + n0) ** -alpha", "return n ** -alpha",
               catches="test_step_size", message=r"your step size is n\^-alpha: it leaves out n0"),
        Mutant("a placeholder free-energy trace (right shape, wrong values) above the optimum", "incremental_em",
               "return weights, means, covariances, np.array(free_energies)",
               "return weights, means, covariances, np.zeros(len(free_energies))",
               catches="test_fewer_passes",
               message=r"free_energies\[0\] is off.*before the first pass F is the log-likelihood at the start"),
        Mutant("statistics replaced instead of averaged: s <- s_batch / m", "online_em",
               "            s = tuple((1 - gamma) * a + gamma * b for a, b in zip(s, new))",
               "            s = new",
               catches="test_online_em", message=r"nats per point below the batch optimum.*Average the statistics.*do not replace"),
        Mutant("the step taken the wrong way, s + gamma (s - new): a raw LinAlgError, explained", "online_em",
               "s = tuple((1 - gamma) * a + gamma * b for a, b in zip(s, new))",
               "s = tuple(a + gamma * (a - b) for a, b in zip(s, new))",
               catches="test_online_em",
               message=r"your code raised LinAlgError.*Hint: a covariance from m_step\(s\) is not positive definite: "
                       r"s must stay an average"),
        past_the_boundary("incremental_em", "max_passes"),
    ],
    alternatives={
        "a total recomputed from the list of block statistics, a while loop, s + gamma (new - s)": {
            "swap_block": (
                "def swap_block(total, old, new):\n"
                "    counts = total[0] - old[0] + new[0]\n"
                "    sums = np.subtract(total[1], old[1]) + new[1]\n"
                "    squares = (total[2] + new[2]) - old[2]\n"
                "    return counts, sums, squares"),
            "incremental_em": (
                "def incremental_em(blocks, weights, means, covariances, tol=1e-8, max_passes=200):\n"
                "    params = (weights, means, covariances)\n"
                "    results = [block_e_step(b, *params) for b in blocks]\n"
                "    stats = [r[0] for r in results]\n"
                "    entropy = [r[1] for r in results]\n"
                "    def summed(stats):\n"
                "        return [np.sum([s[i] for s in stats], axis=0) for i in range(3)]\n"
                "    history = [expected_log_joint(summed(stats), *params) + np.sum(entropy)]\n"
                "    passes = 0\n"
                "    while passes < max_passes:\n"
                "        passes += 1\n"
                "        b = 0\n"
                "        while b < len(blocks):\n"
                "            params = m_step(summed(stats))\n"
                "            stats[b], entropy[b], _ = block_e_step(blocks[b], *params)\n"
                "            b += 1\n"
                "        history.append(expected_log_joint(summed(stats), *params) + np.sum(entropy))\n"
                "        if not history[-1] - history[-2] >= tol:\n"
                "            break\n"
                "    return params[0], params[1], params[2], history"),
            "step_size": "def step_size(n, alpha=0.6, n0=0.0):\n    return float(np.exp(-alpha * np.log(n + n0)))",
            "online_em": (
                "def online_em(batches, weights, means, covariances, alpha=0.6, n0=0.0):\n"
                "    counts = sums = squares = None\n"
                "    n = 0\n"
                "    for batch in batches:\n"
                "        n += 1\n"
                "        (c, s, S), _, _ = block_e_step(batch, weights, means, covariances)\n"
                "        m = batch.shape[0]\n"
                "        if n == 1:\n"
                "            counts, sums, squares = c / m, s / m, S / m\n"
                "        else:\n"
                "            g = step_size(n, alpha, n0)\n"
                "            counts = counts + g * (c / m - counts)\n"
                "            sums = sums + g * (s / m - sums)\n"
                "            squares = squares + g * (S / m - squares)\n"
                "        weights, means, covariances = m_step((counts, sums, squares))\n"
                "    return weights, means, covariances"),
        },
    },
    library={
        "incremental_em": (
            "from emlib import em as E, gmm as G\n\n"
            "def incremental_em(blocks, weights, means, covariances, tol=1e-8, max_passes=200):\n"
            "    r = E.run_incremental(G.e_step_with_entropy, G.m_step, G.expected_complete_log_likelihood,\n"
            "                          G.GMMParams(weights, means, covariances), blocks, max_passes=max_passes, tol=0)\n"
            "    return (*r.params, r.objective)"),
        "online_em": (
            "from emlib.em import run_online\nfrom emlib import gmm as G\n\n"
            "def online_em(batches, weights, means, covariances, alpha=0.6, n0=0.0):\n"
            "    r = run_online(G.e_step, G.m_step, G.GMMParams(weights, means, covariances), batches, lambda p: 0.0,\n"
            "                   alpha=alpha, n0=n0)\n"
            "    return tuple(r.params)"),
    },
    broken_test=("the old block not subtracted: S <- S + s_new", "test_swap_block"),
    forever=("online_em", "def online_em(batches, weights, means, covariances, alpha=0.6, n0=0.0):\n"
                          "    s = None\n    while True:\n        s = block_e_step(batches[0], weights, means, covariances)[0]"),
    kill=("swap_block", "import os\nos._exit(1)"),
    fault=("online_em", "import os\n\n\ndef online_em(batches, weights, means, covariances, alpha=0.6, n0=0.0):\n"
                        "    os._exit(7)",
           r"ended the Python process with exit code 7"),
)

CASES["a05"] = A05


# The first alternative of each assignment prints, warns and has a magic line, in the part the tests call most.
NOISY = ", with progress on stdout and stderr, warnings and a %matplotlib line"
for _assignment, _function in {"a01": "run_em", "a02": "fit_gmm", "a03": "baum_welch", "a04": "fit_map_gmm",
                               "a05": "incremental_em", "a06": "fit_vb"}.items():
    _alternatives = CASES[_assignment].alternatives
    _name, _answers = next(iter(_alternatives.items()))
    _answers[_function] = with_noise(_answers[_function], _function)
    _renamed = {_name + NOISY: _answers, **{k: v for k, v in _alternatives.items() if k != _name}}
    _alternatives.clear()
    _alternatives.update(_renamed)
