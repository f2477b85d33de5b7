"""Roles: no request may act outside its role (issue item 4).

The whole role x endpoint matrix is walked: every denial is asserted (status, error code,
and nothing changed), and every allowed call is let through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import MARKET, VECTORS, Server, module_server


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
BOB_SPOT = {"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH"}
EVERY = {"admin", "oracle", "liquidator", "account", "other"}

#: (method, path, JSON body, roles allowed). "account" means alice's own key.
Endpoint = tuple[str, str, Any, set[str]]
ENDPOINTS: list[Endpoint] = [
    ("GET", "/v1/assets", None, EVERY),
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
    ("POST", "/v1/liquidations", {**BOB_SPOT, "amount": "10"}, {"liquidator"}),
    ("GET", "/v1/risk/summary", None, {"admin", "liquidator"}),
    # Every key may stream; an account key hears prices and its own account only.
    ("GET", "/v1/events?max_events=1", None, EVERY),
    ("GET", "/v1/journal", None, {"admin"}),
    # perps (issue 10 item 5)
    ("GET", "/v1/perps", None, EVERY),
    ("POST", "/v1/accounts/alice/trade", {"perp": "ETH-PERP", "size": "0.1"}, {"account"}),
    ("POST", "/v1/accounts/alice/settle", {"perp": "ETH-PERP"}, {"account"}),
    ("POST", "/v1/perps/ETH-PERP/funding", {"funding_index": "0"}, {"oracle"}),
    ("GET", "/v1/liquidations/quote?account=bob&perp=ETH-PERP", None, {"admin", "liquidator"}),
    (
        "POST",
        "/v1/liquidations",
        {"account": "bob", "perp": "ETH-PERP", "max": True},
        {"liquidator"},
    ),
    # the loss waterfall (issue 15): governance's
    ("POST", "/v1/socialize", {"asset": "USDC"}, {"admin"}),
    ("POST", "/v1/deleverage", {"account": "bob", "perp": "ETH-PERP"}, {"admin"}),
]
SHORT = {"account": "short", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}
#: The designs' endpoints, each on a market of its design (issue 15): keepers' actions.
DESIGN_ENDPOINTS: dict[str, tuple[Path, tuple[str, str], list[Endpoint]]] = {
    "auction": (
        VECTORS / "maker_clipper.toml",
        ("short", "ample"),
        [
            ("GET", "/v1/auctions", None, {"admin", "liquidator"}),
            ("POST", "/v1/auctions", SHORT, {"liquidator"}),
            ("POST", "/v1/auctions/1/take", {"amount": "0.5"}, {"liquidator"}),
            ("POST", "/v1/auctions/1/reset", None, {"liquidator"}),
            ("POST", "/v1/liquidations", {**SHORT, "account": "ample"}, {"liquidator"}),
        ],
    ),
    # options (issue 14): the option form of a trade, greeks, the list, the liquidation
    "options": (
        Path(__file__).parent / "option_market.toml",
        ("alice", "edge"),
        [
            (
                "POST",
                "/v1/accounts/alice/trade",
                {"option": "ETH-20240628-2200-C", "size": "0.1"},
                {"account"},
            ),
            ("GET", "/v1/accounts/alice/greeks", None, {"admin", "liquidator", "account"}),
            ("GET", "/v1/options", None, EVERY),
            ("POST", "/v1/liquidations/options", {"account": "edge"}, {"liquidator"}),
        ],
    ),
    "storefront": (
        VECTORS / "comet_storefront.toml",
        ("under", "sunk"),
        [
            ("GET", "/v1/storefront", None, {"admin", "liquidator"}),
            ("POST", "/v1/absorb", {"account": "under"}, {"liquidator"}),
            ("POST", "/v1/buy-collateral", {"asset": "WETH", "amount": "10"}, {"liquidator"}),
            (
                "POST",
                "/v1/liquidations",
                {"account": "sunk", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True},
                {"liquidator"},
            ),
        ],
    ),
}

ROLES = ["admin", "oracle", "liquidator", "account", "other"]


@pytest.fixture(scope="module", params=["main", *sorted(DESIGN_ENDPOINTS)])
def matrix(
    request: pytest.FixtureRequest,
    module_backend: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, tuple[str, str], list[Endpoint]]]:
    """A market, two of its accounts, and the endpoints walked on it. The limit on failed
    authentications is off: the 401 walk sends more bad keys than it allows (the limit has
    its own tests)."""
    if request.param == "main":
        market, accounts, endpoints = MARKET, ("alice", "bob"), ENDPOINTS
    else:
        market, accounts, endpoints = DESIGN_ENDPOINTS[request.param]
    with module_server(module_backend, tmp_path_factory, market, auth_failure_limit=0) as srv:
        yield srv, accounts, endpoints


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


def _state(c: httpx.Client, server: Server, accounts: tuple[str, str]) -> Any:
    admin = server.headers("admin")
    held = [c.get(f"/v1/accounts/{a}", headers=admin).json() for a in accounts]
    return server.journal_len(), held, c.get("/v1/assets", headers=admin).json()


def test_every_role_is_refused_every_endpoint_outside_its_role(
    matrix: tuple[Server, tuple[str, str], list[Endpoint]],
) -> None:
    server, accounts, endpoints = matrix
    with server.client() as c:
        before = _state(c, server, accounts)
        denials = 0
        for method, path, body, allowed in endpoints:
            for who in ROLES:
                if who in allowed:
                    continue
                r = c.request(method, path, json=body, headers=_headers(server, who))
                assert r.status_code == 403, (method, path, who, r.status_code, r.text)
                err = r.json()["error"]
                assert err["code"] == "permission_denied", (method, path, who)
                assert err["message"], (method, path, who)
                denials += 1
        assert denials == sum(len(ROLES) - len(a) for *_, a in endpoints)
        assert _state(c, server, accounts) == before


def test_the_matrix_covers_every_route_and_denies_as_many_calls_as_it_should() -> None:
    every = ENDPOINTS + [e for _, _, es in DESIGN_ENDPOINTS.values() for e in es]
    # issue 9: 43; perps and the waterfall on the main market: 27; auction: 19; storefront: 15;
    # options: 10
    assert sum(len(ROLES) - len(a) for *_, a in every) == 43 + 27 + 19 + 15 + 10


def test_a_request_without_a_valid_key_is_refused_with_401_everywhere(
    matrix: tuple[Server, tuple[str, str], list[Endpoint]],
) -> None:
    server, _, endpoints = matrix
    bad = [
        {},
        {"Authorization": "Bearer xm_nothere_0000"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "Bearer"},
    ]
    with server.client() as c:
        before = server.journal_len()
        for method, path, body, _ in endpoints:
            for headers in bad:
                r = c.request(method, path, json=body, headers=headers)
                assert r.status_code == 401, (method, path, headers, r.text)
                assert r.json()["error"]["code"] == "not_authenticated"
                assert r.headers["www-authenticate"] == "Bearer"
        assert server.journal_len() == before


def test_every_role_may_call_the_endpoints_of_its_role(
    matrix: tuple[Server, tuple[str, str], list[Endpoint]],
) -> None:
    server, _, endpoints = matrix
    with server.client() as c:
        for method, path, body, allowed in endpoints:
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
        every = ENDPOINTS + [e for _, _, es in DESIGN_ENDPOINTS.values() for e in es]
        for _, path, _, _ in every:
            template = (
                path.split("?")[0]
                .replace("alice", "{account_id}")
                .replace("/assets/WETH", "/assets/{asset}")
                .replace("ETH-PERP", "{perp}")
                .replace("/1/", "/{auction_id}/")
            )
            assert template in paths, template
        # The matrix walks issue 9's 14 routes, every one of perps and the designs (13) and
        # of options (3); the dashboard's and the analyses' have their own role tests.
        walked = {(m, p.split("?")[0]) for m, p, _, _ in every}
        assert len(walked) == 14 + 13 + 3
