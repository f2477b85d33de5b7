"""Rule: the full re-price by segments of equal-length rows (xmargin.book._numba_segments)
decides, lists and keeps screening margins exactly as the row-by-row kernel does, on a
generated book and after balances change row lengths (the segments are rebuilt)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from xmargin.book import RiskBook
from xmargin.book.build import CHUNK_ROWS
from xmargin.book.generate import generate_book
from xmargin.book.kernels import BookArrays

pytest.importorskip("numba")


def _flagged(out: tuple[np.ndarray, ...], off: np.ndarray) -> list[np.ndarray]:
    rows, prev, recheck, cnt = out
    idx = np.concatenate([np.arange(o, o + c) for o, c in zip(off, cnt, strict=True)])
    return [rows[idx], prev[idx], recheck[idx]]


def _both(book: RiskBook, tab: np.ndarray, chunk: int) -> None:
    from xmargin.book import _numba_kernels as rows_k
    from xmargin.book import _numba_segments as seg_k

    a: BookArrays = book.arrays
    n = book.n_accounts
    starts = np.arange(0, n, chunk, dtype=np.int64)
    ends = np.minimum(starts + chunk, n)
    off = np.cumsum(ends - starts) - (ends - starts)
    warn = float(book.warning_level)

    def out() -> tuple[np.ndarray, ...]:
        return (np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.bool_),
                np.zeros(starts.size, np.int64))  # fmt: skip

    st_rows, st_seg = book._status.copy(), book._status.copy()
    o_rows, o_seg = out(), out()
    margin = np.zeros(n, np.float32)
    rows_k.reprice_fast(  # type: ignore[no-untyped-call]
        starts, ends, off, a.indptr, a.codes, a.units, tab, warn, st_rows, *o_rows
    )
    seg_k.reprice_segments(  # type: ignore[no-untyped-call]
        starts, ends, off, *a.run_pieces(1), a.indptr, a.codes, a.units, tab, warn, st_seg,
        margin, True, *o_seg,
    )  # fmt: skip
    assert np.array_equal(st_rows, st_seg)
    for x, y in zip(_flagged(o_rows, off), _flagged(o_seg, off), strict=True):
        assert np.array_equal(x, y)
    # the margins kept are the screening rule's at these sums (up to the order of the
    # float additions, which bincount does not share)
    from xmargin.book.screening import screening_margin

    row = np.repeat(np.arange(n), np.diff(a.indptr))
    c = 2 * a.codes.astype(np.int64)
    x = np.bincount(row, a.units * tab[c], minlength=n)
    y = np.bincount(row, a.units * tab[c + 1], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = screening_margin(x, y, warn)
    assert np.allclose(margin, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("chunk", [CHUNK_ROWS, 7, 300])
def test_segments_decide_as_rows_do(tmp_path: Path, chunk: int) -> None:
    market, _ = generate_book(3_000, 8, 5, tmp_path)
    book = RiskBook.load(market, backend="numba")
    assert book._slow is False
    rng = np.random.default_rng(chunk)
    for _ in range(3):  # moved prices: many rows change status or land near a level
        tab = book._tables.tab * np.repeat(1 + rng.normal(0, 0.08, book._tables.tab.size // 2), 2)
        _both(book, tab, chunk)


def test_segments_follow_inserted_entries(tmp_path: Path) -> None:
    market, _ = generate_book(2_000, 6, 7, tmp_path)
    book = RiskBook.load(market, backend="numba")
    before = book.arrays.segment_starts().copy()
    ids = book.account_ids()
    grown = 0
    for acc in ids[:60:3]:  # each gains a position: its row grows by one entry
        held = book.exact_account(acc)
        free = [s for s in book.assets if s not in held.supply and s not in held.borrow]
        if free:
            book.set_balance(acc, free[0], supply="1")
            grown += 1
    assert grown
    book.add_account("newcomer")
    after = book.arrays.segment_starts()
    assert after[-1] == book.n_accounts and not np.array_equal(before, after)
    lens = np.diff(book.arrays.indptr)
    for s, e in itertools.pairwise(after.tolist()):
        assert (lens[s:e] == lens[s]).all()
    _both(book, book._tables.tab * 1.01, CHUNK_ROWS)
    book.reprice()
