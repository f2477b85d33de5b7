"""What the perp commands print: the contract's JSON documents (section 5.7) and tables.

The documents are the ones the journal and the service answer with
(:mod:`xmargin.store.results`), built there once.

As :mod:`xmargin.cli.render`: every Decimal in JSON is a full-precision string (``null``
where undefined); tables round quote values for display only and name the quote unit.
"""

from __future__ import annotations

from decimal import Decimal

from xmargin.cli.render import exact_text, pairs_table, ratio_text, table_console
from xmargin.model.market import Market
from xmargin.risk.perp_liquidation import PerpLiquidationQuote
from xmargin.risk.trading import SettleQuote, TradeQuote
from xmargin.store.results import funding_doc, perp_liquidation_doc, settle_doc, trade_doc

__all__ = [
    "funding_doc",
    "perp_liquidation_doc",
    "print_funding",
    "print_perp_liquidation",
    "print_settle",
    "print_trade",
    "settle_doc",
    "trade_doc",
]


def _quote_value(x: Decimal, quote: str) -> str:
    """A value in quote, exactly as JSON gives it, with its unit."""
    return f"{exact_text(x)} {quote}"


def print_trade(q: TradeQuote, market: Market) -> None:
    """``trade`` for people: sizes in base units, values in the market's quote."""
    quote = market.params.quote
    pairs = [
        ("account", q.account),
        ("perp", q.perp),
        ("size before", exact_text(q.size_before)),
        ("size after", exact_text(q.size_after)),
        (f"execution price ({quote})", exact_text(q.price)),
        (f"entry price ({quote})", exact_text(q.entry_price)),
        ("realized pnl", _quote_value(q.realized_pnl, quote)),
        ("funding paid", _quote_value(q.funding_paid, quote)),
        ("health before", ratio_text(q.health_factor_before)),
        ("health after", ratio_text(q.health_factor_after)),
    ]
    table_console().print(pairs_table(f"Trade by {q.account}", pairs))


def print_perp_liquidation(q: PerpLiquidationQuote, market: Market) -> None:
    """``liquidate --perp`` for people."""
    quote = market.params.quote

    def units(d: dict[str, Decimal]) -> str:
        return ", ".join(f"{exact_text(u)} {a}" for a, u in d.items()) or "none"

    pairs = [
        ("account", q.account),
        ("perp", q.perp),
        ("closed (base units)", exact_text(q.closed)),
        (f"price ({quote})", exact_text(q.price)),
        ("realized pnl", _quote_value(q.realized_pnl, quote)),
        ("funding paid", _quote_value(q.funding_paid, quote)),
        ("liquidator fee", _quote_value(q.liquidator_fee, quote)),
        ("insurance fee", _quote_value(q.insurance_fee, quote)),
        ("health before", ratio_text(q.health_factor_before)),
        ("health after", ratio_text(q.health_factor_after)),
        ("bad debt written off", units(q.bad_debt)),
        ("insurance fund used", units(q.insurance_fund_used)),
    ]
    table_console().print(pairs_table(f"Perp liquidation of {q.account}", pairs))


def print_settle(q: SettleQuote, market: Market) -> None:
    """``settle`` for people."""
    quote = market.params.quote
    pairs = [
        ("account", q.account),
        ("perp", q.perp),
        ("size (base units)", exact_text(q.size)),
        (f"price ({quote})", exact_text(q.price)),
        ("realized pnl", _quote_value(q.realized_pnl, quote)),
        ("funding paid", _quote_value(q.funding_paid, quote)),
        ("health before", ratio_text(q.health_factor_before)),
        ("health after", ratio_text(q.health_factor_after)),
    ]
    table_console().print(pairs_table(f"Settlement of {q.account}", pairs))


def print_funding(perp: str, index: Decimal, previous: Decimal, quote: str) -> None:
    """``funding`` for people."""
    pairs = [
        ("perp", perp),
        (f"funding index ({quote} per base unit)", exact_text(index)),
        ("previous", exact_text(previous)),
    ]
    table_console().print(pairs_table("Funding index", pairs))
