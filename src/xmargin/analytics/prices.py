"""Price files and price histories for hypothetical modeling.

A :class:`PriceHistory` is a regular time grid of prices (rows) per symbol (columns),
read from price files and aligned by carrying the last observation forward; the return
models of :mod:`xmargin.analytics.return_models` draw paths from it, scenarios replay
windows of it.

Price files (CSV; the format is told by the header):

- ``symbol,timestamp,USD_price``: long form, ``timestamp`` in unix milliseconds;
- ``timestamp,asset,price``: long form, ``timestamp`` ISO-8601 UTC or unix seconds;
- ``timestamp_x,ask_price,bid_price,...``: one symbol's quotes, ``timestamp_x`` in unix
  microseconds; the price is the mid ``(ask + bid) / 2`` and the symbol is the caller's.

Floats are fine here: these are model inputs, never money that moves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from xmargin.errors import InputError
from xmargin.model.numbers import NumberToken, parse_number

__all__ = [
    "HOURS_PER_YEAR",
    "PriceHistory",
    "duration_hours",
    "iso_time",
    "load_price_file",
    "load_prices",
    "missing_series",
    "parse_duration_hours",
    "parse_time",
    "time_seconds",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Crypto markets trade around the clock: a year is 365 days of 24 hours.
HOURS_PER_YEAR = 365.0 * 24.0
#: The longest gap in a series that the last observation is carried across, in hours.
MAX_GAP_HOURS = 48.0


def time_seconds(text: str | int | float | NumberToken) -> int:
    """Unix seconds from ISO-8601 UTC text (``2022-05-09``, ``2022-05-09T12:00Z``) or a
    number; :class:`ValueError` with the reason otherwise (:func:`parse_time` locates it).

    >>> time_seconds("2021-01-11T02:00:30Z"), time_seconds("2021-01-11")
    (1610330430, 1610323200)
    """
    if isinstance(text, bool):
        raise ValueError(f"expected an ISO-8601 UTC time, was {text!r}")
    if isinstance(text, NumberToken):  # a number of a scenario file: the contract's syntax
        text = float(parse_number(text))
    if isinstance(text, int | float):
        if not math.isfinite(text):
            raise ValueError(f"must be finite, was {text!r}")
        return int(text)
    s = str(text).strip()
    for suffix in ("Z", "z", "+00:00", "+0000", " UTC"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    try:
        return int(np.datetime64(s, "s").astype(np.int64))
    except ValueError:
        raise ValueError(
            f"expected an ISO-8601 UTC time like 2022-05-09T12:00Z, was {text!r}"
        ) from None


def duration_hours(text: str | float | int | NumberToken) -> float:
    """Hours from ``"24h"``, ``"5m"``, ``"1d"``, ``"30s"`` or a bare number of hours;
    :class:`ValueError` with the reason otherwise (:func:`parse_duration_hours` locates it).

    >>> duration_hours("24h"), duration_hours("5m"), duration_hours(2)
    (24.0, 0.08333333333333333, 2.0)
    """
    units = {"s": 1 / 3600, "m": 1 / 60, "min": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
    if isinstance(text, bool):
        raise ValueError(f"expected a duration like 24h or 5m, was {text!r}")
    if isinstance(text, NumberToken):
        text = float(parse_number(text))
    if isinstance(text, int | float):
        value, unit = float(text), 1.0
    else:
        s = str(text).strip().lower()
        number = s.rstrip("abcdefghijklmnopqrstuvwxyz")
        suffix = s[len(number) :]
        if suffix and suffix not in units:
            raise ValueError(f"unknown unit {suffix!r} in {text!r} (s, m, h, d, w)")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"expected a duration like 24h or 5m, was {text!r}") from None
        unit = units.get(suffix, 1.0)
    hours = value * unit
    if not math.isfinite(hours) or hours <= 0:
        raise ValueError(f"must be a positive duration, was {text!r}")
    return hours


def parse_time(text: str | int | float, where: str = "time") -> int:
    """:func:`time_seconds`, or an :class:`InputError` located at ``where``."""
    try:
        return time_seconds(text)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def parse_duration_hours(text: str | float | int, where: str = "horizon") -> float:
    """:func:`duration_hours`, or an :class:`InputError` located at ``where``."""
    try:
        return duration_hours(text)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class PriceHistory:
    """Prices on a regular grid: ``prices[t, j]`` is symbol ``j`` at ``times[t]``.

    Attributes
    ----------
    symbols
        Column names.
    times
        Unix seconds, strictly increasing by ``step_seconds``.
    prices
        Quote per unit, all finite and > 0, shape ``(len(times), len(symbols))``.
    """

    symbols: tuple[str, ...]
    times: IntArray
    prices: FloatArray
    step_seconds: int

    @property
    def step_hours(self) -> float:
        return self.step_seconds / 3600.0

    def column(self, symbol: str) -> FloatArray:
        try:
            return self.prices[:, self.symbols.index(symbol)]
        except ValueError:
            raise missing_series([symbol], self.symbols) from None

    def select(self, symbols: Sequence[str]) -> PriceHistory:
        """The columns ``symbols`` in that order (a symbol may repeat)."""
        idx = [self.symbols.index(s) if s in self.symbols else -1 for s in symbols]
        missing = [s for s, i in zip(symbols, idx, strict=True) if i < 0]
        if missing:
            raise missing_series(missing, self.symbols)
        return PriceHistory(tuple(symbols), self.times, self.prices[:, idx], self.step_seconds)

    def window(self, start: int | None, end: int | None) -> PriceHistory:
        """Rows with ``start <= time <= end`` (unix seconds; ``None``: unbounded)."""
        lo = 0 if start is None else int(np.searchsorted(self.times, start, side="left"))
        hi = len(self.times) if end is None else int(np.searchsorted(self.times, end, "right"))
        if hi - lo < 2:
            first, last = iso_time(int(self.times[0])), iso_time(int(self.times[-1]))
            raise InputError(
                f"the window {iso_time(start)} .. {iso_time(end)} holds fewer than two prices; "
                f"the series run from {first} to {last}"
            )
        return PriceHistory(self.symbols, self.times[lo:hi], self.prices[lo:hi], self.step_seconds)

    def log_returns(self) -> FloatArray:
        """One-step log returns, shape ``(len(times) - 1, len(symbols))``."""
        out: FloatArray = np.diff(np.log(self.prices), axis=0)
        return out

    def relative_path(self) -> FloatArray:
        """Prices divided by the first row: the path a replay applies to today's prices."""
        out: FloatArray = self.prices / self.prices[0]
        return out


