"""The options of ``xmargin simulate montecarlo``, turned into a run in one place.

``simulate montecarlo``, ``optimize`` (its VaR99 must be what that command prints on the
written market, contract 7.2) and the service's ``POST /v1/analysis/optimize`` all build
their Monte Carlo here, from the same options with the same defaults: the configuration
(:class:`~xmargin.analytics.montecarlo.MonteCarloConfig`, circuit breakers by
:func:`~xmargin.analytics.scenario_file.breakers_of_options`), the return model
(:func:`~xmargin.analytics.return_models.choose_model` for the series the book needs,
:func:`~xmargin.analytics.montecarlo.series_needed`) and the liquidity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.montecarlo import MonteCarloConfig, series_needed
from xmargin.analytics.prices import parse_duration_hours
from xmargin.analytics.return_models import ReturnModel, choose_model
from xmargin.analytics.scenario_file import breakers_of_options
from xmargin.analytics.simbook import SimBook

__all__ = ["MonteCarloOptions"]


@dataclass(frozen=True)
class MonteCarloOptions:
    """The options of ``xmargin simulate montecarlo``, with its defaults (contract 7.2).

    Texts are kept as the command line gives them (``horizon = "24h"``, ``pause_drop =
    "20%"``) and read, with the option named in any error, when the run is built.
    ``vols``: stated annual volatilities per series (``gbm`` without ``prices``).
    """

    model: str = "bootstrap"
    prices: tuple[Path, ...] = ()
    start: str | None = None
    end: str | None = None
    asset_map: Mapping[str, str] = field(default_factory=dict)
    static: tuple[str, ...] = ()
    vols: Mapping[str, float] = field(default_factory=dict)
    corr: float | None = None
    dof: float = 4.0
    lam: float = 0.94
    paths: int = 10_000
    horizon: str = "24h"
    steps: int = 1
    seed: int = 0
    settle_first: bool = True
    use_liquidity: bool = True
    gas: float = 0.0
    cap: float | None = None
    pause_drop: str | None = None
    pause_window: str = "1h"
    vol_elasticity: float = 1.0

    def config(self) -> MonteCarloConfig:
        """The run's configuration; :class:`~xmargin.errors.InputError` naming the option."""
        hours = parse_duration_hours(self.horizon, "--horizon")
        step_h = hours / max(1, self.steps)
        return MonteCarloConfig(
            n_paths=self.paths,
            horizon_hours=hours,
            steps=self.steps,
            seed=self.seed,
            settle_first=self.settle_first,
            asset_map=dict(self.asset_map),
            static=tuple(self.static),
            use_liquidity=self.use_liquidity,
            gas=self.gas,
            breakers=breakers_of_options(self.cap, self.pause_drop, self.pause_window, step_h),
            vol_elasticity=self.vol_elasticity,
        )

    def return_model(self, book: SimBook) -> ReturnModel:
        """The return model of the series ``book`` needs (every ``static`` asset must be
        the book's)."""
        for a in self.static:
            book.asset_index(a, "--static")
        return choose_model(
            self.model,
            series_needed(book, self.asset_map, self.static),
            self.prices,
            start=self.start,
            end=self.end,
            vols=self.vols,
            corr=self.corr,
            dof=self.dof,
            lam=self.lam,
        )

    def liquidity(self, market_liquidity: Liquidity) -> Liquidity | None:
        """Where seized collateral is sold: the market's models, or none
        (``--no-liquidity``)."""
        return market_liquidity if self.use_liquidity else None
