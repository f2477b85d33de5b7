"""The dashboard's read-only endpoints against the real server: exact schemas, figures
that match the library, roles, bad queries, and an event stream an account key may read.

The market (tests/service/market.toml): WETH 2000, USDC 1, lt 0.85 both.
  alice 10 WETH / 5000 USDC (health 3.4), bob 1 WETH / 1800 USDC (0.944, liquidatable),
  carol 1 WETH / 2100 USDC (insolvent), dave 100000 USDC (no debt).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from tests.service.conftest import Server
from xmargin.service.dashboard.schemas import (
    AccountRiskPublic,
    LiquidationMapPublic,
    Overview,
    PriceHistory,
    SessionPublic,
    WhatIfPublic,
)

#: (path, schema, roles allowed; "account" is alice's own key, "other" mallory's).
BOOK = {"admin", "oracle", "liquidator"}
VIEWS: list[tuple[str, type[BaseModel], set[str]]] = [
    ("/v1/session", SessionPublic, {"admin", "oracle", "liquidator", "account", "other"}),
    ("/v1/overview", Overview, BOOK),
    ("/v1/liquidation-map/WETH", LiquidationMapPublic, BOOK),
    ("/v1/prices/history", PriceHistory, {"admin", "oracle", "liquidator", "account", "other"}),
    ("/v1/accounts/alice/risk", AccountRiskPublic, {"admin", "liquidator", "account"}),
    (
        "/v1/accounts/alice/what-if?shock=WETH%3D-20%25",
        WhatIfPublic,
        {"admin", "liquidator", "account"},
    ),
]
ROLES = ["admin", "oracle", "liquidator", "account", "other"]


@pytest.fixture
def server(shared_server: Server) -> Server:
    """One server for the read-only tests of this module."""
    return shared_server


def _headers(server: Server, who: str) -> dict[str, str]:
    if who == "account":
        return server.headers("account", "alice")
    if who == "other":
        return server.headers("account", "mallory")
    return server.headers(who)


def test_every_view_answers_its_exact_schema_to_its_roles_and_403_to_others(
    server: Server,
) -> None:
    with server.client() as c:
        before = server.journal_len()
        for path, schema, allowed in VIEWS:
            for who in ROLES:
                r = c.get(path, headers=_headers(server, who))
                if who in allowed:
                    assert r.status_code == 200, (path, who, r.text)
                    schema.model_validate(r.json())  # extra fields are forbidden
                else:
                    assert r.status_code == 403, (path, who, r.text)
                    assert r.json()["error"]["code"] == "permission_denied"
            r = c.get(path, headers={"Authorization": "Bearer xm_nothere_0000"})
            assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
        assert server.journal_len() == before


def test_an_account_key_sees_only_its_own_account(server: Server) -> None:
    alice = server.headers("account", "alice")
    with server.client() as c:
        for path in ("/v1/accounts/bob/risk", "/v1/accounts/bob/what-if?shock=WETH%3D-1%25"):
            r = c.get(path, headers=alice)
            assert r.status_code == 403
            assert "alice" in r.json()["error"]["message"]
        assert c.get("/v1/session", headers=alice).json() == {
            "role": "account",
            "account": "alice",
            "sees_book": False,
        }


def test_overview_figures_match_the_hand_checked_book(server: Server) -> None:
    with server.client() as c:
        o = c.get("/v1/overview", headers=server.headers("oracle")).json()
    assert o["by_status"] == {"healthy": 2, "at_risk": 0, "liquidatable": 1, "insolvent": 1}
    assert (o["accounts"], o["accounts_with_debt"], o["quote"]) == (4, 3, "USD")
    # collateral 20000 + 2000 + 2000 + 100000; debt 5000 + 1800 + 2100.
    assert o["totals"]["collateral_value"] == "124000"
    assert o["totals"]["debt_value"] == "8900"
    assert o["totals"]["liquidatable_debt"] == "3900"
    assert o["totals"]["insolvent_shortfall"] == "100"
    assert o["totals"]["insurance_fund"] is None
    assert [q["account"] for q in o["queue"]] == ["carol", "bob"]  # largest shortfall first
    assert [q["insolvent"] for q in o["queue"]] == [True, False]
    weth = next(e for e in o["exposure"] if e["asset"] == "WETH")
    assert (weth["total_supply"], weth["suppliers"]["largest"]) == ("12", "alice")
    assert weth["suppliers"]["largest_share"] == "0.833333"  # 10 of 12, rounded down
    assert [p["asset"] for p in o["prices"]] == ["WETH", "USDC"]
    assert sum(b["accounts"] for b in o["health"]) == 3


def test_liquidation_map_and_bad_queries(server: Server) -> None:
    h = server.headers("admin")
    with server.client() as c:
        m = c.get("/v1/liquidation-map/WETH?bins=10&depth=0.5", headers=h).json()
        # alice: 5000 / (10 x 0.85) = 588.2 < 1000, below the map; bob, carol: now.
        assert (m["liquidatable_now"], m["below_range"]) == (2, 1)
        assert all(b["accounts"] == 0 for b in m["bins"])
        assert m["bins"][0]["price_high"] == "2000"
        for path, status, code in [
            ("/v1/liquidation-map/DOGE", 404, "unknown_asset"),
            ("/v1/liquidation-map/WETH?depth=1.5", 422, "invalid_request"),
            ("/v1/liquidation-map/WETH?bins=100000", 422, "invalid_request"),
            ("/v1/accounts/zed/risk", 404, "unknown_account"),
            ("/v1/accounts/alice/what-if", 422, "invalid_request"),
            ("/v1/accounts/alice/what-if?shock=WETH%3D-100%25", 422, "invalid_request"),
            ("/v1/accounts/alice/what-if?shock=DOGE%3D-1%25", 404, "unknown_asset"),
            ("/v1/accounts/alice/what-if?shock=WETH%3D1e99999", 422, "invalid_request"),
            ("/v1/prices/history?limit=0", 422, "invalid_request"),
        ]:
            r = c.get(path, headers=h)
            assert r.status_code == status, (path, r.text)
            assert r.json()["error"]["code"] == code, (path, r.text)
            assert r.json()["error"]["message"], path


def test_what_if_changes_nothing_and_reports_the_liquidation(server: Server) -> None:
    h = server.headers("liquidator")
    with server.client() as c:
        before = (server.journal_len(), c.get("/v1/accounts/alice", headers=h).json())
        w = c.get("/v1/accounts/alice/what-if?shock=WETH%3D-75%25", headers=h).json()
        assert w["prices"] == {"WETH": "500"}
        # 10 WETH at 500 x 0.85 = 4250 < 5000: liquidatable; worth 5000, not insolvent.
        assert w["before"]["status"] == "healthy" and w["after"]["status"] == "liquidatable"
        assert w["after"]["health_factor"] == "0.85"
        assert w["liquidation"]["debt_asset"] == "USDC"
        assert w["liquidation"]["collateral_asset"] == "WETH"
        assert (server.journal_len(), c.get("/v1/accounts/alice", headers=h).json()) == before


def test_the_page_and_its_assets_are_served_offline(server: Server) -> None:
    with server.client() as c:
        page = c.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "connect-src 'self'" in csp
        assert "https://" not in page.text and "http://" not in page.text
        js = c.get("/dashboard/assets/plotly.min.js", headers={"Accept-Encoding": "gzip"})
        assert js.status_code == 200 and js.headers["content-encoding"] == "gzip"
        assert len(js.content) > 1_000_000 and b"plotly" in js.content[:2000].lower()
        assert c.get("/dashboard/assets/dashboard.js").status_code == 200
        assert c.get("/dashboard/assets/../app.py").status_code == 404
        assert c.get("/dashboard/assets/secret.py").status_code == 404
        acc = c.get("/accounts/%3Cb%20onclick%3Dx%3E%22q")
        assert acc.status_code == 200 and "<b onclick" not in acc.text
        assert "&lt;b onclick=x&gt;&#34;q" in acc.text


def test_price_history_reads_the_journal(server_factory: Any) -> None:
    with server_factory() as srv, srv.client() as c:
        for price in ("1990", "1980.5"):
            r = c.post("/v1/prices", json={"WETH": price}, headers=srv.headers("oracle"))
            assert r.status_code == 200, r.text
        h = c.get("/v1/prices/history", headers=srv.headers("account", "alice")).json()
        assert [p["price"] for p in h["assets"]["WETH"]] == ["1990", "1980.5"]
        assert h["assets"]["USDC"] == []
        o = c.get("/v1/overview", headers=srv.headers("admin")).json()
        weth = o["prices"][0]
        assert weth["price"] == "1980.5" and weth["price_at"] is not None
        assert 0 <= float(weth["age_seconds"]) < 60


def test_an_account_key_streams_prices_and_its_own_events_only(server_factory: Any) -> None:
    """After a price fall and bob's liquidation, bob's key hears the prices and bob's
    liquidation; alice's key hears the prices and her own crossing, nothing of bob."""
    with server_factory() as srv, srv.client() as c:
        oracle, liq = srv.headers("oracle"), srv.headers("liquidator")
        # 2000 -> 1000: alice (8500 vs 5000) stays healthy at 1.7; bob liquidatable.
        assert c.post("/v1/prices", json={"WETH": "1000"}, headers=oracle).status_code == 200
        body = {"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}
        assert c.post("/v1/liquidations", json=body, headers=liq).status_code == 200
        # 1000 -> 600: alice 10 x 600 x 0.85 = 5100 against 5000: health 1.02, at risk.
        assert c.post("/v1/prices", json={"WETH": "600"}, headers=oracle).status_code == 200
        bob = _events_replayed(srv, srv.headers("account", "bob"))
        alice = _events_replayed(srv, srv.headers("account", "alice"))
        admin = _events_replayed(srv, srv.headers("oracle"))
    assert {k for k, _ in admin} >= {"prices", "liquidation", "risk_level"}
    assert ("liquidation", "bob") in {(k, d.get("account")) for k, d in bob}
    assert {d.get("account") for k, d in bob if k != "prices"} == {"bob"}
    assert [k for k, _ in alice if k == "prices"] == ["prices", "prices"]
    assert [(k, d["account"], d["to"]) for k, d in alice if k != "prices"] == [
        ("risk_level", "alice", "at_risk")
    ]


def _events_replayed(server: Server, headers: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Every event still held (fewer than the history of 1000 were sent), replayed by a
    stream opened with Last-Event-ID: 0."""
    return _events_until_quiet(server, {**headers, "Last-Event-ID": "0"}, 1000)


def _events_until_quiet(
    server: Server, headers: dict[str, str], most: int
) -> list[tuple[str, dict[str, Any]]]:
    """Events from the stream until it has been quiet for half a second."""
    out: list[tuple[str, dict[str, Any]]] = []
    timeout = httpx.Timeout(10.0, read=0.5)
    with httpx.Client(base_url=server.url, timeout=timeout) as s:
        try:
            with s.stream("GET", f"/v1/events?max_events={most}", headers=headers) as r:
                assert r.status_code == 200, r.read()
                kind = ""
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        out.append((kind, json.loads(line[6:])))
        except httpx.ReadTimeout:
            pass
    return out


def test_the_readme_shows_the_screenshot_the_browser_test_takes() -> None:
    root = Path(__file__).resolve().parents[2]
    assert "](docs/dashboard.png)" in (root / "README.md").read_text(encoding="utf-8")
    png = (root / "docs" / "dashboard.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 1400  # width, as the test takes it
