"""Invariants of the liquidation bonus (contract 3.3).

BONUS-1  Under "threshold", beta lies in [0, max_bonus] and never grows with lt.
BONUS-2  Under "health", beta lies in [0, 1/(1 - max_bonus) - 1] and never grows with the
         health factor.
BONUS-3  Every beta is rounded down: within 1e-18 below the exact formula.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from tests.builders import make_market
from xmargin.model import MarketParams
from xmargin.risk.liquidation import liquidation_bonus

ULP = Fraction(1, 10**18)
fractions = st.integers(0, 1000).map(lambda n: Decimal(n).scaleb(-3))
max_bonuses = st.integers(0, 999).map(lambda n: Decimal(n).scaleb(-3))


def params(policy: str, max_bonus: Decimal) -> MarketParams:
    return make_market(
        market={"bonus_policy": policy, "max_bonus": max_bonus},
        assets={
            "X": {
                "price": 1,
                "collateral_factor": 0,
                "liquidation_threshold": 0,
                "liquidation_bonus": 0,
            }
        },
    ).params


@given(max_bonuses, fractions, fractions)
def test_BONUS_1_threshold_bonus_is_bounded_and_falls_with_lt(
    max_bonus: Decimal, lt1: Decimal, lt2: Decimal
) -> None:
    """BONUS-1: under "threshold", 0 <= beta <= max_bonus, and a higher lt never gets a
    larger beta; beta is min(max_bonus, 1/(0.3 lt + 0.7) - 1) rounded down (BONUS-3)."""
    p = params("threshold", max_bonus)
    lo, hi = sorted((lt1, lt2))
    b_lo = liquidation_bonus(p, Decimal(0), lo, Decimal("0.5"))
    b_hi = liquidation_bonus(p, Decimal(0), hi, Decimal("0.5"))
    assert 0 <= b_hi <= b_lo <= max_bonus
    exact = min(Fraction(max_bonus), 1 / (Fraction(3, 10) * Fraction(lo) + Fraction(7, 10)) - 1)
    assert Fraction(b_lo) <= exact < Fraction(b_lo) + ULP


@given(max_bonuses, fractions, fractions)
def test_BONUS_2_health_bonus_is_bounded_and_falls_with_health(
    max_bonus: Decimal, hf1: Decimal, hf2: Decimal
) -> None:
    """BONUS-2: under "health", 0 <= beta <= 1/(1 - max_bonus) - 1 for health in [0, 1],
    a higher health never gets a larger beta; beta is 1/max(hf, 1 - max_bonus) - 1
    rounded down (BONUS-3)."""
    p = params("health", max_bonus)
    lo, hi = sorted((hf1, hf2))
    if lo == 0 and max_bonus == 0:
        lo = Decimal("0.001")
    b_lo = liquidation_bonus(p, Decimal(0), Decimal("0.8"), lo)
    b_hi = liquidation_bonus(p, Decimal(0), Decimal("0.8"), hi)
    cap = 1 / (1 - Fraction(max_bonus)) - 1
    assert 0 <= b_hi <= b_lo <= cap
    exact = 1 / max(Fraction(lo), 1 - Fraction(max_bonus)) - 1
    assert Fraction(b_lo) <= exact < Fraction(b_lo) + ULP


@given(max_bonuses, st.integers(0, 10**6).map(lambda n: Decimal(n).scaleb(-6)))
def test_BONUS_3_fixed_bonus_is_the_assets(max_bonus: Decimal, bonus: Decimal) -> None:
    """BONUS-3 (fixed): beta is exactly the collateral's bonus, whatever max_bonus is."""
    assert (
        liquidation_bonus(params("fixed", max_bonus), bonus, Decimal("0.8"), Decimal("0.1"))
        == bonus
    )
