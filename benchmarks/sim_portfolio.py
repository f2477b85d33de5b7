"""Benchmark of portfolio margin in the simulations: the option terms of a book's option
accounts on many paths, all under standard margin, then a share under portfolio margin.

Run with ``.venv/bin/python benchmarks/sim_portfolio.py`` (``--accounts``, ``--paths``,
``--share``). The book: ``--accounts`` option accounts on WETH (a short strangle and a
long call on two expiries, USDC and some WETH, a perp on every third), built as a market
document and read by the exact loader; ``--share`` of them under ``margin = "portfolio"``.
Times :meth:`xmargin.analytics.simoptions.SimOptions.terms` (what every Monte Carlo step
and cascade check calls) over ``--paths`` WETH prices, warm (Numba compiled apart), best
of ``--repeat``; prints the figures, asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from xmargin.analytics.simbook import SimBook
from xmargin.io import parse_market


def _doc(n: int, share: float) -> dict[str, Any]:
    asset = {"collateral_factor": 0.8, "liquidation_threshold": 0.85, "liquidation_bonus": 0.05}
    option = {"underlying": "WETH", "settlement_asset": "USDC", "liquidation_fee": 0.01}
    doc: dict[str, Any] = {
        "market": {"name": "pm-bench", "quote": "USD", "time": "2024-06-01T08:00:00Z"},
        "assets": {
            "WETH": {"price": 2000, "decimals": 18, **asset},
            "USDC": {"price": 1, "decimals": 6, **asset},
        },
        "perps": {
            "ETH-PERP": {
                "underlying": "WETH",
                "settlement_asset": "USDC",
                "initial_margin": 0.1,
                "maintenance_margin": 0.05,
                "liquidation_fee": 0.01,
                "insurance_fee": 0.005,
            }
        },
        "options": {
            "C1": {
                **option,
                "kind": "call",
                "strike": 2200,
                "expiry": "2024-06-28T08:00:00Z",
                "volatility": 0.6,
            },
            "P1": {
                **option,
                "kind": "put",
                "strike": 1800,
                "expiry": "2024-06-28T08:00:00Z",
                "volatility": 0.6,
            },
            "C2": {
                **option,
                "kind": "call",
                "strike": 2400,
                "expiry": "2024-09-27T08:00:00Z",
                "volatility": 0.55,
            },
        },
        "accounts": {},
    }
    n_pm = round(n * share)
    for i in range(n):
        acc: dict[str, Any] = {
            "supply": {"USDC": 3000 + i % 7 * 100, "WETH": (i % 3) / 2},
            "options": {"C1": -1 - i % 2, "P1": -1, "C2": 0.5},
        }
        if i % 3 == 0:
            acc["perps"] = {"ETH-PERP": {"size": 0.4, "entry_price": 1950}}
        if i < n_pm:
            acc["margin"] = "portfolio"
        doc["accounts"][f"a{i}"] = acc
    return doc


def _best(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--paths", type=int, default=2000)
    ap.add_argument("--share", type=float, default=0.01)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    rows = []
    for share in (0.0, args.share, 1.0):
        book = SimBook.from_market(parse_market(_doc(args.accounts, share)))
        so = book.options
        assert so is not None
        prices = np.repeat(book.price[None], args.paths, 0)
        prices[:, 0] *= np.exp(rng.normal(0.0, 0.1, args.paths))
        t0 = time.perf_counter()
        so.terms(prices[:2], 24.0, 1.0)  # compile (or load) the kernels
        warm = time.perf_counter() - t0
        best = _best(lambda so=so, p=prices: so.terms(p, 24.0, 1.0), args.repeat)
        units = 0 if so.margined is None else so.margined.n_units
        rows.append((share, int(so.portfolio.sum()), units, so.n_legs, warm, best))
    print(f"{args.accounts:,} option accounts, {args.paths:,} paths (load average "
          f"{os.getloadavg()[0]:.2f})")  # fmt: skip
    print("share PM | PM accounts | units | legs | first call s | terms s | per (path, unit) µs")
    base = rows[0][5]
    for share, n_pm, units, legs, warm, best in rows:
        per = (best - base) / (units * args.paths) * 1e6 if units else float("nan")
        print(f"{share:8.3f} | {n_pm:11,} | {units:5,} | {legs:5,} | {warm:12.3f} | "
              f"{best:7.3f} | {per:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
