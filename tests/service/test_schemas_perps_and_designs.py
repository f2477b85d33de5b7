"""The operations of perps and the liquidation designs against their OpenAPI schemas:
each success answer (which the fuzzing of ``test_issue9_schemathesis`` rarely reaches,
since it needs a market of the right design and names that exist) is checked against its
documented schema exactly; then schemathesis fuzzes the design operations on markets of
their own designs (no server error, no schema violation).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis

from tests.service.conftest import PERP_MARKET, VECTORS, FakeClock, Server, module_server
from tests.service.test_issue9_schemathesis import CHECKS, _fuzz

#: (path, method, role, account of an account key, path parameters, query, body)
Case = tuple[str, str, str, str | None, dict[str, Any], dict[str, Any], Any]

PERP_CASES: list[Case] = [
    ("/v1/perps", "GET", "account", "trader", {}, {}, None),
    ("/v1/accounts/{account_id}/trade", "POST", "account", "trader",
     {"account_id": "trader"}, {}, {"perp": "ETH-PERP", "size": "-1.5"}),
    ("/v1/perps/{perp}/funding", "POST", "oracle", None, {"perp": "ETH-PERP"}, {},
     {"funding_index": "-2"}),
    ("/v1/accounts/{account_id}/settle", "POST", "account", "trader",
     {"account_id": "trader"}, {}, {"perp": "ETH-PERP"}),
    ("/v1/accounts/{account_id}", "GET", "admin", None, {"account_id": "edge"}, {}, None),
    ("/v1/liquidations/queue", "GET", "liquidator", None, {}, {}, None),
    ("/v1/liquidations/quote", "GET", "liquidator", None, {},
     {"account": "sunk", "perp": "ETH-PERP", "size": "1"}, None),
    ("/v1/liquidations", "POST", "liquidator", None, {}, {},
     {"account": "sunk", "perp": "ETH-PERP", "max": True}),
    ("/v1/risk/summary", "GET", "admin", None, {}, {}, None),
    ("/v1/overview", "GET", "admin", None, {}, {}, None),
]  # fmt: skip
AUCTION_CASES: list[Case] = [
    ("/v1/liquidations/quote", "GET", "liquidator", None, {},
     {"account": "ample", "debt_asset": "USDC", "collateral_asset": "WETH"}, None),
    ("/v1/auctions", "POST", "liquidator", None, {}, {},
     {"account": "short", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}),
    ("/v1/liquidations", "POST", "liquidator", None, {}, {},
     {"account": "ample", "debt_asset": "USDC", "collateral_asset": "WETH", "amount": "100"}),
    ("/v1/auctions", "GET", "admin", None, {}, {}, None),
    ("/v1/auctions/{auction_id}/take", "POST", "liquidator", None, {"auction_id": 1}, {},
     {"amount": "1", "max_price": "2400"}),
    ("/v1/auctions/{auction_id}/take", "POST", "liquidator", None, {"auction_id": 2}, {},
     {"max": True}),
]  # fmt: skip
AUCTION_LATE: list[Case] = [
    ("/v1/auctions/{auction_id}/reset", "POST", "liquidator", None, {"auction_id": 1}, {}, None),
]
STOREFRONT_CASES: list[Case] = [
    ("/v1/liquidations/quote", "GET", "liquidator", None, {},
     {"account": "sunk", "debt_asset": "USDC", "collateral_asset": "WETH"}, None),
    ("/v1/liquidations", "POST", "liquidator", None, {}, {},
     {"account": "sunk", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}),
    ("/v1/absorb", "POST", "liquidator", None, {}, {}, {"account": "under"}),
    ("/v1/storefront", "GET", "admin", None, {}, {}, None),
    ("/v1/buy-collateral", "POST", "liquidator", None, {}, {},
     {"asset": "WETH", "amount": "1447.5"}),
]  # fmt: skip
WATERFALL_CASES: list[Case] = [
    ("/v1/socialize", "POST", "admin", None, {}, {}, {"perp": "ETH-PERP", "amount": "50"}),
    ("/v1/socialize", "POST", "admin", None, {}, {}, {"asset": "DAI"}),
]
DELEVERAGE_CASES: list[Case] = [
    ("/v1/deleverage", "POST", "admin", None, {}, {}, {"account": "bankrupt", "perp": "ETH-PERP"}),
]


def _check(server: Server, cases: list[Case]) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    session = requests.Session()
    for path, method, role, account, params, query, body in cases:
        op = schema[path][method]
        kw: dict[str, Any] = {"path_parameters": params or None, "query": query or None}
        if body is not None:
            kw.update(body=body, media_type="application/json")
        case = op.Case(**kw)
        response = case.call(
            base_url=server.url, session=session, headers=server.headers(role, account)
        )
        assert response.status_code == 200, (path, response.text)
        case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize(
    ("market", "cases"),
    [
        (PERP_MARKET, PERP_CASES),
        (VECTORS / "comet_storefront.toml", STOREFRONT_CASES),
        (VECTORS / "drift_socialized_loss.toml", WATERFALL_CASES),
        (VECTORS / "dydx_adl.toml", DELEVERAGE_CASES),
    ],
    ids=["perps", "storefront", "socialize", "deleverage"],
)
def test_each_success_answer_matches_its_schema(
    server_factory: Any, market: Path, cases: list[Case]
) -> None:
    with server_factory(market=market) as srv:
        _check(srv, cases)


def test_each_auction_answer_matches_its_schema(server_factory: Any) -> None:
    clock = FakeClock(datetime(2024, 6, 1, 8, tzinfo=UTC))
    with server_factory(market=VECTORS / "maker_clipper.toml", clock=clock) as srv:
        _check(srv, AUCTION_CASES)
        clock.advance(8401)  # past tail: auction 1 needs a reset
        _check(srv, AUCTION_LATE)


DESIGNS = {
    "auction": (
        "maker_clipper.toml",
        {
            "/v1/auctions",
            "/v1/auctions/{auction_id}/take",
            "/v1/auctions/{auction_id}/reset",
            "/v1/liquidations",
            "/v1/liquidations/quote",
        },
    ),
    "storefront": (
        "comet_storefront.toml",
        {"/v1/absorb", "/v1/buy-collateral", "/v1/storefront", "/v1/liquidations"},
    ),
    "waterfall": ("dydx_adl.toml", {"/v1/deleverage", "/v1/socialize", "/v1/perps"}),
}


@pytest.fixture(scope="module", params=sorted(DESIGNS))
def design(
    request: pytest.FixtureRequest, module_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, set[str]]]:
    name, paths = DESIGNS[request.param]
    with module_server(module_backend, tmp_path_factory, VECTORS / name) as srv:
        yield srv, paths


def test_the_design_operations_answer_to_their_schemas_on_their_markets(
    design: tuple[Server, set[str]],
) -> None:
    server, paths = design
    statuses, failures = _fuzz(server, examples=3, only=paths, price="USDC=1")
    assert failures == []
    assert not [s for s in statuses if s.startswith("5")], statuses
    assert statuses["422"] > 0


@pytest.mark.slow
def test_a_thousand_generated_requests_on_the_design_markets_find_no_error_or_violation(
    design: tuple[Server, set[str]],
) -> None:
    server, paths = design
    statuses, failures = _fuzz(server, examples=30, only=paths, price="USDC=1")
    print(f"schemathesis ({sorted(paths)}): {sum(statuses.values())} requests, {dict(statuses)}")
    assert failures == []
    assert not [s for s in statuses if s.startswith("5")], statuses
    assert sum(statuses.values()) >= 600
