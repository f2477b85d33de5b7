"""The figures of one account (contract section 2), exact.

One ``weighted_sums`` feeds both the initial and the maintenance figures. Sums on the
collateral side round down and sums on the debt side round up, to ``VALUE_DECIMALS``
places of the quote: every rounding is in favour of the protocol.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import NamedTuple

from xmargin.mathlib import CTX, HF_DECIMALS, VALUE_DECIMALS, ZERO, div_down, exact
from xmargin.mathlib import quantize_down as _down
from xmargin.mathlib import quantize_up as _up
from xmargin.model.account import Account
from xmargin.model.market import Market
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
    "weighted_sums",
]


class WeightedSums(NamedTuple):
    """The six sums of contract section 2, in quote."""

    collateral_value: Decimal
    debt_value: Decimal
    initial_collateral: Decimal
    initial_debt: Decimal
    maintenance_collateral: Decimal
    maintenance_debt: Decimal


class AccountHealth(NamedTuple):
    """Every figure of contract section 2 for one account (values in quote)."""

    collateral_value: Decimal
    debt_value: Decimal
    initial_collateral: Decimal
    initial_debt: Decimal
    maintenance_collateral: Decimal
    maintenance_debt: Decimal
    health_factor: Decimal | None
    available_to_borrow: Decimal
    liquidatable: bool


def weighted_sums(account: Account, market: Market) -> WeightedSums:
    """Σ s·p, Σ b·p and their weighted forms, with effective weights (contract 1.2, 2).

    Notes
    -----
    cv = Σ s·p;  ic = Σ s·p·cf;  mc = Σ s·p·lt;
    dv = Σ b·p;  id = Σ b·p·bw;  md = Σ b·p·mbw.
    Products are exact in the 200-digit context; the totals are then rounded, collateral
    down and debt up (in favour of the protocol).

    This is the hot loop of the exact path. It runs its operators inside
    ``localcontext(CTX)`` (exact, as ``CTX.multiply`` is, but about five times cheaper
    per operation) and calls ``category_weights`` only for the category's members.
    """
    assets = market.assets
    category = market.category_of(account)
    members = category.assets if category is not None else ()
    with localcontext(CTX):
        cv = ic = mc = ZERO
        for a, s in account.supply.items():
            ap = assets[a]
            if a in members:  # contract 1.2: the category's weights replace the asset's
                cf, lt, _ = category_weights(ap, category)
            else:  # what category_weights returns for a non-member, without the call
                cf = ap.collateral_factor
                lt = ap.liquidation_threshold
            k = ap.size_factor
            if k:
                cf = size_haircut_asset_weight_down(cf, k, s)
                lt = size_haircut_asset_weight_down(lt, k, s)
            v = s * ap.price  # units x quote/unit = quote
            cv += v
            ic += v * cf
            mc += v * lt
        dv = id_ = md = ZERO
        for a, b in account.borrow.items():
            ap = assets[a]
            bw = ap.borrow_weight
            mbw = ap.maintenance_borrow_weight
            k = ap.size_factor
            if k:
                bw = size_haircut_liability_weight_up(bw, k, b)
                mbw = size_haircut_liability_weight_up(mbw, k, b)
            v = b * ap.price
            dv += v
            id_ += v * bw
            md += v * mbw
    # Rounds in favour of the protocol: collateral down, debt up.
    return WeightedSums(
        _down(cv, VALUE_DECIMALS),
        _up(dv, VALUE_DECIMALS),
        _down(ic, VALUE_DECIMALS),
        _up(id_, VALUE_DECIMALS),
        _down(mc, VALUE_DECIMALS),
        _up(md, VALUE_DECIMALS),
    )


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


@exact
def account_health(account: Account, market: Market) -> AccountHealth:
    """Every figure of contract section 2 for ``account`` at the market's prices."""
    cv, dv, ic, id_, mc, md = weighted_sums(account, market)
    return AccountHealth(
        cv,
        dv,
        ic,
        id_,
        mc,
        md,
        health_factor(mc, md),
        available_to_borrow(ic, id_),
        is_liquidatable(mc, md),
    )
