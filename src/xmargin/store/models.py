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
    "AuctionRow",
    "BalanceRow",
    "Base",
    "IdempotencyRow",
    "JournalRow",
    "MarketRow",
    "OptionPositionRow",
    "OptionRow",
    "PerpPositionRow",
    "PerpRow",
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
    """The one market this database holds: its ``[market]`` table and categories, and the
    market-wide state of the liquidation designs (contract 8): how many auctions were ever
    started and the market's clock (``market.time``, moved by auction actions)."""

    __tablename__ = "market"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the ``[market]`` table without ``time`` and ``insurance_fund`` (state, kept below
    #: and on the asset rows)
    params: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)
    categories: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)
    source: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: ``state.auction_count`` (migration 0003)
    auction_count: Mapped[int] = mapped_column(Integer, server_default="0")
    #: ``market.time``; ``None`` when the market has no clock (migration 0003)
    time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: ``[option_margin]`` and ``[portfolio_margin]`` where not the defaults (migration 0004)
    option_margin: Mapped[dict[str, Any] | None] = mapped_column(DecimalJSON, nullable=True)
    portfolio_margin: Mapped[dict[str, Any] | None] = mapped_column(DecimalJSON, nullable=True)


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
    # Migration 0003: the insurance fund (contract 5.5) and the designs' state per asset
    # (contract 8): the storefront's reserves (signed) and absorbed collateral, units;
    # the supply index (``None``: absent, read as 1).
    insurance_fund: Mapped[Decimal] = mapped_column(ExactDecimal, server_default="0")
    reserves: Mapped[Decimal] = mapped_column(ExactDecimal, server_default="0")
    protocol_collateral: Mapped[Decimal] = mapped_column(ExactDecimal, server_default="0")
    supply_index: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)


class AccountRow(Base):
    """One account; ``version`` rises with every accepted change (optimistic check)."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ord: Mapped[int] = mapped_column(Integer, unique=True)
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    #: ``margin = "portfolio"``; ``None`` is standard (migration 0004)
    margin: Mapped[str | None] = mapped_column(String(16), nullable=True)


class BalanceRow(Base):
    """Units of one asset that one account supplies and borrows."""

    __tablename__ = "balances"

    account_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("accounts.id"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(64), ForeignKey("assets.symbol"), primary_key=True)
    supply: Mapped[Decimal] = mapped_column(ExactDecimal)
    borrow: Mapped[Decimal] = mapped_column(ExactDecimal)


class PerpRow(Base):
    """One perpetual future (contract 5): its parameters, the funding index F the oracle
    moves, and its open interest per side (base units, kept as the asset totals are)."""

    __tablename__ = "perps"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ord: Mapped[int] = mapped_column(Integer, unique=True)
    #: every PerpParams field except name and funding_index, decimals as strings
    params: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)
    funding_index: Mapped[Decimal] = mapped_column(ExactDecimal)
    open_interest_long: Mapped[Decimal] = mapped_column(ExactDecimal)
    open_interest_short: Mapped[Decimal] = mapped_column(ExactDecimal)


class PerpPositionRow(Base):
    """One account's position in one perp: signed size, entry price, funding snapshot."""

    __tablename__ = "perp_positions"

    account_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("accounts.id"), primary_key=True
    )
    perp: Mapped[str] = mapped_column(String(64), ForeignKey("perps.name"), primary_key=True)
    size: Mapped[Decimal] = mapped_column(ExactDecimal)
    entry_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    funding_index: Mapped[Decimal] = mapped_column(ExactDecimal)


class OptionRow(Base):
    """One option instrument (contract 6): every OptionParams field but its name."""

    __tablename__ = "options"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ord: Mapped[int] = mapped_column(Integer, unique=True)
    params: Mapped[dict[str, Any]] = mapped_column(DecimalJSON)


class OptionPositionRow(Base):
    """One account's position in one option: signed contracts (> 0 long)."""

    __tablename__ = "option_positions"

    account_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("accounts.id"), primary_key=True
    )
    option: Mapped[str] = mapped_column(String(64), ForeignKey("options.name"), primary_key=True)
    size: Mapped[Decimal] = mapped_column(ExactDecimal)


class AuctionRow(Base):
    """A running Dutch auction (contract 8.2), by id; removed when it ends."""

    __tablename__ = "auctions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(200), ForeignKey("accounts.id"))
    debt_asset: Mapped[str] = mapped_column(String(64), ForeignKey("assets.symbol"))
    collateral_asset: Mapped[str] = mapped_column(String(64), ForeignKey("assets.symbol"))
    debt: Mapped[Decimal] = mapped_column(ExactDecimal)
    tab: Mapped[Decimal] = mapped_column(ExactDecimal)
    lot: Mapped[Decimal] = mapped_column(ExactDecimal)
    top: Mapped[Decimal] = mapped_column(ExactDecimal)
    tic: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
