"""Journalled commands of the liquidation designs and the loss waterfall (contract 8):
auction start, take and reset; absorb and buy collateral; socialise a loss; deleverage.

As :mod:`xmargin.store.commands_perps`: each command is what the journal holds, names the
accounts it reads or changes (``touches``) and applies itself through the ledger.

Auction actions carry their time ``at``: the service sets it from its clock when the
command is accepted (never before ``market.time``), and replay applies the command at
that same instant, so the auction's price on replay is the price the taker paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from xmargin.ledger.auctions import (
    execute_auction_reset,
    execute_auction_start,
    execute_auction_take,
)
from xmargin.ledger.loss_waterfall import (
    execute_deleverage,
    execute_socialize_perp_loss,
    execute_socialize_spot_loss,
)
from xmargin.ledger.storefront import execute_absorb, execute_buy_collateral
from xmargin.mathlib import fmt
from xmargin.model.liquidation_params import format_time, parse_time
from xmargin.model.market import Market
from xmargin.model.numbers import parse_number
from xmargin.store.commands_perps import amount_json, amount_of
from xmargin.store.results import (
    absorb_doc,
    as_json,
    auction_reset_doc,
    auction_start_doc,
    auction_take_doc,
    buy_collateral_doc,
    deleverage_doc,
    perp_loss_doc,
    spot_loss_doc,
)

if TYPE_CHECKING:
    from xmargin.store.state import BatchState

__all__ = [
    "Absorb",
    "AuctionReset",
    "AuctionStart",
    "AuctionTake",
    "BuyCollateral",
    "Deleverage",
    "Socialize",
    "TimedCommand",
]


def _at_json(at: datetime | None) -> str | None:
    return None if at is None else format_time(at)


def _at_of(raw: Any) -> datetime | None:
    return None if raw is None else parse_time(raw)


@dataclass(frozen=True)
class AuctionStart:
    """Start an auction of ``account``'s ``collateral_asset`` for its ``debt_asset`` debt."""

    account: str
    debt_asset: str
    collateral_asset: str
    amount: Decimal | Literal["max"]
    at: datetime | None = None
    kind: Literal["auction_start"] = "auction_start"

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "debt_asset": self.debt_asset,
            "collateral_asset": self.collateral_asset,
            "amount": amount_json(self.amount),
            "at": _at_json(self.at),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AuctionStart:
        return cls(
            str(doc["account"]),
            str(doc["debt_asset"]),
            str(doc["collateral_asset"]),
            amount_of(doc["amount"]),
            _at_of(doc["at"]),
        )

    def touches(self, batch: BatchState) -> list[str]:
        return [self.account]

    def apply(self, market: Market) -> dict[str, Any]:
        quote = execute_auction_start(
            market, self.account, self.debt_asset, self.collateral_asset, self.amount, self.at
        )
        return as_json(auction_start_doc(quote))


@dataclass(frozen=True)
class AuctionTake:
    """Buy up to ``amount`` units of auction ``auction_id``'s collateral at its price."""

    auction_id: int
    amount: Decimal | Literal["max"]
    max_price: Decimal | None = None
    at: datetime | None = None
    kind: Literal["auction_take"] = "auction_take"
    account: None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "auction_id": self.auction_id,
            "amount": amount_json(self.amount),
            "max_price": None if self.max_price is None else fmt(self.max_price),
            "at": _at_json(self.at),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AuctionTake:
        raw = doc["max_price"]
        return cls(
            int(doc["auction_id"]),
            amount_of(doc["amount"]),
            None if raw is None else parse_number(raw),
            _at_of(doc["at"]),
        )

    def touches(self, batch: BatchState) -> list[str]:
        a = batch.market.auctions.get(self.auction_id)
        return [] if a is None else [a.account]

    def apply(self, market: Market) -> dict[str, Any]:
        quote = execute_auction_take(market, self.auction_id, self.amount, self.max_price, self.at)
        return as_json(auction_take_doc(quote))


