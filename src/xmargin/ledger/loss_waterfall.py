"""Ledger actions of the loss waterfall after the insurance fund (contract 8.4):
socialise a loss over a perp's open interest or an asset's depositors, and deleverage.

A pure quote (:mod:`xmargin.risk.socialized_loss`, :mod:`xmargin.risk.adl`) validates and
computes; the commit moves positions, balances, totals, the supply index, the insurance
fund and the deficit.
"""

from __future__ import annotations

from decimal import Decimal

from xmargin.ledger.actions import draw_insurance_fund
from xmargin.ledger.perps import commit_account
from xmargin.mathlib import ZERO, exact
from xmargin.model.market import Market
from xmargin.risk.adl import DeleverageQuote, quote_deleverage
from xmargin.risk.socialized_loss import (
    PerpLossQuote,
    SpotLossQuote,
    quote_socialize_perp_loss,
    quote_socialize_spot_loss,
)

__all__ = ["execute_deleverage", "execute_socialize_perp_loss", "execute_socialize_spot_loss"]


def _reduce_deficit(market: Market, asset: str, units: Decimal) -> None:
    left = market.deficit.get(asset, ZERO) - units
    if left:
        market.deficit[asset] = left
    else:
        market.deficit.pop(asset, None)


@exact
def execute_socialize_perp_loss(
    market: Market, perp: str, amount: Decimal | str | None = None
) -> PerpLossQuote:
    """Spread ``amount`` (default: all) of the deficit of ``perp``'s settlement asset over
    its open interest through the positions' funding snapshots (contract 8.4)."""
    quote = quote_socialize_perp_loss(market, perp, amount)
    for account_id, position in quote.positions_after.items():
        market.accounts[account_id].set_perp(perp, position)
    _reduce_deficit(market, quote.asset, quote.loss)
    return quote


@exact
def execute_socialize_spot_loss(
    market: Market, asset: str, amount: Decimal | str | None = None
) -> SpotLossQuote:
    """Spread ``amount`` (default: all) of ``asset``'s deficit over its depositors: every
    supply balance and the asset's supply index scale by (1 − loss/total supply)."""
    quote = quote_socialize_spot_loss(market, asset, amount)
    for account_id, units in quote.balances_after.items():
        market.accounts[account_id].set_supply(asset, units)
    total = market.total_supply.get(asset, ZERO) - quote.taken
    if total:
        market.total_supply[asset] = total
    else:
        market.total_supply.pop(asset, None)
    market.supply_index = {**market.supply_index, asset: quote.index_after}
    _reduce_deficit(market, asset, quote.loss)
    return quote


@exact
def execute_deleverage(market: Market, account_id: str, perp: str) -> DeleverageQuote:
    """Close ``account_id``'s bankrupt position in ``perp`` against the most profitable
    opposite positions at its bankruptcy price (contract 8.4)."""
    quote = quote_deleverage(market, account_id, perp)
    for after in quote.accounts_after:
        commit_account(market, after)
    draw_insurance_fund(market, quote.insurance_fund_used)
    for a, units in quote.bad_debt.items():
        market.deficit[a] = market.deficit.get(a, ZERO) + units
    return quote
