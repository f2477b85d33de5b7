"""Price files for ``xmargin watch``: the same formats and folders as ``simulate`` reads.

``watch`` replays updates in time order. A file of ``timestamp,asset,price`` rows is read
by the risk book's own reader (:func:`xmargin.book.replay.read_price_file`), which keeps
each price's text exact and locates bad rows; the other formats ``simulate`` accepts
(``symbol,timestamp,USD_price`` in ms; ``timestamp_x,ask_price,bid_price`` in µs, at the
mid) are read by :func:`xmargin.analytics.prices.load_price_file` and turned into updates
with each float's shortest decimal text. A folder stands for its ``*.csv`` files, sorted
by name. Updates of several files at the same second are merged into one (issue 9,
item 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from xmargin.analytics.prices import load_price_file
from xmargin.book.replay import PRICE_COLUMNS, PriceTick, read_price_file
from xmargin.errors import InputError
from xmargin.mathlib import float_text

__all__ = ["price_files", "read_price_ticks"]

#: The other layouts ``simulate`` reads (:func:`xmargin.analytics.prices.load_price_file`).
_SERIES_LAYOUTS = ({"symbol", "timestamp", "USD_price"}, {"timestamp_x", "ask_price", "bid_price"})


def price_files(paths: Sequence[str | Path]) -> list[Path]:
    """Files named, and the ``*.csv`` files of folders named, in the order given."""
    files: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            found = sorted(p.glob("*.csv"))
            if not found:
                raise InputError(f"--prices {p}: no .csv price file in this folder")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"--prices {p}: no such file or folder")
    if not files:
        raise InputError("--prices: name at least one price file or folder")
    return files


def _columns(path: Path) -> set[str]:
    try:
        reader = pacsv.open_csv(path)
    except (OSError, pa.ArrowException) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"--prices {path}: cannot read as CSV: {first}") from None
    return set(reader.schema.names)


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ticks_of_series(path: Path) -> list[PriceTick]:
    ticks: dict[int, PriceTick] = {}
    for symbol, (times, prices) in load_price_file(path).items():
        for i, (t, px) in enumerate(zip(times.tolist(), prices.tolist(), strict=True)):
            tick = ticks.get(t)
            if tick is None:
                tick = ticks[t] = PriceTick(float(t), _iso(t), {}, i + 2)
            tick.prices[symbol] = float_text(px)
    return [ticks[t] for t in sorted(ticks)]


def read_price_ticks(paths: Sequence[str | Path]) -> list[PriceTick]:
    """Every update of the price files and folders ``paths``, in time order."""
    per_file: list[list[PriceTick]] = []
    for f in price_files(paths):
        cols = _columns(f)
        if not set(PRICE_COLUMNS) <= cols and any(layout <= cols for layout in _SERIES_LAYOUTS):
            per_file.append(_ticks_of_series(f))
        else:  # the native layout; its reader names a missing column or a bad row
            per_file.append(read_price_file(f))
    if len(per_file) == 1:
        return per_file[0]
    merged: dict[float, PriceTick] = {}
    for ticks in per_file:
        for tick in ticks:
            have = merged.get(tick.timestamp)
            if have is None:
                merged[tick.timestamp] = PriceTick(
                    tick.timestamp, tick.time_text, dict(tick.prices), tick.row
                )
            else:
                have.prices.update(tick.prices)
    return [merged[t] for t in sorted(merged)]
