"""``make demo`` / ``xmargin demo``: the engine as a service, in under a minute.

It starts ``xmargin serve`` on the embedded SQLite default with the packaged demo market,
creates one key per role, has an admin set a price guard and a user open a position,
then replays a real price path (ETH around the crash of 2021-01-11, shipped inside the
package; BSD-3-Clause, (c) 2022 Risk-DAO, see ``xmargin/data/NOTICE-eth_crash.md``)
through ``POST /v1/prices`` while a liquidator works the queue. Risk events stream in
through ``/v1/events``; at the end it checks the journal with a replay, prints where to
look, and stops the server (``--keep-running`` leaves it up until Ctrl+C).

The path is replayed as relative moves from the market's own WETH price (the demo market
is priced in 2023; the path's first price is scaled to it), so the crash's shape, a 15%
fall in under an hour, is the real one. One deliberately bad tick is injected half-way
to show the oracle guard refusing it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from xmargin.data import data_path
from xmargin.mathlib import fmt, quantize_down
from xmargin.store import make_engine, replay_database
from xmargin.store.repositories import create_api_key

__all__ = ["main", "run_demo"]

DEADLINE_S = 90.0


def _say(text: str = "") -> None:
    print(text, flush=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _xmargin() -> list[str]:
    script = Path(sys.executable).with_name("xmargin")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from xmargin.cli.app import main; main()"]


def _price_path() -> list[tuple[str, Decimal]]:
    with data_path("eth_crash_2021-01-11.csv").open(newline="", encoding="utf-8") as f:
        return [(r["timestamp"], Decimal(r["price"])) for r in csv.DictReader(f)]


class _EventWatcher(threading.Thread):
    """Reads ``/v1/events`` and counts (and prints the notable) events."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.counts: Counter[str] = Counter()
        self.ready = threading.Event()
        self.client = httpx.Client(base_url=url, timeout=httpx.Timeout(5.0, read=None))

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        try:
            with self.client.stream("GET", "/v1/events", headers=headers) as r:
                kind = ""
                for line in r.iter_lines():
                    if line == ": connected":
                        self.ready.set()
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        self.counts[kind] += 1
                        self._show(kind, json.loads(line[6:]))
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass  # closed by close(), or the server went away
        finally:
            self.ready.set()

    def close(self) -> None:
        self.client.close()

    @staticmethod
    def _show(kind: str, d: dict[str, Any]) -> None:
        if kind == "risk_level" and d["to"] in ("liquidatable", "insolvent"):
            _say(
                f"    event risk_level   {d['account']:<20} {d['from']} -> {d['to']} "
                f"(health {d['health_factor']})"
            )
        elif kind == "price_rejected":
            _say(f"    event price_rejected {d['asset']} {d['price']}: {d['message']}")
        elif kind == "bad_debt":
            _say(f"    event bad_debt     {d['account']:<20} written off {d['assets']}")


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited at start; see its log above")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start in time")


def _liquidate_queue(c: httpx.Client, key: str, seq: int) -> list[dict[str, Any]]:
    """Liquidate every account in the queue once (a perp trader's largest position, else
    the largest debt against the largest collateral, as much as allowed); returns the
    liquidations done."""
    h = {"Authorization": f"Bearer {key}"}
    queue = c.get("/v1/liquidations/queue?limit=20", headers=h).json()["accounts"]
    done = []
    for q in queue:
        if q["perp"] is not None and q["debt_asset"] is None:
            done += _liquidate_perp(c, h, seq, q["account"], q["perp"])
            continue
        if q["debt_asset"] is None or q["collateral_asset"] is None:
            continue
        body = {
            "account": q["account"],
            "debt_asset": q["debt_asset"],
            "collateral_asset": q["collateral_asset"],
            "max": True,
        }
        r = c.post(
            "/v1/liquidations",
            json=body,
            headers={**h, "Idempotency-Key": f"demo-liq-{seq}-{q['account']}"},
        )
        if r.status_code == 200:
            d = r.json()
            done.append(d)
            _say(
                f"    liquidated {d['account']:<20} repaid {d['repaid']} {d['debt_asset']}, "
                f"seized {d['seized']} {d['collateral_asset']} "
                f"(health {_short(d['health_factor_before'])} -> "
                f"{_short(d['health_factor_after'])}){_losses(d)}"
            )
    return done


