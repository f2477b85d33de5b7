"""Load benchmark of ``xmargin serve`` with ``wrk``, against a bare-FastAPI baseline.

Run ``.venv/bin/python benchmarks/service.py`` (SQLite; PostgreSQL too when
``XMARGIN_TEST_POSTGRES_URL`` is set or ``--pg URL`` is given). For each database it:

1. starts the real server (``xmargin serve``, a subprocess) on 127.0.0.1 with the packaged
   demo market, in a temporary folder (SQLite) or a fresh schema (PostgreSQL), and opens
   ``--clients`` accounts, one API key each (a deposit and a borrow, so every later
   action is allowed whatever order the connections deliver them in);
2. runs ``wrk`` (installed with apt-get when missing: a C load generator, so the client
   costs little of the 2 CPUs the server also runs on) with ``--clients`` connections for
   ``--seconds``: each request is the next of deposit / borrow / repay / withdraw of USDC
   for the next account of its wrk thread, with a unique Idempotency-Key;
3. reports accepted actions/s (2xx), p50 / p99 latency (wrk's, over every request), and
   checks the acknowledged actions against the journal: ``lost`` (wrk saw more 2xx than
   the journal holds keys) and ``duplicated`` (a key journalled twice) must be 0; the
   replay must agree with the stored balances;
4. runs the same wrk script against the baseline (``benchmarks/baseline_app.py``: bare
   FastAPI, the same body parsing, one row appended per action by a batch-committing
   writer) on the same database kind, and prints xmargin's ratio to it.

Loopback only, bounded in time and count; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


WRK_LUA = """
local ACCOUNTS = {%(accounts)s}
local KINDS = {"deposit", "borrow", "repay", "withdraw"}
local AMOUNTS = {"10", "3", "1", "2"}
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  mine = {}
  for i, a in ipairs(ACCOUNTS) do
    if (i - 1) %% %(threads)d == tid then table.insert(mine, a) end
  end
  n = 0
