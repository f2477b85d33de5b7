"""The risk book's kernels in plain NumPy: the fallback when Numba is not installed.

Same inputs, outputs and float64 formulas as :mod:`xmargin.book._numba_kernels`,
vectorized over entries with ``np.bincount``: several times slower, never different in
its decisions (the exact re-check covers the band where floats could disagree).
"""

from __future__ import annotations

import numpy as np

from xmargin._typing import (
    BoolArray,
    CodeArray1D,
    Float32Array1D,
    Float64Array1D,
    Float64Array2D,
    Int64Array1D,
    UInt8Array1D,
)
from xmargin.book.tolerances import (
    ABS_TOL,
    LIABILITY_BASE,
    REL_TOL,
    SIZE_CAP,
    STATUS_BITS,
)

__all__ = ["figures", "read_floor", "reprice_ranges", "row_sums", "summary"]

Codes = CodeArray1D


def _entries_of_rows(rows: Int64Array1D, indptr: Int64Array1D) -> tuple[Int64Array1D, Int64Array1D]:
    """(entry index, position of its row in ``rows``) for every entry of ``rows``."""
    lo = indptr[rows]
    counts = indptr[rows + 1] - lo
    owner = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    entry: Int64Array1D = first + np.arange(owner.size, dtype=np.int64)
    return entry, owner


def _values(
    code: Int64Array1D,
    u: Float64Array1D,
    hp: Float64Array1D,
    w: Float64Array1D,
    hk: Float64Array1D,
) -> Float64Array1D:
    """Per entry: units x price x effective weight (quote)."""
    weight = w[code]
    k = hk[code]
    hc = k > 0.0
    if hc.any():
        root = np.sqrt(u[hc])
        wk = weight[hc]
        cap = SIZE_CAP / (1.0 + k[hc] * root)
        grown = LIABILITY_BASE * wk + k[hc] * root
        borrow = (code[hc] & 1).astype(bool)
        weight[hc] = np.where(borrow, np.maximum(wk, grown), np.minimum(wk, cap))
    v: Float64Array1D = u * hp[code] * weight
    return v


def _sums(owner: Int64Array1D, weights: Float64Array1D, n: int) -> Float64Array1D:
    """Per row, the sum of its entries' ``weights`` (in entry order)."""
    return np.bincount(owner, weights=weights, minlength=n).astype(np.float64, copy=False)


def _row_xy(
    rows: Int64Array1D,
    indptr: Int64Array1D,
    codes: Codes,
    units: Float64Array1D,
    hp: Float64Array1D,
    hw: Float64Array1D,
    hk: Float64Array1D,
) -> tuple[Float64Array1D, Float64Array1D]:
    """(maintenance_collateral, maintenance_debt) of each row in ``rows``."""
    entry, owner = _entries_of_rows(rows, indptr)
    code = codes[entry].astype(np.int64)
    v = _values(code, units[entry], hp, hw, hk)
    borrow = (code & 1).astype(bool)
    x = _sums(owner, np.where(borrow, 0.0, v), rows.size)
    y = _sums(owner, np.where(borrow, v, 0.0), rows.size)
    return x, y


def _ranges_rows(starts: Int64Array1D, ends: Int64Array1D) -> Int64Array1D:
    counts = ends - starts
    first = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    out: Int64Array1D = first + np.arange(int(counts.sum()), dtype=np.int64)
    return out


def _margins(d: Float64Array1D, s: Float64Array1D, a1: float, a2: float) -> Float32Array1D:
    """Screening margins (``xmargin.book.kernels.Reference``), float32 rounded down."""
    t = REL_TOL * s + ABS_TOL
    e = a1 * d - a2 * s
    num = np.minimum(np.abs(d) - 2.0 * t, (np.abs(e) - 2.0 * a1 * t) / (a1 + a2))
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where((s > 0.0) & (num > 0.0), num / s * (1.0 - 1e-6), -1.0)
    out: Float32Array1D = m.astype(np.float32)
    return out


