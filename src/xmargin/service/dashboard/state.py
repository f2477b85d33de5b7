"""The dashboard's view of the live market: book-wide columns kept current, one snapshot
per published batch.

Everything here runs on the event loop, as the writer's publish does, so a snapshot always
reads one committed state. A snapshot costs one incremental refresh of the columns (only
accounts replaced since the last one are re-read) and a few matrix-vector products; it
is reused until the next batch is published (``LiveState.generation``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import Request

from xmargin._typing import Float64Array1D, Int64Array1D
from xmargin.analytics.overview import STATUSES, classify, status_of
from xmargin.analytics.positions import ColumnSums, PositionColumns, column_sums
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth
from xmargin.service.deps import Services

__all__ = ["DashboardCache", "Snapshot", "dashboard_cache", "figure", "with_perps"]


@dataclass(frozen=True)
class Snapshot:
    """The book at one published state."""

    generation: int
    journal_seq: int
    market: Market
    cols: PositionColumns
    prices: Float64Array1D
    sums: ColumnSums
    status: Int64Array1D
    #: views computed from this snapshot, by name (shared by every request until the next)
    memo: dict[str, Any] = field(default_factory=dict)


class DashboardCache:
    """One per app: the columns and the latest snapshot."""

    def __init__(self) -> None:
        self._cols: PositionColumns | None = None
        self._snap: Snapshot | None = None

    def snapshot(self, services: Services) -> Snapshot:
        live = services.live
        snap = self._snap
        if snap is not None and snap.generation == live.generation and snap.market is live.market:
            return snap
        market = live.market
        if self._cols is None:
            self._cols = PositionColumns(market)
        else:
            self._cols.refresh(market)
        cols = self._cols
        p = cols.price_vector({a: ap.price for a, ap in market.assets.items()})
        level = services.settings.at_risk_below
        healths = services.risk.health_of_perp_accounts(market)
        sums = with_perps(cols, column_sums(cols, p), healths)
        status = classify(market, cols, sums, level)
        for acc_id, h in healths.items():
            r = cols.row_of(acc_id)
            if r is not None:
                status[r] = STATUSES.index(status_of(h, level))
        self._snap = Snapshot(live.generation, live.last_seq, market, cols, p, sums, status)
        return self._snap


def with_perps(
    cols: PositionColumns, sums: ColumnSums, healths: Mapping[str, AccountHealth]
) -> ColumnSums:
    """``sums`` with the rows of accounts that hold perp positions replaced by their exact
    figures ``healths`` (contract 5.2), as floats.

    The dashboard's columns hold balances only (the risk view's book holds perps); perp
    accounts are few in a lending market, so their exact figures stand in their rows.
    Every view of the overview (totals,
    statuses, the health distribution, the accounts nearest to liquidation) then counts
    their perps. The liquidation map still moves only balances with a price: it does not
    move a perp's pnl with its underlying.
    """
    if not healths:
        return sums
    out = ColumnSums(*(column.copy() for column in sums))
    for acc_id, h in healths.items():
        r = cols.row_of(acc_id)
        if r is None:
            continue
        for column, value in zip(out, h[:6], strict=True):
            column[r] = float(value)
    return out


def dashboard_cache(request: Request) -> DashboardCache:
    """The app's cache, made at its first use."""
    state = request.app.state
    cache: DashboardCache | None = getattr(state, "dashboard", None)
    if cache is None:
        cache = DashboardCache()
        state.dashboard = cache
    return cache


def figure(x: float) -> str:
    """A float64 book-wide figure as a decimal string of 12 significant digits."""
    if not math.isfinite(x):
        raise ValueError(f"not a finite figure: {x}")
    d = Decimal(f"{x:.12g}")
    if not d:
        return "0"
    return format(d.normalize(), "f")
