"""What the commands print: the contract's JSON documents (section 4) and Rich tables.

JSON: every Decimal is a string at full precision with no exponent (``mathlib.fmt``),
``null`` where a figure is undefined, booleans and counts as JSON booleans and integers.
Tables are for people: values are rounded for display only, and every title names the
quote unit.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from xmargin.cli.console import console
from xmargin.mathlib import fmt, quantize_down
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth
from xmargin.risk.liquidation import LiquidationQuote
from xmargin.risk.liquidation_price import LiquidationPrice

if TYPE_CHECKING:  # the stress engine (NumPy) loads with the command that runs it
    from xmargin.analytics.stress import StressResult

__all__ = [
    "check_doc",
    "dumps",
    "exact_text",
    "health_doc",
    "health_row",
    "liquidation_doc",
    "liquidation_price_doc",
    "pairs_table",
    "pct_text",
    "print_check",
    "print_health",
    "print_json",
    "print_liquidation",
    "print_liquidation_price",
    "print_stress",
    "ratio_text",
    "stress_doc",
    "table_console",
    "value_text",
]

#: Places shown in tables for quote values and ratios (display only; JSON always carries
#: full precision). Token units and prices are shown exactly.
_VALUE_PLACES = 2
_RATIO_PLACES = 4


# -- JSON ---------------------------------------------------------------------------------
def _encode(obj: object) -> str | None:
    if isinstance(obj, Decimal):
        return fmt(obj)
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


#: Above this many rows the document is written compact: ``indent`` forces the
#: pure-Python encoder, which dominated ``health --json`` on a 10,000-account book.
_INDENT_MAX_ROWS = 200


def dumps(doc: object) -> str:
    """``doc`` as one JSON document; every Decimal as a plain decimal string."""
    rows = doc.get("accounts") if isinstance(doc, dict) else None
    big = isinstance(rows, list) and len(rows) > _INDENT_MAX_ROWS
    return json.dumps(
        doc, default=_encode, indent=None if big else 2, allow_nan=False, ensure_ascii=False
    )


def print_json(doc: object) -> None:
    """Write ``doc`` to stdout as the command's only output."""
    sys.stdout.write(dumps(doc) + "\n")


def check_doc(market: Market) -> dict[str, Any]:
    """``check``: the market's name and quote, and how many assets, categories, accounts."""
    return {
        "market": market.params.name,
        "quote": market.params.quote,
        "assets": len(market.assets),
        "categories": len(market.categories),
        "accounts": len(market.accounts),
    }


def health_row(account_id: str, health: AccountHealth) -> dict[str, Any]:
    """``{"account": ID, <every field of contract section 2, in its order>}``."""
    return {"account": account_id, **health._asdict()}


def health_doc(rows: Iterable[tuple[str, AccountHealth]]) -> dict[str, Any]:
    """``health``: ``{"accounts": [row, ...]}``."""
    return {"accounts": [health_row(a, h) for a, h in rows]}


def liquidation_doc(quote: LiquidationQuote) -> dict[str, Any]:
    """``liquidate``: the contract's fields in its order, then the extension ``bonus``."""
    return {
        "account": quote.account,
        "debt_asset": quote.debt_asset,
        "collateral_asset": quote.collateral_asset,
        "repaid": quote.repaid,
        "seized": quote.seized,
        "liquidator_receives": quote.liquidator_receives,
        "protocol_fee": quote.protocol_fee,
        "health_factor_before": quote.health_factor_before,
        "health_factor_after": quote.health_factor_after,
        "bad_debt": dict(quote.bad_debt),
        "insurance_fund_used": dict(quote.insurance_fund_used),
        "bonus": quote.bonus,
    }


def liquidation_price_doc(lp: LiquidationPrice) -> dict[str, Any]:
    """``liquidation-price``: ``{"account", "asset", "current_price", "price", "change"}``,
    then the extensions ``method`` and ``tolerance`` (docs/contract.md 6.5)."""
    return {
        "account": lp.account,
        "asset": lp.asset,
        "current_price": lp.current_price,
        "price": lp.price,
        "change": lp.change,
        "method": lp.method,
        "tolerance": lp.tolerance,
    }


