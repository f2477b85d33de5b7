"""Rule: the packaged demo market loads and shows every state the engine reports.

``src/xmargin/data/demo.toml`` is what ``make demo`` and the README run on.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

import xmargin
from xmargin.data import DATA_FILES, data_path
from xmargin.model import Market


@pytest.fixture(name="demo")
def demo_fixture() -> Market:
    return xmargin.load_market(data_path("demo.toml"))


def _state(market: Market, account_id: str) -> str:
    h = xmargin.account_health(market.account(account_id), market)
    if h.health_factor is None or h.health_factor > Decimal("1.1"):
        return "healthy"
    if not h.liquidatable:
        return "at_risk"
    return "insolvent" if h.debt_value > h.collateral_value else "liquidatable"


def test_every_packaged_data_file_is_found_by_name() -> None:
    for name in DATA_FILES:
        assert data_path(name).is_file()


def test_an_unknown_data_file_name_is_refused_with_the_names_there_are() -> None:
    with pytest.raises(xmargin.InputError, match=r"no packaged data file named 'nope\.toml'"):
        data_path("nope.toml")


def test_the_demo_market_loads_with_a_few_dozen_accounts(demo: Market) -> None:
    assert demo.params.name == "demo"
    assert 20 <= len(demo.accounts) <= 60
    assert {"WETH", "WBTC", "USDC", "wstETH", "STG"} <= set(demo.assets)


def test_the_demo_has_healthy_at_risk_liquidatable_and_insolvent_accounts(
    demo: Market,
) -> None:
    states = [_state(demo, a) for a in demo.accounts]
    for state in ("healthy", "at_risk", "liquidatable", "insolvent"):
        assert states.count(state) >= 3, state


def test_the_demo_uses_the_eth_category_and_isolation(demo: Market) -> None:
    in_category = [a for a in demo.accounts.values() if a.category == "eth-correlated"]
    isolated = [a for a in demo.accounts.values() if demo.isolated_collateral_of(a) == "STG"]
    assert {_state(demo, a.id) for a in in_category} >= {"healthy", "at_risk", "liquidatable"}
    assert len(isolated) >= 2
    assert demo.isolation_debt["STG"] <= (demo.assets["STG"].debt_ceiling or Decimal(0))


def test_a_30pct_weth_drop_makes_eth_levered_liquidatable(demo: Market) -> None:
    assert _state(demo, "eth-levered") == "at_risk"
    result = xmargin.stress(demo, {"WETH": Decimal("-0.3")})
    shocked = dict(result.accounts)
    assert shocked["eth-levered"].liquidatable
    assert result.summary.liquidatable_accounts > sum(
        xmargin.account_health(a, demo).liquidatable for a in demo.accounts.values()
    )


def test_eth_underwater_can_be_liquidated_with_max_through_the_library(demo: Market) -> None:
    # Health 0.98 > full_liquidation_health 0.95: the close factor caps repayment at half
    # of the debt value, 0.5 x 92,000 USDC x 0.99997427 / 0.99997427 = 46,000 USDC.
    assert _state(demo, "eth-underwater") == "liquidatable"
    quote = xmargin.execute_liquidate(demo, "eth-underwater", "USDC", "WETH", "max")
    assert quote.repaid == Decimal("46000")
    assert quote.health_factor_after is not None and quote.health_factor_after > 1
    assert demo.account("eth-underwater").borrowed("USDC") == Decimal("46000")
    assert quote.bad_debt == {}


def test_liquidating_an_insolvent_demo_account_with_max_leaves_bad_debt(demo: Market) -> None:
    # The shortfall is written off (3.7); the insurance fund covers it first (5.5), and
    # only what the fund cannot cover reaches the deficit.
    fund = demo.insurance_fund["USDC"]
    quote = xmargin.execute_liquidate(demo, "eth-bad-debt", "USDC", "WETH", "max")
    assert quote.seized == Decimal("10")  # all of its WETH
    used = quote.insurance_fund_used["USDC"]
    assert used > 0 and demo.insurance_fund["USDC"] == fund - used
    assert demo.deficit.get("USDC", Decimal(0)) == quote.bad_debt.get("USDC", Decimal(0))
    # The fund holds no USDT: btc-bad-debt's USDT shortfall is all bad debt.
    quote = xmargin.execute_liquidate(demo, "btc-bad-debt", "USDT", "WBTC", "max")
    assert quote.bad_debt["USDT"] > 0 and demo.deficit["USDT"] == quote.bad_debt["USDT"]


def test_the_demo_has_eth_and_btc_perps_with_usdc_collateralised_longs_and_shorts(
    demo: Market,
) -> None:
    assert {"ETH-PERP", "BTC-PERP"} <= set(demo.perps)
    traders = [a for a in demo.accounts.values() if a.perps]
    assert len(traders) >= 4
    sizes = [pos.size for a in traders for pos in a.perps.values()]
    assert any(q > 0 for q in sizes) and any(q < 0 for q in sizes)
    for a in traders:
        assert set(a.supply) == {"USDC"} and not a.borrow, a.id
    states = {a.id: _state(demo, a.id) for a in traders}
    assert states["perp-eth-near"] == "at_risk"
    assert states["perp-eth-underwater"] == "liquidatable"
    # A 1% fall of WETH takes the trader near liquidation over the line.
    shocked = dict(xmargin.stress(demo, {"WETH": Decimal("-0.01")}).accounts)
    assert shocked["perp-eth-near"].liquidatable
