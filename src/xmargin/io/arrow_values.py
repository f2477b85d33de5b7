"""Arrow arrays and scalars made from NumPy buffers and Python strings directly.

pyarrow's conversion of Python objects (``pa.array``, ``pa.scalar``, a Python number or
string passed to a compute function) imports pandas first whenever pandas is installed,
and it is (``arch`` needs it): 0.16-0.23 s of every book command that reads a file. These
helpers wrap the values' bytes as Arrow buffers instead, so the loaders never import it
(a test runs ``stress --summary`` and checks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["from_numpy", "null_where_nan", "number_scalar", "string_scalar", "strings", "to_numpy"]


def from_numpy(values: np.ndarray) -> pa.Array:
    """A numeric or boolean NumPy array as an Arrow array without nulls (no copy for
    numbers: the Arrow array holds the NumPy buffer)."""
    v = np.ascontiguousarray(values)
    if v.ndim != 1:
        raise ValueError(f"from_numpy: 1-D values expected, got {v.ndim}-D")
    if v.dtype == np.bool_:
        bits = np.packbits(v, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), v.size, [None, pa.py_buffer(bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(v.dtype), v.size, [None, pa.py_buffer(v)])


def to_numpy(arr: pa.Array) -> np.ndarray:
    """The values of a numeric or boolean Arrow array without nulls as NumPy (a view of
    the Arrow buffer for numbers; ``Array.to_numpy`` would import pandas)."""
    if arr.null_count:
        raise ValueError("to_numpy: the array has nulls")
    buf = arr.buffers()[1]
    n = len(arr)
    if pa.types.is_boolean(arr.type):
        if n == 0:
            return np.zeros(0, dtype=np.bool_)
        bits = np.frombuffer(buf, dtype=np.uint8)
        out = np.unpackbits(bits, count=arr.offset + n, bitorder="little")[arr.offset :]
        return out.view(np.bool_)
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        raise ValueError(f"to_numpy: {arr.type} is not a number type")
    dtype = np.dtype(arr.type.to_pandas_dtype())
    if n == 0:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(buf, dtype=dtype, count=n, offset=arr.offset * dtype.itemsize)


def null_where_nan(values: np.ndarray) -> pa.Array:
    """float64 values as an Arrow array, NaN as null (what ``from_pandas=True`` does)."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    nan = np.isnan(v)
    if not nan.any():
        return from_numpy(v)
    valid = pa.py_buffer(np.packbits(~nan, bitorder="little"))
    return pa.Array.from_buffers(pa.float64(), v.size, [valid, pa.py_buffer(v)])


def strings(values: Sequence[str]) -> pa.Array:
    """UTF-8 strings as an Arrow ``string`` array (no nulls)."""
    data = [s.encode() for s in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in data], out=offsets[1:])
    if offsets[-1] >= 2**31:
        raise ValueError("strings: more than 2 GiB of text")
    buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(pa.string(), len(data), buffers)


def string_scalar(text: str) -> pa.Scalar:
    """One string as an Arrow scalar, for a compute function's argument."""
    return strings([text])[0]


def number_scalar(value: float | bool, dtype: type[np.generic]) -> pa.Scalar:
    """One number (or boolean) of NumPy type ``dtype`` as an Arrow scalar, for
    ``fill_null`` and comparisons."""
    return from_numpy(np.array([value], dtype=dtype))[0]
