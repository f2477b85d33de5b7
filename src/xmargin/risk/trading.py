"""Trading and settlement of perp positions (contract 5.3), as pure quotes.

``quote_trade`` and ``quote_settle`` return exactly what executing would do (the account
after, realised PnL, funding paid, health before and after) without changing the
market; the ledger (:mod:`xmargin.ledger.perps`) commits a quote. A refused trade raises
here, so nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xmargin.errors import (
    InsufficientMargin,
    InvalidAmount,
    NoPosition,
    OpenInterestCapExceeded,
)
from xmargin.mathlib import ZERO, exact, quantize_down
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.numbers import NumberError, parse_number
from xmargin.model.perps import PerpParams, PerpPosition
from xmargin.risk.health import account_health, weighted_sums
from xmargin.risk.settlement import (
    apply_flow,
    average_entry_price,
    funding_payment,
    realized_pnl,
)
from xmargin.risk.validation import parse_price

__all__ = [
    "SettleQuote",
    "TradeQuote",
    "check_open_interest",
    "check_trade_margin",
    "is_risk_reducing",
    "parse_price",
    "parse_size",
    "quote_settle",
    "quote_trade",
]


@dataclass(frozen=True)
class TradeQuote:
    """What a trade does (contract 5.7 ``trade`` JSON fields, plus the state after).

    Values in quote: ``realized_pnl`` (> 0 a gain), ``funding_paid`` (> 0 when the account
    pays). ``entry_price`` is ``None`` for a position closed to 0.
    """

    account: str
    perp: str
    size_before: Decimal
    size_after: Decimal
    entry_price: Decimal | None
    realized_pnl: Decimal
    funding_paid: Decimal
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    #: the execution price X, quote per base unit
    price: Decimal
    #: units moved into (> 0) or out of the settlement asset's balance, all flows together
    settlement_units: Decimal
    account_after: Account = field(repr=False, compare=False)


@dataclass(frozen=True)
class SettleQuote:
    """What ``settle`` does: realises pnl into the settlement asset, q unchanged (5.3)."""

    account: str
    perp: str
    size: Decimal
    price: Decimal
    realized_pnl: Decimal
    funding_paid: Decimal
    settlement_units: Decimal
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    account_after: Account = field(repr=False, compare=False)


@exact
def parse_size(value: object, decimals: int, field: str = "size", signed: bool = True) -> Decimal:
    """A non-zero size in base units held to the underlying's ``decimals``; positive unless
    ``signed``. Else :class:`InvalidAmount`."""
    try:
        size = parse_number(value)
    except NumberError as exc:
        raise InvalidAmount(field, value, exc.reason) from None
    if not size or (not signed and size < ZERO):
        raise InvalidAmount(field, value, "must be non-zero" if signed else "must be > 0")
    if quantize_down(size, decimals) != size:
        raise InvalidAmount(field, value, f"has more than {decimals} decimal places")
    return size


def is_risk_reducing(q: Decimal, q_after: Decimal) -> bool:
    """Whether a trade leaves |q| lower without flipping: never refused for margin (5.3)."""
    return abs(q_after) < abs(q) and (not q_after or (q_after > ZERO) == (q > ZERO))


def check_trade_margin(market: Market, after: Account) -> None:
    """5.3 step 4: afterwards initial_collateral ≥ initial_debt, else insufficient_margin."""
    sums = weighted_sums(after, market)
    if sums.initial_collateral < sums.initial_debt:
        raise InsufficientMargin(after.id, "trade", sums.initial_collateral, sums.initial_debt)


def check_open_interest(market: Market, perp: PerpParams, q: Decimal, q_after: Decimal) -> None:
    """5.3 step 4: the open interest of the new position's side, summed over all accounts
    after the trade, is at most ``open_interest_cap`` (base units per side)."""
    cap = perp.open_interest_cap
    if cap is None or not q_after:
        return
    long, short = market.open_interest.get(perp.name, (ZERO, ZERO))
    long_after = long - max(q, ZERO) + max(q_after, ZERO)
    short_after = short - max(-q, ZERO) + max(-q_after, ZERO)
    side, total = ("long", long_after) if q_after > ZERO else ("short", short_after)
    if total > cap:
        raise OpenInterestCapExceeded(perp.name, side, total, cap)


@exact
def quote_trade(
    market: Market,
    account_id: str,
    perp_name: str,
    size_delta: Decimal | str,
    price: Decimal | str | None = None,
) -> TradeQuote:
    """Exactly what ``trade(account, perp, size_delta, price = P)`` would do (5.3).

    Raises
    ------
    UnknownAccount, UnknownPerp, InvalidAmount, InvalidPrice
        Bad input.
    InsufficientMargin, OpenInterestCapExceeded
        Refused by a rule (margin is checked first).
    """
    perp = market.perp(perp_name)
    account = market.account(account_id)
    delta = parse_size(size_delta, market.assets[perp.underlying].decimals, "size")
    x = market.perp_price(perp) if price is None else parse_price(perp_name, price)
    settle = perp.settlement_asset
    before = account_health(account, market)
    after = account.copy()
    pos = account.position(perp_name)
    q = pos.size if pos is not None else ZERO

    # 1. funding first, 2. the position, 3. flows in the order of the steps.
    funding = funding_payment(pos, perp) if pos is not None else ZERO
    units = apply_flow(after, market, settle, -funding)
    q_after = q + delta
    realized = ZERO
    if pos is None or (q > ZERO) == (delta > ZERO):
        entry: Decimal | None = average_entry_price(q, pos.entry_price if pos else x, delta, x)
    else:
        closed = min(abs(delta), abs(q))
        realized = realized_pnl(closed, x, pos.entry_price, q)
        if not q_after:
            entry = None
        elif (q_after > ZERO) == (q > ZERO):
            entry = pos.entry_price  # reduced: the rest keeps its entry
        else:
            entry = x  # flipped: the remainder opens at X
    units += apply_flow(after, market, settle, realized)
    new = PerpPosition(q_after, entry, perp.funding_index) if entry is not None else None
    after.set_perp(perp_name, new)

    # 4. margin, then open interest, unless the trade only reduces the position.
    if not is_risk_reducing(q, q_after):
        check_trade_margin(market, after)
        check_open_interest(market, perp, q, q_after)
    return TradeQuote(
        account=account_id,
        perp=perp_name,
        size_before=q,
        size_after=q_after,
        entry_price=entry,
        realized_pnl=realized,
        funding_paid=funding,
        health_factor_before=before.health_factor,
        health_factor_after=account_health(after, market).health_factor,
        price=x,
        settlement_units=units,
        account_after=after,
    )


@exact
def quote_settle(market: Market, account_id: str, perp_name: str) -> SettleQuote:
    """Exactly what ``settle(account, perp)`` would do (5.3): realise pnl into the
    settlement asset without changing q; E := P, f := F. Never refused for margin.

    Raises
    ------
    UnknownAccount, UnknownPerp
        Bad input.
    NoPosition
        The account holds no position in the perp.
    """
    perp = market.perp(perp_name)
    account = market.account(account_id)
    pos = account.position(perp_name)
    if pos is None:
        raise NoPosition(account_id, perp_name)
    p = market.perp_price(perp)
    before = account_health(account, market)
    after = account.copy()
    funding = funding_payment(pos, perp)
    units = apply_flow(after, market, perp.settlement_asset, -funding)
    realized = realized_pnl(abs(pos.size), p, pos.entry_price, pos.size)
    units += apply_flow(after, market, perp.settlement_asset, realized)
    after.set_perp(perp_name, PerpPosition(pos.size, p, perp.funding_index))
    return SettleQuote(
        account=account_id,
        perp=perp_name,
        size=pos.size,
        price=p,
        realized_pnl=realized,
        funding_paid=funding,
        settlement_units=units,
        health_factor_before=before.health_factor,
        health_factor_after=account_health(after, market).health_factor,
        account_after=after,
    )
