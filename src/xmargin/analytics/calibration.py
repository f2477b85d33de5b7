"""Haircut calibration (contract 7.1): from price history and liquidity to lt and cf.

Per asset:

1. **Series.** The asset's prices on a regular grid (:func:`xmargin.simulate.load_prices`,
   one asset at a time so that a short series does not cut the others). Pegged series
   (median within 5% of 1) are *despiked*: a price further than ``max(5 × 1.4826 × MAD,
   0.2%)`` from the centred rolling median of ``2·12 + 1`` observations is replaced by
   that median. Aggregated stablecoin feeds carry one-off prints (USDC 0.9631 on
   2021-01-05); a centred median keeps any move that lasts longer than half its window,
   so a real de-peg (UST, May 2022) stays. Returns are not winsorised: that would cut
   the crashes a haircut exists for.
2. **Volatility.** Log returns over ``return_step`` (1 day by default, non-overlapping):
   EWMA with λ = 0.94 (RiskMetrics), seeded by the first 30 returns' variance; and
   GARCH(1,1) fitted by the ``arch`` package (zero mean, normal), whose variance
   forecast is averaged over the horizon. Both are reported; ``estimator`` says which
   is used. Annualised by ``√(365 d / step)``.
3. **Horizon** T (days), unless given: the time to sell the position at no more than
   the bonus in average slippage. ``l`` = what sells within slippage β at once (the
   liquidity model: ``βX/(1−β)`` units of a pool of ``X``; the depth curve solved for
   an average fill of ``1 − β``), refilled ``recovery`` times a day; the position is
   the largest supply of the asset by one borrowing account (``account`` basis) or all
   borrowers' supply (``market``); ``T = max(min_horizon, position / (recovery · l))``.
   No liquidity model: ``T = min_horizon``, flagged.
4. **Haircuts** of :mod:`xmargin.analytics.haircuts`, checked by a Monte Carlo of the
   running minimum (a driftless log price with the same σ, monitored hourly) and by the
   history (the ``q`` quantile of the worst fall within T days over every start).
5. **Parameters.** lt = (1 − h)/(1 + β), rounded down to 4 decimals (against the
   borrower); cf = lt·e^(−k·σ·√(t/365)) rounded down (k = 1, t = 1 day by default);
   SmartLTV beside them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from xmargin import simulate as sim
from xmargin.analytics import haircuts as hc
from xmargin.analytics.analysis_inputs import MarketInputs, number
from xmargin.analytics.kernel_layout import W_CF
from xmargin.analytics.volatility import (
    GarchFit,
    despike,
    ewma_volatility,
    garch_volatility,
    historical_first_passage,
    load_histories,
    log_returns,
    mc_first_passage,
)
from xmargin.errors import InputError
from xmargin.mathlib import ONE
from xmargin.model.params import BonusPolicy
from xmargin.risk.liquidation import liquidation_bonus

__all__ = [
    "AssetCalibration",
    "CalibrationConfig",
    "CalibrationResult",
    "calibrate",
    "liquidity_within",
    "load_histories",
]

FloatArray = NDArray[np.float64]
Estimator = Literal["ewma", "garch"]
PARAM_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class CalibrationConfig:
    """Options of ``xmargin calibrate`` (see the module docstring)."""

    confidence: float = 0.99
    horizon_days: float | None = None
    estimator: Estimator = "ewma"
    lam: float = 0.94
    return_step_hours: float = 24.0
    recovery: float = 1.0
    min_horizon_days: float = 1.0
    horizon_basis: Literal["account", "market"] = "account"
    cf_buffer_sigmas: float = 1.0
    cf_buffer_days: float = 1.0
    despike: Literal["pegged", "all", "none"] = "pegged"
    check_paths: int = 4000
    seed: int = 0
    smartltv_c: float | None = None

    def __post_init__(self) -> None:
        if not 0.5 < self.confidence < 1.0:
            raise InputError(f"--confidence: must be in (0.5, 1), was {self.confidence}")
        h = self.horizon_days
        if h is not None and not (math.isfinite(h) and 0 < h <= 3650):
            raise InputError(f"--horizon: must be from 0 to 3650 days, was {h}")
        if not 0.0 < self.lam < 1.0:
            raise InputError(f"--lambda: must be in (0, 1), was {self.lam}")
        if not (math.isfinite(self.recovery) and self.recovery > 0):
            raise InputError(f"--recovery: must be > 0 (per day), was {self.recovery}")
        if not (math.isfinite(self.min_horizon_days) and self.min_horizon_days > 0):
            raise InputError(f"--min-horizon: must be > 0 days, was {self.min_horizon_days}")
        if self.cf_buffer_sigmas < 0 or self.cf_buffer_days < 0:
            raise InputError("--cf-buffer: must be >= 0")
        if not 100 <= self.check_paths <= 1_000_000:
            raise InputError(f"--check-paths: must be from 100 to 1000000, was {self.check_paths}")


# -- liquidity and horizon ----------------------------------------------------------------
def liquidity_within(liq: sim.Liquidity, j: int, mid: float, beta: float) -> float:
    """Quote (at mid) that sells into asset ``j``'s liquidity at average slippage ≤ β.

    ``inf`` without a model (sold at mid) or with β = 0 and no model; 0 when β = 0.
    """
    kind = int(liq.kind[j])
    if kind == 0:
        return math.inf
    if beta <= 0:
        return 0.0
    if kind == 1:  # constant product: q/(X + q) = β
        x = math.sqrt(float(liq.k[j]) / mid)
        return beta * x / (1.0 - beta) * mid

    def slip(v: float) -> float:
        return 1.0 - float(liq.proceeds(j, mid, 0.0, v / mid)) / v

    lo, hi = 0.0, float(liq.depth_tail[j, 1])  # the notional of the curve's last point
    while slip(hi) < beta and hi < 1e30:
        lo, hi = hi, hi * 2.0
    for _ in range(100):
        midv = 0.5 * (lo + hi)
        if midv <= 0 or slip(midv) <= beta:
            lo = midv
        else:
            hi = midv
    return lo


@dataclass(frozen=True)
class AssetCalibration:
    """Everything calibrate reports for one asset (values in quote, σ annual)."""

    asset: str
    series: str
    volatility: float
    volatilities: dict[str, float | None]
    estimator: str
    garch: GarchFit | None
    horizon_days: float
    horizon: dict[str, Any]
    haircut: float
    haircut_terminal: float
    checks: dict[str, Any]
    lt_current: float
    lt_recommended: Decimal
    cf_current: float
    cf_recommended: Decimal
    bonus: float
    smartltv: dict[str, Any]
    observations: int
    despiked: int
    flags: list[str] = field(default_factory=list)

    def to_doc(self) -> dict[str, Any]:
        g = self.garch
        return {
            "asset": self.asset,
            "series": self.series,
            "volatility": number(self.volatility),
            "estimator": self.estimator,
            "volatilities": {k: number(v) for k, v in self.volatilities.items()},
            "garch": None
            if g is None
            else {
                "omega": number(g.omega),
                "alpha": number(g.alpha),
                "beta": number(g.beta),
                "long_run_volatility": number(g.long_run),
                "converged": g.converged,
            },
            "horizon_days": number(self.horizon_days),
            "horizon": {
                k: number(v) if isinstance(v, float) else v for k, v in self.horizon.items()
            },
            "haircut": number(self.haircut),
            "haircut_terminal": number(self.haircut_terminal),
            "checks": {
                k: (
                    {kk: number(vv) if isinstance(vv, float) else vv for kk, vv in v.items()}
                    if isinstance(v, dict)
                    else v
                )
                for k, v in self.checks.items()
            },
            "liquidation_threshold": {
                "current": number(self.lt_current),
                "recommended": str(self.lt_recommended),
            },
            "collateral_factor": {
                "current": number(self.cf_current),
                "recommended": str(self.cf_recommended),
            },
            "liquidation_bonus": number(self.bonus),
            "smartltv": {
                k: number(v) if isinstance(v, float) else v for k, v in self.smartltv.items()
            },
            "observations": self.observations,
            "despiked": self.despiked,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class CalibrationResult:
    config: CalibrationConfig
    assets: list[AssetCalibration]
    quote: str
    return_step_hours: float
    source: str

    def to_doc(self) -> dict[str, Any]:
        c = self.config
        return {
            "confidence": number(c.confidence),
            "estimator": c.estimator,
            "lambda": number(c.lam),
            "return_step_hours": number(self.return_step_hours),
            "source": self.source,
            "quote": self.quote,
            "assets": [a.to_doc() for a in self.assets],
        }


def _bonus(inputs: MarketInputs, asset: str) -> float:
    """β of the contract's 7.1: the asset's bonus by the market's policy
    (:func:`xmargin.risk.liquidation.liquidation_bonus`: ``fixed`` its own, ``threshold``
    its bonus at the current lt); ``health``: ``max_bonus`` (the bonus depends on health)."""
    params = inputs.market.params
    ap = inputs.market.assets[asset]
    if params.bonus_policy is BonusPolicy.HEALTH:
        return float(params.max_bonus)
    return float(liquidation_bonus(params, ap.liquidation_bonus, ap.liquidation_threshold, ONE))


def _horizon(
    inputs: MarketInputs, j: int, beta: float, cfg: CalibrationConfig
) -> tuple[float, dict[str, Any], list[str]]:
    book = inputs.book
    mid = float(book.price[j])
    e = (book.col == j) & (book.s > 0) & book.debtors[book.row]
    values = book.s[e] * mid
    account_value = float(values.max()) if len(values) else 0.0
    market_value = float(values.sum())
    l_beta = liquidity_within(inputs.liquidity, j, mid, beta)
    daily = cfg.recovery * l_beta
    flags: list[str] = []
    days_acc = (
        account_value / daily
        if daily > 0 and math.isfinite(daily)
        else (0.0 if daily > 0 else math.inf)
    )
    days_mkt = (
        market_value / daily
        if daily > 0 and math.isfinite(daily)
        else (0.0 if daily > 0 else math.inf)
    )
    used = days_acc if cfg.horizon_basis == "account" else days_mkt
    if cfg.horizon_days is not None:
        t, source = cfg.horizon_days, "given"
    elif not math.isfinite(l_beta):
        t, source = cfg.min_horizon_days, "floor"
        flags.append("no liquidity model: horizon is the floor (--min-horizon)")
    else:
        t = max(cfg.min_horizon_days, used)
        source = "liquidity" if used >= cfg.min_horizon_days else "floor"
        if not math.isfinite(t):
            raise InputError(
                f"asset {book.assets[j]}: no liquidity within its bonus; give --horizon"
            )
    info = {
        "source": source,
        "basis": cfg.horizon_basis,
        "account_position_value": account_value,
        "market_position_value": market_value,
        "liquidity_within_bonus": l_beta if math.isfinite(l_beta) else None,
        "recovery_per_day": cfg.recovery,
        "days_account": days_acc if math.isfinite(l_beta) else None,
        "days_market": days_mkt if math.isfinite(l_beta) else None,
    }
    return t, info, flags


def _debt_backed(inputs: MarketInputs, asset: str, j: int) -> tuple[float, str]:
    ap = inputs.market.assets[asset]
    p = float(ap.price)
    if ap.debt_ceiling is not None:
        return float(ap.debt_ceiling), "debt_ceiling"
    if ap.supply_cap is not None:
        return float(ap.supply_cap) * p * float(ap.collateral_factor), "supply_cap x price x cf"
    book = inputs.book
    e = book.col == j
    cf = book.wts[e, W_CF]  # after the category rule (contract 1.2)
    return float((book.s[e] * p * cf).sum()), "supply x price x cf"


def calibrate(
    inputs: MarketInputs,
    assets: Sequence[str],
    cfg: CalibrationConfig,
    histories: Mapping[str, sim.PriceHistory] | None = None,
    stated: Mapping[str, float] | None = None,
    asset_map: Mapping[str, str] | None = None,
) -> CalibrationResult:
    """Calibrate ``assets`` from price ``histories`` (by series) or ``stated`` σ (by asset)."""
    amap = dict(asset_map or {})
    book = inputs.book
    q = cfg.confidence
    out: list[AssetCalibration] = []
    step_h = cfg.return_step_hours
    for a in assets:
        j = book.asset_index(a, "--asset")
        ap = inputs.market.assets[a]
        beta = _bonus(inputs, a)
        t, hinfo, flags = _horizon(inputs, j, beta, cfg)
        vols: dict[str, float | None] = {}
        garch: GarchFit | None = None
        checks: dict[str, Any] = {}
        observations = despiked = 0
        series = amap.get(a, a)
        if stated is not None:
            sigma = float(stated[series])
            vols["stated"] = sigma
            used = "stated"
        else:
            assert histories is not None
            h = histories[series]
            px = h.prices[:, 0]
            pegged = abs(float(np.median(px)) - 1.0) < 0.05
            if cfg.despike == "all" or (cfg.despike == "pegged" and pegged):
                px, despiked = despike(px)
            stride = round(step_h / h.step_hours)
            if stride < 1 or abs(stride * h.step_hours - step_h) > 1e-9:
                raise InputError(
                    f"--return-step {step_h:g}h is not a whole multiple of the "
                    f"{h.step_hours:g} h price grid of {series}"
                )
            r = log_returns(px, stride)
            if len(r) < 30:
                raise InputError(
                    f"{series}: {len(r)} returns of {step_h:g} h; need at least 30 "
                    "(a shorter --return-step, or a longer history)"
                )
            observations = len(r)
            per_year = hc.DAYS_PER_YEAR * 24.0 / step_h
            vols["ewma"] = ewma_volatility(r, cfg.lam, per_year)
            vols["sample"] = float(np.std(r, ddof=1)) * math.sqrt(per_year)
            garch = garch_volatility(r, per_year, max(1, round(t * 24.0 / step_h)))
            vols["garch"] = None if garch is None else garch.sigma
            used = cfg.estimator
            if used == "garch" and (garch is None or not garch.converged):
                flags.append("GARCH fit unavailable or not converged: EWMA used")
                used = "ewma"
            sigma = float(vols[used] or 0.0)
            hist = historical_first_passage(px, h.step_hours, t, q)
            checks["historical"] = (
                None if hist is None else {"haircut": hist[0], "windows": hist[1]}
            )
        h_fp = hc.first_passage_haircut(sigma, t, q)
        h_term = hc.terminal_haircut(sigma, t, q)
        hist_cut = (checks.get("historical") or {}).get("haircut")
        if hist_cut is not None and hist_cut > h_fp:
            flags.append(
                f"history: the {q:.0%} quantile of the worst fall within {t:g} days was "
                f"{hist_cut:.2%}, above the model's {h_fp:.2%}"
            )
        mc, se = mc_first_passage(sigma, t, q, cfg.check_paths, cfg.seed)
        checks["monte_carlo"] = {
            "haircut": mc,
            "std_error": se,
            "paths": cfg.check_paths,
            "monitoring": "hourly",
        }
        lt_rec = Decimal(repr(hc.liquidation_threshold_for(h_fp, beta))).quantize(
            PARAM_PLACES, ROUND_DOWN
        )
        cf_raw = hc.collateral_factor_with_buffer(
            float(lt_rec), sigma, cfg.cf_buffer_sigmas, cfg.cf_buffer_days
        )
        cf_rec = min(Decimal(repr(cf_raw)).quantize(PARAM_PLACES, ROUND_DOWN), lt_rec)
        c = cfg.smartltv_c if cfg.smartltv_c is not None else hc.z((1.0 + q) / 2.0)
        debt, debt_source = _debt_backed(inputs, a, j)
        l_day = (hinfo["liquidity_within_bonus"] or math.inf) * cfg.recovery
        smart = {
            # Without a liquidity model the formula gives 1 - β whatever the size: no check.
            "ltv": hc.smart_ltv(sigma, debt, l_day, beta, c) if 0 < l_day < math.inf else None,
            "c": c,
            "debt": debt,
            "debt_source": debt_source,
            "liquidity_per_day": l_day if math.isfinite(l_day) else None,
        }
        out.append(
            AssetCalibration(
                asset=a,
                series=series,
                volatility=sigma,
                volatilities=vols,
                estimator=used,
                garch=garch,
                horizon_days=t,
                horizon=hinfo,
                haircut=h_fp,
                haircut_terminal=h_term,
                checks=checks,
                lt_current=float(ap.liquidation_threshold),
                lt_recommended=lt_rec,
                cf_current=float(ap.collateral_factor),
                cf_recommended=cf_rec,
                bonus=beta,
                smartltv=smart,
                observations=observations,
                despiked=despiked,
                flags=flags,
            )
        )
    source = "stated volatility" if stated is not None else "price history"
    return CalibrationResult(cfg, out, book.quote, step_h, source)