def reprice_ranges(
    starts: Int64Array1D,
    ends: Int64Array1D,
    indptr: Int64Array1D,
    codes: Codes,
    units: Float64Array1D,
    hp: Float64Array1D,
    hw: Float64Array1D,
    hk: Float64Array1D,
    warn: float,
    status: UInt8Array1D,
    margin: Float32Array1D,
    mode: int,
    drift: float,
) -> tuple[Int64Array1D, UInt8Array1D, BoolArray]:
    """Recompute the rows of ``[starts, ends)`` (``mode`` 0), and keep each row's
    screening margin (1), or only the rows whose margin ``drift`` reaches (2); update the
    status of rows that changed; return (rows, previous status, recheck) of the rows that
    changed or lie near a level (the exact engine decides those)."""
    rows = _ranges_rows(starts, ends)
    a1 = 1.0 + warn
    a2 = warn - 1.0
    if mode == 2:
        rows = rows[~(drift < margin[rows])]
    x, y = _row_xy(rows, indptr, codes, units, hp, hw, hk)
    d = x - y
    s = x + y
    if mode == 1:
        margin[rows] = _margins(d, s, a1, a2)
    e = 2.0 * (x - warn * y)
    new = (d < 0.0).astype(np.int64) + (e < 0.0).astype(np.int64)
    tol = REL_TOL * s + ABS_TOL
    recheck = (y > 0.0) & ((np.abs(d) <= tol) | (np.abs(e) <= a1 * tol))
    byte = status[rows].astype(np.int64)
    old = byte & STATUS_BITS
    moved = (new != old) & ~recheck
    status[rows[moved]] = ((byte[moved] & ~STATUS_BITS) | new[moved]).astype(np.uint8)
    keep = moved | recheck
    return rows[keep], old[keep].astype(np.uint8), recheck[keep]


def row_sums(
    rows: Int64Array1D,
    indptr: Int64Array1D,
    codes: Codes,
    units: Float64Array1D,
    hp: Float64Array1D,
    hw: Float64Array1D,
    hk: Float64Array1D,
) -> tuple[Float64Array1D, Float64Array1D]:
    """maintenance_collateral and maintenance_debt of the listed rows."""
    return _row_xy(rows, indptr, codes, units, hp, hw, hk)


def figures(
    indptr: Int64Array1D,
    codes: Codes,
    units: Float64Array1D,
    hp: Float64Array1D,
    wi: Float64Array1D,
    wm: Float64Array1D,
    hk: Float64Array1D,
) -> Float64Array2D:
    """The six sums of contract section 2 for every row: (cv, dv, ic, id, mc, md) x n."""
    n = indptr.size - 1
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    code = codes.astype(np.int64)
    borrow = (code & 1).astype(bool)
    v = units * hp[code]
    vi = _values(code, units, hp, wi, hk)
    vm = _values(code, units, hp, wm, hk)
    out = np.empty((6, n))
    for i, (arr, side) in enumerate(
        ((v, False), (v, True), (vi, False), (vi, True), (vm, False), (vm, True))
    ):
        out[i] = np.bincount(owner, weights=np.where(borrow == side, arr, 0.0), minlength=n)
    return out


def summary(
    indptr: Int64Array1D,
    codes: Codes,
    units: Float64Array1D,
    hp: Float64Array1D,
    status: UInt8Array1D,
) -> tuple[int, float, float]:
    """(liquidatable accounts, their debt_value, insolvent debt) over every row."""
    n = indptr.size - 1
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    code = codes.astype(np.int64)
    v = units * hp[code]
    borrow = (code & 1).astype(bool)
    cv = np.bincount(owner, weights=np.where(borrow, 0.0, v), minlength=n)
    dv = np.bincount(owner, weights=np.where(borrow, v, 0.0), minlength=n)
    liq = (status & 3) == 2
    return int(liq.sum()), float(dv[liq].sum()), float(np.maximum(dv - cv, 0.0).sum())


def read_floor(indptr: Int64Array1D, codes: Codes, units: Float64Array1D) -> float:
    """Read the index and value arrays once (a memory floor for the benchmark)."""
    return float(indptr.sum()) + float(codes.sum()) + float(units.sum())
