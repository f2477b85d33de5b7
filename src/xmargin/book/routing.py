"""When ``health`` and ``stress`` run on the risk book rather than the exact engine.

Kept free of NumPy and pyarrow imports at module level: the core commands ask it on
every run, small markets included.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["BOOK_MIN_ROWS", "prefers_book"]

#: ``health`` and ``stress`` run on the risk book when the market's ``accounts_file`` has
#: at least this many rows (about 20,000 accounts of a generated book).
BOOK_MIN_ROWS = 50_000


def _count_rows(path: Path, enough: int) -> int:
    """Data rows of a positions file (Parquet metadata, or a CSV's lines), counted up to
    ``enough``: a large CSV is not read to its end."""
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    lines = 0
    with path.open("rb") as f:
        while lines <= enough and (chunk := f.read(1 << 20)):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


def prefers_book(market_file: Path, min_rows: int = BOOK_MIN_ROWS) -> bool:
    """Whether ``health``/``stress`` should run on the risk book for ``market_file``.

    True when the market names an ``accounts_file`` of at least ``min_rows`` rows. The
    environment variable ``XMARGIN_ENGINE`` (``book`` or ``exact``) overrides the choice.
    A file that cannot be read answers False: the exact loader then reports the problem.
    """
    forced = os.environ.get("XMARGIN_ENGINE", "").strip().lower()
    if forced in ("book", "exact"):
        return forced == "book"
    from xmargin.errors import InputError
    from xmargin.io.market_file import read_market_document

    try:
        raw, _ = read_market_document(market_file)
        table = raw.get("market")
        name = table.get("accounts_file") if isinstance(table, dict) else None
        if not isinstance(name, str):
            return False
        return _count_rows(market_file.parent / name, min_rows) >= min_rows
    except (OSError, ValueError, InputError):  # pyarrow's errors are ValueError/OSError too
        return False
