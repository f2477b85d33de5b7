"""Contract 3.4 and 3.5: seizure and Aave v3's liquidation protocol fee.

seized = repaid x p_debt x (1 + beta) / p_coll, rounded down; capped at the collateral
balance c with repaid = c x p_coll / (p_debt x (1 + beta)), rounded up.
protocol_fee = (seized - seized / (1 + beta)) x protocol_fee: a share of the bonus part
only, rounded up; liquidator_receives = seized - protocol_fee.
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.model import Market
from xmargin.risk.liquidation import protocol_fee, quote_liquidation, seize


@pytest.fixture()
def basic() -> Market:
    return load_vector("basic.toml")


def test_fee_is_a_share_of_the_bonus_part_only(basic: Market) -> None:
    q = quote_liquidation(basic, "bob", "USDC", "WETH", "max")
    assert q.seized == D("4.4625")  # 8,500 x 1.05 / 2000 WETH
    # bonus part = 4.4625 - 4.4625 / 1.05 = 4.4625 - 4.25 = 0.2125; x 0.10 = 0.02125
    assert q.protocol_fee == D("0.02125")
    assert q.liquidator_receives == D("4.44125")  # 4.4625 - 0.02125
    assert q.seized == q.liquidator_receives + q.protocol_fee


def test_fee_of_the_whole_debt_liquidation(basic: Market) -> None:
    q = quote_liquidation(basic, "carol", "USDC", "WETH", "max")
    # seized 9.1875; bonus part = 9.1875 - 8.75 = 0.4375; x 0.10 = 0.04375 WETH
    assert q.protocol_fee == D("0.04375")
    assert q.liquidator_receives == D("9.14375")


def test_fee_rate_is_the_collateral_assets() -> None:
    m = make_market(
        assets={
            "WETH": {
                "price": 2000,
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.825",
                "liquidation_bonus": "0.05",
                "protocol_fee": "0.5",  # the debt asset's fee does not apply
            },
            "USDC": {
                "price": 1,
                "decimals": 6,
                "collateral_factor": "0.85",
                "liquidation_threshold": "0.88",
                "liquidation_bonus": "0.045",
                "protocol_fee": "0.20",
            },
        },
        # 20,000 USDC x 0.88 = 17,600 against 9.5 WETH x 2000 = 19,000: health 0.926...
        accounts={"a": {"supply": {"USDC": "20000"}, "borrow": {"WETH": "9.5"}}},
    )
    q = quote_liquidation(m, "a", "WETH", "USDC", D("1"))
    assert q.seized == D("2090")  # 1 WETH x 2000 x 1.045 / 1 USDC
    # bonus part = 2,090 - 2,090 / 1.045 = 2,090 - 2,000 = 90 USDC; x 0.20 = 18 USDC
    assert q.protocol_fee == D("18")
    assert q.liquidator_receives == D("2072")


def test_fee_rounds_up_and_seized_rounds_down() -> None:
    # seized 1 unit, beta 0.05: bonus part = 1 - 1 / 1.05 = 0.047619047619047619|047...
    # x 0.10 = 0.004761904761904761|9047... -> rounded up to 18 places
    assert protocol_fee(D("1"), D("0.05"), D("0.10"), 18) == D("0.004761904761904762")
    # held to 6 places: 0.004762 (up), not 0.004761
    assert protocol_fee(D("1"), D("0.05"), D("0.10"), 6) == D("0.004762")
    # 1 unit of debt at 1, beta 0.05, collateral price 3: 1.05 / 3 = 0.35 exactly
    assert seize(D("1"), D("1"), D("3"), D("0.05"), D("10"), 6, 6) == (D("0.35"), D("1"))
    # 1 x 1 x 1.05 / 7 = 0.15 exactly; / 9 = 0.11666...: rounded down to 0.116666
    assert seize(D("1"), D("1"), D("9"), D("0.05"), D("10"), 6, 6) == (D("0.116666"), D("1"))


def test_seized_is_capped_at_the_balance_and_repaid_recomputed_rounding_up() -> None:
    # 2,000 units of debt at 1, beta 0.05, collateral 1 unit at 1000: 2,000 x 1.05 / 1000 = 2.1 > 1
    seized, repaid = seize(D("2000"), D("1"), D("1000"), D("0.05"), D("1"), 6, 18)
    assert seized == D("1")
    # repaid = 1 x 1000 / (1 x 1.05) = 952.380952|380952... -> rounded up to 6 places
    assert repaid == D("952.380953")


def test_no_fee_without_a_bonus_and_no_fee_when_the_rate_is_zero() -> None:
    assert protocol_fee(D("10"), D("0"), D("0.5"), 18) == 0
    assert protocol_fee(D("10"), D("0.05"), D("0"), 18) == 0


def test_fee_applies_to_a_capped_seizure_too() -> None:
    m = load_vector("aave_rules.toml")
    q = quote_liquidation(m, "dusty", "USDC", "WETH", "max")
    assert q.seized == D("10")  # capped at the 10 WETH held
    # bonus part = 10 - 10 / 1.05 = 0.476190476190476190|476...; x 0.10 = 0.0476190476...
    assert q.protocol_fee == D("0.047619047619047620")  # rounded up
    assert q.liquidator_receives == D("9.95238095238095238")
