"""The rows a market is stored as, built from the domain objects (one place for the
genesis and for every batch): an asset with its market-wide state, a perp with its funding
index and open interest, a position, an auction, the market's own state.

The state of perps (contract 5) and of the liquidation designs (contract 8) is kept as
the balances are: one row per thing, decimals exact (:mod:`xmargin.store.types`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from xmargin.mathlib import ZERO
from xmargin.model.auction import Auction
from xmargin.model.market import Market
from xmargin.model.perps import PerpPosition

__all__ = [
    "STATE_COLUMNS",
    "asset_row",
    "asset_state",
    "auction_row",
    "market_state_row",
    "perp_row",
    "position_row",
    "stored_market_params",
]


def stored_market_params(doc_market: dict[str, Any]) -> dict[str, Any]:
    """The ``[market]`` table as the market row keeps it: without ``time`` and
    ``insurance_fund``, which are state (the market row's ``time``, the asset rows)."""
    return {k: v for k, v in doc_market.items() if k not in ("time", "insurance_fund")}


#: The columns of an asset row that actions change (besides price and parameters).
STATE_COLUMNS = (
    "total_supply",
    "total_borrow",
    "deficit",
    "isolation_debt",
    "insurance_fund",
    "reserves",
    "protocol_collateral",
    "supply_index",
)


def asset_state(market: Market, sym: str) -> tuple[Decimal | None, ...]:
    """What an asset row holds besides its parameters and price (:data:`STATE_COLUMNS`)."""
    return (
        market.total_supply.get(sym, ZERO),
        market.total_borrow.get(sym, ZERO),
        market.deficit.get(sym, ZERO),
        market.isolation_debt.get(sym, ZERO),
        market.insurance_fund.get(sym, ZERO),
        market.reserves.get(sym, ZERO),
        market.protocol_collateral.get(sym, ZERO),
        market.supply_index.get(sym),
    )


def asset_row(market: Market, sym: str, price_at: datetime | None) -> dict[str, Any]:
    """An asset row (without ``ord``): parameters, price, and the market-wide state."""
    ap = market.assets[sym]
    return {
        "symbol": sym,
        "params": ap.model_dump(exclude={"symbol", "price"}, exclude_none=True),
        "price": ap.price,
        "price_at": price_at,
        **dict(zip(STATE_COLUMNS, asset_state(market, sym), strict=True)),
    }


def perp_row(market: Market, name: str) -> dict[str, Any]:
    """A perp row (without ``ord``): parameters, funding index F and open interest."""
    perp = market.perps[name]
    long, short = market.open_interest.get(name, (ZERO, ZERO))
    return {
        "name": name,
        "params": perp.model_dump(exclude={"name", "funding_index"}, exclude_none=True),
        "funding_index": perp.funding_index,
        "open_interest_long": long,
        "open_interest_short": short,
    }


def position_row(account: str, perp: str, pos: PerpPosition) -> dict[str, Any]:
    return {
        "account_id": account,
        "perp": perp,
        "size": pos.size,
        "entry_price": pos.entry_price,
        "funding_index": pos.funding_index,
    }


def auction_row(a: Auction) -> dict[str, Any]:
    return {
        "id": a.id,
        "account": a.account,
        "debt_asset": a.debt_asset,
        "collateral_asset": a.collateral_asset,
        "debt": a.debt,
        "tab": a.tab,
        "lot": a.lot,
        "top": a.top,
        "tic": a.tic,
    }


def market_state_row(market: Market) -> dict[str, Any]:
    """The market row's state columns: the auction count and the clock."""
    return {"auction_count": market.auction_count, "time": market.params.time}
