"""Float twins of :mod:`xmargin.risk.weights` (contract 1.2): the size haircut, per side.

The category rule is applied once, when the market is packed
(:mod:`xmargin.fast.packing`, through :func:`xmargin.risk.weights.category_weights`);
these functions apply the size haircut of one position. Each is an
:func:`~xmargin.fast.backend.elementwise` rule: scalars inside the Numba kernels, whole
columns in the NumPy ones. Constants are the exact engine's, converted once.

A haircut with ``k = 0`` (or no units) leaves the weight unchanged, as the exact twin
does; kernels skip the call for assets without a size factor (the exact
``weighted_sums`` does the same), which keeps the square root out of their hot loops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xmargin.fast.backend import elementwise, select
from xmargin.risk import weights as exact

__all__ = [
    "BORROW",
    "SIZE_CAP",
    "SIZE_LIABILITY_BASE",
    "SUPPLY",
    "effective_weight",
    "effective_weights",
    "size_haircut_asset_weight_down",
    "size_haircut_liability_weight_up",
]

#: Float twins of the exact constants (contract 1.2).
SIZE_CAP = float(exact.SIZE_CAP)
SIZE_LIABILITY_BASE = float(exact.SIZE_LIABILITY_BASE)
#: The side of a position: units supplied, units borrowed.
SUPPLY, BORROW = 0, 1


@elementwise
def size_haircut_asset_weight_down(w: Any, k: Any, s: Any) -> Any:
    """Asset weight after the size haircut (float twin; the exact one rounds down).

    Notes
    -----
    .. math:: w_{eff} = \\min(w, 1.1 / (1 + k \\sqrt{s}))

    ``w`` when k = 0 or s = 0.
    """
    return select((k > 0.0) & (s > 0.0), np.minimum(w, SIZE_CAP / (1.0 + k * np.sqrt(s))), w)


@elementwise
def size_haircut_liability_weight_up(lw: Any, k: Any, b: Any) -> Any:
    """Liability weight after the size haircut (float twin; the exact one rounds up).

    Notes
    -----
    .. math:: lw_{eff} = \\max(lw, 0.8 \\cdot lw + k \\sqrt{b})

    ``lw`` when k = 0 or b = 0.
    """
    return select(
        (k > 0.0) & (b > 0.0), np.maximum(lw, SIZE_LIABILITY_BASE * lw + k * np.sqrt(b)), lw
    )


@elementwise
def effective_weight(side: Any, w: Any, k: Any, units: Any) -> Any:
    """The weight ``w`` of one side of a position after the size haircut.

    ``side`` is :data:`SUPPLY` (``w`` a collateral factor or liquidation threshold) or
    :data:`BORROW` (``w`` a borrow weight); ``units`` that side's token units.
    """
    return select(
        side == BORROW,
        size_haircut_liability_weight_up(w, k, units),
        size_haircut_asset_weight_down(w, k, units),
    )


@elementwise
def effective_weights(s: Any, b: Any, cf: Any, lt: Any, bw: Any, mbw: Any, k: Any) -> Any:
    """(cf, lt, bw, mbw) of a position supplying ``s`` and borrowing ``b`` units, after the
    size haircut (float twin of :func:`xmargin.risk.weights.effective_weights`; the
    category rule is already in ``cf``, ``lt``)."""
    return (
        size_haircut_asset_weight_down(cf, k, s),
        size_haircut_asset_weight_down(lt, k, s),
        size_haircut_liability_weight_up(bw, k, b),
        size_haircut_liability_weight_up(mbw, k, b),
    )
