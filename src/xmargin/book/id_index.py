"""Account ids of the risk book: row -> id, and id -> row without a Python dict.

The ids of a loaded book are kept packed in file order (:mod:`xmargin.book.packed_ids`:
a million ids as Python strings, or even as an Arrow column, would cost more than the
book's positions); row ``r`` reads id ``place[r]``. An id is found by binary search over
a sorted permutation, built at the first look-up. Accounts added later are kept apart,
in order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xmargin._typing import IndexArray1D, Int64Array1D
from xmargin.book.packed_ids import PackedIds
from xmargin.io.arrow_values import from_numpy, strings

__all__ = ["IdIndex"]


class IdIndex:
    """The ids of every row: ``ids`` (by row) for the loaded rows, then the rows added."""

    __slots__ = ("_extra", "_ids", "_place", "_sorted")

    def __init__(self, ids: pa.Array, place: IndexArray1D) -> None:
        """``ids[r]``: the id of loaded row ``r``; ``place[r]``: its place in the file."""
        self._place = place
        by_file = np.empty(len(ids), dtype=np.int64)
        by_file[place] = np.arange(len(ids), dtype=np.int64)
        self._ids = PackedIds(ids.take(from_numpy(by_file)))
        self._extra: list[str] = []
        self._sorted: Int64Array1D | None = None

    def __len__(self) -> int:
        return len(self._ids) + len(self._extra)

    def id(self, r: int) -> str:
        """The id of row ``r``."""
        n0 = len(self._ids)
        return self._ids.get(int(self._place[r])) if r < n0 else self._extra[r - n0]

    def ids_of(self, rows: Int64Array1D) -> list[str]:
        """The ids of ``rows``, in that order."""
        n0 = len(self._ids)
        if rows.size and int(rows.max()) < n0:
            return self._ids.take(self._place[rows].astype(np.int64))
        return [self.id(int(r)) for r in rows]

    def column(self, rows: Int64Array1D) -> pa.Array:
        """The ids of ``rows`` as an Arrow array."""
        if self._extra:
            return strings(self.ids_of(rows))
        return self._ids.take_arrow(self._place[rows].astype(np.int64))

    def find(self, account: str) -> int | None:
        """The row of ``account``, or ``None``."""
        if account in self._extra:
            return len(self._ids) + self._extra.index(account)
        if self._sorted is None:
            every = self._ids.take_arrow(self._place[: len(self._ids)].astype(np.int64))
            self._sorted = np.asarray(pc.sort_indices(every), dtype=np.int64)
        order = self._sorted
        lo, hi = 0, order.size
        while lo < hi:
            mid = (lo + hi) // 2
            if self.id(int(order[mid])) < account:
                lo = mid + 1
            else:
                hi = mid
        if lo < order.size and self.id(int(order[lo])) == account:
            return int(order[lo])
        return None

    def append(self, account: str) -> int:
        """Add ``account`` as the next row; returns its row."""
        self._extra.append(account)
        return len(self) - 1

    @property
    def nbytes(self) -> int:
        """Bytes of the packed ids (and of their own row -> place, once it is a copy)."""
        return self._ids.nbytes

    @property
    def place(self) -> IndexArray1D:
        """Each loaded row's place in the file (the book's own, until rows are added)."""
        return self._place

    @property
    def index_nbytes(self) -> int:
        """Bytes of the sorted permutation, once built."""
        return 0 if self._sorted is None else int(self._sorted.nbytes)
