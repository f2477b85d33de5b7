"""Contract section 2: the figures of one account, hand-checked (tests/vectors/basic.toml).

Rounding (style guide 5): collateral sums round down and debt sums round up to 18
places of the quote; the health factor rounds down.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.model import Market
from xmargin.risk.health import account_health, health_factor, is_liquidatable

USDC = {
    "price": 1,
    "decimals": 6,
    "collateral_factor": "0.85",
    "liquidation_threshold": "0.88",
    "liquidation_bonus": "0.045",
}


@pytest.fixture(scope="module")
def basic() -> Market:
    return load_vector("basic.toml")


def test_every_figure_of_a_healthy_two_collateral_account(basic: Market) -> None:
    h = account_health(basic.accounts["alice"], basic)
    assert h.collateral_value == D("35000")  # 10 WETH x 2000 + 0.5 WBTC x 30,000
    assert h.debt_value == D("15000")  # 15,000 USDC x 1
    assert h.initial_collateral == D("26500")  # 20,000 x 0.80 + 15,000 x 0.70
    assert h.initial_debt == D("15000")  # 15,000 x borrow_weight 1
    assert h.maintenance_collateral == D("27750")  # 20,000 x 0.825 + 15,000 x 0.75
    assert h.maintenance_debt == D("15000")
    assert h.health_factor == D("1.85")  # 27,750 / 15,000
    assert h.available_to_borrow == D("11500")  # 26,500 - 15,000
    assert h.liquidatable is False


def test_liability_weights_scale_initial_and_maintenance_debt(basic: Market) -> None:
    h = account_health(basic.accounts["hank"], basic)
    assert h.debt_value == D("5000")  # 10,000 CRV x 0.5
    assert h.initial_debt == D("6000")  # 5,000 x borrow_weight 1.2
    assert h.maintenance_debt == D("5500")  # 5,000 x maintenance_borrow_weight 1.1
    assert h.initial_collateral == D("8500")  # 10,000 USDC x 0.85
    assert h.maintenance_collateral == D("8800")  # 10,000 USDC x 0.88
    assert h.health_factor == D("1.6")  # 8,800 / 5,500
    assert h.available_to_borrow == D("2500")  # 8,500 - 6,000


def test_health_factor_is_null_and_account_not_liquidatable_without_debt(basic: Market) -> None:
    h = account_health(basic.accounts["gina"], basic)
    assert h.health_factor is None
    assert h.liquidatable is False
    assert h.debt_value == h.initial_debt == h.maintenance_debt == 0
    assert h.available_to_borrow == D("850")  # 1,000 USDC x 0.85
    assert h.maintenance_collateral == D("880")  # 1,000 USDC x 0.88


def test_health_factor_below_one_is_liquidatable(basic: Market) -> None:
    h = account_health(basic.accounts["bob"], basic)
    # 10 WETH x 2000 x 0.825 = 16,500 / 17,000 USDC = 0.97058823529411764705..., rounded down
    assert h.health_factor == D("0.970588235294117647")
    assert h.liquidatable is True
    assert h.available_to_borrow == 0  # 16,000 initial collateral < 17,000 debt


def test_health_factor_of_exactly_one_is_not_liquidatable() -> None:
    m = make_market(
        assets={"USDC": USDC},
        # 1,000 USDC x 0.88 = 880 of maintenance collateral against 880 USDC of debt.
        accounts={"edge": {"supply": {"USDC": "1000"}, "borrow": {"USDC": "880"}}},
    )
    h = account_health(m.accounts["edge"], m)
    assert h.health_factor == 1
    assert h.liquidatable is False


def test_one_unit_more_debt_than_health_one_is_liquidatable() -> None:
    m = make_market(
        assets={"USDC": USDC},
        # 880 USDC + 0.000001 USDC of debt against 880 of maintenance collateral.
        accounts={"edge": {"supply": {"USDC": "1000"}, "borrow": {"USDC": "880.000001"}}},
    )
    h = account_health(m.accounts["edge"], m)
    assert h.liquidatable is True
    # 880 / 880.000001 = 0.999999998863636364|927..., rounded down to 18 places
    assert h.health_factor == D("0.999999998863636364")


def test_an_account_may_supply_and_borrow_the_same_asset() -> None:
    m = make_market(
        assets={"USDC": USDC},
        accounts={"loop": {"supply": {"USDC": "1000"}, "borrow": {"USDC": "500"}}},
    )
    h = account_health(m.accounts["loop"], m)
    assert h.collateral_value == D("1000")  # 1,000 USDC x 1
    assert h.debt_value == D("500")  # 500 USDC x 1
    assert h.health_factor == D("1.76")  # 1,000 x 0.88 / 500


ODD_PRICE = {
    # 1/3 of a dollar written to 21 places: products carry more than 18 decimals.
    "price": "0.333333333333333333333",
    "collateral_factor": "0.5",
    "liquidation_threshold": "0.5",
    "liquidation_bonus": "0",
}


def test_collateral_figures_round_down_and_debt_figures_round_up() -> None:
    m = make_market(
        assets={"ODD": ODD_PRICE, "USDC": USDC},
        accounts={
            "a": {"supply": {"ODD": "1"}, "borrow": {"USDC": "0.1"}},
            "b": {"supply": {"USDC": "1"}, "borrow": {"ODD": "1"}},
        },
    )
    a = account_health(m.accounts["a"], m)
    # 1 ODD x 0.333333333333333333333 = 0.333333333333333333|333 -> down
    assert a.collateral_value == D("0.333333333333333333")
    # x 0.5 = 0.1666666666666666666665 -> down
    assert a.maintenance_collateral == D("0.166666666666666666")
    assert a.initial_collateral == D("0.166666666666666666")
    b = account_health(m.accounts["b"], m)
    # the same product on the debt side rounds up
    assert b.debt_value == D("0.333333333333333334")
    assert b.maintenance_debt == D("0.333333333333333334")
    assert b.initial_debt == D("0.333333333333333334")


def test_health_factor_rounds_down() -> None:
    # 2 / 3 = 0.666...; rounded down to 18 places, not up
    assert health_factor(D("2"), D("3")) == D("0.666666666666666666")
    assert health_factor(D("1"), D("0")) is None


@pytest.mark.parametrize(
    ("mc", "md", "expected"),
    [
        ("0", "0", False),  # no debt
        ("5", "0", False),  # no debt, some collateral
        ("1", "1", False),  # health exactly 1
        ("0.999999999999999999", "1", True),  # one unit of the last place below 1
        ("0", "1", True),  # debt and no collateral
    ],
)
def test_liquidatable_means_debt_and_health_below_one(mc: str, md: str, expected: bool) -> None:
    assert is_liquidatable(D(mc), D(md)) is expected


def test_health_is_evaluated_at_the_market_prices(basic: Market) -> None:
    shocked = basic.with_prices({"WETH": D("1400")})
    h = account_health(shocked.accounts["alice"], shocked)
    # 10 WETH x 1400 x 0.825 = 11,550 + 11,250 (WBTC) = 22,800 / 15,000 = 1.52
    assert h.health_factor == D("1.52")
    assert account_health(basic.accounts["alice"], basic).health_factor == D("1.85")


def test_figures_are_exact_decimals_not_floats(basic: Market) -> None:
    for acc in basic.accounts.values():
        h = account_health(acc, basic)
        for name, value in h._asdict().items():
            if name == "liquidatable":
                assert isinstance(value, bool)
            else:
                assert value is None or type(value) is Decimal, name
