"""Plain records of the store: what repositories hand out and take in (no ORM rows).

Also the store's two small helpers every repository uses: :func:`utcnow` and the
translation of SQLAlchemy errors to :class:`~xmargin.errors.StoreError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import StoreError
from xmargin.model.market import Market

__all__ = [
    "ROLES",
    "ApiKey",
    "BatchWrite",
    "IdempotentResult",
    "JournalEntry",
    "Role",
    "StoredState",
    "store_error",
    "utcnow",
]

Role = Literal["admin", "oracle", "liquidator", "account"]
ROLES: tuple[Role, ...] = ("admin", "oracle", "liquidator", "account")


def utcnow() -> datetime:
    return datetime.now(UTC)


def store_error(what: str, exc: SQLAlchemyError) -> StoreError:
    """A SQLAlchemy error as a one-line :class:`StoreError` saying what failed."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()
    return StoreError(f"{what}: {first[0] if first else type(exc).__name__}")


@dataclass(frozen=True)
class JournalEntry:
    """One journal row as the service and replay see it."""

    seq: int
    at: datetime
    kind: str
    account: str | None
    actor: str | None
    idempotency_key: str | None
    command: dict[str, Any]
    result: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "account": self.account,
            "actor": self.actor,
            "idempotency_key": self.idempotency_key,
            "command": self.command,
            "result": self.result,
        }


@dataclass
class StoredState:
    """The market as stored, with what the writer needs beside it."""

    market: Market
    versions: dict[str, int]
    account_ord: int
    price_at: dict[str, datetime | None]
    last_seq: int


@dataclass(frozen=True)
class IdempotentResult:
    fingerprint: str
    status: int
    body: dict[str, Any]
    seq: int | None


@dataclass
class BatchWrite:
    """Everything one write transaction changes: journal rows beside their effects."""

    journal: list[JournalEntry] = field(default_factory=list)
    #: (id, ord, category) of accounts opened by this batch
    new_accounts: list[tuple[str, int, str | None]] = field(default_factory=list)
    #: account -> (version the writer expects in the database, version after)
    versions: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: (account, asset, supply, borrow)
    balances: list[tuple[str, str, Decimal, Decimal]] = field(default_factory=list)
    #: full asset rows to update
    assets: list[dict[str, Any]] = field(default_factory=list)
    #: full perp rows to update (funding index, open interest)
    perps: list[dict[str, Any]] = field(default_factory=list)
    #: perp position rows to write (upserted), and (account, perp) of positions closed
    positions: list[dict[str, Any]] = field(default_factory=list)
    positions_closed: list[tuple[str, str]] = field(default_factory=list)
    #: option position rows to write (upserted), and (account, option) of positions closed
    option_positions: list[dict[str, Any]] = field(default_factory=list)
    option_positions_closed: list[tuple[str, str]] = field(default_factory=list)
    #: auction rows to write (upserted), and ids of auctions that ended
    auctions: list[dict[str, Any]] = field(default_factory=list)
    auctions_ended: list[int] = field(default_factory=list)
    #: the market row's state columns (auction count, clock), when they changed
    market_state: dict[str, Any] | None = None
    #: (actor, key, fingerprint, status, body, seq)
    idempotency: list[tuple[str, str, str, int, dict[str, Any], int | None]] = field(
        default_factory=list
    )

    def __bool__(self) -> bool:
        return bool(self.journal or self.idempotency)


@dataclass(frozen=True)
class ApiKey:
    """A key's public part: who it is, what it may do, and until when."""

    id: str
    role: Role
    account: str | None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def status(self, now: datetime | None = None) -> Literal["active", "expired", "revoked"]:
        """``revoked`` once revoked; ``expired`` from ``expires_at`` on; else ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and (now or utcnow()) >= self.expires_at:
            return "expired"
        return "active"
