"""The perp pass of a re-price: rows holding perps decided with their perp terms.

The spot kernels (:mod:`xmargin.book.kernels`) sum each row's balances and decide its
status; the rows that hold perps are decided here instead: their spot sums
(``row_sums``; the Numba kernel sums them itself, in the same pass) plus what their
positions add to maintenance collateral and debt, from the status they had before the
spot pass, with the band widened for PnL
(:func:`~xmargin.book.perp_columns.perp_recheck`).

A screened spot pass (a tick) skips perp rows: their spot reference margin is kept at
+inf (``PERP_ROW``). Their own screening margin, which moves PnL with the underlying, is
the perp book's (:func:`~xmargin.book.perp_columns.perp_screening_margin`). A row whose
reference margin is not +inf was reset since (a balance, a position or a funding index
changed), or the spot reference pass ran over it: it is decided here whatever the drift.
A whole-book pass lets the spot kernels run over perp rows too (their spot statuses are
then replaced here): measured, screening them out of a recompute costs more than it saves.
"""

from __future__ import annotations

import numpy as np

from xmargin._typing import Float64Array1D, Int64Array1D, UInt8Array1D
from xmargin.book.kernels import (
    REFERENCE,
    SCREENED,
    BookArrays,
    Flagged,
    Kernels,
    PriceTables,
    Reference,
)
from xmargin.book.perp_columns import (
    PerpBook,
    merge_rows,
    perp_recheck,
    perp_screening_margin,
)
from xmargin.book.tolerances import STATUS_BITS
from xmargin.fast.health import LIQUIDATABLE, status_of

__all__ = [
    "PERP_ROW",
    "maintenance_sums",
    "perp_summary",
    "redecide",
    "rows_to_decide",
]

#: The spot reference margin of a perp row: the spot kernels' screening skips it.
PERP_ROW = np.float32(np.inf)


def _live(perps: PerpBook, ref: Reference, rows: Int64Array1D) -> Int64Array1D:
    """The rows a screened pass must decide: reset since (their spot reference margin is
    not ``PERP_ROW``) or reached by the drift."""
    keep = (ref.margin[rows] != PERP_ROW) | ~(ref.drift < perps.margin[rows])
    out: Int64Array1D = rows[keep]
    return out


def rows_to_decide(
    perps: PerpBook,
    ref: Reference,
    starts: Int64Array1D,
    ends: Int64Array1D,
    extra: Int64Array1D | None,
    mode: int,
) -> Int64Array1D:
    """The perp rows a pass over the ranges decides (sorted): those within the ranges and
    the ``extra`` ones (holders of a moved underlying or perp); screened first in a
    :data:`SCREENED` pass, so that a tick merges only the few rows it must decide."""
    rows = perps.in_ranges(starts, ends)
    if mode == SCREENED:
        rows = _live(perps, ref, rows)
        extra = None if extra is None else _live(perps, ref, extra)
    return rows if extra is None else merge_rows(rows, extra)


def maintenance_sums(
    k: Kernels, rows: Int64Array1D, a: BookArrays, t: PriceTables, perps: PerpBook
) -> tuple[Float64Array1D, Float64Array1D]:
    """(maintenance_collateral, maintenance_debt) of ``rows``, perps included."""
    mc, md = k.row_sums(rows, a, t)
    if perps.any and rows.size:
        held = perps.mask[rows]
        if held.any():
            add, _, _ = perps.sums(rows[held])
            mc[held] += add[4]
            md[held] += add[5]
    return mc, md


def redecide(
    k: Kernels,
    a: BookArrays,
    t: PriceTables,
    perps: PerpBook,
    status: UInt8Array1D,
    ref: Reference,
    rows: Int64Array1D,
    before: UInt8Array1D,
    spot: Flagged,
    mode: int,
) -> Flagged:
    """Decide ``rows`` (holding perps; ``before``: their status bytes before the spot
    pass) with their perp terms; the flagged rows of the spot pass with theirs replaced.

    ``mode`` as the spot kernels' (``rows`` screened already, :func:`rows_to_decide`):
    :data:`REFERENCE` keeps each row's margin
    (:func:`~xmargin.book.perp_columns.perp_screening_margin`).
    """
    if k.name == "numba":  # one kernel: spot sums, perp terms, decisions
        from xmargin.book._perp_numba_kernels import perp_decide

        c, pt = perps.cols, perps.tables
        old = np.empty(rows.size, dtype=np.uint8)
        keep = np.empty(rows.size, dtype=np.bool_)
        recheck = np.empty(rows.size, dtype=np.bool_)
        with k._threads(rows.size):  # one thread for a small pass, as the spot kernels
            perp_decide(  # type: ignore[no-untyped-call]
                rows, a.indptr, a.codes, a.units, t.tab, t.hp, t.hw, t.hk, ref.margin,
                PERP_ROW, c.indptr, c.perp, c.size, c.entry, c.f, perps.rm, perps.price,
                pt.funding_index, t.warn, before, status, perps.margin, mode == REFERENCE,
                old, keep, recheck,
            )  # fmt: skip
    else:
        ref.margin[rows] = PERP_ROW
        mc, md = k.row_sums(rows, a, t)
        add, scale, size = perps.sums(rows)
        x, y = mc + add[4], md + add[5]
        if mode == REFERENCE:
            with np.errstate(divide="ignore", invalid="ignore"):
                margin = perp_screening_margin(x, y, mc, md, size, scale, t.warn)
            perps.margin[rows] = margin.astype(np.float32)
        new = status_of(x, y, t.warn).astype(np.int64)
        recheck = perp_recheck(x, y, scale, t.warn)
        byte = before.astype(np.int64)
        was = byte & STATUS_BITS
        moved = (new != was) & ~recheck
        status[rows] = ((byte & ~STATUS_BITS) | np.where(moved, new, was)).astype(np.uint8)
        keep = moved | recheck
        old = was.astype(np.uint8)
    other = ~perps.mask[spot.rows]
    return Flagged(
        np.concatenate([spot.rows[other], rows[keep]]),
        np.concatenate([spot.previous[other], old[keep]]),
        np.concatenate([spot.recheck[other], recheck[keep]]),
    )


def perp_summary(
    a: BookArrays, t: PriceTables, perps: PerpBook, status: UInt8Array1D
) -> tuple[float, float]:
    """What perps change in the ``stress`` summary's (liquidatable debt_value, insolvent
    debt): the perp rows' debt_value gains their losses, and each perp row's
    max(dv − cv, 0) is taken with its PnL."""
    rows = perps.rows
    lo = a.indptr[rows]
    counts = a.indptr[rows + 1] - lo
    owner = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    first = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    i = first + np.arange(owner.size, dtype=np.int64)
    code = a.codes[i].astype(np.int64)
    v = a.units[i] * t.hp[code]
    borrow = (code & 1) == 1
    cv = np.bincount(owner, weights=np.where(borrow, 0.0, v), minlength=rows.size)
    dv = np.bincount(owner, weights=np.where(borrow, v, 0.0), minlength=rows.size)
    add, _, _ = perps.sums(rows)
    liq = (status[rows] & STATUS_BITS) == LIQUIDATABLE
    before = np.maximum(dv - cv, 0.0)
    after = np.maximum(dv + add[1] - cv - add[0], 0.0)
    return float(add[1][liq].sum()), float((after - before).sum())
