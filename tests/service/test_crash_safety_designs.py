"""Crash safety of the perp and liquidation-design endpoints (issues 10 and 15): the real
``xmargin serve`` is driven by concurrent clients (traders, an oracle setting funding,
liquidators and keepers, governance spreading losses), killed with SIGKILL mid-load and
restarted on the same database. Every acknowledged action is journalled exactly once,
nothing unacknowledged is half-applied, a retry with its Idempotency-Key applies an action
at most once, and ``xmargin replay`` agrees before and after the retries.

One market per design, generated here: perps with the loss waterfall (trade, settle,
funding, perp liquidations, deleverage, socialize), Dutch auctions (start through both
endpoints, take, reset), and the storefront (absorb through both endpoints, buy).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.test_crash_safety import Proc, _start, _stop
from xmargin.store import make_engine, replay_database
from xmargin.store.repositories import create_api_key, iter_journal

HEAD = """\
[assets.WETH]
price = 2000
collateral_factor = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.05

[assets.USDC]
price = 1
decimals = 6
collateral_factor = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.04
"""
TRADERS, SUNK, SPOT = 6, 12, 24


def perps_market() -> str:
    out = ['[market]\nquote = "USD"\n', HEAD]
    out.append(
        '[perps.ETH-PERP]\nunderlying = "WETH"\nsettlement_asset = "USDC"\n'
        "initial_margin = 0.1\nmaintenance_margin = 0.05\nliquidation_fee = 0.01\n"
        "insurance_fee = 0.005\n"
    )
    for i in range(TRADERS):
        out.append(f"[accounts.t{i}]\nsupply = {{ USDC = 100000 }}\n")
    for i in range(SUNK):  # long 2 @ 2200 on 300 USDC: pnl -400, bankrupt, liquidatable
        out.append(
            f"[accounts.s{i}]\nsupply = {{ USDC = 300 }}\n"
            "perps = { ETH-PERP = { size = 2, entry_price = 2200 } }\n"
        )
    for i in range(4):  # shorts in profit: the deleverage's counterparties
        out.append(
            f"[accounts.p{i}]\nsupply = {{ USDC = 50000 }}\n"
            "perps = { ETH-PERP = { size = -10, entry_price = 2300 } }\n"
        )
    return "\n".join(out)


def spot_market(design: str) -> str:
    table = {
        "auction": 'liquidation = "auction"\ninsurance_fund = { USDC = 1000 }\n\n'
        "[market.auction]\nbuf = 1.2\ntip = 1\nchip = 0.001\ntail = 1\n",
        "storefront": 'liquidation = "storefront"\n\n[market.storefront]\nbase = "USDC"\n'
        "target_reserves = 100000000\nliquidation_factor = { WETH = 0.93 }\n",
    }[design]
    out = [f'[market]\nquote = "USD"\n{table}', HEAD]
    for i in range(SPOT):  # 1 WETH (maintenance 1700) against 1800 USDC
        out.append(f"[accounts.a{i}]\nsupply = {{ WETH = 1 }}\nborrow = {{ USDC = 1800 }}\n")
    return "\n".join(out)


Ctx = dict[str, Any]
#: The endpoints (last path segment) each market's load must have had accepted.
EXERCISED = {
    "perps": {"trade", "settle", "deposit", "funding", "liquidations", "deleverage"},
    "auction": {"auctions", "liquidations", "take", "reset"},
    "storefront": {"absorb", "liquidations", "buy-collateral"},
}


@dataclass
class Step:
    method: str
    path: str | Callable[[Ctx], str]
    body: Any
    who: tuple[str, str | None]
    #: a rule may refuse it (409) in some interleavings; else it must succeed
    refusable: bool = False
    #: keep something of the answer for the lane's next steps
    keep: Callable[[Ctx, dict[str, Any]], None] | None = None
    #: seconds the client waits before sending it
    pause: float = 0.0


@dataclass
class Sent:
    lane: int
    key: str
    step: Step
    path: str
    outcome: str = "unknown"  # "ok" (200), "refused" (409), "unknown" (no answer)
    body: dict[str, Any] = field(default_factory=dict)


def _auction_id(ctx: Ctx, answer: dict[str, Any]) -> None:
    ctx["id"] = answer["auction"]["id"]


def _lanes(kind: str) -> list[list[Step]]:
    """Each client's sequence of requests."""
    if kind == "perps":
        lanes = []
        for i in range(TRADERS):
            me = ("account", f"t{i}")
            cycle = [
                Step("POST", f"/v1/accounts/t{i}/trade", {"perp": "ETH-PERP", "size": "0.1"}, me),
                Step("POST", f"/v1/accounts/t{i}/trade", {"perp": "ETH-PERP", "size": "-0.04"}, me),
                Step("POST", f"/v1/accounts/t{i}/settle", {"perp": "ETH-PERP"}, me),
                Step("POST", f"/v1/accounts/t{i}/deposit", {"asset": "USDC", "amount": "5"}, me),
            ]
            lanes.append(cycle * 25)
        lanes.append(
            [
                Step(
                    "POST",
                    "/v1/perps/ETH-PERP/funding",
                    {"funding_index": f"{n / 100}"},
                    ("oracle", None),
                )
                for n in range(1, 80)
            ]
        )
        liq = ("liquidator", None)
        lanes.append(
            [
                Step(
                    "POST",
                    "/v1/liquidations",
                    {"account": f"s{j}", "perp": "ETH-PERP", "max": True},
                    liq,
                    True,
                )
                for j in range(SUNK)
            ]
        )
        admin = ("admin", None)
        waterfall = []
        for j in reversed(range(SUNK)):
            waterfall.append(
                Step(
                    "POST", "/v1/deleverage", {"account": f"s{j}", "perp": "ETH-PERP"}, admin, True
                )
            )
            waterfall.append(
                Step("POST", "/v1/socialize", {"perp": "ETH-PERP", "amount": "0.5"}, admin, True)
            )
        lanes.append(waterfall)
        return lanes
    liq = ("liquidator", None)
    per_lane = 4
    lanes = []
    for lane in range(SPOT // per_lane):
        steps: list[Step] = []
        for j in range(lane * per_lane, (lane + 1) * per_lane):
            spot = {
                "account": f"a{j}",
                "debt_asset": "USDC",
                "collateral_asset": "WETH",
                "max": True,
            }
            start_path = "/v1/liquidations" if j % 2 else "/v1/auctions"
            if kind == "auction":

                def take(ctx: Ctx) -> str:
                    return f"/v1/auctions/{ctx['id']}/take"

                def reset(ctx: Ctx) -> str:
                    return f"/v1/auctions/{ctx['id']}/reset"

                # The lane's first auction waits past tail (1 s): its reset is accepted.
                wait = 1.1 if j % per_lane == 0 else 0.0
                steps += [
                    Step("POST", start_path, spot, liq, keep=_auction_id),
                    Step("POST", take, {"amount": "0.25"}, liq, True),
                    Step("POST", reset, None, liq, True, pause=wait),
                    Step("POST", take, {"max": True}, liq, True),
                ]
            else:
                absorb_body = spot if j % 2 else {"account": f"a{j}"}
                absorb_path = "/v1/liquidations" if j % 2 else "/v1/absorb"
                buy = Step(
                    "POST", "/v1/buy-collateral", {"asset": "WETH", "amount": "60"}, liq, True
                )
                steps += [Step("POST", absorb_path, absorb_body, liq), buy, buy, buy, buy]
        lanes.append(steps)
    return lanes


async def _send(c: httpx.AsyncClient, s: Sent, headers: dict[str, str]) -> httpx.Response:
    return await c.request(
        s.step.method,
        s.path,
        json=s.step.body,
        headers={**headers, "Idempotency-Key": s.key},
    )


async def _load(
    url: str, lanes: list[list[Step]], keys: dict[tuple[str, str | None], str], sent: list[Sent]
) -> None:
    async def lane(i: int, steps: list[Step]) -> None:
        ctx: Ctx = {}
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as c:
            for n, step in enumerate(steps):
                path = step.path if isinstance(step.path, str) else step.path(ctx)
                if step.pause:
                    await asyncio.sleep(step.pause)
                s = Sent(i, f"lane{i}-{n}", step, path)
                sent.append(s)
                try:
                    r = await _send(c, s, {"Authorization": f"Bearer {keys[step.who]}"})
                except httpx.HTTPError:
                    return  # the server is gone: this request's fate is unknown
                if r.status_code == 200:
                    s.outcome, s.body = "ok", r.json()
                    if step.keep is not None:
                        step.keep(ctx, s.body)
                elif r.status_code == 409 and step.refusable:
                    s.outcome = "refused"
                else:
                    raise AssertionError(f"{s.path} {step.body}: {r.status_code} {r.text}")

    await asyncio.gather(*(lane(i, steps) for i, steps in enumerate(lanes)))


async def _load_then_kill(p: Proc, lanes: list[list[Step]], keys: Any, sent: list[Sent]) -> None:
    task = asyncio.create_task(_load(p.url, lanes, keys, sent))
    deadline = time.monotonic() + 20
    # Kill once enough actions are answered, with requests still in flight.
    while sum(s.outcome != "unknown" for s in sent) < 60 and time.monotonic() < deadline:
        if task.done():
            break
        await asyncio.sleep(0.02)
    p.proc.send_signal(signal.SIGKILL)
    p.proc.wait()
    await task


def _journal_keys(engine: Any) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(e.idempotency_key for e in iter_journal(conn) if e.idempotency_key)


@dataclass
class Crash:
    """What a load killed mid-way left: the keys, every request sent, and the journal."""

    keys: dict[tuple[str, str | None], str]
    sent: list[Sent]
    acked: list[Sent]
    unknown: list[Sent]
    journal: Counter[str]


def crash_under_load(
    first: Proc, engine: Any, lanes: list[list[Step]], exercised: set[str]
) -> Crash:
    """Drive ``first`` with ``lanes`` until it is killed; then every endpoint in
    ``exercised`` was acknowledged, every acknowledged action is journalled exactly once,
    a refused one not at all, and nothing else twice."""
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
    assert done >= exercised, exercised - done
    journal = _journal_keys(engine)
    assert all(journal[s.key] == 1 for s in acked)
    assert all(journal[s.key] == 0 for s in sent if s.outcome == "refused")
    assert all(journal[s.key] <= 1 for s in unknown)
    assert set(journal) <= {s.key for s in sent}
    return Crash(keys, sent, acked, unknown, journal)


def retry_unknown(c: httpx.Client, engine: Any, crash: Crash) -> Counter[str]:
    """Retry every unanswered request with its key: each is applied at most once (a
    journalled one answers its first result); the journal after the retries."""
    journal = crash.journal
    for s in crash.unknown:
        r = c.request(
            s.step.method,
            s.path,
            json=s.step.body,
            headers={
                "Authorization": f"Bearer {crash.keys[s.step.who]}",
                "Idempotency-Key": s.key,
            },
        )
        # 404: its target never committed (an auction kicked by a request that was itself
        # in flight at the kill); then it was not journalled.
        gone = r.status_code == 404 and "unknown_auction" in r.text
        assert r.status_code in (200, 409) or (gone and not journal[s.key]), (s.path, r.text)
        if journal[s.key]:
            assert r.status_code == 200
            assert r.headers.get("idempotent-replayed") == "true"
        if r.status_code == 409:
            assert s.step.refusable, (s.path, r.text)
    after = _journal_keys(engine)
    assert all(n == 1 for n in after.values())
    assert all(after[s.key] == 1 for s in crash.acked)
    return after


def _check_perps(engine: Any, c: httpx.Client, admin: str, sent: list[Sent]) -> None:
    """Positions are the landed trades, and the funding index the last landed one."""
    landed = _journal_keys(engine)
    h = {"Authorization": f"Bearer {admin}"}
    for i in range(TRADERS):
        size = sum(
            (Decimal(s.step.body["size"]) for s in sent
             if landed[s.key] and s.path == f"/v1/accounts/t{i}/trade"),
            Decimal(0),
        )  # fmt: skip
        got = c.get(f"/v1/accounts/t{i}", headers=h).json()["perps"]
        assert Decimal(got["ETH-PERP"]["size"] if got else "0") == size, (i, got)
    funding = [s for s in sent if landed[s.key] and s.path.endswith("/funding")]
    index = c.get("/v1/perps", headers=h).json()["perps"][0]["funding_index"]
    assert Decimal(index) == Decimal(funding[-1].step.body["funding_index"])


@pytest.mark.parametrize("kind", ["perps", "auction", "storefront"])
def test_acknowledged_design_actions_survive_sigkill_exactly_once(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    market = tmp_path / f"{kind}.toml"
    market.write_text(perps_market() if kind == "perps" else spot_market(kind), encoding="utf-8")
    lanes = _lanes(kind)
    first = _start(db_url, tmp_path, "first", market)
    engine = make_engine(db_url)
    try:
        # 1. After the crash: every acknowledged action is journalled exactly once; a
        #    refused one not at all; nothing else twice.
        crash = crash_under_load(first, engine, lanes, EXERCISED[kind])
        # 2. Restart: the replay agrees; 3. every unanswered request, retried with its
        #    key, is applied at most once (a journalled one answers its first result).
        second = _start(db_url, tmp_path, "second", None)
        try:
            replay_database(engine)
            admin = create_api_key(engine, "admin", None)[0]
            with httpx.Client(base_url=second.url, timeout=10.0) as c:
                retry_unknown(c, engine, crash)
                if kind == "perps":
                    _check_perps(engine, c, admin, crash.sent)
            replay_database(engine)
        finally:
            _stop(second)
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
        engine.dispose()
