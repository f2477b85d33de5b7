"""Journalled commands on perpetual futures (contract 5.3-5.4): trade, settle, a new
funding index, the liquidation of a position.

Each command is what the journal holds (``to_json``, ``from_json``), says which accounts
it reads or changes (``touches``: the writer copies them into its batch first) and applies
itself through the ledger (``apply``), returning its JSON result: the CLI's document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from xmargin.ledger.perps import (
    execute_liquidate_perp,
    execute_settle,
    execute_trade,
    set_funding_index,
)
from xmargin.mathlib import fmt
from xmargin.model.market import Market
from xmargin.model.numbers import parse_number
from xmargin.store.results import (
    as_json,
    funding_doc,
    perp_liquidation_doc,
    settle_doc,
    trade_doc,
)

if TYPE_CHECKING:
    from xmargin.store.state import BatchState

__all__ = ["PerpLiquidation", "SetFunding", "Settle", "Trade", "amount_json", "amount_of"]


def amount_json(amount: Decimal | Literal["max"]) -> str:
    """An amount as journalled: its decimal string, or ``"max"``."""
    if amount == "max":
        return "max"
    text = fmt(amount)
    assert text is not None
    return text


def amount_of(raw: Any) -> Decimal | Literal["max"]:
    """A journalled amount back (the inverse of :func:`amount_json`)."""
    return "max" if raw == "max" else parse_number(raw)


@dataclass(frozen=True)
class Trade:
    """``account`` trades ``size`` base units of ``perp`` (> 0 buys) at the oracle price."""

    account: str
    perp: str
    size: Decimal
    kind: Literal["trade"] = "trade"

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "perp": self.perp, "size": fmt(self.size)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Trade:
        return cls(str(doc["account"]), str(doc["perp"]), parse_number(doc["size"]))

    def touches(self, batch: BatchState) -> list[str]:
        return [self.account]

    def apply(self, market: Market) -> dict[str, Any]:
        return as_json(trade_doc(execute_trade(market, self.account, self.perp, self.size)))


@dataclass(frozen=True)
class Settle:
    """``account`` realises its pnl in ``perp`` into the settlement asset (5.3)."""

    account: str
    perp: str
    kind: Literal["settle"] = "settle"

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "perp": self.perp}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Settle:
        return cls(str(doc["account"]), str(doc["perp"]))

    def touches(self, batch: BatchState) -> list[str]:
        return [self.account]

    def apply(self, market: Market) -> dict[str, Any]:
        return as_json(settle_doc(execute_settle(market, self.account, self.perp)))


@dataclass(frozen=True)
class SetFunding:
    """The oracle sets ``perp``'s funding index F to ``index`` (quote per base unit)."""

    perp: str
    index: Decimal
    kind: Literal["funding"] = "funding"
    account: None = None

    def to_json(self) -> dict[str, Any]:
        return {"perp": self.perp, "funding_index": fmt(self.index)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> SetFunding:
        return cls(str(doc["perp"]), parse_number(doc["funding_index"]))

    def touches(self, batch: BatchState) -> list[str]:
        return []

    def apply(self, market: Market) -> dict[str, Any]:
        event = set_funding_index(market, self.perp, self.index)
        return as_json(funding_doc(self.perp, event.amount, event.details["previous"]))


@dataclass(frozen=True)
class PerpLiquidation:
    """Liquidate ``size`` base units (or the most allowed) of ``account``'s ``perp``."""

    account: str
    perp: str
    size: Decimal | Literal["max"]
    kind: Literal["liquidate_perp"] = "liquidate_perp"

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "perp": self.perp, "size": amount_json(self.size)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PerpLiquidation:
        return cls(str(doc["account"]), str(doc["perp"]), amount_of(doc["size"]))

    def touches(self, batch: BatchState) -> list[str]:
        return [self.account]

    def apply(self, market: Market) -> dict[str, Any]:
        quote = execute_liquidate_perp(market, self.account, self.perp, self.size)
        return as_json(perp_liquidation_doc(quote))