def stress_doc(result: StressResult) -> dict[str, Any]:
    """``stress``: accounts and summary (contract), then the shocked ``prices`` and, when
    given, the ``vol_shocks`` (extensions)."""
    doc = {
        **health_doc(result.accounts),
        "summary": result.summary._asdict(),
        "prices": dict(result.prices),
    }
    if result.vol_shocks:
        doc["vol_shocks"] = dict(result.vol_shocks)
    return doc


# -- tables -------------------------------------------------------------------------------
def table_console() -> Console:
    """The console the contract's tables print to (laid out 160 wide off a terminal)."""
    return console(width=160)


def value_text(x: Decimal) -> str:
    """A quote value rounded to cents for display only."""
    return f"{x:,.{_VALUE_PLACES}f}"


def ratio_text(x: Decimal | None) -> str:
    """A health factor for display, rounded down so that it never looks safer than it is."""
    return "-" if x is None else f"{quantize_down(x, _RATIO_PLACES):,f}"


def exact_text(x: Decimal | None) -> str:
    """Token units and prices, exactly as JSON gives them; ``-`` where undefined."""
    return fmt(x) or "-"


def pct_text(x: Decimal | None) -> str:
    """A signed fraction as a percentage for display; ``-`` where undefined."""
    return "-" if x is None else f"{x * 100:+,.2f}%"


def _yes(b: bool) -> str:
    return "yes" if b else "no"


_HEALTH_COLUMNS = (
    "account",
    "collateral",
    "debt",
    "initial coll.",
    "initial debt",
    "maint. coll.",
    "maint. debt",
    "health factor",
    "available",
    "liquidatable",
)


