"""The same price paths under each liquidation design: what a governance post compares.

``simulate compare`` (contract 8.5) builds, from one market, each design it is asked for
(:data:`DESIGNS`) with the market's own tables for it where it has them, else their
defaults (a storefront's base: the asset borrowed most, by value), and runs the same
paths through the cascade (:mod:`xmargin.analytics.cascade`) under each. Liquidators act
only when profitable after slippage and gas, as in ``simulate cascade``.

Figures per design, means over the paths (quote):

- ``bad_debt``: losses the insurance fund did not cover (write-offs, keeper incentives,
  a storefront's loss on what it absorbed) plus every shortfall left at the end (an
  account's debt beyond its collateral, an auction's debt beyond its lot);
- ``liquidated``: debt cleared, at the oracle when cleared (by a storefront: up to the
  value of the collateral absorbed);
- ``liquidator_profit``: what liquidators, keepers and storefront buyers made, after
  selling into the liquidity and gas;
- ``borrower_loss``: collateral taken from borrowers, at the oracle, beyond the debt it
  cleared (the bonus, the penalty, an absorb's discount);
- ``fund_drawdown``: min(the insurance fund at the start, the losses above);
- ``protocol_revenue``: protocol fees, auction penalties, a storefront's gains;
- ``time_to_clear_hours``: from the first to the last step anything was done, on the
  paths where nothing is left to do at the end (``None`` if on none);
  ``cleared_share`` says on how many.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from xmargin.analytics.cascade.designs import (
    D_BORROWER_LOSS,
    D_FIRST,
    D_FUND_IN,
    D_FUND_OUT,
    D_KEEPER,
    D_LAST,
    D_LIQ_PROFIT,
    D_OPEN,
    D_RESIDUAL,
    D_VOLUME,
    CascadeDesign,
    DesignStep,
)
from xmargin.analytics.cascade.engine import PathEngine, PathOutcome
from xmargin.analytics.cascade.layout import FloatArray
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.simbook import SimBook
from xmargin.errors import InputError
from xmargin.fast import designs as fd
from xmargin.fast.packing import MarketRules
from xmargin.mathlib import finite_text
from xmargin.model.liquidation_params import (
    AuctionCurve,
    AuctionParams,
    LiquidationDesign,
    StorefrontParams,
)
from xmargin.model.market import Market
from xmargin.model.params import BonusPolicy
from xmargin.risk.storefront import liquidation_factor

__all__ = [
    "DESIGNS",
    "DesignFigures",
    "cascade_design",
    "compare_designs",
    "compare_doc",
    "parse_designs",
    "shock_paths",
]

#: The designs ``simulate compare`` knows, in its order.
DESIGNS = ("fixed", "threshold", "health", "target", "auction", "storefront")
_POLICY = {"fixed": BonusPolicy.FIXED, "threshold": BonusPolicy.THRESHOLD}
_CURVE = {
    AuctionCurve.LINEAR: fd.LINEAR,
    AuctionCurve.STEP_EXPONENTIAL: fd.STEP_EXPONENTIAL,
    AuctionCurve.TWO_SPEED: fd.TWO_SPEED,
}


@dataclass(frozen=True)
class DesignFigures:
    """One design's figures (module docstring); ``bad_debt_p99`` over the paths."""

    design: str
    bad_debt: float
    bad_debt_p99: float
    liquidated: float
    liquidator_profit: float
    borrower_loss: float
    fund_drawdown: float
    protocol_revenue: float
    time_to_clear_hours: float | None
    cleared_share: float
    liquidations: float

    def to_doc(self) -> dict[str, str | None]:
        """The figures as contract 8.6's JSON names them, decimal strings."""
        return {
            "bad_debt": finite_text(self.bad_debt),
            "bad_debt_p99": finite_text(self.bad_debt_p99),
            "liquidated_volume": finite_text(self.liquidated),
            "liquidator_profit": finite_text(self.liquidator_profit),
            "borrower_loss": finite_text(self.borrower_loss),
            "insurance_fund_drawdown": finite_text(self.fund_drawdown),
            "protocol_revenue": finite_text(self.protocol_revenue),
            "time_to_clear_hours": finite_text(self.time_to_clear_hours),
            "cleared_share": finite_text(self.cleared_share),
            "liquidations": finite_text(self.liquidations),
        }


