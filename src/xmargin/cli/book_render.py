"""What ``health`` and ``stress`` print for a large book (the risk book), and the summary.

The JSON has the contract's shape (``{"accounts": [...], "summary": {...}}``) and is
written as it is produced, one account at a time, so a million accounts never sit in
memory as Python objects. Figures are the book's float64 values written as plain decimal
strings (shortest repr, no exponent); accounts decided near a level by the exact engine
carry its exact figures. Decisions (``liquidatable``) are always the exact engine's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.table import Table

from xmargin._typing import Float64Array1D
from xmargin.analytics.stress import StressSummary
from xmargin.book.events import BookFigures, BookSummary, Status
from xmargin.book.riskbook import RiskBook
from xmargin.cli.console import console
from xmargin.io.arrow_values import null_where_nan, number_scalar, string_scalar, to_numpy
from xmargin.mathlib import float_text, fmt
from xmargin.risk.health import AccountHealth

__all__ = ["print_book", "print_stress_summary", "summary_doc", "write_health_json"]

#: As :func:`xmargin.cli.render.dumps`: above this many rows a document is compact.
_INDENT_MAX_ROWS = 200

_FIELDS = (
    "collateral_value",
    "debt_value",
    "initial_collateral",
    "initial_debt",
    "maintenance_collateral",
    "maintenance_debt",
    "health_factor",
    "available_to_borrow",
)


def summary_doc(s: BookSummary | StressSummary) -> dict[str, object]:
    """Contract 4 ``stress`` summary as JSON: counts as integers, money as strings."""

    def money(x: float | Decimal) -> str:
        return (fmt(x) or "0") if isinstance(x, Decimal) else float_text(x)

    return {
        "accounts": int(s.accounts),
        "liquidatable_accounts": int(s.liquidatable_accounts),
        "liquidatable_debt": money(s.liquidatable_debt),
        "insolvent_debt": money(s.insolvent_debt),
    }


def _texts(x: Float64Array1D) -> list[str | None]:
    """Decimal strings of a float64 column (``None`` for NaN): Arrow writes the shortest
    repr; the few it writes with an exponent (or as ``-0``) are rewritten plainly."""
    text = pc.cast(null_where_nan(x), pa.string())
    odd = pc.or_(pc.match_substring(text, "e"), pc.equal(text, string_scalar("-0")))
    out: list[str | None] = text.to_pylist()
    for i in np.flatnonzero(to_numpy(odd.fill_null(number_scalar(False, np.bool_)))).tolist():
        out[i] = float_text(float(x[i]))
    return out


def _exact_row(h: AccountHealth) -> list[str | None]:
    return [fmt(v) for v in h[:6]] + [fmt(h.health_factor), fmt(h.available_to_borrow)]


def write_health_json(
    out: TextIO,
    book: RiskBook,
    *,
    summary: BookSummary | None = None,
    prices: Mapping[str, Decimal] | None = None,
    accounts: bool = True,
    vol_shocks: Mapping[str, Decimal] | None = None,
) -> None:
    """Write ``{"accounts": [...], "summary": ..., "prices": ...}`` (contract 4) to ``out``,
    then ``"vol_shocks"`` when given (docs/contract.md 6.5).

    ``accounts=False`` leaves the per-account rows out (``stress --summary``). Laid out as
    :func:`xmargin.cli.render.dumps` lays documents out: indented up to 200 rows, compact
    above.
    """
    tail: dict[str, object] = {}
    if summary is not None:
        tail["summary"] = summary_doc(summary)
    if prices is not None:
        tail["prices"] = {a: fmt(p) for a, p in prices.items()}
    if vol_shocks:
        tail["vol_shocks"] = {a: fmt(x) for a, x in vol_shocks.items()}
    if not accounts:
        out.write(json.dumps(tail, indent=2, ensure_ascii=False) + "\n")
        return
    fig = book.figures()
    if book.n_accounts <= _INDENT_MAX_ROWS:
        doc = {"accounts": list(_rows(fig)), **tail}
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return
    out.write('{"accounts": [')
    for i, row in enumerate(_rows(fig)):
        out.write((", " if i else "") + json.dumps(row, ensure_ascii=False))
    out.write("]")
    for key, value in tail.items():
        out.write(
            f", {json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}"
        )
    out.write("}\n")


def _rows(f: BookFigures) -> Iterator[dict[str, object]]:
    """Each account's row: ``{"account", <the fields of section 2 in order>}``."""
    ids = f.account.to_pylist()
    cols = [_texts(getattr(f, name)) for name in _FIELDS]
    liq = f.liquidatable.tolist()
    # Contract 5.2's fields: 0 where the book holds no perps.
    perps = f.perp_notional is not None and f.unrealized_pnl is not None
    notional = _texts(f.perp_notional) if f.perp_notional is not None else None
    upnl = _texts(f.unrealized_pnl) if f.unrealized_pnl is not None else None
    value = _texts(f.option_value) if f.option_value is not None else None
    for i, acc in enumerate(ids):
        exact = f.exact.get(i)
        values = _exact_row(exact) if exact is not None else [c[i] for c in cols]
        row: dict[str, object] = {"account": acc}
        row.update(zip(_FIELDS, values, strict=True))
        row["liquidatable"] = liq[i]
        if exact is not None and perps:
            row["perp_notional"] = fmt(exact.perp_notional)
            row["unrealized_pnl"] = fmt(exact.unrealized_pnl)
        else:
            row["perp_notional"] = notional[i] if notional is not None else "0"
            row["unrealized_pnl"] = upnl[i] if upnl is not None else "0"
        # contract 6.2: the exact engine's where it decided the account, 0 without options
        if exact is not None and value is not None:
            row["option_value"] = fmt(exact.option_value) or "0"
        else:
            row["option_value"] = value[i] if value is not None else "0"
        yield row


