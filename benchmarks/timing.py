"""The timing rule every benchmark shares: one EM iteration = (a long fit - a short fit) / the extra iterations."""
import numpy as np
from threadpoolctl import threadpool_info


def per_iteration(timer, data, start, n_short: int, n_long: int, repeats: int):
    """(seconds per iteration, one-off set-up seconds, the objective the long fit reports).

    ``timer(data, start, n_iter)`` returns (seconds, objective) of a fit of n_iter iterations. Each fit length
    is timed ``repeats`` times and its fastest run kept (noise only ever adds time); the difference of the two
    fastest runs is then divided by the extra iterations. (The best of per-repeat differences would be biased
    low: a short run slowed by noise makes its difference too small.)
    """
    shorts, longs = [], []
    for _ in range(repeats):
        shorts.append(timer(data, start, n_short)[0])
        seconds, objective = timer(data, start, n_long)
        longs.append(seconds)
    iteration = (min(longs) - min(shorts)) / (n_long - n_short)
    return iteration, min(shorts) - n_short * iteration, objective


def blas_description() -> str:
    """The BLAS libraries loaded and their thread counts, for the header of a benchmark's table."""
    return ", ".join(f"{i['internal_api']} {i.get('version')} ({i['num_threads']} thread)" for i in threadpool_info())
