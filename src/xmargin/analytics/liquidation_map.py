"""The liquidation map of one asset: how much collateral becomes liquidatable at each price
below today's.

Every account's liquidation price of the asset (the price at which its health factor is
exactly 1, other prices fixed: :func:`xmargin.analytics.positions.liquidation_prices`,
through the float twin of contract 4's ``liquidation-price``) is placed in a price bucket between
today's price and ``(1 − depth)`` × today's. An account counts where a *fall* liquidates
it (it is net long the asset in maintenance terms) and it is not liquidatable already;
its collateral and debt are valued at its liquidation price, when it would be taken.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from xmargin._typing import BoolArray, Float64Array1D
from xmargin.analytics.positions import ColumnSums, PositionColumns, liquidation_prices
from xmargin.errors import InputError
from xmargin.fast.health import is_liquidatable

__all__ = ["LiquidationBin", "LiquidationMap", "liquidation_map"]

MAX_BINS = 400


class LiquidationBin(NamedTuple):
    """Accounts whose liquidation price lies in [price_low, price_high); quote values at
    their liquidation prices."""

    price_low: float
    price_high: float
    accounts: int
    collateral_value: float
    debt_value: float


class LiquidationMap(NamedTuple):
    """The map of one asset, buckets from the highest price down.

    ``liquidatable_now``: accounts exposed to the asset that are liquidatable at today's
    price (and their collateral value); ``below_range``: accounts a fall liquidates only
    below the map's lowest price.
    """

    asset: str
    price: float
    depth: float
    bins: list[LiquidationBin]
    liquidatable_now: int
    liquidatable_now_collateral_value: float
    below_range: int
    below_range_collateral_value: float


def liquidation_map(
    cols: PositionColumns,
    p: Float64Array1D,
    sums: ColumnSums,
    asset: str,
    *,
    depth: float = 0.5,
    bins: int = 40,
    liquidatable: BoolArray | None = None,
) -> LiquidationMap:
    """The liquidation map of ``asset`` at prices ``p`` (column order of ``cols``).

    Parameters
    ----------
    depth
        How far below today's price the map reaches, as a fraction in (0, 1).
    bins
        Number of equal-width price buckets (1 to :data:`MAX_BINS`).
    liquidatable
        Every row's exact decision (:func:`xmargin.analytics.overview.classify`); by
        default the float one.
    """
    if not 0.0 < depth < 1.0:
        raise InputError(f"depth: must be a fraction in (0, 1), was {depth}")
    if not 1 <= bins <= MAX_BINS:
        raise InputError(f"bins: must be from 1 to {MAX_BINS}, was {bins}")
    k = cols.asset_index(asset)
    today = float(p[k])
    lp, slope = liquidation_prices(cols, p, asset, sums)
    cv, dv = sums.collateral_value, sums.debt_value
    held = (cols.column("supply")[:, k] > 0.0) | (cols.column("borrow")[:, k] > 0.0)
    exposed = cols.has_debt() & held
    if liquidatable is None:
        liquidatable = is_liquidatable(sums.maintenance_collateral, sums.maintenance_debt)
    now = exposed & liquidatable
    falls = ~now & (slope > 0.0) & np.isfinite(lp) & (lp < today)
    # Values at the liquidation price: cv and dv are linear in the asset's price too.
    dp = np.where(falls, lp - today, 0.0)
    cv_at = cv + cols.column("supply")[:, k] * dp
    dv_at = dv + cols.column("borrow")[:, k] * dp
    low = today * (1.0 - depth)
    edges = np.linspace(low, today, bins + 1)
    inside = falls & (lp >= low)
    which = np.clip(np.searchsorted(edges, lp[inside], side="right") - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    coll = np.bincount(which, weights=cv_at[inside], minlength=bins)
    debt = np.bincount(which, weights=dv_at[inside], minlength=bins)
    below = falls & (lp < low)
    return LiquidationMap(
        asset=asset,
        price=today,
        depth=depth,
        bins=[
            LiquidationBin(
                float(edges[i]), float(edges[i + 1]), int(count[i]), float(coll[i]), float(debt[i])
            )
            for i in range(bins - 1, -1, -1)
        ],
        liquidatable_now=int(np.count_nonzero(now)),
        liquidatable_now_collateral_value=float(cv[now].sum()),
        below_range=int(np.count_nonzero(below)),
        below_range_collateral_value=float(cv_at[below].sum()),
    )
