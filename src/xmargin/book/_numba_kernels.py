"""Fused Numba kernels of the risk book (the ``fast`` extra); see :mod:`xmargin.book.kernels`.

Each kernel walks CSR rows (accounts) and keeps its sums in registers. The NumPy module
:mod:`xmargin.book._numpy_kernels` computes the same figures; a test holds the two to
the same results.

A code is ``category * 2K + 2 * asset + side`` (side 0 supply, 1 borrow); ``tab`` holds
two float64 per code: ``tab[2c] = ±price x weight`` (+ supply, − borrow) and
``tab[2c + 1] = price x weight``; codes with a size haircut (``hk > 0``) take their
weights from ``hp``, ``hw`` and ``hk``, in rows flagged as slow. With x the
maintenance_collateral, y the maintenance_debt and L the warning level, a row's two sums
are d = x − y and S = x + y; then

    liquidatable  <=>  d < 0,        at risk or worse  <=>  (1 + L) d − (L − 1) S < 0,

since (1 + L)(x − y) − (L − 1)(x + y) = 2 (x − L y).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from xmargin.book.tolerances import (
    ABS_TOL,
    LIABILITY_BASE,
    REL_TOL,
    SIZE_CAP,
    SLOW_ROW,
    STATUS_BITS,
)

# The kernels are untyped for mypy; ``xmargin.book.kernels`` gives them typed wrappers.


@njit(cache=True, inline="always")
def _haircut(c, u, hp, hw, hk):  # type: ignore[no-untyped-def]
    """Quote value of a size-haircut entry, with its effective weight (contract 1.2)."""
    w = hw[c]
    k = hk[c]
    root = np.sqrt(u)
    if c & 1:
        g = LIABILITY_BASE * w + k * root  # lw_eff = max(lw, 0.8 lw + k sqrt(b))
        w = max(w, g)
        return u * hp[c] * w
    cap = SIZE_CAP / (1.0 + k * root)  # w_eff = min(w, 1.1 / (1 + k sqrt(s)))
    w = min(w, cap)
    return u * hp[c] * w


@njit(cache=True, inline="always")
def _slow_ds(lo, hi, codes, units, tab, hp, hw, hk):  # type: ignore[no-untyped-def]
    """(x − y, x + y) of a row holding size-haircut entries."""
    d = 0.0
    s = 0.0
    for j in range(lo, hi):
        c = np.int64(codes[j])
        u = units[j]
        if hk[c] > 0.0:
            v = _haircut(c, u, hp, hw, hk)
            s += v
            d += -v if c & 1 else v
        else:
            d += u * tab[2 * c]  # units x (± quote/unit x weight) = ± quote
            s += u * tab[2 * c + 1]
    return d, s


@njit(cache=True, inline="always")
def _fast_ds(lo, n, codes, units, tab):  # type: ignore[no-untyped-def]
    """(x − y, x + y) of a row of ``n`` entries without size haircuts.

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
        d = u0 * tab[c0] + u1 * tab[c1] + u2 * tab[c2]
        return d, u0 * tab[c0 + 1] + u1 * tab[c1 + 1] + u2 * tab[c2 + 1]
    if n == 4:
        c0 = 2 * np.int64(codes[lo])
        c1 = 2 * np.int64(codes[lo + 1])
        c2 = 2 * np.int64(codes[lo + 2])
        c3 = 2 * np.int64(codes[lo + 3])
        u0 = units[lo]
        u1 = units[lo + 1]
        u2 = units[lo + 2]
        u3 = units[lo + 3]
        d = (u0 * tab[c0] + u1 * tab[c1]) + (u2 * tab[c2] + u3 * tab[c3])
        s = (u0 * tab[c0 + 1] + u1 * tab[c1 + 1]) + (u2 * tab[c2 + 1] + u3 * tab[c3 + 1])
        return d, s
    d = 0.0
    s = 0.0
    for j in range(lo, lo + n):
        c = 2 * np.int64(codes[j])
        u = units[j]
        d += u * tab[c]
        s += u * tab[c + 1]
    return d, s


