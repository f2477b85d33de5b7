"""Contract 8.1, Aave v4's liquidation to a target health factor:
tests/vectors/aave_v4_target.toml (issue 15's numbers) and the dust rules."""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.errors import NotLiquidatable, WouldLeaveDust
from xmargin.ledger.actions import execute_liquidate
from xmargin.model import Market
from xmargin.risk.liquidation import quote_liquidation
from xmargin.risk.target_health import (
    debt_to_liquidate,
    debt_to_target,
    variable_liquidation_bonus,
)

MAX_BONUS, HF_MAX, FACTOR = D("0.05"), D("0.85"), D("0.8")


@pytest.fixture()
def m() -> Market:
    return load_vector("aave_v4_target.toml")


def test_the_bonus_at_health_095_is_aaves_1_0433() -> None:
    lb = variable_liquidation_bonus(MAX_BONUS, D("0.95"), HF_MAX, FACTOR)
    assert lb == D("1.043333333333333333")  # 1.04 + 0.01 x 0.05 / 0.15, down
    assert round(lb, 4) == D("1.0433")


def test_the_bonus_is_the_maximum_at_or_below_health_for_max_bonus() -> None:
    assert variable_liquidation_bonus(MAX_BONUS, D("0.85"), HF_MAX, FACTOR) == D("1.05")
    assert variable_liquidation_bonus(MAX_BONUS, D("0.2"), HF_MAX, FACTOR) == D("1.05")


def test_the_bonus_falls_to_the_minimum_as_health_reaches_one() -> None:
    # minLB = (1.05 - 1) x 0.8 + 1 = 1.04
    just_below_one = variable_liquidation_bonus(MAX_BONUS, D("0.999999"), HF_MAX, FACTOR)
    assert D("1.04") < just_below_one < D("1.0401")
    assert variable_liquidation_bonus(MAX_BONUS, D("1"), HF_MAX, FACTOR) == D("1.04")


def test_a_bonus_factor_of_one_makes_the_bonus_flat() -> None:
    for hf in ("0.5", "0.9", "0.99"):
        assert variable_liquidation_bonus(MAX_BONUS, D(hf), HF_MAX, D(1)) == D("1.05")


def test_the_debt_to_target_of_the_issue_is_4169_24() -> None:
    # 10,000 x (1.05 - 0.96) / (1.05 - 1.042666666666666666 x 0.8), up to 6 places
    repay = debt_to_target(
        D(9600), D(10000), D("1.05"), D("1.042666666666666666"), D("0.8"), D(1), D(1), 6
    )
    assert repay == D("4169.240272")


def test_there_is_no_target_when_the_bonus_times_the_threshold_reaches_it() -> None:
    assert debt_to_target(D(8000), D(10000), D("1.05"), D("1.5"), D("0.7"), D(1), D(1), 6) is None


def test_debt_to_liquidate_passes_the_target_rather_than_leave_debt_dust() -> None:
    # 1,000 of debt, target 950: 50 would be left, below 100 of min_leftover_value
    assert debt_to_liquidate(None, D(1000), D(950), D(1), D(100)) == D(1000)
    assert debt_to_liquidate(None, D(1000), D(850), D(1), D(100)) == D(850)
    assert debt_to_liquidate(D(500), D(1000), D(850), D(1), D(100)) == D(500)


def test_the_issue_vector_reaches_health_1_05_exactly_to_the_rounding(m: Market) -> None:
    q = execute_liquidate(m, "ninety-six", "USDC", "WETH", "max")
    assert q.health_factor_before == D("0.96")
    assert q.bonus == D("0.042666666666666666")  # lb 1.042667
    assert q.repaid == D("4169.240272")  # 4,169.24
    assert q.seized == D("2.173563928469333331")
    assert q.health_factor_after is not None
    assert D("1.05") <= q.health_factor_after < D("1.05000001")
    assert m.accounts["ninety-six"].borrow == {"USDC": D("5830.759728")}


def test_the_bonus_at_health_095_through_a_liquidation(m: Market) -> None:
    q = quote_liquidation(m, "ninety-five", "USDC", "WETH", "max")
    assert q.bonus == D("0.043333333333333333")
    assert q.health_factor_after is not None and q.health_factor_after >= D("1.05")


