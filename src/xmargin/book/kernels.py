"""The risk book's kernels behind one interface: fused Numba loops, or NumPy columns.

Which backend runs is the package's one policy (:mod:`xmargin.fast.backend`): Numba
where it is installed, else NumPy with one warning; ``backend="numpy"`` (or
``XMARGIN_BACKEND=numpy``) picks NumPy. Both backends call the same float rules
(:mod:`xmargin.fast`) and the same screening rules (:mod:`xmargin.book.screening`);
decisions come out the same either way because the exact re-check covers the band where
floats could disagree (:mod:`xmargin.book.tolerances`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np

from xmargin._typing import (
    BoolArray,
    CodeArray1D,
    Float32Array1D,
    Float64Array1D,
    Float64Array2D,
    IndexArray1D,
    Int64Array1D,
    UInt8Array1D,
)
from xmargin.fast.backend import Backend, per_backend

__all__ = [
    "RECOMPUTE",
    "REFERENCE",
    "SCREENED",
    "Backend",
    "BookArrays",
    "Flagged",
    "Kernels",
    "PriceTables",
    "Reference",
    "kernels_for",
]

#: Codes are uint8 up to 256 codes ((categories + 1) x 2 x assets), else uint16, or
#: uint32 past 65,536.
Codes = CodeArray1D


#: Fewest rows of one code sequence the full re-price prices as a run (shorter runs cost
#: more to switch to than they save: benchmarks/book_runs_sweep.py).
MIN_RUN = 128
#: Longest rows priced as runs (the run sums are written out per length up to this).
RUN_MAX_LEN = 6


@dataclass
class BookArrays:
    """The book's columns: CSR by account over entries (one per asset side held).

    ``indptr`` (n + 1; int32, or int64 past 2**30 entries): row r holds entries
    ``indptr[r]:indptr[r + 1]``; ``codes`` (uint8 up to 256 codes, else uint16, or uint32
    for very wide markets): ``category * 2K + 2 * asset + side`` (side 0 supply, 1
    borrow; category C = none); ``units``: token units of that entry; ``cat``: per
    account, its category index (C = none; uint8 below 256 categories).
    """

    indptr: IndexArray1D
    codes: Codes
    units: Float64Array1D
    cat: CodeArray1D
    _segments: tuple[tuple[int, int, int], Int64Array1D] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _pieces: tuple[tuple[int, int, int, int], tuple[Int64Array1D, Int64Array1D]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def segment_starts(self) -> Int64Array1D:
        """First row of each run of rows of equal length, then the row count (the full
        re-price's segments, :mod:`xmargin.book._numba_segments`). Rebuilt when the
        arrays were replaced or grew (every inserted entry does both)."""
        key = (id(self.indptr), id(self.codes), self.codes.size)
        if self._segments is None or self._segments[0] != key:
            n = self.indptr.size - 1
            lens = np.diff(self.indptr)
            change = np.flatnonzero(lens[1:] != lens[:-1]) + 1
            seg = np.concatenate([[0], change, [n]]).astype(np.int64)
            self._segments = (key, seg)
        return self._segments[1]

    def layout_nbytes(self) -> int:
        """Bytes of the cached segment starts and run pieces."""
        seg = 0 if self._segments is None else self._segments[1].nbytes
        return seg + (0 if self._pieces is None else sum(x.nbytes for x in self._pieces[1]))

    def run_pieces(self, min_run: int = MIN_RUN) -> tuple[Int64Array1D, Int64Array1D]:
        """The full re-price's pieces (:mod:`xmargin.book._numba_segments`): rows
        ``start[k]:start[k + 1]`` (``start`` ends with the row count), all of one length;
        ``template[k]``: the first entry of a run of at least ``min_run`` rows of 1 to
        :data:`RUN_MAX_LEN` entries whose codes are the same sequence (the run's prices
        are loaded once), or -1 (each entry's price looked up). Rebuilt, as the segments,
        when the arrays were replaced or grew."""
        key = (id(self.indptr), id(self.codes), self.codes.size, min_run)
        if self._pieces is None or self._pieces[0] != key:
            self._pieces = (key, _pieces_of(self.indptr, self.codes, min_run))
        return self._pieces[1]


def _pieces_of(
    indptr: IndexArray1D, codes: CodeArray1D, min_run: int
) -> tuple[Int64Array1D, Int64Array1D]:
    """See :meth:`BookArrays.run_pieces`."""
    n = indptr.size - 1
    lens = np.diff(indptr).astype(np.int64)
    row = np.repeat(np.arange(n, dtype=np.int64), lens)
    prev = np.arange(codes.size, dtype=np.int64) - lens[row]  # same slot, row before
    differs = np.ones(codes.size, dtype=bool)
    ok = prev >= 0
    differs[ok] = codes[ok] != codes[prev[ok]]
    same = np.zeros(n, dtype=bool)  # row r's codes are row r - 1's
    if n > 1:
        same[1:] = (np.bincount(row, differs, minlength=n)[1:] == 0) & (lens[1:] == lens[:-1])
    first = np.flatnonzero(~same)
    size = np.diff(np.append(first, n))
    run = (size >= min_run) & (lens[first] > 0) & (lens[first] <= RUN_MAX_LEN)
    cuts = np.concatenate(
        [[0], first[run], first[run] + size[run], np.flatnonzero(lens[1:] != lens[:-1]) + 1]
    )
    bounds = np.unique(cuts[cuts < n]).astype(np.int64) if n else np.zeros(0, np.int64)
    template = np.full(bounds.size, -1, dtype=np.int64)
    is_run = np.isin(bounds, first[run])
    template[is_run] = indptr[bounds[is_run]]
    return np.append(bounds, n).astype(np.int64), template


@dataclass
class PriceTables:
    """Per-code float64 parameters (a code is ``category * 2K + 2 * asset + side``).

    ``hp``: quote per unit of the code's asset; ``hw``: maintenance weight after the
    category rule (supply: liquidation threshold; borrow: maintenance borrow weight);
    ``wi``: initial weight (collateral factor; borrow weight); ``hk``: size factor (0 = no
    haircut); ``tab``: two per code, ``hp x hw`` on the code's side (``tab[2c]`` supply,
    ``tab[2c + 1]`` borrow) and 0 on the other, so that a row's maintenance collateral
    and debt are ``Σ units x tab[2c]`` and ``Σ units x tab[2c + 1]`` (codes without a
    size haircut); ``warn``: the warning level.
    """

    k2: int
    hp: Float64Array1D
    hw: Float64Array1D
    wi: Float64Array1D
    hk: Float64Array1D
    tab: Float64Array1D
    warn: float


#: Re-price modes: recompute every row; and keep the screening reference; screen first.
RECOMPUTE, REFERENCE, SCREENED = 0, 1, 2


@dataclass
class Reference:
    """The screening reference: each row's ``margin`` at the reference prices
    (:func:`xmargin.book.screening.screening_margin`), and ``drift``, the largest relative
    move of any price from those prices since. A row cannot have crossed a level while
    drift < margin. Margins are kept as float32 rounded down; -1 (a row whose balance
    changed since) is never screened out.
    """

    margin: Float32Array1D
    drift: float
    #: rows reset (:meth:`reset`) since the last reference pass, for the tick index
    #: (:mod:`xmargin.book.near_rows`): reset margins only through :meth:`reset`
    _reset: list[Int64Array1D] = field(default_factory=list, repr=False)

    def reset(self, rows: Int64Array1D | int) -> None:
        """Never screen ``rows`` out until the next reference pass (margin -1)."""
        self.margin[rows] = -1.0
        self._reset.append(np.atleast_1d(np.asarray(rows, dtype=np.int64)))

    def reset_rows(self) -> Int64Array1D:
        """The rows reset since the last reference pass (unsorted, maybe repeated)."""
        if len(self._reset) > 1:
            self._reset = [np.concatenate(self._reset)]
        return self._reset[0] if self._reset else np.zeros(0, dtype=np.int64)

    def new_reference(self) -> None:
        """A reference pass wrote every margin: no row is reset any more."""
        self._reset = []
        self.drift = 0.0


class Flagged(NamedTuple):
    """Rows a re-price flagged: status changed, or near a level (exact re-check due)."""

    rows: Int64Array1D
    previous: UInt8Array1D
    recheck: BoolArray


#: Below this many rows a Numba kernel runs on the calling thread alone: waking the
#: worker threads costs more than the work (and much more on a busy machine).
SERIAL_ROWS = 32_768


class Kernels:
    """One backend's kernels behind one typed interface."""

    def __init__(self, name: Literal["numba", "numpy"]) -> None:
        self.name = name
        if name == "numba":
            from xmargin.book import _numba_kernels as impl
            from xmargin.book import _numba_segments
            from xmargin.fast.backend import load_numba

            self._numba: Any = load_numba()
            self._segments: Any = _numba_segments
        else:
            from xmargin.book import _numpy_kernels as impl  # type: ignore[no-redef]
        self._impl: Any = impl

    @contextmanager
    def _threads(self, rows: int) -> Iterator[None]:
        """Run small jobs on one thread (Numba only)."""
        if self.name != "numba" or rows >= SERIAL_ROWS:
            yield
            return
        before = self._numba.get_num_threads()
        self._numba.set_num_threads(1)
        try:
            yield
        finally:
            self._numba.set_num_threads(before)

    def reprice(
        self,
        starts: Int64Array1D,
        ends: Int64Array1D,
        cols: BookArrays,
        t: PriceTables,
        status: UInt8Array1D,
        ref: Reference,
        mode: int = RECOMPUTE,
        general: bool = True,
    ) -> Flagged:
        """Re-price the rows of the ranges ``[starts[i], ends[i])`` (disjoint).

        ``mode``: :data:`RECOMPUTE` every row, :data:`REFERENCE` and keep each row's sums as
        the screening reference, or :data:`SCREENED`: only rows not far from a level given
        ``ref.drift``. ``general=False``: no row holds a size-haircut entry.
        """
        if self.name == "numpy":
            rows, prev, recheck = self._impl.reprice_ranges(
                starts, ends, cols, t, status, ref, mode
            )
            return Flagged(rows, prev, recheck)
        lengths = ends - starts
        out_off = np.cumsum(lengths) - lengths
        total = int(lengths.sum())
        out_rows = np.empty(total, dtype=np.int64)
        out_prev = np.empty(total, dtype=np.uint8)
        out_recheck = np.empty(total, dtype=np.bool_)
        out_cnt = np.zeros(starts.size, dtype=np.int64)
        out = (out_rows, out_prev, out_recheck, out_cnt)
        k = self._impl
        head = (starts, ends, out_off, cols.indptr, cols.codes, cols.units, t.tab)
        with self._threads(total):
            if general:
                k.reprice_general(
                    *head, t.hp, t.hw, t.hk, t.warn, status, ref.margin, mode, ref.drift, *out
                )
            elif mode == SCREENED:
                k.reprice_fast_screened(*head, t.warn, status, ref.margin, ref.drift, *out)
            else:
                self._segments.reprice_segments(
                    starts, ends, out_off, *cols.run_pieces(), *head[3:], t.warn, status,
                    ref.margin, mode == REFERENCE, *out,
                )  # fmt: skip
        n = int(out_cnt.sum())
        if n == 0:
            return Flagged(out_rows[:0], out_prev[:0], out_recheck[:0])
        first = np.repeat(out_off - (np.cumsum(out_cnt) - out_cnt), out_cnt)
        idx = first + np.arange(n, dtype=np.int64)
        return Flagged(out_rows[idx], out_prev[idx], out_recheck[idx])

    def reprice_rows(
        self,
        rows: Int64Array1D,
        cols: BookArrays,
        t: PriceTables,
        status: UInt8Array1D,
        ref: Reference,
    ) -> Flagged:
        """:meth:`reprice` of the ranges ``[rows[i], rows[i] + 1)`` in :data:`SCREENED`
        mode (``rows`` sorted, unique): a tick's few rows, on one thread."""
        if self.name == "numpy":
            return self.reprice(rows, rows + 1, cols, t, status, ref, SCREENED)
        from xmargin.book._numba_tick_kernels import reprice_rows

        out_rows = np.empty(rows.size, dtype=np.int64)
        out_prev = np.empty(rows.size, dtype=np.uint8)
        out_recheck = np.empty(rows.size, dtype=np.bool_)
        n = reprice_rows(  # type: ignore[no-untyped-call]
            rows, cols.indptr, cols.codes, cols.units, t.tab, t.hp, t.hw, t.hk, t.warn,
            status, ref.margin, ref.drift, out_rows, out_prev, out_recheck,
        )  # fmt: skip
        return Flagged(out_rows[:n], out_prev[:n], out_recheck[:n])

    def row_sums(
        self, rows: Int64Array1D, cols: BookArrays, t: PriceTables
    ) -> tuple[Float64Array1D, Float64Array1D]:
        """(maintenance_collateral, maintenance_debt) of the listed rows, in quote."""
        if self.name == "numpy":
            mc, md = self._impl.row_sums(rows, cols, t)
            return mc, md
        mc = np.empty(rows.size)
        md = np.empty(rows.size)
        with self._threads(rows.size):
            self._impl.row_sums(
                rows, cols.indptr, cols.codes, cols.units, t.tab, t.hp, t.hw, t.hk, mc, md
            )
        return mc, md

    def figures(self, cols: BookArrays, t: PriceTables) -> Float64Array2D:
        """(cv, dv, ic, id, mc, md) x accounts, in quote (contract section 2)."""
        if self.name == "numpy":
            out: Float64Array2D = self._impl.figures(cols, t)
            return out
        out = np.empty((6, cols.indptr.size - 1))
        with self._threads(out.shape[1]):
            self._impl.figures(cols.indptr, cols.codes, cols.units, t.hp, t.wi, t.hw, t.hk, out)
        return out

    def summary(
        self, cols: BookArrays, t: PriceTables, status: UInt8Array1D
    ) -> tuple[int, float, float]:
        """(liquidatable accounts, their debt_value, insolvent debt), in one pass."""
        if self.name == "numpy":
            n, liq_debt, insolvent = self._impl.summary(cols, t, status)
            return int(n), float(liq_debt), float(insolvent)
        chunk = 4096
        out = np.zeros((3, max(1, -(-(cols.indptr.size - 1) // chunk))))
        with self._threads(cols.indptr.size - 1):
            self._impl.summary(cols.indptr, cols.codes, cols.units, t.hp, status, chunk, out)
        n_liq, liq_debt, insolvent = out.sum(axis=1)
        return int(n_liq), float(liq_debt), float(insolvent)

    def read_floor(self, cols: BookArrays) -> float:
        """Read ``indptr``, ``codes`` and ``units`` once (the benchmark's memory floor)."""
        if self.name == "numpy":
            return float(self._impl.read_floor(cols))
        with self._threads(cols.indptr.size - 1):
            return float(self._impl.read_floor(cols.indptr, cols.codes, cols.units))


#: The kernels of a backend (``auto``: the package's policy, :mod:`xmargin.fast.backend`).
kernels_for = per_backend(Kernels)
