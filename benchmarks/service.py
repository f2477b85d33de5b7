"""Load benchmark of ``xmargin serve``: concurrent httpx clients on loopback, fixed time.

Run ``.venv/bin/python benchmarks/service.py`` (SQLite; PostgreSQL too when
``XMARGIN_TEST_POSTGRES_URL`` is set or ``--pg URL`` is given). For each database it:

1. starts the real server (``xmargin serve``, a subprocess) on 127.0.0.1 with the packaged
   demo market, in a temporary folder (SQLite) or a fresh schema (PostgreSQL);
2. runs ``--clients`` concurrent clients (httpx, a thread each, in ``--procs`` processes) for
   ``--seconds``; each client owns one account and repeats deposit / borrow / repay /
   withdraw of USDC (each always allowed), every request with a unique Idempotency-Key;
3. reports accepted actions per second, p50 / p99 latency (client side, ``perf_counter``),
   and checks every acknowledged action against the journal: ``lost`` (acknowledged but
   not journalled) and ``duplicated`` (journalled more than once) must be 0; the replay
   must agree with the stored balances.

Loopback only, bounded in time and count; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text

from xmargin.data import data_path
from xmargin.store import make_engine, replay_database
from xmargin.store.repositories import create_api_key, iter_journal

ROOT = Path(__file__).resolve().parents[1]
CYCLE = [("deposit", "10"), ("borrow", "3"), ("repay", "1"), ("withdraw", "2")]


def _xmargin() -> list[str]:
    script = Path(sys.executable).with_name("xmargin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xmargin.cli.app"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(db_url: str, log: Path, sync: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [*_xmargin(), "serve", "--market", str(data_path("demo.toml")), "--db", db_url,
         "--port", str(port), "--sqlite-synchronous", sync],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start; see {log}")


def _clients(url: str, keys: list[tuple[str, str]], seconds: float) -> list[tuple[str, int, float]]:
    """One thread per (account, key), each with its own ``httpx.Client``, until time is
    up; (idempotency key, status, latency seconds) of every request.

    Synchronous clients in threads: httpx's AsyncClient costs several times more CPU per
    request at this concurrency, and on a 2-core machine the client's CPU is the
    server's too.
    """
    out: list[tuple[str, int, float]] = []
    stop = time.perf_counter() + seconds

    def one(account: str, key: str) -> None:
        h = {"Authorization": f"Bearer {key}"}
        n = 0
        mine: list[tuple[str, int, float]] = []
        with httpx.Client(base_url=url, timeout=10.0) as c:
            while time.perf_counter() < stop and n < 1_000_000:
                kind, amount = CYCLE[n % len(CYCLE)]
                n += 1
                ik = f"{account}-{uuid.uuid4().hex}"
                t0 = time.perf_counter()
                try:
                    r = c.post(
                        f"/v1/accounts/{account}/{kind}",
                        json={"asset": "USDC", "amount": amount},
                        headers={**h, "Idempotency-Key": ik},
                    )
                    status = r.status_code
                except httpx.HTTPError:
                    status = 0
                mine.append((ik, status, time.perf_counter() - t0))
        out.extend(mine)

    threads = [threading.Thread(target=one, args=k) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _proc_main(url: str, keys: list[tuple[str, str]], seconds: float, q: Any) -> None:
    q.put(_clients(url, keys, seconds))


def _pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def run(name: str, db_url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    proc, url = _start(db_url, folder / f"{name}.log", args.sqlite_synchronous)
    engine = make_engine(db_url)
    try:
        keys = [
            (f"bench{i}", create_api_key(engine, "account", f"bench{i}")[0])
            for i in range(args.clients)
        ]
        # Warm-up: open each account (a deposit) before timing.
        _clients(url, keys, 0.5)
        groups = [keys[i :: args.procs] for i in range(args.procs)]
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        t0 = time.perf_counter()
        procs = [ctx.Process(target=_proc_main, args=(url, g, args.seconds, q)) for g in groups]
        for p in procs:
            p.start()
        results: list[tuple[str, int, float]] = []
        for _ in procs:
            results += q.get(timeout=args.seconds + 120)
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - t0
        ok = [r for r in results if r[1] == 200]
        lat = sorted(r[2] for r in ok)
        with engine.connect() as conn:
            journal = Counter(e.idempotency_key for e in iter_journal(conn) if e.idempotency_key)
        lost = sum(1 for r in ok if journal[r[0]] == 0)
        duplicated = sum(1 for k, n in journal.items() if n > 1)
        replay = replay_database(engine)
        return {
            "database": name,
            "clients": args.clients,
            "seconds": round(elapsed, 2),
            "accepted": len(ok),
            "other": len(results) - len(ok),
            "actions/s": round(len(ok) / args.seconds, 1),
            "p50 ms": round(1000 * _pct(lat, 0.50), 2),
            "p99 ms": round(1000 * _pct(lat, 0.99), 2),
            "lost": lost,
            "duplicated": duplicated,
            "replay": f"agrees ({replay.entries} entries)",
        }
    finally:
        engine.dispose()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--procs", type=int, default=4, help="client processes (threads in each)")
    ap.add_argument("--sqlite-synchronous", default="FULL", choices=["FULL", "NORMAL"])
    ap.add_argument("--pg", default=os.environ.get("XMARGIN_TEST_POSTGRES_URL"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="xmargin-bench-") as tmp:
        folder = Path(tmp)
        if args.only in (None, "sqlite"):
            rows.append(run("sqlite", f"sqlite:///{folder / 'bench.db'}", args, folder))
        if args.pg and args.only in (None, "postgresql"):
            schema = f"xmbench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                sep = "&" if "?" in args.pg else "?"
                url = f"{args.pg}{sep}options={quote(f'-csearch_path={schema}')}"
                rows.append(run("postgresql", url, args, folder))
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    print(f"xmargin serve under load: {args.clients} httpx clients in {args.procs} process(es), "
          f"{args.seconds:g} s each, loopback; SQLite synchronous={args.sqlite_synchronous}; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    cols = list(rows[0]) if rows else []
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r[c]) for c in cols))


if __name__ == "__main__":
    main()
