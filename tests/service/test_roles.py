"""Roles: no request may act outside its role (issue item 4).

The whole role x endpoint matrix is walked: every denial is asserted (status, error code,
and nothing changed), and every allowed call is let through.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.conftest import Server


@pytest.fixture
def server(shared_server: Server) -> Server:
    """One server for the module: these tests change nothing (that is what they check)."""
    return shared_server


WETH_PARAMS = {
    "collateral_factor": "0.8",
    "liquidation_threshold": "0.85",
    "liquidation_bonus": "0.05",
    "protocol_fee": "0.1",
}

#: (method, path, JSON body, roles allowed). "account" means alice's own key.
ENDPOINTS: list[tuple[str, str, Any, set[str]]] = [
    ("GET", "/v1/assets", None, {"admin", "oracle", "liquidator", "account", "other"}),
    ("PUT", "/v1/assets/WETH", WETH_PARAMS, {"admin"}),
    ("POST", "/v1/prices", {"WETH": "2000"}, {"oracle"}),
    ("GET", "/v1/accounts/alice", None, {"admin", "liquidator", "account"}),
    ("POST", "/v1/accounts/alice/deposit", {"asset": "USDC", "amount": "1"}, {"account"}),
    ("POST", "/v1/accounts/alice/withdraw", {"asset": "WETH", "amount": "0.1"}, {"account"}),
    ("POST", "/v1/accounts/alice/borrow", {"asset": "USDC", "amount": "1"}, {"account"}),
    ("POST", "/v1/accounts/alice/repay", {"asset": "USDC", "amount": "1"}, {"account"}),
    ("GET", "/v1/liquidations/queue", None, {"admin", "liquidator"}),
    (
        "GET",
        "/v1/liquidations/quote?account=bob&debt_asset=USDC&collateral_asset=WETH",
        None,
        {"admin", "liquidator"},
    ),
    (
        "POST",
        "/v1/liquidations",
        {"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH", "amount": "10"},
        {"liquidator"},
    ),
    ("GET", "/v1/risk/summary", None, {"admin", "liquidator"}),
    # Every key may stream; an account key hears prices and its own account only.
    ("GET", "/v1/events?max_events=1", None, {"admin", "oracle", "liquidator", "account", "other"}),
    ("GET", "/v1/journal", None, {"admin"}),
]

ROLES = ["admin", "oracle", "liquidator", "account", "other"]


def _headers(server: Server, who: str) -> dict[str, str]:
    if who == "account":
        return server.headers("account", "alice")
    if who == "other":
        return server.headers("account", "mallory")
    return server.headers(who)


def _call(c: httpx.Client, method: str, path: str, body: Any, headers: dict[str, str]) -> int:
    if path.startswith("/v1/events"):
        with c.stream(method, path, headers=headers) as r:
            if r.status_code != 200:
                r.read()
            return r.status_code
    r = c.request(method, path, json=body, headers=headers)
    return r.status_code


def _state(c: httpx.Client, server: Server) -> Any:
    admin = server.headers("admin")
    accounts = [c.get(f"/v1/accounts/{a}", headers=admin).json() for a in ("alice", "bob")]
    return server.journal_len(), accounts, c.get("/v1/assets", headers=admin).json()


def test_every_role_is_refused_every_endpoint_outside_its_role(server: Server) -> None:
    with server.client() as c:
        before = _state(c, server)
        denials = 0
        for method, path, body, allowed in ENDPOINTS:
            for who in ROLES:
                if who in allowed:
                    continue
                r = c.request(method, path, json=body, headers=_headers(server, who))
                assert r.status_code == 403, (method, path, who, r.status_code, r.text)
                err = r.json()["error"]
                assert err["code"] == "permission_denied", (method, path, who)
                assert err["message"], (method, path, who)
                denials += 1
        assert denials == sum(len(ROLES) - len(a) for *_, a in ENDPOINTS) == 43
        assert _state(c, server) == before


def test_a_request_without_a_valid_key_is_refused_with_401_everywhere(server: Server) -> None:
    bad = [
        {},
        {"Authorization": "Bearer xm_nothere_0000"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "Bearer"},
    ]
    with server.client() as c:
        before = server.journal_len()
        for method, path, body, _ in ENDPOINTS:
            for headers in bad:
                r = c.request(method, path, json=body, headers=headers)
                assert r.status_code == 401, (method, path, headers, r.text)
                assert r.json()["error"]["code"] == "not_authenticated"
                assert r.headers["www-authenticate"] == "Bearer"
        assert server.journal_len() == before


def test_every_role_may_call_the_endpoints_of_its_role(server: Server) -> None:
    with server.client() as c:
        for method, path, body, allowed in ENDPOINTS:
            for who in sorted(allowed):
                status = _call(c, method, path, body, _headers(server, who))
                # Allowed through: it may still be refused by a rule (409), never by role.
                assert status in (200, 409), (method, path, who, status)


def test_an_account_key_reads_and_moves_only_its_own_account(server: Server) -> None:
    with server.client() as c:
        own = server.headers("account", "alice")
        assert c.get("/v1/accounts/alice", headers=own).status_code == 200
        r = c.get("/v1/accounts/bob", headers=own)
        assert r.status_code == 403
        assert "alice" in r.json()["error"]["message"]
        r = c.post("/v1/accounts/bob/repay", json={"asset": "USDC", "amount": "1"}, headers=own)
        assert r.status_code == 403


def test_health_metrics_and_docs_need_no_key(server: Server) -> None:
    with server.client() as c:
        assert c.get("/healthz").json()["status"] == "ok"
        assert "xmargin_http_requests_total" in c.get("/metrics").text
        assert c.get("/docs").status_code == 200
        paths = c.get("/openapi.json").json()["paths"]
        for _, path, _, _ in ENDPOINTS:
            assert (
                path.split("?")[0].replace("alice", "{account_id}").replace("WETH", "{asset}")
                in paths
            )
