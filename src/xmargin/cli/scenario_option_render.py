"""The option block of ``simulate scenario``: each scenario's option accounts valued with
their options, exactly (:mod:`xmargin.analytics.scenario_options`), as ``stress`` writes
them — the same rows, summary and ``vol_shocks``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from xmargin.cli import render
from xmargin.cli.console import console

if TYPE_CHECKING:
    from xmargin.analytics.scenario_options import ScenarioOptions
    from xmargin.analytics.scenarios import ScenarioResult

__all__ = ["print_scenario_options", "scenario_options_doc"]


def scenario_options_doc(o: ScenarioOptions) -> dict[str, Any]:
    """``{"accounts", "summary", "prices", "vol_shocks", "option_value_before",
    "option_value_after", "liquidatable_before"}``: ``stress``'s document for the option
    accounts, then what they were before the scenario."""
    return {
        **render.health_doc(o.accounts),
        "summary": o.summary._asdict(),
        "prices": dict(o.prices),
        "vol_shocks": dict(o.vol_shocks),
        "option_value_before": o.option_value_before,
        "option_value_after": o.option_value_after,
        "liquidatable_before": o.liquidatable_before,
    }


def _shocks_text(o: ScenarioOptions) -> str:
    return ", ".join(f"{a} {render.pct_text(x)}" for a, x in o.vol_shocks.items()) or "-"


def print_scenario_options(results: Sequence[ScenarioResult], quote: str, width: int) -> None:
    """One row per scenario: the option accounts' mark value and liquidatable count before
    and after, their liquidatable and insolvent debt after (nothing when none hold one)."""
    rows = [(r.scenario.name, r.options) for r in results if r.options is not None]
    if not rows:
        return
    t = Table(
        title=f"Option accounts, valued with their options (exact; values in {quote})",
        title_justify="left",
    )
    for c in ("scenario", "vol shocks", "accounts", "option value before"):
        t.add_column(c, justify="left" if c in ("scenario", "vol shocks") else "right")
    for c in ("option value after", "liquidatable before", "liquidatable after"):
        t.add_column(c, justify="right")
    t.add_column("liquidatable debt", justify="right")
    t.add_column("insolvent debt", justify="right")
    for name, o in rows:
        t.add_row(
            name,
            _shocks_text(o),
            f"{o.summary.accounts:,}",
            render.value_text(o.option_value_before),
            render.value_text(o.option_value_after),
            f"{o.liquidatable_before:,}",
            f"{o.summary.liquidatable_accounts:,}",
            render.value_text(o.summary.liquidatable_debt),
            render.value_text(o.summary.insolvent_debt),
        )
    console(width=width).print(t)
