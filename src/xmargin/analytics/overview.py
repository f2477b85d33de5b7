"""The whole book at a glance: accounts by status, totals, health distribution, and the
accounts nearest to liquidation.

Statuses are decisions, so they equal the exact engine's: each account is classified from
its float64 sums (:func:`xmargin.analytics.positions.column_sums`) by the float rule
:func:`xmargin.fast.health.status_of`, unless it lies within the risk book's tolerance
band of a level (:func:`xmargin.book.screening.needs_recheck`), where
:func:`xmargin.risk.status.status_of` decides on the exact figures. Totals and the
distribution are float64 sums over the book, shown to a person.

Statuses, disjoint, in order of severity:

- ``healthy``: no debt, or health factor >= the warning level ``at_risk_below``;
- ``at_risk``: health factor from 1 up to the warning level;
- ``liquidatable``: health factor < 1 (contract 2), collateral still worth more than debt;
- ``insolvent``: debt worth more than all collateral (collateral_value < debt_value):
  liquidating it ends in bad debt (contract 3.7). Every insolvent account is also
  liquidatable, since lt <= 1 <= mbw makes mc <= cv < dv <= md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import numpy as np

from xmargin._typing import Int64Array1D
from xmargin.analytics.positions import ColumnSums, PositionColumns, column_sums
from xmargin.book.screening import needs_recheck
from xmargin.fast import health as fh
from xmargin.mathlib import CTX, ZERO, exact
from xmargin.model.market import Market
from xmargin.risk import status as rs
from xmargin.risk.health import AccountHealth, account_health

__all__ = [
    "HEALTH_BIN_EDGES",
    "STATUSES",
    "BookOverview",
    "HealthBin",
    "NearLiquidation",
    "book_overview",
    "classify",
    "health_distribution",
    "nearest_to_liquidation",
    "status_of",
    "sums_of",
]

STATUSES = ("healthy", "at_risk", "liquidatable", "insolvent")
HEALTHY, AT_RISK, LIQUIDATABLE, INSOLVENT = range(4)

#: Health-factor buckets of the distribution: [edge_i, edge_i+1); the last is open.
HEALTH_BIN_EDGES = (0.0, 0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0)


def classify(
    market: Market, cols: PositionColumns, sums: ColumnSums, at_risk_below: Decimal
) -> Int64Array1D:
    """Every row's status (index into :data:`STATUSES`), equal to the exact engine's."""
    cv, dv, _, _, mc, md = sums
    warn = float(at_risk_below)
    status: Int64Array1D = np.asarray(fh.status_of(mc, md, warn), dtype=np.int64)
    status[(status == LIQUIDATABLE) & (cv < dv)] = INSOLVENT
    doubt = needs_recheck(mc, md, warn) | needs_recheck(cv, dv, 1.0)
    for r in np.flatnonzero(doubt).tolist():
        h = account_health(market.accounts[cols.ids[r]], market)
        status[r] = STATUSES.index(status_of(h, at_risk_below))
    return status


def status_of(h: AccountHealth, at_risk_below: Decimal) -> str:
    """One account's status (a name in :data:`STATUSES`) from its exact figures: the risk
    status (:func:`xmargin.risk.status.status_of`), ``insolvent`` when liquidatable with
    collateral worth less than debt."""
    status = rs.status_of(h, at_risk_below)
    if status is rs.Status.LIQUIDATABLE and h.collateral_value < h.debt_value:
        return "insolvent"
    return status.label


class BookOverview(NamedTuple):
    """Accounts by status and the book's totals (values in quote).

    ``borrowing_power``: Σ available_to_borrow; ``insolvent_shortfall``: Σ (dv − cv) over
    insolvent accounts, the bad debt ahead; ``deficit_value``: bad debt already written off
    (exact, at today's prices); ``insurance_fund``: ``None`` while the market has none
    (perpetuals bring one).
    """

    accounts: int
    accounts_with_debt: int
    by_status: dict[str, int]
    collateral_value: float
    debt_value: float
    borrowing_power: float
    liquidatable_debt: float
    insolvent_shortfall: float
    deficit_value: Decimal
    insurance_fund: Decimal | None


@exact
def book_overview(
    market: Market, cols: PositionColumns, sums: ColumnSums, status: Int64Array1D
) -> BookOverview:
    """:class:`BookOverview` from the current sums and :func:`classify`'s statuses."""
    cv, dv, ic, id_, _, md = sums
    counts = np.bincount(status, minlength=len(STATUSES))
    liq = status >= LIQUIDATABLE
    insolvent = status == INSOLVENT
    deficit = sum(
        (CTX.multiply(u, market.assets[a].price) for a, u in market.deficit.items()), ZERO
    )
    return BookOverview(
        accounts=cols.n,
        accounts_with_debt=int(np.count_nonzero(md > 0.0)),
        by_status={s: int(counts[i]) for i, s in enumerate(STATUSES)},
        collateral_value=float(cv.sum()),
        debt_value=float(dv.sum()),
        borrowing_power=float(fh.available_to_borrow(ic, id_).sum()),
        liquidatable_debt=float(dv[liq].sum()),
        insolvent_shortfall=float((dv[insolvent] - cv[insolvent]).sum()),
        deficit_value=deficit,
        insurance_fund=None,
    )


class HealthBin(NamedTuple):
    """Accounts with debt whose health factor lies in [low, high) (``high`` None: open)."""

    low: float
    high: float | None
    accounts: int
    debt_value: float
    collateral_value: float


def health_distribution(sums: ColumnSums) -> list[HealthBin]:
    """How accounts with debt spread over :data:`HEALTH_BIN_EDGES` (no debt: no bucket)."""
    cv, dv, _, _, mc, md = sums
    has = md > 0.0
    hf = fh.health_factor(mc[has], md[has])
    edges = np.array(HEALTH_BIN_EDGES, dtype=np.float64)
    which = np.searchsorted(edges, hf, side="right") - 1
    n = len(edges)
    count = np.bincount(which, minlength=n)
    debt = np.bincount(which, weights=dv[has], minlength=n)
    coll = np.bincount(which, weights=cv[has], minlength=n)
    return [
        HealthBin(
            float(edges[i]),
            float(edges[i + 1]) if i + 1 < n else None,
            int(count[i]),
            float(debt[i]),
            float(coll[i]),
        )
        for i in range(n)
    ]


class NearLiquidation(NamedTuple):
    """An account not yet liquidatable, with its health factor and debt (quote)."""

    account: str
    health_factor: float
    debt_value: float
    collateral_value: float


def nearest_to_liquidation(
    cols: PositionColumns, sums: ColumnSums, status: Int64Array1D, limit: int
) -> list[NearLiquidation]:
    """Up to ``limit`` accounts with debt that are not liquidatable, lowest health first."""
    cv, dv, _, _, mc, md = sums
    rows = np.flatnonzero((md > 0.0) & (status < LIQUIDATABLE))
    if rows.size == 0 or limit <= 0:
        return []
    hf = fh.health_factor(mc[rows], md[rows])
    k = min(limit, rows.size)
    pick = np.argpartition(hf, k - 1)[:k] if k < rows.size else np.arange(rows.size)
    pick = pick[np.lexsort((rows[pick], hf[pick]))]
    return [
        NearLiquidation(
            cols.ids[int(rows[i])], float(hf[i]), float(dv[rows[i]]), float(cv[rows[i]])
        )
        for i in pick.tolist()
    ]


def sums_of(market: Market, cols: PositionColumns) -> ColumnSums:
    """The sums of every row at the market's prices."""
    return column_sums(cols, cols.price_vector({a: p.price for a, p in market.assets.items()}))
