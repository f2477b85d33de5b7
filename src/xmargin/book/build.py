"""From positions to the book's layout: CSR entries, clustered rows, per-asset runs.

Layout, per position (an account's supply and borrow of one asset): one *entry* per
non-zero side, ``codes`` (``category * 2K + 2 * asset + side``: uint8 where the market
has at most 256 codes, else uint16) and ``units`` (float64): 9 or 10 bytes an entry. Per
account: ``indptr`` (int32 below 2**31 entries, else int64), ``cat`` (uint8 below 256
categories), a status byte and its place in the file (int32 below 2**31 accounts).

Rows are *clustered*: sorted by how many entries they hold, then by the set of assets
they hold (the most widely held asset first), then by their sequence of codes (so rows
whose entries carry the same codes in the same order are adjacent: the full re-price
loads such a run's prices once, :meth:`xmargin.book.kernels.BookArrays.run_pieces`).
Rows of one length are then one run of
rows, so the full re-price reads them as a few long segments of equal-length rows with no
row index (:mod:`xmargin.book._numba_segments`); inside a length the accounts that hold
one asset form a few long runs of rows. A price tick then re-prices those runs,
contiguous in memory, instead of scattered rows; the runs (start, end) of each asset
replace a per-position index by asset. The book's row order is internal: ids, outputs
and events are in file order through ``file_index``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from xmargin._typing import Float64Array1D, IndexArray1D, Int64Array1D, UInt16Array1D
from xmargin.book.kernels import BookArrays

__all__ = [
    "CHUNK_ROWS",
    "Built",
    "Runs",
    "build_layout",
    "chunk_ranges",
    "merge_ranges",
    "runs_of",
    "runs_of_arrays",
]

#: Rows per unit of parallel work in a re-price.
CHUNK_ROWS = 4096
#: Below this many entries ``indptr`` is int32 (room left for entries added later).
INDPTR32_LIMIT = 1 << 30


@dataclass
class Runs:
    """Per asset, the sorted disjoint row ranges ``[start, end)`` of accounts holding it."""

    starts: list[Int64Array1D]
    ends: list[Int64Array1D]

    def __post_init__(self) -> None:
        self._rows = [int((e - s).sum()) for s, e in zip(self.starts, self.ends, strict=True)]

    def rows(self, asset: int) -> int:
        """How many rows hold ``asset``."""
        return self._rows[asset]

    def add_row(self, asset: int, row: int) -> None:
        """Record that ``row`` now holds ``asset`` (it did not before)."""
        s, e = self.starts[asset], self.ends[asset]
        i = int(np.searchsorted(s, row))
        self.starts[asset] = np.insert(s, i, row)
        self.ends[asset] = np.insert(e, i, row + 1)
        self._rows[asset] += 1

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.starts) + sum(a.nbytes for a in self.ends)


@dataclass
class Built:
    arrays: BookArrays
    #: book row -> index of the account in file order
    file_index: Int64Array1D
    #: file-order index -> book row
    row_of_file: Int64Array1D
    n_positions: int


#: Multiplier of the code-sequence hash (odd; any collision only splits a run).
_HASH = np.uint64(0x9E3779B97F4A7C15)


def _sequence_hash(n: int, pos_row: Int64Array1D, token: Int64Array1D) -> Any:
    """Per row, a hash (uint64) of its positions' ``token`` sequence, in order."""
    counts = np.bincount(pos_row, minlength=n)
    first = np.cumsum(counts) - counts
    k = (np.arange(pos_row.size, dtype=np.int64) - first[pos_row] + 1).astype(np.uint64)
    mixed = (token.astype(np.uint64) + np.uint64(1)) * np.power(_HASH, k)
    out = np.zeros(n, dtype=np.uint64)
    nonempty = counts > 0
    if mixed.size:
        out[nonempty] = np.add.reduceat(mixed, first[nonempty])
    return out