def compare_doc(
    results: Mapping[str, DesignFigures],
    quote: str,
    shocks: Mapping[str, float],
    paths: int,
    seed: int,
    steps: int,
    step_hours: float,
    liquidity_models: bool,
) -> dict[str, Any]:
    """Contract 8.6's JSON: the run's settings and, per design, every figure (the CLI's
    ``--json`` and the service's response alike)."""
    return {
        "quote": quote,
        "shocks": {a: finite_text(x) for a, x in shocks.items()},
        "paths": paths,
        "seed": seed,
        "steps": steps,
        "step_hours": finite_text(step_hours),
        "liquidity_models": liquidity_models,
        "designs": {name: r.to_doc() for name, r in results.items()},
    }


def parse_designs(text: str) -> list[str]:
    """``"fixed,target"`` -> the designs, each known, none twice (``--liquidation``)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError("--liquidation: name at least one design")
    for n in names:
        if n not in DESIGNS:
            raise InputError(f"--liquidation: unknown design {n!r}; known: {', '.join(DESIGNS)}")
    if len(set(names)) != len(names):
        raise InputError(f"--liquidation: a design is named twice in {text!r}")
    return names


def _storefront(market: Market, book: SimBook) -> StorefrontParams:
    if market.params.storefront is not None:
        return market.params.storefront
    debt = np.bincount(book.col, weights=book.b * book.price[book.col], minlength=book.n_assets)
    return StorefrontParams(base=book.assets[int(np.argmax(debt))])


def cascade_design(name: str, market: Market, book: SimBook, step_seconds: float) -> CascadeDesign:
    """The design ``name`` of :data:`DESIGNS` for ``market``, as the cascade runs it."""
    params = market.params
    if name in _POLICY or name == "health":
        policy = _POLICY.get(name, BonusPolicy.HEALTH)
        params = params.model_copy(update={"bonus_policy": policy})
    rules = MarketRules.of(params).vector()
    th = params.target_health
    target = (1.05, 0.85, 0.8) if th is None else (
        float(th.target_health_factor),
        float(th.health_factor_for_max_bonus),
        float(th.liquidation_bonus_factor),
    )  # fmt: skip
    au = params.auction or AuctionParams()
    auction = (
        float(_CURVE[au.curve]), float(au.tau), float(au.step), float(au.cut),
        float(au.fast_floor), float(au.fast_seconds), float(au.slow_seconds), float(au.buf),
        np.inf if au.tail is None else float(au.tail), float(au.cusp), float(au.tip),
        float(au.chip),
    )  # fmt: skip
    sf = _storefront(market, book)
    base = book.asset_index(sf.base, "storefront.base")
    p_base = book.price[base]
    lf = np.array([float(liquidation_factor(market, sf, a)) for a in book.assets])
    return CascadeDesign(
        name=name,
        rules=rules,
        step_seconds=step_seconds,
        target=target,
        auction=auction,
        storefront_base=base,
        storefront_factor=float(sf.store_front_price_factor),
        target_reserves=float(sf.target_reserves) * p_base,
        reserves=float(market.reserves.get(sf.base, Decimal(0))) * p_base,
        liquidation_factor=lf,
    )


def design_step(book: SimBook, name: str | None, step_seconds: float) -> DesignStep | None:
    """The design a run of ``book`` liquidates by: ``name`` (one of :data:`DESIGNS`), else
    the market's own ``liquidation`` (``None``, the cascade's close-factor kernels, for
    ``close_factor``). Built from the book's parameters: a book holds no ``[state]``, so
    a storefront starts with no reserves and there is no insurance fund."""
    params = book.pack.params
    if name is None:
        if params.liquidation == LiquidationDesign.CLOSE_FACTOR:
            return None
        name = str(params.liquidation)
    if name not in DESIGNS:
        raise InputError(f"--liquidation: unknown design {name!r}; known: {', '.join(DESIGNS)}")
    market = Market(params, book.pack.assets, book.pack.categories)
    return DesignStep(cascade_design(name, market, book, step_seconds), book)


def design_name(book: SimBook, name: str | None) -> str:
    """The design a run of ``book`` liquidates by, as :data:`DESIGNS` names it: ``name``,
    else the market's ``liquidation`` (for the close factor, its bonus policy)."""
    if name is not None:
        return name
    params = book.pack.params
    if params.liquidation == LiquidationDesign.CLOSE_FACTOR:
        return str(params.bonus_policy)
    return str(params.liquidation)


