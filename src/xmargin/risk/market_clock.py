"""The market's clock (contract 8): the time an action happens at.

``market.time`` is the market's valuation time (contract 6); an action given ``at`` runs at
that instant, which may not be before ``market.time`` (the clock never runs backwards), and
the ledger then moves ``market.time`` to it. ``at`` is an ISO 8601 instant or an offset
from the market's time: ``+300`` (seconds), ``+90s``, ``+5m``, ``+2h30m``, ``+1d``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from xmargin.liquidation_errors import InvalidTime
from xmargin.mathlib import ZERO, quantize_down
from xmargin.model.liquidation_params import format_time, parse_time
from xmargin.model.market import Market

__all__ = ["action_time", "parse_at"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def _offset_seconds(text: str) -> Decimal | None:
    """``300``, ``90s``, ``5m``, ``2h30m``, ``1d`` as seconds; ``None`` if malformed."""
    try:
        return Decimal(text) if text and text[-1].isdigit() else _parts(text)
    except InvalidOperation:
        return None


def _parts(text: str) -> Decimal | None:
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum((Decimal(n) * _UNITS[u] for n, u in parts), Decimal(0))


def parse_at(value: datetime | str, base: datetime | None, field: str = "--at") -> datetime:
    """``value`` as an instant: ISO 8601, or ``+N[s|m|h|d]`` after ``base``.

    >>> from xmargin.model.liquidation_params import parse_time
    >>> parse_at("+5m", parse_time("2024-06-01T08:00:00Z")).isoformat()
    '2024-06-01T08:05:00+00:00'
    """
    if isinstance(value, datetime):
        return parse_time(value)
    text = value.strip()
    if not text.startswith("+"):
        try:
            return parse_time(text)
        except ValueError as exc:
            raise InvalidTime(field, str(exc)) from None
    if base is None:
        raise InvalidTime(field, f"{text} is relative, but the market has no time (market.time)")
    seconds = _offset_seconds(text[1:])
    if seconds is None:
        raise InvalidTime(field, f"must be +SECONDS or like +90s, +5m, +2h30m, +1d, was {text!r}")
    if not seconds.is_finite() or seconds < ZERO or seconds > Decimal(10**10):
        raise InvalidTime(field, f"must be a finite offset of at most 1e10 seconds, was {text!r}")
    if quantize_down(seconds, 6) != seconds:
        raise InvalidTime(field, f"is finer than a microsecond, was {text!r}")
    try:
        return base + timedelta(microseconds=int(seconds.scaleb(6)))
    except OverflowError:
        raise InvalidTime(field, f"{text} after the market's time is past year 9999") from None


def action_time(market: Market, at: datetime | str | None, field: str = "--at") -> datetime:
    """When an action happens: ``at``, else ``market.time``; never before ``market.time``.

    Raises :class:`~xmargin.liquidation_errors.InvalidTime` (bad input) when neither is
    given or ``at`` is before the market's time.
    """
    clock = market.params.time
    if at is None:
        if clock is None:
            raise InvalidTime(field, "the market has no time: set market.time or give --at")
        return clock
    now = parse_at(at, clock, field)
    if clock is not None and now < clock:
        raise InvalidTime(
            field, f"{format_time(now)} is before the market's time {format_time(clock)}"
        )
    return now
