"""Reading the journal: pages in order, every entry, and the count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import SQLAlchemyError

from xmargin.store.models import JournalRow
from xmargin.store.records import JournalEntry, store_error

__all__ = ["iter_journal", "journal_after", "journal_count"]

_err = store_error


def _entry(r: Any) -> JournalEntry:
    at = r.at if r.at.tzinfo is not None else r.at.replace(tzinfo=UTC)
    return JournalEntry(
        r.seq, at, r.kind, r.account, r.actor, r.idempotency_key, r.command, r.result
    )


def journal_after(conn: Connection, after: int, limit: int) -> list[JournalEntry]:
    """Up to ``limit`` entries with ``seq > after``, in order."""
    try:
        rows = conn.execute(
            select(JournalRow.__table__)
            .where(JournalRow.seq > after)
            .order_by(JournalRow.seq)
            .limit(limit)
        ).all()
        return [_entry(r) for r in rows]
    except SQLAlchemyError as exc:
        raise _err("cannot read the journal", exc) from exc


def iter_journal(conn: Connection, batch: int = 2000) -> Iterator[JournalEntry]:
    """Every journal entry in order, read in pages."""
    after = 0
    while True:
        page = journal_after(conn, after, batch)
        if not page:
            return
        yield from page
        after = page[-1].seq


def journal_count(conn: Connection) -> int:
    try:
        return int(conn.execute(select(func.count()).select_from(JournalRow)).scalar_one())
    except SQLAlchemyError as exc:
        raise _err("cannot read the journal", exc) from exc
