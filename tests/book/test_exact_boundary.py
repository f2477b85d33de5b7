"""Rule: near a level the exact engine decides. An account whose health factor lies within
the float64 band of 1 (or of the warning level) is re-checked with exact decimals, so
``liquidatable`` always equals the exact engine's decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.builders import make_market
from xmargin.book import RiskBook, Status
from xmargin.fast.backend import numba_available
from xmargin.risk.health import account_health

BACKENDS = ["numpy", *(["numba"] if numba_available() else [])]

ASSETS: dict[str, dict[str, Any]] = {
    "ONE": {"price": "1", "collateral_factor": "1", "liquidation_threshold": "1",
            "liquidation_bonus": "0"},
    "DIME": {"price": "0.1", "collateral_factor": "1", "liquidation_threshold": "1",
             "liquidation_bonus": "0"},
}  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_account_exactly_at_health_1_is_not_liquidatable_though_floats_say_it_is(
    backend: str,
) -> None:
    # maintenance collateral 0.3 x 1 = 0.3; maintenance debt 3 x 0.1 = 0.3: health 1.
    # In float64, 3 x 0.1 = 0.30000000000000004 > 0.3: a float screen alone would
    # call the account liquidatable.
    assert 3 * 0.1 > 0.3
    market = make_market(
        assets=ASSETS, accounts={"edge": {"supply": {"ONE": "0.3"}, "borrow": {"DIME": "3"}}}
    )
    assert not account_health(market.accounts["edge"], market).liquidatable
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    assert book.status("edge") == Status.AT_RISK  # health 1: not liquidatable, below 1.1
    assert book.stats["exact_rechecks"] >= 1
    fig = book.figures()
    assert not fig.liquidatable[0]
    assert fig.exact[0].health_factor == Decimal("1")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_account_a_hair_below_1_is_liquidatable(backend: str) -> None:
    market = make_market(
        assets=ASSETS,
        accounts={"hair": {"supply": {"ONE": "0.299999999999999999"}, "borrow": {"DIME": "3"}}},
    )
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    assert book.status("hair") == Status.LIQUIDATABLE
    assert [e.account for e in book.liquidation_queue()] == ["hair"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_account_exactly_at_the_warning_level_is_healthy(backend: str) -> None:
    # 0.33 / 0.3 = 1.1 exactly: not below the warning level
    market = make_market(
        assets=ASSETS, accounts={"warn": {"supply": {"ONE": "0.33"}, "borrow": {"DIME": "3"}}}
    )
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    assert book.status("warn") == Status.HEALTHY
    events = book.apply_prices({"ONE": "0.999999999999999999"})
    assert [(e.account, e.status, e.exact) for e in events.events] == [
        ("warn", Status.AT_RISK, True)
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_whale_under_a_large_size_haircut_is_decided_as_the_exact_engine_does(
    backend: str,
) -> None:
    # k sqrt(s) = 0.002 x 1e9 = 2e6: w_eff = 1.1 / (1 + 2e6) ~ 5.5e-7 (the exact engine
    # holds it to 1e-100); debt set to the exact maintenance collateral, and 1e-18 above
    assets = {
        "WHALE": {"price": "1", "collateral_factor": "0.5", "liquidation_threshold": "0.5",
                  "liquidation_bonus": "0", "size_factor": "0.002"},
        "USD": {"price": "1", "collateral_factor": "0", "liquidation_threshold": "0",
                "liquidation_bonus": "0"},
    }  # fmt: skip
    whale = "1000000000000000000"
    market = make_market(assets=assets, accounts={"w": {"supply": {"WHALE": whale}}})
    mc = account_health(market.accounts["w"], market).maintenance_collateral
    accounts = {
        "at": {"supply": {"WHALE": whale}, "borrow": {"USD": str(mc)}},
        "over": {"supply": {"WHALE": whale}, "borrow": {"USD": str(mc + Decimal("1e-18"))}},
    }
    market = make_market(assets=assets, accounts=accounts)
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    for acc in market.accounts.values():
        h = account_health(acc, market)
        assert (book.status(acc.id) == Status.LIQUIDATABLE) == h.liquidatable, acc.id
    assert book.status("over") == Status.LIQUIDATABLE
    assert book.stats["exact_rechecks"] >= 2
