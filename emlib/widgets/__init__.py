"""The course's interactive explorers, one module each (ipywidgets and matplotlib are imported only here
and in ``emlib.plotting``, never in the numerical modules).

Each explorer returns an ipywidgets widget to display in a notebook; the drawing behind it is a plain
function of an ``ax`` that a notebook can also call for static figures.
"""
from .q_bound import q_bound_explorer
from .gmm_stepper import em_stepper
from .hmm_posterior import posterior_explorer
from .prior_strength import prior_strength_explorer
from .concentration import concentration_explorer
