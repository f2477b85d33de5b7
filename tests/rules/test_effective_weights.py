"""Contract 1.2, the category rule (Aave's efficiency mode), tests/vectors/emode.toml.

A category's collateral_factor, liquidation_threshold and liquidation_bonus replace the
asset's only for assets the category lists, and only for accounts that have the category;
liability weights are never the category's.
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.errors import CategoryViolation
from xmargin.ledger.actions import execute_borrow, execute_liquidate
from xmargin.model import Account, Market
from xmargin.risk.health import account_health
from xmargin.risk.liquidation import quote_liquidation
from xmargin.risk.weights import category_weights, effective_weights


@pytest.fixture()
def emode() -> Market:
    return load_vector("emode.toml")


def test_category_weights_replace_the_member_assets_weights(emode: Market) -> None:
    h = account_health(emode.accounts["in_emode"], emode)
    assert h.initial_collateral == D("24950")  # 23,000 wstETH x 0.90 + 5,000 USDC x 0.85
    assert h.maintenance_collateral == D("25790")  # 23,000 x 0.93 + 5,000 x 0.88
    assert h.debt_value == D("20000")  # 10 WETH x 2000
    assert h.maintenance_debt == D("20000")  # borrow weights stay 1
    assert h.health_factor == D("1.2895")  # 25,790 / 20,000
    assert h.available_to_borrow == D("4950")  # 24,950 - 20,000


def test_without_the_category_the_assets_own_weights_apply(emode: Market) -> None:
    h = account_health(emode.accounts["no_emode"], emode)
    assert h.initial_collateral == D("22305")  # 23,000 x 0.785 + 5,000 x 0.85
    assert h.maintenance_collateral == D("23030")  # 23,000 x 0.81 + 5,000 x 0.88
    assert h.health_factor == D("1.1515")  # 23,030 / 20,000
    assert h.available_to_borrow == D("2305")  # 22,305 - 20,000


def test_non_member_asset_keeps_its_weights_inside_the_category(emode: Market) -> None:
    cat = emode.categories["eth"]
    usdc = category_weights(emode.assets["USDC"], cat)
    assert (usdc.collateral_factor, usdc.liquidation_threshold, usdc.liquidation_bonus) == (
        D("0.85"),
        D("0.88"),
        D("0.045"),
    )
    wst = category_weights(emode.assets["wstETH"], cat)
    assert (wst.collateral_factor, wst.liquidation_threshold, wst.liquidation_bonus) == (
        D("0.90"),
        D("0.93"),
        D("0.01"),
    )


def test_category_does_not_change_liability_weights() -> None:
    m = make_market(
        assets={
            "WETH": {
                "price": 2000,
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.825",
                "liquidation_bonus": "0.05",
                "borrow_weight": "1.2",
                "maintenance_borrow_weight": "1.1",
            },
        },
        categories={
            "eth": {
                "collateral_factor": "0.9",
                "liquidation_threshold": "0.93",
                "liquidation_bonus": "0.01",
                "assets": ["WETH"],
            }
        },
    )
    w = effective_weights(m.assets["WETH"], m.categories["eth"], D("0"), D("1"))
    assert (w.borrow_weight, w.maintenance_borrow_weight) == (D("1.2"), D("1.1"))
    assert (w.collateral_factor, w.liquidation_threshold) == (D("0.9"), D("0.93"))


def test_liquidation_inside_the_category_uses_the_category_bonus(emode: Market) -> None:
    q = quote_liquidation(emode, "emode_liq", "WETH", "wstETH", "max")
    # health = 10 x 2300 x 0.93 / (11 x 2000) = 21,390 / 22,000 = 0.97227... > 0.95
    assert q.health_factor_before == D("0.972272727272727272")
    assert q.repaid == D("5.5")  # min(11, 0.5 x 22,000 / 2000)
    assert q.bonus == D("0.01")  # the category's, not wstETH's 0.06
    # 5.5 WETH x 2000 x 1.01 / 2300 = 4.830434782608695652|17... wstETH, rounded down
    assert q.seized == D("4.830434782608695652")


def test_the_same_account_without_category_gets_the_asset_bonus(emode: Market) -> None:
    emode.accounts["emode_liq"].category = None
    # 10 wstETH x 2300 x 0.81 = 18,630 / 22,000 = 0.846818... <= 0.95: the whole debt
    q = quote_liquidation(emode, "emode_liq", "WETH", "wstETH", D("1"))
    assert q.bonus == D("0.06")
    # 1 WETH x 2000 x 1.06 / 2300 = 0.921739130434782608|69... wstETH, rounded down
    assert q.seized == D("0.921739130434782608")


def test_category_allows_borrowing_only_its_borrowable_assets(emode: Market) -> None:
    before = emode.copy()
    with pytest.raises(CategoryViolation) as err:
        execute_borrow(emode, "in_emode", "USDC", "1")
    assert err.value.code == "category_violation"
    assert "USDC" in str(err.value)
    # wstETH is a member but not in borrowable = ["WETH"]
    with pytest.raises(CategoryViolation):
        execute_borrow(emode, "in_emode", "wstETH", "0.1")
    assert emode.state_equals(before)
    # WETH is allowed: 1 WETH x 2000 = 2,000 <= 4,950 available
    execute_borrow(emode, "in_emode", "WETH", "1")
    assert emode.accounts["in_emode"].borrowed("WETH") == D("11")


def test_without_borrowable_list_every_member_is_borrowable() -> None:
    assets = {
        a: {
            "price": p,
            "collateral_factor": "0.8",
            "liquidation_threshold": "0.85",
            "liquidation_bonus": "0.05",
        }
        for a, p in (("WETH", 2000), ("wstETH", 2300), ("USDC", 1))
    }
    m = make_market(
        assets=assets,
        categories={
            "eth": {
                "collateral_factor": "0.9",
                "liquidation_threshold": "0.93",
                "liquidation_bonus": "0.01",
                "assets": ["WETH", "wstETH"],
            }
        },
        accounts={"a": {"category": "eth", "supply": {"WETH": "10"}}},
    )
    execute_borrow(m, "a", "wstETH", "1")  # 2,300 of 18,000 initial collateral
    execute_borrow(m, "a", "WETH", "1")
    with pytest.raises(CategoryViolation):
        execute_borrow(m, "a", "USDC", "1")


def test_an_account_in_a_category_liquidated_against_a_non_member_gets_the_asset_bonus(
    emode: Market,
) -> None:
    emode.accounts["x"] = Account(
        "x", {"USDC": D("10000")}, {"WETH": D("5")}, category="eth"
    )  # 10,000 x 0.88 = 8,800 vs 10,000 of debt: health 0.88
    q = quote_liquidation(emode, "x", "WETH", "USDC", D("1"))
    assert q.bonus == D("0.045")  # USDC's own bonus
    assert q.seized == D("2090")  # 1 WETH x 2000 x 1.045 / 1


def test_liquidation_executes_with_category_weights_after(emode: Market) -> None:
    q = execute_liquidate(emode, "emode_liq", "WETH", "wstETH", "max")
    acc = emode.accounts["emode_liq"]
    assert acc.supplied("wstETH") == D("10") - q.seized  # 5.169565217391304348
    assert acc.borrowed("WETH") == D("5.5")
    # 5.169565217391304348 x 2300 x 0.93 = 11,057.7 (exactly 11,057.700000000000000372)
    # / (5.5 x 2000 = 11,000) = 1.005245454545454545...
    assert q.health_factor_after == D("1.005245454545454545")
