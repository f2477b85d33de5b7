"""Prices through the oracle guards, and the live event stream (SSE)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.service.conftest import Server

GUARDED_WETH = {
    "collateral_factor": "0.8",
    "liquidation_threshold": "0.85",
    "liquidation_bonus": "0.05",
    "protocol_fee": "0.1",
    "max_price_deviation": "0.1",
}
AGED_USDC = {
    "collateral_factor": "0.8",
    "liquidation_threshold": "0.85",
    "liquidation_bonus": "0.04",
    "decimals": 6,
    "max_price_age_seconds": 60,
}


def _events(lines: Iterator[str], n: int) -> list[tuple[str, dict[str, Any]]]:
    """The next ``n`` events of an SSE stream as (kind, data)."""
    out: list[tuple[str, dict[str, Any]]] = []
    kind = ""
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            out.append((kind, json.loads(line[6:])))
            if len(out) == n:
                return out
    raise AssertionError(f"the stream ended after {out}")


def _connected(lines: Iterator[str]) -> None:
    for line in lines:
        if line == ": connected":
            return
    raise AssertionError("no ': connected' comment")


def test_a_price_move_reports_risk_crossings_and_a_liquidation_its_bad_debt(
    server: Server,
) -> None:
    admin = server.headers("admin")
    with server.client() as c, server.client() as s:
        with s.stream("GET", "/v1/events?max_events=8", headers=admin) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            _connected(lines)
            # WETH $2000 -> $600: alice's 10 WETH ($6000, maintenance $5100) against
            # $5000 of debt: health 1.02, at risk.
            r = c.post("/v1/prices", json={"WETH": "600"}, headers=server.headers("oracle"))
            assert r.status_code == 200
            assert r.json()["accepted"] == {"WETH": "600"}
            got = _events(lines, 2)
            assert got[0] == ("prices", {**got[0][1], "prices": {"WETH": "600"}})
            kind, data = got[1]
            assert kind == "risk_level"
            assert (data["account"], data["from"], data["to"]) == ("alice", "healthy", "at_risk")
            assert data["direction"] == "worse"
            assert data["health_factor"] == "1.02"

            # Liquidating carol (1 WETH, now $600, against $2100) takes all her WETH: bad debt.
            r = c.post(
                "/v1/liquidations",
                json={
                    "account": "carol",
                    "debt_asset": "USDC",
                    "collateral_asset": "WETH",
                    "max": True,
                },
                headers=server.headers("liquidator"),
            )
            assert r.status_code == 200
            body = r.json()
            got = _events(lines, 3)
            assert [k for k, _ in got] == ["liquidation", "bad_debt", "risk_level"]
            assert got[0][1]["seq"] == body["seq"]
            assert got[0][1]["repaid"] == body["repaid"]
            assert got[1][1]["assets"] == body["bad_debt"]
            assert (got[2][1]["account"], got[2][1]["from"], got[2][1]["to"]) == (
                "carol",
                "liquidatable",
                "healthy",
            )

        summary = c.get("/v1/risk/summary", headers=admin).json()
        assert summary["deficit"] == body["bad_debt"]
        assert summary["by_level"] == {"healthy": 2, "at_risk": 1, "liquidatable": 1}


def test_the_deviation_guard_rejects_a_jump_and_reports_it(server: Server) -> None:
    admin, oracle = server.headers("admin"), server.headers("oracle")
    with server.client() as c, server.client() as s:
        assert c.put("/v1/assets/WETH", json=GUARDED_WETH, headers=admin).status_code == 200
        with s.stream("GET", "/v1/events?kinds=price_rejected&max_events=2", headers=admin) as st:
            lines = st.iter_lines()
            _connected(lines)
            n = server.journal_len()
            r = c.post("/v1/prices", json={"WETH": "1000"}, headers=oracle)
            assert r.status_code == 409
            err = r.json()["error"]
            assert err["code"] == "price_deviation"
            assert "2000" in err["message"] and "1000" in err["message"]
            assert server.journal_len() == n
            # The guards take a batch whole or not at all: USDC is not applied either.
            r = c.post("/v1/prices", json={"WETH": "3000", "USDC": "0.999"}, headers=oracle)
            assert r.status_code == 409
            assert server.journal_len() == n
            got = _events(lines, 2)
            assert [(k, d["asset"], d["code"]) for k, d in got] == [
                ("price_rejected", "WETH", "price_deviation"),
                ("price_rejected", "WETH", "price_deviation"),
            ]
        prices = {
            a["asset"]: a["price"] for a in c.get("/v1/assets", headers=admin).json()["assets"]
        }
        assert prices == {"WETH": "2000", "USDC": "1"}
        # A move inside the band is accepted.
        assert c.post("/v1/prices", json={"WETH": "2150"}, headers=oracle).status_code == 200


def test_the_age_guard_rejects_a_stale_price(server: Server) -> None:
    admin, oracle = server.headers("admin"), server.headers("oracle")
    with server.client() as c:
        assert c.put("/v1/assets/USDC", json=AGED_USDC, headers=admin).status_code == 200
        old = (datetime.now(UTC) - timedelta(seconds=120)).isoformat()
        r = c.post(
            "/v1/prices", json={"prices": {"USDC": "1.001"}, "timestamp": old}, headers=oracle
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "stale_price"
        fresh = int(datetime.now(UTC).timestamp()) - 5
        r = c.post(
            "/v1/prices", json={"prices": {"USDC": "1.001"}, "timestamp": fresh}, headers=oracle
        )
        assert r.status_code == 200
        assets = {a["asset"]: a for a in c.get("/v1/assets", headers=admin).json()["assets"]}
        assert assets["USDC"]["price"] == "1.001"
        assert assets["USDC"]["price_at"].startswith(
            datetime.fromtimestamp(fresh, UTC).isoformat()[:19]
        )


def test_a_price_observed_before_the_last_one_is_out_of_order(server: Server) -> None:
    oracle = server.headers("oracle")
    now = int(datetime.now(UTC).timestamp())
    with server.client() as c:
        r = c.post(
            "/v1/prices", json={"prices": {"WETH": "2001"}, "timestamp": now - 10}, headers=oracle
        )
        assert r.status_code == 200
        n = server.journal_len()
        r = c.post(
            "/v1/prices", json={"prices": {"WETH": "2002"}, "timestamp": now - 20}, headers=oracle
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "price_out_of_order"
        assert server.journal_len() == n


def test_a_client_that_reconnects_with_last_event_id_misses_nothing(server: Server) -> None:
    admin, oracle = server.headers("admin"), server.headers("oracle")
    with server.client() as c:
        for p in ("1990", "1980", "1970"):
            c.post("/v1/prices", json={"WETH": p}, headers=oracle)
        with c.stream(
            "GET", "/v1/events?kinds=prices&max_events=3", headers=admin | {"Last-Event-ID": "0"}
        ) as st:
            got = _events(st.iter_lines(), 3)
        assert [d["prices"]["WETH"] for _, d in got] == ["1990", "1980", "1970"]


def test_an_unknown_event_kind_is_refused(server: Server) -> None:
    with httpx.Client(base_url=server.url) as c:
        r = c.get("/v1/events?kinds=gossip", headers=server.headers("admin"))
        assert r.status_code == 422
        assert "gossip" in r.json()["error"]["message"]
