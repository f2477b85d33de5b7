"""Price histories and return models for hypothetical modeling.

A :class:`PriceHistory` is a regular time grid of prices (rows) per symbol (columns),
read from price files and aligned by carrying the last observation forward. Three
return models draw seeded, reproducible log-return paths from it (or from stated
parameters):

- :class:`FilteredBootstrap`: filtered historical simulation. Hourly log returns are
  standardised by an EWMA volatility (RiskMetrics, ``lam = 0.94``); whole rows of
  standardised residuals are drawn with replacement (so the cross-asset dependence of
  the data is kept) and re-scaled by a volatility that starts at today's EWMA estimate
  and follows the same recursion along the path.
- :class:`StudentT`: multivariate Student-t log returns with the empirical correlation
  and volatilities, scaled to unit variance per degree of freedom.
- :class:`GBM`: geometric Brownian motion with stated (or calibrated) annual volatilities,
  drifts and correlation.

Price files (CSV; the format is told by the header):

- ``symbol,timestamp,USD_price``: long form, ``timestamp`` in unix milliseconds;
- ``timestamp,asset,price``: long form, ``timestamp`` ISO-8601 UTC or unix seconds;
- ``timestamp_x,ask_price,bid_price,...``: one symbol's quotes, ``timestamp_x`` in unix
  microseconds; the price is the mid ``(ask + bid) / 2`` and the symbol is the caller's.

Floats are fine here: these are model inputs, never money that moves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from xmargin.errors import InputError

__all__ = [
    "GBM",
    "HOURS_PER_YEAR",
    "FilteredBootstrap",
    "PriceHistory",
    "ReturnModel",
    "StudentT",
    "load_price_file",
    "load_prices",
    "parse_duration_hours",
    "parse_time",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Crypto markets trade around the clock: a year is 365 days of 24 hours.
HOURS_PER_YEAR = 365.0 * 24.0
#: The longest gap in a series that the last observation is carried across, in hours.
MAX_GAP_HOURS = 48.0


def parse_time(text: str | int | float, where: str = "time") -> int:
    """Unix seconds from ISO-8601 UTC text (``2022-05-09``, ``2022-05-09T12:00Z``) or a number.

    >>> parse_time("2021-01-11T02:00:30Z"), parse_time("2021-01-11")
    (1610330430, 1610323200)
    """
    if isinstance(text, bool):
        raise InputError(f"{where}: expected an ISO-8601 UTC time, was {text!r}")
    if isinstance(text, int | float):
        if not math.isfinite(text):
            raise InputError(f"{where}: must be finite, was {text!r}")
        return int(text)
    s = str(text).strip()
    for suffix in ("Z", "z", "+00:00", "+0000", " UTC"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    try:
        return int(np.datetime64(s, "s").astype(np.int64))
    except ValueError:
        raise InputError(
            f"{where}: expected an ISO-8601 UTC time like 2022-05-09T12:00Z, was {text!r}"
        ) from None


def parse_duration_hours(text: str | float | int, where: str = "horizon") -> float:
    """Hours from ``"24h"``, ``"5m"``, ``"1d"``, ``"30s"`` or a bare number of hours.

    >>> parse_duration_hours("24h"), parse_duration_hours("5m"), parse_duration_hours(2)
    (24.0, 0.08333333333333333, 2.0)
    """
    units = {"s": 1 / 3600, "m": 1 / 60, "min": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
    if isinstance(text, bool):
        raise InputError(f"{where}: expected a duration like 24h or 5m, was {text!r}")
    if isinstance(text, int | float):
        value, unit = float(text), 1.0
    else:
        s = str(text).strip().lower()
        number = s.rstrip("abcdefghijklmnopqrstuvwxyz")
        suffix = s[len(number) :]
        if suffix and suffix not in units:
            raise InputError(f"{where}: unknown unit {suffix!r} in {text!r} (s, m, h, d, w)")
        try:
            value = float(number)
        except ValueError:
            raise InputError(f"{where}: expected a duration like 24h or 5m, was {text!r}") from None
        unit = units.get(suffix, 1.0)
    hours = value * unit
    if not math.isfinite(hours) or hours <= 0:
        raise InputError(f"{where}: must be a positive duration, was {text!r}")
    return hours


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
            raise InputError(
                f"no price series for {symbol!r}; the files hold: {', '.join(self.symbols)}"
            ) from None

    def select(self, symbols: Sequence[str]) -> PriceHistory:
        """The columns ``symbols`` in that order (a symbol may repeat)."""
        idx = [self.symbols.index(s) if s in self.symbols else -1 for s in symbols]
        missing = [s for s, i in zip(symbols, idx, strict=True) if i < 0]
        if missing:
            raise InputError(
                f"no price series for {', '.join(missing)}; the files hold: "
                f"{', '.join(self.symbols)} (map market assets to series with --map ASSET=SERIES)"
            )
        return PriceHistory(tuple(symbols), self.times, self.prices[:, idx], self.step_seconds)

    def window(self, start: int | None, end: int | None) -> PriceHistory:
        """Rows with ``start <= time <= end`` (unix seconds; ``None``: unbounded)."""
        lo = 0 if start is None else int(np.searchsorted(self.times, start, side="left"))
        hi = len(self.times) if end is None else int(np.searchsorted(self.times, end, "right"))
        if hi - lo < 2:
            first, last = _iso(int(self.times[0])), _iso(int(self.times[-1]))
            raise InputError(
                f"the window {_iso(start)} .. {_iso(end)} holds fewer than two prices; "
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


def _iso(t: int | None) -> str:
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
        raise InputError(
            f"no price series for {', '.join(missing)}; the files hold: {', '.join(series)}"
        )
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
            f"{step!s} between {_iso(t0)} and {_iso(t1)}"
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
                f"{_iso(at)}; choose a window without it"
            )
        cols[:, j] = px[i]
    return PriceHistory(tuple(wanted), grid, cols, step_s)


# -- return models ------------------------------------------------------------------------
class ReturnModel(Protocol):
    """Draws log-return paths: ``sample(rng, n_paths, n_steps, step_hours)``.

    Returns an array of shape ``(n_paths, n_steps, len(symbols))``: the log return of
    each symbol over each step. The same ``rng`` state gives the same numbers.
    """

    @property
    def symbols(self) -> tuple[str, ...]: ...

    def sample(
        self, rng: np.random.Generator, n_paths: int, n_steps: int, step_hours: float
    ) -> FloatArray: ...

    def describe(self) -> dict[str, object]: ...


def _check_corr(corr: FloatArray, n: int) -> FloatArray:
    c = np.asarray(corr, dtype=np.float64)
    if c.shape != (n, n):
        raise InputError(f"correlation: expected a {n}x{n} matrix, was {c.shape}")
    if not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1.0):
        raise InputError("correlation: must be symmetric with ones on the diagonal")
    if np.abs(c).max() > 1.0 + 1e-12:
        raise InputError("correlation: every entry must lie in [-1, 1]")
    return c


def _cholesky(corr: FloatArray) -> FloatArray:
    """A lower factor L with L Lᵀ ≈ corr; a non-PSD estimate is clipped to its nearest PSD."""
    w, v = np.linalg.eigh(corr)
    if w.min() < -1e-8 * max(1.0, w.max()):
        w = np.clip(w, 0.0, None)
        c = (v * w) @ v.T
        d = np.sqrt(np.clip(np.diag(c), 1e-300, None))
        corr = c / np.outer(d, d)
        w, v = np.linalg.eigh(corr)
    # A symmetric square root works for singular (perfectly correlated) matrices too.
    root: FloatArray = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return root


@dataclass(frozen=True)
class GBM:
    """Geometric Brownian motion: ``r = (mu - sigma^2/2) dt + sigma sqrt(dt) (L z)``.

    ``sigma`` and ``mu`` are annual (a year of 8,760 hours); ``corr`` is the correlation of
    the Brownian increments (identity by default).
    """

    symbols: tuple[str, ...]
    sigma: FloatArray
    mu: FloatArray | None = None
    corr: FloatArray | None = None

    def __post_init__(self) -> None:
        n = len(self.symbols)
        sig = np.asarray(self.sigma, dtype=np.float64).reshape(-1)
        if sig.shape != (n,) or not np.isfinite(sig).all() or (sig < 0).any():
            raise InputError(f"GBM sigma: expected {n} finite volatilities >= 0")
        object.__setattr__(self, "sigma", sig)
        mu = np.zeros(n) if self.mu is None else np.asarray(self.mu, np.float64).reshape(-1)
        if mu.shape != (n,) or not np.isfinite(mu).all():
            raise InputError(f"GBM mu: expected {n} finite drifts")
        object.__setattr__(self, "mu", mu)
        corr = np.eye(n) if self.corr is None else _check_corr(self.corr, n)
        object.__setattr__(self, "corr", corr)

    @classmethod
    def calibrate(cls, history: PriceHistory) -> GBM:
        """Annual volatilities and the correlation of the history's log returns; no drift."""
        r = history.log_returns()
        scale = math.sqrt(HOURS_PER_YEAR / history.step_hours)
        return cls(history.symbols, r.std(axis=0, ddof=1) * scale, None, _safe_corr(r))

    def sample(
        self, rng: np.random.Generator, n_paths: int, n_steps: int, step_hours: float
    ) -> FloatArray:
        assert self.corr is not None and self.mu is not None
        dt = step_hours / HOURS_PER_YEAR
        z = rng.standard_normal((n_paths, n_steps, len(self.symbols)))
        z = z @ _cholesky(self.corr).T
        out: FloatArray = (self.mu - 0.5 * self.sigma**2) * dt + self.sigma * math.sqrt(dt) * z
        return out

    def describe(self) -> dict[str, object]:
        return {
            "model": "gbm",
            "sigma_annual": dict(zip(self.symbols, self.sigma.tolist(), strict=True)),
        }


