"""Crash safety: every acknowledged action survives a SIGKILL exactly once, nothing
unacknowledged is half-applied, and ``xmargin replay`` agrees (issue item 2, and
"Tests and checks that must exist": crash safety).

The real ``xmargin serve`` runs as a subprocess; concurrent clients drive it; it is
killed with SIGKILL mid-load and restarted on the same database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

import httpx

from tests.service.conftest import MARKET, free_port
from xmargin.store import make_engine, replay_database
from xmargin.store.repositories import create_api_key, iter_journal

CLIENTS = 8
#: one client's cycle of actions on its own account; each is allowed in any state the
#: cycle reaches (supply grows by 8 and debt by 2 per cycle, far inside the margin)
CYCLE = [("deposit", "10"), ("borrow", "3"), ("repay", "1"), ("withdraw", "2")]


def _xmargin() -> list[str]:
    script = Path(sys.executable).with_name("xmargin")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from xmargin.cli.app import main; main()"]


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    url: str
    log: IO[bytes]


def _start(db_url: str, tmp: Path, name: str, market: Path | None = MARKET) -> Proc:
    """``xmargin serve`` on ``db_url`` (loading ``market`` into an empty database)."""
    port = free_port()
    log = (tmp / f"{name}.log").open("wb")
    loads = ["--market", str(market)] if market is not None else []
    proc = subprocess.Popen(
        [*_xmargin(), "serve", *loads, "--db", db_url, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return Proc(proc, url, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    log.close()
    raise AssertionError(f"server did not start:\n{(tmp / f'{name}.log').read_text()}")


def _stop(p: Proc) -> None:
    if p.proc.poll() is None:
        p.proc.send_signal(signal.SIGTERM)
        try:
            p.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.proc.kill()
            p.proc.wait()
    p.log.close()


@dataclass
class Sent:
    account: str
    kind: str
    amount: str
    key: str
    outcome: str = "unknown"  # "ok" (200 received), "refused" (4xx received), "unknown"


async def _load(url: str, keys: dict[str, str], sent: list[Sent], stop: asyncio.Event) -> None:
    async def client(i: int) -> None:
        account = f"crash{i}"
        headers = {"Authorization": f"Bearer {keys[account]}"}
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as c:
            n = 0
            while not stop.is_set() and n < 400:
                kind, amount = CYCLE[n % len(CYCLE)]
                s = Sent(account, kind, amount, f"{account}-{n}")
                sent.append(s)
                n += 1
                try:
                    r = await c.post(
                        f"/v1/accounts/{account}/{kind}",
                        json={"asset": "USDC", "amount": amount},
                        headers={**headers, "Idempotency-Key": s.key},
                    )
                except httpx.HTTPError:
                    return  # the server is gone: this request's fate is unknown
                s.outcome = "ok" if r.status_code == 200 else "refused"
                if s.outcome == "refused":
                    raise AssertionError(f"{s}: {r.status_code} {r.text}")

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))


async def _load_then_kill(p: Proc, keys: dict[str, str], sent: list[Sent]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(_load(p.url, keys, sent, stop))
    deadline = time.monotonic() + 20
    # Kill once enough actions are acknowledged, with requests still in flight.
    while sum(s.outcome == "ok" for s in sent) < 80 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    p.proc.send_signal(signal.SIGKILL)
    p.proc.wait()
    stop.set()
    await task


def _journal_keys(db_url: str) -> Counter[str]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return Counter(e.idempotency_key for e in iter_journal(conn) if e.idempotency_key)
    finally:
        engine.dispose()


def _expected_usdc(records: list[Sent]) -> tuple[Decimal, Decimal]:
    supply = borrow = Decimal(0)
    for s in records:
        a = Decimal(s.amount)
        if s.kind == "deposit":
            supply += a
        elif s.kind == "withdraw":
            supply -= a
        elif s.kind == "borrow":
            borrow += a
        else:
            borrow -= a
    return supply, borrow


def test_acknowledged_actions_survive_sigkill_exactly_once(db_url: str, tmp_path: Path) -> None:
    first = _start(db_url, tmp_path, "first")
    engine = make_engine(db_url)
    try:
        keys = {
            f"crash{i}": create_api_key(engine, "account", f"crash{i}")[0] for i in range(CLIENTS)
        }
        sent: list[Sent] = []
        asyncio.run(_load_then_kill(first, keys, sent))
        first.log.close()
        acked = [s for s in sent if s.outcome == "ok"]
        unknown = [s for s in sent if s.outcome == "unknown"]
        assert len(acked) >= 80
        assert unknown, "the kill should catch requests in flight"

        # 1. After the crash, before any restart: every acknowledged action is in the
        #    journal exactly once; nothing else is there twice.
        journal = _journal_keys(db_url)
        assert all(journal[s.key] == 1 for s in acked)
        assert all(journal[s.key] <= 1 for s in unknown)
        assert set(journal) <= {s.key for s in sent}

        # 2. Restart: balances are exactly the journalled actions (nothing half-applied),
        #    and the replay agrees with the stored state.
        second = _start(db_url, tmp_path, "second")
        try:
            replay_database(engine)
            admin = create_api_key(engine, "admin", None)[0]
            landed = [s for s in sent if journal[s.key]]
            with httpx.Client(base_url=second.url, timeout=10.0) as c:
                for i in range(CLIENTS):
                    acc = c.get(
                        f"/v1/accounts/crash{i}", headers={"Authorization": f"Bearer {admin}"}
                    ).json()
                    supply, borrow = _expected_usdc([s for s in landed if s.account == f"crash{i}"])
                    assert Decimal(acc["supply"].get("USDC", "0")) == supply
                    assert Decimal(acc["borrow"].get("USDC", "0")) == borrow

                # 3. Retrying every unacknowledged request with its key applies it once.
                for s in unknown:
                    r = c.post(
                        f"/v1/accounts/{s.account}/{s.kind}",
                        json={"asset": "USDC", "amount": s.amount},
                        headers={
                            "Authorization": f"Bearer {keys[s.account]}",
                            "Idempotency-Key": s.key,
                        },
                    )
                    assert r.status_code == 200, r.text
                    assert (r.headers.get("idempotent-replayed") == "true") == bool(journal[s.key])
            journal = _journal_keys(db_url)
            assert all(journal[s.key] == 1 for s in sent)
            replay_database(engine)
        finally:
            _stop(second)
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
        engine.dispose()
