"""Recent prices of every asset, read back from the journal (the dashboard's price chart).

Every accepted price batch is a journal entry of kind ``prices`` (its command holds the
prices, its ``at`` the commit time), so the history needs no table of its own and survives
restarts. The newest ``limit`` batches are read, newest first on the index of ``seq``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import StoreError
from xmargin.model.numbers import NumberError, parse_number
from xmargin.store.models import JournalRow

__all__ = ["PricePoint", "price_history"]

#: (seq, when committed, price in quote per unit)
PricePoint = tuple[int, datetime, Decimal]


def price_history(conn: Connection, limit: int) -> dict[str, list[PricePoint]]:
    """Per asset, its prices from the newest ``limit`` price batches, oldest first."""
    try:
        rows = conn.execute(
            select(JournalRow.seq, JournalRow.at, JournalRow.command)
            .where(JournalRow.kind == "prices")
            .order_by(JournalRow.seq.desc())
            .limit(limit)
        ).all()
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        raise StoreError(f"cannot read the price history: {str(orig).strip()[:200]}") from exc
    out: dict[str, list[PricePoint]] = {}
    for seq, at, command in reversed(rows):
        when = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        for asset, text in (command.get("prices") or {}).items():
            try:
                price = parse_number(text)
            except NumberError:  # pragma: no cover - the journal holds accepted prices only
                continue
            out.setdefault(str(asset), []).append((int(seq), when, price))
    return out
