"""The service under hostile requests (issue 9, items 4, 7, 10, 13, 14, 15, 18), against a
real server on SQLite and, when ``XMARGIN_TEST_POSTGRES_URL`` is set, PostgreSQL.

Each test is named after its item; each fails on the code before the issue.
"""

from __future__ import annotations

import json
import re
import socket
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import run_in_process
from tests.service.conftest import MARKET, Server
from xmargin.mathlib import CTX, fmt, quantize_up

PLAIN = re.compile(r"-?[0-9]+(\.[0-9]*[1-9])?")
USDC = "/v1/accounts/alice/deposit"


def _decimal_strings(doc: Any) -> list[str]:
    """Every string in ``doc`` that reads as a number."""
    out: list[str] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            try:
                Decimal(node)
            except ArithmeticError:
                continue
            out.append(node)
    return out


# -- item 4: every figure normalised, ratios quantised --------------------------------
def test_item4_figures_are_normalised_and_ratios_hold_18_places(server: Server) -> None:
    with server.client() as c:
        r = c.post(
            USDC, json={"asset": "USDC", "amount": "3"}, headers=server.headers("account", "alice")
        )
        assert r.status_code == 200, r.text
        summary = c.get("/v1/risk/summary", headers=server.headers("admin")).json()
        texts = _decimal_strings(summary)
        assert texts and all(PLAIN.fullmatch(t) for t in texts), texts  # no 1E+3, no 1.50
        util = summary["assets"]["USDC"]["utilization"]
        # 8900 / 100003 repeats; held to 18 places, rounded up (it was 200 digits).
        exact = CTX.divide(Decimal(8900), Decimal(100003))
        assert util == fmt(quantize_up(exact, 18)) and len(util) == 20
        assert Decimal(util) >= exact and Decimal(util) - exact < Decimal("1e-18")
        # A refusal names figures as a person reads them (was "3.400000000000000000").
        r = c.post(
            "/v1/liquidations",
            json={
                "account": "alice",
                "debt_asset": "USDC",
                "collateral_asset": "WETH",
                "max": True,
            },
            headers=server.headers("liquidator"),
        )
        assert r.status_code == 409
        message = r.json()["error"]["message"]
        # 10 WETH x 2000 x 0.85 + 3 USDC x 0.85 over 5000 USDC of debt
        assert message.endswith("health factor 3.40051"), message
        assert not re.search(r"[0-9]\.[0-9]*0\b|E[+-]", message), message
        for path in ("/v1/accounts/alice", "/v1/assets", "/v1/liquidations/queue"):
            doc = c.get(path, headers=server.headers("admin")).json()
            assert all(PLAIN.fullmatch(t) for t in _decimal_strings(doc)), (path, doc)


