"""Deterministic price shocks (contract 4 ``stress``): re-price, then every figure again.

Volatility shocks (contract 6.4, ``--vol-shock``) multiply the volatility of the options on
an underlying, σ → σ·(1 + x) floored at 0, after the prices moved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

from xmargin.errors import InputError, UnknownAsset
from xmargin.mathlib import ONE, ZERO, exact
from xmargin.model.market import Market
from xmargin.model.numbers import parse_number
from xmargin.risk.health import AccountHealth, account_health
from xmargin.risk.options import with_vol_shocks

__all__ = ["StressResult", "StressSummary", "parse_shock", "shocked_prices", "stress"]

_PERCENT = Decimal(100)
_SHOCK = re.compile(r"^\s*([^=\s]+)\s*=\s*([^%\s]+)\s*(%?)\s*$")


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


@exact
def parse_shock(text: str) -> tuple[str, Decimal]:
    """``"WETH=-30%"`` -> ``("WETH", Decimal("-0.3"))``; a bare number is a fraction."""
    m = _SHOCK.match(text)
    if m is None:
        raise InputError(f"--shock {text!r}: expected ASSET=-30% (or ASSET=-0.3)")
    asset, number, pct = m.groups()
    try:
        value = parse_number(number)
    except ValueError as exc:
        raise InputError(f"--shock {text!r}: {exc}") from None
    shock = value / _PERCENT if pct else value
    if shock <= -ONE:
        raise InputError(f"--shock {text!r}: must be above -100% so that the price stays > 0")
    return asset, shock


@exact
def shocked_prices(market: Market, shocks: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Every shocked asset's price multiplied by (1 + shock)."""
    out: dict[str, Decimal] = {}
    for asset, shock in shocks.items():
        if asset not in market.assets:
            raise UnknownAsset(asset, "--shock")
        out[asset] = market.assets[asset].price * (ONE + shock)
    return out


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
    shocks: Mapping[str, Decimal],
    vol_shocks: Mapping[str, Decimal] | None = None,
) -> StressResult:
    """Apply ``shocks`` (fractions, -0.3 = -30%) and ``vol_shocks`` (by underlying, 0.5 =
    +50 % volatility) and recompute every account exactly."""
    prices = shocked_prices(market, shocks)
    shocked = market.with_prices(prices)
    if vol_shocks:
        shocked = with_vol_shocks(shocked, vol_shocks)
    rows = [(acc.id, account_health(acc, shocked)) for acc in shocked.accounts.values()]
    return StressResult(prices, rows, summarize(rows), dict(vol_shocks or {}))
