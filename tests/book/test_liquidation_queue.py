"""Rule: the liquidation queue lists every liquidatable account, largest shortfall
(maintenance_debt − maintenance_collateral) first, ties in file order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import make_market
from xmargin.book import RiskBook

ASSETS: dict[str, dict[str, Any]] = {
    "ETH": {"price": "2000", "collateral_factor": "0.8", "liquidation_threshold": "0.8",
            "liquidation_bonus": "0.05"},
    "USDC": {"price": "1", "collateral_factor": "0.9", "liquidation_threshold": "0.9",
             "liquidation_bonus": "0.04", "decimals": 6},
}  # fmt: skip


def book() -> RiskBook:
    # maintenance collateral of 1 ETH = 1,600; shortfall = debt - 1,600
    accounts = {
        "small": {"supply": {"ETH": "1"}, "borrow": {"USDC": "1700"}},  # shortfall 100
        "big": {"supply": {"ETH": "1"}, "borrow": {"USDC": "2600"}},  # 1,000
        "tie": {"supply": {"ETH": "1"}, "borrow": {"USDC": "1700"}},  # 100
        "fine": {"supply": {"ETH": "1"}, "borrow": {"USDC": "100"}},
        "none": {"supply": {"USDC": "5"}},
    }
    return RiskBook.from_market(make_market(assets=ASSETS, accounts=accounts))


def test_the_queue_orders_liquidatable_accounts_by_shortfall() -> None:
    q = book().liquidation_queue()
    assert [e.account for e in q] == ["big", "small", "tie"]
    assert q[0].shortfall_value == pytest.approx(1000)
    assert q[0].health_factor == pytest.approx(1600 / 2600)
    assert q[0].maintenance_collateral == pytest.approx(1600)
    assert q[0].maintenance_debt == pytest.approx(2600)


def test_the_queue_can_be_cut_to_its_head() -> None:
    assert [e.account for e in book().liquidation_queue(1)] == ["big"]
    assert book().liquidation_queue(0) == []


def test_the_queue_follows_prices() -> None:
    b = book()
    b.apply_prices({"ETH": "4000"})  # 3,200 covers every debt
    assert b.liquidation_queue() == []
    b.apply_prices({"ETH": "100"})  # 80 of collateral each: fine is liquidatable too
    assert [e.account for e in b.liquidation_queue()] == ["big", "small", "tie", "fine"]
