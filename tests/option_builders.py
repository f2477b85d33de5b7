"""Declarative markets with options (contract 6) for the rule and property tests.

``option_market(options, positions)`` writes a contract document — USDC (6 decimals,
weight 1) and ETH (8 decimals) at ``spot``, the options on ETH settled in USDC — and
validates it through :func:`xmargin.io.parse_market`, as a market file would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tests.builders import market_doc
from xmargin.io import parse_market
from xmargin.model import Market

__all__ = ["EXPIRY", "TIME", "d", "option_doc", "option_market"]

TIME = "2024-06-01T08:00:00Z"
#: 27 days after TIME
EXPIRY = "2024-06-28T08:00:00Z"

OptionSpec = tuple[Any, ...] | Mapping[str, Any]


def _option(spec: OptionSpec, volatility: object) -> dict[str, Any]:
    if isinstance(spec, Mapping):
        return {
            "underlying": "ETH",
            "settlement_asset": "USDC",
            "expiry": EXPIRY,
            "volatility": volatility,
            **spec,
        }
    kind, strike, *rest = spec
    return {
        "underlying": "ETH",
        "settlement_asset": "USDC",
        "kind": kind,
        "strike": strike,
        "expiry": rest[0] if rest else EXPIRY,
        "volatility": volatility,
    }


def option_doc(
    options: Mapping[str, OptionSpec],
    positions: Mapping[str, Mapping[str, object]],
    *,
    spot: object = 1500,
    volatility: object = 0,
    usdc: object = 100_000,
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
    option_margin: Mapping[str, Any] | None = None,
    portfolio_margin: Mapping[str, Any] | None = None,
    perps: Mapping[str, Mapping[str, Any]] | None = None,
    market: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The contract document: every account of ``positions`` holds ``usdc`` USDC (unless
    ``accounts`` says otherwise for it) and the given option positions."""
    assets = {
        "USDC": {
            "price": 1,
            "decimals": 6,
            "collateral_factor": 1,
            "liquidation_threshold": 1,
            "liquidation_bonus": 0,
        },
        "ETH": {
            "price": spot,
            "decimals": 8,
            "collateral_factor": "0.8",
            "liquidation_threshold": "0.85",
            "liquidation_bonus": "0.05",
        },
    }
    table: dict[str, dict[str, Any]] = {}
    for acc, held in positions.items():
        entry: dict[str, Any] = {"supply": {"USDC": usdc}}
        entry.update((accounts or {}).get(acc, {}))
        if held:
            entry["options"] = dict(held)
        table[acc] = entry
    for acc, entry in (accounts or {}).items():
        table.setdefault(acc, dict(entry))
    doc = market_doc(assets, table, {"time": TIME, **(market or {})})
    doc["options"] = {name: _option(spec, volatility) for name, spec in options.items()}
    if option_margin:
        doc["option_margin"] = dict(option_margin)
    if portfolio_margin:
        doc["portfolio_margin"] = dict(portfolio_margin)
    if perps:
        doc["perps"] = {name: dict(p) for name, p in perps.items()}
    return doc


def option_market(
    options: Mapping[str, OptionSpec],
    positions: Mapping[str, Mapping[str, object]],
    **kwargs: Any,
) -> Market:
    """A validated :class:`Market` (see :func:`option_doc`)."""
    return parse_market(option_doc(options, positions, **kwargs), source="option_market")


def d(x: object) -> Decimal:
    return Decimal(str(x))
