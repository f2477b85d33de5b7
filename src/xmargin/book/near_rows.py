"""Which rows a one-asset tick must re-price: per asset, its holders near a level.

A screened re-price (:data:`~xmargin.book.kernels.SCREENED`) recomputes a row only
when ``drift < margin`` fails (:class:`~xmargin.book.kernels.Reference`); and a tick
is screened only while ``drift`` <= ``limit`` (the book's ``RESET_DRIFT``: past it the
whole book is recomputed). So the holders whose reference margin exceeds ``limit`` (a
few percent of them, measured: 5.7 % at 2 %) can never be reached by a tick. Per asset,
built at its first tick after a reference pass, this index keeps the other holders
and their margins (in row order), so that a tick finds the rows the drift reaches in a
short list instead of reading the margin of every holder.

Margins written since the build are not in the index: a reset (-1,
:meth:`Reference.reset`) notes its rows, which every tick adds as candidates if they
lie in the moved assets' ranges; a margin raised to +inf (a perp row) is left in, and
the kernels' own ``drift < margin`` test, on the live margins, skips it. The candidate
rows are thus a superset of the rows the screened kernels would recompute, and those
kernels, run over the candidates only, recompute, decide and list exactly those rows.
"""

from __future__ import annotations

import numpy as np

from xmargin._typing import Float32Array1D, Int32Array1D, Int64Array1D
from xmargin.book.build import Runs
from xmargin.book.kernels import Reference

__all__ = ["NearRows"]


def _rows_of_ranges(starts: Int64Array1D, ends: Int64Array1D) -> Int64Array1D:
    counts = ends - starts
    first = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    out: Int64Array1D = first + np.arange(int(counts.sum()), dtype=np.int64)
    return out


def _at_most(drift: float) -> np.float32:
    """The largest float32 <= ``drift``: ``m <= drift`` iff ``m <= _at_most(drift)``."""
    v = np.float32(drift)
    if float(v) > drift:
        v = np.nextafter(v, np.float32(-np.inf))
    return v


class NearRows:
    """Per asset, the holders a tick may have to re-price (module docstring)."""

    def __init__(self, limit: float) -> None:
        self._limit = limit
        self._rows: dict[int, tuple[Int32Array1D, Float32Array1D]] = {}

    def clear(self) -> None:
        """Forget every asset's list (after a reference pass: the margins are new)."""
        self._rows = {}

    def _build(
        self, runs: Runs, a: int, margin: Float32Array1D
    ) -> tuple[Int32Array1D, Float32Array1D]:
        rows = _rows_of_ranges(runs.starts[a], runs.ends[a])
        m = margin[rows]
        key = np.where(np.isnan(m), np.float32(-np.inf), m)  # NaN: always re-priced
        keep = key <= self._limit
        return rows[keep].astype(np.int32), np.ascontiguousarray(key[keep])

    def candidates(
        self,
        assets: list[int],
        runs: Runs,
        ref: Reference,
        starts: Int64Array1D,
        ends: Int64Array1D,
    ) -> Int64Array1D:
        """Sorted rows holding ``assets`` that a screened pass over the ranges
        ``[starts, ends)`` (those assets' holders, sorted and disjoint) may recompute."""
        cut = _at_most(ref.drift)
        parts: list[Int64Array1D] = []
        for a in assets:
            got = self._rows.get(a)
            if got is None:
                got = self._rows[a] = self._build(runs, a, ref.margin)
            rows, key = got
            parts.append(rows[key <= cut].astype(np.int64))  # in row order
        reset = ref.reset_rows()
        if reset.size and starts.size:
            i = np.searchsorted(starts, reset, side="right") - 1
            inside = (i >= 0) & (reset < ends[np.maximum(i, 0)])
            parts.append(reset[inside])
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return starts[:0]
        out = np.concatenate(parts)
        out.sort()
        keep = np.ones(out.size, dtype=bool)
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        result: Int64Array1D = out[keep]
        return result

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes + k.nbytes for r, k in self._rows.values())