@njit(cache=True, inline="always")
def _record(r, d, s, q, status, out_rows, out_prev, out_recheck, at):  # type: ignore[no-untyped-def]
    """Decide row ``r`` from (d, s); update its status if it changed; list it if it changed
    or lies near a level (``recheck``: the exact engine decides, the status is left for
    it). Returns 1 if listed at ``at``, else 0.

    With q = (L − 1) / (L + 1): d − q s = 2 (x − L y) / (L + 1), so x < L y <=> d < q s.
    """
    qs = q * s
    new = np.int64(d < 0.0) + np.int64(d < qs)
    t = REL_TOL * s + ABS_TOL
    near = (abs(d) <= t) | (abs(d - qs) <= t)
    byte = np.int64(status[r])
    old = byte & STATUS_BITS
    if (new != old) | near:  # rare: only here is the status written
        if near and s > d:  # s > d: the account has debt
            out_rows[at] = r
            out_prev[at] = old
            out_recheck[at] = True
            return 1
        if new != old:
            status[r] = np.uint8((byte & ~STATUS_BITS) | new)
            out_rows[at] = r
            out_prev[at] = old
            out_recheck[at] = False
            return 1
    return 0


@njit(cache=True, inline="always")
def _margin(d, s, a1, a2):  # type: ignore[no-untyped-def]
    """The screening margin of a row (see ``xmargin.book.kernels.Reference``), float32
    rounded down; negative where the row must always be re-priced."""
    t = REL_TOL * s + ABS_TOL
    e = a1 * d - a2 * s
    num = min(abs(d) - 2.0 * t, (abs(e) - 2.0 * a1 * t) / (a1 + a2))
    if s > 0.0 and num > 0.0:
        return np.float32(num / s * (1.0 - 1e-6))  # below the margin despite rounding
    return np.float32(-1.0)


