"""Ledger actions of Dutch auctions (contract 8.2): start, take, reset.

Same shape as every action: a pure quote (:mod:`xmargin.risk.auction`) validates and
computes, refusing before anything changes; then the commit moves the account, the
market's auctions, the insurance fund, the deficit and the market's clock.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from xmargin.ledger.perps import commit_account
from xmargin.mathlib import ZERO, exact
from xmargin.model.market import Market
from xmargin.risk.auction import (
    AuctionResetQuote,
    AuctionStartQuote,
    AuctionTakeQuote,
    quote_auction_reset,
    quote_auction_start,
    quote_auction_take,
)

__all__ = [
    "advance_clock",
    "execute_auction_reset",
    "execute_auction_start",
    "execute_auction_take",
    "move_fund_and_deficit",
]


def move_fund_and_deficit(
    market: Market,
    intake: dict[str, Decimal],
    used: dict[str, Decimal],
    deficit_added: dict[str, Decimal],
) -> None:
    """Add ``intake`` to the insurance fund, take ``used`` out of it, add to the deficit."""
    if intake or used:
        fund = dict(market.insurance_fund)
        for a, units in intake.items():
            fund[a] = fund.get(a, ZERO) + units
        for a, units in used.items():
            fund[a] = fund.get(a, ZERO) - units
        market.insurance_fund = {a: v for a, v in fund.items() if v}
    for a, units in deficit_added.items():
        market.deficit[a] = market.deficit.get(a, ZERO) + units


def advance_clock(market: Market, now: datetime) -> None:
    """Move ``market.time`` to ``now`` (actions never run before it)."""
    if market.params.time != now:
        market.params = market.params.model_copy(update={"time": now})


@exact
def execute_auction_start(
    market: Market,
    account_id: str,
    debt_asset: str,
    collateral_asset: str,
    amount: Decimal | Literal["max"] | str = "max",
    at: datetime | str | None = None,
) -> AuctionStartQuote:
    """Start an auction of ``account_id``'s ``collateral_asset`` for its ``debt_asset``
    debt (contract 8.2); returns what was done."""
    quote = quote_auction_start(market, account_id, debt_asset, collateral_asset, amount, at)
    commit_account(market, quote.account_after)
    market.auctions = {**market.auctions, quote.auction.id: quote.auction}
    market.auction_count = quote.auction.id
    move_fund_and_deficit(market, {}, quote.insurance_fund_used, quote.deficit_added)
    advance_clock(market, quote.time)
    return quote


@exact
def execute_auction_take(
    market: Market,
    auction_id: int | str,
    amount: Decimal | Literal["max"] | str = "max",
    max_price: Decimal | str | None = None,
    at: datetime | str | None = None,
) -> AuctionTakeQuote:
    """Buy up to ``amount`` units of an auction's collateral at its current price
    (contract 8.2); returns what was done."""
    quote = quote_auction_take(market, auction_id, amount, max_price, at)
    auctions = dict(market.auctions)
    if quote.auction_after is None:
        del auctions[quote.auction_id]
    else:
        auctions[quote.auction_id] = quote.auction_after
    market.auctions = auctions
    if quote.account_after is not None:
        commit_account(market, quote.account_after)
    intake = {quote.debt_asset: quote.penalty} if quote.penalty else {}
    move_fund_and_deficit(market, intake, quote.insurance_fund_used, quote.bad_debt)
    advance_clock(market, quote.time)
    return quote


@exact
def execute_auction_reset(
    market: Market, auction_id: int | str, at: datetime | str | None = None
) -> AuctionResetQuote:
    """Restart an auction's price from the oracle (contract 8.2); returns what was done."""
    quote = quote_auction_reset(market, auction_id, at)
    market.auctions = {**market.auctions, quote.auction_after.id: quote.auction_after}
    move_fund_and_deficit(market, {}, quote.insurance_fund_used, quote.deficit_added)
    advance_clock(market, quote.time)
    return quote