def _liquidate_perp(
    c: httpx.Client, h: dict[str, str], seq: int, account: str, perp: str
) -> list[dict[str, Any]]:
    """Close what the rules allow of ``account``'s position in ``perp`` (contract 5.4)."""
    r = c.post(
        "/v1/liquidations",
        json={"account": account, "perp": perp, "max": True},
        headers={**h, "Idempotency-Key": f"demo-liq-{seq}-{account}-{perp}"},
    )
    if r.status_code != 200:
        return []
    d = r.json()
    _say(
        f"    liquidated {d['account']:<20} closed {d['closed']} {d['perp']} at "
        f"{_short(d['price'])}, realized pnl {_short(d['realized_pnl'])} "
        f"(health {_short(d['health_factor_before'])} -> "
        f"{_short(d['health_factor_after'])}){_losses(d)}"
    )
    return [d]


def _losses(d: dict[str, Any]) -> str:
    """What a liquidation left unpaid: the insurance fund's part (5.5), then bad debt."""
    fund = d.get("insurance_fund_used") or {}
    out = ""
    if fund:
        out += ", insurance fund absorbed " + ", ".join(f"{v} {a}" for a, v in fund.items())
    if d["bad_debt"]:
        out += f", bad debt {d['bad_debt']}"
    return out


def _short(x: str | None) -> str:
    return "none" if x is None else fmt(quantize_down(Decimal(x), 3)) or "0"


