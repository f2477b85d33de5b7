"""JSON renderings of domain objects for API responses (decimals as strings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from xmargin.mathlib import fmt
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth, account_health
from xmargin.store.types import to_jsonable

__all__ = ["account_json", "asset_json", "health_json"]


def health_json(h: AccountHealth) -> dict[str, Any]:
    """Every field of contract section 2."""
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
        **health_json(h),
        "risk_level": level,
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
