"""Rule: clustered rows are grouped by length (xmargin.book.build), and the full re-price
over that layout decides every account as the row-by-row kernel does over the file's own
order: same statuses, same flagged rows (previous status, exact re-check), on random
books with empty rows, rows of every length 0..20 and positions with both sides."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmargin.book.build import Built, build_layout
from xmargin.book.kernels import RECOMPUTE, PriceTables, Reference, kernels_for

pytest.importorskip("numba")

K = 20  # assets; no categories: a code is 2 * asset + side


def _positions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Rows holding 0..K assets (every count present when n allows), some both sides."""
    held = rng.integers(0, K + 1, n)
    held[: min(n, K + 1)] = np.arange(min(n, K + 1))
    rng.shuffle(held)
    pos_row = np.repeat(np.arange(n, dtype=np.int64), held)
    pos_asset = np.concatenate([rng.permutation(K)[:h] for h in held.tolist()] or [[]])
    m = pos_row.size
    side = rng.integers(0, 3, m)  # 0 supply, 1 borrow, 2 both
    amount = rng.lognormal(0, 2, (2, m))
    supply = np.where(side != 1, amount[0], 0.0)
    borrow = np.where(side != 0, amount[1], 0.0)
    return pos_row, pos_asset.astype(np.int64), supply, borrow


def _built(n: int, pos: tuple[np.ndarray, ...], cluster: bool) -> Built:
    cat = np.zeros(n, dtype=np.uint16)
    return build_layout(n, cat, *pos, K, np.uint8, cluster, np.uint8)


def _tables(rng: np.random.Generator, warn: float) -> PriceTables:
    codes = 2 * K
    hp = rng.lognormal(0, 1, codes)
    hw = np.where(
        np.arange(codes) % 2 == 0, rng.uniform(0.3, 0.9, codes), rng.uniform(1, 1.5, codes)
    )
    tab = np.zeros(2 * codes)
    tab[0::4] = (hp * hw)[0::2]  # supply codes: collateral side
    tab[3::4] = (hp * hw)[1::2]  # borrow codes: debt side
    return PriceTables(2 * K, hp, hw, hw.copy(), np.zeros(codes), tab, warn)


def _reprice(name: str, built: Built, t: PriceTables, status: np.ndarray) -> tuple[np.ndarray, ...]:
    n = status.size
    starts = np.arange(0, n, 64, dtype=np.int64)
    ends = np.minimum(starts + 64, n)
    ref = Reference(np.full(n, -1.0, dtype=np.float32), 0.0)
    fl = kernels_for(name).reprice(  # type: ignore[operator]
        starts, ends, built.arrays, t, status, ref, RECOMPUTE, False
    )
    return fl.rows, fl.previous, fl.recheck


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), warn=st.sampled_from([1.0, 1.1, 1.5]))
def test_rows_by_length_decide_as_rows_in_file_order(seed: int, n: int, warn: float) -> None:
    from xmargin.book import _numba_kernels as rows_k

    rng = np.random.default_rng(seed)
    pos = _positions(rng, n)
    grouped, plain = _built(n, pos, True), _built(n, pos, False)
    lens = np.diff(grouped.arrays.indptr)
    assert (np.diff(lens) >= 0).all()  # one segment per length
    assert grouped.arrays.segment_starts().size - 1 == np.unique(lens).size
    assert np.array_equal(np.sort(lens), np.sort(np.diff(plain.arrays.indptr)))
    t = _tables(rng, warn)
    start = rng.integers(0, 3, n).astype(np.uint8)  # statuses from an earlier pricing

    # the library's full re-price over rows by length (segment kernel)
    st_new = start[grouped.file_index].copy()
    rows, prev, recheck = _reprice("numba", grouped, t, st_new)
    # the row-by-row kernel over the file's order
    st_old = start.copy()
    a = plain.arrays
    one = np.zeros(1, dtype=np.int64)
    outs = (
        np.empty(n, np.int64),
        np.empty(n, np.uint8),
        np.empty(n, np.bool_),
        np.zeros(1, np.int64),
    )
    rows_k.reprice_fast(  # type: ignore[no-untyped-call]
        one, np.array([n]), one, a.indptr, a.codes, a.units, t.tab, t.warn, st_old, *outs
    )
    m = int(outs[3][0])
    assert np.array_equal(st_new[grouped.row_of_file], st_old)
    in_file = grouped.file_index[rows]
    order = np.argsort(in_file)
    assert np.array_equal(in_file[order], outs[0][:m])  # row-by-row lists rows in order
    assert np.array_equal(prev[order], outs[1][:m])
    assert np.array_equal(recheck[order], outs[2][:m])

    # the NumPy backend over the same layout: the same status wherever floats decide
    st_np = start[grouped.file_index].copy()
    rows_np, _, recheck_np = _reprice("numpy", grouped, t, st_np)
    exact = np.zeros(n, dtype=bool)
    exact[rows[recheck]] = True
    exact[rows_np[recheck_np]] = True
    assert np.array_equal(st_np[~exact], st_new[~exact])