def _cluster_order(
    n: int,
    pos_row: Int64Array1D,
    pos_asset: Int64Array1D,
    n_assets: int,
    sides: Int64Array1D,
    token: Int64Array1D,
) -> Int64Array1D:
    """Rows sorted by their entry count (``sides``: entries of each position), then by the
    set of assets held, most widely held asset as the top bit, then by the sequence of
    their positions' ``token`` (category, asset and sides: the row's code sequence)."""
    if n == 0 or pos_row.size == 0:
        return np.arange(n, dtype=np.int64)
    pop = np.bincount(pos_asset, minlength=n_assets)
    rank = np.empty(n_assets, dtype=np.int64)
    rank[np.argsort(-pop, kind="stable")] = np.arange(n_assets)
    held = rank < 64
    bit = np.where(held, 63 - rank, 0).astype(np.uint64)
    bits = np.where(held[pos_asset], np.left_shift(np.uint64(1), bit[pos_asset]), np.uint64(0))
    counts = np.bincount(pos_row, minlength=n)
    nonempty = counts > 0
    first = (np.cumsum(counts) - counts)[nonempty]
    sig = np.zeros(n, dtype=np.uint64)
    sig[nonempty] = np.bitwise_or.reduceat(bits, first)
    by_set = np.lexsort((_sequence_hash(n, pos_row, token), ~sig))
    entries = np.bincount(pos_row, weights=sides, minlength=n).astype(np.int64)
    # a stable sort of small integers (a radix sort) keeps the set order inside a length
    small = np.uint16 if entries.max() < 1 << 16 else np.int64
    by_length = np.argsort(entries[by_set].astype(small), kind="stable")
    order: Int64Array1D = by_set[by_length].astype(np.int64)
    return order


def _gather_rows(order: Int64Array1D, counts: Int64Array1D) -> tuple[Int64Array1D, Int64Array1D]:
    """(indptr of the rows in ``order``, source index of each of their items)."""
    starts = np.cumsum(counts) - counts
    new_counts = counts[order]
    indptr = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(new_counts, out=indptr[1:])
    src = np.repeat(starts[order] - indptr[:-1], new_counts) + np.arange(
        int(indptr[-1]), dtype=np.int64
    )
    return indptr, src


def build_layout(
    n: int,
    cat: UInt16Array1D,
    pos_row: Int64Array1D,
    pos_asset: Int64Array1D,
    supply: Float64Array1D,
    borrow: Float64Array1D,
    n_assets: int,
    code_dtype: type[np.unsignedinteger[Any]] = np.uint16,
    cluster: bool = True,
    cat_dtype: type[np.unsignedinteger[Any]] = np.uint16,
) -> Built:
    """Lay out ``n`` accounts' positions (``pos_row`` non-decreasing) as the book's arrays.

    ``cat`` is each account's category index (C = none); an entry's code is
    ``cat * 2K + 2 * asset + side``. ``cluster=False`` keeps the file's order (a book
    priced once, as ``stress`` does, gains nothing from clustering).
    """
    keep = (supply != 0) | (borrow != 0)
    if not keep.all():
        pos_row, pos_asset, supply, borrow = (x[keep] for x in (pos_row, pos_asset, supply, borrow))
    if cluster:
        sides = (supply != 0).astype(np.int64) + (borrow != 0)
        # one token per position: its supply code and which sides it holds (1, 2 or 3)
        pattern = (supply != 0).astype(np.int64) + 2 * (borrow != 0)
        base0 = cat[pos_row].astype(np.int64) * (2 * n_assets) + 2 * pos_asset
        order = _cluster_order(n, pos_row, pos_asset, n_assets, sides, base0 * 4 + pattern)
        row_of_file = np.empty(n, dtype=np.int64)
        row_of_file[order] = np.arange(n, dtype=np.int64)
        counts = np.bincount(pos_row, minlength=n).astype(np.int64)
        pos_indptr, src = _gather_rows(order, counts)
        row = np.repeat(np.arange(n, dtype=np.int64), np.diff(pos_indptr))
        a, s, b = pos_asset[src], supply[src], borrow[src]
        cat_new = cat[order].astype(cat_dtype)
    else:
        order = row_of_file = np.arange(n, dtype=np.int64)
        row, a, s, b = pos_row, pos_asset, supply, borrow
        cat_new = cat.astype(cat_dtype)
    base = cat_new[row].astype(np.int64) * (2 * n_assets) + 2 * a  # the supply code
    has_b = b != 0
    both = (s != 0) & has_b
    if not both.any():
        # One side a position (the usual case): one entry each, borrow codes one up.
        codes = (base + has_b).astype(code_dtype)
        units = np.where(has_b, b, s)
        per_row = np.bincount(row, minlength=n)
    else:
        # Two slots a position, supply then borrow; a slot with zero units is no entry.
        pair_codes = np.empty((a.size, 2), dtype=code_dtype)
        pair_codes[:, 0] = base
        pair_codes[:, 1] = base + 1
        pair_units = np.empty((a.size, 2))
        pair_units[:, 0] = s
        pair_units[:, 1] = b
        live = pair_units != 0
        codes = pair_codes[live]
        units = np.ascontiguousarray(pair_units[live])
        per_row = np.bincount(row, weights=live.sum(axis=1), minlength=n)
    counts = per_row.astype(np.int64)
    total = int(counts.sum())
    indptr: IndexArray1D = (
        np.zeros(n + 1, dtype=np.int32) if total < INDPTR32_LIMIT else np.zeros(n + 1, np.int64)
    )
    np.cumsum(counts, out=indptr[1:])
    arrays = BookArrays(indptr=indptr, codes=codes, units=units, cat=cat_new)
    return Built(arrays, order, row_of_file, int(a.size))