def print_stress_summary(
    prices: Mapping[str, Decimal],
    summary: BookSummary | StressSummary,
    quote: str,
    as_json: bool,
) -> None:
    """``stress --summary``: the shocked prices and the summary only, the same document
    and the same table whichever engine computed them (issue 9, item 7)."""
    doc = summary_doc(summary)
    if as_json:
        body = {"summary": doc, "prices": {a: fmt(p) or "0" for a, p in prices.items()}}
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        return
    t = Table(title=f"Stress summary (values in {quote})", title_justify="left", show_header=False)
    t.add_column("field")
    t.add_column("value", justify="right")
    for a, p in prices.items():
        t.add_row(f"{a} price", fmt(p) or "0")
    t.add_row("accounts", f"{doc['accounts']:,}")
    t.add_row("liquidatable accounts", f"{doc['liquidatable_accounts']:,}")
    t.add_row("liquidatable debt", f"{Decimal(str(doc['liquidatable_debt'])):,.2f}")
    t.add_row("insolvent debt", f"{Decimal(str(doc['insolvent_debt'])):,.2f}")
    console().print(t)


def print_book(
    book: RiskBook,
    title: str,
    prices: Mapping[str, Decimal] | None,
    summary: BookSummary | None = None,
) -> None:
    """A large book for people: prices, counts by status, the summary, the queue's head."""
    out = console()
    quote = book.quote
    if prices:
        t = Table(title=f"Shocked prices ({quote})", title_justify="left", show_header=False)
        t.add_column("asset")
        t.add_column("price", justify="right")
        for a, p in prices.items():
            t.add_row(a, fmt(p) or "0")
        out.print(t)
    s = summary or book.summary()
    counts = book.counts()
    t = Table(title=f"{title} (values in {quote})", title_justify="left", show_header=False)
    t.add_column("field")
    t.add_column("value", justify="right")
    for status in Status:
        t.add_row(f"{status.label} accounts", f"{counts[status]:,}")
    doc = summary_doc(s)
    t.add_row("liquidatable debt", f"{float(str(doc['liquidatable_debt'])):,.2f}")
    t.add_row("insolvent debt", f"{float(str(doc['insolvent_debt'])):,.2f}")
    out.print(t)
    head = book.liquidation_queue(10)
    if head:
        q = Table(
            title=f"Liquidation queue, largest shortfall first (first {len(head)}, {quote})",
            title_justify="left",
        )
        for name in ("account", "shortfall", "health factor", "maint. coll.", "maint. debt"):
            q.add_column(name, justify="left" if name == "account" else "right")
        for e in head:
            q.add_row(
                e.account,
                f"{e.shortfall_value:,.2f}",
                f"{e.health_factor:.4f}",
                f"{e.maintenance_collateral:,.2f}",
                f"{e.maintenance_debt:,.2f}",
            )
        out.print(q)
    out.print(
        f"{book.n_accounts:,} accounts on the risk book ({book.backend}); "
        "--json gives every account"
    )