end
function request()
  local a = mine[(n %% #mine) + 1]
  local step = math.floor(n / #mine) %% 4 + 1
  n = n + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. a[2]
  headers["Idempotency-Key"] = "%(prefix)s-" .. tid .. "-" .. n
  headers["Content-Type"] = "application/json"
  local body = '{"asset":"USDC","amount":"' .. AMOUNTS[step] .. '"}'
  return wrk.format("POST", "/v1/accounts/" .. a[1] .. "/" .. KINDS[step], headers, body)
end
"""


def _wrk() -> str:
    """The ``wrk`` binary; installed with apt-get when missing (the benchmark's only
    load generator: written in C, it costs the server little of the machine's CPUs)."""
    found = shutil.which("wrk")
    if found is None:
        print("wrk is missing: installing it with apt-get", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk could not be installed; install it (apt-get install wrk)")
    return found


def _duration_ms(text_: str) -> float:
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text_.strip())
    if m is None:
        raise ValueError(f"wrk printed a latency of {text_!r}")
    return float(m.group(1)) * units[m.group(2)]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, keys: list[tuple[str, str]], args: argparse.Namespace, prefix: str,
            folder: Path, pid: int) -> dict[str, float]:  # fmt: skip
    """One wrk run; requests, 2xx, p50 / p99 (ms) and seconds, as wrk printed them, and
    the server's CPU seconds meanwhile (``cpu``: less sensitive to other jobs' load than
    the rate)."""
    cpu0 = _cpu_seconds(pid)
    threads = min(args.threads, len(keys))
    accounts = ", ".join(f'{{"{a}", "{k}"}}' for a, k in keys)
    script = folder / f"{prefix}.lua"
    script.write_text(WRK_LUA % {"accounts": accounts, "threads": threads, "prefix": prefix})
    out = subprocess.run(
        [_wrk(), f"-t{threads}", f"-c{args.clients}", f"-d{args.seconds:g}s", "--latency",
         "--timeout", "10s", "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if total is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    requests = int(total.group(1))
    seconds = _duration_ms(total.group(2) + total.group(3)) / 1000
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    assert p50 is not None and p99 is not None, out
    failed = int(bad.group(1)) if bad else 0
    failed += sum(int(x) for x in errors.groups()) if errors else 0
    return {
        "cpu": _cpu_seconds(pid) - cpu0,
        "requests": requests,
        "ok": requests - failed,
        "seconds": seconds,
        "p50": _duration_ms(p50.group(1)),
        "p99": _duration_ms(p99.group(1)),
    }


def _warm_up(url: str, keys: list[tuple[str, str]]) -> None:
    """Open every account: enough USDC supplied and borrowed that any order of the
    benchmark's deposit / borrow / repay / withdraw is allowed."""
    with httpx.Client(base_url=url, timeout=30.0) as c:
        for account, key in keys:
            for kind, amount in (("deposit", "100000"), ("borrow", "100")):
                r = c.post(f"/v1/accounts/{account}/{kind}",
                           json={"asset": "USDC", "amount": amount},
                           headers={"Authorization": f"Bearer {key}",
                                    "Idempotency-Key": f"warm-{account}-{kind}"})  # fmt: skip
                if r.status_code != 200:
                    raise SystemExit(f"warm-up {kind} of {account}: {r.status_code} {r.text}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def run(name: str, db_url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    proc, url = _start(db_url, folder / f"{name}.log", args.sqlite_synchronous)
    engine = make_engine(db_url)
    try:
        keys = [
            (f"bench{i}", create_api_key(engine, "account", f"bench{i}")[0])
            for i in range(args.clients)
        ]
        _warm_up(url, keys)
        w = run_wrk(url, keys, args, "wrk", folder, proc.pid)
        with engine.connect() as conn:
            journal = Counter(
                e.idempotency_key
                for e in iter_journal(conn)
                if e.idempotency_key and e.idempotency_key.startswith("wrk-")
            )
        lost = max(0, int(w["ok"]) - len(journal))
        duplicated = sum(1 for n in journal.values() if n > 1)
        replay = replay_database(engine)
    finally:
        engine.dispose()
        _stop(proc)
    base = run_baseline(name, db_url.replace("bench.db", "baseline.db"), keys, args, folder)
    rate = w["ok"] / w["seconds"]
    return {
        "database": name,
        "clients": args.clients,
        "seconds": round(w["seconds"], 2),
        "accepted": int(w["ok"]),
        "other": int(w["requests"] - w["ok"]),
        "actions/s": round(rate, 1),
        "p50 ms": round(w["p50"], 2),
        "p99 ms": round(w["p99"], 2),
        "baseline/s": round(base["ok"] / base["seconds"], 1),
        "base p99 ms": round(base["p99"], 2),
        "ratio": round(rate / (base["ok"] / base["seconds"]), 2),
        "CPU ms/action": round(1000 * w["cpu"] / max(1, w["requests"]), 3),
        "base CPU ms": round(1000 * base["cpu"] / max(1, base["requests"]), 3),
        "lost": lost,
        "duplicated": duplicated,
        "replay": f"agrees ({replay.entries} entries)",
    }


def run_baseline(name: str, db_url: str, keys: list[tuple[str, str]],
                 args: argparse.Namespace, folder: Path) -> dict[str, float]:  # fmt: skip
    """The same wrk script against ``benchmarks/baseline_app.py`` on ``db_url``."""
    port = _free_port()
    log = folder / f"{name}-baseline.log"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "baseline_app.py"), db_url, str(port),
         args.sqlite_synchronous],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the baseline did not start; see {log}") from None
                time.sleep(0.1)
        return run_wrk(url, keys, args, "base", folder, proc.pid)
    finally:
        _stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=32, help="wrk connections")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--seconds", type=float, default=10.0)
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
    load = os.getloadavg()[0]
    print(f"xmargin serve under wrk: {args.clients} connections, {args.threads} threads, "
          f"{args.seconds:g} s; baseline: bare FastAPI + batch writer, same run; "
          f"SQLite synchronous={args.sqlite_synchronous}; {os.cpu_count()} CPUs, "
          f"load average {load:.2f} at the end")  # fmt: skip
    cols = list(rows[0]) if rows else []
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r[c]) for c in cols))


if __name__ == "__main__":
    main()
