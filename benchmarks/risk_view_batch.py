"""The risk view's update per write batch: one re-pricing per balance, or one per batch.

Run ``.venv/bin/python benchmarks/risk_view_batch.py``. On the packaged demo market's
book (NumPy kernels, as the service runs them), 200 batches each change one supplied
balance of each of ``--accounts`` accounts, applied either with one
:meth:`~xmargin.book.RiskBook.set_balance` per balance (a kernel call each, as the service
did) or with one :meth:`~xmargin.book.RiskBook.set_balances` per batch (one kernel call);
prints the mean time per batch of each and their ratio, measured in the same run.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

from xmargin.book import RiskBook
from xmargin.data import data_path
from xmargin.io.market_file import load_market

Change = tuple[str, str, object | None, object | None]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=32)
    ap.add_argument("--batches", type=int, default=200)
    args = ap.parse_args()
    market = load_market(data_path("demo.toml"))
    ids = list(market.accounts)[: args.accounts]
    batches: list[list[Change]] = []
    for k in range(args.batches):
        batch: list[Change] = []
        for a in ids:
            acc = market.accounts[a]
            for asset in list(acc.supply)[:1]:
                batch.append((a, asset, acc.supplied(asset) + Decimal(k % 7 + 1), None))
        batches.append(batch)

    def per_balance(book: RiskBook, batch: list[Change]) -> None:
        for acc, asset, supply, borrow in batch:
            book.set_balance(acc, asset, supply=supply, borrow=borrow)

    def per_batch(book: RiskBook, batch: list[Change]) -> None:
        book.set_balances(batch)

    times = {}
    for label, apply in (("one call per balance", per_balance), ("one call per batch", per_batch)):
        book = RiskBook.from_market(market)
        apply(book, batches[0])  # warm
        t0 = time.perf_counter()
        for batch in batches:
            apply(book, batch)
        times[label] = (time.perf_counter() - t0) / len(batches)
    n = len(batches[0])
    print(f"risk view update, demo market, {n} balances per batch, {len(batches)} batches")
    for label, t in times.items():
        print(f"{label}: {1000 * t:.3f} ms per batch")
    ratio = times["one call per balance"] / times["one call per batch"]
    print(f"ratio: {ratio:.2f}x")


if __name__ == "__main__":
    main()
