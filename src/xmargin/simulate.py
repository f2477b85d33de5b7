"""Hypothetical modeling: scenarios, Monte Carlo bad-debt VaR, liquidation cascades.

The public face of :mod:`xmargin.analytics`'s simulation layer::

    from xmargin import simulate

    book, _ = simulate.load_simbook("market.toml")
    model = simulate.GBM(book.assets, sigma=[0.8] * book.n_assets)
    result = simulate.monte_carlo(book, model, simulate.MonteCarloConfig(n_paths=10_000))
    result.figures["var_99"]          # RiskFigure(value=..., std_error=...)

Every simulation liquidates by the engine's own rules (contract section 3), in float64
kernels held to the exact Decimal engine by the tests; the same seed gives the same
numbers, with or without Dask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xmargin.analytics.cascade import Breakers, CascadeRecord, PathEngine, PathOutcome
from xmargin.analytics.design_compare import (
    DESIGNS,
    DesignFigures,
    cascade_design,
    compare_designs,
    compare_doc,
    design_name,
    parse_designs,
    shock_paths,
)
from xmargin.analytics.design_compare_plot import write_compare_plot
from xmargin.analytics.distributed import dask_client, dask_runner, runner_on
from xmargin.analytics.liquidity import Liquidity, cpmm_average_price_slippage
from xmargin.analytics.montecarlo import (
    MonteCarloConfig,
    MonteCarloResult,
    SettleResult,
    chunk_layout,
    chunk_size,
    draw_paths,
    monte_carlo,
    path_engine,
    series_needed,
    settle,
)
from xmargin.analytics.montecarlo_options import MonteCarloOptions
from xmargin.analytics.prices import (
    PriceHistory,
    load_price_file,
    load_prices,
    parse_duration_hours,
    parse_time,
)
from xmargin.analytics.report import montecarlo_html, scenario_html, write_report
from xmargin.analytics.return_models import (
    GBM,
    FilteredBootstrap,
    ReturnModel,
    StudentT,
    choose_model,
)
from xmargin.analytics.risk_figures import RiskFigure, risk_figures
from xmargin.analytics.scenario_file import (
    Correlated,
    Depeg,
    Replay,
    Scenario,
    breakers_of,
    breakers_of_options,
    load_scenarios,
    parse_fraction,
    parse_scenarios,
)
from xmargin.analytics.scenario_options import ScenarioOptions, scenario_options
from xmargin.analytics.scenario_paths import scenario_prices
from xmargin.analytics.scenarios import ScenarioResult, compare_breakers, run_scenario
from xmargin.analytics.simbook import SimBook, load_simbook, perps_left_out
from xmargin.analytics.simperps import parse_funding_rates

__all__ = [
    "DESIGNS",
    "GBM",
    "Breakers",
    "CascadeRecord",
    "Correlated",
    "Depeg",
    "DesignFigures",
    "FilteredBootstrap",
    "Liquidity",
    "MonteCarloConfig",
    "MonteCarloOptions",
    "MonteCarloResult",
    "PathEngine",
    "PathOutcome",
    "PriceHistory",
    "Replay",
    "ReturnModel",
    "RiskFigure",
    "Scenario",
    "ScenarioOptions",
    "ScenarioResult",
    "SettleResult",
    "SimBook",
    "StudentT",
    "breakers_of",
    "breakers_of_options",
    "cascade_design",
    "choose_model",
    "chunk_layout",
    "chunk_size",
    "compare_breakers",
    "compare_designs",
    "compare_doc",
    "cpmm_average_price_slippage",
    "dask_client",
    "dask_runner",
    "design_name",
    "draw_paths",
    "load_price_file",
    "load_prices",
    "load_scenarios",
    "load_simbook",
    "monte_carlo",
    "montecarlo_html",
    "open_book",
    "parse_designs",
    "parse_duration_hours",
    "parse_fraction",
    "parse_funding_rates",
    "parse_scenarios",
    "parse_time",
    "perps_left_out",
    "replay_path",
    "risk_figures",
    "run_scenario",
    "runner_on",
    "scenario_html",
    "scenario_options",
    "scenario_prices",
    "series_needed",
    "settle",
    "shock_paths",
    "write_compare_plot",
    "write_report",
]


def open_book(path: str | Path) -> tuple[SimBook, Liquidity]:
    """A market file as a simulation book, and where its assets' collateral is sold."""
    book, market = load_simbook(path)
    return book, Liquidity.from_params(market.assets)


def replay_path(
    result: MonteCarloResult,
    model: ReturnModel,
    liquidity: Liquidity | None = None,
    level: float = 0.99,
) -> dict[str, Any]:
    """Run again, alone and recorded, the path whose bad debt is the ``level`` quantile.

    Paths are independent and seeded per chunk, so the path is drawn and liquidated
    exactly as in the Monte Carlo; returns ``{"index", "bad_debt", "hf_before",
    "hf_after", "record"}`` for the report (``record`` is ``None`` for the one-step
    engine, which has no rounds to show).
    """
    cfg = result.config
    book = result.book
    idx = result.path_at(level)
    one_step = result.engine == "one-step"
    for c, (first, n) in enumerate(chunk_layout(cfg.n_paths, book.n_accounts, one_step)):
        if first <= idx < first + n:
            size = chunk_size(book.n_accounts, one_step)
            exo = draw_paths(book, model, cfg, c, n, size)[idx - first]
            break
    else:  # pragma: no cover - idx comes from the result
        raise IndexError(idx)
    hf_before = book.health_factors()
    if one_step:
        st = settle(book, exo[-1])
        return {
            "index": idx,
            "bad_debt": st.bad_debt,
            "hf_before": hf_before,
            "hf_after": st.book_after.health_factors(exo[-1]),
            "record": None,
        }
    o, rec = path_engine(book, cfg, liquidity).run(exo[None, :, :], record=True)
    return {
        "index": idx,
        "bad_debt": float(o.bad_debt[0]),
        "hf_before": hf_before,
        "hf_after": rec.health_after(book, o.final_prices[0]),
        "record": rec,
    }