# -- item 7: the CLI's bonus in the service's liquidation JSON -------------------------
def test_item7_quote_and_liquidation_carry_the_clis_bonus(
    server: Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli = run_in_process(
        capsys,
        "liquidate", MARKET, "--account", "bob", "--debt", "USDC", "--collateral", "WETH",
        "--amount", "500", "--json",
    )  # fmt: skip
    assert cli.code == 0, cli.err
    expected = cli.json()
    with server.client() as c:
        liq = server.headers("liquidator")
        q = c.get(
            "/v1/liquidations/quote",
            params={"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH",
                    "amount": "500"},
            headers=liq,
        ).json()  # fmt: skip
        r = c.post(
            "/v1/liquidations",
            json={"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH",
                  "amount": "500"},
            headers=liq,
        ).json()  # fmt: skip
    assert q["bonus"] == r["bonus"] == expected["bonus"] == "0.05"
    assert {k: r[k] for k in expected} == expected


# -- item 10: integer parameters bounded ------------------------------------------------
HUGE = "9" * 30


@pytest.mark.parametrize(
    ("path", "params", "headers", "where"),
    [
        ("/v1/journal", {"after": HUGE}, {}, "query.after"),
        ("/v1/journal", {"after": str(2**53)}, {}, "query.after"),
        ("/v1/journal", {"after": "-1"}, {}, "query.after"),
        ("/v1/journal", {"limit": HUGE}, {}, "query.limit"),
        ("/v1/liquidations/queue", {"limit": HUGE}, {}, "query.limit"),
        ("/v1/events", {"max_events": HUGE}, {}, "query.max_events"),
        ("/v1/events", {}, {"Last-Event-ID": HUGE[:20]}, "header.Last-Event-ID"),
        ("/v1/events", {}, {"Last-Event-ID": "1e3"}, "header.Last-Event-ID"),
    ],
)
def test_item10_a_huge_or_negative_integer_parameter_is_422(
    shared_server: Server, path: str, params: dict[str, str], headers: dict[str, str], where: str
) -> None:
    server = shared_server
    with server.client() as c:
        r = c.get(path, params=params, headers=server.headers("admin", **headers))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_request"
    assert any(p.startswith(f"{where}: ") for p in err["problems"]), err


def test_item10_journal_after_huge_int_is_422(shared_server: Server) -> None:
    # The issue's own reproduction: 500 on SQLite, 503 on PostgreSQL before.
    with shared_server.client() as c:
        r = c.get(f"/v1/journal?after={10**40}", headers=shared_server.headers("admin"))
    assert r.status_code == 422
    assert "less than or equal to 9007199254740991" in r.json()["error"]["problems"][0]


def test_item10_a_timestamp_outside_its_range_is_422(shared_server: Server) -> None:
    with shared_server.client() as c:
        for ts in (10**30, -5, 2**53):
            r = c.post(
                "/v1/prices",
                json={"prices": {"WETH": "2000"}, "timestamp": ts},
                headers=shared_server.headers("oracle"),
            )
            assert r.status_code == 422, (ts, r.text)
            assert any(p.startswith("body.timestamp") for p in r.json()["error"]["problems"])


# -- item 13: the body limit while streaming ---------------------------------------------
def _stream_chunked(url: str, path: str, key: str, total: int) -> tuple[int, bytes]:
    """POST ``total`` bytes chunked (no Content-Length); (bytes sent, response head)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    sock.sendall(head.encode())
    chunk = b"[" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    sock.settimeout(1.0)
    try:
        while sent < total:
            sock.sendall(framed)
            sent += len(chunk)
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading
    sock.settimeout(10)
    try:
        answer = sock.recv(65536)
    except ConnectionResetError:
        answer = b""
    sock.close()
    return sent, answer


def test_item13_a_large_body_is_refused_while_streaming_with_413(shared_server: Server) -> None:
    server = shared_server
    key = server.key("account", "alice")
    sent, answer = _stream_chunked(server.url, USDC, key, 50 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"code":"body_too_large"' in answer
    # The server stopped reading after its 1 MiB limit: far from the 50 MB sent before.
    assert sent < 16 * 1024 * 1024, sent
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            f"POST {USDC} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {50 << 20}\r\n\r\n".encode()
        )
        head = sock.recv(65536)  # answered before a byte of the body was sent
    assert head.startswith(b"HTTP/1.1 413"), head[:200]  # refused on its Content-Length


# -- item 14: the contract's decimal syntax in requests ------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ('{"asset": "USDC", "amount": "1_0"}', 422, "decimal notation"),
        ('{"asset": "USDC", "amount": "١٢"}', 422, "decimal notation"),
        ('{"asset": "USDC", "amount": " 5"}', 422, "decimal notation"),
        ('{"asset": "USDC", "amount": "5 "}', 422, "decimal notation"),
        ('{"asset": "USDC", "amount": "1' + "0" * 70 + '"}', 422, "1e24"),
        ('{"asset": "USDC", "amount": "1' + "0" * 120 + '"}', 422, "too long"),
        ('{"asset": "USDC", "amount": "' + "1" * 61 + 'e-40"}', 422, "60 significant"),
        ('{"asset": "USDC", "amount": 1e-300}', 422, "1e-36"),
        ('{"asset": "USDC", "amount": 1' + "0" * 5000 + "}", 422, "too long"),
    ],
)
def test_item14_request_numbers_follow_the_contracts_syntax(
    shared_server: Server, body: str, status: int, words: str
) -> None:
    server = shared_server
    before = server.journal_len()
    with server.client() as c:
        r = c.post(
            USDC,
            content=body.encode(),
            headers={**server.headers("account", "alice"), "Content-Type": "application/json"},
        )
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"]
    assert "amount" in r.json()["error"]["message"]
    assert server.journal_len() == before


def test_item14_utf16_bodies_and_boolean_timestamps_are_refused(shared_server: Server) -> None:
    server = shared_server
    before = server.journal_len()
    body = json.dumps({"asset": "USDC", "amount": "5"})
    with server.client() as c:
        for encoding in ("utf-16", "utf-16-le", "utf-32"):
            r = c.post(
                USDC,
                content=body.encode(encoding),
                headers={**server.headers("account", "alice"), "Content-Type": "application/json"},
            )
            assert r.status_code == 400, (encoding, r.text)
            assert r.json()["error"]["code"] == "malformed_request"
        for ts in (True, False):
            r = c.post(
                "/v1/prices",
                json={"prices": {"WETH": "2000"}, "timestamp": ts},
                headers=server.headers("oracle"),
            )
            assert r.status_code == 422, r.text
            assert any(p.startswith("body.timestamp") for p in r.json()["error"]["problems"])
        r = c.post("/v1/prices", json={"WETH": "1e-300"}, headers=server.headers("oracle"))
        assert r.status_code == 422 and "1e-36" in r.json()["error"]["message"]
    assert server.journal_len() == before


# -- item 15: duplicate keys in bodies ---------------------------------------------------
def test_item15_a_repeated_key_in_a_body_is_refused_with_its_location(
    shared_server: Server,
) -> None:
    server = shared_server
    before = server.journal_len()
    with server.client() as c:
        r = c.post(
            USDC,
            content=b'{"asset": "USDC", "amount": "5", "amount": "5000000"}',
            headers={**server.headers("account", "alice"), "Content-Type": "application/json"},
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"]["problems"] == [
            "body.amount: duplicate key (each key may appear once)"
        ]
        r = c.post(
            "/v1/prices",
            content=b'{"prices": {"WETH": "1", "WETH": "2000"}}',
            headers={**server.headers("oracle"), "Content-Type": "application/json"},
        )
        assert r.status_code == 422
        assert r.json()["error"]["problems"] == [
            "body.prices.WETH: duplicate key (each key may appear once)"
        ]
    assert server.journal_len() == before


# -- item 18: one rule for names ----------------------------------------------------------
@pytest.mark.parametrize(
    ("account", "words"),
    [
        ("a%20b", "may hold only letters"),
        ("x" * 65, "at most 64"),
        ("-_-", "at least one letter"),
        ("tab%09", "may hold only"),
    ],
)
def test_item18_the_service_applies_the_name_rule_to_new_accounts(
    shared_server: Server, account: str, words: str
) -> None:
    server = shared_server
    before = server.journal_len()
    with server.client() as c:
        r = c.post(
            f"/v1/accounts/{account}/deposit",
            json={"asset": "USDC", "amount": "1"},
            headers=server.headers("admin"),
        )
    assert r.status_code == 422, r.text
    assert any(
        p.startswith("path.account_id") and (words in p or "64" in p)
        for p in r.json()["error"]["problems"]
    ), r.text
    assert server.journal_len() == before


def test_item18_keys_create_applies_the_name_rule(
    shared_server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_in_process(
        capsys, "keys", "create", "--role", "account", "--account", "a b", "--db",
        shared_server.db_url,
    )  # fmt: skip
    assert run.code == 2 and "--account: account id may hold only" in run.error_line


def test_item18_names_are_case_sensitive_in_the_service(server: Server) -> None:
    with server.client() as c:
        r = c.post(
            "/v1/accounts/Alice/deposit",
            json={"asset": "USDC", "amount": "7"},
            headers=server.headers("account", "Alice"),
        )
        assert r.status_code == 200, r.text
        alice = c.get("/v1/accounts/alice", headers=server.headers("admin")).json()
        big = c.get("/v1/accounts/Alice", headers=server.headers("admin")).json()
    assert big["supply"] == {"USDC": "7"} and alice["supply"] == {"WETH": "10"}


EXTREME_MARKET = """\
[market]
quote = "USD"

[assets.TINY]
price = "123456789012345678901234.123456789012345678901234567890123456"
decimals = 36
collateral_factor = 0.5
liquidation_threshold = 0.6
liquidation_bonus = 0.05

[assets.USDC]
price = "0.000000000000000000000000000000000001"
decimals = 6
collateral_factor = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.04

[accounts.edge]
supply = { TINY = "999999999999999999999999.999999999999999999999999999999999999" }
borrow = { USDC = "0.000001" }
"""


def test_item14_the_extremes_of_the_window_are_stored_exactly_in_both_databases(
    server_factory: Any, tmp_path: Path
) -> None:
    market = tmp_path / "extreme.toml"
    market.write_text(EXTREME_MARKET, encoding="utf-8")
    with server_factory(market=market) as server, server.client() as c:
        assets = {
            a["asset"]: a
            for a in c.get("/v1/assets", headers=server.headers("admin")).json()["assets"]
        }
        assert (
            assets["TINY"]["price"]
            == "123456789012345678901234.123456789012345678901234567890123456"
        )
        assert assets["USDC"]["price"] == "0.000000000000000000000000000000000001"
        edge = c.get("/v1/accounts/edge", headers=server.headers("admin")).json()
        assert edge["supply"] == {
            "TINY": "999999999999999999999999.999999999999999999999999999999999999"
        }
        r = c.post(
            "/v1/accounts/edge/deposit",
            json={"asset": "USDC", "amount": "0.000001"},
            headers=server.headers("account", "edge"),
        )
        assert r.status_code == 200, r.text
        r = c.post(
            "/v1/accounts/edge/deposit",
            json={"asset": "TINY", "amount": "0.000000000000000000000000000000000002"},
            headers=server.headers("account", "edge"),
        )
        assert r.status_code == 422 and "above 1e24 units" in r.json()["error"]["message"]
    from xmargin.store import make_engine, replay_database

    engine = make_engine(server.db_url)
    try:
        assert replay_database(engine).entries == 2
    finally:
        engine.dispose()
