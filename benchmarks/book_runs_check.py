"""Check (issue 11): the library's run pieces change no sum, status, flagged row or margin.

Loads the benchmark's books (``out/bench-book/``, written by ``benchmarks/book.py``) and,
for several moved price sets, runs the library's full re-price kernel
(:mod:`xmargin.book._numba_segments`) with the book's run pieces and with no run (every
price looked up), and the row-by-row kernel: x and y of every row bit-identical (run vs
per-entry sums), statuses, flagged rows and float32 margins equal. Prints what it checked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from numba import njit

from xmargin.book import RiskBook
from xmargin.book import _numba_kernels as rows_k
from xmargin.book import _numba_segments as seg_k
from xmargin.book.build import CHUNK_ROWS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from book import book_files  # noqa: E402
from floors import per_entry  # noqa: E402


@njit
def _all_sums(pc_start, pc_tmpl, indptr, codes, units, tab, xs, ys):  # type: ignore[no-untyped-def]
    seg_k.block_sums(0, xs.size, 0, pc_start, pc_tmpl, indptr, codes, units, tab, xs, ys)


def _outs(n: int, m: int) -> tuple[np.ndarray, ...]:
    return (np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.bool_),
            np.zeros(m, np.int64))  # fmt: skip


def _flagged(out: tuple[np.ndarray, ...], off: np.ndarray) -> list[np.ndarray]:
    rows, prev, rc, cnt = out
    idx = np.concatenate([np.arange(o, o + c) for o, c in zip(off, cnt, strict=True)])
    return [rows[idx], prev[idx], rc[idx]]


def check(book: RiskBook, sets: int) -> None:
    a, t, n = book.arrays, book._tables, book.n_accounts
    runs, plain = a.run_pieces(), per_entry(a.segment_starts())
    starts = np.arange(0, n, CHUNK_ROWS, dtype=np.int64)
    ends = np.minimum(starts + CHUNK_ROWS, n)
    off = np.cumsum(ends - starts) - (ends - starts)
    rng = np.random.default_rng(11)
    in_runs = int(np.diff(runs[0])[runs[1] >= 0].sum())
    print(f"  {in_runs / n:.1%} of rows in {int((runs[1] >= 0).sum())} runs")
    for p in range(sets):
        tab = t.tab * np.repeat(1 + rng.normal(0, 0.03 * (p + 1), t.tab.size // 2), 2)
        x0, y0, x1, y1 = (np.empty(n) for _ in range(4))
        _all_sums(*plain, a.indptr, a.codes, a.units, tab, x0, y0)
        _all_sums(*runs, a.indptr, a.codes, a.units, tab, x1, y1)
        assert np.array_equal(x0.view(np.uint64), x1.view(np.uint64))
        assert np.array_equal(y0.view(np.uint64), y1.view(np.uint64))
        st = [book._status.copy() for _ in range(3)]
        mg = [np.zeros(n, np.float32) for _ in range(2)]
        out = [_outs(n, starts.size) for _ in range(3)]
        for i, pcs in enumerate((runs, plain)):
            seg_k.reprice_segments(  # type: ignore[no-untyped-call]
                starts, ends, off, *pcs, a.indptr, a.codes, a.units, tab, t.warn, st[i],
                mg[i], True, *out[i],
            )  # fmt: skip
        rows_k.reprice_fast(  # type: ignore[no-untyped-call]
            starts, ends, off, a.indptr, a.codes, a.units, tab, t.warn, st[2], *out[2]
        )
        assert np.array_equal(st[0], st[1]) and np.array_equal(st[0], st[2])
        assert np.array_equal(mg[0].view(np.uint32), mg[1].view(np.uint32))
        f = [_flagged(o, off) for o in out]
        for g in f[1:]:
            assert all(np.array_equal(u, v) for u, v in zip(f[0], g, strict=True))
        print(
            f"  moved prices {p}: sums bit-identical on {n:,} rows; {f[0][0].size:,} "
            "flagged rows, statuses and float32 margins equal (runs, no runs, rows)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--positions-per-account", nargs="+", default=["default", "4.8"])
    ap.add_argument("--sets", type=int, default=3)
    ap.add_argument("--data", type=Path, default=ROOT / "out" / "bench-book")
    args = ap.parse_args()
    for per_arg in args.positions_per_account:
        per = None if per_arg == "default" else float(per_arg)
        book = RiskBook.load(book_files(args.accounts, 20, 1, args.data, per, False)["parquet"])
        per_acc = book.n_positions / book.n_accounts
        print(f"{book.n_accounts:,} accounts, {per_acc:.2f} positions per account")
        check(book, args.sets)
        del book


if __name__ == "__main__":
    main()
