"""Benchmark of the exact (Decimal) core: one account's health, and the CLI on 10k accounts.

Run with ``make bench`` or ``.venv/bin/python benchmarks/core.py [--accounts N]``. Prints a
table of figures measured in this run; asserts nothing about time.

1. ``account_health`` of one account holding 20 assets (12 supplied, 8 borrowed) in a
   20-asset market built here: microseconds per call, median of many timed batches,
   clock ``time.perf_counter_ns``; against ``minimal_health`` (benchmarks/minimal_health.py:
   the same figures and roundings, written plainly), timed interleaved. Target <= 1.3x.
2. ``xmargin health FILE --json > /dev/null`` end to end (process start, loading the
   market and its Parquet positions, every account's figures, JSON out) on a book of
   10,000 accounts written by ``xmargin.book.generate.generate_book``, against the
   minimal tomllib + pyarrow + Decimal script (same figures, checked): best and median
   of a few interleaved runs. Target <= 1.2x.
3. ``xmargin --help``: wall seconds (best of 10) and CPU seconds of the process, beside a
   bare ``python -c pass``; bytecode compiled first, as an installed package has it.
   Target <= 0.15 s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import xmargin
from xmargin.book.generate import generate_book

sys.path.insert(0, str(Path(__file__).resolve().parent))
from minimal_health import MINIMAL_SCRIPT, minimal_health

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


def time_one_account(batches: int = 31, calls: int = 500) -> dict[str, tuple[float, float]]:
    """Per function, (median, min) microseconds per call over ``batches`` interleaved
    batches: ``account_health`` and ``minimal_health`` on the same account."""
    market = twenty_asset_market()
    account = market.account("whale")
    params = {
        s: (a.price, a.collateral_factor, a.liquidation_threshold, a.borrow_weight,
            a.maintenance_borrow_weight)
        for s, a in market.assets.items()
    }  # fmt: skip
    supply, borrow = dict(account.supply), dict(account.borrow)
    h = xmargin.account_health(account, market)
    want = (*h[:9],)
    got = minimal_health(supply, borrow, params)
    assert got == want, (got, want)
    fns: dict[str, Callable[[], object]] = {
        "account_health": lambda: xmargin.account_health(account, market),
        "minimal": lambda: minimal_health(supply, borrow, params),
    }
    per_call: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(batches):
        for name, fn in fns.items():
            t0 = time.perf_counter_ns()
            for _ in range(calls):
                fn()
            per_call[name].append((time.perf_counter_ns() - t0) / calls / 1_000)
    return {k: (statistics.median(v), min(v)) for k, v in per_call.items()}


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


def _env() -> dict[str, str]:
    """The environment of the timed processes: bytecode written and read, as installed."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        raise RuntimeError(f"{cmd[:3]}: exit {proc.returncode}: {err[-1] if err else ''}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def time_cli_health(n_accounts: int, runs: int = 3) -> dict[str, tuple[float, float]]:
    """Per program, (best, median) seconds: ``xmargin health FILE --json`` and the minimal
    script on the same ``n_accounts`` book, interleaved; their figures are compared."""
    with tempfile.TemporaryDirectory() as tmp:
        market_file, _ = generate_book(n_accounts, 12, 2024, Path(tmp))
        cmds = {
            "xmargin": [str(XMARGIN), "health", str(market_file), "--json"],
            "minimal": [sys.executable, "-c", MINIMAL_SCRIPT, str(market_file)],
        }
        times: dict[str, list[float]] = {k: [] for k in cmds}
        out: dict[str, str] = {}
        for _ in range(runs):
            for name, cmd in cmds.items():
                wall, _, out[name] = _timed(cmd)
                times[name].append(wall)
    ours = json.loads(out["xmargin"])["accounts"]
    ref = json.loads(out["minimal"])["accounts"]
    same = len(ours) == len(ref) and all(
        all(a[k] == b[k] for k in b) for a, b in zip(ours, ref, strict=True)
    )
    if not same:
        raise RuntimeError("the minimal script's figures differ from xmargin health's")
    return {k: (min(v), statistics.median(v)) for k, v in times.items()}


def time_help(runs: int = 10) -> dict[str, tuple[float, float]]:
    """Per program, (best wall, best CPU) seconds: ``xmargin --help`` and bare Python."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True,
                   capture_output=True, env=_env())  # fmt: skip
    cmds = {"help": [str(XMARGIN), "--help"], "bare": [sys.executable, "-c", "pass"]}
    best = {k: (float("inf"), float("inf")) for k in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            wall, cpu, _ = _timed(cmd)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts in the CLI book")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the call")
    args = parser.parse_args(argv)

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    one = time_one_account()
    ours, ref = one["account_health"], one["minimal"]
    rows: list[tuple[str, str, str]] = [
        (
            "account_health, 1 account x 20 assets (exact)",
            f"{ours[0]:,.1f} µs",
            f"min {ours[1]:,.1f} µs; {ours[0] / ref[0]:.2f}x the minimal version "
            f"(median; min {ours[1] / ref[1]:.2f}x; target <= 1.3x)",
        ),
        ("  minimal Decimal version, same figures", f"{ref[0]:,.1f} µs", f"min {ref[1]:,.1f} µs"),
    ]
    if not XMARGIN.exists():
        rows.append(("xmargin CLI", "n/a", f"{XMARGIN} not found (run `make install`)"))
    else:
        cli = time_cli_health(args.accounts)
        (best, median), (mbest, mmedian) = cli["xmargin"], cli["minimal"]
        rows.append(
            (
                f"xmargin health --json, {args.accounts:,} accounts",
                f"{median:,.2f} s",
                f"best {best:,.2f} s; {best / mbest:.2f}x the minimal script (best; median "
                f"{median / mmedian:.2f}x; target <= 1.2x)",
            )
        )
        rows.append(
            (
                "  minimal tomllib + pyarrow + Decimal script",
                f"{mmedian:,.2f} s",
                f"best {mbest:,.2f} s; same figures",
            )
        )
        helps = time_help()
        (hw, hc), (bw, bc) = helps["help"], helps["bare"]
        rows.append(
            (
                "xmargin --help",
                f"{hw:,.3f} s",
                f"best wall; CPU {hc:.3f} s; bare python {bw:.3f} s wall, {bc:.3f} s CPU "
                "(target <= 0.15 s)",
            )
        )
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'benchmark':<{w0}}  {'median':>{w1}}  notes")
    for name, fig, note in rows:
        print(f"{name:<{w0}}  {fig:>{w1}}  {note}")
    print(f"python {sys.version.split()[0]}, xmargin {xmargin.__version__}, load average "
          f"{load} before, {' '.join(f'{x:.2f}' for x in os.getloadavg())} after")  # fmt: skip
    if args.profile:
        print(profile_one_account())
    return 0


if __name__ == "__main__":
    sys.exit(main())
