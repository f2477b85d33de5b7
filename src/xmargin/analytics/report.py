"""Self-contained HTML reports of simulations: inline SVG plots (matplotlib) and tables.

One page, no external file, script or font: every plot is an SVG written into the page.
A Monte Carlo report shows the bad-debt distribution with VaR and ES marked, the
health-factor histogram before and after (on the path at the 99% VaR), that path's
cascade (prices and liquidated volume per round) when it ran step by step, and the
accounts contributing most to bad debt; a scenario report shows each scenario's price
path, volumes per round, health factors before and after and top accounts.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.cascade import CascadeRecord

__all__ = ["montecarlo_html", "plt_module", "scenario_html", "svg", "write_report"]

FloatArray = NDArray[np.float64]


def plt_module() -> Any:
    """matplotlib's pyplot on the Agg backend (no display; figures become SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _fig() -> tuple[Any, Any]:
    fig, ax = plt_module().subplots(figsize=(6.4, 3.6), dpi=100)
    return fig, ax


def svg(fig: Any) -> str:
    """``fig`` as an inline ``<svg>`` element (the figure is closed)."""
    plt = plt_module()
    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _num(x: float, places: int = 2) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:,.{places}f}"


def _plot_losses(losses: FloatArray, marks: Mapping[str, float], quote: str) -> str:
    """Paths by bad debt. Bins span 0 to the largest loss (or mark), so that even one path
    with bad debt among 10,000 draws a visible bar, and its count is labelled."""
    fig, ax = _fig()
    pos = losses[losses > 0]
    zero = len(losses) - len(pos)
    top = max([float(pos.max()) if len(pos) else 0.0, *marks.values(), 1.0])
    if len(pos):
        counts, _, bars = ax.hist(
            pos, bins=np.linspace(0.0, top * 1.02, 41), color="#5b7bd5", alpha=0.85
        )
        if len(pos) <= 20:  # a handful of paths: say how many each bar holds
            ax.bar_label(bars, labels=[f"{int(c)}" if c else "" for c in counts], fontsize=8)
        ax.set_ylim(0, max(float(counts.max()) * 1.15, 1.0))
    ax.set_title(
        f"Bad debt per path: {len(pos):,} of {len(losses):,} paths have bad debt ({zero:,} none)"
    )
    ax.set_xlabel(f"bad debt ({quote})")
    ax.set_ylabel("paths")
    colors = ["#d9534f", "#f0ad4e", "#5cb85c", "#8e44ad"]
    for (label, v), c in zip(marks.items(), colors, strict=False):
        ax.axvline(v, color=c, linestyle="--", linewidth=1.3, label=f"{label} {_num(v, 0)} {quote}")
    if marks:
        ax.legend(fontsize=8)
    return svg(fig)


def _plot_hf(before: FloatArray, after: FloatArray, title: str) -> str:
    fig, ax = _fig()
    bins = np.linspace(0.0, 3.0, 61)
    for data, label, color in ((before, "before", "#5b7bd5"), (after, "after", "#d9534f")):
        x = data[np.isfinite(data)]
        ax.hist(
            np.clip(x, 0, 3.0), bins=bins, alpha=0.55, label=f"{label} ({len(x):,})", color=color
        )
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_title(title)
    ax.set_xlabel("health factor (clipped at 3)")
    ax.set_ylabel("accounts")
    ax.legend(fontsize=8)
    return svg(fig)


def _plot_rounds(rec: CascadeRecord, assets: Sequence[str], path: int, quote: str) -> str:
    fig, ax = _fig()
    prices = np.array([p[path] for p in rec.prices])
    if len(prices) == 0:
        return ""
    rel = prices / prices[0]
    moved = np.argsort(-np.abs(rel[-1] - 1.0))[:6]
    x = np.arange(len(rel))
    for j in moved:
        ax.plot(x, rel[:, j], label=assets[j], linewidth=1.2)
    ax.set_title("Prices per round, relative to the start (most moved assets)")
    ax.set_xlabel("round (all steps)")
    ax.set_ylabel("price / start")
    ax.legend(fontsize=8, loc="lower left")
    ax2 = ax.twinx()
    vol = np.array([v[path] for v in rec.seized_value])
    ax2.bar(x, vol, color="#999999", alpha=0.35, width=1.0)
    ax2.set_ylabel(f"liquidated ({quote})")
    return svg(fig)


