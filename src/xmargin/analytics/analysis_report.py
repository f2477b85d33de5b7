"""Self-contained HTML reports of calibrate, optimise and network (Jinja2 + matplotlib).

One page per run from ``templates/analysis.html.j2``: tables, and figures written into
the page as SVG. No external file, script, font or network request, so a report can be
mailed or archived as it is. Wide content scrolls inside its own box; the page itself
never scrolls sideways (a browser test holds it at 1400 px).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from xmargin.analytics.calibration import CalibrationResult
from xmargin.analytics.optimize import OptimizeResult
from xmargin.analytics.report import plt_module, svg

__all__ = [
    "Figure",
    "Section",
    "Table",
    "calibration_html",
    "fmt_number",
    "fmt_pct",
    "optimize_html",
    "render",
]


@dataclass
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str = ""
    text_columns: tuple[int, ...] = ()


@dataclass
class Figure:
    svg: str
    caption: str = ""
    wide: bool = False


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    pre: str = ""
    note_class: str = ""


def render(title: str, sections: Sequence[Section], summary: str = "", source: str = "") -> str:
    import jinja2

    from xmargin import __version__

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("xmargin.analytics", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("analysis.html.j2").render(
        title=title,
        version=__version__,
        written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        summary=summary,
        source=source,
        sections=sections,
    )


# -- figures ------------------------------------------------------------------------------
def fmt_number(x: Any, places: int = 4) -> str:
    if x is None:
        return "-"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "-"
    return f"{v:,.{places}f}"


def fmt_pct(x: Any) -> str:
    return "-" if x is None else f"{float(x) * 100:.2f}%"


# -- calibration --------------------------------------------------------------------------
def calibration_html(result: CalibrationResult) -> str:
    """The page of a calibration: the recommended table, volatility, horizon, checks."""
    cal = result.assets
    names = [a.asset for a in cal]
    plt = plt_module()
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    x = np.arange(len(cal))
    w = 0.2
    for k, (vals, label) in enumerate(
        (
            ([a.lt_current for a in cal], "lt current"),
            ([float(a.lt_recommended) for a in cal], "lt recommended"),
            ([a.cf_current for a in cal], "cf current"),
            ([float(a.cf_recommended) for a in cal], "cf recommended"),
        )
    ):
        ax.bar(x + (k - 1.5) * w, vals, w, label=label)
    ax.set_xticks(x, names, rotation=30 if len(names) > 8 else 0)
    ax.set_ylim(0, 1)
    ax.set_title("Current and recommended weights")
    ax.legend(fontsize=8, ncol=2)
    weights = svg(fig)
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    rows = (
        ([a.haircut for a in cal], "first passage (model)"),
        ([a.haircut_terminal for a in cal], "terminal (model)"),
        ([a.checks["monte_carlo"]["haircut"] for a in cal], "running minimum (Monte Carlo)"),
        (
            [(a.checks.get("historical") or {}).get("haircut", np.nan) for a in cal],
            "running minimum (history)",
        ),
    )
    for k, (vals, label) in enumerate(rows):
        ax.bar(x + (k - 1.5) * w, vals, w, label=label)
    ax.set_xticks(x, names, rotation=30 if len(names) > 8 else 0)
    ax.set_title(f"Haircuts at {result.config.confidence:.2%} over each horizon")
    ax.legend(fontsize=8)
    cuts = svg(fig)
    main = Table(
        [
            "asset",
            "σ used",
            "estimator",
            "EWMA σ",
            "GARCH σ",
            "horizon (days)",
            "haircut",
            "terminal",
            "lt now",
            "lt rec.",
            "cf now",
            "cf rec.",
            "bonus",
            "SmartLTV",
        ],
        [
            (
                a.asset,
                fmt_pct(a.volatility),
                a.estimator,
                fmt_pct(a.volatilities.get("ewma")),
                fmt_pct(a.volatilities.get("garch")),
                fmt_number(a.horizon_days, 2),
                fmt_pct(a.haircut),
                fmt_pct(a.haircut_terminal),
                fmt_number(a.lt_current),
                str(a.lt_recommended),
                fmt_number(a.cf_current),
                str(a.cf_recommended),
                fmt_pct(a.bonus),
                fmt_number(a.smartltv.get("ltv")),
            )
            for a in cal
        ],
    )
    checks = Table(
        ["asset", "model", "Monte Carlo", "MC std. error", "history", "windows", "despiked"],
        [
            (
                a.asset,
                fmt_pct(a.haircut),
                fmt_pct(a.checks["monte_carlo"]["haircut"]),
                fmt_pct(a.checks["monte_carlo"]["std_error"]),
                fmt_pct((a.checks.get("historical") or {}).get("haircut")),
                (a.checks.get("historical") or {}).get("windows", "-"),
                a.despiked,
            )
            for a in cal
        ],
    )
    horizon = Table(
        ["asset", "source", "largest borrower's position", "all borrowers", "within bonus", "days"],
        [
            (
                a.asset,
                a.horizon["source"],
                fmt_number(a.horizon["account_position_value"], 0),
                fmt_number(a.horizon["market_position_value"], 0),
                fmt_number(a.horizon["liquidity_within_bonus"], 0),
                fmt_number(a.horizon_days, 2),
            )
            for a in cal
        ],
    )
    flags = [f"{a.asset}: {f}" for a in cal for f in a.flags]
    sections = [
        Section(
            "Recommended parameters",
            [
                "haircut = 1 − exp(−z((1+q)/2)·σ·√(T/365)) (first passage); lt = (1 − haircut)"
                "/(1 + bonus), rounded down to 4 decimals; cf = lt·exp(−k·σ·√(t/365)).",
            ],
            [main],
            [Figure(weights), Figure(cuts)],
            flags,
        ),
        Section(
            "Checks of the running minimum",
            [
                "Monte Carlo: a driftless log price with the same σ, monitored hourly. History: "
                "the q quantile of the worst fall within T days over every start."
            ],
            [checks],
            note_class="note",
        ),
        Section(
            f"Liquidation horizon (values in {result.quote})",
            ["T = max(min horizon, position / (recovery × liquidity within the bonus))."],
            [horizon],
            note_class="note",
        ),
    ]
    return render(
        "Haircut calibration",
        sections,
        f"Confidence {result.config.confidence:.2%}, volatility from {result.source}.",
    )


# -- optimisation -------------------------------------------------------------------------
def optimize_html(result: OptimizeResult, quote: str) -> str:
    """The page of an optimisation: before/after, changes, trade-off curves, caps, diff."""
    doc = result.to_doc()
    b, a = doc["before"], doc["after"]
    status = "feasible" if result.feasible else "NOT feasible (best found shown)"
    summary = Table(
        ["figure", "before", "after"],
        [
            (k.replace("_", " "), fmt_number(b[k], 2), fmt_number(a[k], 2))
            for k in ("var99", "var99_std_error", "liquidations_at_risk", "capacity", "borrowed")
        ]
        + [("usage", fmt_pct(b["usage"]), fmt_pct(a["usage"]))],
    )
    changes = Table(
        ["asset", "parameter", "from", "to"],
        [(c["asset"], c["parameter"], c["from"] or "-", c["to"]) for c in doc["changes"]],
    )
    figures: list[Figure] = []
    curves = {k: v for k, v in result.curves.items() if v}
    if curves:
        plt = plt_module()
        cols = min(4, len(curves))
        nrows = math.ceil(len(curves) / cols)
        fig, axes = plt.subplots(
            nrows, cols, figsize=(3.2 * cols, 2.6 * nrows), dpi=100, squeeze=False
        )
        for ax, (asset, curve) in zip(axes.flat, curves.items(), strict=False):
            cap = np.array([e.capacity for e in curve]) / max(1.0, result.before.capacity) - 1
            var = [e.var99 for e in curve]
            ax.plot(cap * 100, var, "o-", ms=3)
            if result.config.var99_max <= 3 * max([*var, 1e-9]):
                ax.axhline(result.config.var99_max, color="#d9534f", lw=1, ls="--")
            ax.set_title(asset, fontsize=9)
            ax.tick_params(labelsize=7)
            ax.set_xlabel("capacity change (%)", fontsize=7)
            ax.set_ylabel(f"VaR99 ({quote})", fontsize=7)
        for ax in list(axes.flat)[len(curves) :]:
            ax.axis("off")
        figures.append(
            Figure(
                svg(fig),
                "VaR99 against capacity, one asset moved at a time; dashed: K (when in range).",
                True,
            )
        )
    sections = [
        Section(
            f"Proposal: {status} (values in {quote})",
            [
                f"K = {fmt_number(result.config.var99_max, 2)}; method {result.method}; "
                f"{result.evaluations} Monte Carlo runs on the same seeded paths."
            ],
            [summary, changes],
            figures,
            result.warnings,
        )
    ]
    if result.caps:
        sections.append(
            Section(
                "Cap search",
                ["Largest cap whose VaR99 stays within K, by bisection on the book's scale."],
                [
                    Table(
                        ["asset", "kind", "current cap", "today's total", "scale", "recommended"],
                        [
                            (
                                c["asset"],
                                c["kind"],
                                c.get("current_cap") or "-",
                                fmt_number(c.get("current_total"), 2),
                                fmt_number(c.get("scale"), 3),
                                c.get("recommended_cap") or "-",
                            )
                            for c in result.caps
                        ],
                    )
                ],
            )
        )
    if result.diff:
        sections.append(Section("The market file, as proposed", pre=result.diff))
    return render("Parameter optimisation", sections)
