"""Trading options and settling them at expiry (contract 6.1, 6.4), as pure quotes.

``quote_trade_option`` returns exactly what a trade would do without changing the market;
the ledger (:mod:`xmargin.ledger.options`) commits it. The premium size·price moves
through the settlement asset by the perps' flow rules (5.3 step 3: a credit repays borrow
first, a debit draws supply first; a credit's units round down, a debit's up). A trade
that lowers |q| without flipping is never refused for margin; any other must leave
initial_collateral >= initial_debt (``insufficient_margin``), as 5.3 step 4. A refused
trade raises here, so nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xmargin.errors import InvalidPrice
from xmargin.mathlib import CTX, ZERO, exact, quantize_down, quantize_up
from xmargin.model.account import Account
from xmargin.model.liquidation_params import format_time
from xmargin.model.market import Market
from xmargin.model.numbers import NumberError, parse_number
from xmargin.option_errors import OptionExpired
from xmargin.risk.health import account_health
from xmargin.risk.options import is_expired, mark_value, settlement_value
from xmargin.risk.settlement import PRICE_DECIMALS, apply_flow
from xmargin.risk.trading import check_trade_margin, is_risk_reducing, parse_size

__all__ = [
    "OptionTradeQuote",
    "SettledOption",
    "default_price",
    "parse_premium_price",
    "quote_trade_option",
    "settle_expired",
]


@dataclass(frozen=True)
class OptionTradeQuote:
    """What an option trade does: the fields of contract 5.7's ``trade`` JSON with
    ``option`` in place of ``perp`` (an option has no entry price, realises no PnL and
    pays no funding: ``entry_price`` is ``None``, ``realized_pnl`` and ``funding_paid``
    0), then ``price`` (quote per contract), ``premium`` (size·price, quote; > 0 when the
    account pays) and ``settlement_units`` (units moved into (> 0) or out of the
    settlement asset's balance)."""

    account: str
    option: str
    size_before: Decimal
    size_after: Decimal
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    price: Decimal
    premium: Decimal
    settlement_units: Decimal
    account_after: Account = field(repr=False, compare=False)
    entry_price: None = None
    realized_pnl: Decimal = ZERO
    funding_paid: Decimal = ZERO


@exact
def parse_premium_price(value: object, option: str) -> Decimal:
    """An execution price >= 0, quote per contract (a worthless option trades at 0)."""
    try:
        price = parse_number(value)
    except NumberError as exc:
        raise InvalidPrice(option, value, exc.reason) from None
    if price < ZERO:
        raise InvalidPrice(option, value, "must be >= 0")
    return price


def default_price(market: Market, option_name: str, delta: Decimal) -> Decimal:
    """The mark value (6.1) as an execution price, held to 18 places against the trader,
    who acts: rounded up for a buy, down for a sell (docs/rounding.md)."""
    value = mark_value(market, option_name)
    if delta > ZERO:
        return quantize_up(value, PRICE_DECIMALS)
    return quantize_down(value, PRICE_DECIMALS)


@exact
def quote_trade_option(
    market: Market,
    account_id: str,
    option_name: str,
    size_delta: Decimal | str,
    price: Decimal | str | None = None,
) -> OptionTradeQuote:
    """Exactly what trading ``size_delta`` contracts (> 0 buys) of ``option_name`` at
    ``price`` (default the mark value, 6.1) would do (contract 6.4).

    Raises
    ------
    UnknownAccount, UnknownOption, OptionExpired, InvalidAmount, InvalidPrice
        Bad input.
    InsufficientMargin
        Refused by a rule.
    """
    option = market.option(option_name)
    account = market.account(account_id)
    if is_expired(option, market):
        raise OptionExpired(option_name, format_time(option.expiry))
    delta = parse_size(size_delta, market.assets[option.underlying].decimals, "size")
    if price is None:
        x = default_price(market, option_name, delta)
    else:
        x = parse_premium_price(price, option_name)
    before = account_health(account, market)
    after = account.copy()
    q = account.option_size(option_name)
    premium = CTX.multiply(delta, x)  # contracts x quote/contract = quote
    units = apply_flow(after, market, option.settlement_asset, -premium)
    q_after = q + delta
    after.set_option(option_name, q_after)
    if not is_risk_reducing(q, q_after):
        check_trade_margin(market, after)
    return OptionTradeQuote(
        account=account_id,
        option=option_name,
        size_before=q,
        size_after=q_after,
        health_factor_before=before.health_factor,
        health_factor_after=account_health(after, market).health_factor,
        price=x,
        premium=premium,
        settlement_units=units,
        account_after=after,
    )


@dataclass(frozen=True)
class SettledOption:
    """One position settled at expiry (contract 6.1): ``value`` = q·max(0, ±(S − K)) in
    quote (> 0 received), ``units`` of the settlement asset moved (signed)."""

    account: str
    option: str
    size: Decimal
    spot: Decimal
    value: Decimal
    units: Decimal


def settle_expired(account: Account, market: Market) -> list[SettledOption]:
    """Settle ``account``'s expired positions (a copy being changed): each pays
    q·max(0, ±(S − K)), undiscounted, through its settlement asset (5.3 step 3), and is
    removed (contract 6.1). Returns what was settled, in the account's order."""
    done: list[SettledOption] = []
    for name, q in list(account.options.items()):
        option = market.options[name]
        if not is_expired(option, market):
            continue
        spot = market.assets[option.underlying].price
        value = CTX.multiply(q, settlement_value(option, spot))
        units = apply_flow(account, market, option.settlement_asset, value)
        account.set_option(name, ZERO)
        done.append(SettledOption(account.id, name, q, spot, value, units))
    return done
