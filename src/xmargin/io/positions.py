"""Long-form position books (contract 1.4): CSV or Parquet, ``account,asset,supply,borrow``
and an optional ``category``.

Read with pyarrow, never row by row from text. The exact path turns cells into Decimals
(CSV cells are read as strings, so nothing passes through a float); the risk book reads
the same files straight into columns (see :mod:`xmargin.book`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from xmargin.errors import Problem
from xmargin.io.documents import DocumentError, require_regular_file
from xmargin.mathlib import ZERO, fmt, quantize_down
from xmargin.model.account import Account
from xmargin.model.names import MAX_NAME_LENGTH, name_problem
from xmargin.model.numbers import parse_number
from xmargin.model.params import AssetParams, CategoryParams

__all__ = ["REQUIRED_COLUMNS", "names_valid", "read_positions_exact", "read_positions_table"]

REQUIRED_COLUMNS = ("account", "asset", "supply", "borrow")


def read_positions_table(path: Path, strings: bool = False) -> pa.Table:
    """The positions file as an Arrow table. ``strings``: CSV columns read as text.

    Raises ``OSError``/``pyarrow.ArrowInvalid`` for unreadable files and ``ValueError``
    for a missing column; callers turn those into located problems.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ValueError("accounts_file must end in .csv or .parquet")
    try:
        require_regular_file(path)
    except DocumentError as exc:
        raise ValueError(exc.message) from None
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(
            column_types={c: pa.string() for c in (*REQUIRED_COLUMNS, "category")}
            if strings
            else {"account": pa.string(), "asset": pa.string(), "category": pa.string()},
            strings_can_be_null=False,
        )
        table = pacsv.read_csv(path, convert_options=convert)
    elif suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as parquet:  # pq.read_table would import pandas
            table = parquet.read()
    else:
        raise ValueError("accounts_file must end in .csv or .parquet")
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    return table


_ASCII_NAME = r"^[A-Za-z0-9_.:@+#~-]*[A-Za-z0-9][A-Za-z0-9_.:@+#~-]*$"


def names_valid(names: pa.Array) -> bool:
    """Whether every cell of a string column is a valid name (:mod:`xmargin.model.names`).

    Arrow compute checks the ASCII names in bulk; the rest, if any, go through the rule
    one by one. Nulls are not names.
    """
    import numpy as np
    import pyarrow.compute as pc

    from xmargin.io.arrow_values import number_scalar

    if names.null_count:
        return False
    ok = pc.and_(
        pc.match_substring_regex(names, _ASCII_NAME),
        pc.less_equal(pc.utf8_length(names), number_scalar(MAX_NAME_LENGTH, np.int32)),
    )
    if bool(pc.all(ok).as_py()):
        return True
    rest = names.filter(pc.invert(ok)).to_pylist()
    return all(name_problem(x) is None for x in rest)


def _cell_number(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    return parse_number(value)


def read_positions_exact(
    path: Path,
    assets: Mapping[str, AssetParams | None],
    categories: Mapping[str, CategoryParams | None],
    problems: list[Problem],
) -> Iterator[tuple[Account, str]]:
    """Accounts of a positions file as exact Decimal balances, with their locations.

    Problems (unknown asset or category, negative or non-numeric amount, a repeated
    ``(account, asset)`` row, an account whose category differs between rows) are
    appended to ``problems`` with ``FILE:row N.column`` locations.
    """
    name = path.name
    try:
        table = read_positions_table(path, strings=True)
    except (OSError, ValueError, pa.ArrowException) as exc:
        problems.append(Problem(f"market.accounts_file ({name})", str(exc).splitlines()[0]))
        return
    cols = {c: table.column(c).to_pylist() for c in table.column_names}
    has_cat = "category" in cols
    accounts: dict[str, Account] = {}
    first_row: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for i, acc_id in enumerate(cols["account"]):
        row = i + 2  # 1-based, after the header line
        loc = f"{name}:row {row}"
        asset = cols["asset"][i]
        why = name_problem(acc_id)
        if why is not None:
            problems.append(Problem(f"{loc}.account", f"account id {why}"))
            continue
        acc_id = str(acc_id)
        category = cols["category"][i] if has_cat else None
        category = category or None
        if category is not None and category not in categories:
            problems.append(Problem(f"{loc}.category", f"unknown category {category!r}"))
            category = None
        if asset not in assets:
            problems.append(Problem(f"{loc}.asset", f"unknown asset {asset!r}"))
            continue
        if (acc_id, asset) in seen:
            problems.append(Problem(loc, f"repeats account {acc_id!r} and asset {asset!r}"))
            continue
        seen.add((acc_id, asset))
        amounts: list[Decimal] = []
        for col in ("supply", "borrow"):
            try:
                d = _cell_number(cols[col][i])
            except ValueError as exc:
                problems.append(Problem(f"{loc}.{col}", str(exc)))
                continue
            ap = assets[asset]
            if d < ZERO:
                problems.append(Problem(f"{loc}.{col}", f"must be >= 0, was {fmt(d)}"))
            elif ap is not None and quantize_down(d, ap.decimals) != d:
                problems.append(
                    Problem(
                        f"{loc}.{col}",
                        f"has more than {ap.decimals} decimal places, was {fmt(d)}",
                    )
                )
            else:
                amounts.append(d)
                continue
        if len(amounts) != 2:
            continue
        acc = accounts.get(acc_id)
        if acc is None:
            acc = accounts[acc_id] = Account(acc_id, category=category)
            first_row[acc_id] = row
        elif has_cat and acc.category != category:
            problems.append(
                Problem(
                    f"{loc}.category",
                    f"account {acc_id!r} has category {acc.category!r} on an earlier row",
                )
            )
        s, b = amounts
        acc.set_supply(asset, s)
        acc.set_borrow(asset, b)
    for acc_id, acc in accounts.items():
        yield acc, f"{name}:row {first_row[acc_id]}"
