"""Declarative market builders shared by the rule tests and the Hypothesis strategies.

``make_market(assets=..., accounts=..., market=...)`` writes a contract market document
(section 1) and validates it through :func:`xmargin.io.parse_market`, so every market a
test builds has passed the same checks as a market file.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.io import load_market, parse_market
from xmargin.model import Market

__all__ = [
    "VECTORS",
    "D",
    "load_vector",
    "make_market",
    "market_doc",
]

#: tests/vectors: small hand-checked market files shared by library and CLI tests.
VECTORS = Path(__file__).parent / "vectors"


def D(x: str | int) -> Decimal:
    """An exact decimal from a string literal (never from a float)."""
    return Decimal(x)


def market_doc(
    assets: Mapping[str, Mapping[str, Any]],
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
    market: Mapping[str, Any] | None = None,
    categories: Mapping[str, Mapping[str, Any]] | None = None,
    state: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The contract document for these tables; ``market`` defaults to ``quote = "USD"``."""
    doc: dict[str, Any] = {
        "market": {"quote": "USD", **(market or {})},
        "assets": {name: dict(table) for name, table in assets.items()},
    }
    if categories:
        doc["categories"] = {name: dict(table) for name, table in categories.items()}
    doc["accounts"] = {name: dict(table) for name, table in (accounts or {}).items()}
    if state:
        doc["state"] = dict(state)
    return doc


def make_market(
    assets: Mapping[str, Mapping[str, Any]],
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
    market: Mapping[str, Any] | None = None,
    categories: Mapping[str, Mapping[str, Any]] | None = None,
    state: Mapping[str, Any] | None = None,
) -> Market:
    """A validated :class:`Market` built from contract tables (numbers as strings or ints).

    >>> m = make_market(
    ...     assets={"USDC": {"price": 1, "collateral_factor": "0.8",
    ...                      "liquidation_threshold": "0.85", "liquidation_bonus": "0.05"}},
    ...     accounts={"alice": {"supply": {"USDC": "100"}}},
    ... )
    >>> m.accounts["alice"].supply
    {'USDC': Decimal('100')}
    """
    doc = market_doc(assets, accounts, market, categories, state)
    return parse_market(doc, source="make_market")


def load_vector(name: str) -> Market:
    """Load ``tests/vectors/<name>`` (a hand-checked market file)."""
    return load_market(VECTORS / name)
