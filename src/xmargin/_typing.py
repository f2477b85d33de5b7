"""Array aliases for the columnar risk book (one place, as arch's ``_typing``).

Kernels take and return columns (accounts x assets, flattened), never Python objects.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AnyArray",
    "BoolArray",
    "CodeArray1D",
    "Float32Array1D",
    "Float64Array1D",
    "Float64Array2D",
    "IndexArray1D",
    "Int32Array1D",
    "Int64Array1D",
    "UInt8Array1D",
    "UInt16Array1D",
]

#: One float64 per account or per position (quote values, token units, prices).
Float64Array1D: TypeAlias = NDArray[np.float64]
#: Compact per-account screening margins (rounded down).
Float32Array1D: TypeAlias = NDArray[np.float32]
#: A float64 table, e.g. (categories + 1) x asset codes of weights.
Float64Array2D: TypeAlias = NDArray[np.float64]
#: A mask over accounts or positions.
BoolArray: TypeAlias = NDArray[np.bool_]
#: Offsets and row indices (CSR ``indptr``, account rows).
Int64Array1D: TypeAlias = NDArray[np.int64]
#: Compact indices where 32 bits suffice.
Int32Array1D: TypeAlias = NDArray[np.int32]
#: Row offsets and places: int32 where they fit, else int64.
IndexArray1D: TypeAlias = NDArray[np.signedinteger[Any]]
#: One status byte per account.
UInt8Array1D: TypeAlias = NDArray[np.uint8]
#: Category codes.
UInt16Array1D: TypeAlias = NDArray[np.uint16]
#: Entry codes (``category * 2K + 2 * asset + side``): uint16, or uint32 when wider.
CodeArray1D: TypeAlias = NDArray[np.unsignedinteger[Any]]
#: An array of any dtype (Arrow conversions, bit masks).
AnyArray: TypeAlias = NDArray[Any]
