"""emlib: the reference library of the EM course.

Every model is an E step that returns expected sufficient statistics and the objective, and an M step that maximises
Q given them; one driver (``em``) runs them and checks that the objective never decreases.

Modules (``import emlib`` then ``emlib.gmm``, or ``from emlib import gmm``; each is imported when first used):

    em                the EM driver shared by every model: batch, incremental, online and SQUAREM, and EMResult
    gmm               Gaussian mixtures: ML-EM, MAP-EM with a conjugate prior, BIC and AIC
    hmm               hidden Markov models with categorical or Gaussian emissions: Baum-Welch, posteriors, Viterbi
    vb                the variational Bayesian Gaussian mixture
    student_t         the multivariate t and mixtures of t: generalized EM, ECM and ECME
    linkage           the genetic linkage example of Dempster, Laird and Rubin (1977)
    information       standard errors after EM: observed information (Louis, SEM), the rate of convergence
    forward_backward  the scaled, log-space and chunked forward-backward recursions and Viterbi
    gaussian          exponential-family numerics of the Gaussian: Cholesky factors, log densities, statistics
    datasets          Old Faithful, the linkage counts and random problems
    checks            the assertions and diagnostic messages the assignments use
    plotting          figures the chapters share (needs matplotlib)
    widgets           the chapters' interactive explorers (needs ipywidgets and matplotlib:
                      ``pip install "em-course[widgets]"``)

The numerical modules need only numpy and scipy.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["checks", "datasets", "em", "forward_backward", "gaussian", "gmm", "hmm", "information", "linkage",
           "plotting", "student_t", "vb", "widgets"]


def __getattr__(name: str):
    """``emlib.gmm`` and the like without importing every module (and matplotlib) at ``import emlib``."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'emlib' has no attribute {name!r}; its modules are {', '.join(__all__)}.")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
