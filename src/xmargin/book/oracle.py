"""Oracle guards: which price updates the risk book accepts (issue 3, contract extension).

A price is refused, with the error that names why, when it is

- not a number, not finite, zero or negative, or below the smallest price the book holds
  (:class:`~xmargin.errors.InvalidPrice`);
- older than the asset's ``max_price_age_seconds`` at the time the book judges it
  (:class:`~xmargin.errors.StalePrice`), or observed before the asset's last accepted
  price (:class:`~xmargin.errors.PriceOutOfOrder`);
- more than the asset's ``max_price_deviation`` (a fraction) away from its last accepted
  price in one step: ``|p_new / p_last - 1| > max_price_deviation``
  (:class:`~xmargin.errors.PriceDeviation`).

The time a price is judged at is the caller's ``now`` or, by default, the latest
timestamp the book has seen (a replay's clock).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from xmargin.errors import (
    InputError,
    InvalidPrice,
    PriceDeviation,
    PriceOutOfOrder,
    StalePrice,
    UnknownAsset,
)
from xmargin.fast.packing import MIN_FLOAT
from xmargin.mathlib import CTX, ONE
from xmargin.model.params import AssetParams
from xmargin.risk.validation import parse_price

__all__ = ["OracleState", "check_price", "parse_price", "to_seconds"]


@dataclass
class OracleState:
    """The replay clock and each asset's last accepted observation time."""

    clock: float | None = None
    last_time: dict[str, float] = field(default_factory=dict)

    def accept(self, prices: Mapping[str, Decimal], timestamp: float | None) -> None:
        if timestamp is None:
            return
        for asset in prices:
            self.last_time[asset] = timestamp
        self.clock = timestamp if self.clock is None else max(self.clock, timestamp)


def to_seconds(t: object) -> float:
    """Unix seconds from a number or a datetime (a naive datetime is taken as UTC)."""
    if isinstance(t, datetime):
        return (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).timestamp()
    if isinstance(t, bool) or not isinstance(t, int | float | Decimal):
        raise InputError(f"timestamp: must be unix seconds or a datetime, was {t!r}")
    out = float(t)
    if not math.isfinite(out):
        raise InputError(f"timestamp: must be finite, was {t!r}")
    return out


def _seconds(x: float) -> Decimal:
    return Decimal(repr(x))


def check_price(
    params: AssetParams | None,
    asset: str,
    raw: object,
    last_price: Decimal | None,
    state: OracleState,
    timestamp: float | None,
    now: float | None,
    guard: bool = True,
) -> Decimal:
    """The exact price ``raw`` of ``asset`` if the guards accept it; else the reason.

    Raises
    ------
    UnknownAsset, InvalidPrice, StalePrice, PriceOutOfOrder, PriceDeviation
    """
    if params is None:
        raise UnknownAsset(str(asset), "price update")
    p = parse_price(asset, raw)
    if p < MIN_FLOAT:
        raise InvalidPrice(asset, raw, f"must be >= {MIN_FLOAT}, the smallest the book holds")
    if not guard:
        return p
    last_time = state.last_time.get(asset)
    if timestamp is not None and last_time is not None and timestamp < last_time:
        raise PriceOutOfOrder(asset, _seconds(timestamp), _seconds(last_time))
    max_age = params.max_price_age_seconds
    if max_age is not None:
        if timestamp is None:
            raise InvalidPrice(
                asset, raw, "has no timestamp, and the asset sets max_price_age_seconds"
            )
        at = now if now is not None else max(state.clock or timestamp, timestamp)
        age = _seconds(at - timestamp)
        if age > max_age:
            raise StalePrice(asset, age, max_age)
    max_dev = params.max_price_deviation
    if max_dev is not None and last_price is not None:
        move = abs(CTX.subtract(CTX.divide(p, last_price), ONE))
        if move > max_dev:
            raise PriceDeviation(asset, last_price, p, max_dev)
    return p
