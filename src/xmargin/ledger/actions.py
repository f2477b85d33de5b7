"""Ledger actions on an in-memory market: deposit, withdraw, borrow, repay, liquidate.

Every action has the same shape: ``validate_<action>`` (pure; raises) → apply to a copy
of the account → post-check (margin, for borrow and withdraw) → commit → event. A refused
action raises before the commit and so changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from xmargin.ledger.events import LedgerEvent
from xmargin.mathlib import ZERO, exact
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.liquidation import LiquidationQuote, quote_liquidation
from xmargin.risk.validation import (
    check_initial_margin,
    parse_amount,
    validate_borrow,
    validate_deposit,
    validate_repay,
    validate_withdraw,
)

__all__ = [
    "execute_borrow",
    "execute_deposit",
    "execute_liquidate",
    "execute_repay",
    "execute_withdraw",
]


def _account_for_deposit(market: Market, account_id: str) -> Account:
    """Deposits may open a new account; every other action needs an existing one."""
    acc = market.accounts.get(account_id)
    return acc if acc is not None else Account(account_id)


def _add(total: dict[str, Decimal], asset: str, delta: Decimal) -> None:
    v = total.get(asset, ZERO) + delta
    if v:
        total[asset] = v
    else:
        total.pop(asset, None)


def draw_insurance_fund(market: Market, used: dict[str, Decimal]) -> None:
    """Take what the fund covered out of it (contract 5.5); the mapping is replaced."""
    if used:
        fund = dict(market.insurance_fund)
        for a, units in used.items():
            fund[a] = fund.get(a, ZERO) - units
        market.insurance_fund = {a: v for a, v in fund.items() if v}


def _reduce_isolation_debt(market: Market, account: Account, value: Decimal) -> None:
    iso = market.isolated_collateral_of(account)
    if iso is not None and value > ZERO:
        left = market.isolation_debt.get(iso, ZERO) - value
        market.isolation_debt[iso] = left if left > ZERO else ZERO


@exact
def execute_deposit(
    market: Market, account_id: str, asset: str, amount: Decimal | str
) -> LedgerEvent:
    """Supply ``amount`` units of ``asset``; opens the account if it is new."""
    units = parse_amount(amount, market.asset(asset).decimals)
    account = _account_for_deposit(market, account_id)
    validate_deposit(market, account, asset, units)
    account.set_supply(asset, account.supplied(asset) + units)
    market.accounts.setdefault(account_id, account)
    _add(market.total_supply, asset, units)
    return LedgerEvent("deposit", account_id, asset, units)


@exact
def execute_withdraw(
    market: Market, account_id: str, asset: str, amount: Decimal | str
) -> LedgerEvent:
    """Take back ``amount`` units of supplied ``asset``, if margin still holds after."""
    units = parse_amount(amount, market.asset(asset).decimals)
    account = market.account(account_id)
    validate_withdraw(market, account, asset, units)
    after = account.copy()
    after.set_supply(asset, account.supplied(asset) - units)
    check_initial_margin(market, after, "withdraw")
    account.set_supply(asset, after.supplied(asset))
    _add(market.total_supply, asset, -units)
    return LedgerEvent("withdraw", account_id, asset, units)


@exact
def execute_borrow(
    market: Market, account_id: str, asset: str, amount: Decimal | str
) -> LedgerEvent:
    """Borrow ``amount`` units of ``asset`` if caps, isolation, category and margin allow."""
    ap = market.asset(asset)
    units = parse_amount(amount, ap.decimals)
    account = market.account(account_id)
    validate_borrow(market, account, asset, units)
    after = account.copy()
    after.set_borrow(asset, account.borrowed(asset) + units)
    check_initial_margin(market, after, "borrow")
    account.set_borrow(asset, after.borrowed(asset))
    _add(market.total_borrow, asset, units)
    iso = market.isolated_collateral_of(account)
    if iso is not None:
        market.isolation_debt[iso] = market.isolation_debt.get(iso, ZERO) + units * ap.price
    return LedgerEvent("borrow", account_id, asset, units)


@exact
def execute_repay(
    market: Market, account_id: str, asset: str, amount: Decimal | str
) -> LedgerEvent:
    """Repay ``amount`` units of borrowed ``asset``; never refused for margin."""
    ap = market.asset(asset)
    units = parse_amount(amount, ap.decimals)
    account = market.account(account_id)
    validate_repay(market, account, asset, units)
    account.set_borrow(asset, account.borrowed(asset) - units)
    _add(market.total_borrow, asset, -units)
    _reduce_isolation_debt(market, account, units * ap.price)
    return LedgerEvent("repay", account_id, asset, units)


@exact
def apply_liquidation(market: Market, quote: LiquidationQuote) -> LedgerEvent:
    """Commit a quote: balances, totals, isolation debt, the insurance fund and the
    bad-debt deficit."""
    account = market.account(quote.account)
    before = account.copy()
    after = quote.account_after
    # Isolation debt falls by the value of debt repaid and written off, valued now.
    written = [*quote.bad_debt.items(), *quote.insurance_fund_used.items()]
    removed = quote.repaid * market.assets[quote.debt_asset].price + sum(
        (u * market.assets[a].price for a, u in written), ZERO
    )
    _reduce_isolation_debt(market, before, removed)
    for a in set(before.supply) | set(after.supply):
        _add(market.total_supply, a, after.supplied(a) - before.supplied(a))
    for a in set(before.borrow) | set(after.borrow):
        _add(market.total_borrow, a, after.borrowed(a) - before.borrowed(a))
    for a, units in quote.bad_debt.items():
        market.deficit[a] = market.deficit.get(a, ZERO) + units
    draw_insurance_fund(market, quote.insurance_fund_used)
    account.supply = dict(after.supply)
    account.borrow = dict(after.borrow)
    return LedgerEvent(
        "liquidate",
        quote.account,
        quote.debt_asset,
        quote.repaid,
        {
            "collateral_asset": quote.collateral_asset,
            "seized": quote.seized,
            "protocol_fee": quote.protocol_fee,
            "liquidator_receives": quote.liquidator_receives,
            "bad_debt": dict(quote.bad_debt),
            "insurance_fund_used": dict(quote.insurance_fund_used),
        },
    )


@exact
def execute_liquidate(
    market: Market,
    account_id: str,
    debt_asset: str,
    collateral_asset: str,
    amount: Decimal | Literal["max"] | str,
) -> LiquidationQuote:
    """Liquidate as contract section 3 says; returns what was done."""
    quote = quote_liquidation(market, account_id, debt_asset, collateral_asset, amount)
    apply_liquidation(market, quote)
    return quote
