"""Liquidation of option positions (docs/contract.md 6.5), one step per function, and a
pure quote.

The liquidator takes positions over at their mark value (6.1), short positions first:
closing c contracts of q moves sign(q)·c·value through the settlement asset (a short pays
to be bought back, a long is paid out), and the account pays ``liquidation_fee`` and
``insurance_fee`` of the closed notional c·S, as a perp's (5.4 step 3). Positions are
closed in turn until the health factor is at least 1 (the last one only as far as
needed) or nothing is left; then bad debt (3.7) with the insurance fund first (5.5).

Rounding (docs/rounding.md): flows round as every flow (credit down, debit up, in
units); the partial close is found on the underlying's decimals and rounds up (enough to
restore health).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xmargin.errors import NothingToLiquidate, NotLiquidatable
from xmargin.mathlib import CTX, ONE, ZERO, exact, quantize_down, quantize_up
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.health import account_health, is_liquidatable, weighted_sums
from xmargin.risk.insurance import write_off_bad_debt
from xmargin.risk.options import expiry_groups
from xmargin.risk.settlement import PRICE_DECIMALS, apply_flow

__all__ = [
    "MAX_BISECTION_STEPS",
    "ClosedOption",
    "OptionLiquidationQuote",
    "close_price",
    "liquidation_order",
    "quote_option_liquidation",
]

#: Steps of the search for the smallest partial close; beyond them the close is the
#: upper bound found (more than the least, never less than enough).
MAX_BISECTION_STEPS = 64


@dataclass(frozen=True)
class ClosedOption:
    """One position closed: ``closed`` contracts of ``size_before`` at ``value`` per
    contract (quote), fees in quote, ``settlement_units`` of its settlement asset moved by
    the close (signed; the fees are not in it)."""

    option: str
    size_before: Decimal
    closed: Decimal
    value: Decimal
    settlement_units: Decimal
    liquidator_fee: Decimal
    insurance_fee: Decimal


@dataclass(frozen=True)
class OptionLiquidationQuote:
    """What liquidating an account's options does (``liquidate --options`` JSON, plus the
    state after). Fees in quote; ``bad_debt``, ``insurance_fund_used`` and
    ``insurance_fund_intake`` in units per asset."""

    account: str
    closed: tuple[ClosedOption, ...]
    liquidator_fee: Decimal
    insurance_fee: Decimal
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    bad_debt: dict[str, Decimal]
    insurance_fund_used: dict[str, Decimal]
    insurance_fund_intake: dict[str, Decimal]
    account_after: Account = field(repr=False, compare=False)


def close_price(q: Decimal, value: Decimal) -> Decimal:
    """The mark value at which the liquidator takes a position over, held to 18 places
    against the liquidator, who acts: a short's (the account pays it) rounds down, a
    long's (the account is paid it) up (docs/rounding.md)."""
    if q < ZERO:
        return quantize_down(value, PRICE_DECIMALS)
    return quantize_up(value, PRICE_DECIMALS)


def liquidation_order(account: Account, market: Market) -> list[tuple[str, Decimal, Decimal]]:
    """``(option, q, close price per contract)`` in the order positions are closed:
    shorts first, each side by |q·value| from the largest, then by name."""
    legs = [leg for g in expiry_groups(account, market) for leg in g.legs]

    def key(leg: tuple[str, Decimal, Decimal]) -> tuple[bool, Decimal, str]:
        name, q, value = leg
        return q > ZERO, -abs(CTX.multiply(q, value)), name

    return sorted(((leg.name, leg.q, close_price(leg.q, leg.value)) for leg in legs), key=key)


def _close(
    after: Account, market: Market, name: str, q: Decimal, closed: Decimal, value: Decimal
) -> ClosedOption:
    """Close ``closed`` contracts of ``after``'s position q at ``value``, fees paid."""
    option = market.options[name]
    settle = option.settlement_asset
    sign = ONE if q > ZERO else -ONE
    units = apply_flow(after, market, settle, CTX.multiply(sign * closed, value))
    after.set_option(name, q - sign * closed)
    notional = CTX.multiply(closed, market.assets[option.underlying].price)
    liquidator_fee = CTX.multiply(notional, option.liquidation_fee)
    insurance_fee = CTX.multiply(notional, option.insurance_fee)
    return ClosedOption(name, q, closed, value, units, liquidator_fee, insurance_fee)


