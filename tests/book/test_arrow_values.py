"""Arrow values without pyarrow's Python-object conversion (:mod:`xmargin.io.arrow_values`).

ARROW-1  ``from_numpy`` then ``to_numpy`` gives back the values, dtype and all, for every
         number type and for booleans, also through a sliced (offset) array; what Arrow
         itself reads from the array is the same values.
ARROW-2  ``strings`` holds the texts (any Unicode) in order; ``null_where_nan`` makes NaN
         null and nothing else; the scalars compare as their values in compute functions.
ARROW-3  A book command reading CSV or Parquet positions, with a perps file, imports no
         pandas (pyarrow's conversions would: 0.2 s of every such command).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.probes import probe
from xmargin.book.generate import generate_book
from xmargin.io.arrow_values import (
    from_numpy,
    null_where_nan,
    number_scalar,
    string_scalar,
    strings,
    to_numpy,
)

_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
          np.float32, np.float64, np.bool_]  # fmt: skip


@pytest.mark.parametrize("dtype", _TYPES)
@given(data=st.data())
def test_arrow_1_numbers_and_booleans_round_trip(
    dtype: type[np.generic], data: st.DataObject
) -> None:
    values = data.draw(hnp.arrays(dtype, st.integers(0, 70)))
    arr = from_numpy(values)
    assert len(arr) == values.size and arr.null_count == 0
    back = to_numpy(arr)
    assert back.dtype == values.dtype
    np.testing.assert_array_equal(back, values)
    read = np.array(arr.to_pylist(), dtype=dtype)  # what Arrow itself reads
    np.testing.assert_array_equal(read, values)
    lo = data.draw(st.integers(0, values.size))
    hi = data.draw(st.integers(lo, values.size))
    np.testing.assert_array_equal(to_numpy(arr.slice(lo, hi - lo)), values[lo:hi])


def test_arrow_1_refuses_nulls_text_and_2d() -> None:
    with pytest.raises(ValueError, match="nulls"):
        to_numpy(pa.nulls(2, pa.int64()))
    with pytest.raises(ValueError, match="not a number type"):
        to_numpy(strings(["a"]))
    with pytest.raises(ValueError, match="1-D"):
        from_numpy(np.zeros((2, 2)))


@given(st.lists(st.text(), max_size=30))
def test_arrow_2_strings_hold_the_texts(texts: list[str]) -> None:
    arr = strings(texts)
    assert arr.type == pa.string() and arr.null_count == 0
    assert arr.to_pylist() == texts


@given(hnp.arrays(np.float64, st.integers(0, 40)))
def test_arrow_2_nan_is_null_and_nothing_else(values: np.ndarray) -> None:
    arr = null_where_nan(values)
    got = arr.to_pylist()
    assert [g is None for g in got] == np.isnan(values).tolist()
    assert [g for g in got if g is not None] == values[~np.isnan(values)].tolist()


def test_arrow_2_scalars_compare_as_their_values() -> None:
    text = strings(["", "a", ""])
    assert pc.equal(text, string_scalar("")).to_pylist() == [True, False, True]
    ints = from_numpy(np.array([3, -1, 7], dtype=np.int32))
    assert pc.less(ints, number_scalar(3, np.int32)).to_pylist() == [False, True, False]
    filled = pc.fill_null(pa.nulls(2, pa.bool_()), number_scalar(True, np.bool_))
    assert filled.to_pylist() == [True, True]


_PROBE = """
import json, sys
from xmargin.cli.app import main
try:
    main(json.loads(sys.argv[1]))
except SystemExit as exc:
    code = exc.code
sys.stderr.write(json.dumps({"code": code, "pandas": "pandas" in sys.modules}))
"""


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_arrow_3_book_commands_import_no_pandas(tmp_path: Path, fmt: str) -> None:
    generate_book(300, 5, 3, tmp_path, fmt=fmt, perp_share=0.3)
    market = str(tmp_path / "market.toml")
    for args in (
        ["stress", market, "--shock", "WETH=-30%", "--summary", "--json"],
        ["stress", market, "--shock", "WETH=-30%", "--json"],
        ["health", market, "--json"],
    ):
        assert probe(_PROBE, args) == {"code": 0, "pandas": False}, args
