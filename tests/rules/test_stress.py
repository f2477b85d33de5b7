"""Contract 4 ``stress``: every shocked price multiplied by (1 + shock), then every figure
again, and a summary: accounts, liquidatable_accounts, liquidatable_debt (debt_value of
liquidatable accounts) and insolvent_debt (sum of max(0, debt_value - collateral_value)).
"""

from __future__ import annotations

import pytest

from tests.builders import D, make_market
from xmargin.analytics.stress import parse_shock, stress
from xmargin.errors import InputError, UnknownAsset
from xmargin.model import Market

ASSETS = {
    "WETH": {
        "price": 2000,
        "collateral_factor": "0.80",
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
}


@pytest.fixture()
def market() -> Market:
    return make_market(
        assets=ASSETS,
        accounts={
            # 10 WETH, 10,000 USDC debt: health 16,500 / 10,000 = 1.65
            "safe": {"supply": {"WETH": "10"}, "borrow": {"USDC": "10000"}},
            # 10 WETH, 15,000 USDC debt: health 16,500 / 15,000 = 1.1
            "thin": {"supply": {"WETH": "10"}, "borrow": {"USDC": "15000"}},
            # 20,000 USDC supplied, 5 WETH borrowed: health 17,600 / 10,000 = 1.76
            "short": {"supply": {"USDC": "20000"}, "borrow": {"WETH": "5"}},
            "saver": {"supply": {"USDC": "100"}},
        },
    )


@pytest.mark.parametrize(
    ("text", "asset", "shock"),
    [
        ("WETH=-30%", "WETH", "-0.3"),
        ("WETH=-0.3", "WETH", "-0.3"),
        (" WETH = +25% ", "WETH", "0.25"),
        ("USDC=0", "USDC", "0"),
        ("WETH=-99.5%", "WETH", "-0.995"),
    ],
)
def test_parse_shock_reads_percent_or_fraction(text: str, asset: str, shock: str) -> None:
    assert parse_shock(text) == (asset, D(shock))


@pytest.mark.parametrize("text", ["WETH", "WETH=", "WETH=-100%", "WETH=-1", "WETH=abc%", "=5%"])
def test_bad_shocks_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_shock(text)


def test_a_30_percent_fall_of_weth(market: Market) -> None:
    before = market.copy()
    result = stress(market, {"WETH": D("-0.3")})
    assert result.prices == {"WETH": D("1400")}  # 2000 x 0.7
    rows = dict(result.accounts)
    # safe: 10 x 1400 x 0.825 = 11,550 / 10,000 = 1.155
    assert rows["safe"].health_factor == D("1.155")
    # thin: 11,550 / 15,000 = 0.77, liquidatable; debt 15,000 > collateral 14,000
    assert rows["thin"].health_factor == D("0.77")
    assert rows["thin"].liquidatable
    # short: 17,600 / (5 x 1400 = 7,000) = 2.514285714285714285...
    assert rows["short"].health_factor == D("2.514285714285714285")
    assert rows["saver"].health_factor is None
    s = result.summary
    assert (s.accounts, s.liquidatable_accounts) == (4, 1)
    assert s.liquidatable_debt == D("15000")  # thin's debt_value
    assert s.insolvent_debt == D("1000")  # 15,000 - 14,000
    assert market.state_equals(before)  # the market itself is not re-priced


def test_a_rise_hurts_the_short(market: Market) -> None:
    result = stress(market, {"WETH": D("1.0")})  # +100%: 4000
    rows = dict(result.accounts)
    # short: 17,600 / (5 x 4000 = 20,000) = 0.88; insolvent 20,000 - 20,000 = 0
    assert rows["short"].health_factor == D("0.88")
    assert result.summary.liquidatable_accounts == 1
    assert result.summary.liquidatable_debt == D("20000")
    assert result.summary.insolvent_debt == 0


def test_several_shocks_at_once(market: Market) -> None:
    result = stress(market, {"WETH": D("-0.5"), "USDC": D("0.1")})
    assert result.prices == {"WETH": D("1000"), "USDC": D("1.1")}
    rows = dict(result.accounts)
    # thin: 10 x 1000 x 0.825 = 8,250 / (15,000 x 1.1 = 16,500) = 0.5
    assert rows["thin"].health_factor == D("0.5")
    # safe: 8,250 / 11,000 = 0.75
    assert rows["safe"].health_factor == D("0.75")
    s = result.summary
    assert s.liquidatable_accounts == 2
    assert s.liquidatable_debt == D("27500")  # 16,500 + 11,000
    assert s.insolvent_debt == D("7500")  # (16,500 - 10,000) + (11,000 - 10,000)


def test_no_shock_reports_the_current_figures(market: Market) -> None:
    result = stress(market, {})
    assert result.summary.liquidatable_accounts == 0
    assert dict(result.accounts)["thin"].health_factor == D("1.1")


def test_an_unknown_asset_is_an_input_error(market: Market) -> None:
    with pytest.raises(UnknownAsset):
        stress(market, {"XYZ": D("-0.1")})
