"""``POST /v1/analysis/compare-designs`` (contract 8.6): the CLI's ``simulate compare`` on
the live market; admin only, read-only, bad bodies 422 with their location."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import Server
from xmargin.service.schemas_compare import CompareDesignsResponse

BODY = {"shocks": {"WETH": "-30%"}, "steps": 2, "paths": 3, "volatility": {"WETH": 0.8}}


@pytest.fixture
def server(shared_server: Server) -> Server:
    """One server for the module: this endpoint changes nothing."""
    return shared_server


def test_admin_compares_every_design_on_the_live_market(server: Server) -> None:
    with server.client() as c:
        before = server.journal_len()
        r = c.post("/v1/analysis/compare-designs", json=BODY, headers=server.headers("admin"))
        assert r.status_code == 200, r.text
        assert server.journal_len() == before  # read-only: nothing journalled
        again = c.post("/v1/analysis/compare-designs", json=BODY, headers=server.headers("admin"))
    doc = r.json()
    CompareDesignsResponse.model_validate(doc)
    assert again.json() == doc  # same seed, same numbers
    assert list(doc["designs"]) == ["fixed", "threshold", "health", "target", "auction",
                                    "storefront"]  # fmt: skip
    assert (doc["paths"], doc["steps"], doc["shocks"]) == (3, 24, {"WETH": "-0.3"})
    # The book holds liquidatable accounts: every design liquidates something.
    for figures in doc["designs"].values():
        assert float(figures["liquidated_volume"]) > 0, figures


def test_other_roles_are_refused(server: Server) -> None:
    with server.client() as c:
        for role in ("oracle", "liquidator"):
            r = c.post("/v1/analysis/compare-designs", json=BODY, headers=server.headers(role))
            assert r.status_code == 403
        assert c.post("/v1/analysis/compare-designs", json=BODY).status_code == 401


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "body.shocks"),
        ({"shocks": {"DOGE": "-30%"}}, "body.shocks"),
        ({"shocks": {"WETH": "-150%"}}, "body.shocks.WETH"),
        ({**BODY, "designs": ["dutch"]}, "body.designs"),
        ({**BODY, "designs": ["fixed", "fixed"]}, "body.designs"),
        ({**BODY, "step": "ten"}, "body.step"),
        ({**BODY, "horizon": "5m"}, "body.horizon"),
        ({**BODY, "paths": 0}, "body.paths"),
        ({**BODY, "paths": 1000, "horizon": "40h"}, "body.paths"),
        ({**BODY, "step": "1m", "horizon": "1000h"}, "body.horizon"),
        ({**BODY, "volatility": {"DOGE": 0.5}}, "body.volatility"),
        ({**BODY, "gas": -1}, "body.gas"),
    ],
)
def test_bad_bodies_are_422_with_their_location(
    server: Server, body: dict[str, Any], where: str
) -> None:
    with server.client() as c:
        r = c.post("/v1/analysis/compare-designs", json=body, headers=server.headers("admin"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_request"
    assert any(p.startswith(where) for p in err["problems"]), err
