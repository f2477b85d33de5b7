"""What ``xmargin simulate compare`` prints: one row per liquidation design.

The table is the one a governance forum post carries: money in compact figures (``1.23M``,
``45.6k``) so that it never wraps at 80 columns, time to clear in hours (``-``: not
cleared on any path). The JSON is
:func:`xmargin.analytics.design_compare.compare_doc`'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table

from xmargin.cli.console import console

if TYPE_CHECKING:
    from xmargin.analytics.design_compare import DesignFigures

__all__ = ["compact_money", "print_compare"]

#: (figure, header) of the table, in its order.
_COLUMNS = (
    ("bad_debt", "bad\ndebt"),
    ("liquidated", "liquidated\nvolume"),
    ("liquidator_profit", "liquidator\nprofit"),
    ("borrower_loss", "borrower\nloss"),
    ("fund_drawdown", "insurance\nfund used"),
)


def compact_money(x: float) -> str:
    """``1234567.8`` -> ``1.23M``, ``45600`` -> ``45.6k``, ``950.2`` -> ``950``; at most
    seven characters below a trillion.

    >>> [compact_money(x) for x in (1234567.8, 45600, 950.2, 0.0, -1500)]
    ['1.23M', '45.6k', '950', '0', '-1.5k']
    """
    if not math.isfinite(x):
        return "-"
    a = abs(x)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= scale * 0.9995:
            places = 2 if a < scale * 99.95 else 1 if a < scale * 999.5 else 0
            places = 1 if suffix == "k" and places == 2 else places
            return f"{x / scale:.{places}f}{suffix}"
    return f"{x:.0f}"


def _hours(h: float | None) -> str:
    if h is None:
        return "-"
    return f"{h:.1f} h" if h < 100 else f"{h:,.0f} h"


def print_compare(
    results: Mapping[str, DesignFigures], quote: str, n_paths: int, note: str = ""
) -> None:
    """One row per design; means over the paths."""
    out = console(width=80)
    over = "one path" if n_paths == 1 else f"means over {n_paths:,} paths"
    table = Table(
        title=f"Liquidation designs compared ({over}; values in {quote})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("design", no_wrap=True)
    for _, header in _COLUMNS:
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("time to\nclear", justify="right", no_wrap=True)
    for name, r in results.items():
        row = [compact_money(float(getattr(r, k))) for k, _ in _COLUMNS]
        table.add_row(name, *row, _hours(r.time_to_clear_hours))
    out.print(table)
    if note:
        out.print(note)
