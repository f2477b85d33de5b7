"""Fused Numba kernels of the risk book; see :mod:`xmargin.book.kernels`.

Each kernel walks CSR rows (accounts) and keeps its sums in registers. A code is
``category * 2K + 2 * asset + side`` (side 0 supply, 1 borrow); ``tab`` holds two
float64 per code, price x weight on the code's side and 0 on the other, so that a row's
maintenance collateral x and debt y are ``Σ u tab[2c]`` and ``Σ u tab[2c + 1]``. Codes
with a size haircut (``hk > 0``, rows flagged ``SLOW_ROW``) take their weight from the
float rule :func:`xmargin.fast.weights.effective_weight`. Decisions are
:func:`xmargin.fast.health.status_of`, the band :func:`xmargin.book.screening.near_level`.
The NumPy module :mod:`xmargin.book._numpy_kernels` calls the same rules on columns.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from xmargin._typing import (
    BoolArray,
    CodeArray1D,
    Float64Array1D,
    Int64Array1D,
    UInt8Array1D,
)
from xmargin.book.screening import near_level, needs_recheck, screening_margin
from xmargin.book.tolerances import SLOW_ROW, STATUS_BITS
from xmargin.fast.backend import jit
from xmargin.fast.health import LIQUIDATABLE, NO_SUMS, add_sums, status_of, weighted_sums
from xmargin.fast.weights import effective_weight

# The kernels are untyped for mypy (``xmargin.book.kernels`` gives them typed wrappers);
# the helpers they inline are typed.


@jit(inline=True)
def _slow_xy(
    lo: int,
    hi: int,
    codes: CodeArray1D,
    units: Float64Array1D,
    tab: Float64Array1D,
    hp: Float64Array1D,
    hw: Float64Array1D,
    hk: Float64Array1D,
) -> tuple[float, float]:
    """(x, y) of a row holding size-haircut entries."""
    x = 0.0
    y = 0.0
    for j in range(lo, hi):
        c = np.int64(codes[j])
        u = units[j]
        k = hk[c]
        if k > 0.0:
            side = c & 1
            v = u * hp[c] * effective_weight(side, hw[c], k, u)  # quote
            if side:
                y += v
            else:
                x += v
        else:
            x += u * tab[2 * c]  # units x quote/unit x weight = quote
            y += u * tab[2 * c + 1]
    return x, y


@jit(inline=True)
def _fast_xy(
    lo: int, n: int, codes: CodeArray1D, units: Float64Array1D, tab: Float64Array1D
) -> tuple[float, float]:
    """(x, y) of a row of ``n`` entries without size haircuts.

    Rows are clustered, so neighbours mostly have the same length: rows of up to four
    entries take a straight-line path (no loop exit to mispredict), longer ones the loop.
    """
    if n == 1:
        c = 2 * np.int64(codes[lo])
        u = units[lo]
        return u * tab[c], u * tab[c + 1]
    if n == 2:
        c0 = 2 * np.int64(codes[lo])
        c1 = 2 * np.int64(codes[lo + 1])
        u0 = units[lo]
        u1 = units[lo + 1]
        return u0 * tab[c0] + u1 * tab[c1], u0 * tab[c0 + 1] + u1 * tab[c1 + 1]
    if n == 3:
        c0 = 2 * np.int64(codes[lo])
        c1 = 2 * np.int64(codes[lo + 1])
        c2 = 2 * np.int64(codes[lo + 2])
        u0 = units[lo]
        u1 = units[lo + 1]
        u2 = units[lo + 2]
        x = u0 * tab[c0] + u1 * tab[c1] + u2 * tab[c2]
        return x, u0 * tab[c0 + 1] + u1 * tab[c1 + 1] + u2 * tab[c2 + 1]
    if n == 4:
        c0 = 2 * np.int64(codes[lo])
        c1 = 2 * np.int64(codes[lo + 1])
        c2 = 2 * np.int64(codes[lo + 2])
        c3 = 2 * np.int64(codes[lo + 3])
        u0 = units[lo]
        u1 = units[lo + 1]
        u2 = units[lo + 2]
        u3 = units[lo + 3]
        x = (u0 * tab[c0] + u1 * tab[c1]) + (u2 * tab[c2] + u3 * tab[c3])
        y = (u0 * tab[c0 + 1] + u1 * tab[c1 + 1]) + (u2 * tab[c2 + 1] + u3 * tab[c3 + 1])
        return x, y
    x = 0.0
    y = 0.0
    for j in range(lo, lo + n):
        c = 2 * np.int64(codes[j])
        u = units[j]
        x += u * tab[c]
        y += u * tab[c + 1]
    return x, y


@jit(inline=True)
def _record(
    r: int,
    x: float,
    y: float,
    warn: float,
    status: UInt8Array1D,
    out_rows: Int64Array1D,
    out_prev: UInt8Array1D,
    out_recheck: BoolArray,
    at: int,
) -> int:
    """Decide row ``r`` from (x, y); update its status if it changed; list it if it changed
    or lies near a level (``recheck``: the exact engine decides, the status is left for
    it). Returns 1 if listed at ``at``, else 0."""
    new = status_of(x, y, warn)
    near = near_level(x, y, warn)
    byte = np.int64(status[r])
    old = byte & STATUS_BITS
    if (new != old) | near:  # rare: only here is the status written
        if needs_recheck(x, y, warn):
            out_rows[at] = r
            out_prev[at] = old
            out_recheck[at] = True
            return 1
        status[r] = np.uint8((byte & ~STATUS_BITS) | new)
        out_rows[at] = r
        out_prev[at] = old
        out_recheck[at] = False
        return 1
    return 0


@jit(parallel=True)
def reprice_fast(  # type: ignore[no-untyped-def]
    starts, ends, out_off, indptr, codes, units, tab, warn, status,
    out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """Recompute every row of each range (a book without size haircuts), row by row;
    ``_record`` written out in the loop. The book's full re-price runs the segment kernel
    (:mod:`xmargin.book._numba_segments`), which must list and decide exactly as this
    one (tests/book check it; the benchmark times both)."""
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        hi = indptr[starts[i]]
        for r in range(starts[i], ends[i]):
            lo = hi
            hi = indptr[r + 1]
            x, y = _fast_xy(lo, hi - lo, codes, units, tab)
            new = status_of(x, y, warn)
            near = near_level(x, y, warn)
            byte = np.int64(status[r])
            old = byte & STATUS_BITS
            if (new != old) | near:  # rare: only here is the status written
                if needs_recheck(x, y, warn):
                    out_rows[o + m] = r
                    out_prev[o + m] = old
                    out_recheck[o + m] = True
                    m += 1
                else:
                    status[r] = np.uint8((byte & ~STATUS_BITS) | new)
                    out_rows[o + m] = r
                    out_prev[o + m] = old
                    out_recheck[o + m] = False
                    m += 1
        out_cnt[i] = m


@jit(parallel=True)
def reprice_fast_screened(  # type: ignore[no-untyped-def]
    starts, ends, out_off, indptr, codes, units, tab, warn, status, margin, drift,
    out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """``reprice_fast`` that skips the rows whose margin exceeds ``drift``."""
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        for r in range(starts[i], ends[i]):
            if drift < margin[r]:  # cannot have crossed a level since the reference
                continue
            lo = indptr[r]
            x, y = _fast_xy(lo, indptr[r + 1] - lo, codes, units, tab)
            m += _record(r, x, y, warn, status, out_rows, out_prev, out_recheck, o + m)
        out_cnt[i] = m


@jit(parallel=True)
def reprice_general(  # type: ignore[no-untyped-def]
    starts, ends, out_off, indptr, codes, units, tab, hp, hw, hk, warn, status,
    margin, mode, drift, out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """The three ``reprice_fast*`` kernels for a book with size haircuts (rows flagged
    ``SLOW_ROW`` take the haircut path); ``mode``: 0 recompute, 1 and keep the reference,
    2 screen first."""
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        for r in range(starts[i], ends[i]):
            if mode == 2 and drift < margin[r]:
                continue
            lo = indptr[r]
            if status[r] & SLOW_ROW:
                x, y = _slow_xy(lo, indptr[r + 1], codes, units, tab, hp, hw, hk)
            else:
                x, y = _fast_xy(lo, indptr[r + 1] - lo, codes, units, tab)
            if mode == 1:
                margin[r] = np.float32(screening_margin(x, y, warn))
            m += _record(r, x, y, warn, status, out_rows, out_prev, out_recheck, o + m)
        out_cnt[i] = m


@jit(parallel=True)
def row_sums(rows, indptr, codes, units, tab, hp, hw, hk, mc, md):  # type: ignore[no-untyped-def]
    """maintenance_collateral and maintenance_debt of the listed rows."""
    for i in prange(rows.size):
        r = rows[i]
        mc[i], md[i] = _slow_xy(indptr[r], indptr[r + 1], codes, units, tab, hp, hw, hk)


@jit(parallel=True)
def figures(indptr, codes, units, hp, wi, wm, hk, out):  # type: ignore[no-untyped-def]
    """The six sums of contract section 2 for every row, into ``out`` (6 x n)."""
    n = indptr.size - 1
    for r in prange(n):
        sums = NO_SUMS
        for j in range(indptr[r], indptr[r + 1]):
            c = np.int64(codes[j])
            u = units[j]
            k = hk[c]
            side = c & 1
            w_i = wi[c]
            w_m = wm[c]
            if k > 0.0:
                w_i = effective_weight(side, w_i, k, u)
                w_m = effective_weight(side, w_m, k, u)
            s = 0.0 if side else u
            b = u if side else 0.0
            sums = add_sums(sums, weighted_sums(s, b, hp[c], w_i, w_m, w_i, w_m))
        for i in range(6):
            out[i, r] = sums[i]


@jit(parallel=True)
def summary(indptr, codes, units, hp, status, chunk, out):  # type: ignore[no-untyped-def]
    """Per chunk of rows: liquidatable accounts, their debt_value, insolvent debt (``out``,
    3 x chunks; the caller adds the chunks up)."""
    n = indptr.size - 1
    for i in prange(out.shape[1]):
        n_liq = 0.0
        liq_debt = 0.0
        insolvent = 0.0
        for r in range(i * chunk, min(n, (i + 1) * chunk)):
            cv = 0.0
            dv = 0.0
            for j in range(indptr[r], indptr[r + 1]):
                c = np.int64(codes[j])
                v = units[j] * hp[c]  # units x quote/unit = quote
                if c & 1:
                    dv += v
                else:
                    cv += v
            if (status[r] & STATUS_BITS) == LIQUIDATABLE:
                n_liq += 1.0
                liq_debt += dv
            if dv > cv:
                insolvent += dv - cv
        out[0, i] = n_liq
        out[1, i] = liq_debt
        out[2, i] = insolvent


@jit(parallel=True)
def read_floor(indptr, codes, units):  # type: ignore[no-untyped-def]
    """Read the index and value arrays once, in the kernels' order (a memory floor)."""
    n = indptr.size - 1
    total = 0.0
    for r in prange(n):
        acc = 0.0
        for j in range(indptr[r], indptr[r + 1]):
            acc += codes[j] + units[j]
        total += acc
    return total
