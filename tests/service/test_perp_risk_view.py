"""The risk view and the dashboard count perps (issue 10 items 4, 5): the risk book holds
perp positions beside balances, so every answer shows the exact engine's decision for the
accounts that hold one (the dashboard puts their exact figures in its columns).

The market (tests/service/perp_market.toml), by the exact engine and by balances alone:

=========  ===========================================  ============  =================
account    holds                                        exact          book (balances)
=========  ===========================================  ============  =================
alice      10 WETH, 5000 USDC debt                      healthy 3.4    healthy
trader     10000 USDC, long 5 @ 2000                    healthy 17     healthy (no debt)
shorty     5000 USDC, short 5 @ 2000                    healthy 8.5    healthy (no debt)
edge       1200 USDC, long 5 @ 2100                     at risk 1.02   healthy (no debt)
sunk       300 USDC, long 2 @ 2200                      liq. 0.425     healthy (no debt)
hedged     1 WETH, 1800 USDC debt, short 1 @ 2500       healthy 1.157  liquidatable 0.944
=========  ===========================================  ============  =================
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import PERP_MARKET, Server
from tests.service.test_prices_and_events import _connected, _events


@pytest.fixture
def server(server_factory: Any) -> Any:
    with server_factory(market=PERP_MARKET) as srv:
        yield srv


def _level(c: Any, server: Server, account: str) -> str:
    doc = c.get(f"/v1/accounts/{account}", headers=server.headers("admin")).json()
    level: str = doc["risk_level"]
    return level


def test_perp_accounts_are_decided_by_the_exact_engine_everywhere(server: Server) -> None:
    admin = server.headers("admin")
    with server.client() as c:
        levels = {a: _level(c, server, a) for a in ("edge", "sunk", "hedged", "trader")}
        queue = c.get("/v1/liquidations/queue", headers=admin).json()
        summary = c.get("/v1/risk/summary", headers=admin).json()
        overview = c.get("/v1/overview", headers=admin).json()
    assert levels == {
        "edge": "at_risk",
        "sunk": "liquidatable",
        "hedged": "healthy",
        "trader": "healthy",
    }
    # sunk alone is liquidatable: shortfall 600 - 255; its largest perp is named.
    assert queue["liquidatable_accounts"] == 1
    (row,) = queue["accounts"]
    assert (row["account"], row["perp"], row["insolvent"]) == ("sunk", "ETH-PERP", True)
    assert (row["health_factor"], row["debt_value"]) == ("0.425", "400")
    assert summary["by_level"] == {"healthy": 4, "at_risk": 1, "liquidatable": 1}
    assert summary["liquidatable_accounts"] == 1
    # sunk's debt (its perp loss, 400) is liquidatable, not hedged's 1800 (the book's view);
    # insolvent: sunk's 400 - 300.
    assert summary["liquidatable_debt"] == "400"
    assert summary["insolvent_debt"] == "100"
    # The dashboard counts perps too: sunk is insolvent (300 of collateral, 400 of debt).
    assert overview["by_status"] == {
        "healthy": 4,
        "at_risk": 1,
        "liquidatable": 0,
        "insolvent": 1,
    }
    assert overview["totals"]["collateral_value"] == "39000"  # hedged's pnl +500 counted
    assert overview["totals"]["debt_value"] == "7700"  # edge's and sunk's losses counted
    assert overview["totals"]["insurance_fund"] == "100"
    assert [q["account"] for q in overview["queue"]] == ["sunk"]
    assert overview["nearest"][0]["account"] == "edge"


def test_price_funding_and_trades_move_perp_accounts_across_levels(server: Server) -> None:
    with server.client() as c, server.client() as s:
        kinds = "/v1/events?kinds=risk_level,prices"
        with s.stream("GET", kinds, headers=server.headers("admin")) as st:
            lines = st.iter_lines()
            _connected(lines)
            # WETH 2000 -> 1990: edge's long loses 550: maintenance 1020 against 1047.5.
            r = c.post("/v1/prices", json={"WETH": "1990"}, headers=server.headers("oracle"))
            assert r.status_code == 200
            (_, _), (_, moved) = _events(lines, 2)
            assert (moved["account"], moved["from"], moved["to"]) == (
                "edge",
                "at_risk",
                "liquidatable",
            )
            # 1020 / 1047.5, as the book's float figures give it (far from a level: the
            # floats decide, as for any account)
            assert moved["health_factor"] == "0.9737470167064439"
            assert moved["exact"] is False
            # Back to 2000, then funding: F 0 -> 10 costs edge's long 50: 1020 / 1050.
            c.post("/v1/prices", json={"WETH": "2000"}, headers=server.headers("oracle"))
            (_, _), (_, back) = _events(lines, 2)
            assert (back["account"], back["to"]) == ("edge", "at_risk")
            c.post(
                "/v1/perps/ETH-PERP/funding",
                json={"funding_index": "10"},
                headers=server.headers("oracle"),
            )
            ((_, funded),) = _events(lines, 1)
            assert (funded["account"], funded["from"], funded["to"]) == (
                "edge",
                "at_risk",
                "liquidatable",
            )
            # hedged closes its short: +500 and 10 of funding repay borrow (1800 -> 1290).
            # It leaves the watch for the book, which now agrees (healthy): no crossing,
            # though the book alone had it liquidatable before.
            r = c.post(
                "/v1/accounts/hedged/trade",
                json={"perp": "ETH-PERP", "size": "1"},
                headers=server.headers("account", "hedged"),
            )
            assert r.status_code == 200, r.text
            # A marker that arrives after anything the trade could have caused.
            c.post("/v1/prices", json={"USDC": "1"}, headers=server.headers("oracle"))
            ((kind, _),) = _events(lines, 1)
        assert kind == "prices"
        acc = c.get("/v1/accounts/hedged", headers=server.headers("admin")).json()
    assert acc["perps"] == {} and acc["borrow"] == {"USDC": "1290"}
    assert acc["risk_level"] == "healthy"
