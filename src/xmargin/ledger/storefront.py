"""Ledger actions of the storefront (contract 8.3): absorb and buy collateral.

A pure quote (:mod:`xmargin.risk.storefront`) validates and computes; the commit moves the
account, the totals, the protocol's collateral holdings and its reserves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from xmargin.ledger.perps import commit_account
from xmargin.mathlib import ZERO, exact
from xmargin.model.market import Market
from xmargin.risk.storefront import (
    AbsorbQuote,
    BuyCollateralQuote,
    quote_absorb,
    quote_buy_collateral,
)

__all__ = ["execute_absorb", "execute_buy_collateral"]


def _moved(book: dict[str, Decimal], asset: str, delta: Decimal) -> None:
    v = book.get(asset, ZERO) + delta
    if v:
        book[asset] = v
    else:
        book.pop(asset, None)


@exact
def execute_absorb(market: Market, account_id: str) -> AbsorbQuote:
    """Absorb ``account_id`` into the protocol (contract 8.3); returns what was done.

    Reserves (units of each asset): + the base supply taken, − every borrow taken over,
    − the excess credited to the account. The other supplied assets join the protocol's
    collateral for sale.
    """
    quote = quote_absorb(market, account_id)
    commit_account(market, quote.account_after)
    reserves = dict(market.reserves)
    held = dict(market.protocol_collateral)
    for a, units in quote.seized.items():
        _moved(reserves if a == quote.base else held, a, units)
    for a, units in quote.absorbed_debt.items():
        _moved(reserves, a, -units)
    _moved(reserves, quote.base, -quote.excess)
    market.reserves = reserves
    market.protocol_collateral = held
    return quote


@exact
def execute_buy_collateral(
    market: Market, asset: str, base_amount: Decimal | Literal["max"] | str
) -> BuyCollateralQuote:
    """Buy ``asset`` from the protocol for ``base_amount`` of the base asset (or all of
    it, ``"max"``), as contract 8.3 says; returns what was done."""
    quote = quote_buy_collateral(market, asset, base_amount)
    reserves = dict(market.reserves)
    _moved(reserves, quote.base, quote.paid)
    held = dict(market.protocol_collateral)
    _moved(held, asset, -quote.bought)
    market.reserves = reserves
    market.protocol_collateral = held
    return quote
