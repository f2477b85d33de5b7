"""Float twins of :mod:`xmargin.risk.liquidation` (contract section 3), one per step.

Same names, symbols and order of arguments as the exact engine, with the market's rules
passed as numbers (:class:`xmargin.fast.packing.MarketRules`) and amounts in float64
without rounding to asset decimals: amounts differ from the exact engine's by at most a
unit at the asset's decimals, and decisions agree outside the float tolerance
(``tests/properties/test_float_twins.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xmargin.fast.backend import elementwise, select
from xmargin.model.params import BonusPolicy
from xmargin.risk import liquidation as exact

__all__ = [
    "FIXED",
    "HEALTH",
    "POLICY_CODE",
    "THRESHOLD",
    "THRESHOLD_A",
    "THRESHOLD_B",
    "has_collateral",
    "leaves_dust",
    "liquidation_bonus",
    "max_repayable",
    "protocol_fee",
    "seize",
]

#: Bonus policies (contract 3.3) as the kernels' integer codes.
FIXED, THRESHOLD, HEALTH = 0, 1, 2
POLICY_CODE = {
    BonusPolicy.FIXED: FIXED,
    BonusPolicy.THRESHOLD: THRESHOLD,
    BonusPolicy.HEALTH: HEALTH,
}
#: Float twins of the ``threshold`` policy's constants.
THRESHOLD_A = float(exact.THRESHOLD_A)
THRESHOLD_B = float(exact.THRESHOLD_B)


@elementwise
def max_repayable(
    close_factor: Any,
    full_liquidation_health: Any,
    small_position_value: Any,
    hf: Any,
    d: Any,
    c: Any,
    total_debt_value: Any,
    p_debt: Any,
    p_coll: Any,
) -> Any:
    """Units of the debt asset that may be repaid now (contract 3.2).

    Notes
    -----
    All of ``d`` if hf <= full_liquidation_health, or if d·p_debt or c·p_coll is below
    small_position_value; otherwise min(d, close_factor·D/p_debt).
    """
    spv = small_position_value
    whole = (hf <= full_liquidation_health) | (d * p_debt < spv) | (c * p_coll < spv)
    return select(whole, d, np.minimum(d, close_factor * total_debt_value / p_debt))


@elementwise
def liquidation_bonus(policy: int, max_bonus: Any, bonus: Any, lt: Any, hf: Any) -> Any:
    """β under the market's bonus ``policy`` (contract 3.3); ``lt`` before any size haircut.

    Notes
    -----
    fixed: β = bonus; threshold: β = min(max_bonus, 1/(0.3·lt + 0.7) − 1);
    health: β = 1/max(hf, 1 − max_bonus) − 1. ``policy`` is one number for the market.
    """
    if policy == FIXED:
        return bonus
    if policy == THRESHOLD:
        return np.minimum(max_bonus, 1.0 / (THRESHOLD_A * lt + THRESHOLD_B) - 1.0)
    return 1.0 / np.maximum(hf, 1.0 - max_bonus) - 1.0


@elementwise
def seize(repaid: Any, p_debt: Any, p_coll: Any, beta: Any, c: Any) -> Any:
    """(seized, repaid) in units of collateral and debt (contract 3.4).

    Notes
    -----
    seized = repaid·p_debt·(1+β)/p_coll. If that exceeds c, seized = c and
    repaid = c·p_coll/(p_debt·(1+β)).
    """
    raw = repaid * p_debt * (1.0 + beta) / p_coll
    over = raw > c
    capped = np.minimum(repaid, c * p_coll / (p_debt * (1.0 + beta)))
    return select(over, c, raw), select(over, capped, repaid)


@elementwise
def protocol_fee(seized: Any, beta: Any, fee: Any) -> Any:
    """(seized − seized/(1+β))·fee, in collateral units (contract 3.5)."""
    return np.minimum(seized, (seized - seized / (1.0 + beta)) * fee)


@elementwise
def leaves_dust(
    min_leftover_value: Any,
    repaid: Any,
    d: Any,
    seized: Any,
    c: Any,
    p_debt: Any,
    p_coll: Any,
) -> Any:
    """Whether a liquidation that clears neither side leaves either worth less than
    min_leftover_value (contract 3.6; the exact twin also says which side)."""
    mlv = min_leftover_value
    partial = (mlv > 0.0) & (repaid < d) & (seized < c)
    return partial & (((d - repaid) * p_debt < mlv) | ((c - seized) * p_coll < mlv))


@elementwise
def has_collateral(s: Any, lt: Any) -> Any:
    """Whether one position counts as collateral: supplied units with an effective
    liquidation threshold > 0 (contract 3.7). An account has collateral when any of its
    positions does; when none does, its remaining debt is written off as bad debt."""
    return (s > 0.0) & (lt > 0.0)
