"""Long-form position tables beside a market file (``perps_file``, ``options_file``):
read once, every cell as text, and their rows joined onto the accounts.

CSV cells are read as strings and Parquet columns cast to strings, so the exact readers
parse every number themselves and nothing passes through a float. A table that cannot be
read, or a column nobody reads, is a located problem in the caller's list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from xmargin.errors import Problem
from xmargin.io.documents import DocumentError, require_regular_file
from xmargin.model.account import Account

if TYPE_CHECKING:  # pyarrow loads when a table is read, not with the CLI
    import pyarrow as pa

__all__ = ["join_rows", "read_columns"]

V = TypeVar("V")


def _read_table(path: Path, field: str, columns: tuple[str, ...], required: int) -> pa.Table:
    import pyarrow as pa

    suffix = path.suffix.lower()
    try:  # a FIFO would block the load, a device never end
        require_regular_file(path)
    except DocumentError as exc:
        raise ValueError(exc.message) from None
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        # Every cell as text: numbers are parsed exactly, never through a float.
        convert = pacsv.ConvertOptions(
            column_types={c: pa.string() for c in columns},
            strings_can_be_null=False,
        )
        table = pacsv.read_csv(path, convert_options=convert)
    elif suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as parquet:  # pq.read_table would import pandas
            table = parquet.read()
        table = table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
    else:
        raise ValueError(f"{field} must end in .csv or .parquet")
    missing = [c for c in columns[:required] if c not in table.column_names]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    return table


def read_columns(
    path: Path,
    field: str,
    columns: tuple[str, ...],
    problems: list[Problem],
    required: int | None = None,
) -> dict[str, list[Any]] | None:
    """The table at ``path`` (``market.field``) as text columns, by name; ``None``, with
    a problem, when it cannot be read or lacks one of the first ``required`` of
    ``columns`` (default all). A column not in ``columns`` is a problem, and kept.
    Anything but a regular file is refused before it is opened."""
    import pyarrow as pa

    name = path.name
    n = len(columns) if required is None else required
    try:
        table = _read_table(path, field, columns, n)
    except (OSError, ValueError, pa.ArrowException) as exc:
        problems.append(Problem(f"market.{field} ({name})", str(exc).splitlines()[0]))
        return None
    cols = {c: table.column(c).to_pylist() for c in table.column_names}
    for c in cols:
        if c not in columns:
            problems.append(Problem(f"{name}:column {c}", "unknown column"))
    return cols


def join_rows(
    accounts: dict[str, Account],
    inline: set[str],
    rows: Iterable[tuple[str, str, V, str]],
    problems: list[Problem],
    put: Callable[[Account, str, V], None],
) -> None:
    """Add a long-form table's ``(account, name, position, location)`` rows to the
    accounts read so far (or to new accounts) with ``put``; an account written inline
    keeps its positions inline and is refused here."""
    for acc_id, what, value, loc in rows:
        if acc_id in inline:
            problems.append(Problem(loc, f"account {acc_id!r} is written inline"))
            continue
        acc = accounts.get(acc_id)
        if acc is None:
            acc = accounts[acc_id] = Account(acc_id)
        put(acc, what, value)
