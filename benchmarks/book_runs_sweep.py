"""Sweep (issue 11 item 2): how long a run of rows with one code sequence must be before
the full re-price prices it from prices loaded once (``xmargin.book.kernels.MIN_RUN``).

Loads the benchmark's books (``out/bench-book/``, written by ``benchmarks/book.py``) and,
for each ``--min-run``, times the library's full re-price kernel
(:func:`xmargin.book._numba_segments.reprice_segments`) with the pieces
``BookArrays.run_pieces(min_run)`` against the same kernel with every price looked up
(no run), interleaved, best of N, on 1 and 2 threads. Prints the share of rows in runs,
the piece count and runs / no runs per threshold; asserts that every threshold gives the
statuses of the run-free kernel (``benchmarks/book_runs_check.py`` checks the sums bit for
bit). Prints figures; decides nothing by itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

from xmargin.book import RiskBook
from xmargin.book import _numba_segments as seg_k
from xmargin.book.build import CHUNK_ROWS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from book import book_files  # noqa: E402
from floors import best_interleaved, per_entry  # noqa: E402


def kernel(book: RiskBook, pieces: tuple[np.ndarray, np.ndarray]) -> Callable[[], np.ndarray]:
    """The library's full re-price over every row with ``pieces``; returns the statuses."""
    n, a, t = book.n_accounts, book.arrays, book._tables
    starts = np.arange(0, n, CHUNK_ROWS, dtype=np.int64)
    ends = np.minimum(starts + CHUNK_ROWS, n)
    off = np.cumsum(ends - starts) - (ends - starts)
    out = (np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.bool_),
           np.zeros(starts.size, np.int64))  # fmt: skip
    status = book._status.copy()

    def call() -> np.ndarray:
        seg_k.reprice_segments(  # type: ignore[no-untyped-call]
            starts, ends, off, *pieces, a.indptr, a.codes, a.units, t.tab, t.warn, status,
            book._ref.margin, False, *out,
        )  # fmt: skip
        return status

    return call


def sweep(book: RiskBook, min_runs: list[int], threads: list[int], repeats: int) -> None:
    a, n = book.arrays, book.n_accounts
    fns: dict[str, Callable[[], object]] = {"none": kernel(book, per_entry(a.segment_starts()))}
    want = kernel(book, per_entry(a.segment_starts()))().copy()
    for m in min_runs:
        start, tmpl = (x.copy() for x in a.run_pieces(m))
        fns[str(m)] = kernel(book, (start, tmpl))
        got = fns[str(m)]()
        assert isinstance(got, np.ndarray) and np.array_equal(got, want), m
        in_runs = int(np.diff(start)[tmpl >= 0].sum())
        print(f"  min run {m:>5}: {in_runs / n:6.1%} of rows in {int((tmpl >= 0).sum()):,} "
              f"runs, {tmpl.size:,} pieces; statuses equal to the run-free kernel's")  # fmt: skip
    for nt in threads:
        numba.set_num_threads(min(nt, numba.config.NUMBA_NUM_THREADS))
        best = best_interleaved(fns, repeats)
        cells = ", ".join(f"{m} {best[str(m)] / best['none']:.2f}" for m in min_runs)
        print(f"  {nt} thread(s): no runs {best['none'] * 1e3:.2f} ms; runs / no runs by "
              f"min run: {cells}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--positions-per-account", nargs="+", default=["default", "4.8"])
    ap.add_argument("--min-run", type=int, nargs="+", default=[16, 64, 128, 256, 1024])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--data", type=Path, default=ROOT / "out" / "bench-book")
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for per_arg in args.positions_per_account:
        per = None if per_arg == "default" else float(per_arg)
        book = RiskBook.load(book_files(args.accounts, 20, 1, args.data, per, False)["parquet"])
        print(f"{book.n_accounts:,} accounts, {book.n_positions / book.n_accounts:.2f} "
              "positions per account")  # fmt: skip
        sweep(book, args.min_run, args.threads, args.repeats)
        del book
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