def runs_of_arrays(arrays: BookArrays, n_assets: int) -> Runs:
    """The per-asset runs of a laid-out book (see :class:`Runs`)."""
    n = arrays.indptr.size - 1
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(arrays.indptr))
    asset = (arrays.codes.astype(np.int64) % (2 * n_assets)) >> 1
    return runs_of(row, asset, n_assets)


def runs_of(pos_row: Int64Array1D, pos_asset: Int64Array1D, n_assets: int) -> Runs:
    """Per asset, the maximal ranges of consecutive rows that hold it."""
    # A stable sort of small integers is a radix sort: linear in the positions.
    small = pos_asset.astype(np.uint16 if n_assets <= 1 << 16 else np.int64)
    by_asset = np.argsort(small, kind="stable")
    ra = pos_asset[by_asset]
    rr = pos_row[by_asset]
    if rr.size:
        # an asset supplied and borrowed in one row gives that row twice: keep it once
        again = np.zeros(rr.size, dtype=bool)
        again[1:] = (ra[1:] == ra[:-1]) & (rr[1:] == rr[:-1])
        if again.any():
            ra, rr = ra[~again], rr[~again]
        brk = np.ones(rr.size, dtype=bool)
        brk[1:] = (ra[1:] != ra[:-1]) | (rr[1:] != rr[:-1] + 1)
        first = np.flatnonzero(brk)
        last = np.append(first[1:], rr.size) - 1
        run_asset, run_start, run_end = ra[first], rr[first], rr[last] + 1
    else:
        run_asset = run_start = run_end = np.zeros(0, dtype=np.int64)
    bounds = np.searchsorted(run_asset, np.arange(n_assets + 1))
    starts = [run_start[bounds[i] : bounds[i + 1]].astype(np.int64) for i in range(n_assets)]
    ends = [run_end[bounds[i] : bounds[i + 1]].astype(np.int64) for i in range(n_assets)]
    return Runs(starts, ends)


def merge_ranges(starts: Int64Array1D, ends: Int64Array1D) -> tuple[Int64Array1D, Int64Array1D]:
    """Union of row ranges as sorted, disjoint ranges."""
    if starts.size <= 1:
        return starts, ends
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(new)
    return s[first], np.maximum.reduceat(e, first)


def chunk_ranges(
    starts: Int64Array1D, ends: Int64Array1D, size: int = CHUNK_ROWS
) -> tuple[Int64Array1D, Int64Array1D]:
    """Ranges cut into pieces of at most ``size`` rows (units of parallel work)."""
    lengths = ends - starts
    pieces = np.maximum((lengths + size - 1) // size, 0)
    total = int(pieces.sum())
    owner = np.repeat(np.arange(starts.size), pieces)
    k = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    cs = starts[owner] + k * size
    ce = np.minimum(cs + size, ends[owner])
    return cs.astype(np.int64), ce.astype(np.int64)
