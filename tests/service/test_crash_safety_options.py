"""Crash safety of the option endpoints (issue 14): the real ``xmargin serve`` is driven by
concurrent clients (option traders, a liquidator closing naked short calls), killed with
SIGKILL mid-load and restarted on the same database. Every acknowledged action is
journalled exactly once, nothing unacknowledged is half-applied, a retry with its
Idempotency-Key applies an action at most once, the stored positions are the landed
trades, and ``xmargin replay`` agrees before and after the retries.

The load and its checks are those of tests/service/test_crash_safety_designs.py.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx

from tests.service.test_crash_safety import _start, _stop
from tests.service.test_crash_safety_designs import (
    HEAD,
    Step,
    crash_under_load,
    retry_unknown,
)
from xmargin.store import make_engine, replay_database
from xmargin.store.market_store import load_state

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
        crash = crash_under_load(first, engine, lanes, {"trade", "deposit", "options"})
        second = _start(db_url, tmp_path, "second", None)
        try:
            replay_database(engine)
            with httpx.Client(base_url=second.url, timeout=10.0) as c:
                after = retry_unknown(c, engine, crash)
            # The stored positions are the landed trades.
            with engine.connect() as conn:
                stored = load_state(conn).market
            for i in range(TRADERS):
                size = sum(
                    (Decimal(s.step.body["size"]) for s in crash.sent
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
