"""What the perp commands print: the contract's JSON documents (section 5.7) and tables.

As :mod:`xmargin.cli.render`: every Decimal in JSON is a full-precision string (``null``
where undefined); tables round quote values for display only and name the quote unit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xmargin.cli.render import exact_text, pairs_table, ratio_text, table_console
from xmargin.model.market import Market
from xmargin.risk.perp_liquidation import PerpLiquidationQuote
from xmargin.risk.trading import SettleQuote, TradeQuote

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


def trade_doc(q: TradeQuote) -> dict[str, Any]:
    """``trade``: the contract's fields in its order (5.7), then the extension ``price``."""
    return {
        "account": q.account,
        "perp": q.perp,
        "size_before": q.size_before,
        "size_after": q.size_after,
        "entry_price": q.entry_price,
        "realized_pnl": q.realized_pnl,
        "funding_paid": q.funding_paid,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "price": q.price,
    }


def perp_liquidation_doc(q: PerpLiquidationQuote) -> dict[str, Any]:
    """``liquidate --perp``: the contract's fields in its order (5.7), then the extension
    ``funding_paid``."""
    return {
        "account": q.account,
        "perp": q.perp,
        "closed": q.closed,
        "price": q.price,
        "realized_pnl": q.realized_pnl,
        "liquidator_fee": q.liquidator_fee,
        "insurance_fee": q.insurance_fee,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "bad_debt": dict(q.bad_debt),
        "insurance_fund_used": dict(q.insurance_fund_used),
        "funding_paid": q.funding_paid,
    }


def settle_doc(q: SettleQuote) -> dict[str, Any]:
    """``settle`` (extension, docs/contract.md 5.8)."""
    return {
        "account": q.account,
        "perp": q.perp,
        "size": q.size,
        "price": q.price,
        "realized_pnl": q.realized_pnl,
        "funding_paid": q.funding_paid,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
    }


def funding_doc(perp: str, index: Decimal, previous: Decimal) -> dict[str, Any]:
    """``funding`` (extension, docs/contract.md 5.8)."""
    return {"perp": perp, "funding_index": index, "previous": previous}


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
