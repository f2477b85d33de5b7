"""The figures of one account (contract sections 2, 5.2 and 6.2–6.3), exact.

One ``weighted_sums`` feeds both the initial and the maintenance figures, balances, perp
and option positions alike. Sums on the collateral side round down and sums on the debt side
round up, to ``VALUE_DECIMALS`` places of the quote: every rounding is in favour of the
protocol.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from xmargin.mathlib import HF_DECIMALS, VALUE_DECIMALS, ZERO, div_down, exact, round_sums
from xmargin.mathlib import quantize_down as _down
from xmargin.mathlib import quantize_up as _up
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod
from xmargin.risk.option_margin import NO_OPTIONS, OptionSums, standard_option_sums
from xmargin.risk.options import portfolio_underlyings
from xmargin.risk.perps import PerpSums, perp_sums
from xmargin.risk.portfolio_margin import portfolio_sums
from xmargin.risk.weights import (
    category_weights,
    size_haircut_asset_weight_down,
    size_haircut_liability_weight_up,
)

__all__ = [
    "AccountHealth",
    "WeightedSums",
    "account_health",
    "available_to_borrow",
    "health_factor",
    "is_liquidatable",
    "option_sums",
    "perp_totals",
    "weighted_sums",
]

_STANDARD = MarginMethod.STANDARD
#: ``option_value`` of an account without options: zero rounded as any sum is (0E-18).
_NO_OPTION_VALUE = _down(ZERO, VALUE_DECIMALS)


class WeightedSums(NamedTuple):
    """The six sums of contract section 2, in quote."""

    collateral_value: Decimal
    debt_value: Decimal
    initial_collateral: Decimal
    initial_debt: Decimal
    maintenance_collateral: Decimal
    maintenance_debt: Decimal


class AccountHealth(NamedTuple):
    """Every figure of contract section 2 for one account, then the two of 5.2 and the
    one of 6.2 (values in quote): ``perp_notional`` Σ |q|·P and ``unrealized_pnl`` Σ pnl,
    0 without perps; ``option_value`` Σ mtm, 0 without options."""

    collateral_value: Decimal
    debt_value: Decimal
    initial_collateral: Decimal
    initial_debt: Decimal
    maintenance_collateral: Decimal
    maintenance_debt: Decimal
    health_factor: Decimal | None
    available_to_borrow: Decimal
    liquidatable: bool
    perp_notional: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    option_value: Decimal = ZERO


def option_sums(account: Account, market: Market) -> OptionSums:
    """What ``account``'s options add to its sums: standard margin (contract 6.2), or
    portfolio margin (6.3) for an account with ``margin = "portfolio"``."""
    if account.margin is MarginMethod.PORTFOLIO and (account.options or account.perps):
        return portfolio_sums(account, market)
    if account.options:
        return standard_option_sums(account, market)
    return NO_OPTIONS


@exact
def weighted_sums(account: Account, market: Market) -> WeightedSums:
    """Σ s·p, Σ b·p and their weighted forms, with effective weights (contract 1.2, 2),
    plus what perp positions add (contract 5.2) and option positions add (6.2, 6.3).

    Notes
    -----
    cv = Σ s·p + Σ max(pnl, 0);  ic = Σ s·p·cf + min(cap, Σ max(pnl, 0)·w);
    mc = Σ s·p·lt + Σ max(pnl, 0);
    dv = Σ b·p + Σ max(−pnl, 0);  id = Σ b·p·bw + Σ (max(−pnl, 0) + notional·r_i_eff);
    md = Σ b·p·mbw + Σ (max(−pnl, 0) + notional·r_m_eff).
    Options add :func:`option_sums`. Under portfolio margin the balances of the
    underlyings margined by scenarios are valued there (at full value) instead, and the
    perps' notional margins are replaced by the scenario requirement.
    Products are exact in the 200-digit context (Black-76 values are held to it); the
    totals are then rounded, collateral down and debt up (in favour of the protocol).

    This is the hot loop of the exact path. It runs its operators in :data:`CTX` (set by
    :func:`~xmargin.mathlib.exact`: exact, as ``CTX.multiply`` is, but about five times
    cheaper per operation) and calls ``category_weights`` only for the category's members.
    """
    return WeightedSums._make(_sums(account, market)[0])


_Six = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]


def _sums(account: Account, market: Market) -> tuple[_Six, Decimal]:
    """The six values of :func:`weighted_sums` and ``option_value`` (exact), from one pass
    over the options. Callers run it under :data:`CTX` (both public callers are
    :func:`exact`)."""
    assets = market.assets
    category = market.category_of(account) if account.category is not None else None
    members = category.assets if category is not None else ()
    scenario = (
        portfolio_underlyings(account, market) if account.margin is not _STANDARD else frozenset()
    )
    cv = ic = mc = ZERO
    supply, borrow = account.supply.items(), account.borrow.items()
    if scenario:  # the underlyings valued by portfolio margin (6.3) are left out here
        supply = {a: s for a, s in supply if a not in scenario}.items()
        borrow = {a: b for a, b in borrow if a not in scenario}.items()
    # The fields are read from each model's ``__dict__`` (where pydantic keeps them):
    # a pydantic attribute costs as much as a Decimal addition, a fifth of the loop.
    for a, s in supply:
        ap = assets[a]
        f = ap.__dict__
        if a in members:  # contract 1.2: the category's weights replace the asset's
            cf, lt, _ = category_weights(ap, category)
        else:  # what category_weights returns for a non-member, without the call
            cf = f["collateral_factor"]
            lt = f["liquidation_threshold"]
        k = f["size_factor"]
        if k:
            cf = size_haircut_asset_weight_down(cf, k, s)
            lt = size_haircut_asset_weight_down(lt, k, s)
        v = s * f["price"]  # units x quote/unit = quote
        cv += v
        ic += v * cf
        mc += v * lt
    dv = id_ = md = ZERO
    for a, b in borrow:
        f = assets[a].__dict__
        bw = f["borrow_weight"]
        mbw = f["maintenance_borrow_weight"]
        k = f["size_factor"]
        if k:
            bw = size_haircut_liability_weight_up(bw, k, b)
            mbw = size_haircut_liability_weight_up(mbw, k, b)
        v = b * f["price"]
        dv += v
        id_ += v * bw
        md += v * mbw
    if account.perps:  # contract 5.2
        ps = perp_sums(account, market)
        cv += ps.positive_pnl
        mc += ps.positive_pnl
        ic += ps.initial_pnl
        dv += ps.negative_pnl
        id_ += ps.negative_pnl
        md += ps.negative_pnl
        if not scenario:  # under portfolio margin the scenarios replace these
            id_ += ps.initial_margin
            md += ps.maintenance_margin
    os_ = option_sums(account, market) if account.options or scenario else NO_OPTIONS
    if os_ is not NO_OPTIONS:
        cv += os_.collateral_value
        dv += os_.debt_value
        ic += os_.initial_collateral
        id_ += os_.initial_debt
        mc += os_.maintenance_collateral
        md += os_.maintenance_debt
    # Rounds in favour of the protocol: collateral down, debt up.
    return round_sums(cv, dv, ic, id_, mc, md, VALUE_DECIMALS), os_.option_value


def health_factor(mc: Decimal, md: Decimal) -> Decimal | None:
    """maintenance_collateral / maintenance_debt, rounded down; ``None`` when md = 0.

    >>> health_factor(Decimal(3), Decimal(2)), health_factor(Decimal(1), Decimal(0))
    (Decimal('1.500000000000000000'), None)
    """
    if not md:
        return None
    return div_down(mc, md, HF_DECIMALS)


def available_to_borrow(ic: Decimal, id_: Decimal) -> Decimal:
    """max(0, initial_collateral − initial_debt), in quote (contract 2)."""
    return ic - id_ if ic > id_ else ZERO


def is_liquidatable(mc: Decimal, md: Decimal) -> bool:
    """maintenance_debt > 0 and health_factor < 1, decided exactly as mc < md."""
    return md > ZERO and mc < md


def perp_totals(ps: PerpSums) -> tuple[Decimal, Decimal]:
    """(perp_notional, unrealized_pnl) of contract 5.2: notional rounded up (exposure never
    looks smaller than it is), pnl rounded down (never looks better than it is)."""
    return _up(ps.notional, VALUE_DECIMALS), _down(ps.pnl, VALUE_DECIMALS)


@exact
def account_health(account: Account, market: Market) -> AccountHealth:
    """Every figure of contract sections 2, 5.2 and 6.2 for ``account`` at the market's
    prices. ``option_value`` (Σ mtm) rounds down: it never looks better than it is."""
    (cv, dv, ic, id_, mc, md), mtm = _sums(account, market)
    notional, upnl = perp_totals(perp_sums(account, market)) if account.perps else (ZERO, ZERO)
    return AccountHealth._make(  # _make: no keyword handling, a fifth of the cost
        (
            cv,
            dv,
            ic,
            id_,
            mc,
            md,
            health_factor(mc, md),
            available_to_borrow(ic, id_),
            is_liquidatable(mc, md),
            notional,
            upnl,
            _NO_OPTION_VALUE if mtm is ZERO else _down(mtm, VALUE_DECIMALS),
        )
    )
