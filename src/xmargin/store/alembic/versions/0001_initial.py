"""The initial store: market, assets, accounts, balances, journal, api_keys, idempotency.

Revision ID: 0001
Revises:
Create Date: 2024-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from xmargin.store.types import DecimalJSON, ExactDecimal

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "market",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("params", DecimalJSON(), nullable=False),
        sa.Column("categories", DecimalJSON(), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market")),
    )
    op.create_table(
        "assets",
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("params", DecimalJSON(), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=False),
        sa.Column("price_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total_supply", ExactDecimal(), nullable=False),
        sa.Column("total_borrow", ExactDecimal(), nullable=False),
        sa.Column("deficit", ExactDecimal(), nullable=False),
        sa.Column("isolation_debt", ExactDecimal(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_assets")),
        sa.UniqueConstraint("ord", name=op.f("uq_assets_ord")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("ord", name=op.f("uq_accounts_ord")),
    )
    op.create_table(
        "balances",
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("asset", sa.String(length=64), nullable=False),
        sa.Column("supply", ExactDecimal(), nullable=False),
        sa.Column("borrow", ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_balances_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["asset"], ["assets.symbol"], name=op.f("fk_balances_asset_assets")
        ),
        sa.PrimaryKeyConstraint("account_id", "asset", name=op.f("pk_balances")),
    )
    op.create_table(
        "journal",
        sa.Column("seq", _SEQ, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("command", DecimalJSON(), nullable=False),
        sa.Column("result", DecimalJSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal")),
    )
    op.create_index(op.f("ix_journal_account"), "journal", ["account"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    op.create_table(
        "idempotency",
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", DecimalJSON(), nullable=False),
        sa.Column("seq", _SEQ, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key", name=op.f("pk_idempotency")),
    )


def downgrade() -> None:
    op.drop_table("idempotency")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_journal_account"), table_name="journal")
    op.drop_table("journal")
    op.drop_table("balances")
    op.drop_table("accounts")
    op.drop_table("assets")
    op.drop_table("market")
