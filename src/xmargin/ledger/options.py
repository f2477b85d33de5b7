"""Ledger actions on option positions: trade, settle at expiry, liquidate (contract 6,
docs/contract.md 6.5).

Same shape as every action: a pure quote (:mod:`xmargin.risk.option_trading`,
:mod:`xmargin.risk.option_liquidation`) validates and computes the account after, refusing
before anything changes; then :func:`commit_option_account` applies it with the
market-wide state it moves (totals, isolation debt, the insurance fund, the deficit).
"""

from __future__ import annotations

from decimal import Decimal

from xmargin.ledger.actions import draw_insurance_fund
from xmargin.ledger.perps import commit_account
from xmargin.mathlib import ZERO, exact
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.option_liquidation import OptionLiquidationQuote, quote_option_liquidation
from xmargin.risk.option_trading import (
    OptionTradeQuote,
    SettledOption,
    quote_trade_option,
    settle_expired,
)
from xmargin.risk.options import is_expired

__all__ = [
    "commit_option_account",
    "execute_liquidate_options",
    "execute_trade_option",
    "settle_expired_options",
]


def commit_option_account(market: Market, after: Account) -> None:
    """:func:`~xmargin.ledger.perps.commit_account` (balances, perps, totals, isolation
    debt), then the account's option positions."""
    commit_account(market, after)
    market.account(after.id).options = dict(after.options)


@exact
def execute_trade_option(
    market: Market,
    account_id: str,
    option: str,
    size_delta: Decimal | str,
    price: Decimal | str | None = None,
) -> OptionTradeQuote:
    """Trade ``size_delta`` contracts (> 0 buys) of ``option`` at ``price`` (default the
    mark value): the premium moves through the settlement asset (contract 6.4).

    Raises :class:`~xmargin.errors.InsufficientMargin` (exit 1) and changes nothing when
    refused.
    """
    quote = quote_trade_option(market, account_id, option, size_delta, price)
    commit_option_account(market, quote.account_after)
    return quote


@exact
def settle_expired_options(market: Market) -> list[SettledOption]:
    """Settle every position whose option has expired by ``market.time`` (contract 6.1):
    q·max(0, ±(S − K)) through the settlement asset, the position removed. The loader
    calls it, so no figure is computed with an expired position."""
    done: list[SettledOption] = []
    expired = {n for n, o in market.options.items() if is_expired(o, market)}
    if not expired:
        return done
    for account in list(market.accounts.values()):
        if not expired.intersection(account.options):
            continue
        after = account.copy()
        done.extend(settle_expired(after, market))
        commit_option_account(market, after)
    return done


@exact
def execute_liquidate_options(market: Market, account_id: str) -> OptionLiquidationQuote:
    """Liquidate ``account_id``'s option positions (docs/contract.md 6.5): closed at mark,
    shorts first, until health >= 1 or nothing is left; then bad debt with the insurance
    fund first (5.5). Returns what was done."""
    quote = quote_option_liquidation(market, account_id)
    commit_option_account(market, quote.account_after)
    if quote.insurance_fund_intake:
        fund = dict(market.insurance_fund)
        for a, units in quote.insurance_fund_intake.items():
            fund[a] = fund.get(a, ZERO) + units
        market.insurance_fund = fund
    draw_insurance_fund(market, quote.insurance_fund_used)
    for a, units in quote.bad_debt.items():
        market.deficit[a] = market.deficit.get(a, ZERO) + units
    return quote
