"""Auction price curves and Derive's fraction rule (contract 8.2), one function per rule.

A Dutch auction's price starts at ``top`` and decays with the seconds since it started
(Maker's ``abaci``: ``LinearDecrease``, ``StairstepExponentialDecrease``; Derive's
two-speed auction). Derive sells a fraction of a whole portfolio instead of a lot of
collateral: the bidder may take the fraction that brings the account's buffer margin
back to zero.

Rounding (docs/rounding.md): a price rounds up (the taker, who acts, pays no less); the
fraction a bidder may take rounds down (the limit binds the bidder).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from xmargin.mathlib import CTX, ONE, ZERO, div_down, exact, fmt, quantize_up
from xmargin.model.auction import Auction
from xmargin.model.liquidation_params import AuctionCurve, AuctionParams, seconds_between
from xmargin.model.market import Market
from xmargin.risk.market_clock import action_time

__all__ = [
    "PRICE_DECIMALS",
    "AuctionStatus",
    "auction_price",
    "auction_status",
    "buffer_margin",
    "linear_decrease",
    "max_fraction",
    "needs_reset",
    "stairstep_exponential_decrease",
    "two_speed_decrease",
]

#: Places of an auction price (units of the debt asset per unit of collateral) and of a
#: fraction of a portfolio.
PRICE_DECIMALS = 18


def linear_decrease(dur: Decimal, tau: Decimal) -> Decimal:
    """The price multiplier of Maker's ``LinearDecrease``: (tau − dur)/tau, 0 from tau on.

    >>> linear_decrease(Decimal(900), Decimal(3600))
    Decimal('0.75')
    """
    if dur >= tau:
        return ZERO
    return CTX.divide(CTX.subtract(tau, dur), tau)


def stairstep_exponential_decrease(dur: Decimal, step: Decimal, cut: Decimal) -> Decimal:
    """The multiplier of Maker's ``StairstepExponentialDecrease``: cut^⌊dur/step⌋.

    >>> stairstep_exponential_decrease(Decimal(200), Decimal(90), Decimal("0.99"))
    Decimal('0.9801')
    """
    steps = int(CTX.divide_int(dur, step))
    return CTX.power(cut, steps)


def two_speed_decrease(
    dur: Decimal, fast_floor: Decimal, fast_seconds: Decimal, slow_seconds: Decimal
) -> Decimal:
    """Derive's two-speed multiplier: 1 → fast_floor linearly over ``fast_seconds``, then
    fast_floor → 0 linearly over ``slow_seconds``.

    >>> two_speed_decrease(Decimal(300), Decimal("0.8"), Decimal(600), Decimal(7200))
    Decimal('0.9')
    """
    if dur <= fast_seconds:
        return ONE - CTX.divide(CTX.multiply(ONE - fast_floor, dur), fast_seconds)
    late = CTX.subtract(dur, fast_seconds)
    if late >= slow_seconds:
        return ZERO
    return CTX.multiply(fast_floor, CTX.divide(CTX.subtract(slow_seconds, late), slow_seconds))


def auction_price(params: AuctionParams, top: Decimal, dur: Decimal) -> Decimal:
    """top × the curve's multiplier after ``dur`` seconds, rounded up to 1e-18.

    Rounds up: the taker, who acts, pays no less than the curve says.
    """
    if params.curve is AuctionCurve.LINEAR:
        m = linear_decrease(dur, params.tau)
    elif params.curve is AuctionCurve.STEP_EXPONENTIAL:
        m = stairstep_exponential_decrease(dur, params.step, params.cut)
    else:
        m = two_speed_decrease(dur, params.fast_floor, params.fast_seconds, params.slow_seconds)
    return quantize_up(CTX.multiply(top, m), PRICE_DECIMALS)


def needs_reset(params: AuctionParams, top: Decimal, price: Decimal, dur: Decimal) -> str | None:
    """Why an auction must be reset before it can be taken (Maker ``status``), or ``None``.

    Notes
    -----
    done = dur > tail or price/top < cusp (a ``tail`` of none never expires by time).
    """
    # Figures normalised (fmt): the reason is journalled, and a start price read back from
    # a store must give the same text as the one computed (2400, not 2400.000...).
    if params.tail is not None and dur > params.tail:
        return f"{fmt(dur)} seconds old, more than tail {fmt(params.tail)}"
    if CTX.divide(price, top) < params.cusp:
        return (
            f"price {fmt(price)} fell below cusp {fmt(params.cusp)} of the start price {fmt(top)}"
        )
    return None


def buffer_margin(mm: Decimal, mtm: Decimal, buffer: Decimal) -> Decimal:
    """Derive's buffer margin BM = MM − buffer·(MtM − MM), in quote, exact.

    ``mm`` is the maintenance margin (maintenance_collateral − maintenance_debt, negative
    below maintenance), ``mtm`` the mark-to-market value (collateral_value − debt_value).

    >>> buffer_margin(Decimal(-100), Decimal(300), Decimal("0.1"))
    Decimal('-140.0')
    """
    return CTX.subtract(mm, CTX.multiply(buffer, CTX.subtract(mtm, mm)))


def max_fraction(bm: Decimal, bid: Decimal) -> Decimal:
    """The fraction f of a portfolio a bidder may take for ``bid`` (Derive's auction).

    Notes
    -----
    Taking f of every position and paying f·bid moves BM to (1 − f)·BM + f·bid; f is
    where that reaches 0: f = BM/(BM − bid), for BM < 0 (else 0), at most 1. Rounded
    down to 1e-18: the limit binds the bidder.

    >>> max_fraction(Decimal(-140), Decimal(300))
    Decimal('0.318181818181818181')
    """
    if bm >= ZERO:
        return ZERO
    den = CTX.subtract(bm, bid)
    if den >= ZERO:  # bid <= BM < 0: no fraction restores the buffer; all of it may go
        return ONE
    return min(ONE, div_down(bm, den, PRICE_DECIMALS))


class AuctionStatus(NamedTuple):
    """A running auction at an instant: its price, its age in seconds, and why it needs a
    reset (``None`` when it can be taken)."""

    auction: Auction
    price: Decimal
    age_seconds: Decimal
    reset_reason: str | None


@exact
def auction_status(
    market: Market, at: datetime | str | None = None
) -> tuple[datetime, list[AuctionStatus]]:
    """Every running auction at ``at`` (default: the market's time), in id order.

    Auctions that started after ``at`` are reported at age 0 (their start price).
    """
    now = action_time(market, at)
    params = market.params.auction or AuctionParams()
    out: list[AuctionStatus] = []
    for a in market.auctions.values():
        dur = max(ZERO, seconds_between(a.tic, now))
        price = auction_price(params, a.top, dur)
        out.append(AuctionStatus(a, price, dur, needs_reset(params, a.top, price, dur)))
    return now, out
