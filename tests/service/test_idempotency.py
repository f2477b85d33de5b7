"""Idempotency-Key: a replayed key returns the first result and applies nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.service.conftest import Server
from xmargin.store.repositories import create_api_key


def test_a_replayed_key_returns_the_first_result_and_applies_nothing(server: Server) -> None:
    h = server.headers("account", "alice", **{"Idempotency-Key": "dep-1"})
    with server.client() as c:
        first = c.post(
            "/v1/accounts/alice/deposit", json={"asset": "USDC", "amount": "7"}, headers=h
        )
        assert first.status_code == 200
        assert "idempotent-replayed" not in first.headers
        n = server.journal_len()
        again = c.post(
            "/v1/accounts/alice/deposit", json={"asset": "USDC", "amount": "7"}, headers=h
        )
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert server.journal_len() == n
        acc = c.get("/v1/accounts/alice", headers=server.headers("admin")).json()
        assert acc["supply"]["USDC"] == "7"


def test_a_key_reused_for_a_different_request_is_refused(server: Server) -> None:
    h = server.headers("account", "alice", **{"Idempotency-Key": "k"})
    with server.client() as c:
        assert (
            c.post(
                "/v1/accounts/alice/deposit", json={"asset": "USDC", "amount": "1"}, headers=h
            ).status_code
            == 200
        )
        n = server.journal_len()
        r = c.post("/v1/accounts/alice/deposit", json={"asset": "USDC", "amount": "2"}, headers=h)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "idempotency_key_reused"
        r = c.post("/v1/accounts/alice/repay", json={"asset": "USDC", "amount": "1"}, headers=h)
        assert r.json()["error"]["code"] == "idempotency_key_reused"
        assert server.journal_len() == n


def test_a_refusal_is_replayed_too(server: Server) -> None:
    h = server.headers("account", "alice", **{"Idempotency-Key": "big"})
    body = {"asset": "USDC", "amount": "50000"}
    with server.client() as c:
        first = c.post("/v1/accounts/alice/borrow", json=body, headers=h)
        assert first.status_code == 409
        again = c.post("/v1/accounts/alice/borrow", json=body, headers=h)
        assert again.status_code == 409
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"


def test_keys_belong_to_their_api_key(server: Server) -> None:
    body = {"WETH": "2001"}
    with server.client() as c:
        a = c.post(
            "/v1/prices", json=body, headers=server.headers("oracle", **{"Idempotency-Key": "p"})
        )
        assert a.status_code == 200
        # A second oracle key with the same Idempotency-Key sends a request of its own.
        second = create_api_key(server.engine, "oracle", None)[0]
        other = {"Authorization": f"Bearer {second}", "Idempotency-Key": "p"}
        b = c.post("/v1/prices", json=body, headers=other)
        assert b.status_code == 200
        assert "idempotent-replayed" not in b.headers
        assert b.json()["seq"] == a.json()["seq"] + 1


def test_concurrent_requests_with_one_key_apply_once(server: Server) -> None:
    h = server.headers("account", "dave", **{"Idempotency-Key": "same"})

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as c:
            return list(
                await asyncio.gather(
                    *(
                        c.post(
                            "/v1/accounts/dave/withdraw",
                            json={"asset": "USDC", "amount": "10"},
                            headers=h,
                        )
                        for _ in range(20)
                    )
                )
            )

    n = server.journal_len()
    responses = asyncio.run(run())
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["seq"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 19
    assert server.journal_len() == n + 1
    with server.client() as c:
        acc = c.get("/v1/accounts/dave", headers=server.headers("admin")).json()
        assert acc["supply"]["USDC"] == "99990"


def test_a_replayed_key_survives_a_restart(server_factory: Any) -> None:
    with server_factory() as srv:
        h = srv.headers("account", "alice", **{"Idempotency-Key": "durable"})
        with srv.client() as c:
            first = c.post(
                "/v1/accounts/alice/repay", json={"asset": "USDC", "amount": "5"}, headers=h
            )
            assert first.status_code == 200
        keys = dict(srv.keys)
    with server_factory() as srv:
        srv.keys.update(keys)
        with srv.client() as c:
            again = c.post(
                "/v1/accounts/alice/repay", json={"asset": "USDC", "amount": "5"}, headers=h
            )
            assert again.json() == first.json()
            assert again.headers["idempotent-replayed"] == "true"
            acc = c.get("/v1/accounts/alice", headers=srv.headers("admin")).json()
            assert acc["borrow"]["USDC"] == "4995"
