"""Contract 3.2, Aave v3.3's small-position rule (tests/vectors/aave_rules.toml):
the whole of d may be repaid when d x p_debt or c x p_coll is below
small_position_value (2,000 USD), even above full_liquidation_health.
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector
from xmargin.errors import WouldLeaveDust
from xmargin.model import Market
from xmargin.risk.liquidation import quote_liquidation


@pytest.fixture()
def aave() -> Market:
    return load_vector("aave_rules.toml")


def test_a_small_debt_position_may_be_repaid_whole_above_095(aave: Market) -> None:
    q = quote_liquidation(aave, "small_debt", "USDC", "WETH", "max")
    assert q.health_factor_before == D("0.970588235294117647")  # 1,650 / 1,700 > 0.95
    assert q.repaid == D("1700")  # 1,700 USDC x 1 < 2,000: the whole debt
    assert q.seized == D("0.8925")  # 1,700 x 1.05 / 2000 WETH


def test_a_small_collateral_position_lifts_the_close_factor(aave: Market) -> None:
    q = quote_liquidation(aave, "small_coll", "DAI", "WETH", "max")
    assert q.health_factor_before == D("0.968781725888324873")  # 19,085 / 19,700
    # 0.9 WETH x 2000 = 1,800 < 2,000: all 19,700 DAI allowed, but the seizure caps at 0.9
    assert q.seized == D("0.9")
    # repaid = 0.9 x 2000 / (1 x 1.05) = 1,714.285714285714285714|28... DAI, rounded up
    assert q.repaid == D("1714.285714285714285715")


def test_a_large_collateral_position_of_the_same_account_keeps_the_close_factor(
    aave: Market,
) -> None:
    q = quote_liquidation(aave, "small_coll", "DAI", "USDC", "max")
    assert q.repaid == D("9850")  # 0.5 x 19,700: USDC position 20,000 >= 2,000


def test_both_positions_large_keep_the_close_factor(aave: Market) -> None:
    q = quote_liquidation(aave, "big", "USDC", "WETH", "max")
    assert q.repaid == D("8500")  # 0.5 x 17,000


def test_the_rule_is_off_when_small_position_value_is_zero(aave: Market) -> None:
    # (min_leftover_value off too: 850 USDC left would be dust)
    aave.params = aave.params.model_copy(
        update={"small_position_value": D("0"), "min_leftover_value": D("0")}
    )
    q = quote_liquidation(aave, "small_debt", "USDC", "WETH", "max")
    assert q.repaid == D("850")  # 0.5 x 1,700


def test_with_min_leftover_the_close_factor_limit_would_leave_dust(aave: Market) -> None:
    aave.params = aave.params.model_copy(update={"small_position_value": D("0")})
    with pytest.raises(WouldLeaveDust):
        quote_liquidation(aave, "small_debt", "USDC", "WETH", "max")  # 850 USDC left < 1,000


def test_a_position_exactly_at_the_threshold_is_not_small(aave: Market) -> None:
    aave.params = aave.params.model_copy(
        update={"small_position_value": D("1700"), "min_leftover_value": D("0")}
    )
    q = quote_liquidation(aave, "small_debt", "USDC", "WETH", "max")
    assert q.repaid == D("850")  # 1,700 is not below 1,700: 0.5 x 1,700
