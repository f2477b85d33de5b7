"""Crash safety of the option endpoints (issue 14): the real ``xmargin serve`` is driven by
concurrent clients (option traders, a liquidator closing naked short calls), killed with
SIGKILL mid-load and restarted on the same database. Every acknowledged action is
journalled exactly once, nothing unacknowledged is half-applied, a retry with its
Idempotency-Key applies an action at most once, the stored positions are the landed
trades, and ``xmargin replay`` agrees before and after the retries.

The load and its checks are those of tests/service/test_crash_safety_designs.py.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx

from tests.service.test_crash_safety import _start, _stop
from tests.service.test_crash_safety_designs import (
    HEAD,
    Sent,
    Step,
    _journal_keys,
    _load_then_kill,
)
from xmargin.store import make_engine, replay_database
from xmargin.store.market_store import load_state
from xmargin.store.repositories import create_api_key

TRADERS, SUNK = 6, 12
CALL = "ETH-20240628-2200-C"


def options_market() -> str:
    out = ['[market]\nquote = "USD"\ntime = "2024-06-01T08:00:00Z"\n', HEAD]
    out.append(
        f'[options.{CALL}]\nunderlying = "WETH"\nsettlement_asset = "USDC"\nkind = "call"\n'
        'strike = 2200\nexpiry = "2024-06-28T08:00:00Z"\nvolatility = 0.6\n'
        "liquidation_fee = 0.01\n"
    )
    for i in range(TRADERS):
        margin = 'margin = "portfolio"\n' if i % 2 else ""
        out.append(f"[accounts.t{i}]\n{margin}supply = {{ USDC = 100000 }}\n")
    for i in range(SUNK):  # five naked short calls on 1000 USDC: liquidatable
        out.append(f"[accounts.s{i}]\nsupply = {{ USDC = 1000 }}\noptions = {{ {CALL} = -5 }}\n")
    return "\n".join(out)


def _lanes() -> list[list[Step]]:
    lanes = []
    for i in range(TRADERS):
        me = ("account", f"t{i}")
        path = f"/v1/accounts/t{i}/trade"
        cycle = [
            Step("POST", path, {"option": CALL, "size": "0.1"}, me),
            Step("POST", path, {"option": CALL, "size": "-0.04"}, me),
            Step("POST", f"/v1/accounts/t{i}/deposit", {"asset": "USDC", "amount": "5"}, me),
        ]
        lanes.append(cycle * 30)
    liq = ("liquidator", None)
    lanes.append(
        [
            Step("POST", "/v1/liquidations/options", {"account": f"s{j}"}, liq, True)
            for j in range(SUNK)
        ]
    )
    return lanes


def test_acknowledged_option_actions_survive_sigkill_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    market = tmp_path / "options.toml"
    market.write_text(options_market(), encoding="utf-8")
    lanes = _lanes()
    first = _start(db_url, tmp_path, "first", market)
    engine = make_engine(db_url)
    try:
        who = {step.who for steps in lanes for step in steps}
        keys = {w: create_api_key(engine, w[0], w[1])[0] for w in who}  # type: ignore[arg-type]
        sent: list[Sent] = []
        asyncio.run(_load_then_kill(first, lanes, keys, sent))
        first.log.close()
        acked = [s for s in sent if s.outcome == "ok"]
        unknown = [s for s in sent if s.outcome == "unknown"]
        assert len(acked) >= 30
        assert unknown, "the kill should catch requests in flight"
        done = {s.path.rsplit("/", 1)[-1] for s in acked}
        assert done >= {"trade", "deposit", "options"}, done

        journal = _journal_keys(engine)
        assert all(journal[s.key] == 1 for s in acked)
        assert all(journal[s.key] == 0 for s in sent if s.outcome == "refused")
        assert all(journal[s.key] <= 1 for s in unknown)
        assert set(journal) <= {s.key for s in sent}

        second = _start(db_url, tmp_path, "second", None)
        try:
            replay_database(engine)
            with httpx.Client(base_url=second.url, timeout=10.0) as c:
                for s in unknown:
                    r = c.request(
                        s.step.method,
                        s.path,
                        json=s.step.body,
                        headers={
                            "Authorization": f"Bearer {keys[s.step.who]}",
                            "Idempotency-Key": s.key,
                        },
                    )
                    assert r.status_code in (200, 409), (s.path, r.text)
                    if journal[s.key]:
                        assert r.status_code == 200
                        assert r.headers.get("idempotent-replayed") == "true"
                    if r.status_code == 409:
                        assert s.step.refusable, (s.path, r.text)
            after = _journal_keys(engine)
            assert all(n == 1 for n in after.values())
            assert all(after[s.key] == 1 for s in acked)
            # The stored positions are the landed trades.
            with engine.connect() as conn:
                stored = load_state(conn).market
            for i in range(TRADERS):
                size = sum(
                    (Decimal(s.step.body["size"]) for s in sent
                     if after[s.key] and s.path == f"/v1/accounts/t{i}/trade"),
                    Decimal(0),
                )  # fmt: skip
                assert stored.accounts[f"t{i}"].option_size(CALL) == size, i
            replay_database(engine)
        finally:
            _stop(second)
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
        engine.dispose()
