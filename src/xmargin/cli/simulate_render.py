"""What the ``simulate`` commands print: JSON documents and tables for people.

JSON numbers are decimal strings, as the contract's are (``null`` where not finite),
counts integers; tables round for display only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from xmargin.cli.console import console
from xmargin.cli.scenario_option_render import print_scenario_options, scenario_options_doc
from xmargin.mathlib import finite_text

if TYPE_CHECKING:
    from xmargin.analytics.montecarlo import MonteCarloConfig, MonteCarloResult
    from xmargin.analytics.risk_figures import RiskFigure
    from xmargin.analytics.scenarios import ScenarioResult

__all__ = [
    "decimal_text",
    "montecarlo_doc",
    "print_montecarlo",
    "print_scenarios",
    "scenario_doc",
]

_WIDE = 140


def decimal_text(x: float | int | None) -> str | int | None:
    """A float as the contract writes numbers: a decimal string; ``null`` if not finite."""
    # numbers.Integral covers NumPy's integers without importing NumPy for the CLI
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return int(x)
    return finite_text(float(x)) if x is not None else None


def _figures_doc(figures: dict[str, RiskFigure]) -> dict[str, Any]:
    return {
        k: {"value": decimal_text(v.value), "std_error": decimal_text(v.std_error)}
        for k, v in figures.items()
    }


def _totals_doc(totals: dict[str, float | int]) -> dict[str, Any]:
    return {k: decimal_text(v) for k, v in totals.items()}


def scenario_doc(r: ScenarioResult) -> dict[str, Any]:
    """One scenario's result as JSON: prices before and after, totals, rounds, accounts."""
    rec = r.record
    d = decimal_text
    return {
        "name": r.scenario.name,
        "kind": r.scenario.kind,
        "description": r.scenario.description,
        "cascade": r.scenario.cascade,
        "liquidity_models": r.liquidity_used,
        "prices_before": {a: d(p) for a, p in zip(r.assets, r.prices_before, strict=True)},
        "prices_after": {a: d(p) for a, p in zip(r.assets, r.prices_after, strict=True)},
        "totals": _totals_doc(r.totals),
        "initial": _totals_doc(r.initial),
        "rounds": [
            {
                "step": int(step),
                "prices": {a: d(p) for a, p in zip(r.assets, prices[0], strict=True)},
                "liquidations": d(int(ex[0])),
                "liquidated_volume": d(sv[0]),
                "repaid_value": d(rv[0]),
            }
            for step, prices, ex, sv, rv in zip(
                rec.step,
                rec.prices,
                rec.executed,
                rec.seized_value,
                rec.repaid_value,
                strict=True,
            )
        ],
        "top_accounts": [{"account": a, "bad_debt": d(v)} for a, v in r.top_accounts],
        "toxic_accounts": list(r.toxic_accounts),
        **({} if not r.scenario.vol_shocks else {"vol_shocks": dict(r.scenario.vol_shocks)}),
        **({} if r.options is None else {"options": scenario_options_doc(r.options)}),
    }


def _num(x: float, places: int = 2) -> str:
    return "-" if not math.isfinite(x) else f"{x:,.{places}f}"


def print_scenarios(results: Sequence[ScenarioResult], quote: str) -> None:
    """Scenario totals, one row each, and each scenario's top accounts by bad debt."""
    out = console(width=_WIDE)
    table = Table(title=f"Scenarios (values in {quote})", title_justify="left")
    cols = [
        "bad_debt",
        "liquidated_volume",
        "liquidations",
        "accounts_liquidated",
        "toxic_accounts",
        "rounds",
        "still_liquidatable",
    ]
    table.add_column("scenario")
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right")
    for r in results:
        table.add_row(
            r.scenario.name,
            *[_num(float(r.totals[c]), 2 if isinstance(r.totals[c], float) else 0) for c in cols],
        )
    out.print(table)
    _print_option_liquidations(results, quote)
    print_scenario_options(results, quote, _WIDE)
    first = results[0].initial if results else {}
    if first:  # the same book settled once for every scenario of the run
        out.print(
            f"settled at today's prices first: bad debt {_num(float(first['bad_debt']))}, "
            f"{first['liquidations']} liquidations"
        )
    for r in results:
        if r.top_accounts:
            t = Table(title=f"{r.scenario.name}: top accounts by bad debt", title_justify="left")
            t.add_column("account")
            t.add_column(f"bad debt ({quote})", justify="right")
            for a, v in r.top_accounts[:5]:
                t.add_row(a, _num(v))
            out.print(t)


def _print_option_liquidations(results: Sequence[ScenarioResult], quote: str) -> None:
    """Per scenario, the option positions closed by 6.5 (when any scenario closed one)."""
    if not any(r.totals.get("option_liquidations", 0) for r in results):
        return
    keys = ("option_liquidations", "option_closed_value", "option_liquidator_fees",
            "option_insurance_fees")  # fmt: skip
    t = Table(title=f"Option liquidations (6.5; values in {quote})", title_justify="left")
    t.add_column("scenario")
    for k in ("positions closed", "mark value closed", "liquidator fees", "insurance fees"):
        t.add_column(k, justify="right")
    for r in results:
        t.add_row(
            r.scenario.name,
            *[_num(float(r.totals[k]), 0 if k == "option_liquidations" else 2) for k in keys],
        )
    console(width=_WIDE).print(t)


def print_note(text: str) -> None:
    console(width=_WIDE).print(text)


def montecarlo_doc(result: MonteCarloResult, quote: str) -> dict[str, Any]:
    """A Monte Carlo's result as JSON: the run, the model, the figures, top accounts."""
    cfg = result.config
    return {
        "quote": quote,
        "paths": cfg.n_paths,
        "horizon_hours": decimal_text(cfg.horizon_hours),
        "steps": cfg.steps,
        "seed": cfg.seed,
        "engine": result.engine,
        "model": {
            k: v if isinstance(v, str | int) else str(v)
            for k, v in result.model.items()
            if not isinstance(v, dict)
        },
        "initial": _totals_doc(result.initial),
        "figures": _figures_doc(result.figures),
        "top_accounts": [
            {"account": a, "expected_bad_debt": decimal_text(v)} for a, v in result.top_accounts(10)
        ],
    }


def print_montecarlo(result: MonteCarloResult, cfg: MonteCarloConfig, quote: str) -> None:
    """The Monte Carlo's figures with their standard errors, and what settling did."""
    out = console(width=_WIDE)
    table = Table(
        title=(
            f"Monte Carlo, {cfg.n_paths:,} paths over {cfg.horizon_hours:g} h (values in {quote})"
        ),
        title_justify="left",
    )
    table.add_column("figure")
    table.add_column("estimate", justify="right")
    table.add_column("std. error", justify="right")
    for k, v in result.figures.items():
        places = 4 if ("usage" in k or "probability" in k) else 2
        table.add_row(k.replace("_", " "), _num(v.value, places), _num(v.std_error, places))
    out.print(table)
    if result.initial:
        out.print(
            f"settled at today's prices first: bad debt {_num(float(result.initial['bad_debt']))}, "
            f"{result.initial['liquidations']} liquidations"
        )
