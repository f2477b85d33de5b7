"""Contract 4 ``liquidation-price``: the price of one asset at which health_factor = 1,
every other price fixed; ``null`` if none exists above zero; change = price/current - 1.

mc(p) = mc0 + s x lt x p and md(p) = md0 + b x mbw x p, so p* = (md0 - mc0) / (s x lt - b x mbw).
Rounded toward danger: up for a net collateral (a fall liquidates), down for a net debt.
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector
from xmargin.errors import UnknownAccount, UnknownAsset
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.liquidation_price import liquidation_price


@pytest.fixture(scope="module")
def basic() -> Market:
    return load_vector("basic.toml")


def test_price_of_the_only_collateral(basic: Market) -> None:
    lp = liquidation_price(basic, "bob", "WETH")
    # 17,000 / (10 x 0.825) = 2,060.6060...; rounded up (a fall below it liquidates)
    assert lp.current_price == D("2000")
    assert lp.price == D("2060.606060606060606061")
    # 2,060.606060606060606061 / 2000 = 1.0303030303030303030305 -> up, minus 1
    assert lp.change == D("0.030303030303030304")


def test_price_of_one_collateral_among_two(basic: Market) -> None:
    lp = liquidation_price(basic, "alice", "WETH")
    # mc0 = 11,250 (WBTC), md0 = 15,000: p* = 3,750 / 8.25 = 454.5454...; rounded up
    assert lp.price == D("454.545454545454545455")
    assert lp.change == D("-0.772727272727272727")  # 454.54... / 2000 - 1, rounded up


def test_price_of_the_debt_asset(basic: Market) -> None:
    lp = liquidation_price(basic, "alice", "USDC")
    # slope = -15,000 USDC; p* = (0 - 27,750) / -15,000 = 1.85 (a rise to 1.85 liquidates)
    assert lp.price == D("1.85")
    assert lp.change == D("0.85")


def test_price_of_a_debt_with_a_maintenance_weight(basic: Market) -> None:
    lp = liquidation_price(basic, "hank", "CRV")
    # slope = -10,000 CRV x 1.1; p* = -8,800 / -11,000 = 0.8
    assert lp.price == D("0.8")
    assert lp.change == D("0.6")  # 0.8 / 0.5 - 1


def test_no_price_without_debt_or_without_exposure(basic: Market) -> None:
    assert liquidation_price(basic, "gina", "USDC").price is None  # no debt
    none = liquidation_price(basic, "alice", "DAI")  # alice holds no DAI
    assert (none.price, none.change) == (None, None)
    assert none.current_price == D("1")


def test_no_price_when_the_other_collateral_alone_covers_the_debt(basic: Market) -> None:
    # WETH alone: 16,500 >= 15,000, so no WBTC price above zero brings health to 1
    assert liquidation_price(basic, "alice", "WBTC").price is None


@pytest.mark.parametrize(
    ("account", "asset"),
    [("alice", "WETH"), ("alice", "USDC"), ("bob", "WETH"), ("hank", "CRV"), ("hank", "USDC")],
)
def test_repricing_to_the_liquidation_price_gives_health_one(
    basic: Market, account: str, asset: str
) -> None:
    lp = liquidation_price(basic, account, asset)
    assert lp.price is not None
    hf = account_health(basic.accounts[account], basic.with_prices({asset: lp.price}))
    assert hf.health_factor is not None
    assert abs(hf.health_factor - 1) < D("1e-15")


def test_unknown_names_are_input_errors(basic: Market) -> None:
    with pytest.raises(UnknownAccount):
        liquidation_price(basic, "nobody", "WETH")
    with pytest.raises(UnknownAsset):
        liquidation_price(basic, "alice", "XYZ")
