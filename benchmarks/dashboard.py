"""Benchmark of the dashboard's book-wide views on a generated book (default 100,000
accounts, 8 assets), the work ``GET /v1/overview`` and ``/v1/liquidation-map`` do.

Run with ``.venv/bin/python benchmarks/dashboard.py [--accounts N]``. Prints figures
measured in this run (best and median of a few repeats); asserts nothing about time.

1. building the position columns from the exact market (once, at the first request);
2. a refresh after a batch that replaced 100 accounts (what follows each commit);
3. one snapshot: the six sums, the exact-backed statuses;
4. the overview's analytics (totals, exposure and concentration, distribution, nearest);
5. one liquidation map (40 buckets).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from xmargin.analytics.exposure import asset_exposure
from xmargin.analytics.liquidation_map import liquidation_map
from xmargin.analytics.overview import (
    LIQUIDATABLE,
    book_overview,
    classify,
    health_distribution,
    nearest_to_liquidation,
    sums_of,
)
from xmargin.analytics.positions import PositionColumns
from xmargin.book.generate import generate_book
from xmargin.io.market_file import load_market
from xmargin.model.account import Account


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(best, median) milliseconds of ``repeats`` calls."""
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1e3)
    return min(runs), statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--assets", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        market_file, _ = generate_book(args.accounts, args.assets, 7, Path(tmp))
        t = time.perf_counter()
        market = load_market(market_file)
        load_s = time.perf_counter() - t
    n = len(market.accounts)
    positions = sum(len(a.supply) + len(a.borrow) for a in market.accounts.values())
    print(f"book: {n:,} accounts, {positions:,} positions, {len(market.assets)} assets")
    print(f"(loading the exact market: {load_s:.1f} s, not part of the figures)")
    rows: list[tuple[str, float, float]] = []
    rows.append(("build the columns", *timed(lambda: PositionColumns(market), 1)))
    cols = PositionColumns(market)
    ids = list(market.accounts)[:: max(1, n // 100)][:100]

    def batch() -> None:
        for i in ids:  # replace, as the service's publish does
            a = market.accounts[i]
            market.accounts[i] = Account(i, dict(a.supply), dict(a.borrow), a.category)
        cols.refresh(market)

    rows.append(("refresh after 100 replaced", *timed(batch, args.repeats)))
    level = Decimal("1.1")

    def snapshot() -> None:
        classify(market, cols, sums_of(market, cols), level)

    rows.append(("snapshot: sums + statuses", *timed(snapshot, args.repeats)))
    sums = sums_of(market, cols)
    status = classify(market, cols, sums, level)

    def overview() -> None:
        book_overview(market, cols, sums, status)
        asset_exposure(market, cols)
        health_distribution(sums)
        nearest_to_liquidation(cols, sums, status, 10)

    rows.append(("overview analytics", *timed(overview, args.repeats)))
    p = cols.price_vector({a: ap.price for a, ap in market.assets.items()})
    first = next(iter(market.assets))

    def lmap() -> None:
        liquidation_map(cols, p, sums, first, liquidatable=status >= LIQUIDATABLE)

    rows.append((f"liquidation map ({first})", *timed(lmap, args.repeats)))
    print(f"{'step':<30} {'best ms':>10} {'median ms':>10}")
    for name, best, med in rows:
        print(f"{name:<30} {best:>10.1f} {med:>10.1f}")


if __name__ == "__main__":
    main()
