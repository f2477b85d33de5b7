"""Liquidation cascades along price paths (see :mod:`xmargin.analytics.cascade.engine`).

``engine`` runs the rounds; ``pairs`` holds the (path, account) pairs and their balances;
``kernels`` puts the Numba (``numba_kernels``) or NumPy (``numpy_kernels``) kernels
behind one interface; ``layout`` fixes their packed arguments and columns.
"""

from xmargin.analytics.cascade.engine import Breakers, CascadeRecord, PathEngine, PathOutcome

__all__ = ["Breakers", "CascadeRecord", "PathEngine", "PathOutcome"]
