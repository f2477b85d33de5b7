"""Contract 1.2, the size haircut (tests/vectors/size_haircut.toml), size_factor k > 0:

    asset weights (cf and lt): w_eff  = min(w, 1.1 / (1 + k * sqrt(s)))
    liability weights (both):  lw_eff = max(lw, 0.8 * lw + k * sqrt(b))

Asset weights err low and liability weights err high (against the borrower).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.ledger.actions import execute_deposit
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.weights import (
    effective_weights,
    size_haircut_asset_weight_down,
    size_haircut_liability_weight_up,
)

# sqrt(2) to 60 places (a published constant, OEIS A002193).
SQRT2 = D("1.414213562373095048801688724209698078569671875376948073176679")


@pytest.fixture(scope="module")
def vec() -> Market:
    return load_vector("size_haircut.toml")


def test_large_supply_is_capped_at_one_point_one_over_one_plus_k_sqrt_s(vec: Market) -> None:
    h = account_health(vec.accounts["whale"], vec)
    # sqrt(10,000) = 100; 1.1 / (1 + 0.01 x 100) = 0.55 replaces both 0.80 and 0.85
    assert h.initial_collateral == D("5500")  # 10,000 BIG x 1 x 0.55
    assert h.maintenance_collateral == D("5500")
    assert h.collateral_value == D("10000")  # values are not haircut, weights are
    assert h.health_factor == D("5.5")  # 5,500 / 1,000 USDC


def test_small_supply_keeps_its_weights(vec: Market) -> None:
    h = account_health(vec.accounts["minnow"], vec)
    # sqrt(100) = 10; 1.1 / (1 + 0.1) = 1.0 > 0.80 and 0.85
    assert h.initial_collateral == D("80")  # 100 BIG x 0.80
    assert h.maintenance_collateral == D("85")  # 100 BIG x 0.85


def test_large_borrow_grows_the_liability_weight(vec: Market) -> None:
    h = account_health(vec.accounts["debtor"], vec)
    # sqrt(10,000) = 100; max(1, 0.8 x 1 + 0.01 x 100) = 1.8
    assert h.debt_value == D("10000")  # 10,000 LOAN x 1
    assert h.initial_debt == D("18000")  # 10,000 x 1.8
    assert h.maintenance_debt == D("18000")
    assert h.health_factor == D("4.888888888888888888")  # 88,000 / 18,000, rounded down


def test_small_borrow_keeps_the_liability_weight(vec: Market) -> None:
    h = account_health(vec.accounts["small_debtor"], vec)
    # sqrt(100) = 10; max(1, 0.8 + 0.01 x 10 = 0.9) = 1
    assert h.maintenance_debt == D("100")  # 100 LOAN x 1 x 1


def test_irrational_asset_weight_is_two_point_two_minus_one_point_one_sqrt_two(vec: Market) -> None:
    exact = D("2.2") - D("1.1") * SQRT2  # 1.1 / (1 + 0.5 sqrt 2) = 1.1 (2 - sqrt 2)
    w = effective_weights(vec.assets["ROOT2"], None, D("2"), D("0"))
    # rounded down, and within 1e-18 of the closed form
    assert w.liquidation_threshold <= exact
    assert exact - w.liquidation_threshold < D("1e-18")
    assert w.collateral_factor == w.liquidation_threshold  # 0.644... < 0.90 too
    h = account_health(vec.accounts["root2"], vec)
    # 2 x 0.644365081389595446318... = 1.288730162779190892|63..., rounded down
    assert h.maintenance_collateral == D("1.288730162779190892")


def test_irrational_liability_weight_is_point_eight_plus_half_sqrt_two(vec: Market) -> None:
    w = effective_weights(vec.assets["ROOT2"], None, D("0"), D("2"))
    # 0.8 + 0.5 x 1.41421356237309504880... = 1.507106781186547524|40..., rounded up
    assert w.maintenance_borrow_weight == D("1.507106781186547525")
    assert w.borrow_weight == D("1.507106781186547525")
    h = account_health(vec.accounts["root2_debt"], vec)
    assert h.maintenance_debt == D("3.01421356237309505")  # 2 ROOT2 x 1 x 1.507106781186547525


@pytest.mark.parametrize(
    ("k", "s", "closed_form"),
    [
        ("0.01", "10000", Fraction(11, 20)),  # 1.1 / (1 + 0.01 x 100) = 0.55
        ("0.1", "100", Fraction(11, 20)),  # 1.1 / (1 + 0.1 x 10)
        ("0.001", "1000000", Fraction(11, 20)),  # 1.1 / (1 + 0.001 x 1000)
        ("0.5", "4", Fraction(11, 20)),  # 1.1 / (1 + 0.5 x 2)
        ("1", "0.01", Fraction(1)),  # 1.1 / (1 + 1 x 0.1)
        ("0.04", "2500", Fraction(11, 30)),  # 1.1 / (1 + 0.04 x 50) = 0.3666...
        ("0.03", "2500", Fraction(11, 25)),  # 1.1 / (1 + 0.03 x 50) = 0.44
    ],
)
def test_asset_haircut_matches_perfect_square_closed_forms(
    k: str, s: str, closed_form: Fraction
) -> None:
    got = Fraction(size_haircut_asset_weight_down(D("1"), D(k), D(s)))
    # rounded down (against the borrower), and within 1e-18 of the closed form
    assert got <= closed_form
    assert closed_form - got < Fraction(1, 10**18)


@pytest.mark.parametrize(
    ("lw", "k", "b", "closed_form"),
    [
        ("1", "0.01", "10000", Fraction(9, 5)),  # max(1, 0.8 + 0.01 x 100) = 1.8
        ("1.2", "0.01", "10000", Fraction(49, 25)),  # max(1.2, 0.96 + 1) = 1.96
        ("1", "0.01", "400", Fraction(1)),  # max(1, 0.8 + 0.2)
        ("1.5", "0.001", "90000", Fraction(3, 2)),  # max(1.5, 1.2 + 0.3)
        ("1", "0.3", "9", Fraction(17, 10)),  # max(1, 0.8 + 0.3 x 3) = 1.7
    ],
)
def test_liability_haircut_matches_perfect_square_closed_forms(
    lw: str, k: str, b: str, closed_form: Fraction
) -> None:
    assert Fraction(size_haircut_liability_weight_up(D(lw), D(k), D(b))) == closed_form


def test_liability_haircut_of_a_non_square_rounds_up() -> None:
    # 0.8 + 0.01 x sqrt(401) = 0.8 + 0.01 x 20.024984394500785... = 1.00024984394500785...
    # sqrt(401) is bracketed by 20.0249843945007 and 20.0249843945008 (20.0249843945007^2 < 401)
    got = size_haircut_liability_weight_up(D("1"), D("0.01"), D("401"))
    assert D("20.0249843945007") ** 2 < 401 < D("20.0249843945008") ** 2
    assert D("1.000249843945007") < got <= D("1.000249843945008")
    assert got == got.quantize(D("1e-18"))  # held to 18 places


def test_haircut_is_off_when_size_factor_is_zero() -> None:
    assert size_haircut_asset_weight_down(D("0.8"), D("0"), D("1e20")) == D("0.8")
    assert size_haircut_liability_weight_up(D("1.1"), D("0"), D("1e20")) == D("1.1")


def test_category_rule_comes_before_the_haircut() -> None:
    m = make_market(
        assets={
            "BIG": {
                "price": 1,
                "collateral_factor": "0.5",
                "liquidation_threshold": "0.6",
                "liquidation_bonus": "0.05",
                "size_factor": "0.01",
            }
        },
        categories={
            "c": {
                "collateral_factor": "0.9",
                "liquidation_threshold": "0.95",
                "liquidation_bonus": "0.01",
                "assets": ["BIG"],
            }
        },
    )
    # s = 400: sqrt 20, cap = 1.1 / 1.2 = 0.91666...: cf stays 0.9 (< cap), lt 0.95 -> cap
    w = effective_weights(m.assets["BIG"], m.categories["c"], D("400"), D("0"))
    assert w.collateral_factor == D("0.9")
    assert D("0.916666666666666666") <= w.liquidation_threshold < D("0.916666666666666667")
    assert w.base_liquidation_threshold == D("0.95")  # before the haircut (contract 3.3)


def test_a_tiny_deposit_into_a_large_haircut_position_never_lowers_collateral() -> None:
    """Regression: the haircut weight was rounded to 18 places, so s x w_eff could fall
    when s grew by less than s x 1e-18 / w (found while writing HF-1)."""
    m = make_market(
        assets={
            "WETH": {
                "price": 1000,
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.85",
                "liquidation_bonus": "0.05",
                "size_factor": "0.003",
            },
            "USDC": {
                "price": 1,
                "decimals": 6,
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.85",
                "liquidation_bonus": "0.05",
            },
        },
        # sqrt(3,693,560) = 1921.86...; cap = 1.1 / (1 + 5.7656...) = 0.1625... < 0.85
        accounts={"a": {"supply": {"WETH": "3693560"}, "borrow": {"USDC": "1000"}}},
    )
    before = account_health(m.accounts["a"], m)
    execute_deposit(m, "a", "WETH", "0.000000000005")
    after = account_health(m.accounts["a"], m)
    assert after.maintenance_collateral >= before.maintenance_collateral
    assert after.initial_collateral >= before.initial_collateral
    assert after.health_factor is not None and before.health_factor is not None
    assert after.health_factor >= before.health_factor


def test_sum_weighted_value_grows_with_supply_despite_the_haircut() -> None:
    # s x 1.1 / (1 + k sqrt s) increases in s: more supply is never less collateral.
    k = D("0.01")
    values = [
        s * size_haircut_asset_weight_down(D("1"), k, s)
        for s in (D(x) for x in ("1", "100", "10000", "1000000", "100000000"))
    ]
    assert values == sorted(values)
    assert all(isinstance(v, Decimal) for v in values)
