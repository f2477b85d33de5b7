"""Per-asset exposure of a market: supply, borrow, utilisation, caps and their use,
isolation debt, deficit and concentration.

Totals, values and the use of each cap are exact (Decimal, from the market's own totals,
which the ledger keeps); ratios are rounded down to :data:`RATIO_DECIMALS` places.
Concentration (who holds how much of an asset) reads every account's units from
:class:`~xmargin.analytics.positions.PositionColumns` in float64: it is a share, shown
to a person, never a decision.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from xmargin._typing import Float64Array1D
from xmargin.analytics.positions import PositionColumns
from xmargin.mathlib import CTX, ZERO, div_down, exact
from xmargin.model.market import Market

__all__ = ["RATIO_DECIMALS", "TOP_N", "AssetExposure", "Concentration", "asset_exposure"]

#: Places of every ratio (utilisation, use of a cap, shares): rounded down.
RATIO_DECIMALS = 6
#: How many of the largest holders the ``top_n_share`` adds up.
TOP_N = 5


class Concentration(NamedTuple):
    """How one side (supply or borrow) of an asset is spread over accounts.

    ``largest``: the account holding most units; ``largest_share`` its share of the total;
    ``top_n_share``: the :data:`TOP_N` largest holders' share; ``hhi``: the
    Herfindahl-Hirschman index Σ shareᵢ² (1 = one holder; 1/n = n equal holders).
    """

    holders: int
    largest: str | None
    largest_share: Decimal | None
    top_n_share: Decimal | None
    hhi: Decimal | None


class AssetExposure(NamedTuple):
    """One asset's exposure; units are token units, values quote at the current price."""

    asset: str
    price: Decimal
    total_supply: Decimal
    total_borrow: Decimal
    supply_value: Decimal
    borrow_value: Decimal
    utilization: Decimal | None
    supply_cap: Decimal | None
    supply_cap_use: Decimal | None
    borrow_cap: Decimal | None
    borrow_cap_use: Decimal | None
    debt_ceiling: Decimal | None
    isolation_debt: Decimal | None
    debt_ceiling_use: Decimal | None
    deficit: Decimal
    deficit_value: Decimal
    suppliers: Concentration
    borrowers: Concentration


def _ratio(a: Decimal, b: Decimal | None) -> Decimal | None:
    """a / b rounded down; ``None`` without a denominator (no cap, nothing supplied)."""
    if b is None or not b:
        return None
    return div_down(a, b, RATIO_DECIMALS)


def _share(x: float) -> Decimal:
    """A float share as a decimal rounded down to :data:`RATIO_DECIMALS` places."""
    scale = 10**RATIO_DECIMALS
    out: Decimal = Decimal(math.floor(x * scale + 1e-6)) / scale
    return out


def concentration(ids: list[str], units: Float64Array1D) -> Concentration:
    """:class:`Concentration` of one side of one asset from every account's units."""
    held = np.flatnonzero(units > 0.0)
    if held.size == 0:
        return Concentration(0, None, None, None, None)
    u = units[held]
    total = float(u.sum())
    shares = u / total
    top = int(held[int(np.argmax(u))])
    k = min(TOP_N, held.size)
    top_n = float(np.partition(shares, shares.size - k)[shares.size - k :].sum())
    return Concentration(
        int(held.size),
        ids[top],
        _share(float(shares.max())),
        _share(min(top_n, 1.0)),
        _share(float(np.dot(shares, shares))),
    )


@exact
def asset_exposure(market: Market, cols: PositionColumns) -> list[AssetExposure]:
    """Every asset's exposure, in the market's order (``cols`` current with ``market``)."""
    supply_cols = cols.column("supply")
    borrow_cols = cols.column("borrow")
    out = []
    for sym, ap in market.assets.items():
        k = cols.asset_index(sym)
        ts = market.total_supply.get(sym, ZERO)
        tb = market.total_borrow.get(sym, ZERO)
        deficit = market.deficit.get(sym, ZERO)
        iso = market.isolation_debt.get(sym, ZERO) if ap.debt_ceiling is not None else None
        out.append(
            AssetExposure(
                asset=sym,
                price=ap.price,
                total_supply=ts,
                total_borrow=tb,
                supply_value=CTX.multiply(ts, ap.price),
                borrow_value=CTX.multiply(tb, ap.price),
                utilization=_ratio(tb, ts),
                supply_cap=ap.supply_cap,
                supply_cap_use=_ratio(ts, ap.supply_cap),
                borrow_cap=ap.borrow_cap,
                borrow_cap_use=_ratio(tb, ap.borrow_cap),
                debt_ceiling=ap.debt_ceiling,
                isolation_debt=iso,
                debt_ceiling_use=_ratio(iso, ap.debt_ceiling) if iso is not None else None,
                deficit=deficit,
                deficit_value=CTX.multiply(deficit, ap.price),
                suppliers=concentration(cols.ids, supply_cols[:, k]),
                borrowers=concentration(cols.ids, borrow_cols[:, k]),
            )
        )
    return out
