"""JSON renderings of domain objects for API responses (decimals as strings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xmargin.mathlib import fmt
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.perps import PerpPosition
from xmargin.risk.health import AccountHealth, account_health
from xmargin.risk.perps import notional, pnl
from xmargin.store.types import to_jsonable

__all__ = ["account_json", "asset_json", "health_json", "position_json"]


def health_json(h: AccountHealth) -> dict[str, Any]:
    """Every field of contract section 2 (the two of 5.2 are added by the account)."""
    return {
        "collateral_value": fmt(h.collateral_value),
        "debt_value": fmt(h.debt_value),
        "initial_collateral": fmt(h.initial_collateral),
        "initial_debt": fmt(h.initial_debt),
        "maintenance_collateral": fmt(h.maintenance_collateral),
        "maintenance_debt": fmt(h.maintenance_debt),
        "health_factor": fmt(h.health_factor),
        "available_to_borrow": fmt(h.available_to_borrow),
        "liquidatable": h.liquidatable,
    }


def account_json(
    account: Account, market: Market, level: str | None, health: AccountHealth | None = None
) -> dict[str, Any]:
    """Balances and every health figure of one account."""
    h = health if health is not None else account_health(account, market)
    return {
        "account": account.id,
        "category": account.category,
        "supply": {a: fmt(v) for a, v in account.supply.items()},
        "borrow": {a: fmt(v) for a, v in account.borrow.items()},
        "perps": {name: position_json(name, pos, market) for name, pos in account.perps.items()},
        **health_json(h),
        "perp_notional": fmt(h.perp_notional) or "0",
        "unrealized_pnl": fmt(h.unrealized_pnl) or "0",
        "risk_level": level,
        **_option_part(account, h),
    }


def _option_part(account: Account, h: AccountHealth) -> dict[str, Any]:
    """An account that holds options or is margined by scenarios (contract 6): its
    positions (contracts by option), ``option_value`` and ``margin``; nothing otherwise."""
    if not account.options and account.margin.value == "standard":
        return {}
    return {
        "options": {name: fmt(q) for name, q in account.options.items()},
        "option_value": fmt(h.option_value) or "0",
        "margin": account.margin.value,
    }


def position_json(name: str, pos: PerpPosition, market: Market) -> dict[str, Any]:
    """A perp position (contract 5.1): size, entry price, funding snapshot, and its
    notional and unrealised pnl (funding included) at the oracle price now."""
    perp = market.perps[name]
    price = market.perp_price(perp)
    return {
        "size": fmt(pos.size),
        "entry_price": fmt(pos.entry_price),
        "funding_index": fmt(pos.funding_index) or "0",
        "notional": fmt(notional(pos.size, price)),
        "pnl": fmt(pnl(pos.size, price, pos.entry_price, perp.funding_index, pos.funding_index))
        or "0",
    }


def asset_json(market: Market, symbol: str, price_at: datetime | None) -> dict[str, Any]:
    """An asset's parameters, price and market-wide state."""
    ap = market.assets[symbol]
    params = to_jsonable(ap.model_dump(exclude={"symbol", "price"}, exclude_none=True))
    return {
        "asset": symbol,
        "price": fmt(ap.price),
        "price_at": price_at.isoformat() if price_at is not None else None,
        "params": params,
        "total_supply": fmt(market.total_supply.get(symbol)) or "0",
        "total_borrow": fmt(market.total_borrow.get(symbol)) or "0",
        "deficit": fmt(market.deficit.get(symbol)) or "0",
    }