@dataclass(frozen=True)
class AuctionReset:
    """Restart auction ``auction_id``'s price from the oracle (it must need a reset)."""

    auction_id: int
    at: datetime | None = None
    kind: Literal["auction_reset"] = "auction_reset"
    account: None = None

    def to_json(self) -> dict[str, Any]:
        return {"auction_id": self.auction_id, "at": _at_json(self.at)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AuctionReset:
        return cls(int(doc["auction_id"]), _at_of(doc["at"]))

    def touches(self, batch: BatchState) -> list[str]:
        return []

    def apply(self, market: Market) -> dict[str, Any]:
        return as_json(auction_reset_doc(execute_auction_reset(market, self.auction_id, self.at)))


TimedCommand = AuctionStart | AuctionTake | AuctionReset


@dataclass(frozen=True)
class Absorb:
    """Absorb ``account`` into the protocol (Compound v3's storefront)."""

    account: str
    kind: Literal["absorb"] = "absorb"

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Absorb:
        return cls(str(doc["account"]))

    def touches(self, batch: BatchState) -> list[str]:
        return [self.account]

    def apply(self, market: Market) -> dict[str, Any]:
        return as_json(absorb_doc(execute_absorb(market, self.account), market))


@dataclass(frozen=True)
class BuyCollateral:
    """Buy absorbed ``asset`` for ``amount`` units of the base asset (or all of it)."""

    asset: str
    amount: Decimal | Literal["max"]
    kind: Literal["buy_collateral"] = "buy_collateral"
    account: None = None

    def to_json(self) -> dict[str, Any]:
        return {"asset": self.asset, "amount": amount_json(self.amount)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> BuyCollateral:
        return cls(str(doc["asset"]), amount_of(doc["amount"]))

    def touches(self, batch: BatchState) -> list[str]:
        return []

    def apply(self, market: Market) -> dict[str, Any]:
        return as_json(
            buy_collateral_doc(execute_buy_collateral(market, self.asset, self.amount), market)
        )


@dataclass(frozen=True)
class Socialize:
    """Spread ``amount`` (default: all) of a deficit over ``perp``'s open interest or over
    ``asset``'s depositors (exactly one of them)."""

    perp: str | None
    asset: str | None
    amount: Decimal | None = None
    kind: Literal["socialize"] = "socialize"
    account: None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "perp": self.perp,
            "asset": self.asset,
            "amount": None if self.amount is None else fmt(self.amount),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Socialize:
        raw = doc["amount"]
        perp, asset = doc["perp"], doc["asset"]
        if (perp is None) == (asset is None):
            raise ValueError("socialize needs exactly one of perp and asset")
        return cls(
            None if perp is None else str(perp),
            None if asset is None else str(asset),
            None if raw is None else parse_number(raw),
        )

    def touches(self, batch: BatchState) -> list[str]:
        if self.perp is not None:
            perp = self.perp
            return batch.accounts_where(lambda acc: perp in acc.perps)
        asset = self.asset
        return batch.accounts_where(lambda acc: asset in acc.supply)

    def apply(self, market: Market) -> dict[str, Any]:
        if self.perp is not None:
            quote = execute_socialize_perp_loss(market, self.perp, self.amount)
            return as_json(perp_loss_doc(quote, market))
        assert self.asset is not None
        return as_json(
            spot_loss_doc(execute_socialize_spot_loss(market, self.asset, self.amount), market)
        )


@dataclass(frozen=True)
class Deleverage:
    """Close ``account``'s bankrupt ``perp`` position against the most profitable opposite
    positions at its bankruptcy price (dYdX's ADL)."""

    account: str
    perp: str
    kind: Literal["deleverage"] = "deleverage"

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "perp": self.perp}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Deleverage:
        return cls(str(doc["account"]), str(doc["perp"]))

    def touches(self, batch: BatchState) -> list[str]:
        perp = self.perp
        return [self.account, *batch.accounts_where(lambda acc: perp in acc.perps)]

    def apply(self, market: Market) -> dict[str, Any]:
        return as_json(deleverage_doc(execute_deleverage(market, self.account, self.perp)))
