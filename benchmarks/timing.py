"""The timing rule every benchmark shares: one EM iteration = (a long fit - a short fit) / the extra iterations."""
import numpy as np


def per_iteration(timer, data, start, n_short: int, n_long: int, repeats: int):
    """Best of ``repeats``: (seconds per iteration, one-off set-up seconds, the objective the long fit reports).

    ``timer(data, start, n_iter)`` returns (seconds, objective) of a fit of n_iter iterations.
    """
    best_iteration, best_setup = np.inf, np.inf
    for _ in range(repeats):
        short, _ = timer(data, start, n_short)
        long, objective = timer(data, start, n_long)
        iteration = (long - short) / (n_long - n_short)
        best_iteration, best_setup = min(best_iteration, iteration), min(best_setup, short - n_short * iteration)
    return best_iteration, best_setup, objective
