"""Risk parameters against what makes liquidation work, and against published practice
(contract extension "Parameter checks").

Refused (a market that cannot be liquidated by construction): under the ``fixed`` bonus
policy, a collateral whose ``liquidation_threshold × (1 + liquidation_bonus) > 1`` (the
asset's, or a category's for its members). Repaying ``x`` of debt then removes more than
``x`` of maintenance collateral: every liquidation lowers the health factor of an account
whose debt weight is 1 (Aave v3's configurator refuses the same,
``liquidationThreshold × liquidationBonus <= 100%``). The ``threshold`` policy's bonus
keeps ``lt × (1 + β) <= 1`` by its formula.

Warned (loaded, exit 0, a line on stderr and ``warnings`` in ``check --json``): values
outside the ranges that Aave v3, Compound v3 and Morpho Blue publish (:data:`PRACTICE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from xmargin.errors import Problem
from xmargin.mathlib import CTX, ONE, ZERO, fmt
from xmargin.model.params import AssetParams, BonusPolicy, CategoryParams, MarketParams

__all__ = [
    "MAX_PRACTICE_BONUS",
    "MAX_PRACTICE_PROTOCOL_FEE",
    "PRACTICE",
    "liquidation_problems",
    "practice_warnings",
]

#: The largest liquidation bonus in published practice: Morpho Blue's cap on its incentive
#: factor (1.15), the top of Aave v3's listed bonuses.
MAX_PRACTICE_BONUS = Decimal("0.15")
#: The largest share of the bonus a protocol keeps in published practice is 0.1-0.2 (Aave
#: v3's liquidation protocol fee); above half is warned.
MAX_PRACTICE_PROTOCOL_FEE = Decimal("0.5")

#: What is warned, for the contract's table.
PRACTICE = (
    ("liquidation_bonus (asset or category)", f"above {MAX_PRACTICE_BONUS}"),
    ("market.max_bonus", f"above {MAX_PRACTICE_BONUS}"),
    ("protocol_fee", f"above {MAX_PRACTICE_PROTOCOL_FEE}"),
    (
        "collateral_factor",
        "equal to a liquidation_threshold > 0 (no buffer between the "
        "borrowing limit and liquidation; Compound v3 requires borrowCF < liquidateCF)",
    ),
)


def _over(lt: Decimal, bonus: Decimal) -> Decimal | None:
    product = CTX.multiply(lt, CTX.add(ONE, bonus))
    return product if lt > ZERO and product > ONE else None


def liquidation_problems(
    params: MarketParams,
    assets: Mapping[str, AssetParams],
    categories: Mapping[str, CategoryParams],
) -> list[Problem]:
    """Parameters that make liquidation impossible by construction (module docstring)."""
    if params.bonus_policy != BonusPolicy.FIXED:
        return []
    out: list[Problem] = []
    why = "liquidating would lower health: liquidation_threshold × (1 + liquidation_bonus)"
    for sym, ap in assets.items():
        product = _over(ap.liquidation_threshold, ap.liquidation_bonus)
        if product is not None:
            out.append(Problem(f"assets.{sym}.liquidation_bonus", f"{why} = {fmt(product)} > 1"))
    for name, cp in categories.items():
        product = _over(cp.liquidation_threshold, cp.liquidation_bonus)
        if product is not None:
            out.append(
                Problem(f"categories.{name}.liquidation_bonus", f"{why} = {fmt(product)} > 1")
            )
    return out


def practice_warnings(
    params: MarketParams,
    assets: Mapping[str, AssetParams],
    categories: Mapping[str, CategoryParams],
) -> list[Problem]:
    """Values outside published practice (:data:`PRACTICE`); loaded all the same."""
    out: list[Problem] = []
    top = f"above {MAX_PRACTICE_BONUS}, outside published practice (Aave v3, Morpho Blue)"
    if params.bonus_policy != BonusPolicy.FIXED and params.max_bonus > MAX_PRACTICE_BONUS:
        out.append(Problem("market.max_bonus", f"{fmt(params.max_bonus)} is {top}"))
    for sym, ap in assets.items():
        where = f"assets.{sym}"
        if params.bonus_policy == BonusPolicy.FIXED and ap.liquidation_bonus > MAX_PRACTICE_BONUS:
            out.append(
                Problem(f"{where}.liquidation_bonus", f"{fmt(ap.liquidation_bonus)} is {top}")
            )
        if ap.protocol_fee > MAX_PRACTICE_PROTOCOL_FEE:
            out.append(
                Problem(
                    f"{where}.protocol_fee",
                    f"{fmt(ap.protocol_fee)} is above {MAX_PRACTICE_PROTOCOL_FEE}: the protocol "
                    "keeps most of the bonus (Aave v3 keeps 0.1-0.2 of it)",
                )
            )
        if ap.liquidation_threshold > ZERO and ap.collateral_factor == ap.liquidation_threshold:
            out.append(
                Problem(
                    f"{where}.collateral_factor",
                    "equals liquidation_threshold: an account may borrow up to the point of "
                    "liquidation (published practice keeps a buffer below it)",
                )
            )
    for name, cp in categories.items():
        where = f"categories.{name}"
        if params.bonus_policy == BonusPolicy.FIXED and cp.liquidation_bonus > MAX_PRACTICE_BONUS:
            out.append(
                Problem(f"{where}.liquidation_bonus", f"{fmt(cp.liquidation_bonus)} is {top}")
            )
        if cp.liquidation_threshold > ZERO and cp.collateral_factor == cp.liquidation_threshold:
            out.append(
                Problem(
                    f"{where}.collateral_factor",
                    "equals liquidation_threshold: an account may borrow up to the point of "
                    "liquidation (published practice keeps a buffer below it)",
                )
            )
    return out
