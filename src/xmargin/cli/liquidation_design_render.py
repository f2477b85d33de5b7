"""What the liquidation-design commands print (contract 8.5): JSON documents and tables.

The documents are the ones the journal and the service answer with
(:mod:`xmargin.store.results`), built there once.

As :mod:`xmargin.cli.render`: every Decimal in JSON is a full-precision string (``null``
where undefined), times are ISO 8601 in UTC; tables round quote values for display only,
give token units and prices exactly, and name the quote unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from xmargin.cli.render import (
    exact_text,
    pairs_table,
    pct_text,
    ratio_text,
    table_console,
    value_text,
)
from xmargin.model.liquidation_params import format_time
from xmargin.model.market import Market
from xmargin.store.results import (
    absorb_doc,
    auction_doc,
    auction_reset_doc,
    auction_start_doc,
    auction_status_doc,
    auction_take_doc,
    buy_collateral_doc,
    deleverage_doc,
    perp_loss_doc,
    spot_loss_doc,
)

__all__ = [
    "absorb_doc",
    "auction_doc",
    "auction_reset_doc",
    "auction_start_doc",
    "auction_status_doc",
    "auction_take_doc",
    "buy_collateral_doc",
    "deleverage_doc",
    "perp_loss_doc",
    "print_doc",
    "printer",
    "same_doc",
    "spot_loss_doc",
]


#: How a field is shown in a table, by kind: quote values to cents, ratios rounded down,
#: fractions as percentages; everything else (units, prices, names) exactly.
_VALUES = {
    "collateral_value",
    "credited_value",
    "debt_value",
    "protocol_value",
    "buyer_value",
    "loss_value",
    "charged_value",
    "net_value",
    "borne_value",
    "realized_pnl",
}
_RATIOS = {"health_factor_before", "health_factor_after"}
_PERCENTS = {"bonus"}


def _cell(key: str, v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, datetime):
        return format_time(v)
    if isinstance(v, Mapping):
        return ", ".join(f"{k} {_cell(key, x)}" for k, x in v.items()) or "none"
    if isinstance(v, Decimal):
        if key in _VALUES:
            return value_text(v)
        if key in _RATIOS:
            return ratio_text(v)
        if key in _PERCENTS:
            return pct_text(v)
        return exact_text(v)
    return str(v)


def _pairs(doc: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for k, v in doc.items():
        if isinstance(v, list):
            continue
        if isinstance(v, Mapping) and "id" in v:  # a nested auction: its fields in turn
            yield from ((f"{k} {k2}".replace("_", " "), _cell(k2, x)) for k2, x in v.items())
            continue
        yield k.replace("_", " "), _cell(k, v)


_ROW_NAMES = {"counterparties": "counterparty", "auctions": "auction"}


def print_doc(title: str, doc: Mapping[str, Any], quote: str) -> None:
    """A document for people: its title, a two-column table of its fields, then one table
    per row of a list (deleverage's counterparties, the running auctions); values in
    ``quote``. Titles are printed on their own line so that a narrow table never wraps
    them."""
    console = table_console()
    console.print(f"{title} (values in {quote})")
    console.print(pairs_table("", _pairs(doc)))
    for key, rows in doc.items():
        if not isinstance(rows, list):
            continue
        if not rows:
            console.print(f"no {key.replace('_', ' ')}")
        for row in rows:
            name = _ROW_NAMES.get(key, key)
            console.print(f"{name} {row.get('account', row.get('id', ''))}")
            console.print(pairs_table("", _pairs(row)))


def same_doc(doc: dict[str, Any], _market: Market) -> dict[str, Any]:
    """The JSON of a design command: the document its action built."""
    return doc


def printer(title: str) -> Callable[[dict[str, Any], Market], None]:
    """:func:`print_doc` under ``title``, in the market's quote (for
    :func:`xmargin.cli.market_actions.run_action`)."""

    def show(doc: dict[str, Any], market: Market) -> None:
        print_doc(title, doc, market.params.quote)

    return show