def _plot_top(top: Sequence[tuple[str, float]], quote: str, title: str) -> str:
    if not top:
        return ""
    fig, ax = _fig()
    names = [t[0] for t in top][::-1]
    vals = [t[1] for t in top][::-1]
    ax.barh(names, vals, color="#d9534f", alpha=0.8)
    ax.set_title(title)
    ax.set_xlabel(quote)
    ax.tick_params(axis="y", labelsize=7)
    return svg(fig)


#: Labels of the Monte Carlo figures for people, and each figure's kind (how it prints).
FIGURE_LABELS: dict[str, str] = {
    "var_95": "VaR 95% of bad debt",
    "es_95": "ES 95% of bad debt",
    "var_99": "VaR 99% of bad debt",
    "es_99": "ES 99% of bad debt",
    "liquidations_at_risk": "Liquidations-at-Risk (95th percentile of liquidated volume)",
    "expected_bad_debt": "expected bad debt",
    "expected_liquidated_volume": "expected liquidated volume",
    "borrowing_power": "borrowing power (Σ initial collateral)",
    "borrow_usage": "borrow usage (Σ initial debt / borrowing power)",
    "probability_of_bad_debt": "probability of bad debt",
    "expected_option_liquidations": "expected option positions closed (6.5)",
    "expected_option_closed_value": "expected mark value of options closed",
    "expected_option_fees": "expected option liquidation fees",
    "option_liquidations": "option positions closed (6.5)",
    "option_closed_value": "mark value of options closed",
    "option_liquidator_fees": "option liquidation fees to liquidators",
    "option_insurance_fees": "option liquidation fees to the insurance fund",
}

#: The totals and figures of option liquidations (the option block of the pages).
OPTION_KEYS = (
    "option_liquidations",
    "option_closed_value",
    "option_liquidator_fees",
    "option_insurance_fees",
)

#: Totals of a path or a settlement that are counts (printed as whole numbers).
COUNT_KEYS = frozenset(
    {
        "liquidations",
        "accounts_liquidated",
        "toxic_accounts",
        "rounds",
        "still_liquidatable",
        "perp_liquidations",
        "option_liquidations",
        "expected_option_liquidations",
    }
)


def figure_label(key: str) -> str:
    """A figure's name for people (``var_95`` -> ``VaR 95% of bad debt``)."""
    return FIGURE_LABELS.get(key, key.replace("_", " "))


def figure_text(key: str, value: float | int | None, quote: str) -> str:
    """A figure formatted by its kind: a count whole, a share as a percentage, money with
    two decimals and the quote unit."""
    if value is None or not math.isfinite(float(value)):
        return "-"
    if key == "expected_option_liquidations":
        return f"{float(value):,.4f}"
    if key in COUNT_KEYS:
        return f"{int(value):,}"
    if "usage" in key or "probability" in key:
        return f"{float(value) * 100:.2f}%"
    return f"{float(value):,.2f} {quote}"


def _model_text(model: Mapping[str, Any]) -> str:
    """A return model's description for people: its name and scalar settings, a window as
    ``start to end``; per-series tables are left to the JSON."""
    parts: list[str] = []
    for k, v in model.items():
        if isinstance(v, dict):
            continue
        if isinstance(v, list | tuple) and len(v) == 2 and k == "window":
            parts.append(f"window {v[0]} to {v[1]}")
        elif k == "model":
            parts.append(str(v))
        else:
            parts.append(f"{k.replace('_', ' ')} {v}")
    return ", ".join(parts)


