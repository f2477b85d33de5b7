"""The option pass of a re-price: rows holding options (or under portfolio margin) decided
with their option terms, beside the perp pass (:mod:`xmargin.book.perp_pass`).

A row of :class:`~xmargin.book.option_book.BookOptions` is decided here from its spot
sums, its perp terms (one combined pass for a row holding both) and its standard-margin
option terms, with the band of the exact engine widened by the float error of those
terms: ``4·REL_TOL·Σ|q|·(F + K + S)`` (the float option rules are property-tested to
``REL_TOL`` of that scale) and the perps' own widening. Portfolio-margined rows are
always handed to the exact engine (6.3: their balances of an underlying change weight).

The same terms join the book's figures, its liquidation queue and the ``stress`` summary
(:func:`option_figures`, :func:`option_maintenance`, :func:`option_summary`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from xmargin._typing import Float64Array1D, Float64Array2D, Int64Array1D, UInt8Array1D
from xmargin.book.kernels import BookArrays, Flagged, Kernels, PriceTables, Reference
from xmargin.book.option_book import BookOptions
from xmargin.book.perp_columns import PerpBook
from xmargin.book.perp_pass import PERP_ROW
from xmargin.book.screening import band
from xmargin.book.tolerances import REL_TOL, STATUS_BITS
from xmargin.fast.health import LIQUIDATABLE, status_of
from xmargin.risk.health import AccountHealth

__all__ = [
    "ExactHealth",
    "option_figures",
    "option_maintenance",
    "option_summary",
    "redecide_options",
    "split_extra",
]

#: The exact figures of a book row (the exact bridge's).
ExactHealth = Callable[[int], AccountHealth]
#: Headroom over the tested float error of the option terms.
_WIDEN = 4.0


def split_extra(
    perps: PerpBook, options: BookOptions, extra: Int64Array1D | None
) -> Int64Array1D | None:
    """The ``extra`` rows the perp pass decides: those holding perps (the option pass
    takes the rest, and decides again any that also hold options)."""
    if extra is None or not options.any:
        return extra
    out: Int64Array1D = extra[perps.mask[extra]]
    return out


def _with_terms(
    k: Kernels, a: BookArrays, t: PriceTables, perps: PerpBook, options: BookOptions,
    rows: Int64Array1D,
) -> tuple[Float64Array1D, Float64Array1D, Float64Array1D]:  # fmt: skip
    """(mc, md, error scale) of ``rows`` with their perp and option terms."""
    x, y = k.row_sums(rows, a, t)
    scale = _WIDEN * options.error_scale(rows)
    if perps.any:
        held = perps.mask[rows]
        if held.any():
            add, perp_scale, _ = perps.sums(rows[held])
            x[held] += add[4]
            y[held] += add[5]
            scale[held] += perp_scale
    terms = options.cols.terms[rows]
    return x + terms[:, 4], y + terms[:, 5], scale


def redecide_options(
    k: Kernels,
    a: BookArrays,
    t: PriceTables,
    perps: PerpBook,
    options: BookOptions,
    status: UInt8Array1D,
    ref: Reference,
    rows: Int64Array1D,
    before: UInt8Array1D,
    flagged: Flagged,
) -> Flagged:
    """Decide ``rows`` (of ``options``; ``before``: their status bytes before the spot
    and perp passes) with every term; the flagged rows of those passes with theirs
    replaced. Portfolio-margined rows are flagged for the exact engine."""
    ref.margin[rows] = PERP_ROW  # the spot screening skips them: decided here each time
    x, y, scale = _with_terms(k, a, t, perps, options, rows)
    warn = t.warn
    tol = band(x, y) + REL_TOL * scale
    near = (np.abs(x - y) <= tol) | (np.abs(x - warn * y) <= (0.5 + 0.5 * warn) * tol)
    recheck = ((y > 0.0) & near) | options.portfolio[rows]
    new = status_of(x, y, warn).astype(np.int64)
    byte = before.astype(np.int64)
    was = byte & STATUS_BITS
    moved = (new != was) & ~recheck
    status[rows] = ((byte & ~STATUS_BITS) | np.where(moved, new, was)).astype(np.uint8)
    keep = moved | recheck
    other = ~options.mask[flagged.rows]
    return Flagged(
        np.concatenate([flagged.rows[other], rows[keep]]),
        np.concatenate([flagged.previous[other], was[keep].astype(np.uint8)]),
        np.concatenate([flagged.recheck[other], recheck[keep]]),
    )


def option_maintenance(
    options: BookOptions,
    rows: Int64Array1D,
    mc: Float64Array1D,
    md: Float64Array1D,
    exact: ExactHealth,
) -> None:
    """Add the option terms to ``rows``' (mc, md) with perps (in place); a
    portfolio-margined row takes the exact engine's figures."""
    if not options.any or not rows.size:
        return
    held = options.mask[rows]
    terms = options.cols.terms[rows[held]]
    mc[held] += terms[:, 4]
    md[held] += terms[:, 5]
    for i in np.flatnonzero(options.portfolio[rows]).tolist():
        h = exact(int(rows[i]))
        mc[i], md[i] = float(h.maintenance_collateral), float(h.maintenance_debt)


def option_figures(
    options: BookOptions, out: Float64Array2D, exact: ExactHealth
) -> tuple[Float64Array1D, list[tuple[int, AccountHealth]]]:
    """Add the option terms to the book's figures ``out`` (6 x rows, perps in; in
    place); ``option_value`` per row, and the exact figures of the portfolio-margined
    rows (which the floats do not hold)."""
    value = options.cols.terms[:, 6].copy()
    out += options.cols.terms[:, :6].T
    held = [(r, exact(r)) for r in np.flatnonzero(options.portfolio).tolist()]
    for r, h in held:
        value[r] = float(h.option_value)
    return value, held


def option_summary(
    a: BookArrays,
    t: PriceTables,
    perps: PerpBook,
    options: BookOptions,
    status: UInt8Array1D,
    exact: ExactHealth,
) -> tuple[float, float]:
    """What options change in the ``stress`` summary's (liquidatable debt_value,
    insolvent debt), over what the spot and perp terms give: each option row's
    debt_value gains its short mtm, and max(dv − cv, 0) is taken with its terms (the
    exact figures for a portfolio-margined row)."""
    rows = options.rows
    i, owner = _entries(a, rows)
    code = a.codes[i].astype(np.int64)
    v = a.units[i] * t.hp[code]
    borrow = (code & 1) == 1
    cv = np.bincount(owner, weights=np.where(borrow, 0.0, v), minlength=rows.size)
    dv = np.bincount(owner, weights=np.where(borrow, v, 0.0), minlength=rows.size)
    if perps.any:
        held = perps.mask[rows]
        if held.any():
            add, _, _ = perps.sums(rows[held])
            cv[held] += add[0]
            dv[held] += add[1]
    terms = options.cols.terms[rows]
    cv2, dv2 = cv + terms[:, 0], dv + terms[:, 1]
    for j in np.flatnonzero(options.portfolio[rows]).tolist():
        h = exact(int(rows[j]))
        cv2[j], dv2[j] = float(h.collateral_value), float(h.debt_value)
    liq = (status[rows] & STATUS_BITS) == LIQUIDATABLE
    before = np.maximum(dv - cv, 0.0)
    after = np.maximum(dv2 - cv2, 0.0)
    return float((dv2 - dv)[liq].sum()), float((after - before).sum())


def _entries(a: BookArrays, rows: Int64Array1D) -> tuple[Int64Array1D, Int64Array1D]:
    from xmargin.book.option_book import gather_rows

    return gather_rows(a.indptr, rows)
