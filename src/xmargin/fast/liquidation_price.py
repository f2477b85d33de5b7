"""Float twin of :mod:`xmargin.risk.liquidation_price` (contract 4 ``liquidation-price``).

Weights depend on units, not prices (contract 1.2), so an account's mc − md is linear in
the price p of one asset, with slope s·lt − b·mbw (units; the effective weights of its
position in that asset): health 1 is reached at p* = p − (mc − md)/slope, other prices
fixed. The dashboard's liquidation map and the network analysis's contagion both solve
it here, for every account at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xmargin.fast.backend import elementwise, select

__all__ = ["liquidation_price", "price_slope"]


@elementwise
def price_slope(s: Any, b: Any, lt: Any, mbw: Any) -> Any:
    """d(mc − md)/dp of one position, in units: s·lt − b·mbw (effective weights;
    > 0: a fall in the price liquidates)."""
    return s * lt - b * mbw


@elementwise
def liquidation_price(p: Any, mc: Any, md: Any, slope: Any) -> Any:
    """The price (quote per unit) at which mc = md, the asset at ``p`` now and every
    other price fixed (float twin of :func:`xmargin.risk.liquidation_price.liquidation_price`).

    Notes
    -----
    p* = p − (mc − md)/slope. NaN where the exact twin answers ``None``: no debt (md = 0),
    no exposure (slope = 0) or no solution above 0.
    """
    ok = (md > 0.0) & (slope != 0.0)
    price = p - (mc - md) / select(ok, slope, 1.0)
    return select(ok & (price > 0.0), price, np.nan)
