"""Rule: in runs of rows whose codes are one sequence the full re-price loads each slot's
prices once (xmargin.book._numba_segments._run_sums); its sums are bit for bit those of
the per-entry path, and its statuses, flagged rows and float32 margins the same, on
random books (runs of every size from 1, empty rows, rows of 0..20 entries, mixed sides,
zero units), and after balances change (the pieces are rebuilt)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmargin.book import RiskBook
from xmargin.book.generate import generate_book
from xmargin.book.kernels import BookArrays

pytest.importorskip("numba")

K = 20  # assets, no categories: 2K codes


@cache
def _sums_fn():  # type: ignore[no-untyped-def]
    from numba import njit

    from xmargin.book._numba_segments import block_sums

    @njit
    def sums(pc_start, pc_tmpl, indptr, codes, units, tab, xs, ys):  # type: ignore[no-untyped-def]
        block_sums(0, xs.size, 0, pc_start, pc_tmpl, indptr, codes, units, tab, xs, ys)

    return sums


def _book(rng: np.random.Generator, n_runs: int) -> BookArrays:
    """Runs of 1..40 rows sharing a code sequence (0..20 entries, either side, an asset
    maybe on both), in random order; some units zero."""
    lens, codes = [], []
    for _ in range(n_runs):
        length = int(rng.integers(0, 21))
        seq = rng.integers(0, 2 * K, length).astype(np.uint8)
        rows = int(rng.integers(1, 41)) if rng.random() < 0.7 else 1
        lens += [length] * rows
        codes += [seq] * rows
    indptr = np.zeros(len(lens) + 1, dtype=np.int32)
    np.cumsum(lens, out=indptr[1:])
    code_arr = np.concatenate(codes).astype(np.uint8) if codes else np.zeros(0, np.uint8)
    units = rng.lognormal(0, 2, code_arr.size) * (rng.random(code_arr.size) > 0.1)
    return BookArrays(indptr, code_arr, units, np.zeros(len(lens), np.uint8))


def _tab(rng: np.random.Generator) -> np.ndarray:
    tab = np.zeros(4 * K)
    tab[0::4] = rng.lognormal(0, 1, K) * rng.uniform(0.3, 0.9, K)  # supply: collateral
    tab[3::4] = rng.lognormal(0, 1, K) * rng.uniform(1, 1.5, K)  # borrow: debt
    return tab


def _reprice(a: BookArrays, pieces: tuple[np.ndarray, np.ndarray], tab: np.ndarray,
             status: np.ndarray, warn: float) -> tuple[np.ndarray, ...]:  # fmt: skip
    from xmargin.book import _numba_segments as seg_k

    n = status.size
    starts = np.arange(0, n, 100, dtype=np.int64)
    ends = np.minimum(starts + 100, n)
    off = np.cumsum(ends - starts) - (ends - starts)
    out = (np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.bool_),
           np.zeros(starts.size, np.int64))  # fmt: skip
    margin = np.zeros(n, np.float32)
    seg_k.reprice_segments(  # type: ignore[no-untyped-call]
        starts, ends, off, *pieces, a.indptr, a.codes, a.units, tab, warn, status, margin,
        True, *out,
    )  # fmt: skip
    rows, prev, recheck, cnt = out
    idx = np.concatenate([np.arange(o, o + c) for o, c in zip(off, cnt, strict=True)] or [[]])
    idx = idx.astype(np.int64)
    return status, margin, rows[idx], prev[idx], recheck[idx]


def _check(a: BookArrays, min_run: int, rng: np.random.Generator, warn: float) -> int:
    """Run pieces against per-entry pieces; returns how many rows lie in run pieces."""
    n = a.indptr.size - 1
    runs = a.run_pieces(min_run)
    plain = (runs[0], np.full(runs[1].size, -1, dtype=np.int64))
    tab = _tab(rng)
    sums = _sums_fn()
    x0, y0, x1, y1 = (np.empty(n) for _ in range(4))
    sums(*plain, a.indptr, a.codes, a.units, tab, x0, y0)
    sums(*runs, a.indptr, a.codes, a.units, tab, x1, y1)
    assert np.array_equal(x0.view(np.uint64), x1.view(np.uint64))
    assert np.array_equal(y0.view(np.uint64), y1.view(np.uint64))
    start = rng.integers(0, 3, n).astype(np.uint8)
    got = _reprice(a, runs, tab, start.copy(), warn)
    want = _reprice(a, plain, tab, start.copy(), warn)
    assert np.array_equal(got[1].view(np.uint32), want[1].view(np.uint32))
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)
    return int(np.diff(runs[0])[runs[1] >= 0].sum())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_runs=st.integers(0, 60),
       min_run=st.sampled_from([1, 2, 5, 8]), warn=st.sampled_from([1.0, 1.1, 1.5]))  # fmt: skip
def test_run_sums_equal_per_entry_sums(seed: int, n_runs: int, min_run: int, warn: float) -> None:
    rng = np.random.default_rng(seed)
    a = _book(rng, n_runs)
    in_runs = _check(a, min_run, rng, warn)
    lens = np.diff(a.indptr)
    start, tmpl = a.run_pieces(min_run)
    assert start[0] == 0 and start[-1] == lens.size and (np.diff(start) > 0).all()
    for s, e, t in zip(start[:-1].tolist(), start[1:].tolist(), tmpl.tolist(), strict=True):
        assert (lens[s:e] == lens[s]).all()  # a piece is one length
        if t >= 0:  # a run: at least min_run rows, each with the template's codes
            assert e - s >= min_run and 1 <= lens[s] <= 6 and t == a.indptr[s]
            seq = a.codes[t : t + lens[s]]
            for r in range(s, e):
                assert np.array_equal(a.codes[a.indptr[r] : a.indptr[r + 1]], seq)
    assert in_runs <= lens.size


def test_runs_after_balances_change(tmp_path: Path) -> None:
    market, _ = generate_book(3_000, 4, 3, tmp_path)
    book = RiskBook.load(market, backend="numba")
    rng = np.random.default_rng(1)
    before = book.arrays.run_pieces(4)
    assert _check(book.arrays, 4, rng, 1.1) > 0
    ids = book.account_ids()
    for acc in ids[:90:3]:  # new entries: rows grow, runs split
        held = book.exact_account(acc)
        free = [s for s in book.assets if s not in held.supply and s not in held.borrow]
        if free:
            book.set_balance(acc, free[0], borrow="1")
    book.add_account("newcomer")
    after = book.arrays.run_pieces(4)
    assert after[0][-1] == book.n_accounts
    assert not np.array_equal(before[0], after[0]) or not np.array_equal(before[1], after[1])
    assert _check(book.arrays, 4, rng, 1.1) > 0
    book.reprice()
