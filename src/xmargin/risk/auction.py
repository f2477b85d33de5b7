"""Dutch auctions in the shape of Maker's Clipper (contract 8.2), as pure quotes.

``start`` (Maker's ``bark``/``kick``) moves an account's debt in one asset and the
collateral of another into an auction whose tab is the debt plus the penalty of section
3.3; ``take`` sells collateral at the current price; ``reset`` (``redo``) restarts the
price from the oracle once the auction is too old or its price fell too far. Keepers who
start and reset auctions are paid ``tip + tab·chip`` by the protocol: the insurance fund
first, the rest added to the deficit (Maker's ``vat.suck``). Proceeds repay the debt
first; the penalty part goes to the insurance fund (Maker's surplus buffer).

Rounding (docs/rounding.md): what the collateral covers rounds down, the tab up, the start
price up, the keeper's incentive down; a take's payment rounds up and the collateral it
buys down.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Literal

from xmargin.errors import NothingToLiquidate, WouldLeaveDust
from xmargin.liquidation_errors import (
    AuctionCannotReset,
    AuctionNeedsReset,
    InvalidTime,
    LiquidationDesignMismatch,
    PriceAboveMax,
    UnknownAuction,
)
from xmargin.mathlib import (
    CTX,
    ONE,
    ZERO,
    div_down,
    div_up,
    exact,
    fmt,
    quantize_up,
)
from xmargin.model.account import Account
from xmargin.model.auction import Auction
from xmargin.model.liquidation_params import AuctionParams, LiquidationDesign, seconds_between
from xmargin.model.market import Market
from xmargin.risk.auction_curves import PRICE_DECIMALS, auction_price, needs_reset
from xmargin.risk.health import account_health
from xmargin.risk.insurance import insurance_fund_used, write_off_bad_debt
from xmargin.risk.liquidation import liquidation_bonus, liquidation_start
from xmargin.risk.market_clock import action_time
from xmargin.risk.validation import parse_amount, parse_price

__all__ = [
    "AuctionResetQuote",
    "AuctionStartQuote",
    "AuctionTakeQuote",
    "keeper_incentive",
    "protocol_payment",
    "quote_auction_reset",
    "quote_auction_start",
    "quote_auction_take",
    "take_amounts",
]


@dataclass(frozen=True)
class AuctionStartQuote:
    """What starting an auction does. ``keeper_incentive`` in units of the debt asset,
    paid from ``insurance_fund_used``, the rest added to the deficit (``deficit_added``)."""

    auction: Auction
    bonus: Decimal
    keeper_incentive: Decimal
    insurance_fund_used: dict[str, Decimal]
    deficit_added: dict[str, Decimal]
    health_factor_before: Decimal | None
    health_factor_after: Decimal | None
    time: datetime
    account_after: Account = field(repr=False, compare=False)


@dataclass(frozen=True)
class AuctionTakeQuote:
    """What a take does: ``bought`` collateral for ``paid`` debt units at ``price``.

    ``paid`` = ``principal`` (repays the auction's debt) + ``penalty`` (to the insurance
    fund). When the auction ends, ``returned`` collateral goes back to the account (the tab
    was raised) or its unpaid debt is written off (the lot ran out): the insurance fund
    first (``insurance_fund_used``), the rest ``bad_debt``.
    """

    auction_id: int
    account: str
    debt_asset: str
    collateral_asset: str
    price: Decimal
    bought: Decimal
    paid: Decimal
    principal: Decimal
    penalty: Decimal
    auction_after: Auction | None
    returned: Decimal
    insurance_fund_used: dict[str, Decimal]
    bad_debt: dict[str, Decimal]
    health_factor_after: Decimal | None
    time: datetime
    account_after: Account | None = field(repr=False, compare=False)


@dataclass(frozen=True)
class AuctionResetQuote:
    """What a reset does: a new start price at the current oracle, a keeper incentive."""

    auction_after: Auction
    previous_price: Decimal
    reason: str
    keeper_incentive: Decimal
    insurance_fund_used: dict[str, Decimal]
    deficit_added: dict[str, Decimal]
    time: datetime


def keeper_incentive(
    tip: Decimal, chip: Decimal, tab: Decimal, p_debt: Decimal, decimals: int
) -> Decimal:
    """Maker's ``coin`` = tip + tab·chip, in units of the debt asset (``tip`` in quote).

    Rounds down: the keeper, who acts, receives no more than the rule says.
    """
    value = CTX.add(tip, CTX.multiply(CTX.multiply(tab, chip), p_debt))  # quote
    return div_down(value, p_debt, decimals)


def protocol_payment(
    market: Market, asset: str, units: Decimal
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """What the protocol pays ``units`` of ``asset`` from: (insurance fund used, added to
    the deficit). The fund pays first (Maker's surplus buffer); the rest is new bad debt."""
    if not units:
        return {}, {}
    used = insurance_fund_used({asset: units}, market.insurance_fund)
    rest = units - used.get(asset, ZERO)
    return used, ({asset: rest} if rest else {})


def _auction_params(market: Market, command: str) -> AuctionParams:
    if market.params.liquidation != LiquidationDesign.AUCTION:
        raise LiquidationDesignMismatch(command, "'auction'", market.params.liquidation)
    return market.params.auction or AuctionParams()


def _start_price(market: Market, a: Auction | tuple[str, str], buf: Decimal) -> Decimal:
    debt, coll = (a.debt_asset, a.collateral_asset) if isinstance(a, Auction) else a
    # (quote/coll unit) / (quote/debt unit) = debt units per coll unit; rounds up: the
    # auction starts no lower than the rule says.
    return quantize_up(
        CTX.divide(CTX.multiply(market.price(coll), buf), market.price(debt)), PRICE_DECIMALS
    )


@exact
def quote_auction_start(
    market: Market,
    account_id: str,
    debt_asset: str,
    collateral_asset: str,
    amount: Decimal | Literal["max"] | str = "max",
    at: datetime | str | None = None,
) -> AuctionStartQuote:
    """Exactly what starting an auction does, without changing ``market`` (contract 8.2).

    Raises
    ------
    UnknownAccount, UnknownAsset, InvalidAmount, InvalidTime, LiquidationDesignMismatch
        Bad input.
    NotLiquidatable, NothingToLiquidate, WouldLeaveDust
        Refused by a rule.
    """
    params = _auction_params(market, "auction start")
    now = action_time(market, at)
    start = liquidation_start(market, account_id, debt_asset, collateral_asset, amount)
    account, debt_p, coll_p, want, before, hf_rules, d, c, w = start

    # The penalty is section 3.3's bonus (Maker's chop − 1).
    beta = liquidation_bonus(
        market.params, w.liquidation_bonus, w.base_liquidation_threshold, hf_rules
    )
    p_debt, p_coll = debt_p.price, coll_p.price
    # units x quote/unit / (quote/unit) = units; rounds down: no more debt moves than c covers.
    cover = div_down(CTX.multiply(c, p_coll), CTX.multiply(p_debt, ONE + beta), debt_p.decimals)
    most = min(d, cover)
    debt = most if want is None else min(want, most)
    # All of c goes with the most that may move (surplus comes back); a part, pro rata.
    lot = c if debt == most else div_down(CTX.multiply(c, debt), most, coll_p.decimals)
    if not debt or not lot:
        raise NothingToLiquidate(account_id, "the amount rounds to nothing at the assets' decimals")
    mlv = market.params.min_leftover_value
    if mlv > ZERO and debt < d and lot < c:  # section 3.6, as for a liquidation
        if (d - debt) * p_debt < mlv:
            raise WouldLeaveDust(account_id, debt_asset, (d - debt) * p_debt, mlv)
        if (c - lot) * p_coll < mlv:
            raise WouldLeaveDust(account_id, collateral_asset, (c - lot) * p_coll, mlv)
    tab = quantize_up(CTX.multiply(debt, ONE + beta), debt_p.decimals)  # the borrower owes no less
    coin = keeper_incentive(params.tip, params.chip, tab, p_debt, debt_p.decimals)
    used, added = protocol_payment(market, debt_asset, coin)
    after = account.copy()
    after.set_borrow(debt_asset, d - debt)
    after.set_supply(collateral_asset, c - lot)
    top = _start_price(market, (debt_asset, collateral_asset), params.buf)
    auction = Auction(
        market.auction_count + 1, account_id, debt_asset, collateral_asset, debt, tab, lot, top, now
    )
    return AuctionStartQuote(
        auction=auction,
        bonus=beta,
        keeper_incentive=coin,
        insurance_fund_used=used,
        deficit_added=added,
        health_factor_before=before.health_factor,
        health_factor_after=account_health(after, market).health_factor,
        time=now,
        account_after=after,
    )


def take_amounts(
    lot: Decimal,
    tab: Decimal,
    amt: Decimal,
    price: Decimal,
    dust: Decimal,
    debt_decimals: int,
    coll_decimals: int,
) -> tuple[Decimal, Decimal] | None:
    """(bought, paid): collateral units bought and debt units paid (Maker ``take``).

    Notes
    -----
    slice = min(lot, amt); owe = slice·price (up). If owe > tab: owe = tab and slice =
    owe/price (down). Else if owe < tab, slice < lot and tab − owe < dust: when tab > dust,
    owe = tab − dust and slice = owe/price (down); when tab <= dust, ``None`` (the taker
    must buy all of the lot).
    """
    bought = min(lot, amt)
    # Rounds up: the taker pays no less than the price; what it buys rounds down.
    paid = quantize_up(CTX.multiply(bought, price), debt_decimals)
    if paid > tab:
        return div_down(tab, price, coll_decimals), tab
    if paid < tab and bought < lot and tab - paid < dust and price:
        if tab <= dust:
            return None
        paid = tab - dust
        bought = div_down(paid, price, coll_decimals)
    return bought, paid


def _auction_at(
    market: Market, auction_id: int | str, at: datetime | str | None
) -> tuple[Auction, datetime, Decimal]:
    try:
        auction = market.auctions[int(auction_id)]
    except (KeyError, ValueError):
        raise UnknownAuction(auction_id) from None
    now = action_time(market, at)
    if now < auction.tic:
        raise InvalidTime("--at", f"before auction {auction.id} started")
    return auction, now, seconds_between(auction.tic, now)


@exact
def quote_auction_take(
    market: Market,
    auction_id: int | str,
    amount: Decimal | Literal["max"] | str = "max",
    max_price: Decimal | str | None = None,
    at: datetime | str | None = None,
) -> AuctionTakeQuote:
    """Exactly what taking up to ``amount`` units of collateral does (contract 8.2).

    Raises
    ------
    UnknownAuction, InvalidAmount, InvalidPrice, InvalidTime
        Bad input.
    AuctionNeedsReset, PriceAboveMax, WouldLeaveDust, NothingToLiquidate
        Refused by a rule.
    """
    a, now, dur = _auction_at(market, auction_id, at)
    params = market.params.auction or AuctionParams()
    debt_p, coll_p = market.asset(a.debt_asset), market.asset(a.collateral_asset)
    amt = a.lot if amount == "max" else parse_amount(amount, coll_p.decimals, "amount")
    cap = None if max_price is None else parse_price(f"auction {a.id}", max_price)
    price = auction_price(params, a.top, dur)
    why = needs_reset(params, a.top, price, dur)
    if why is not None:
        raise AuctionNeedsReset(a.id, why)
    if cap is not None and price > cap:
        raise PriceAboveMax(a.id, price, cap)
    # Maker's dust (chost) in debt units: quote / (quote/unit); rounds up against the taker.
    dust = div_up(market.params.min_leftover_value, debt_p.price, debt_p.decimals)
    amounts = take_amounts(a.lot, a.tab, amt, price, dust, debt_p.decimals, coll_p.decimals)
    if amounts is None:
        raise WouldLeaveDust(
            a.account, a.debt_asset, a.tab * debt_p.price, market.params.min_leftover_value
        )
    bought, paid = amounts
    if not bought:
        raise NothingToLiquidate(a.account, "the amount rounds to nothing at the assets' decimals")
    principal = min(paid, a.debt)
    left = replace(a, debt=a.debt - principal, tab=a.tab - paid, lot=a.lot - bought)
    returned, used, bad = ZERO, dict[str, Decimal](), dict[str, Decimal]()
    after: Account | None = None
    if not left.lot or not left.tab:
        after = market.account(a.account).copy()
        if left.lot:  # the tab is raised: the rest of the lot returns (Maker)
            returned = left.lot
            after.set_supply(a.collateral_asset, after.supplied(a.collateral_asset) + returned)
        if left.debt:  # the lot ran out: the unpaid debt is written off, the fund first
            used = insurance_fund_used({a.debt_asset: left.debt}, market.insurance_fund)
            rest = left.debt - used.get(a.debt_asset, ZERO)
            bad = {a.debt_asset: rest} if rest else {}
        others = {i: x for i, x in market.auctions.items() if i != a.id}
        view = _without_auction(market, others)
        more_used, more_bad = write_off_bad_debt(
            after, view, _fund_after(market, a, paid - principal, used)
        )
        for target, extra in ((used, more_used), (bad, more_bad)):
            for asset, units in extra.items():
                target[asset] = target.get(asset, ZERO) + units
    return AuctionTakeQuote(
        auction_id=a.id,
        account=a.account,
        debt_asset=a.debt_asset,
        collateral_asset=a.collateral_asset,
        price=price,
        bought=bought,
        paid=paid,
        principal=principal,
        penalty=paid - principal,
        auction_after=left if left.lot and left.tab else None,
        returned=returned,
        insurance_fund_used=used,
        bad_debt=bad,
        health_factor_after=None if after is None else account_health(after, market).health_factor,
        time=now,
        account_after=after,
    )


def _without_auction(market: Market, auctions: dict[int, Auction]) -> Market:
    view = market.with_prices({})
    view.auctions = auctions
    return view


def _fund_after(
    market: Market, a: Auction, penalty: Decimal, used: dict[str, Decimal]
) -> dict[str, Decimal]:
    fund = dict(market.insurance_fund)
    fund[a.debt_asset] = fund.get(a.debt_asset, ZERO) + penalty - used.get(a.debt_asset, ZERO)
    return fund


@exact
def quote_auction_reset(
    market: Market, auction_id: int | str, at: datetime | str | None = None
) -> AuctionResetQuote:
    """Exactly what resetting an auction does (Maker ``redo``, contract 8.2).

    Raises
    ------
    UnknownAuction, InvalidTime
        Bad input.
    AuctionCannotReset
        Neither ``tail`` nor ``cusp`` is reached.
    """
    a, now, dur = _auction_at(market, auction_id, at)
    params = market.params.auction or AuctionParams()
    price = auction_price(params, a.top, dur)
    why = needs_reset(params, a.top, price, dur)
    if why is None:
        raise AuctionCannotReset(
            a.id, f"price {fmt(price)} after {fmt(dur)} seconds reaches neither tail nor cusp"
        )
    debt_p = market.asset(a.debt_asset)
    mlv = market.params.min_leftover_value
    # Maker pays a reset's keeper only while the auction is not dust.
    pays = a.tab * debt_p.price >= mlv and a.lot * market.price(a.collateral_asset) >= mlv
    coin = ZERO
    if pays:
        coin = keeper_incentive(params.tip, params.chip, a.tab, debt_p.price, debt_p.decimals)
    used, added = protocol_payment(market, a.debt_asset, coin)
    return AuctionResetQuote(
        auction_after=replace(a, top=_start_price(market, a, params.buf), tic=now),
        previous_price=price,
        reason=why,
        keeper_incentive=coin,
        insurance_fund_used=used,
        deficit_added=added,
        time=now,
    )
