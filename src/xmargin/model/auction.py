"""A running Dutch auction (contract 8.2): immutable state held by the market.

An auction holds what its start took from an account: ``debt`` units of the debt asset
still owed to the pool, the ``tab`` of that asset left to raise (the debt plus the
liquidation penalty), and the ``lot`` of collateral left for sale. Its price starts at
``top`` (units of the debt asset per unit of collateral) at ``tic`` and decays by the
market's curve. A take or a reset replaces the auction (``dataclasses.replace``).

``to_dict`` is the form a market file (``state.auctions``) and a journal entry hold:
decimals as strings, the time as ISO 8601.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from xmargin.mathlib import fmt
from xmargin.model.liquidation_params import format_time

__all__ = ["AUCTION_FIELDS", "Auction"]

#: The keys of an auction's table in ``state.auctions`` (its id is the table's name).
AUCTION_FIELDS = ("account", "debt_asset", "collateral_asset", "debt", "tab", "lot", "top", "tic")


@dataclass(frozen=True, slots=True)
class Auction:
    """One auction; amounts in token units, ``top`` in debt units per collateral unit."""

    id: int
    account: str
    debt_asset: str
    collateral_asset: str
    debt: Decimal
    tab: Decimal
    lot: Decimal
    top: Decimal
    tic: datetime

    def to_dict(self) -> dict[str, Any]:
        """The auction's table: every decimal a string, ``tic`` in ISO 8601 UTC."""
        return {
            "account": self.account,
            "debt_asset": self.debt_asset,
            "collateral_asset": self.collateral_asset,
            "debt": fmt(self.debt),
            "tab": fmt(self.tab),
            "lot": fmt(self.lot),
            "top": fmt(self.top),
            "tic": format_time(self.tic),
        }
