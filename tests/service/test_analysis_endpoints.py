"""``/v1/analysis/*``: contract 7's analyses of the live market, admin only, read-only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import Server
from xmargin.service.analysis_schemas import (
    CalibrationResponse,
    NetworkResponse,
    OptimizeResponse,
)


@pytest.fixture
def server(shared_server: Server) -> Server:
    """One server for the module: these endpoints change nothing."""
    return shared_server


CALIBRATE = {"volatility": {"WETH": 0.8}, "horizon_days": 1}
OPTIMIZE = {"var99_max": 1e9, "volatility": {"WETH": 0.8}, "static": ["USDC"], "paths": 200,
            "candidates": 2}  # fmt: skip
NETWORK = {
    "shocks": {"WETH": "-20%"},
    "entities": {
        "A": {"external_assets": 5, "liabilities": {"B": 10, "C": 10}},
        "B": {"external_assets": 8, "liabilities": {"A": 5, "C": 5}},
        "C": {"external_assets": 3},
    },
}
CALLS = [("calibrate", CALIBRATE), ("optimize", OPTIMIZE), ("network", NETWORK)]


def test_admin_gets_each_analysis_in_its_documented_schema(server: Server) -> None:
    with server.client() as c:
        before = server.journal_len()
        docs: dict[str, Any] = {}
        for name, body in CALLS:
            r = c.post(f"/v1/analysis/{name}", json=body, headers=server.headers("admin"))
            assert r.status_code == 200, (name, r.text)
            docs[name] = r.json()
        assert server.journal_len() == before  # read-only: nothing journalled
    CalibrationResponse.model_validate(docs["calibrate"])
    OptimizeResponse.model_validate(docs["optimize"])
    NetworkResponse.model_validate(docs["network"])
    weth = docs["calibrate"]["assets"][0]
    assert weth["asset"] == "WETH" and weth["liquidation_threshold"]["recommended"] == "0.8550"
    assert docs["optimize"]["feasible"] is True
    assert docs["network"]["entities"]["payments"] == {"A": "10", "B": "10", "C": "0"}


def test_every_other_role_is_refused(server: Server) -> None:
    with server.client() as c:
        for role in ("oracle", "liquidator"):
            for name, body in CALLS:
                r = c.post(f"/v1/analysis/{name}", json=body, headers=server.headers(role))
                assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
        r = c.post("/v1/analysis/network", json=NETWORK, headers=server.headers("account", "alice"))
        assert r.status_code == 403
        assert c.post("/v1/analysis/network", json=NETWORK).status_code == 401


@pytest.mark.parametrize(
    ("name", "body", "where"),
    [
        ("calibrate", {"volatility": {"DOGE": 0.5}}, "body.volatility"),
        ("calibrate", {"volatility": {"WETH": "NaN"}}, "body.volatility.WETH"),
        ("calibrate", {"volatility": {"WETH": 0.8}, "confidence": 1.5}, "body.confidence"),
        ("calibrate", {"volatility": {"WETH": 0.8}, "extra": 1}, "body.extra"),
        ("optimize", {"volatility": {"WETH": 0.8}}, "body.var99_max"),
        ("optimize", {**OPTIMIZE, "paths": 10**9}, "body.paths"),
        ("optimize", {**OPTIMIZE, "static": []}, "body.volatility"),
        ("network", {"shocks": {"WETH": "-150%"}}, "body.shocks"),
        ("network", {"entities": {"A": {"liabilities": {"Z": 1}}}}, "body.entities"),
        ("network", {"max_edges": -1}, "body.max_edges"),
    ],
)
def test_bad_bodies_are_422_with_their_location(
    server: Server, name: str, body: dict[str, Any], where: str
) -> None:
    with server.client() as c:
        r = c.post(f"/v1/analysis/{name}", json=body, headers=server.headers("admin"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_request"
    assert any(p.startswith(where) for p in err["problems"]), err
