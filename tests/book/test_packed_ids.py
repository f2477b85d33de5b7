"""Rule: packed account ids (:mod:`xmargin.book.packed_ids`) read back exactly as given,
one at a time, a few, or all at once, whatever their lengths and characters."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from xmargin.book.packed_ids import BLOCK, MAX_PACKED, PackedIds


def _check(ids: list[str], picks: list[int]) -> None:
    p = PackedIds(pa.array(ids, pa.string()))
    assert len(p) == len(ids)
    idx = np.array([i % len(ids) for i in picks], dtype=np.int64)
    assert [p.get(int(i)) for i in idx] == [ids[i] for i in idx]
    assert p.take(idx) == [ids[i] for i in idx]
    every = np.arange(len(ids), dtype=np.int64)
    assert p.take_arrow(every).to_pylist() == ids
    assert p.take(every) == ids


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(max_size=MAX_PACKED // 4), min_size=1, max_size=3 * BLOCK),
    st.lists(st.integers(0, 10**6), max_size=40),
)
def test_any_ids_read_back_as_given(ids: list[str], picks: list[int]) -> None:
    _check(ids, picks)


def test_numbered_ids_pack_to_a_few_bytes_each() -> None:
    ids = [f"acc{i:07d}" for i in range(20_000)]
    _check(ids, list(range(0, 20_000, 37)))
    assert PackedIds(pa.array(ids)).nbytes < 4 * len(ids)


def test_long_ids_are_kept_as_strings() -> None:
    ids = ["x" * (MAX_PACKED + 1), "y", "é" * 30]
    _check(ids, [0, 1, 2, 2])