def montecarlo_html(
    result: Any,
    var_path: dict[str, Any] | None = None,
    title: str = "Monte Carlo bad-debt risk",
) -> str:
    """The page of a :class:`~xmargin.analytics.montecarlo.MonteCarloResult` (Jinja2
    template ``analysis.html.j2``; every figure formatted by its kind).

    ``var_path``: ``{"index", "hf_before", "hf_after", "record"}`` of the path at the
    99% VaR, from :func:`xmargin.simulate.replay_path` (optional).
    """
    from xmargin.analytics.analysis_report import Figure, Section, Table, render

    cfg = result.config
    quote = result.book.quote
    f = result.figures
    marks = {}
    for lv in cfg.levels:
        tag = f"{lv * 100:g}".replace(".", "_")
        marks[f"VaR {lv:.0%}"] = f[f"var_{tag}"].value
        marks[f"ES {lv:.0%}"] = f[f"es_{tag}"].value
    setup = Table(
        ["setting", "value"],
        [
            ("paths", f"{cfg.n_paths:,}"),
            ("horizon", f"{cfg.horizon_hours:g} h in {cfg.steps:,} step(s)"),
            ("seed", str(cfg.seed)),
            ("engine", str(result.engine)),
            ("return model", _model_text(result.model)),
            ("book", f"{result.book.n_accounts:,} accounts × {result.book.n_assets} assets"),
            ("book settled at today's prices first", "yes" if cfg.settle_first else "no"),
        ],
        text_columns=(1,),
    )
    sections = [Section("Set-up", tables=[setup])]
    if result.initial:
        init = [(figure_label(k), figure_text(k, v, quote)) for k, v in result.initial.items()]
        sections.append(
            Section(
                "Settling the book at today's prices", tables=[Table(["figure", "value"], init)]
            )
        )
    rows = [
        (figure_label(k), figure_text(k, v.value, quote), figure_text(k, v.std_error, quote))
        for k, v in f.items()
    ]
    figures = [Figure(_plot_losses(result.per_path["bad_debt"], marks, quote))]
    if var_path is not None:
        figures.append(
            Figure(
                _plot_hf(
                    var_path["hf_before"],
                    var_path["hf_after"],
                    f"Health factors, before and after path {var_path['index']} (99% VaR)",
                )
            )
        )
        rec = var_path.get("record")
        if rec is not None and len(rec.prices) > 2:
            figures.append(Figure(_plot_rounds(rec, result.book.assets, 0, quote)))
    top = result.top_accounts(15)
    if top:
        figures.append(Figure(_plot_top(top, quote, "Expected bad debt per path, top accounts")))
    sections += [
        Section(
            "Risk figures",
            tables=[Table(["figure", "estimate", "Monte Carlo std. error"], rows)],
            figures=figures,
        ),
        *_option_section_mc(result, quote),
        Section(
            "Top accounts by contribution to bad debt",
            tables=[
                Table(
                    ["account", f"expected bad debt per path ({quote})"],
                    [(a, f"{v:,.4f}") for a, v in top],
                )
            ],
        ),
    ]
    return render(title, sections)


