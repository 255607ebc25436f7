"""The worker's matplotlib backend: Agg, with ``plt.show()`` doing nothing (the worker sends every open figure
back as a PNG after each cell, which is what the inline backend of a notebook shows)."""
from matplotlib.backend_bases import _Backend
from matplotlib.backends.backend_agg import FigureCanvasAgg, _BackendAgg  # noqa: F401


@_Backend.export
class _BackendWorker(_BackendAgg):
    @staticmethod
    def show(*args, **kwargs):
        pass
