"""What the liquidation-design commands print (contract 8.5): JSON documents and tables.

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
from xmargin.model.auction import Auction
from xmargin.model.liquidation_params import format_time
from xmargin.model.market import Market
from xmargin.risk.adl import DeleverageQuote
from xmargin.risk.auction import AuctionResetQuote, AuctionStartQuote, AuctionTakeQuote
from xmargin.risk.socialized_loss import PerpLossQuote, SpotLossQuote
from xmargin.risk.storefront import AbsorbQuote, BuyCollateralQuote

__all__ = [
    "absorb_doc",
    "auction_doc",
    "auction_reset_doc",
    "auction_start_doc",
    "auction_take_doc",
    "buy_collateral_doc",
    "deleverage_doc",
    "perp_loss_doc",
    "print_doc",
    "printer",
    "same_doc",
    "spot_loss_doc",
]


def auction_doc(a: Auction) -> dict[str, Any]:
    """An auction as the market file's ``state.auctions`` holds it, with its ``id``."""
    return {"id": a.id, **a.to_dict()}


def auction_start_doc(q: AuctionStartQuote) -> dict[str, Any]:
    """``auction start`` (and ``liquidate`` under ``liquidation = "auction"``)."""
    return {
        "auction": auction_doc(q.auction),
        "bonus": q.bonus,
        "keeper_incentive": q.keeper_incentive,
        "insurance_fund_used": dict(q.insurance_fund_used),
        "bad_debt": dict(q.deficit_added),
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "time": format_time(q.time),
    }


def auction_take_doc(q: AuctionTakeQuote) -> dict[str, Any]:
    """``auction take``: what was bought and paid; ``auction`` is null once it ended."""
    return {
        "auction_id": q.auction_id,
        "account": q.account,
        "debt_asset": q.debt_asset,
        "collateral_asset": q.collateral_asset,
        "price": q.price,
        "bought": q.bought,
        "paid": q.paid,
        "principal": q.principal,
        "penalty": q.penalty,
        "returned": q.returned,
        "bad_debt": dict(q.bad_debt),
        "insurance_fund_used": dict(q.insurance_fund_used),
        "health_factor_after": q.health_factor_after,
        "auction": None if q.auction_after is None else auction_doc(q.auction_after),
        "time": format_time(q.time),
    }


def auction_reset_doc(q: AuctionResetQuote) -> dict[str, Any]:
    """``auction reset``: the auction restarted at the oracle, and the keeper's pay."""
    return {
        "auction": auction_doc(q.auction_after),
        "previous_price": q.previous_price,
        "reason": q.reason,
        "keeper_incentive": q.keeper_incentive,
        "insurance_fund_used": dict(q.insurance_fund_used),
        "bad_debt": dict(q.deficit_added),
        "time": format_time(q.time),
    }


def absorb_doc(q: AbsorbQuote, market: Market) -> dict[str, Any]:
    """``absorb`` (and ``liquidate`` under ``liquidation = "storefront"``)."""
    return {
        "account": q.account,
        "base": q.base,
        "seized": dict(q.seized),
        "absorbed_debt": dict(q.absorbed_debt),
        "collateral_value": q.collateral_value,
        "credited_value": q.credited_value,
        "debt_value": q.debt_value,
        "excess": q.excess,
        "protocol_value": q.protocol_value,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "reserves": dict(market.reserves),
    }


def buy_collateral_doc(q: BuyCollateralQuote, market: Market) -> dict[str, Any]:
    """``buy-collateral``: paid, bought, the store-front price, reserves before/after."""
    return {
        "asset": q.asset,
        "base": q.base,
        "paid": q.paid,
        "bought": q.bought,
        "price": q.price,
        "buyer_value": q.buyer_value,
        "reserves_before": q.reserves_before,
        "reserves_after": market.reserves.get(q.base, Decimal(0)),
    }


def perp_loss_doc(q: PerpLossQuote, market: Market) -> dict[str, Any]:
    """``socialize --perp``: the funding delta and what it charges."""
    return {
        "perp": q.perp,
        "asset": q.asset,
        "loss": q.loss,
        "loss_value": q.loss_value,
        "open_interest_long": q.open_interest_long,
        "open_interest_short": q.open_interest_short,
        "funding_delta": q.funding_delta,
        "charged_value": q.charged_value,
        "deficit_after": market.deficit.get(q.asset, Decimal(0)),
    }


def spot_loss_doc(q: SpotLossQuote, market: Market) -> dict[str, Any]:
    """``socialize --asset``: the supply index before and after, what depositors lost."""
    return {
        "asset": q.asset,
        "loss": q.loss,
        "total_supply": q.total_supply,
        "index_before": q.index_before,
        "index_after": q.index_after,
        "taken": q.taken,
        "deficit_after": market.deficit.get(q.asset, Decimal(0)),
    }


def deleverage_doc(q: DeleverageQuote) -> dict[str, Any]:
    """``deleverage``: the bankruptcy price and each counterparty's share."""
    return {
        "account": q.account,
        "perp": q.perp,
        "net_value": q.net_value,
        "price": q.price,
        "bankruptcy_price": q.bankruptcy_price,
        "closed": q.closed,
        "counterparties": [
            {
                "account": c.account,
                "score": c.score,
                "closed": c.closed,
                "realized_pnl": c.realized_pnl,
                "borne_value": c.borne_value,
            }
            for c in q.counterparties
        ],
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "bad_debt": dict(q.bad_debt),
        "insurance_fund_used": dict(q.insurance_fund_used),
    }


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