def _pay_fees(
    after: Account, market: Market, done: ClosedOption, intake: dict[str, Decimal]
) -> None:
    settle = market.options[done.option].settlement_asset
    apply_flow(after, market, settle, -done.liquidator_fee)
    paid = -apply_flow(after, market, settle, -done.insurance_fee)
    if paid:
        intake[settle] = intake.get(settle, ZERO) + paid


def _healthy(account: Account, market: Market) -> bool:
    sums = weighted_sums(account, market)
    return not is_liquidatable(sums.maintenance_collateral, sums.maintenance_debt)


def _trial(
    account: Account, market: Market, name: str, q: Decimal, closed: Decimal, value: Decimal
) -> tuple[Account, ClosedOption, dict[str, Decimal]]:
    trial = account.copy()
    intake: dict[str, Decimal] = {}
    done = _close(trial, market, name, q, closed, value)
    _pay_fees(trial, market, done, intake)
    return trial, done, intake


def _least_close(
    account: Account, market: Market, name: str, q: Decimal, value: Decimal
) -> Decimal:
    """The fewest contracts of q (on the underlying's decimals) whose close leaves health
    >= 1, given that closing all of |q| does; bisection, at most MAX_BISECTION_STEPS."""
    unit = Decimal(1).scaleb(-market.assets[market.options[name].underlying].decimals)
    lo, hi = ZERO, abs(q)  # lo: not enough; hi: enough
    for _ in range(MAX_BISECTION_STEPS):
        if hi - lo <= unit:
            break
        steps = CTX.divide(hi - lo, unit) // 2
        mid = lo + CTX.multiply(steps, unit)
        if _healthy(_trial(account, market, name, q, mid, value)[0], market):
            hi = mid
        else:
            lo = mid
    return hi


@exact
def quote_option_liquidation(market: Market, account_id: str) -> OptionLiquidationQuote:
    """Exactly what liquidating ``account_id``'s option positions would do (module
    docstring), without changing ``market``.

    Raises
    ------
    UnknownAccount
        Bad input.
    NotLiquidatable, NothingToLiquidate
        Refused by a rule: the account is not liquidatable, or holds no option.
    """
    account = market.account(account_id)
    before = account_health(account, market)
    if not before.liquidatable:
        raise NotLiquidatable(account_id, before.health_factor)
    if not account.options:
        raise NothingToLiquidate(account_id, "holds no option position")
    after = account.copy()
    intake: dict[str, Decimal] = {}
    closed: list[ClosedOption] = []
    for name, q, value in liquidation_order(account, market):
        trial, done, paid = _trial(after, market, name, q, abs(q), value)
        if _healthy(trial, market):
            least = _least_close(after, market, name, q, value)
            if least != abs(q):
                trial, done, paid = _trial(after, market, name, q, least, value)
            after = trial
            closed.append(done)
            for a, u in paid.items():
                intake[a] = intake.get(a, ZERO) + u
            break
        after = trial
        closed.append(done)
        for a, u in paid.items():
            intake[a] = intake.get(a, ZERO) + u
    fund = dict(market.insurance_fund)
    for a, u in intake.items():
        fund[a] = fund.get(a, ZERO) + u
    used, bad = write_off_bad_debt(after, market, fund)
    return OptionLiquidationQuote(
        account=account_id,
        closed=tuple(closed),
        liquidator_fee=sum((c.liquidator_fee for c in closed), ZERO),
        insurance_fee=sum((c.insurance_fee for c in closed), ZERO),
        health_factor_before=before.health_factor,
        health_factor_after=account_health(after, market).health_factor,
        bad_debt=bad,
        insurance_fund_used=used,
        insurance_fund_intake=intake,
        account_after=after,
    )