def design_losses(step: DesignStep, outcome: PathOutcome) -> float:
    """What a run under ``step`` lost beyond the engine's own bad debt (path 0): a
    storefront's loss on what it absorbed, an auction's debt beyond its lot at the end
    (keeper incentives are costs, not bad debt)."""
    d = step.finish(outcome.final_prices)
    extra = d[:, D_FUND_OUT] - outcome.written_off - d[:, D_KEEPER] + d[:, D_RESIDUAL]
    return float(extra[0])


def shock_paths(
    book: SimBook,
    shocks: Mapping[str, float],
    steps: int,
    total_steps: int,
    n_paths: int = 1,
    seed: int = 0,
    vols: Mapping[str, float] | None = None,
    step_hours: float = 1.0,
) -> FloatArray:
    """Paths (paths x total_steps x assets): each shocked asset reaches its shock in
    ``steps`` steps (log-linearly) and holds it; with ``vols`` (annual, per asset), each
    path adds independent Brownian noise to the log prices, seeded by ``seed``."""
    if not 1 <= steps <= total_steps:
        raise InputError(f"--steps: must be from 1 to the horizon's {total_steps} steps")
    end = book.price.copy()
    for a, x in shocks.items():
        j = book.asset_index(a, "--shock")
        end[j] = book.price[j] * (1.0 + x)
    if (end <= 0).any():
        raise InputError("--shock: a price would fall to zero or below")
    frac = np.minimum(np.arange(1, total_steps + 1), steps)[:, None] / steps
    drift = frac * np.log(end / book.price)[None, :]
    sigma = np.zeros(book.n_assets)
    for a, v in (vols or {}).items():
        sigma[book.asset_index(a, "--vol")] = v
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_paths, total_steps, book.n_assets))
    noise = np.cumsum(z * sigma * np.sqrt(step_hours / 8760.0), axis=1)
    out: FloatArray = book.price[None, None, :] * np.exp(drift[None, :, :] + noise)
    return out


def compare_designs(
    book: SimBook,
    market: Market,
    designs: Sequence[str],
    paths: FloatArray,
    liquidity: Liquidity | None = None,
    gas: float = 0.0,
    step_hours: float = 1.0,
) -> dict[str, DesignFigures]:
    """Run ``paths`` under each design of ``designs`` (module docstring)."""
    fund0 = sum(
        float(units) * float(market.assets[a].price) for a, units in market.insurance_fund.items()
    )
    out: dict[str, DesignFigures] = {}
    for name in designs:
        step = DesignStep(cascade_design(name, market, book, step_hours * 3600.0), book)
        engine = PathEngine(book, liquidity, gate=True, gas=gas, design=step)
        o, _ = engine.run(paths)
        d = step.finish(o.final_prices)
        losses = d[:, D_FUND_OUT]
        drawdown = np.minimum(losses, fund0)
        bad = losses - drawdown + o.residual + d[:, D_RESIDUAL]
        cleared = (o.still_liquidatable == 0) & (d[:, D_OPEN] == 0)
        span = np.where(d[:, D_FIRST] < 0, 0.0, d[:, D_LAST] - d[:, D_FIRST] + 1) * step_hours
        out[name] = DesignFigures(
            design=name,
            bad_debt=float(bad.mean()),
            bad_debt_p99=float(np.quantile(bad, 0.99)),
            liquidated=float(d[:, D_VOLUME].mean()),
            liquidator_profit=float(d[:, D_LIQ_PROFIT].mean()),
            borrower_loss=float(d[:, D_BORROWER_LOSS].mean()),
            fund_drawdown=float(drawdown.mean()),
            protocol_revenue=float(d[:, D_FUND_IN].mean()),
            time_to_clear_hours=float(span[cleared].mean()) if cleared.any() else None,
            cleared_share=float(cleared.mean()),
            liquidations=float(o.liquidations.mean()),
        )
    return out
