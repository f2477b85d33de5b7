"""Per-row columns that hold no memory while every row has the same value.

A book without perps or options would otherwise keep a full column per account for
them (offsets, margins, masks, option terms): more bytes than its positions. Such a
column is a read-only broadcast of one value until a row is given something else
(:func:`dense` makes it a real array first); :func:`held_bytes` counts what it holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["append_row", "constant", "dense", "held_bytes", "is_constant"]


def constant(shape: int | tuple[int, ...], value: Any, dtype: Any) -> Any:
    """``value`` in every cell of ``shape``, read-only, without memory."""
    return np.broadcast_to(np.asarray(value, dtype=dtype), shape)


def is_constant(arr: Any) -> bool:
    return bool(arr.size) and not arr.flags.writeable and all(s == 0 for s in arr.strides)


def dense(arr: Any) -> Any:
    """``arr`` as a writable array (a copy of a constant one)."""
    return arr if arr.flags.writeable else np.array(arr)


def held_bytes(arr: Any) -> int:
    """Bytes ``arr`` holds (none for a :func:`constant`)."""
    return 0 if is_constant(arr) else int(arr.nbytes)


def append_row(arr: Any, value: Any) -> Any:
    """``arr`` with one more row of ``value`` (still constant if the value is its own)."""
    if is_constant(arr) and bool(np.all(arr.flat[0] == value)):
        return constant((arr.shape[0] + 1, *arr.shape[1:]), arr.flat[0], arr.dtype)
    row = np.broadcast_to(np.asarray(value, dtype=arr.dtype), (1, *arr.shape[1:]))
    return np.concatenate([arr, row])
