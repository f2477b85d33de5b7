"""Self-contained HTML reports of simulations: inline SVG plots (matplotlib) and tables.

One page, no external file, script or font: every plot is an SVG written into the page.
A Monte Carlo report shows the bad-debt distribution with VaR and ES marked, the
health-factor histogram before and after (on the path at the 99% VaR), that path's
cascade (prices and liquidated volume per round) when it ran step by step, and the
accounts contributing most to bad debt; a scenario report shows each scenario's price
path, volumes per round, health factors before and after and top accounts.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.cascade import CascadeRecord

__all__ = ["montecarlo_html", "plt_module", "scenario_html", "svg", "write_report"]

FloatArray = NDArray[np.float64]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2330;line-height:1.4}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{padding:.25rem .6rem;
border-bottom:1px solid #e3e6ee;text-align:right}th{background:#f3f5fa}
td:first-child,th:first-child{text-align:left}.plots{display:flex;flex-wrap:wrap;gap:1rem}
.plot{flex:1 1 480px}.note{color:#5a6274;font-size:.9rem}svg{max-width:100%;height:auto}
"""


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


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(title: str, parts: Sequence[str]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='note'>xmargin, written {stamp}</p>"
        + "".join(parts)
        + "</body></html>\n"
    )


def _plot_losses(losses: FloatArray, marks: Mapping[str, float], quote: str) -> str:
    fig, ax = _fig()
    pos = losses[losses > 0]
    zero = len(losses) - len(pos)
    if len(pos):
        ax.hist(pos, bins=60, color="#5b7bd5", alpha=0.85)
    ax.set_title(f"Bad debt per path ({zero:,} of {len(losses):,} paths have none)")
    ax.set_xlabel(f"bad debt ({quote})")
    ax.set_ylabel("paths")
    colors = ["#d9534f", "#f0ad4e", "#5cb85c", "#8e44ad"]
    for (label, v), c in zip(marks.items(), colors, strict=False):
        ax.axvline(v, color=c, linestyle="--", linewidth=1.3, label=f"{label} {_num(v, 0)}")
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


def montecarlo_html(
    result: Any,
    var_path: dict[str, Any] | None = None,
    title: str = "Monte Carlo bad-debt risk",
) -> str:
    """The page of a :class:`~xmargin.analytics.montecarlo.MonteCarloResult`.

    ``var_path``: ``{"index", "hf_before", "hf_after", "record"}`` of the path at the
    99% VaR, from :func:`xmargin.simulate.replay_path` (optional).
    """
    cfg = result.config
    quote = result.book.quote
    f = result.figures
    marks = {}
    for lv in cfg.levels:
        tag = f"{lv * 100:g}".replace(".", "_")
        marks[f"VaR {lv:.0%}"] = f[f"var_{tag}"].value
        marks[f"ES {lv:.0%}"] = f[f"es_{tag}"].value
    rows = [
        (
            k.replace("_", " "),
            _num(v.value, 4 if "usage" in k or "prob" in k else 2),
            _num(v.std_error, 4 if "usage" in k or "prob" in k else 2),
        )
        for k, v in f.items()
    ]
    parts = [
        "<h2>Set-up</h2>",
        _table(
            ["what", "value"],
            [
                ("paths", f"{cfg.n_paths:,}"),
                ("horizon (hours)", _num(cfg.horizon_hours, 2)),
                ("steps", cfg.steps),
                ("seed", cfg.seed),
                ("engine", result.engine),
                (
                    "model",
                    ", ".join(
                        f"{k}={v}" for k, v in result.model.items() if not isinstance(v, dict)
                    ),
                ),
                ("accounts x assets", f"{result.book.n_accounts:,} x {result.book.n_assets}"),
                ("book settled first", cfg.settle_first),
            ],
        ),
    ]
    if result.initial:
        parts += [
            "<h2>Settling the book at today's prices</h2>",
            _table(
                ["figure", quote],
                [(k.replace("_", " "), _num(float(v))) for k, v in result.initial.items()],
            ),
        ]
    parts += [
        "<h2>Risk figures</h2>",
        _table(["figure", "estimate", "Monte Carlo std. error"], rows),
        "<div class='plots'><div class='plot'>",
        _plot_losses(result.per_path["bad_debt"], marks, quote),
        "</div>",
    ]
    if var_path is not None:
        parts += [
            "<div class='plot'>",
            _plot_hf(
                var_path["hf_before"],
                var_path["hf_after"],
                f"Health factors, before and after path {var_path['index']} (99% VaR)",
            ),
            "</div>",
        ]
        rec = var_path.get("record")
        if rec is not None and len(rec.prices) > 2:
            parts += [
                "<div class='plot'>",
                _plot_rounds(rec, result.book.assets, 0, quote),
                "</div>",
            ]
    top = result.top_accounts(15)
    parts += [
        "<div class='plot'>",
        _plot_top(top, quote, "Expected bad debt per path, top accounts"),
        "</div></div>",
        "<h2>Top accounts by contribution to bad debt</h2>",
        _table(
            ["account", f"expected bad debt per path ({quote})"], [(a, _num(v, 4)) for a, v in top]
        ),
    ]
    return _page(title, parts)


def scenario_html(results: Sequence[Any], title: str = "Scenario analysis") -> str:
    """The page of one or more :class:`~xmargin.analytics.scenarios.ScenarioResult`."""
    parts: list[str] = []
    if results:
        quote = "quote"
        keys = list(results[0].totals)
        parts += [
            "<h2>Summary</h2>",
            _table(
                ["scenario", *[k.replace("_", " ") for k in keys]],
                [(r.scenario.name, *[_num(float(r.totals[k])) for k in keys]) for r in results],
            ),
        ]
    for r in results:
        sc = r.scenario
        quote = "quote"
        parts += [f"<h2>{html.escape(sc.name)}</h2>"]
        if sc.description:
            parts.append(f"<p>{html.escape(sc.description)}</p>")
        moved = [
            (a, _num(b, 6), _num(c, 6), f"{(c / b - 1) * 100:+.2f}%")
            for a, b, c in zip(r.assets, r.prices_before, r.prices_after, strict=True)
            if abs(c / b - 1) > 1e-12
        ]
        parts += [
            _table(["asset", "price before", "price after", "change"], moved),
            "<div class='plots'><div class='plot'>",
            _plot_rounds(r.record, r.assets, 0, quote),
            "</div><div class='plot'>",
            _plot_hf(r.hf_before, r.hf_after, "Health factors before and after"),
            "</div><div class='plot'>",
            _plot_top(r.top_accounts, quote, "Top accounts by bad debt"),
            "</div></div>",
            _table(
                ["figure", "value"],
                [(k.replace("_", " "), _num(float(v))) for k, v in r.totals.items()],
            ),
        ]
        if r.toxic_accounts:
            shown = ", ".join(r.toxic_accounts[:50])
            more = len(r.toxic_accounts) - 50
            parts.append(
                f"<p class='note'>Toxic accounts (debt/collateral above 1/(1+bonus) when "
                f"liquidated): {html.escape(shown)}{f' and {more} more' if more > 0 else ''}</p>"
            )
    return _page(title, parts)


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