@njit(parallel=True, cache=True)
def reprice_fast(  # type: ignore[no-untyped-def]
    starts, ends, out_off, indptr, codes, units, tab, warn, status,
    out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """Recompute every row of each range (a book without size haircuts); ``_record``
    written out in the loop (the hottest one: a call there costs a fifth of the pass)."""
    q = (warn - 1.0) / (warn + 1.0)
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        hi = indptr[starts[i]]
        for r in range(starts[i], ends[i]):
            lo = hi
            hi = indptr[r + 1]
            d, s = _fast_ds(lo, hi - lo, codes, units, tab)
            qs = q * s
            new = np.int64(d < 0.0) + np.int64(d < qs)
            t = REL_TOL * s + ABS_TOL
            near = (abs(d) <= t) | (abs(d - qs) <= t)
            byte = np.int64(status[r])
            old = byte & STATUS_BITS
            if (new != old) | near:  # rare: only here is the status written
                if near and s > d:  # s > d: the account has debt
                    out_rows[o + m] = r
                    out_prev[o + m] = old
                    out_recheck[o + m] = True
                    m += 1
                elif new != old:
                    status[r] = np.uint8((byte & ~STATUS_BITS) | new)
                    out_rows[o + m] = r
                    out_prev[o + m] = old
                    out_recheck[o + m] = False
                    m += 1
        out_cnt[i] = m


@njit(parallel=True, cache=True)
def reprice_fast_reference(  # type: ignore[no-untyped-def]
    starts, ends, out_off, indptr, codes, units, tab, warn, status, margin,
    out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """``reprice_fast`` that also keeps each row's screening margin (``_margin``)."""
    a1 = 1.0 + warn
    a2 = warn - 1.0
    q = (warn - 1.0) / (warn + 1.0)
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        hi = indptr[starts[i]]
        for r in range(starts[i], ends[i]):
            lo = hi
            hi = indptr[r + 1]
            d, s = _fast_ds(lo, hi - lo, codes, units, tab)
            margin[r] = _margin(d, s, a1, a2)
            m += _record(r, d, s, q, status, out_rows, out_prev, out_recheck, o + m)
        out_cnt[i] = m


@njit(parallel=True, cache=True)
def reprice_fast_screened(  # type: ignore[no-untyped-def]
    starts, ends, out_off, indptr, codes, units, tab, warn, status, margin, drift,
    out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """``reprice_fast`` that skips the rows whose margin exceeds ``drift``."""
    q = (warn - 1.0) / (warn + 1.0)
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        for r in range(starts[i], ends[i]):
            if drift < margin[r]:  # cannot have crossed a level since the reference
                continue
            lo = indptr[r]
            d, s = _fast_ds(lo, indptr[r + 1] - lo, codes, units, tab)
            m += _record(r, d, s, q, status, out_rows, out_prev, out_recheck, o + m)
        out_cnt[i] = m


@njit(parallel=True, cache=True)
def reprice_general(  # type: ignore[no-untyped-def]
    starts, ends, out_off, indptr, codes, units, tab, hp, hw, hk, warn, status,
    margin, mode, drift, out_rows, out_prev, out_recheck, out_cnt,
):  # fmt: skip
    """The three ``reprice_fast*`` kernels for a book with size haircuts (rows flagged
    ``SLOW_ROW`` take the haircut path); ``mode``: 0 recompute, 1 and keep the reference,
    2 screen first."""
    a1 = 1.0 + warn
    a2 = warn - 1.0
    q = (warn - 1.0) / (warn + 1.0)
    for i in prange(starts.size):
        o = out_off[i]
        m = 0
        for r in range(starts[i], ends[i]):
            if mode == 2 and drift < margin[r]:
                continue
            lo = indptr[r]
            if status[r] & SLOW_ROW:
                d, s = _slow_ds(lo, indptr[r + 1], codes, units, tab, hp, hw, hk)
            else:
                d, s = _fast_ds(lo, indptr[r + 1] - lo, codes, units, tab)
            if mode == 1:
                margin[r] = _margin(d, s, a1, a2)
            m += _record(r, d, s, q, status, out_rows, out_prev, out_recheck, o + m)
        out_cnt[i] = m


@njit(parallel=True, cache=True)
def row_sums(rows, indptr, codes, units, tab, hp, hw, hk, mc, md):  # type: ignore[no-untyped-def]
    """maintenance_collateral and maintenance_debt of the listed rows."""
    for i in prange(rows.size):
        r = rows[i]
        x = 0.0
        y = 0.0
        for j in range(indptr[r], indptr[r + 1]):
            c = np.int64(codes[j])
            u = units[j]
            v = _haircut(c, u, hp, hw, hk) if hk[c] > 0.0 else u * tab[2 * c + 1]
            if c & 1:
                y += v
            else:
                x += v
        mc[i] = x
        md[i] = y


@njit(parallel=True, cache=True)
def figures(indptr, codes, units, hp, wi, wm, hk, out):  # type: ignore[no-untyped-def]
    """The six sums of contract section 2 for every row, into ``out`` (6 x n)."""
    n = indptr.size - 1
    for r in prange(n):
        cv = 0.0
        ic = 0.0
        mc = 0.0
        dv = 0.0
        id_ = 0.0
        md = 0.0
        for j in range(indptr[r], indptr[r + 1]):
            c = np.int64(codes[j])
            u = units[j]
            k = hk[c]
            w_i = wi[c]
            w_m = wm[c]
            v = u * hp[c]  # units x quote/unit = quote
            if c & 1:
                if k > 0.0:
                    g = k * np.sqrt(u)
                    w_i = max(w_i, LIABILITY_BASE * w_i + g)
                    w_m = max(w_m, LIABILITY_BASE * w_m + g)
                dv += v
                id_ += v * w_i
                md += v * w_m
            else:
                if k > 0.0:
                    cap = SIZE_CAP / (1.0 + k * np.sqrt(u))
                    w_i = min(w_i, cap)
                    w_m = min(w_m, cap)
                cv += v
                ic += v * w_i
                mc += v * w_m
        out[0, r] = cv
        out[1, r] = dv
        out[2, r] = ic
        out[3, r] = id_
        out[4, r] = mc
        out[5, r] = md


@njit(parallel=True, cache=True)
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
                v = units[j] * hp[c]
                if c & 1:
                    dv += v
                else:
                    cv += v
            if (status[r] & 3) == 2:
                n_liq += 1.0
                liq_debt += dv
            if dv > cv:
                insolvent += dv - cv
        out[0, i] = n_liq
        out[1, i] = liq_debt
        out[2, i] = insolvent


@njit(parallel=True, cache=True)
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