def _safe_corr(r: FloatArray) -> FloatArray:
    if r.shape[1] == 1:
        return np.ones((1, 1))
    sd = r.std(axis=0)
    c = np.corrcoef(r, rowvar=False) if (sd > 0).all() else np.eye(r.shape[1])
    if (sd == 0).any():
        ok = sd > 0
        sub = np.corrcoef(r[:, ok], rowvar=False) if ok.sum() > 1 else np.ones((1, 1))
        c = np.eye(r.shape[1])
        c[np.ix_(ok, ok)] = sub
    out: FloatArray = np.clip(np.nan_to_num(c), -1.0, 1.0)
    np.fill_diagonal(out, 1.0)
    return out


@dataclass(frozen=True)
class StudentT:
    """Multivariate Student-t log returns: ``r = sigma_step * (L z) * sqrt((nu-2)/W)``.

    ``W ~ chi2(nu)``: heavy tails shared by every asset (one W per path and step), unit
    variance per step before scaling. ``sigma`` is the hourly volatility; a step of ``h``
    hours has ``sigma * sqrt(h)``.
    """

    symbols: tuple[str, ...]
    sigma_hourly: FloatArray
    corr: FloatArray
    dof: float = 4.0

    def __post_init__(self) -> None:
        n = len(self.symbols)
        sig = np.asarray(self.sigma_hourly, dtype=np.float64).reshape(-1)
        if sig.shape != (n,) or not np.isfinite(sig).all() or (sig < 0).any():
            raise InputError(f"Student-t sigma: expected {n} finite volatilities >= 0")
        object.__setattr__(self, "sigma_hourly", sig)
        object.__setattr__(self, "corr", _check_corr(self.corr, n))
        if not (math.isfinite(self.dof) and self.dof > 2):
            raise InputError(f"--dof: must be > 2 (finite variance), was {self.dof}")

    @classmethod
    def calibrate(cls, history: PriceHistory, dof: float = 4.0) -> StudentT:
        r = history.log_returns()
        sig = r.std(axis=0, ddof=1) / math.sqrt(history.step_hours)
        return cls(history.symbols, sig, _safe_corr(r), dof)

    def sample(
        self, rng: np.random.Generator, n_paths: int, n_steps: int, step_hours: float
    ) -> FloatArray:
        z = rng.standard_normal((n_paths, n_steps, len(self.symbols))) @ _cholesky(self.corr).T
        w = rng.chisquare(self.dof, size=(n_paths, n_steps, 1))
        scale = np.sqrt((self.dof - 2.0) / w)
        out: FloatArray = z * scale * (self.sigma_hourly * math.sqrt(step_hours))
        return out

    def describe(self) -> dict[str, object]:
        return {
            "model": "student-t",
            "dof": self.dof,
            "sigma_hourly": dict(zip(self.symbols, self.sigma_hourly.tolist(), strict=True)),
        }