def scenario_html(
    results: Sequence[Any], title: str = "Scenario analysis", quote: str = "USD"
) -> str:
    """The page of one or more :class:`~xmargin.analytics.scenarios.ScenarioResult`
    (Jinja2 template ``analysis.html.j2``); values in the market's ``quote``."""
    from xmargin.analytics.analysis_report import Figure, Section, Table, render

    sections: list[Section] = []
    if results:
        keys = list(results[0].totals)
        summary = Table(
            ["scenario", *[figure_label(k) for k in keys]],
            [
                (r.scenario.name, *[figure_text(k, r.totals[k], quote) for k in keys])
                for r in results
            ],
        )
        sections.append(Section("Summary", tables=[summary]))
        first = results[0].initial
        if first:
            rows = [(figure_label(k), figure_text(k, v, quote)) for k, v in first.items()]
            sections.append(
                Section(
                    "Settling the book at today's prices (before every scenario)",
                    tables=[Table(["figure", "value"], rows)],
                )
            )
        sections.extend(_option_section_sc(results, quote))
    for r in results:
        sc = r.scenario
        moved = [
            (a, f"{b:,.6f}", f"{c:,.6f}", f"{(c / b - 1) * 100:+.2f}%")
            for a, b, c in zip(r.assets, r.prices_before, r.prices_after, strict=True)
            if abs(c / b - 1) > 1e-12
        ]
        figures = [
            Figure(_plot_rounds(r.record, r.assets, 0, quote)),
            Figure(_plot_hf(r.hf_before, r.hf_after, "Health factors before and after")),
        ]
        if r.top_accounts:
            figures.append(Figure(_plot_top(r.top_accounts, quote, "Top accounts by bad debt")))
        totals = [(figure_label(k), figure_text(k, v, quote)) for k, v in r.totals.items()]
        flags = []
        if r.toxic_accounts:
            shown = ", ".join(r.toxic_accounts[:50])
            more = len(r.toxic_accounts) - 50
            flags.append(
                "Toxic accounts (debt/collateral above 1/(1+bonus) when liquidated): "
                f"{shown}{f' and {more} more' if more > 0 else ''}"
            )
        sections.append(
            Section(
                sc.name,
                paragraphs=[sc.description] if sc.description else [],
                tables=[
                    Table(
                        ["asset", f"price before ({quote})", f"price after ({quote})", "change"],
                        moved,
                    ),
                    Table(["figure", "value"], totals),
                ],
                figures=[x for x in figures if x.svg],
                flags=flags,
            )
        )
    return render(title, sections)


def _option_section_mc(result: Any, quote: str) -> list[Any]:
    """The option block of a Monte Carlo page (a book whose accounts hold options)."""
    from xmargin.analytics.analysis_report import Section, Table

    opts = result.book.options
    if opts is None:
        return []
    engine = str(result.engine)
    text = (
        f"{len(opts.held):,} accounts hold options ({opts.n_legs:,} positions), valued on "
        f"each path with the float Black-76 at the path's prices and time (each step's) "
        f"and volatility σ·(S/S_0)^(−{result.config.vol_elasticity:g}), margined by "
        "standard margin (6.2), or by portfolio margin's float twin (6.3) for an account "
        "under it. "
    )
    if engine == "one-step":
        text += (
            "In one step they are judged, not liquidated: a liquidatable one counts as "
            "still liquidatable and its deficit as residual bad debt."
        )
    else:
        text += (
            "Liquidatable ones are liquidated by 6.5: positions closed at mark value, "
            "shorts first, with the liquidation fee."
        )
    rows = [
        (figure_label(k), figure_text(k, v.value, quote), figure_text(k, v.std_error, quote))
        for k, v in result.figures.items()
        if k.startswith("expected_option_")
    ]
    tables = [Table(["figure", "estimate", "Monte Carlo std. error"], rows)] if rows else []
    return [Section("Option accounts", paragraphs=[text], tables=tables)]


def _option_section_sc(results: Sequence[Any], quote: str) -> list[Any]:
    """The option block of a scenario page: option liquidations per scenario (6.5)."""
    from xmargin.analytics.analysis_report import Section, Table

    if not results or "option_liquidations" not in results[0].totals:
        return []
    keys = [k for k in OPTION_KEYS if k in results[0].totals]
    rows = [
        (r.scenario.name, *[figure_text(k, r.totals.get(k), quote) for k in keys]) for r in results
    ]
    text = (
        "Accounts holding options are liquidated by contract 6.5: positions closed at "
        "their mark value (float Black-76 at the round's prices), shorts first, until "
        "health is at least 1, each paying the liquidation and insurance fees of c·S."
    )
    return [
        Section(
            "Option liquidations",
            paragraphs=[text],
            tables=[Table(["scenario", *[figure_label(k) for k in keys]], rows)],
        )
    ]


def write_report(text: str, path: str | Path) -> Path:
    """Write a report page to ``path``; returns the path. An unwritable path is bad input
    (:class:`~xmargin.errors.InputError` naming ``--report``), not a traceback."""
    from xmargin.errors import InputError

    p = Path(path)
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--report {p}: cannot write: {exc.strerror or exc}") from exc
    return p