def _health_table(rows: Iterable[tuple[str, AccountHealth]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(_HEALTH_COLUMNS):
        table.add_column(name, justify="left" if i == 0 else "right", overflow="fold")
    for account_id, h in rows:
        table.add_row(
            account_id,
            value_text(h.collateral_value),
            value_text(h.debt_value),
            value_text(h.initial_collateral),
            value_text(h.initial_debt),
            value_text(h.maintenance_collateral),
            value_text(h.maintenance_debt),
            ratio_text(h.health_factor),
            value_text(h.available_to_borrow),
            _yes(h.liquidatable),
        )
    return table


def _perp_table(rows: Iterable[tuple[str, AccountHealth]], title: str) -> Table:
    """The two figures of contract 5.2 for the accounts that hold perps (a second table,
    so that the health table keeps its width)."""
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(("account", "perp notional", "unrealized pnl")):
        table.add_column(name, justify="left" if i == 0 else "right", overflow="fold")
    for account_id, h in rows:
        if h.perp_notional or h.unrealized_pnl:
            table.add_row(account_id, value_text(h.perp_notional), value_text(h.unrealized_pnl))
    return table


def _option_table(rows: Iterable[tuple[str, AccountHealth]], title: str) -> Table:
    """``option_value`` of contract 6.2 for the accounts whose options are worth anything."""
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(("account", "option value")):
        table.add_column(name, justify="left" if i == 0 else "right", overflow="fold")
    for account_id, h in rows:
        if h.option_value:
            table.add_row(account_id, value_text(h.option_value))
    return table


def pairs_table(title: str, pairs: Iterable[tuple[str, str]]) -> Table:
    """A two-column table of ``(field, value)`` rows."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field")
    table.add_column("value", justify="right", overflow="fold")
    for k, v in pairs:
        table.add_row(k, v)
    return table


def print_check(doc: Mapping[str, Any]) -> None:
    """``check`` for people: one line of counts."""
    name = doc["market"] or "market"
    table_console().print(
        f"ok: {name} (quote {doc['quote']}): {doc['assets']} assets, "
        f"{doc['categories']} categories, {doc['accounts']} accounts"
    )


def print_health(
    rows: Iterable[tuple[str, AccountHealth]],
    quote: str,
    perps: bool = False,
    options: bool = False,
) -> None:
    """``health`` for people: one row per account, values in ``quote``; ``perps`` (a
    market with perps) adds a table of perp notional and unrealised PnL, ``options`` (a
    market with options) one of option values."""
    rows = list(rows)
    console = table_console()
    console.print(_health_table(rows, f"Account health (values in {quote})"))
    if perps:
        console.print(_perp_table(rows, f"Perp positions (values in {quote})"))
    if options:
        console.print(_option_table(rows, f"Option positions (values in {quote})"))


def print_liquidation(quote: LiquidationQuote, market: Market) -> None:
    """``liquidate`` for people: units of each asset, and the health before and after."""
    debt, coll = quote.debt_asset, quote.collateral_asset
    bad = ", ".join(f"{exact_text(u)} {a}" for a, u in quote.bad_debt.items())
    pairs = [
        ("account", quote.account),
        ("repaid", f"{exact_text(quote.repaid)} {debt}"),
        ("seized", f"{exact_text(quote.seized)} {coll}"),
        ("liquidator receives", f"{exact_text(quote.liquidator_receives)} {coll}"),
        ("protocol fee", f"{exact_text(quote.protocol_fee)} {coll}"),
        ("bonus", pct_text(quote.bonus)),
        ("health before", ratio_text(quote.health_factor_before)),
        ("health after", ratio_text(quote.health_factor_after)),
        ("bad debt written off", bad or "none"),
    ]
    if quote.insurance_fund_used:
        used = ", ".join(f"{exact_text(u)} {a}" for a, u in quote.insurance_fund_used.items())
        pairs.append(("insurance fund used", used))
    title = f"Liquidation of {quote.account} (token units; market quoted in {market.params.quote})"
    table_console().print(pairs_table(title, pairs))


def _method(lp: LiquidationPrice) -> str:
    if lp.tolerance is None:
        return "closed form (linear)"
    return f"root finder, to {fmt(lp.tolerance)} relative"


def print_liquidation_price(lp: LiquidationPrice, quote: str) -> None:
    """``liquidation-price`` for people."""
    pairs = [
        ("account", lp.account),
        ("asset", lp.asset),
        (f"current price ({quote})", exact_text(lp.current_price)),
        (f"liquidation price ({quote})", exact_text(lp.price)),
        ("change", pct_text(lp.change)),
        ("method", _method(lp)),
    ]
    title = f"Price of {lp.asset} at which {lp.account} reaches health 1"
    table_console().print(pairs_table(title, pairs))
    if lp.price is None:
        table_console().print("no such price above zero (every other price fixed)")


def print_stress(
    result: StressResult, quote: str, perps: bool = False, options: bool = False
) -> None:
    """``stress`` for people: shocked prices (and volatilities), every account, and the
    summary."""
    console = table_console()
    console.print(
        pairs_table(
            f"Shocked prices ({quote})",
            ((a, exact_text(p)) for a, p in result.prices.items()),
        )
    )
    if result.vol_shocks:
        console.print(
            pairs_table(
                "Volatility shocks (options on the asset: σ × (1 + shock), floored at 0)",
                ((a, pct_text(x)) for a, x in result.vol_shocks.items()),
            )
        )
    console.print(
        _health_table(result.accounts, f"Account health after shocks (values in {quote})")
    )
    if perps:
        console.print(
            _perp_table(result.accounts, f"Perp positions after shocks (values in {quote})")
        )
    if options:
        console.print(
            _option_table(result.accounts, f"Option positions after shocks (values in {quote})")
        )
    s = result.summary
    console.print(
        pairs_table(
            f"Summary (values in {quote})",
            [
                ("accounts", str(s.accounts)),
                ("liquidatable accounts", str(s.liquidatable_accounts)),
                ("liquidatable debt", value_text(s.liquidatable_debt)),
                ("insolvent debt", value_text(s.insolvent_debt)),
            ],
        )
    )
