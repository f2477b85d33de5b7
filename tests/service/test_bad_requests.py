"""Bad requests get the right status and a clear message, and change nothing (issue:
"Tests and checks that must exist", bad requests): negative, zero, NaN, huge or
non-numeric amounts; unknown asset or account; missing or wrong key; malformed JSON.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import Server


@pytest.fixture
def server(shared_server: Server) -> Server:
    """One server for the module: these tests change nothing (that is what they check)."""
    return shared_server


DEPOSIT = "/v1/accounts/alice/deposit"
BORROW = "/v1/accounts/alice/borrow"

#: (name, path, raw body, status, error code, words the message must hold)
CASES: list[tuple[str, str, str, int, str, list[str]]] = [
    (
        "negative amount",
        DEPOSIT,
        '{"asset": "USDC", "amount": "-5"}',
        422,
        "invalid_amount",
        ["amount", "> 0", "-5"],
    ),
    (
        "negative number",
        DEPOSIT,
        '{"asset": "USDC", "amount": -5}',
        422,
        "invalid_amount",
        ["amount", "> 0"],
    ),
    (
        "zero amount",
        BORROW,
        '{"asset": "USDC", "amount": "0"}',
        422,
        "invalid_amount",
        ["amount", "> 0"],
    ),
    (
        "NaN string",
        DEPOSIT,
        '{"asset": "USDC", "amount": "NaN"}',
        422,
        "invalid_amount",
        ["finite", "NaN"],
    ),
    (
        "NaN literal",
        DEPOSIT,
        '{"asset": "USDC", "amount": NaN}',
        422,
        "invalid_amount",
        ["finite", "NaN"],
    ),
    (
        "Infinity literal",
        BORROW,
        '{"asset": "USDC", "amount": Infinity}',
        422,
        "invalid_amount",
        ["finite"],
    ),
    (
        "huge amount",
        DEPOSIT,
        '{"asset": "USDC", "amount": "1e30"}',
        422,
        "invalid_amount",
        ["1e24"],
    ),
    ("huge number", DEPOSIT, '{"asset": "USDC", "amount": 1e25}', 422, "invalid_amount", ["1e24"]),
    (
        "non-numeric amount",
        DEPOSIT,
        '{"asset": "USDC", "amount": "ten"}',
        422,
        "invalid_amount",
        ["number", "ten"],
    ),
    (
        "boolean amount",
        DEPOSIT,
        '{"asset": "USDC", "amount": true}',
        422,
        "invalid_amount",
        ["number"],
    ),
    ("list amount", DEPOSIT, '{"asset": "USDC", "amount": [1]}', 422, "invalid_amount", ["number"]),
    (
        "too many decimals",
        DEPOSIT,
        '{"asset": "USDC", "amount": "1.0000001"}',
        422,
        "invalid_amount",
        ["6 decimal places"],
    ),
    (
        "missing amount",
        DEPOSIT,
        '{"asset": "USDC"}',
        422,
        "invalid_request",
        ["body.amount", "required"],
    ),
    (
        "unknown field",
        DEPOSIT,
        '{"asset": "USDC", "amount": "1", "memo": "x"}',
        422,
        "invalid_request",
        ["body.memo", "unknown field"],
    ),
    (
        "asset not a string",
        DEPOSIT,
        '{"asset": 7, "amount": "1"}',
        422,
        "invalid_request",
        ["body.asset"],
    ),
    ("body not an object", DEPOSIT, '["USDC", "1"]', 422, "invalid_request", ["JSON object"]),
    ("unknown asset", DEPOSIT, '{"asset": "DOGE", "amount": "1"}', 404, "unknown_asset", ["DOGE"]),
    (
        "unknown account",
        "/v1/accounts/nobody/borrow",
        '{"asset": "USDC", "amount": "1"}',
        404,
        "unknown_account",
        ["nobody"],
    ),
    (
        "malformed JSON",
        DEPOSIT,
        '{"asset": "USDC", "amount": ',
        400,
        "malformed_request",
        ["not valid JSON"],
    ),
    ("empty body", DEPOSIT, "", 400, "malformed_request", ["JSON body"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_bad_action_request_is_refused_clearly_and_changes_nothing(
    server: Server, case: tuple[str, str, str, int, str, list[str]]
) -> None:
    name, path, raw, status, code, words = case
    account = path.split("/")[3]
    headers = server.headers("account", account, **{"Content-Type": "application/json"})
    with server.client() as c:
        admin = server.headers("admin")
        before = (server.journal_len(), c.get("/v1/accounts/alice", headers=admin).json())
        r = c.post(path, content=raw, headers=headers)
        assert r.status_code == status, (name, r.text)
        err = r.json()["error"]
        assert err["code"] == code, (name, err)
        for w in words:
            assert w in err["message"] + " ".join(err["problems"]), (name, w, err)
        assert "Traceback" not in r.text
        after = (server.journal_len(), c.get("/v1/accounts/alice", headers=admin).json())
        assert after == before, name


BAD_KEYS: list[tuple[str, dict[str, str], str]] = [
    ("missing key", {}, "missing Authorization"),
    ("wrong key", {"Authorization": "Bearer xm_000000000000_wrong"}, "unknown API key"),
    ("not a bearer", {"Authorization": "Token abc"}, "Bearer KEY"),
]


@pytest.mark.parametrize("case", BAD_KEYS, ids=[c[0] for c in BAD_KEYS])
def test_a_request_with_a_missing_or_wrong_key_is_refused_and_changes_nothing(
    server: Server, case: tuple[str, dict[str, str], str]
) -> None:
    _, headers, words = case
    with server.client() as c:
        before = server.journal_len()
        r = c.post(DEPOSIT, json={"asset": "USDC", "amount": "1"}, headers=headers)
        assert r.status_code == 401
        assert words in r.json()["error"]["message"]
        assert server.journal_len() == before


PRICE_CASES: list[tuple[str, Any, int, str, str]] = [
    ("zero price", {"WETH": "0"}, 422, "invalid_price", "> 0"),
    ("negative price", {"WETH": -1}, 422, "invalid_price", "> 0"),
    ("NaN price", {"WETH": "NaN"}, 422, "invalid_price", "finite"),
    ("text price", {"WETH": "cheap"}, 422, "invalid_price", "number"),
    ("huge price", {"WETH": "1e25"}, 422, "invalid_price", "1e24"),
    ("unknown asset", {"WETH": "2000", "DOGE": "0.1"}, 404, "unknown_asset", "DOGE"),
    ("no prices", {}, 422, "invalid_request", "no prices"),
    ("not an object", ["WETH", 1], 422, "invalid_request", "object"),
    (
        "bad timestamp",
        {"prices": {"WETH": "2000"}, "timestamp": "yesterday"},
        422,
        "invalid_request",
        "timestamp",
    ),
    (
        "timestamp in the future",
        {"prices": {"WETH": "2000"}, "timestamp": "2999-01-01T00:00:00Z"},
        422,
        "invalid_request",
        "future",
    ),
]


@pytest.mark.parametrize("case", PRICE_CASES, ids=[c[0] for c in PRICE_CASES])
def test_a_bad_price_batch_is_refused_whole_and_changes_nothing(
    server: Server, case: tuple[str, Any, int, str, str]
) -> None:
    _, body, status, code, words = case
    with server.client() as c:
        before = (server.journal_len(), c.get("/v1/assets", headers=server.headers("admin")).json())
        r = c.post("/v1/prices", json=body, headers=server.headers("oracle"))
        assert r.status_code == status, r.text
        err = r.json()["error"]
        assert err["code"] == code
        assert words in err["message"]
        after = (server.journal_len(), c.get("/v1/assets", headers=server.headers("admin")).json())
        assert after == before


def test_bad_liquidation_requests_are_refused_and_change_nothing(server: Server) -> None:
    liq = server.headers("liquidator")
    cases: list[tuple[Any, int, str]] = [
        (
            {"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH"},
            422,
            "invalid_request",
        ),
        (
            {
                "account": "bob",
                "debt_asset": "USDC",
                "collateral_asset": "WETH",
                "amount": "5",
                "max": True,
            },
            422,
            "invalid_request",
        ),
        (
            {"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH", "amount": "-5"},
            422,
            "invalid_amount",
        ),
        (
            {"account": "ghost", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True},
            404,
            "unknown_account",
        ),
        (
            {"account": "bob", "debt_asset": "DAI", "collateral_asset": "WETH", "max": True},
            404,
            "unknown_asset",
        ),
        (
            {"account": "alice", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True},
            409,
            "not_liquidatable",
        ),
        (
            {"account": "bob", "debt_asset": "WETH", "collateral_asset": "USDC", "max": True},
            409,
            "nothing_to_liquidate",
        ),
    ]
    with server.client() as c:
        before = server.journal_len()
        for body, status, code in cases:
            r = c.post("/v1/liquidations", json=body, headers=liq)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
        assert server.journal_len() == before


def test_a_refused_rule_is_409_and_changes_nothing(server: Server) -> None:
    with server.client() as c:
        before = server.journal_len()
        r = c.post(
            "/v1/accounts/alice/borrow",
            json={"asset": "USDC", "amount": "11000.000001"},
            headers=server.headers("account", "alice"),
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "insufficient_margin"
        r = c.post(
            "/v1/accounts/alice/withdraw",
            json={"asset": "WETH", "amount": "11"},
            headers=server.headers("account", "alice"),
        )
        assert r.json()["error"]["code"] == "insufficient_balance"
        assert server.journal_len() == before


def test_an_unknown_endpoint_or_method_is_a_json_error(server: Server) -> None:
    with server.client() as c:
        r = c.get("/v1/nothing")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
        r = c.delete("/v1/assets", headers=server.headers("admin"))
        assert r.status_code == 405
        assert r.json()["error"]["code"] == "method_not_allowed"
        r = c.get("/v1/liquidations/queue?limit=0", headers=server.headers("admin"))
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_request"
        assert "limit" in r.json()["error"]["message"]