def test_below_lb_times_lt_the_collateral_caps_and_the_rest_is_bad_debt(m: Market) -> None:
    q = execute_liquidate(m, "deep", "USDC", "WETH", "max")
    assert q.bonus == D("0.05")  # HF 0.8 <= 0.85
    assert q.seized == D(5)  # 10,000 x 1.05 / 2,000 = 5.25 > 5
    assert q.repaid == D("9523.809524")  # 5 x 2,000 / 1.05, up
    assert q.bad_debt == {"USDC": D("476.190476")}
    assert m.deficit == {"USDC": D("476.190476")}


def test_no_close_factor_applies_under_target(m: Market) -> None:
    # close_factor 0.5 (the default) would cap at 5,000: the target asks for 4,169.24 and
    # an amount above it is cut to the target, not to the close factor
    q = quote_liquidation(m, "ninety-six", "USDC", "WETH", "9000")
    assert q.repaid == D("4169.240272")


def test_a_smaller_amount_is_repaid_as_asked(m: Market) -> None:
    q = quote_liquidation(m, "ninety-six", "USDC", "WETH", "1000")
    assert q.repaid == D(1000)
    assert q.health_factor_after is not None and q.health_factor_after < D("1.05")


def test_a_healthy_account_is_refused(m: Market) -> None:
    with pytest.raises(NotLiquidatable):
        quote_liquidation(m, "healthy", "USDC", "WETH", "max")


def _dust_market(supply: dict[str, str], debt: str) -> Market:
    """min_leftover_value 1,000; WETH 2,000 and DAI 1 (both lt 0.8), USDC debt."""
    token = {"collateral_factor": "0.75", "liquidation_threshold": "0.8"}
    return make_market(
        market={"liquidation": "target", "min_leftover_value": 1000},
        assets={
            "WETH": {"price": 2000, "liquidation_bonus": "0.05", **token},
            "DAI": {"price": 1, "liquidation_bonus": "0.05", **token},
            "USDC": {
                "price": 1,
                "decimals": 6,
                "collateral_factor": 0,
                "liquidation_threshold": 0,
                "liquidation_bonus": 0,
            },
        },
        accounts={"a": {"supply": supply, "borrow": {"USDC": debt}}},
    )


def test_debt_dust_makes_the_liquidation_full() -> None:
    # 0.9 WETH (1,800; maintenance 1,440) against 1,500 USDC: HF 0.96, lb 1.042666..6;
    # the target is 135 / 0.2158666.. = 625.39 USDC, leaving 874.61 < 1,000: all 1,500 go.
    m = _dust_market({"WETH": "0.9"}, "1500")
    q = quote_liquidation(m, "a", "USDC", "WETH", "max")
    assert q.repaid == D(1500)
    assert q.seized == D("0.781999999999999999")  # 1,500 x 1.042666666666666666 / 2,000
    assert q.health_factor_after is None  # no debt left


def test_an_amount_below_what_the_debt_dust_rule_needs_is_refused() -> None:
    m = _dust_market({"WETH": "0.9"}, "1500")
    with pytest.raises(WouldLeaveDust) as err:
        quote_liquidation(m, "a", "USDC", "WETH", "700")
    assert err.value.asset == "USDC"
    assert err.value.leftover_value == D(800)  # (1,500 - 700) x 1


def test_collateral_dust_makes_the_liquidator_take_all_of_it() -> None:
    # 1 WETH (maintenance 1,600) + 3,000 DAI (2,400) against 4,200 USDC: HF 0.952380..,
    # lb = 1.04 + 0.01 x (1 - 0.952380952380952381) / 0.15 = 1.043174603174603174;
    # the target repays 1,902.6.. USDC, seizing 0.9924 WETH: 0.0076 WETH (15.2) would
    # stay, below 1,000: all 1 WETH is seized, repaying 2,000 / lb (up).
    m = _dust_market({"WETH": "1", "DAI": "3000"}, "4200")
    q = quote_liquidation(m, "a", "USDC", "WETH", "max")
    assert q.seized == D(1)
    assert q.repaid == D("1917.224590")  # 2,000 / 1.043174603174603174 = 1,917.22458916.., up
    with pytest.raises(WouldLeaveDust) as err:
        quote_liquidation(m, "a", "USDC", "WETH", "1910")
    assert err.value.asset == "WETH"
