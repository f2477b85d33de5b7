"""What ``calibrate``, ``optimize`` and ``network`` print for people (contract section 7).

The ``--json`` documents are the analyses' own (``to_doc``); these tables round for
display only and fit 80 columns without wrapping a number.
"""

from __future__ import annotations

import math
from typing import Any

from rich import box
from rich.table import Table

from xmargin.cli.console import console

__all__ = ["print_calibration", "print_network", "print_optimize"]

_WIDE = 140


def _table(title: str) -> Table:
    """A compact table: fits 80 columns without wrapping a number."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))


def _f(x: Any, places: int = 4) -> str:
    if x is None:
        return "-"
    v = float(x)
    return "-" if not math.isfinite(v) else f"{v:,.{places}f}"


def _pct(x: Any, places: int = 2) -> str:
    return "-" if x is None else f"{float(x) * 100:.{places}f}%"


def print_calibration(doc: dict[str, Any], confidence: float) -> None:
    """``calibrate``: per asset σ, horizon, haircuts and the current and recommended lt, cf."""
    t = _table(f"Calibration at {confidence:.2%} ({doc['source']})")
    for h in ("asset", "σ", "T (d)", "haircut", "terminal", "lt", "lt rec.", "cf", "cf rec."):
        t.add_column(h, justify="left" if h == "asset" else "right", no_wrap=True)
    for a in doc["assets"]:
        lt, cf = a["liquidation_threshold"], a["collateral_factor"]
        t.add_row(
            a["asset"], _pct(a["volatility"], 1), _f(a["horizon_days"], 2), _pct(a["haircut"]),
            _pct(a["haircut_terminal"]), _f(lt["current"]), lt["recommended"],
            _f(cf["current"]), cf["recommended"],
        )  # fmt: skip
    out = console(width=_WIDE)
    out.print(t)
    for a in doc["assets"]:
        for flag in a["flags"]:
            out.print(f"note: {a['asset']}: {flag}")


def print_optimize(doc: dict[str, Any], quote: str) -> None:
    """``optimize``: the figures before and after, the changes, the notes."""
    out = console(width=_WIDE)
    t = _table(f"Proposal ({'feasible' if doc['feasible'] else 'NOT feasible'}; values in {quote})")
    for h in ("figure", "before", "after"):
        t.add_column(h, justify="left" if h == "figure" else "right", no_wrap=True)
    b, a = doc["before"], doc["after"]
    for k in ("var99", "var99_std_error", "liquidations_at_risk", "capacity", "borrowed"):
        t.add_row(k.replace("_", " "), _f(b[k], 2), _f(a[k], 2))
    t.add_row("usage", _pct(b["usage"]), _pct(a["usage"]))
    out.print(t)
    c = _table("Changes")
    for h in ("asset", "parameter", "from", "to"):
        c.add_column(h)
    for ch in doc["changes"]:
        c.add_row(ch["asset"], ch["parameter"], ch["from"] or "-", ch["to"])
    out.print(c)
    for w in doc["warnings"]:
        out.print(f"note: {w}")


def print_network(doc: dict[str, Any]) -> None:
    """``network``: concentration per asset, contagion, and the entities' clearing."""
    out = console(width=_WIDE)
    t = _table("Concentration")
    for h in ("asset", "supply HHI", "top-10 supply", "debt HHI", "top-10 debt", "seized"):
        t.add_column(h, justify="left" if h == "asset" else "right")
    for r in doc["assets"]:
        t.add_row(
            r["asset"], _f(r["supply_hhi"]), _pct(r["top10_supply_share"]), _f(r["debt_hhi"]),
            _pct(r["top10_debt_share"]), _pct(r["seized_share"]),
        )  # fmt: skip
    out.print(t)
    ct = doc["contagion"]
    out.print(
        f"contagion: {ct['edge_count']:,} edges; largest cascade {ct['largest_cascade_size']:,} "
        f"accounts from {ct['largest_cascade_source'] or '-'}"
    )
    if "entities" in doc:
        e = doc["entities"]
        et = _table("Entities (Eisenberg-Noe clearing)")
        for h in ("entity", "owes", "pays", "shortfall"):
            et.add_column(h, justify="left" if h == "entity" else "right")
        for n, p in e["payments"].items():
            et.add_row(n, _f(e["total_liabilities"][n], 2), _f(p, 2), _f(e["shortfall"][n], 2))
        out.print(et)
        for tok, d in e["depegs"].items():
            out.print(f"de-peg: {tok} {_f(d['price_before'], 6)} -> {_f(d['price_after'], 6)}")