@dataclass(frozen=True)
class FilteredBootstrap:
    """Filtered historical simulation over a price history (see the module docstring).

    ``lam``: EWMA decay per data step; ``clip``: standardised residuals are winsorised to
    ``[-clip, clip]`` (aggregated stablecoin series carry one-off spikes).
    """

    history: PriceHistory
    lam: float = 0.94
    clip: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 < self.lam < 1.0:
            raise InputError(f"lambda: must be in (0, 1), was {self.lam}")
        if len(self.history.times) < 30:
            raise InputError("the bootstrap needs at least 30 prices per series")

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.history.symbols

    def _filter(self) -> tuple[FloatArray, FloatArray]:
        """(standardised residuals, the volatility forecast for the next step)."""
        r = self.history.log_returns()
        lam = self.lam
        var = np.empty_like(r)
        v = np.maximum(r[: min(len(r), 24)].var(axis=0), 1e-16)
        for t in range(len(r)):
            var[t] = v
            v = lam * v + (1.0 - lam) * r[t] ** 2
        z = np.clip(r / np.sqrt(var), -self.clip, self.clip)
        # Residuals with unit variance per column, so re-scaling gives the forecast vol.
        sd = z.std(axis=0)
        z = z / np.where(sd > 0, sd, 1.0)
        return z, np.sqrt(np.maximum(v, 1e-16))

    def sample(
        self, rng: np.random.Generator, n_paths: int, n_steps: int, step_hours: float
    ) -> FloatArray:
        k = step_hours / self.history.step_hours
        sub = round(k)
        if sub < 1 or abs(k - sub) > 1e-9:
            raise InputError(
                f"the bootstrap draws steps of whole multiples of the data step "
                f"({self.history.step_hours:g} h); a step of {step_hours:g} h is not one"
            )
        z, sigma0 = self._filter()
        n = len(self.symbols)
        out = np.zeros((n_paths, n_steps, n))
        sigma = np.broadcast_to(sigma0, (n_paths, n)).copy()
        lam = self.lam
        for s in range(n_steps):
            for _ in range(sub):
                rows = rng.integers(0, len(z), size=n_paths)
                r = sigma * z[rows]
                out[:, s, :] += r
                sigma = np.sqrt(lam * sigma**2 + (1.0 - lam) * r**2)
        return out

    def describe(self) -> dict[str, object]:
        h = self.history
        return {
            "model": "bootstrap",
            "lambda": self.lam,
            "window": [_iso(int(h.times[0])), _iso(int(h.times[-1]))],
            "observations": len(h.times),
        }


def model_for_assets(
    model: ReturnModel, assets: Sequence[str], asset_map: Mapping[str, str]
) -> list[int]:
    """For each market asset, the model column that drives it (via ``asset_map``)."""
    cols: list[int] = []
    for a in assets:
        s = asset_map.get(a, a)
        if s not in model.symbols:
            raise InputError(
                f"asset {a!r}: no return series {s!r}; the model has {', '.join(model.symbols)} "
                "(map it with --map ASSET=SERIES or hold it fixed with --static ASSET)"
            )
        cols.append(model.symbols.index(s))
    return cols
