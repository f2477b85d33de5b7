"""Concurrency: actions on one account are serialized, so concurrent borrows can never
all pass a margin check that only some could (issue item 5)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from tests.service.conftest import Server
from xmargin.store import replay_database


async def _borrow_all(server: Server, n: int, amount: str) -> list[httpx.Response]:
    headers = server.headers("account", "racer")
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0, limits=limits) as c:
        return list(
            await asyncio.gather(
                *(
                    c.post(
                        "/v1/accounts/racer/borrow",
                        json={"asset": "USDC", "amount": amount},
                        headers={**headers, "Idempotency-Key": f"race-{i}"},
                    )
                    for i in range(n)
                )
            )
        )


def test_fifty_concurrent_borrows_only_the_allowed_ones_succeed(server: Server) -> None:
    with server.client() as c:
        # 1 WETH at $2000, collateral factor 0.8: $1600 of initial collateral. Each borrow
        # of 100 USDC ($100) alone is allowed; 16 together use it all, the 17th breaches.
        r = c.post(
            "/v1/accounts/racer/deposit",
            json={"asset": "WETH", "amount": "1"},
            headers=server.headers("account", "racer"),
        )
        assert r.status_code == 200
        assert r.json()["account"]["available_to_borrow"] == "1600"
        journal_before = server.journal_len()

        responses = asyncio.run(_borrow_all(server, 50, "100"))

        ok = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code == 409]
        assert len(ok) == 16
        assert len(refused) == 34
        assert {r.json()["error"]["code"] for r in refused} == {"insufficient_margin"}
        # Every accepted borrow saw the one before it: 16 distinct, consecutive states.
        seen = sorted(Decimal(r.json()["account"]["borrow"]["USDC"]) for r in ok)
        assert seen == [Decimal(100 * k) for k in range(1, 17)]
        acc = c.get("/v1/accounts/racer", headers=server.headers("admin")).json()
        assert acc["borrow"] == {"USDC": "1600"}
        assert Decimal(acc["initial_collateral"]) >= Decimal(acc["initial_debt"])
        assert server.journal_len() == journal_before + 16
    replay_database(server.engine)


def test_concurrent_actions_on_many_accounts_all_land_exactly_once(server: Server) -> None:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as c:
            return list(
                await asyncio.gather(
                    *(
                        c.post(
                            f"/v1/accounts/acct{i % 8}/deposit",
                            json={"asset": "USDC", "amount": "1.5"},
                            headers=server.headers("account", f"acct{i % 8}"),
                        )
                        for i in range(80)
                    )
                )
            )

    before = server.journal_len()
    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 80
    assert sorted(r.json()["seq"] for r in responses) == list(range(before + 1, before + 81))
    with server.client() as c:
        for i in range(8):
            acc = c.get(f"/v1/accounts/acct{i}", headers=server.headers("admin")).json()
            assert acc["supply"] == {"USDC": "15"}
    replay_database(server.engine)
