"""Contract 3.6, Aave v3.3's minimum leftover (tests/vectors/aave_rules.toml): with
min_leftover_value = 1,000 USD, a liquidation that clears neither the debt d nor the
collateral c must leave both (d - repaid) x p_debt and (c - seized) x p_coll at least
1,000; else it is refused (would_leave_dust) and nothing changes.
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector
from xmargin.errors import WouldLeaveDust
from xmargin.ledger.actions import execute_liquidate
from xmargin.model import Market
from xmargin.risk.liquidation import quote_liquidation


@pytest.fixture()
def aave() -> Market:
    return load_vector("aave_rules.toml")


def test_a_liquidation_leaving_both_sides_above_the_minimum_is_allowed(aave: Market) -> None:
    q = quote_liquidation(aave, "dusty", "USDC", "WETH", D("18000"))
    assert q.seized == D("9.45")  # 18,000 x 1.05 / 2000; leaves 0.55 WETH = 1,100
    assert q.repaid == D("18000")  # leaves 1,500 USDC of debt


def test_leftover_debt_at_the_minimum_still_needs_enough_collateral_left(aave: Market) -> None:
    # leaves 19,500 - 18,500 = 1,000 USDC; but 10 - 9.7125 = 0.2875 WETH = 575 < 1,000
    with pytest.raises(WouldLeaveDust):
        quote_liquidation(aave, "dusty", "USDC", "WETH", D("18500"))
    # 18,400: leaves 1,100 USDC and 10 - 9.66 = 0.34 WETH = 680 < 1,000: refused too
    with pytest.raises(WouldLeaveDust):
        quote_liquidation(aave, "dusty", "USDC", "WETH", D("18400"))
    # 18,025: leaves 1,475 USDC and 10 - 9.463125 = 0.536875 WETH = 1,073.75: allowed
    q = quote_liquidation(aave, "dusty", "USDC", "WETH", D("18025"))
    assert q.seized == D("9.463125")


def test_leaving_collateral_below_the_minimum_is_refused(aave: Market) -> None:
    before = aave.copy()
    with pytest.raises(WouldLeaveDust) as err:
        # seized 18,500 x 1.05 / 2000 = 9.7125; 0.2875 WETH x 2000 = 575 < 1,000
        execute_liquidate(aave, "dusty", "USDC", "WETH", D("18500"))
    assert err.value.code == "would_leave_dust"
    assert err.value.asset == "WETH"
    assert err.value.leftover_value == D("575")
    assert aave.state_equals(before)


def test_leaving_debt_below_the_minimum_is_refused(aave: Market) -> None:
    with pytest.raises(WouldLeaveDust) as err:
        # leaves 19,500 - 19,000 = 500 USDC of debt < 1,000
        quote_liquidation(aave, "dusty", "USDC", "WETH", D("19000"))
    assert err.value.asset == "USDC"
    assert err.value.leftover_value == D("500")


def test_clearing_the_collateral_skips_the_dust_check(aave: Market) -> None:
    q = quote_liquidation(aave, "dusty", "USDC", "WETH", "max")
    # 19,500 x 1.05 / 2000 = 10.2375 > 10: seized = 10, repaid = 20,000 / 1.05 rounded up
    assert q.seized == D("10")
    assert q.repaid == D("19047.619048")
    assert q.bad_debt == {"USDC": D("452.380952")}  # 19,500 - 19,047.619048


def test_clearing_the_debt_skips_the_dust_check(aave: Market) -> None:
    q = quote_liquidation(aave, "small_debt", "USDC", "WETH", "max")
    # all 1,700 USDC repaid; 1 - 0.8925 = 0.1075 WETH = 215 left, below 1,000, yet allowed
    assert q.repaid == D("1700")
    assert q.seized == D("0.8925")


def test_a_partial_liquidation_of_a_small_debt_is_refused_as_dust(aave: Market) -> None:
    with pytest.raises(WouldLeaveDust):
        quote_liquidation(aave, "small_debt", "USDC", "WETH", D("1000"))  # leaves 700 USDC


def test_the_rule_is_off_when_min_leftover_value_is_zero(aave: Market) -> None:
    aave.params = aave.params.model_copy(update={"min_leftover_value": D("0")})
    q = quote_liquidation(aave, "dusty", "USDC", "WETH", D("19000"))
    assert q.repaid == D("19000")  # leaves 500 USDC: allowed without the rule
