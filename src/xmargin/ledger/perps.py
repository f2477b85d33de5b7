"""Ledger actions on perp positions: trade, settle, set the funding index, liquidate
(contract 5.3–5.5).

Same shape as every action: a pure quote (``risk.trading``, ``risk.perp_liquidation``)
validates and computes the account after, refusing before anything changes; then
:func:`commit_account` applies it with the market-wide state it moves (totals, open
interest, isolation debt, the insurance fund, the deficit); then an event.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from xmargin.errors import InvalidAmount
from xmargin.ledger.actions import draw_insurance_fund
from xmargin.ledger.events import LedgerEvent
from xmargin.mathlib import ZERO, exact
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.numbers import NumberError, parse_number
from xmargin.risk.perp_liquidation import PerpLiquidationQuote, quote_perp_liquidation
from xmargin.risk.trading import SettleQuote, TradeQuote, quote_settle, quote_trade

__all__ = [
    "commit_account",
    "execute_liquidate_perp",
    "execute_settle",
    "execute_trade",
    "set_funding_index",
]


def _add(total: dict[str, Decimal], key: str, delta: Decimal) -> None:
    v = total.get(key, ZERO) + delta
    if v:
        total[key] = v
    else:
        total.pop(key, None)


def _sides(account: Account, perp: str) -> tuple[Decimal, Decimal]:
    pos = account.position(perp)
    q = pos.size if pos is not None else ZERO
    return max(q, ZERO), max(-q, ZERO)


def commit_account(market: Market, after: Account) -> None:
    """Replace an account's balances and positions by ``after`` and move the market-wide
    state with them: totals, open interest and isolation debt.

    Isolation debt (contract 1.3) rises by the value of borrow a flow draws for an
    isolated supplier and falls by the value of borrow repaid or written off, valued at
    today's prices (units x quote/unit = quote), as the spot actions do; never below 0.
    """
    account = market.account(after.id)
    iso = market.isolated_collateral_of(account)
    for a in set(account.supply) | set(after.supply):
        _add(market.total_supply, a, after.supplied(a) - account.supplied(a))
    for a in set(account.borrow) | set(after.borrow):
        change = after.borrowed(a) - account.borrowed(a)
        _add(market.total_borrow, a, change)
        if iso is not None and change:
            left = market.isolation_debt.get(iso, ZERO) + change * market.assets[a].price
            market.isolation_debt[iso] = left if left > ZERO else ZERO
    if account.perps or after.perps:
        oi = dict(market.open_interest)
        for name in set(account.perps) | set(after.perps):
            long0, short0 = _sides(account, name)
            long1, short1 = _sides(after, name)
            long, short = oi.get(name, (ZERO, ZERO))
            sides = (long + long1 - long0, short + short1 - short0)
            if any(sides):
                oi[name] = sides
            else:  # as the totals: a perp nobody holds has no entry
                oi.pop(name, None)
        market.open_interest = oi
    account.supply = dict(after.supply)
    account.borrow = dict(after.borrow)
    account.perps = dict(after.perps)


@exact
def execute_trade(
    market: Market,
    account_id: str,
    perp: str,
    size_delta: Decimal | str,
    price: Decimal | str | None = None,
) -> TradeQuote:
    """Trade ``size_delta`` base units (> 0 buys) of ``perp`` at ``price`` (default the
    oracle price P), as contract 5.3 says; returns what was done.

    Raises :class:`~xmargin.errors.InsufficientMargin` or
    :class:`~xmargin.errors.OpenInterestCapExceeded` (exit 1) and changes nothing when
    refused.
    """
    quote = quote_trade(market, account_id, perp, size_delta, price)
    commit_account(market, quote.account_after)
    return quote


@exact
def execute_settle(market: Market, account_id: str, perp: str) -> SettleQuote:
    """Realise ``account_id``'s pnl in ``perp`` into its settlement asset, q unchanged (5.3)."""
    quote = quote_settle(market, account_id, perp)
    commit_account(market, quote.account_after)
    return quote


@exact
def set_funding_index(market: Market, perp: str, index: Decimal | str) -> LedgerEvent:
    """Move the funding index F of ``perp`` (contract 5.3): any finite number within the
    contract's magnitudes, the oracle's job. Positions settle it when they next trade."""
    params = market.perp(perp)
    try:
        value = parse_number(index)
    except NumberError as exc:
        raise InvalidAmount(f"perps.{perp}.funding_index", index, exc.reason) from None
    market.perps = {**market.perps, perp: params.model_copy(update={"funding_index": value})}
    return LedgerEvent("set_funding_index", "", perp, value, {"previous": params.funding_index})


@exact
def execute_liquidate_perp(
    market: Market, account_id: str, perp: str, size: Decimal | Literal["max"] | str
) -> PerpLiquidationQuote:
    """Liquidate ``size`` base units (or ``"max"``) of ``account_id``'s position in
    ``perp`` as contract 5.4 says; returns what was done."""
    quote = quote_perp_liquidation(market, account_id, perp, size)
    commit_account(market, quote.account_after)
    if quote.insurance_fund_intake:
        settle = market.perps[perp].settlement_asset
        fund = dict(market.insurance_fund)
        fund[settle] = fund.get(settle, ZERO) + quote.insurance_fund_intake
        market.insurance_fund = fund
    draw_insurance_fund(market, quote.insurance_fund_used)
    for a, units in quote.bad_debt.items():
        market.deficit[a] = market.deficit.get(a, ZERO) + units
    return quote
