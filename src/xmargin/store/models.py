"""ORM rows of the durable store (SQLAlchemy 2 declarative models).

These are storage rows, separate from the domain models (:mod:`xmargin.model`) and the API
schemas (:mod:`xmargin.service.schemas`); :mod:`xmargin.store.repositories` converts.
Every money figure is an :class:`~xmargin.store.types.ExactDecimal` (NUMERIC on
PostgreSQL, text on SQLite). The migration in ``alembic/versions`` creates the same tables.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from xmargin.store.types import DecimalJSON, ExactDecimal

__all__ = [
    "AccountRow",
    "ApiKeyRow",
    "AssetRow",
    "BalanceRow",
    "Base",
    "IdempotencyRow",
    "JournalRow",
    "MarketRow",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: 64-bit on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit.
SeqInt = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class MarketRow(Base):
    """The one market this database holds: its ``[market]`` table and categories."""

    __tablename__ = "market"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    params: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)
    categories: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)
    source: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssetRow(Base):
    """One asset: risk parameters, the last accepted price, and the market-wide state."""

    __tablename__ = "assets"

    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    ord: Mapped[int] = mapped_column(Integer, unique=True)
    #: every AssetParams field except symbol and price, decimals as strings
    params: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    price_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    total_supply: Mapped[Decimal] = mapped_column(ExactDecimal)
    total_borrow: Mapped[Decimal] = mapped_column(ExactDecimal)
    deficit: Mapped[Decimal] = mapped_column(ExactDecimal)
    isolation_debt: Mapped[Decimal] = mapped_column(ExactDecimal)


class AccountRow(Base):
    """One account; ``version`` rises with every accepted change (optimistic check)."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ord: Mapped[int] = mapped_column(Integer, unique=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer)


class BalanceRow(Base):
    """Units of one asset that one account supplies and borrows."""

    __tablename__ = "balances"

    account_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("accounts.id"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(64), ForeignKey("assets.symbol"), primary_key=True)
    supply: Mapped[Decimal] = mapped_column(ExactDecimal)
    borrow: Mapped[Decimal] = mapped_column(ExactDecimal)


class JournalRow(Base):
    """One accepted command, numbered; appended in the transaction of its effect."""

    __tablename__ = "journal"

    seq: Mapped[int] = mapped_column(SeqInt, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
    account: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    actor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    command: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)
    result: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of its secret is stored; it may expire or be revoked."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    account: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the key stops working from this moment (migration 0002); ``None``: never
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: set by ``xmargin keys revoke`` (migration 0002)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdempotencyRow(Base):
    """The first result of a request sent with an ``Idempotency-Key``, per API key."""

    __tablename__ = "idempotency"

    actor: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)
    seq: Mapped[int | None] = mapped_column(SeqInt, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
