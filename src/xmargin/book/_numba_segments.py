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

Rows are further sorted by their sequence of codes (:mod:`xmargin.book.build`), so long
runs of rows carry the same codes in the same order; in such a run (a *run piece*,
:meth:`xmargin.book.kernels.BookArrays.run_pieces`) each slot's two prices are loaded
once and the kernel reads no code: :func:`_run_sums`, the same multiplications and
additions as :func:`_xy` in the same order (bit for bit the same sums; tests/book).
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
_4 = np.uint64(4)
_5 = np.uint64(5)


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
    o: np.uint64,
) -> None:
    """(x, y) of ``nb`` consecutive rows of ``length`` entries each, from entry ``lo``,
    into ``xs[o:]``, ``ys[o:]``."""
    if length == 1:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = _xy(lo + _U(q), 1, codes, units, tab)
    elif length == 2:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = _xy(lo + _U(2 * q), 2, codes, units, tab)
    elif length == 3:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = _xy(lo + _U(3 * q), 3, codes, units, tab)
    elif length == 4:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = _xy(lo + _U(4 * q), 4, codes, units, tab)
    elif length == 5:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = _xy(lo + _U(5 * q), 5, codes, units, tab)
    elif length == 6:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = _xy(lo + _U(6 * q), 6, codes, units, tab)
    else:
        for q in range(nb):
            xs[o + _U(q)], ys[o + _U(q)] = _xy(lo + _U(length * q), length, codes, units, tab)


@jit(inline=True)
def _run_sums(  # type: ignore[no-untyped-def]
    lo, length, nb, t, codes, units, tab, xs, ys, o
):  # fmt: skip
    """:func:`_sums` of ``nb`` rows of ``length`` (1 to 6) entries whose codes are the
    ``length`` codes from entry ``t``: each slot's prices loaded once; x and y as two
    chains of the additions of :func:`_xy`, in its order (the same roundings)."""
    a1 = a2 = a3 = a4 = a5 = b1 = b2 = b3 = b4 = b5 = 0.0
    c = _2 * _U(codes[t])
    a0, b0 = tab[c], tab[c + _1]
    if length >= 2:
        c = _2 * _U(codes[t + 1])
        a1, b1 = tab[c], tab[c + _1]
    if length >= 3:
        c = _2 * _U(codes[t + 2])
        a2, b2 = tab[c], tab[c + _1]
    if length >= 4:
        c = _2 * _U(codes[t + 3])
        a3, b3 = tab[c], tab[c + _1]
    if length >= 5:
        c = _2 * _U(codes[t + 4])
        a4, b4 = tab[c], tab[c + _1]
    if length >= 6:
        c = _2 * _U(codes[t + 5])
        a5, b5 = tab[c], tab[c + _1]
    if length == 1:
        for q in range(nb):
            u0 = units[lo + _U(q)]
            xs[o + _U(q)] = u0 * a0
            ys[o + _U(q)] = u0 * b0
    elif length == 2:
        for q in range(nb):
            e = lo + _U(2 * q)
            u0, u1 = units[e], units[e + _1]
            xs[o + _U(q)] = u0 * a0 + u1 * a1
            ys[o + _U(q)] = u0 * b0 + u1 * b1
    elif length == 3:
        for q in range(nb):
            e = lo + _U(3 * q)
            u0, u1, u2 = units[e], units[e + _1], units[e + _2]
            xs[o + _U(q)] = (u0 * a0 + u1 * a1) + u2 * a2
            ys[o + _U(q)] = (u0 * b0 + u1 * b1) + u2 * b2
    elif length == 4:  # (u0 t0 + u1 t1) + (u2 t2 + u3 t3), as _xy adds them
        for q in range(nb):
            e = lo + _U(4 * q)
            u0, u1, u2, u3 = units[e], units[e + _1], units[e + _2], units[e + _3]
            xs[o + _U(q)] = (u0 * a0 + u1 * a1) + (u2 * a2 + u3 * a3)
            ys[o + _U(q)] = (u0 * b0 + u1 * b1) + (u2 * b2 + u3 * b3)
    elif length == 5:  # from 0.0, as _xy's loop (0.0 + -0.0 is +0.0)
        for q in range(nb):
            e = lo + _U(5 * q)
            u0, u1, u2, u3, u4 = (
                units[e],
                units[e + _1],
                units[e + _2],
                units[e + _3],
                units[e + _4],
            )
            xs[o + _U(q)] = ((((0.0 + u0 * a0) + u1 * a1) + u2 * a2) + u3 * a3) + u4 * a4
            ys[o + _U(q)] = ((((0.0 + u0 * b0) + u1 * b1) + u2 * b2) + u3 * b3) + u4 * b4
    else:
        for q in range(nb):
            e = lo + _U(6 * q)
            u0, u1, u2, u3, u4 = (
                units[e],
                units[e + _1],
                units[e + _2],
                units[e + _3],
                units[e + _4],
            )
            u5 = units[e + _5]
            x = ((((0.0 + u0 * a0) + u1 * a1) + u2 * a2) + u3 * a3) + u4 * a4
            y = ((((0.0 + u0 * b0) + u1 * b1) + u2 * b2) + u3 * b3) + u4 * b4
            xs[o + _U(q)] = x + u5 * a5
            ys[o + _U(q)] = y + u5 * b5


@jit(inline=True)
def block_sums(  # type: ignore[no-untyped-def]
    s, se, k, pc_start, pc_tmpl, indptr, codes, units, tab, xs, ys
):  # fmt: skip
    """(x, y) of rows ``[s, se)`` into ``xs[0:]``, ``ys[0:]``, piece by piece (``k``: the
    piece of row ``s``); returns the piece of row ``se``."""
    r = s
    while r < se:
        nxt = pc_start[k + 1]
        pe = min(se, nxt)
        lo = indptr[r]
        length = indptr[r + 1] - lo
        t = pc_tmpl[k]
        if t < 0:
            _sums(_U(lo), length, pe - r, codes, units, tab, xs, ys, _U(r - s))
        else:
            _run_sums(_U(lo), length, pe - r, t, codes, units, tab, xs, ys, _U(r - s))  # type: ignore[no-untyped-call]
        if pe == nxt:
            k += 1
        r = pe
    return k


@jit(parallel=True)
def reprice_segments(  # type: ignore[no-untyped-def]
    starts, ends, out_off, pc_start, pc_tmpl, indptr, codes, units, tab, warn, status,
    margin, keep_ref, out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """``reprice_fast`` (and, with ``keep_ref``, ``reprice_fast_reference``) over the row
    ranges ``[starts[i], ends[i])``; ``pc_start``, ``pc_tmpl``: the book's pieces
    (:meth:`xmargin.book.kernels.BookArrays.run_pieces`)."""
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        s = starts[i]
        e = ends[i]
        xs = np.empty(BLOCK)
        ys = np.empty(BLOCK)
        hit = np.empty(BLOCK, dtype=np.bool_)
        k = np.searchsorted(pc_start, s, side="right") - 1
        while s < e:
            se = min(e, s + BLOCK)
            nb = se - s
            k = block_sums(s, se, k, pc_start, pc_tmpl, indptr, codes, units, tab, xs, ys)  # type: ignore[no-untyped-call]
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
