"""Deterministic price shocks (contract 4 ``stress``): re-price, then every figure again.

Volatility shocks (contract 6.4, ``--vol-shock``) multiply the volatility of the options on
an underlying, σ → σ·(1 + x) floored at 0, after the prices moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

from xmargin.mathlib import ZERO, exact
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth, account_health
from xmargin.risk.options import with_vol_shocks
from xmargin.risk.shocks import ShockValue, parse_shock, shock_fractions, shocked_prices

__all__ = ["StressResult", "StressSummary", "parse_shock", "stress", "summarize"]


class StressSummary(NamedTuple):
    accounts: int
    liquidatable_accounts: int
    liquidatable_debt: Decimal
    insolvent_debt: Decimal


class StressResult(NamedTuple):
    prices: dict[str, Decimal]
    accounts: list[tuple[str, AccountHealth]]
    summary: StressSummary
    #: the volatility shocks applied, by underlying (fractions)
    vol_shocks: Mapping[str, Decimal] = MappingProxyType({})


def summarize(rows: list[tuple[str, AccountHealth]]) -> StressSummary:
    """Counts and totals of contract 4 ``stress``'s summary."""
    liq = [h for _, h in rows if h.liquidatable]
    insolvent = sum(
        (h.debt_value - h.collateral_value for _, h in rows if h.debt_value > h.collateral_value),
        ZERO,
    )
    return StressSummary(len(rows), len(liq), sum((h.debt_value for h in liq), ZERO), insolvent)


@exact
def stress(
    market: Market,
    shocks: Mapping[str, ShockValue],
    vol_shocks: Mapping[str, ShockValue] | None = None,
) -> StressResult:
    """Apply ``shocks`` (fractions, -0.3 = -30%) and ``vol_shocks`` (by underlying, 0.5 =
    +50 % volatility) and recompute every account exactly. A shock may be a Decimal, an
    int, a float (read through ``str``) or a string (``"-0.3"``, ``"-30%"``)."""
    vol_shocks = shock_fractions(vol_shocks or {}, "--vol-shock")
    prices = shocked_prices({a: p.price for a, p in market.assets.items()}, shocks)
    shocked = market.with_prices(prices)
    if vol_shocks:
        shocked = with_vol_shocks(shocked, vol_shocks)
    rows = [(acc.id, account_health(acc, shocked)) for acc in shocked.accounts.values()]
    return StressResult(prices, rows, summarize(rows), dict(vol_shocks or {}))
