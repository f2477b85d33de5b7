"""Effective weights of one asset for one account (contract section 1.2).

First the category rule (an account's efficiency-mode category replaces the asset's
collateral factor, liquidation threshold and bonus for member assets), then the size
haircut of concentrated positions, on both sides.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from xmargin.mathlib import CTX, WEIGHT_DECIMALS, div_down, quantize_up, sqrt_up
from xmargin.model.params import AssetParams, CategoryParams

__all__ = [
    "SIZE_CAP",
    "SIZE_LIABILITY_BASE",
    "CategoryWeights",
    "EffectiveWeights",
    "category_weights",
    "effective_weights",
    "size_haircut_asset_weight_down",
    "size_haircut_liability_weight_up",
]

#: Contract 1.2 size haircut: w_eff = min(w, SIZE_CAP / (1 + k sqrt(s))).
SIZE_CAP = Decimal("1.1")
#: Contract 1.2 size haircut: lw_eff = max(lw, SIZE_LIABILITY_BASE lw + k sqrt(b)).
SIZE_LIABILITY_BASE = Decimal("0.8")
#: Places of the asset-side haircut weight (see ``size_haircut_asset_weight_down``).
_HAIRCUT_DECIMALS = 100


class CategoryWeights(NamedTuple):
    """Asset weights after the category rule, before any size haircut (fractions)."""

    collateral_factor: Decimal
    liquidation_threshold: Decimal
    liquidation_bonus: Decimal


class EffectiveWeights(NamedTuple):
    """Every weight of one asset for one account, after category and size rules."""

    collateral_factor: Decimal
    liquidation_threshold: Decimal
    liquidation_bonus: Decimal
    borrow_weight: Decimal
    maintenance_borrow_weight: Decimal
    #: liquidation threshold after the category rule and before the size haircut
    #: (what the ``threshold`` bonus policy uses, contract 3.3).
    base_liquidation_threshold: Decimal


def category_weights(asset: AssetParams, category: CategoryParams | None) -> CategoryWeights:
    """The asset's cf, lt and bonus, replaced by the category's when it lists the asset.

    Notes
    -----
    Contract 1.2: "If A has a category that lists a, the category's collateral_factor,
    liquidation_threshold and liquidation_bonus replace the asset's."
    """
    if category is not None and asset.symbol in category.assets:
        return CategoryWeights(
            category.collateral_factor, category.liquidation_threshold, category.liquidation_bonus
        )
    return CategoryWeights(
        asset.collateral_factor, asset.liquidation_threshold, asset.liquidation_bonus
    )


def size_haircut_asset_weight_down(w: Decimal, k: Decimal, s: Decimal) -> Decimal:
    """Asset weight after the size haircut, rounded down (against the borrower).

    Notes
    -----
    .. math:: w_{eff} = \\min(w, 1.1 / (1 + k \\sqrt{s}))

    with ``s`` the supplied token units. ``k = 0`` leaves ``w`` unchanged.
    """
    if not k or not s:
        return w
    # sqrt rounded up makes the denominator larger, so the quotient errs low. Both are
    # held to _HAIRCUT_DECIMALS places, far finer than WEIGHT_DECIMALS: s grows while the
    # cap falls, so a coarse grid could make s x w_eff fall when s grows by less than
    # s x 1e-18 (a deposit lowering health); at 1e-100 it cannot within the contract's
    # magnitudes (s <= 1e24, at most 36 decimals).
    root = sqrt_up(s, _HAIRCUT_DECIMALS)
    cap = div_down(SIZE_CAP, CTX.add(1, CTX.multiply(k, root)), _HAIRCUT_DECIMALS)
    return min(w, cap)


def size_haircut_liability_weight_up(lw: Decimal, k: Decimal, b: Decimal) -> Decimal:
    """Liability weight after the size haircut, rounded up (against the borrower).

    Notes
    -----
    .. math:: lw_{eff} = \\max(lw, 0.8 \\cdot lw + k \\sqrt{b})

    with ``b`` the borrowed token units.
    """
    if not k or not b:
        return lw
    grown = quantize_up(
        CTX.add(CTX.multiply(SIZE_LIABILITY_BASE, lw), CTX.multiply(k, sqrt_up(b, 40))),
        WEIGHT_DECIMALS,
    )
    return max(lw, grown)


def effective_weights(
    asset: AssetParams, category: CategoryParams | None, s: Decimal, b: Decimal
) -> EffectiveWeights:
    """All weights of ``asset`` for an account with supply ``s`` and borrow ``b`` units."""
    cf, lt, bonus = category_weights(asset, category)
    k = asset.size_factor
    bw = asset.borrow_weight
    mbw = asset.maintenance_borrow_weight
    return EffectiveWeights(
        size_haircut_asset_weight_down(cf, k, s),
        size_haircut_asset_weight_down(lt, k, s),
        bonus,
        size_haircut_liability_weight_up(bw, k, b),
        size_haircut_liability_weight_up(mbw, k, b),
        lt,
    )
