"""Contract 6.1 and 6.4 under stress: a price shock moves each forward (and perp mark) with
its underlying, F·S′/S; a volatility shock multiplies σ by 1 + x, floored at 0."""

from __future__ import annotations

import pytest

from tests.builders import D
from tests.option_builders import option_market
from xmargin import stress
from xmargin.errors import InputError, UnknownAsset
from xmargin.model import Market
from xmargin.risk.black76 import black76, year_fraction
from xmargin.risk.options import mark_value, with_vol_shocks
from xmargin.risk.shocks import parse_vol_shock

TAU = year_fraction(D(27 * 86_400))


def market() -> Market:
    return option_market(
        {"C": {"kind": "call", "strike": 1600, "forward": "1520", "volatility": "0.5"}},
        {"a": {"C": "-2"}},
        perps={"ETH-PERP": {"underlying": "ETH", "settlement_asset": "USDC",
                            "initial_margin": "0.1", "maintenance_margin": "0.05",
                            "mark_price": "1510"}},
    )  # fmt: skip


def test_a_price_shock_moves_the_forward_and_the_perp_mark_proportionally() -> None:
    m = market()
    shocked = m.with_prices({"ETH": D(1350)})  # -10 %
    assert shocked.options["C"].forward == D(1368)  # 1520 x 0.9
    assert shocked.perps["ETH-PERP"].mark_price == D(1359)  # 1510 x 0.9
    assert mark_value(shocked, "C") == black76(True, D(1368), D(1600), D("0.5"), TAU, D(1))
    assert m.options["C"].forward == D(1520)  # the original is untouched


def test_a_volatility_shock_multiplies_sigma_and_floors_it_at_zero() -> None:
    m = market()
    up = with_vol_shocks(m, {"ETH": D("0.5")})
    assert up.options["C"].volatility == D("0.75")
    gone = with_vol_shocks(m, {"ETH": D("-1.5")})
    assert gone.options["C"].volatility == 0
    assert mark_value(gone, "C") == 0  # out of the money, no volatility: intrinsic 0


def test_stress_applies_both_and_reports_the_volatility_shocks() -> None:
    m = market()
    result = stress(m, {"ETH": D("-0.1")}, {"ETH": D("0.5")})
    (_, h) = result.accounts[0]
    value = black76(True, D(1368), D(1600), D("0.75"), TAU, D(1))
    assert abs(h.option_value - (-2 * value)) <= D("1e-18")
    assert dict(result.vol_shocks) == {"ETH": D("0.5")}


def test_an_unknown_volatility_shock_asset_is_refused() -> None:
    with pytest.raises(UnknownAsset):
        stress(market(), {}, {"DOGE": D("0.5")})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ETH=+50%", ("ETH", D("0.5"))),
        ("ETH=-0.25", ("ETH", D("-0.25"))),
        ("ETH=-200%", ("ETH", D(-2))),
    ],
)
def test_volatility_shocks_parse_as_percent_or_fraction(text: str, expected: object) -> None:
    assert parse_vol_shock(text) == expected


@pytest.mark.parametrize("text", ["ETH", "ETH=", "=5%", "ETH=abc%", "ETH=NaN"])
def test_malformed_volatility_shocks_are_bad_input(text: str) -> None:
    with pytest.raises(InputError):
        parse_vol_shock(text)
