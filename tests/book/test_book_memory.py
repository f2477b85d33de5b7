"""Rule: the book holds no per-row column for what no row has (perps, options), also
after accounts are added, and its decisions do not depend on how narrow its columns are."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xmargin.book import RiskBook
from xmargin.book.constant_columns import append_row, constant, dense, held_bytes


def test_a_book_without_perps_or_options_holds_nothing_for_them(
    generated_book: dict[str, Path],
) -> None:
    book = RiskBook.load(generated_book["parquet"])
    mem = book.memory_bytes()
    assert mem["perps"] == 0 and mem["options"] == 0
    book.add_account("zz-new")
    book.set_balance("zz-new", book.assets[0], supply="3")
    mem = book.memory_bytes()
    assert mem["perps"] == 0 and mem["options"] == 0
    assert book.arrays.codes.dtype == np.uint8 and book.arrays.cat.dtype == np.uint8
    assert book.arrays.indptr.dtype == np.int32
    assert book.account_ids()[-1] == "zz-new" and book.status("zz-new") is not None


def test_constant_columns_hold_nothing_until_written() -> None:
    c = constant((4, 3), 0.0, np.float64)
    assert held_bytes(c) == 0 and c.shape == (4, 3)
    c = append_row(c, 0.0)
    assert held_bytes(c) == 0 and c.shape == (5, 3)
    d = append_row(c, 1.0)
    assert held_bytes(d) == d.nbytes and d[-1].tolist() == [1.0, 1.0, 1.0]
    w = dense(constant(3, -1.0, np.float32))
    w[1] = 2.0
    assert w.tolist() == [-1.0, 2.0, -1.0] and held_bytes(w) == 12
