"""Return models for hypothetical modeling: seeded, reproducible log-return paths.

Three models draw paths from a price history (:mod:`xmargin.analytics.prices`) or from
stated parameters:

- :class:`FilteredBootstrap`: filtered historical simulation. Hourly log returns are
  standardised by an EWMA volatility (RiskMetrics, ``lam = 0.94``); whole rows of
  standardised residuals are drawn with replacement (so the cross-asset dependence of
  the data is kept) and re-scaled by a volatility that starts at today's EWMA estimate
  and follows the same recursion along the path.
- :class:`StudentT`: multivariate Student-t log returns with the empirical correlation
  and volatilities, scaled to unit variance per degree of freedom.
- :class:`GBM`: geometric Brownian motion with stated (or calibrated) annual volatilities,
  drifts and correlation.

Floats are fine here: these are model inputs, never money that moves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.prices import HOURS_PER_YEAR, PriceHistory, iso_time, load_prices
from xmargin.errors import InputError

__all__ = ["GBM", "FilteredBootstrap", "ReturnModel", "StudentT", "choose_model"]

FloatArray = NDArray[np.float64]


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
            "window": [iso_time(int(h.times[0])), iso_time(int(h.times[-1]))],
            "observations": len(h.times),
        }


def choose_model(
    kind: str,
    series: Sequence[str],
    prices: Sequence[str | Path],
    *,
    start: str | None = None,
    end: str | None = None,
    vols: Mapping[str, float] | None = None,
    corr: float | None = None,
    dof: float = 4.0,
    lam: float = 0.94,
) -> ReturnModel:
    """The return model ``kind`` (``bootstrap``, ``t`` or ``gbm``) for ``series``.

    Calibrated on the price files ``prices`` (window ``start``..``end``); ``gbm`` may
    instead take stated annual ``vols`` per series and one common correlation ``corr``.
    """
    if kind not in ("bootstrap", "t", "gbm"):
        raise InputError(f"--model {kind!r}: expected bootstrap, t or gbm")
    if kind == "gbm" and not prices:
        if not vols:
            raise InputError("--model gbm: give --prices to calibrate, or --vol ASSET=0.8 ...")
        missing = [s for s in series if s not in vols]
        if missing:
            raise InputError(f"--vol: no volatility for {', '.join(missing)} (or --static them)")
        rho = 0.0 if corr is None else corr
        if len(series) > 1 and not -1.0 / (len(series) - 1) <= rho <= 1.0:
            raise InputError(f"--corr: {rho} is not a valid common correlation")
        c = np.full((len(series), len(series)), rho)
        np.fill_diagonal(c, 1.0)
        return GBM(tuple(series), np.array([vols[s] for s in series]), None, c)
    if not prices:
        raise InputError(f"--model {kind}: needs --prices (price files or a folder)")
    history = load_prices(list(prices), symbols=list(series), start=start, end=end)
    if kind == "gbm":
        return GBM.calibrate(history)
    if kind == "t":
        return StudentT.calibrate(history, dof)
    return FilteredBootstrap(history, lam)
