"""The full re-price of a book without size haircuts, by segments of equal-length rows.

Clustered rows (:mod:`xmargin.book.build`) are grouped by length, so a book has one
run of equal-length rows, a *segment*, per row length (more once rows grew or were
added). Inside one, row ``r`` starts ``L`` entries after row ``r - 1``, so the kernel
reads no row index, and its sums are straight-line code for that ``L`` (:func:`_xy`,
the additions of :func:`xmargin.book._numba_kernels._fast_xy` in the same order, called
with a constant, which LLVM unrolls; x and y as one pair of doubles,
:mod:`xmargin.book._numba_pairs`). Its indices are unsigned: Numba checks a signed index
for a negative value (and wraps it) at every load, which here cost a third of the time.
Each block of rows is done in two passes: the sums (the table lookups do not vectorize
across rows; gathers are slower on the CPUs we measured), then the decisions
(:func:`xmargin.fast.health.status_of`, :func:`xmargin.book.screening.near_level`),
which are branch-free and vectorize; the rare rows that changed or lie near a level are
listed afterwards, exactly as
:func:`xmargin.book._numba_kernels.reprice_fast` lists them.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from xmargin._typing import CodeArray1D, Float64Array1D
from xmargin.book._numba_pairs import madd2, mul2
from xmargin.book.screening import near_level, needs_recheck, screening_margin
from xmargin.book.tolerances import STATUS_BITS
from xmargin.fast.backend import jit
from xmargin.fast.health import status_of

#: Rows per block: the block's sums stay in L1 between the two passes.
BLOCK = 128


_U = np.uint64
_1 = np.uint64(1)
_2 = np.uint64(2)
_3 = np.uint64(3)


@jit(inline=True)
def _xy(
    e: np.uint64, n: int, codes: CodeArray1D, units: Float64Array1D, tab: Float64Array1D
) -> tuple[float, float]:
    """``_fast_xy`` of the row whose entries start at ``e``, its additions in the same
    order, x and y as one pair (:mod:`xmargin.book._numba_pairs`). Unsigned indices
    only: uint64 mixed with int64 would make floats in Numba."""
    if n == 1:
        return mul2(units[e], tab, _2 * _U(codes[e]))
    if n == 2:
        x, y = mul2(units[e], tab, _2 * _U(codes[e]))
        return madd2(x, y, units[e + _1], tab, _2 * _U(codes[e + _1]))
    if n == 3:
        x, y = mul2(units[e], tab, _2 * _U(codes[e]))
        x, y = madd2(x, y, units[e + _1], tab, _2 * _U(codes[e + _1]))
        return madd2(x, y, units[e + _2], tab, _2 * _U(codes[e + _2]))
    if n == 4:  # (u0 t0 + u1 t1) + (u2 t2 + u3 t3), as _fast_xy adds them
        x, y = mul2(units[e], tab, _2 * _U(codes[e]))
        x, y = madd2(x, y, units[e + _1], tab, _2 * _U(codes[e + _1]))
        p, q = mul2(units[e + _2], tab, _2 * _U(codes[e + _2]))
        p, q = madd2(p, q, units[e + _3], tab, _2 * _U(codes[e + _3]))
        return x + p, y + q
    x = 0.0
    y = 0.0
    j = e
    end = e + _U(n)
    while j < end:
        x, y = madd2(x, y, units[j], tab, _2 * _U(codes[j]))
        j += _1
    return x, y


@jit(inline=True)
def _sums(
    lo: np.uint64,
    length: int,
    nb: int,
    codes: CodeArray1D,
    units: Float64Array1D,
    tab: Float64Array1D,
    xs: Float64Array1D,
    ys: Float64Array1D,
) -> None:
    """(x, y) of ``nb`` consecutive rows of ``length`` entries each, from entry ``lo``."""
    if length == 1:
        for q in range(nb):
            xs[q], ys[q] = _xy(lo + _U(q), 1, codes, units, tab)
    elif length == 2:
        for q in range(nb):
            xs[q], ys[q] = _xy(lo + _U(2 * q), 2, codes, units, tab)
    elif length == 3:
        for q in range(nb):
            xs[q], ys[q] = _xy(lo + _U(3 * q), 3, codes, units, tab)
    elif length == 4:
        for q in range(nb):
            xs[q], ys[q] = _xy(lo + _U(4 * q), 4, codes, units, tab)
    elif length == 5:
        for q in range(nb):
            xs[q], ys[q] = _xy(lo + _U(5 * q), 5, codes, units, tab)
    elif length == 6:
        for q in range(nb):
            xs[q], ys[q] = _xy(lo + _U(6 * q), 6, codes, units, tab)
    else:
        for q in range(nb):
            xs[q], ys[q] = _xy(lo + _U(length * q), length, codes, units, tab)


@jit(parallel=True)
def reprice_segments(  # type: ignore[no-untyped-def]
    starts, ends, out_off, seg_start, indptr, codes, units, tab, warn, status, margin,
    keep_ref, out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """``reprice_fast`` (and, with ``keep_ref``, ``reprice_fast_reference``) over the row
    ranges ``[starts[i], ends[i])``; ``seg_start``: first row of each segment, then n."""
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        s = starts[i]
        e = ends[i]
        xs = np.empty(BLOCK)
        ys = np.empty(BLOCK)
        hit = np.empty(BLOCK, dtype=np.bool_)
        k = np.searchsorted(seg_start, s, side="right") - 1
        while s < e:
            seg_end = seg_start[k + 1]
            se = min(e, seg_end, s + BLOCK)
            if se == seg_end:
                k += 1
            nb = se - s
            lo = indptr[s]
            _sums(_U(lo), indptr[s + 1] - lo, nb, codes, units, tab, xs, ys)
            any_hit = False
            for q in range(nb):  # branch-free: vectorized
                x = xs[q]
                y = ys[q]
                old = np.int64(status[_U(s) + _U(q)]) & STATUS_BITS
                h = (status_of(x, y, warn) != old) | near_level(x, y, warn)
                hit[q] = h
                any_hit |= h
            if keep_ref:
                for q in range(nb):
                    margin[s + q] = np.float32(screening_margin(xs[q], ys[q], warn))
            if any_hit:  # rare: only here is the status written
                for q in range(nb):
                    if hit[q]:
                        r = s + q
                        x = xs[q]
                        y = ys[q]
                        byte = np.int64(status[r])
                        out_rows[o + m] = r
                        out_prev[o + m] = byte & STATUS_BITS
                        if needs_recheck(x, y, warn):
                            out_recheck[o + m] = True
                        else:
                            status[r] = np.uint8((byte & ~STATUS_BITS) | status_of(x, y, warn))
                            out_recheck[o + m] = False
                        m += 1
            s = se
        out_cnt[i] = m
