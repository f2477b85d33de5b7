"""``xmargin health MARKET [--account ID]... [--json]``: every figure of contract section 2.

demo.toml: WETH at 2000 USD (cf 0.8, lt 0.85), USDC at 1 USD (cf 0.9, lt 0.95); weights
of debt 1. Hand-computed figures, in USD:
- alice: supplies 10 WETH (20000), borrows 10000 USDC. ic = 16000, mc = 17000,
  md = 10000, health 1.7, available 6000.
- bob: 1 WETH (2000) against 1750 USDC. ic = 1600, mc = 1700, health 1700/1750 =
  0.971428571428571428|57.. (rounded down to 18 places), available 0, liquidatable.
- carol: 0.5 WETH (1000) against 1100 USDC. ic = 800, mc = 850, health 850/1100 =
  0.772727272727272727|27.., liquidatable.
- dave: 500 USDC, no debt. ic = 450, mc = 475, health undefined (null), available 450.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xmargin.io import load_market
from xmargin.risk.health import account_health

FIELDS = [
    "account",
    "collateral_value",
    "debt_value",
    "initial_collateral",
    "initial_debt",
    "maintenance_collateral",
    "maintenance_debt",
    "health_factor",
    "available_to_borrow",
    "liquidatable",
    "perp_notional",  # contract 5.2: "0" without perps
    "unrealized_pnl",
    "option_value",  # contract 6.2: "0" without options
]

EXPECTED = {
    "alice": ["20000", "10000", "16000", "10000", "17000", "10000", "1.7", "6000", False],
    "bob": ["2000", "1750", "1600", "1750", "1700", "1750", "0.971428571428571428", "0", True],
    "carol": ["1000", "1100", "800", "1100", "850", "1100", "0.772727272727272727", "0", True],
    "dave": ["500", "0", "450", "0", "475", "0", None, "450", False],
}


def _expected(account: str) -> dict[str, object]:
    return dict(zip(FIELDS, [account, *EXPECTED[account], "0", "0", "0"], strict=True))


@pytest.mark.parametrize("name", ["demo.toml", "demo.json"])
def test_health_lists_every_account_in_file_order_with_hand_computed_figures(xm, name: str) -> None:
    run = xm("health", Path(__file__).parent / "files" / name, "--json")
    assert run.code == 0
    assert run.err == ""
    doc = run.json()
    assert list(doc) == ["accounts"]
    assert [list(row) for row in doc["accounts"]] == [FIELDS] * 4
    assert doc["accounts"] == [_expected(a) for a in ("alice", "bob", "carol", "dave")]


def test_health_with_account_options_follows_their_order(xm, demo_toml: Path) -> None:
    doc = xm("health", demo_toml, "--account", "carol", "--account", "alice", "--json").json()
    assert doc == {"accounts": [_expected("carol"), _expected("alice")]}


def test_health_json_equals_the_library_figures_exactly(xm, demo_toml: Path) -> None:
    market = load_market(demo_toml)
    doc = xm("health", demo_toml, "--json").json()
    for row in doc["accounts"]:
        h = account_health(market.account(row["account"]), market)
        for field, value in h._asdict().items():
            if isinstance(value, Decimal):
                assert Decimal(row[field]) == value
            else:
                assert row[field] == value


def test_health_of_an_unknown_account_exits_2_naming_it(xm, demo_toml: Path) -> None:
    run = xm("health", demo_toml, "--account", "zed", "--json")
    assert run.code == 2
    assert run.json()["error"]["code"] == "unknown_account"
    assert "'zed'" in run.error_line


def test_health_table_names_the_quote_unit_and_every_account(xm, demo_toml: Path) -> None:
    run = xm("health", demo_toml)
    assert run.code == 0
    assert "values in USD" in run.out
    for account in EXPECTED:
        assert account in run.out
    assert "0.9714" in run.out  # bob's health, rounded for display
    assert "20,000.00" in run.out


def test_the_table_never_rounds_a_health_factor_up_to_safety(xm, tmp_path: Path) -> None:
    # mc = 1 WETH x 2000 x 0.85 = 1700 USD against 1700.017 USDC: health 0.99999000..,
    # which rounded to 4 places half-even would read 1.0000 beside "liquidatable: yes".
    text = (Path(__file__).parent / "files" / "demo.toml").read_text()
    text = text.replace("borrow = { USDC = 1750 }", "borrow = { USDC = 1700.017 }")
    path = tmp_path / "m.toml"
    path.write_text(text)
    run = xm("health", path, "--account", "bob")
    assert run.code == 0
    assert "0.9999" in run.out
    assert "1.0000" not in run.out