def run_demo(folder: Path, port: int, keep_running: bool, temporary: bool = False) -> int:
    """Run the demo; returns an exit status."""
    started = time.monotonic()
    deadline = started + DEADLINE_S
    db_file = folder / "xmargin-demo.db"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    db_url = f"sqlite:///{db_file}"
    url = f"http://127.0.0.1:{port}"
    market = data_path("demo.toml")

    _say("== xmargin as a service: demo ==")
    _say(f"$ xmargin serve --market {market.name} --db {db_url} --port {port}")
    proc = subprocess.Popen(
        [*_xmargin(), "serve", "--market", str(market), "--db", db_url, "--port", str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_healthy(url, proc, deadline)
        engine = make_engine(db_url)
        try:
            keys = {
                role: create_api_key(engine, role, None)[0]
                for role in ("admin", "oracle", "liquidator")
            }
            keys["account"] = create_api_key(engine, "account", "demo-user")[0]
        finally:
            engine.dispose()
        _say("\n1. Keys, one per role (xmargin keys create --role ...; only hashes are stored):")
        for role, k in keys.items():
            who = " for account demo-user" if role == "account" else ""
            _say(f"   {role:<10} {k}{who}")
        auth = {role: {"Authorization": f"Bearer {k}"} for role, k in keys.items()}

        watcher = _EventWatcher(url, keys["admin"])
        watcher.start()
        watcher.ready.wait(10)

        with httpx.Client(base_url=url, timeout=10.0) as c:
            _say("\n2. Roles: the oracle may not change parameters; the admin may.")
            weth = next(
                a
                for a in c.get("/v1/assets", headers=auth["admin"]).json()["assets"]
                if a["asset"] == "WETH"
            )
            params = {**weth["params"], "max_price_deviation": "0.05"}
            r = c.put("/v1/assets/WETH", json=params, headers=auth["oracle"])
            _say(f"   PUT /v1/assets/WETH as oracle -> {r.status_code} {r.json()['error']['code']}")
            r = c.put("/v1/assets/WETH", json=params, headers=auth["admin"])
            _say(
                f"   PUT /v1/assets/WETH as admin  -> {r.status_code}: WETH may move at most "
                "5% per price update"
            )

            _say("\n3. A user opens a position (account key, Idempotency-Key):")
            for kind, asset, amount in (("deposit", "WETH", "10"), ("borrow", "USDC", "12500")):
                r = c.post(
                    f"/v1/accounts/demo-user/{kind}",
                    json={"asset": asset, "amount": amount},
                    headers={**auth["account"], "Idempotency-Key": f"demo-{kind}"},
                )
                acc = r.json()["account"]
                _say(
                    f"   {kind} {amount} {asset} -> {r.status_code}, health factor "
                    f"{_short(acc['health_factor'])}"
                )

            path = _price_path()
            p0 = Decimal(weth["price"])
            base = path[0][1]
            _say(
                f"\n4. Replaying {len(path)} minutes of ETH, {path[0][0]} to {path[-1][0]}, "
                f"scaled from {fmt(base)} to the market's {fmt(p0)} (oracle key):"
            )
            liquidations: list[dict[str, Any]] = []
            low = p0
            for i, (ts, raw) in enumerate(path):
                if time.monotonic() > deadline:
                    _say("   (time is up: stopping the replay early)")
                    break
                price = quantize_down(p0 * raw / base, 8)
                low = min(low, price)
                if i == len(path) // 2:
                    bad = quantize_down(price * Decimal("0.6"), 8)
                    _say(f"   {ts}  injecting a bad tick: WETH {fmt(bad)} (-40%)")
                    c.post("/v1/prices", json={"WETH": fmt(bad)}, headers=auth["oracle"])
                r = c.post(
                    "/v1/prices",
                    json={"WETH": fmt(price)},
                    headers={**auth["oracle"], "Idempotency-Key": f"demo-price-{i}"},
                )
                if i % 30 == 0:
                    _say(f"   {ts}  WETH {fmt(price)}")
                if r.status_code == 200 and i % 5 == 4:
                    liquidations += _liquidate_queue(c, keys["liquidator"], i)
            liquidations += _liquidate_queue(c, keys["liquidator"], len(path))
            time.sleep(0.5)

            summary = c.get("/v1/risk/summary", headers=auth["admin"]).json()
            _say("\n5. Where things stand (GET /v1/risk/summary):")
            _say(f"   WETH low {fmt(low)}; accounts by risk level: {summary['by_level']}")
            _say(
                f"   liquidations: {len(liquidations)}; bad debt written off: "
                f"{summary['deficit'] or 'none'}; journal at seq {summary['journal_seq']}"
            )
            counts = dict(sorted(watcher.counts.items()))
            _say(f"   events seen on /v1/events: {counts}")
        watcher.close()

        engine = make_engine(db_url)
        try:
            result = replay_database(engine)
        finally:
            engine.dispose()
        _say(f"\n6. $ xmargin replay --db {db_url}")
        _say(f"   replayed {result.entries} journal entries: the balances agree")

        if keep_running:
            _say(
                "\nWhere to look (admin key above); every request needs "
                "'Authorization: Bearer KEY':"
            )
        else:
            _say(
                "\nWhere to look, with `xmargin demo --keep-running` (this run stops its server"
                " now); every request needs 'Authorization: Bearer KEY':"
            )
        _say(f"   {url}/                     the live risk dashboard (paste a key above)")
        _say(f"   {url}/docs                 the API, live (OpenAPI)")
        _say(f"   curl -H 'Authorization: Bearer {keys['admin']}' {url}/v1/risk/summary")
        _say(f"   curl -N -H 'Authorization: Bearer {keys['admin']}' {url}/v1/events")
        _say(f"   curl -H 'Authorization: Bearer {keys['admin']}' '{url}/v1/journal?after=1'")
        _say(f"   {url}/metrics              Prometheus metrics")
        note = " (temporary: removed at exit; --dir DIR keeps it)" if temporary else ""
        _say(f"   database: {db_file}{note}")
        _say(f"   took {time.monotonic() - started:.1f} s")
        if keep_running:
            _say(f"\nThe server keeps running at {url}; press Ctrl+C to stop it.")
            with contextlib.suppress(KeyboardInterrupt):
                proc.wait()
        return 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xmargin demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="folder for the demo database (default: a new temporary one)",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the server running at the end, until Ctrl+C",
    )
    args = parser.parse_args(argv)
    port = args.port or _free_port()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        return run_demo(args.dir, port, args.keep_running)
    with tempfile.TemporaryDirectory(prefix="xmargin-demo-") as tmp:
        return run_demo(Path(tmp), port, args.keep_running, temporary=True)


if __name__ == "__main__":
    sys.exit(main())
