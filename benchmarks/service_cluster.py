"""Read throughput of ``xmargin serve --cluster`` with 1 and 2 processes (issue 12, 3).

Run ``.venv/bin/python benchmarks/service_cluster.py`` with ``XMARGIN_TEST_POSTGRES_URL``
set (or ``--pg URL``). In a fresh schema it starts one ``serve --cluster`` process (the
writer), opens ``--clients`` accounts, and runs ``wrk`` for ``--seconds`` on
``GET /v1/accounts/{id}`` (each request the next account of its thread, with that
account's key); then it starts a second process on the same port (a follower: the kernel
spreads connections over both) and runs the same load again. It prints reads/s, p50 and
p99 for each, the ratio, and how many responses each process served (its request
counter in ``/metrics``).

Loopback only, bounded in time; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text

from service import _free_port, _warm_up, _wrk, _xmargin  # type: ignore[import-not-found]
from xmargin.data import data_path
from xmargin.store import make_engine
from xmargin.store.repositories import create_api_key

READ_LUA = """
local ACCOUNTS = {%(accounts)s}
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
  n = n + 1
  return wrk.format("GET", "/v1/accounts/" .. a[1], {Authorization = "Bearer " .. a[2]})
end
"""


def _node(db: str, port: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [*_xmargin(), "serve", "--cluster", "--market", str(data_path("demo.toml")),
         "--db", db, "--port", str(port)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        m = re.search(r"cluster (\w+), private address (\S+)", log.read_text(errors="replace"))
        if m is not None:
            try:
                if httpx.get(f"{m.group(2)}/healthz", timeout=1).status_code == 200:
                    return proc, m.group(2)
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"a cluster process did not start; see {log}")


def _served(private: str) -> int:
    text_ = httpx.get(f"{private}/metrics", timeout=10).text
    pattern = (
        r'xmargin_http_requests_total\{method="GET",route="/v1/accounts/\{account_id\}",'
        r'status="200"\} ([\d.e+]+)'
    )
    return sum(int(float(x)) for x in re.findall(pattern, text_))


def _read_load(url: str, keys: list[tuple[str, str]], args: argparse.Namespace,
               folder: Path) -> dict[str, float]:  # fmt: skip
    threads = min(args.threads, len(keys))
    script = folder / "read.lua"
    accounts = ", ".join(f'{{"{a}", "{k}"}}' for a, k in keys)
    script.write_text(READ_LUA % {"accounts": accounts, "threads": threads})
    out = subprocess.run(
        [_wrk(), f"-t{threads}", f"-c{args.clients}", f"-d{args.seconds:g}s", "--latency",
         "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert rate and p50 and p99, out
    return {"rate": float(rate.group(1)), "p50": p50.group(1), "p99": p99.group(1),
            "non2xx": int(bad.group(1)) if bad else 0}  # type: ignore[dict-item]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--pg", default=os.environ.get("XMARGIN_TEST_POSTGRES_URL"))
    args = ap.parse_args()
    if not args.pg:
        raise SystemExit("needs PostgreSQL: set XMARGIN_TEST_POSTGRES_URL or give --pg URL")
    schema = f"xmcluster_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.pg else "?"
    db = f"{args.pg}{sep}options={quote(f'-csearch_path={schema}')}"
    procs: list[subprocess.Popen[bytes]] = []
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="xmargin-cluster-") as tmp:
            folder = Path(tmp)
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            writer, w_private = _node(db, port, folder / "a.log")
            procs.append(writer)
            engine = make_engine(db)
            keys = [
                (f"reader{i}", create_api_key(engine, "account", f"reader{i}")[0])
                for i in range(args.clients)
            ]
            engine.dispose()
            _warm_up(url, keys)
            privates = [w_private]
            for n in (1, 2):
                if n == 2:
                    follower, f_private = _node(db, port, folder / "b.log")
                    procs.append(follower)
                    privates.append(f_private)
                before = [_served(p) for p in privates]
                r = _read_load(url, keys, args, folder)
                served = [_served(p) - b for p, b in zip(privates, before, strict=True)]
                rows.append((n, r, served))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    load = os.getloadavg()[0]
    print(f"GET /v1/accounts/{{id}} under wrk: {args.clients} connections, {args.threads} "
          f"threads, {args.seconds:g} s each; PostgreSQL; {os.cpu_count()} CPUs, load "
          f"average {load:.2f} at the end")  # fmt: skip
    print("processes | reads/s | p50 | p99 | non-2xx | served by each | ratio to 1")
    base = rows[0][1]["rate"]
    for n, r, served in rows:
        print(f"{n} | {r['rate']:.1f} | {r['p50']} | {r['p99']} | {r['non2xx']} | "
              f"{' + '.join(str(s) for s in served)} | {r['rate'] / base:.2f}")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
