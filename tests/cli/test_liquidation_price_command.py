"""``xmargin liquidation-price``: the price of one asset at which health is exactly 1.

demo.toml (USD): alice supplies 10 WETH (lt 0.85) and owes 10000 USDC (weight 1).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from xmargin.io import load_market
from xmargin.risk.health import account_health


def _price(xm, path: Path, account: str, asset: str):
    return xm("liquidation-price", path, "--account", account, "--asset", asset, "--json")


def test_a_fall_in_collateral_price_is_rounded_up_toward_danger(xm, demo_toml: Path) -> None:
    # 10 * 0.85 * p = 10000  ->  p = 1176.470588235294117647|05.. rounded up;
    # change = p / 2000 - 1 = 0.588235294117647058|82.. rounded up, minus 1.
    run = _price(xm, demo_toml, "alice", "WETH")
    assert run.code == 0
    doc = run.json()
    assert list(doc)[:5] == ["account", "asset", "current_price", "price", "change"]
    assert doc == {
        "account": "alice",
        "asset": "WETH",
        "current_price": "2000",
        "price": "1176.470588235294117648",
        "change": "-0.411764705882352941",
        "method": "closed_form",  # extension (docs/contract.md 6.5)
        "tolerance": None,
    }


def test_a_rise_in_debt_price_liquidates_at_the_ratio(xm, demo_toml: Path) -> None:
    # 17000 of maintenance collateral = 10000 * p  ->  p = 1.7 USD, a change of +70%.
    doc = _price(xm, demo_toml, "alice", "USDC").json()
    assert doc["price"] == "1.7"
    assert doc["change"] == "0.7"


def test_at_the_reported_price_the_account_is_at_health_one(xm, demo_toml: Path) -> None:
    doc = _price(xm, demo_toml, "alice", "WETH").json()
    market = load_market(demo_toml)
    at = market.with_prices({"WETH": Decimal(doc["price"])})
    h = account_health(at.account("alice"), at)
    assert h.health_factor is not None
    assert abs(h.health_factor - 1) < Decimal("1e-17")


def test_an_account_without_debt_has_no_liquidation_price(xm, demo_toml: Path) -> None:
    doc = _price(xm, demo_toml, "dave", "USDC").json()
    assert doc == {
        "account": "dave",
        "asset": "USDC",
        "current_price": "1",
        "price": None,
        "change": None,
        "method": "closed_form",
        "tolerance": None,
    }


def test_the_table_names_the_quote_unit(xm, demo_toml: Path) -> None:
    run = xm("liquidation-price", demo_toml, "--account", "alice", "--asset", "WETH")
    assert run.code == 0
    assert "(USD)" in run.out
    assert "1176.470588235294117648" in run.out
    assert "-41.18%" in run.out


def test_an_unknown_asset_exits_2_naming_it(xm, demo_toml: Path) -> None:
    run = _price(xm, demo_toml, "alice", "DAI")
    assert run.code == 2
    assert run.json()["error"]["code"] == "unknown_asset"
    assert "'DAI'" in run.error_line
