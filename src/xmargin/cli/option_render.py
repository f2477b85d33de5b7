"""What the option commands print: JSON documents (contract 6.4, docs/contract.md 6.5) and
tables.

As :mod:`xmargin.cli.render`: every Decimal in JSON is a full-precision string (``null``
where undefined); tables round quote values for display only and name the quote unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from rich.table import Table

from xmargin.cli.render import exact_text, pairs_table, ratio_text, table_console, value_text
from xmargin.model.market import Market
from xmargin.risk.greeks import Greeks
from xmargin.risk.option_liquidation import OptionLiquidationQuote
from xmargin.risk.option_trading import OptionTradeQuote
from xmargin.store.commands_options import option_liquidation_doc, option_trade_doc

__all__ = [
    "greeks_doc",
    "option_liquidation_doc",
    "option_trade_doc",
    "print_greeks",
    "print_option_liquidation",
    "print_option_trade",
]


def print_option_trade(q: OptionTradeQuote, market: Market) -> None:
    """``trade --option`` for people."""
    option = market.options[q.option]
    quote = market.params.quote
    pairs = [
        ("account", q.account),
        ("option", q.option),
        ("contracts before", exact_text(q.size_before)),
        ("contracts after", exact_text(q.size_after)),
        (f"price ({quote} per contract)", exact_text(q.price)),
        (f"premium paid ({quote})", value_text(q.premium)),
        (f"{option.settlement_asset} moved (units)", exact_text(q.settlement_units)),
        ("health before", ratio_text(q.health_factor_before)),
        ("health after", ratio_text(q.health_factor_after)),
    ]
    table_console().print(pairs_table(f"Option trade of {q.account}", pairs))


def print_option_liquidation(q: OptionLiquidationQuote, market: Market) -> None:
    """``liquidate --options`` for people: each position closed, then the totals."""
    quote = market.params.quote
    table = Table(title=f"Options closed for {q.account} (values in {quote})", title_justify="left")
    for i, name in enumerate(("option", "contracts", "closed", "value each", "fees")):
        table.add_column(name, justify="left" if i == 0 else "right", overflow="fold")
    for c in q.closed:
        table.add_row(
            c.option,
            exact_text(c.size_before),
            exact_text(c.closed),
            value_text(c.value),
            value_text(c.liquidator_fee + c.insurance_fee),
        )
    console = table_console()
    console.print(table)
    bad = ", ".join(f"{exact_text(u)} {a}" for a, u in q.bad_debt.items())
    pairs = [
        ("health before", ratio_text(q.health_factor_before)),
        ("health after", ratio_text(q.health_factor_after)),
        (f"liquidator fee ({quote})", value_text(q.liquidator_fee)),
        (f"insurance fee ({quote})", value_text(q.insurance_fee)),
        ("bad debt written off", bad or "none"),
    ]
    if q.insurance_fund_used:
        used = ", ".join(f"{exact_text(u)} {a}" for a, u in q.insurance_fund_used.items())
        pairs.append(("insurance fund used", used))
    console.print(pairs_table(f"Liquidation of {q.account}", pairs))


def greeks_doc(rows: Iterable[tuple[str, list[Greeks]]]) -> dict[str, Any]:
    """``greeks``: ``{"accounts": [{"account", "greeks": [{"underlying", "spot", "delta",
    "gamma", "vega", "theta"}]}]}`` (docs/contract.md 6.5)."""
    return {
        "accounts": [
            {"account": acc, "greeks": [g._asdict() for g in greeks]} for acc, greeks in rows
        ]
    }


def _greek(x: Decimal) -> str:
    """A greek for display only: 6 places (JSON carries them all)."""
    return f"{x:,.6f}"


def print_greeks(rows: Iterable[tuple[str, list[Greeks]]], quote: str) -> None:
    """``greeks`` for people: one row per account and underlying."""
    table = Table(
        title=f"Greeks (delta in units, vega in {quote} per 1.00 of vol, theta in {quote}/day)",
        title_justify="left",
    )
    for i, name in enumerate(("account", "underlying", "delta", "gamma", "vega", "theta")):
        table.add_column(name, justify="left" if i < 2 else "right", overflow="fold")
    for acc, greeks in rows:
        for g in greeks:
            table.add_row(
                acc, g.underlying, _greek(g.delta), _greek(g.gamma), _greek(g.vega), _greek(g.theta)
            )
    table_console().print(table)
