"""The risk book's kernels in NumPy: the backend where Numba is missing or not wanted.

Same inputs, outputs and float rules as :mod:`xmargin.book._numba_kernels` (the rules of
:mod:`xmargin.fast` and :mod:`xmargin.book.screening`, called here on whole columns),
vectorized over entries with ``np.bincount``: several times slower, never different in
its decisions (the exact re-check covers the band where floats could disagree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xmargin._typing import BoolArray, Float64Array1D, Float64Array2D, Int64Array1D, UInt8Array1D
from xmargin.book.screening import needs_recheck, screening_margin
from xmargin.book.tolerances import STATUS_BITS
from xmargin.fast.health import LIQUIDATABLE, status_of, weighted_sums
from xmargin.fast.weights import BORROW, effective_weight

if TYPE_CHECKING:
    from xmargin.book.kernels import BookArrays, PriceTables, Reference

__all__ = ["figures", "read_floor", "reprice_ranges", "row_sums", "summary"]


def _entries_of_rows(rows: Int64Array1D, indptr: Int64Array1D) -> tuple[Int64Array1D, Int64Array1D]:
    """(entry index, position of its row in ``rows``) for every entry of ``rows``."""
    lo = indptr[rows]
    counts = indptr[rows + 1] - lo
    owner = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    entry: Int64Array1D = first + np.arange(owner.size, dtype=np.int64)
    return entry, owner


def _weights(
    code: Int64Array1D, u: Float64Array1D, w: Float64Array1D, hk: Float64Array1D
) -> Float64Array1D:
    """Per entry: its weight after the size haircut (entries of assets with one only)."""
    weight = w[code]
    k = hk[code]
    hc = k > 0.0
    if hc.any():
        weight[hc] = effective_weight(code[hc] & 1, weight[hc], k[hc], u[hc])
    return weight


def _sums(owner: Int64Array1D, weights: Float64Array1D, n: int) -> Float64Array1D:
    """Per row, the sum of its entries' ``weights`` (in entry order)."""
    return np.bincount(owner, weights=weights, minlength=n).astype(np.float64, copy=False)


def _row_xy(
    rows: Int64Array1D, cols: BookArrays, t: PriceTables
) -> tuple[Float64Array1D, Float64Array1D]:
    """(maintenance_collateral, maintenance_debt) of each row in ``rows``."""
    entry, owner = _entries_of_rows(rows, cols.indptr)
    code = cols.codes[entry].astype(np.int64)
    u = cols.units[entry]
    v = u * t.hp[code] * _weights(code, u, t.hw, t.hk)  # quote
    borrow = (code & 1) == BORROW
    x = _sums(owner, np.where(borrow, 0.0, v), rows.size)
    y = _sums(owner, np.where(borrow, v, 0.0), rows.size)
    return x, y


def _ranges_rows(starts: Int64Array1D, ends: Int64Array1D) -> Int64Array1D:
    counts = ends - starts
    first = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    out: Int64Array1D = first + np.arange(int(counts.sum()), dtype=np.int64)
    return out


def reprice_ranges(
    starts: Int64Array1D,
    ends: Int64Array1D,
    cols: BookArrays,
    t: PriceTables,
    status: UInt8Array1D,
    ref: Reference,
    mode: int,
) -> tuple[Int64Array1D, UInt8Array1D, BoolArray]:
    """Recompute the rows of ``[starts, ends)`` (``mode`` 0), and keep each row's
    screening margin (1), or only the rows whose margin ``ref.drift`` reaches (2); update
    the status of rows that changed; return (rows, previous status, recheck) of the rows
    that changed or lie near a level (the exact engine decides those)."""
    rows = _ranges_rows(starts, ends)
    if mode == 2:
        rows = rows[~(ref.drift < ref.margin[rows])]
    x, y = _row_xy(rows, cols, t)
    if mode == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            ref.margin[rows] = screening_margin(x, y, t.warn).astype(np.float32)
    new = status_of(x, y, t.warn).astype(np.int64)
    recheck = needs_recheck(x, y, t.warn)
    byte = status[rows].astype(np.int64)
    old = byte & STATUS_BITS
    moved = (new != old) & ~recheck
    status[rows[moved]] = ((byte[moved] & ~STATUS_BITS) | new[moved]).astype(np.uint8)
    keep = moved | recheck
    return rows[keep], old[keep].astype(np.uint8), recheck[keep]


def row_sums(
    rows: Int64Array1D, cols: BookArrays, t: PriceTables
) -> tuple[Float64Array1D, Float64Array1D]:
    """maintenance_collateral and maintenance_debt of the listed rows."""
    return _row_xy(rows, cols, t)


def figures(cols: BookArrays, t: PriceTables) -> Float64Array2D:
    """The six sums of contract section 2 for every row: (cv, dv, ic, id, mc, md) x n."""
    n = cols.indptr.size - 1
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(cols.indptr))
    code = cols.codes.astype(np.int64)
    borrow = (code & 1) == BORROW
    w_i = _weights(code, cols.units, t.wi, t.hk)
    w_m = _weights(code, cols.units, t.hw, t.hk)
    s = np.where(borrow, 0.0, cols.units)
    b = np.where(borrow, cols.units, 0.0)
    terms = weighted_sums(s, b, t.hp[code], w_i, w_m, w_i, w_m)
    out = np.empty((6, n))
    for i, term in enumerate(terms):
        out[i] = _sums(owner, term, n)
    return out


def summary(cols: BookArrays, t: PriceTables, status: UInt8Array1D) -> tuple[int, float, float]:
    """(liquidatable accounts, their debt_value, insolvent debt) over every row."""
    n = cols.indptr.size - 1
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(cols.indptr))
    code = cols.codes.astype(np.int64)
    v = cols.units * t.hp[code]
    borrow = (code & 1) == BORROW
    cv = _sums(owner, np.where(borrow, 0.0, v), n)
    dv = _sums(owner, np.where(borrow, v, 0.0), n)
    liq = (status & STATUS_BITS) == LIQUIDATABLE
    return int(liq.sum()), float(dv[liq].sum()), float(np.maximum(dv - cv, 0.0).sum())


def read_floor(cols: BookArrays) -> float:
    """Read the index and value arrays once (a memory floor for the benchmark)."""
    return float(cols.indptr.sum()) + float(cols.codes.sum()) + float(cols.units.sum())
