"""One account under the microscope: its positions, weights and liquidation prices, and
what a price shock would do to it. Exact (Decimal), and read-only: nothing changes.

The what-if re-prices a copy of the market (contract 4 ``stress``'s shock: price × (1 +
shock)), recomputes every figure of contract section 2, and, if the account is then
liquidatable, quotes the largest liquidation a liquidator could make (contract 3: its
largest debt against its largest collateral, ``max``) — or the rule that refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

from xmargin.errors import RuleViolation
from xmargin.mathlib import CTX, ZERO, exact
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth, account_health
from xmargin.risk.liquidation import LiquidationQuote, quote_liquidation
from xmargin.risk.liquidation_price import LiquidationPrice, liquidation_price
from xmargin.risk.shocks import shocked_prices
from xmargin.risk.weights import effective_weights

__all__ = ["AccountRisk", "PositionRisk", "WhatIf", "account_risk", "largest", "what_if"]


class PositionRisk(NamedTuple):
    """One asset of an account: units, values (quote), effective weights, liquidation price."""

    asset: str
    price: Decimal
    supply: Decimal
    borrow: Decimal
    supply_value: Decimal
    borrow_value: Decimal
    collateral_factor: Decimal
    liquidation_threshold: Decimal
    borrow_weight: Decimal
    maintenance_borrow_weight: Decimal
    liquidation_price: LiquidationPrice


class AccountRisk(NamedTuple):
    account: str
    category: str | None
    health: AccountHealth
    positions: list[PositionRisk]


@exact
def account_risk(market: Market, account_id: str) -> AccountRisk:
    """Every figure of ``account_id`` and, per asset it holds, its liquidation price."""
    acc = market.account(account_id)
    category = market.category_of(acc)
    positions = []
    for a in market.assets:
        s, b = acc.supplied(a), acc.borrowed(a)
        if not s and not b:
            continue
        ap = market.assets[a]
        w = effective_weights(ap, category, s, b)
        positions.append(
            PositionRisk(
                asset=a,
                price=ap.price,
                supply=s,
                borrow=b,
                supply_value=CTX.multiply(s, ap.price),
                borrow_value=CTX.multiply(b, ap.price),
                collateral_factor=w.collateral_factor,
                liquidation_threshold=w.liquidation_threshold,
                borrow_weight=w.borrow_weight,
                maintenance_borrow_weight=w.maintenance_borrow_weight,
                liquidation_price=liquidation_price(market, account_id, a),
            )
        )
    return AccountRisk(acc.id, acc.category, account_health(acc, market), positions)


def largest(market: Market, units: Mapping[str, Decimal]) -> str | None:
    """The asset of ``units`` worth most at the market's prices (ties: first listed)."""
    best, best_value = None, ZERO
    for a, u in units.items():
        v = CTX.multiply(u, market.assets[a].price)
        if best is None or v > best_value:
            best, best_value = a, v
    return best


class WhatIf(NamedTuple):
    """``account`` before and after ``shocks`` (fractions: -0.2 = -20%).

    ``liquidation``: the largest liquidation at the shocked prices, when the account is
    then liquidatable and a rule allows one; ``refused``: the rule's message otherwise.
    """

    account: str
    shocks: dict[str, Decimal]
    prices: dict[str, Decimal]
    before: AccountHealth
    after: AccountHealth
    liquidation: LiquidationQuote | None
    refused: str | None


@exact
def what_if(market: Market, account_id: str, shocks: Mapping[str, Decimal]) -> WhatIf:
    """What ``shocks`` would do to ``account_id``; ``market`` is not changed.

    Raises
    ------
    UnknownAccount, UnknownAsset
        Bad input.
    InvalidPrice
        A shock that would leave a price at or below zero.
    """
    acc = market.account(account_id)
    prices = shocked_prices({a: ap.price for a, ap in market.assets.items()}, shocks, "shocks")
    shocked = market.with_prices(prices)
    before = account_health(acc, market)
    after = account_health(acc, shocked)
    quote: LiquidationQuote | None = None
    refused: str | None = None
    if after.liquidatable:
        debt = largest(shocked, acc.borrow)
        coll = largest(shocked, acc.supply)
        if debt is None or coll is None:
            refused = "no collateral left to seize: the debt is bad debt (contract 3.7)"
        else:
            try:
                quote = quote_liquidation(shocked, account_id, debt, coll, "max")
            except RuleViolation as exc:
                refused = exc.message
    return WhatIf(acc.id, dict(shocks), prices, before, after, quote, refused)
