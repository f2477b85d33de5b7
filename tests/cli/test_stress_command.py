"""``xmargin stress``: shocked prices, every account again, and a summary (contract 4).

demo.toml with WETH shocked by -30%: 2000 -> 1400 USD. By hand, in USD:
- alice: 14000 collateral (mc 11900) against 10000: health 1.19, available 11200 - 10000.
- bob: 1400 (mc 1190) against 1750: health 0.68, liquidatable, 350 insolvent.
- carol: 700 (mc 595) against 1100: health 0.540909090909090909|09.., 400 insolvent.
- dave: USDC only, unchanged.
Summary: 4 accounts, 2 liquidatable owing 1750 + 1100 = 2850; insolvent 350 + 400 = 750.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xmargin.analytics.stress import parse_shock, stress
from xmargin.io import load_market

ROW_FIELDS = [
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


@pytest.mark.parametrize("shock", ["WETH=-30%", "WETH=-0.3", " WETH = -30 % "])
def test_a_price_shock_is_summarised_as_computed_by_hand(xm, demo_toml: Path, shock: str) -> None:
    run = xm("stress", demo_toml, "--shock", shock, "--json")
    assert run.code == 0
    assert run.err == ""
    doc = run.json()
    assert list(doc) == ["accounts", "summary", "prices"]
    assert doc["prices"] == {"WETH": "1400"}
    assert list(doc["summary"]) == [
        "accounts",
        "liquidatable_accounts",
        "liquidatable_debt",
        "insolvent_debt",
    ]
    assert doc["summary"] == {
        "accounts": 4,
        "liquidatable_accounts": 2,
        "liquidatable_debt": "2850",
        "insolvent_debt": "750",
    }
    rows = {row["account"]: row for row in doc["accounts"]}
    assert [row["account"] for row in doc["accounts"]] == ["alice", "bob", "carol", "dave"]
    assert all(list(row) == ROW_FIELDS for row in doc["accounts"])
    assert rows["alice"]["health_factor"] == "1.19"
    assert rows["alice"]["available_to_borrow"] == "1200"
    assert rows["bob"]["health_factor"] == "0.68"
    assert rows["bob"]["liquidatable"] is True
    assert rows["carol"]["health_factor"] == "0.540909090909090909"
    assert rows["dave"]["health_factor"] is None


def test_several_shocks_apply_together_and_match_the_library(xm, demo_toml: Path) -> None:
    # USDC +10% raises every debt: bob owes 1925 USD against mc 1190.
    args = ["--shock", "WETH=-30%", "--shock", "USDC=+10%"]
    doc = xm("stress", demo_toml, *args, "--json").json()
    expected = stress(
        load_market(demo_toml), dict([parse_shock("WETH=-30%"), parse_shock("USDC=+10%")])
    )
    assert doc["prices"] == {"WETH": "1400", "USDC": "1.1"}
    assert Decimal(doc["summary"]["liquidatable_debt"]) == expected.summary.liquidatable_debt
    assert Decimal(doc["summary"]["insolvent_debt"]) == expected.summary.insolvent_debt
    for row, (account, h) in zip(doc["accounts"], expected.accounts, strict=True):
        assert row["account"] == account
        assert Decimal(row["debt_value"]) == h.debt_value


def test_the_stress_table_shows_prices_accounts_and_summary(xm, demo_toml: Path) -> None:
    run = xm("stress", demo_toml, "--shock", "WETH=-30%")
    assert run.code == 0
    assert "1400" in run.out
    assert "2,850.00" in run.out
    assert "values in USD" in run.out
