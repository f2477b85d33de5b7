"""Benchmark of the exact (Decimal) core: one account's health, and the CLI on 10k accounts.

Run with ``make bench`` or ``.venv/bin/python benchmarks/core.py [--accounts N]``. Prints a
table of figures measured in this run; asserts nothing about time.

1. ``account_health`` of one account holding 20 assets (12 supplied, 8 borrowed) in a
   20-asset market built here: microseconds per call, median of many timed batches,
   clock ``time.perf_counter_ns``.
2. ``xmargin health FILE --json > /dev/null`` end to end (process start, loading the
   market and its Parquet positions, every account's figures, JSON out) on a book of
   10,000 accounts written by ``xmargin.book.generate.generate_book``: seconds, best and
   median of a few runs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import xmargin
from xmargin.book.generate import generate_book

ROOT = Path(__file__).resolve().parents[1]
XMARGIN = ROOT / ".venv" / "bin" / "xmargin"


def twenty_asset_market() -> xmargin.Market:
    """A 20-asset market and one account ``whale`` holding all of them."""
    assets: dict[str, dict[str, object]] = {}
    for i in range(20):
        cf = Decimal("0.40") + Decimal("0.02") * i  # 0.40 .. 0.78
        assets[f"A{i:02d}"] = {
            "price": str(Decimal("1.2345678901") * (i + 1) ** 2),
            "decimals": 18 if i % 3 else 6,
            "collateral_factor": str(cf),
            "liquidation_threshold": str(cf + Decimal("0.05")),
            "liquidation_bonus": "0.05",
            "protocol_fee": "0.1",
        }
    supply = {f"A{i:02d}": f"{1000 + 37 * i}.123456" for i in range(12)}
    borrow = {f"A{i:02d}": f"{100 + 11 * i}.654321" for i in range(12, 20)}
    doc = {
        "market": {"quote": "USD"},
        "assets": assets,
        "accounts": {"whale": {"supply": supply, "borrow": borrow}},
    }
    return xmargin.parse_market(doc, "<bench>")


def time_one_account(batches: int = 31, calls: int = 500) -> tuple[float, float, float]:
    """(median, min, max) microseconds per ``account_health`` call over ``batches``."""
    market = twenty_asset_market()
    account = market.account("whale")
    health = xmargin.account_health
    for _ in range(calls):  # warm up
        health(account, market)
    per_call: list[float] = []
    for _ in range(batches):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            health(account, market)
        per_call.append((time.perf_counter_ns() - t0) / calls / 1_000)
    return statistics.median(per_call), min(per_call), max(per_call)


def profile_one_account(calls: int = 5_000, top: int = 12) -> str:
    """cProfile of ``account_health`` on the 20-asset account, by internal time."""
    market = twenty_asset_market()
    account = market.account("whale")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        xmargin.account_health(account, market)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def time_cli_health(n_accounts: int, runs: int = 3) -> tuple[float, float] | str:
    """(best, median) seconds of ``xmargin health FILE --json`` on ``n_accounts``."""
    if not XMARGIN.exists():
        return f"{XMARGIN} not found (run `make install`)"
    with tempfile.TemporaryDirectory() as tmp:
        market_file, _ = generate_book(n_accounts, 12, 2024, Path(tmp))
        times: list[float] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [str(XMARGIN), "health", str(market_file), "--json"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                check=False,
            )
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                err = proc.stderr.decode(errors="replace").strip().splitlines()
                return f"exit {proc.returncode}: {err[-1] if err else 'no message'}"
    return min(times), statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts in the CLI book")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the call")
    args = parser.parse_args(argv)

    median_us, min_us, max_us = time_one_account()
    cli = time_cli_health(args.accounts)

    rows: list[tuple[str, str, str]] = [
        (
            "account_health, 1 account x 20 assets (exact)",
            f"{median_us:,.1f} µs",
            f"min {min_us:,.1f}, max {max_us:,.1f} µs; aim < 50 µs",
        ),
    ]
    label = f"xmargin health --json, {args.accounts:,} accounts"
    if isinstance(cli, str):
        rows.append((label, "n/a", cli))
    else:
        best, median = cli
        per_account = median / args.accounts * 1e6
        rows.append(
            (label, f"{median:,.2f} s", f"best {best:,.2f} s; {per_account:,.0f} µs/account")
        )
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'benchmark':<{w0}}  {'median':>{w1}}  notes")
    for name, fig, note in rows:
        print(f"{name:<{w0}}  {fig:>{w1}}  {note}")
    print(f"python {sys.version.split()[0]}, xmargin {xmargin.__version__}")
    if args.profile:
        print(profile_one_account())
    return 0


if __name__ == "__main__":
    sys.exit(main())
