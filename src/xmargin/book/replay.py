"""Replaying a price file through a risk book (``xmargin watch``).

A price file is CSV with columns ``timestamp,asset,price``: the timestamp as ISO-8601
(``2021-01-11T02:00:30Z``; a time without zone is UTC) or unix seconds, the price in the
market's quote per unit. Consecutive rows with the same timestamp form one update, which
the book applies all or nothing (:meth:`~xmargin.book.RiskBook.apply_prices`). A price the
oracle guards refuse is reported with its reason, not an error; a file that cannot be
read, lacks a column or holds a timestamp that is not a time is bad input.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa

from xmargin.book.events import PriceUpdate
from xmargin.book.riskbook import RiskBook
from xmargin.errors import InputError

__all__ = ["PriceTick", "ReplayStep", "read_price_file", "replay"]

PRICE_COLUMNS = ("timestamp", "asset", "price")


class PriceTick(NamedTuple):
    """One update of a price file: a time and the prices observed then."""

    timestamp: float
    time_text: str
    prices: dict[str, str]
    row: int  # line of the update's first row in the file (the header is line 1)


class ReplayStep(NamedTuple):
    tick: PriceTick
    update: PriceUpdate


def _parse_time(text: str, where: str) -> float:
    """Unix seconds of an ISO-8601 time (UTC if it names no zone) or of a number."""
    t = text.strip()
    try:
        d = Decimal(t)
    except ArithmeticError:
        pass
    else:
        if d.is_finite():
            return float(d)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise InputError(f"{where}: not a time (ISO-8601 or unix seconds), was {text!r}") from None
    return (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)).timestamp()


def read_price_file(path: str | Path) -> list[PriceTick]:
    """The updates of a price file, in file order (see the module docstring)."""
    import pyarrow.csv as pacsv

    p = Path(path)
    name = p.name
    try:
        table = pacsv.read_csv(
            p,
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in PRICE_COLUMNS},
                strings_can_be_null=False,
            ),
        )
    except FileNotFoundError:
        raise InputError(f"--prices {p}: no such file") from None
    except (OSError, pa.ArrowException) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"--prices {p}: cannot read as CSV: {first}") from None
    missing = [c for c in PRICE_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"--prices {name}: missing column(s): {', '.join(missing)}")
    times = table.column("timestamp").to_pylist()
    assets = table.column("asset").to_pylist()
    prices = table.column("price").to_pylist()
    ticks: list[PriceTick] = []
    last_text: str | None = None
    for i, (t, a, v) in enumerate(zip(times, assets, prices, strict=True)):
        row = i + 2  # the line in the file, after the header
        if t != last_text or not ticks:
            where = f"{name}:row {row}.timestamp"
            ticks.append(PriceTick(_parse_time(str(t), where), str(t), {}, row))
            last_text = t
        tick = ticks[-1]
        if a in tick.prices:
            raise InputError(f"{name}:row {row}: {a} priced twice at {t}")
        tick.prices[str(a)] = str(v)
    return ticks


def replay(book: RiskBook, ticks: list[PriceTick], *, rebase: bool = False) -> Iterator[ReplayStep]:
    """Apply each tick to ``book`` in order; yield what each update did.

    ``rebase``: each asset's first price in the file becomes its starting price (applied
    without guards or events), so a replay starts from the file's own price level.
    """
    seen: set[str] = set()
    for tick in ticks:
        prices = tick.prices
        if rebase:
            first = {a: p for a, p in prices.items() if a not in seen and a in book.prices}
            if first:
                book.apply_prices(first, timestamp=tick.timestamp, guard=False)
                seen.update(first)
                prices = {a: p for a, p in prices.items() if a not in first}
                if not prices:
                    continue
        yield ReplayStep(tick, book.apply_prices(prices, timestamp=tick.timestamp))
