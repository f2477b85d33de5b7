"""Contract 3.3, the liquidation bonus beta by bonus_policy:

- fixed: the collateral's liquidation_bonus (after the category rule);
- threshold (Morpho Blue): min(max_bonus, 1 / (0.3 x lt + 0.7) - 1), lt after the
  category rule and before any size haircut (tests/vectors/morpho_threshold.toml);
- health (Euler v2): 1 / max(health_factor, 1 - max_bonus) - 1
  (tests/vectors/euler_health.toml).

beta is rounded down to 18 places (a smaller incentive never favours the liquidator).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.model import BonusPolicy, MarketParams
from xmargin.risk.liquidation import liquidation_bonus, quote_liquidation


def params(policy: str, max_bonus: str = "0.15") -> MarketParams:
    return make_market(
        market={"bonus_policy": policy, "max_bonus": max_bonus},
        assets={
            "X": {
                "price": 1,
                "collateral_factor": "0",
                "liquidation_threshold": "0",
                "liquidation_bonus": "0",
            }
        },
    ).params


def test_fixed_policy_is_the_default_and_uses_the_assets_bonus() -> None:
    p = params("fixed")
    assert p.bonus_policy is BonusPolicy.FIXED
    assert liquidation_bonus(p, D("0.075"), D("0.8"), D("0.5")) == D("0.075")
    m = load_vector("basic.toml")
    assert m.params.bonus_policy is BonusPolicy.FIXED
    assert quote_liquidation(m, "bob", "USDC", "WETH", D("1")).bonus == D("0.05")


def test_morpho_incentive_at_lltv_086() -> None:
    # 1 / (0.3 x 0.86 + 0.7) = 1 / 0.958 = 1.043841336116910229|645... -> beta rounded down
    beta = liquidation_bonus(params("threshold"), D("0"), D("0.86"), D("0.99"))
    assert beta == D("0.043841336116910229")
    exact = Fraction(1) / Fraction("0.958") - 1
    assert 0 <= exact - Fraction(beta) < Fraction(1, 10**18)


def test_morpho_incentive_is_capped_at_lltv_05() -> None:
    # 1 / (0.3 x 0.5 + 0.7) = 1 / 0.85 = 1.176... -> min(0.15, 0.176...) = 0.15
    assert liquidation_bonus(params("threshold"), D("0"), D("0.5"), D("0.99")) == D("0.15")


@pytest.mark.parametrize(
    ("lt", "expected"),
    [
        ("1", "0"),  # 1 / 1 - 1
        ("0.9", "0.030927835051546391"),  # 1 / 0.97 - 1 = 0.0309278350515463917...
        ("0.8", "0.063829787234042553"),  # 1 / 0.94 - 1 = 0.0638297872340425531...
        ("0.625", "0.126760563380281690"),  # 1 / 0.8875 - 1 = 0.1267605633802816901...
        ("0.4", "0.15"),  # 1 / 0.82 - 1 = 0.2195... capped at 0.15
    ],
)
def test_morpho_incentive_closed_forms(lt: str, expected: str) -> None:
    exact = min(
        Fraction(15, 100), Fraction(1) / (Fraction(3, 10) * Fraction(lt) + Fraction(7, 10)) - 1
    )
    beta = liquidation_bonus(params("threshold"), D("0"), D(lt), D("0.99"))
    assert beta == D(expected)
    assert Fraction(beta) <= exact < Fraction(beta) + Fraction(1, 10**18)  # rounded down


def test_morpho_vector_seizes_with_the_incentive() -> None:
    m = load_vector("morpho_threshold.toml")
    q = quote_liquidation(m, "lltv86", "USDC", "WSTETH", D("1000"))
    assert q.health_factor_before == D("0.982857142857142857")  # 17,200 / 17,500
    assert q.bonus == D("0.043841336116910229")
    # 1,000 USDC x 1.043841336116910229 / 2000 = 0.5219206680584551145 -> rounded down
    assert q.seized == D("0.521920668058455114")
    assert quote_liquidation(m, "lltv86", "USDC", "WSTETH", "max").repaid == D("8750")
    capped = quote_liquidation(m, "lltv50", "USDC", "RISKY", D("1000"))
    assert capped.bonus == D("0.15")
    assert capped.seized == D("1150")  # 1,000 x 1.15 / 1


def test_threshold_policy_uses_the_category_threshold() -> None:
    m = make_market(
        market={"bonus_policy": "threshold"},
        assets={
            "C": {
                "price": 1,
                "collateral_factor": "0.5",
                "liquidation_threshold": "0.5",
                "liquidation_bonus": "0",
            },
            "D": {
                "price": 1,
                "collateral_factor": "0.5",
                "liquidation_threshold": "0.5",
                "liquidation_bonus": "0",
            },
        },
        categories={
            "c": {
                "collateral_factor": "0.9",
                "liquidation_threshold": "0.9",
                "liquidation_bonus": "0",
                "assets": ["C"],
            }
        },
        # 1,000 C x 0.9 = 900 against 1,000 D of debt: health 0.9
        accounts={"a": {"category": "c", "supply": {"C": "1000"}, "borrow": {"D": "1000"}}},
    )
    q = quote_liquidation(m, "a", "D", "C", D("10"))
    assert q.bonus == D("0.030927835051546391")  # lt 0.9: 1 / 0.97 - 1, not lt 0.5's 0.15


def test_threshold_policy_uses_the_threshold_before_the_size_haircut() -> None:
    m = make_market(
        market={"bonus_policy": "threshold"},
        assets={
            "C": {
                "price": 1,
                "collateral_factor": "0.9",
                "liquidation_threshold": "0.9",
                "liquidation_bonus": "0",
                "size_factor": "0.01",
            },
            "D": {
                "price": 1,
                "collateral_factor": "0.5",
                "liquidation_threshold": "0.5",
                "liquidation_bonus": "0",
            },
        },
        # 10,000 C: cap = 1.1 / (1 + 0.01 x 100) = 0.55 -> maintenance 5,500 < 6,000 debt
        accounts={"a": {"supply": {"C": "10000"}, "borrow": {"D": "6000"}}},
    )
    q = quote_liquidation(m, "a", "D", "C", D("10"))
    assert q.bonus == D("0.030927835051546391")  # from lt 0.9, not from 0.55


def test_euler_discount_at_health_09() -> None:
    # 1 / max(0.9, 0.85) - 1 = 0.1111...
    beta = liquidation_bonus(params("health"), D("0"), D("0.8"), D("0.9"))
    assert beta == D("0.111111111111111111")


def test_euler_discount_is_capped_at_max_bonus() -> None:
    # 1 / max(0.5, 1 - 0.15) - 1 = 1 / 0.85 - 1 = 0.176470588235294117|647...
    beta = liquidation_bonus(params("health"), D("0"), D("0.8"), D("0.5"))
    assert beta == D("0.176470588235294117")
    assert Fraction(beta) <= Fraction(20, 17) - 1 < Fraction(beta) + Fraction(1, 10**18)


def test_euler_discount_just_below_health_one_is_small() -> None:
    # 1 / 0.99 - 1 = 0.010101...
    beta = liquidation_bonus(params("health"), D("0"), D("0.8"), D("0.99"))
    assert beta == D("0.010101010101010101")


def test_euler_vector_seizes_with_the_health_discount() -> None:
    m = load_vector("euler_health.toml")
    q = quote_liquidation(m, "hf90", "USDC", "WETH", D("9000"))
    assert q.health_factor_before == D("0.9")  # 18,000 / 20,000
    assert q.bonus == D("0.111111111111111111")
    # 9,000 x 1.111111111111111111 / 2000 = 4.9999999999999999995 -> rounded down
    assert q.seized == D("4.999999999999999999")
    q50 = quote_liquidation(m, "hf50", "USDC", "WETH", D("2000"))
    assert q50.health_factor_before == D("0.5")  # 18,000 / 36,000
    assert q50.bonus == D("0.176470588235294117")
    assert q50.seized == D("1.176470588235294117")  # 2,000 x 1.176470588235294117 / 2000


def test_fixed_bonus_may_be_zero() -> None:
    m = make_market(
        assets={
            "C": {
                "price": 1,
                "collateral_factor": "0.5",
                "liquidation_threshold": "0.5",
                "liquidation_bonus": "0",
                "protocol_fee": "0.5",
            },
        },
        accounts={"a": {"supply": {"C": "1000"}, "borrow": {"C": "600"}}},
    )
    q = quote_liquidation(m, "a", "C", "C", D("100"))
    assert (q.bonus, q.seized, q.protocol_fee) == (D("0"), D("100"), D("0"))
