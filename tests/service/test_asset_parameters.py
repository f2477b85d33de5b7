"""``PUT /v1/assets/{asset}``: risk parameters, validated as the market file is."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import Server

USDC = {
    "collateral_factor": "0.8",
    "liquidation_threshold": "0.85",
    "liquidation_bonus": "0.04",
    "decimals": 6,
}


def test_a_parameter_change_applies_is_journalled_and_survives_a_restart(
    server_factory: Any,
) -> None:
    with server_factory() as srv, srv.client() as c:
        r = c.put(
            "/v1/assets/USDC",
            json={**USDC, "collateral_factor": "0.5", "borrow_cap": 100},
            headers=srv.headers("admin"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["asset"]["params"]["collateral_factor"] == "0.5"
        assert r.json()["asset"]["price"] == "1"
        # dave's $100000 of USDC now counts at 0.5 for borrowing.
        dave = c.get("/v1/accounts/dave", headers=srv.headers("admin")).json()
        assert dave["initial_collateral"] == "50000"
        r = c.post(
            "/v1/accounts/dave/borrow",
            json={"asset": "USDC", "amount": "101"},
            headers=srv.headers("account", "dave"),
        )
        assert r.json()["error"]["code"] == "borrow_cap_exceeded"
    with server_factory(market=None) as srv, srv.client() as c:
        usdc = {
            a["asset"]: a
            for a in c.get("/v1/assets", headers=srv.headers("admin")).json()["assets"]
        }["USDC"]
        assert usdc["params"]["borrow_cap"] == "100"
        assert usdc["params"]["collateral_factor"] == "0.5"


def test_parameters_are_refused_with_every_problem_located(server: Server) -> None:
    cases: list[tuple[dict[str, Any], list[str]]] = [
        (
            {**USDC, "collateral_factor": "0.9"},
            ["assets.USDC.liquidation_threshold: must be >= collateral_factor (0.9)"],
        ),
        (
            {**USDC, "liquidation_bonus": "-1", "borrow_weight": "0.5"},
            [
                "assets.USDC.liquidation_bonus: must be >= 0, was -1",
                "assets.USDC.borrow_weight: must be >= 1, was 0.5",
            ],
        ),
        (
            {"collateral_factor": "0.5"},
            [
                "assets.USDC.liquidation_threshold: required",
                "assets.USDC.liquidation_bonus: required",
            ],
        ),
        ({**USDC, "price": "2"}, ["assets.USDC.price: set by the oracle (POST /v1/prices)"]),
        ({**USDC, "colour": "blue"}, ["assets.USDC.colour: unknown key"]),
        (
            {**USDC, "decimals": 18},
            [
                "assets.USDC.decimals: cannot change the decimals of a listed asset "
                "(is 6, was sent 18)"
            ],
        ),
    ]
    with server.client() as c:
        n = server.journal_len()
        before = c.get("/v1/assets", headers=server.headers("admin")).json()
        for body, problems in cases:
            r = c.put("/v1/assets/USDC", json=body, headers=server.headers("admin"))
            assert r.status_code == 422, (body, r.text)
            err = r.json()["error"]
            assert err["code"] == "invalid_market_file"
            assert err["problems"] == problems, body
        assert server.journal_len() == n
        assert c.get("/v1/assets", headers=server.headers("admin")).json() == before
        r = c.put("/v1/assets/DOGE", json=USDC, headers=server.headers("admin"))
        assert r.status_code == 404


def test_a_change_that_would_leave_an_invalid_market_is_refused(server: Server) -> None:
    # Making WETH isolated collateral: alice, bob and carol borrow USDC, which is not
    # borrowable in isolation, so the market would no longer load.
    weth = {
        "collateral_factor": "0.8",
        "liquidation_threshold": "0.85",
        "liquidation_bonus": "0.05",
        "protocol_fee": "0.1",
        "debt_ceiling": 1000000,
    }
    with server.client() as c:
        n = server.journal_len()
        r = c.put("/v1/assets/WETH", json=weth, headers=server.headers("admin"))
        assert r.status_code == 422
        problems = r.json()["error"]["problems"]
        assert (
            "accounts.alice.borrow.USDC: not borrowable in isolation "
            "(the account supplies isolated WETH)" in problems
        )
        assert server.journal_len() == n