def missing_series(missing: Sequence[str], held: Sequence[str]) -> InputError:
    """The error for assets without a price series, naming what fixes it (issue 9, item 1):
    a series for each (``--map ASSET=SERIES``, or ``map`` in a scenario file), or today's
    price held (``--static ASSET``, or ``static``)."""
    names = ", ".join(missing)
    first = missing[0] if missing else "ASSET"
    return InputError(
        f"no price series for {names}; the price files hold: {', '.join(held) or 'none'}. "
        f'Drive each by a series (--map {first}=SERIES; map = {{ {first} = "SERIES" }} in a '
        f"scenario file) or hold it at today's price (--static {first}; static = "
        f'["{first}"] in a scenario file)'
    )


def iso_time(t: int | None) -> str:
    """Unix seconds as ISO-8601 UTC (``(open)`` for no bound)."""
    if t is None:
        return "(open)"
    return str(np.datetime64(int(t), "s")) + "Z"


def _read_csv(path: Path) -> pa.Table:
    try:
        return pacsv.read_csv(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot read price file: {str(exc).splitlines()[0]}") from exc


def _to_unix_seconds(col: pa.ChunkedArray, path: Path, scale: float) -> IntArray:
    if pa.types.is_timestamp(col.type):
        arr = col.cast(pa.timestamp("s", tz="UTC")).cast(pa.int64()).to_numpy()
        return np.asarray(arr, dtype=np.int64)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return np.array([parse_time(str(x), f"{path}") for x in col.to_pylist()], dtype=np.int64)
    vals = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
    if not np.isfinite(vals).all():
        raise InputError(f"{path}: timestamp column holds a non-number")
    return np.floor(vals / scale).astype(np.int64)


def load_price_file(
    path: str | Path, symbol: str | None = None
) -> dict[str, tuple[IntArray, FloatArray]]:
    """Series per symbol from one CSV file: ``{symbol: (unix_seconds, prices)}``, sorted.

    Rows with a non-finite or non-positive price are dropped (aggregated feeds carry a
    few); a file with no usable row is refused.
    """
    p = Path(path)
    table = _read_csv(p)
    names = set(table.column_names)
    if {"symbol", "timestamp", "USD_price"} <= names:
        sym_col, time_col, price_col, scale = "symbol", "timestamp", "USD_price", 1000.0
    elif {"timestamp", "asset", "price"} <= names:
        sym_col, time_col, price_col, scale = "asset", "timestamp", "price", 1.0
    elif {"timestamp_x", "ask_price", "bid_price"} <= names:
        t = _to_unix_seconds(table.column("timestamp_x"), p, 1e6)
        ask = np.asarray(table.column("ask_price").to_numpy(zero_copy_only=False), np.float64)
        bid = np.asarray(table.column("bid_price").to_numpy(zero_copy_only=False), np.float64)
        return {symbol or "WETH": _clean(t, (ask + bid) / 2.0, p)}
    else:
        raise InputError(
            f"{p}: unknown price file columns {sorted(names)}; expected symbol,timestamp,"
            "USD_price or timestamp,asset,price or timestamp_x,ask_price,bid_price"
        )
    t = _to_unix_seconds(table.column(time_col), p, scale)
    px = np.asarray(table.column(price_col).to_numpy(zero_copy_only=False), dtype=np.float64)
    syms = np.asarray(table.column(sym_col).to_pylist(), dtype=object)
    out: dict[str, tuple[IntArray, FloatArray]] = {}
    for s in dict.fromkeys(syms.tolist()):
        mask = syms == s
        out[str(s) if symbol is None else symbol] = _clean(t[mask], px[mask], p)
    return out


def _clean(t: IntArray, px: FloatArray, path: Path) -> tuple[IntArray, FloatArray]:
    ok = np.isfinite(px) & (px > 0)
    t, px = t[ok], px[ok]
    if len(t) == 0:
        raise InputError(f"{path}: no usable price (every price is missing or <= 0)")
    order = np.argsort(t, kind="stable")
    t, px = t[order], px[order]
    # One price per second: the last row wins.
    last = np.r_[t[1:] != t[:-1], True]
    return t[last], px[last]


def load_prices(
    paths: str | Path | Sequence[str | Path],
    symbols: Sequence[str] | None = None,
    step: str | float = "1h",
    start: str | int | None = None,
    end: str | int | None = None,
) -> PriceHistory:
    """Read price files (a folder of CSVs, or files) onto one regular grid.

    Each symbol's price at a grid time is its last observation at or before that time,
    carried for at most 48 h; the grid covers the span where every selected symbol has a
    price. ``step``: ``"1h"``, ``"5m"``, ...
    """
    plist = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in plist:
        pth = Path(item)
        if pth.is_dir():
            files.extend(sorted(pth.glob("*.csv")))
        elif pth.is_file():
            files.append(pth)
        else:
            raise InputError(f"{pth}: no such price file or folder")
    if not files:
        raise InputError(f"no .csv price file in {', '.join(str(p) for p in plist)}")
    series: dict[str, tuple[IntArray, FloatArray]] = {}
    for f in files:
        for s, v in load_price_file(f).items():
            series[s] = v
    wanted = list(series) if symbols is None else list(dict.fromkeys(symbols))
    missing = [s for s in wanted if s not in series]
    if missing:
        raise missing_series(missing, list(series))
    step_s = round(parse_duration_hours(step, "step") * 3600)
    if step_s < 1:
        raise InputError(f"step: must be at least one second, was {step!r}")
    t0 = max(int(series[s][0][0]) for s in wanted)
    t1 = min(int(series[s][0][-1]) for s in wanted)
    if start is not None:
        t0 = max(t0, parse_time(start, "start"))
    if end is not None:
        t1 = min(t1, parse_time(end, "end"))
    # Grid on whole multiples of the step, so that windows line up across runs.
    first = -(-t0 // step_s) * step_s
    if t1 < first + step_s:
        raise InputError(
            f"the price series of {', '.join(wanted)} overlap in fewer than two steps of "
            f"{step!s} between {iso_time(t0)} and {iso_time(t1)}"
        )
    grid = np.arange(first, t1 + 1, step_s, dtype=np.int64)
    cols = np.empty((len(grid), len(wanted)), dtype=np.float64)
    max_gap = MAX_GAP_HOURS * 3600
    for j, s in enumerate(wanted):
        ts, px = series[s]
        i = np.searchsorted(ts, grid, side="right") - 1
        gap = grid - ts[i]
        if (gap > max_gap).any():
            at = int(grid[np.argmax(gap > max_gap)])
            raise InputError(
                f"price series {s!r} has a gap of more than {MAX_GAP_HOURS:g} h before "
                f"{iso_time(at)}; choose a window without it"
            )
        cols[:, j] = px[i]
    return PriceHistory(tuple(wanted), grid, cols, step_s)
