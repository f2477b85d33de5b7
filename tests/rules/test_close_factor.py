"""Contract 3.1 and 3.2 (Aave v3's close factor), tests/vectors/basic.toml.

Above full_liquidation_health (0.95) at most close_factor (0.5) of the total debt D may
be repaid in one liquidation, min(d, close_factor x D / p_debt); at or below 0.95 the
whole of d. The limit rounds down (it binds the liquidator).
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.errors import NothingToLiquidate, NotLiquidatable
from xmargin.ledger.actions import execute_liquidate
from xmargin.model import Market
from xmargin.risk.liquidation import max_repayable, quote_liquidation


@pytest.fixture()
def basic() -> Market:
    return load_vector("basic.toml")


def test_above_095_at_most_half_of_the_debt_is_repaid(basic: Market) -> None:
    q = quote_liquidation(basic, "bob", "USDC", "WETH", "max")
    assert q.health_factor_before == D("0.970588235294117647")  # 16,500 / 17,000
    assert q.repaid == D("8500")  # 0.5 x 17,000 USDC / 1
    assert q.seized == D("4.4625")  # 8,500 x 1 x 1.05 / 2000 WETH


def test_a_larger_amount_is_cut_to_the_close_factor(basic: Market) -> None:
    q = quote_liquidation(basic, "bob", "USDC", "WETH", D("17000"))
    assert q.repaid == D("8500")


def test_a_smaller_amount_is_repaid_as_asked(basic: Market) -> None:
    q = quote_liquidation(basic, "bob", "USDC", "WETH", D("1000"))
    assert q.repaid == D("1000")
    assert q.seized == D("0.525")  # 1,000 x 1.05 / 2000


def test_at_or_below_095_the_whole_debt_may_be_repaid(basic: Market) -> None:
    q = quote_liquidation(basic, "carol", "USDC", "WETH", "max")
    assert q.health_factor_before == D("0.942857142857142857")  # 16,500 / 17,500
    assert q.repaid == D("17500")
    assert q.seized == D("9.1875")  # 17,500 x 1.05 / 2000 WETH, of 10
    assert q.health_factor_after is None  # no debt left
    assert q.bad_debt == {}


def test_health_exactly_095_allows_the_whole_debt(basic: Market) -> None:
    q = quote_liquidation(basic, "erin", "USDC", "WETH", "max")
    assert q.health_factor_before == D("0.95")  # 31,350 / 33,000
    assert q.repaid == D("33000")
    assert q.seized == D("17.325")  # 33,000 x 1.05 / 2000


def test_health_just_above_095_is_held_to_the_close_factor(basic: Market) -> None:
    q = quote_liquidation(basic, "frank", "USDC", "WETH", "max")
    assert q.health_factor_before == D("0.950028788751174278")  # 31,350 / 32,999
    assert q.repaid == D("16499.5")  # 0.5 x 32,999


def test_the_close_factor_applies_to_the_total_debt_across_assets(basic: Market) -> None:
    # D = 12,000 USDC + 5,000 DAI = 17,000; 0.5 x D = 8,500
    usdc = quote_liquidation(basic, "dave", "USDC", "WETH", "max")
    assert usdc.repaid == D("8500")  # min(12,000, 8,500)
    dai = quote_liquidation(basic, "dave", "DAI", "WETH", "max")
    assert dai.repaid == D("5000")  # min(5,000, 8,500)


def test_a_second_liquidation_uses_the_new_health(basic: Market) -> None:
    first = execute_liquidate(basic, "bob", "USDC", "WETH", "max")
    # 5.5375 WETH x 2000 x 0.825 = 9,136.875 / 8,500 = 1.07492647058823529...
    assert first.health_factor_after == D("1.074926470588235294")
    with pytest.raises(NotLiquidatable):
        quote_liquidation(basic, "bob", "USDC", "WETH", "max")


def test_close_factor_one_allows_the_whole_debt() -> None:
    m = make_market(
        market={"close_factor": "1"},
        assets={
            "WETH": {
                "price": 2000,
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.825",
                "liquidation_bonus": "0.05",
            },
            "USDC": {
                "price": 1,
                "decimals": 6,
                "collateral_factor": "0.85",
                "liquidation_threshold": "0.88",
                "liquidation_bonus": "0.045",
            },
        },
        accounts={"bob": {"supply": {"WETH": "10"}, "borrow": {"USDC": "17000"}}},
    )
    assert quote_liquidation(m, "bob", "USDC", "WETH", "max").repaid == D("17000")


def test_close_factor_limit_rounds_down_to_the_debt_decimals() -> None:
    params = make_market(
        market={"close_factor": "0.5"},
        assets={
            "X": {
                "price": 1,
                "collateral_factor": "0",
                "liquidation_threshold": "0",
                "liquidation_bonus": "0",
            }
        },
    ).params
    # 0.5 x 1000 / 3 = 166.666666|66... units, held to 6 decimals: 166.666666 (down)
    got = max_repayable(params, D("0.99"), D("1000"), D("1e9"), D("1000"), D("3"), D("1"), 6)
    assert got == D("166.666666")


def test_a_healthy_account_is_not_liquidatable(basic: Market) -> None:
    before = basic.copy()
    with pytest.raises(NotLiquidatable) as err:
        execute_liquidate(basic, "alice", "USDC", "WETH", "max")
    assert err.value.code == "not_liquidatable"
    assert err.value.health_factor == D("1.85")
    with pytest.raises(NotLiquidatable):
        execute_liquidate(basic, "gina", "USDC", "USDC", "max")  # no debt at all
    assert basic.state_equals(before)


def test_liquidating_a_debt_not_owed_or_a_collateral_not_held_is_refused(basic: Market) -> None:
    before = basic.copy()
    with pytest.raises(NothingToLiquidate) as err:
        execute_liquidate(basic, "bob", "DAI", "WETH", "max")  # bob owes no DAI
    assert err.value.code == "nothing_to_liquidate"
    with pytest.raises(NothingToLiquidate):
        execute_liquidate(basic, "bob", "USDC", "WBTC", "max")  # bob holds no WBTC
    assert basic.state_equals(before)


def test_collateral_with_zero_threshold_cannot_be_seized() -> None:
    m = make_market(
        assets={
            "WETH": {
                "price": 2000,
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.825",
                "liquidation_bonus": "0.05",
            },
            "NFT": {
                "price": 100,
                "collateral_factor": "0",
                "liquidation_threshold": "0",
                "liquidation_bonus": "0.1",
            },
        },
        accounts={"a": {"supply": {"WETH": "1", "NFT": "10"}, "borrow": {"WETH": "0.9"}}},
    )
    with pytest.raises(NothingToLiquidate):
        quote_liquidation(m, "a", "WETH", "NFT", "max")
    assert quote_liquidation(m, "a", "WETH", "WETH", "max").repaid > 0
