"""emlib: the reference library of the EM course.

Modules: ``em`` (the driver shared by every model), ``gmm`` (Gaussian mixtures), ``linkage`` (the genetic
linkage example of Dempster, Laird and Rubin 1977), ``gaussian`` (exponential-family numerics),
``datasets``, and ``checks`` (the assertions the assignments use).
"""
__version__ = "0.1.0"
