"""Options (contract 6): ``options``, ``option_positions``; ``margin`` on ``accounts``;
``option_margin`` and ``portfolio_margin`` on ``market``.

A database made before this revision kept no option state: its server loaded the market
without options, positions or margin methods, and no journalled command could trade or
liquidate an option. So the genesis (journal entry 1, the market document the database was
created from) is exact for all of it, and is what fills the new tables here.

Revision ID: 0004
Revises: 0003
Create Date: 2027-02-01
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from xmargin.store.types import DecimalJSON, ExactDecimal

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _create_tables() -> None:
    op.create_table(
        "options",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("params", DecimalJSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_options")),
        sa.UniqueConstraint("ord", name=op.f("uq_options_ord")),
    )
    op.create_table(
        "option_positions",
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("option", sa.String(length=64), nullable=False),
        sa.Column("size", ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_option_positions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["option"], ["options.name"], name=op.f("fk_option_positions_option_options")
        ),
        sa.PrimaryKeyConstraint("account_id", "option", name=op.f("pk_option_positions")),
    )
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("margin", sa.String(length=16), nullable=True))
    with op.batch_alter_table("market") as batch:
        batch.add_column(sa.Column("option_margin", DecimalJSON(), nullable=True))
        batch.add_column(sa.Column("portfolio_margin", DecimalJSON(), nullable=True))


_market = sa.table(
    "market",
    sa.column("option_margin", DecimalJSON()),
    sa.column("portfolio_margin", DecimalJSON()),
)
_accounts = sa.table("accounts", sa.column("id", sa.String()), sa.column("margin", sa.String()))
_options = sa.table(
    "options",
    sa.column("name", sa.String()),
    sa.column("ord", sa.Integer()),
    sa.column("params", DecimalJSON()),
)
_positions = sa.table(
    "option_positions",
    sa.column("account_id", sa.String()),
    sa.column("option", sa.String()),
    sa.column("size", ExactDecimal()),
)


def _json(value: Any) -> Any:
    return json.loads(value, parse_float=Decimal) if isinstance(value, str) else value


def _backfill(conn: sa.Connection) -> None:
    raw = conn.execute(
        sa.text("SELECT command FROM journal WHERE seq = 1 AND kind = 'genesis'")
    ).scalar()
    if raw is None:
        return
    doc: dict[str, Any] = _json(raw)
    if doc.get("option_margin") or doc.get("portfolio_margin"):
        conn.execute(
            _market.update().values(
                option_margin=doc.get("option_margin"),
                portfolio_margin=doc.get("portfolio_margin"),
            )
        )
    options: dict[str, Any] = doc.get("options") or {}
    if options:
        conn.execute(
            _options.insert(),
            [{"name": n, "ord": i, "params": p} for i, (n, p) in enumerate(options.items())],
        )
    positions = []
    for acc_id, entry in (doc.get("accounts") or {}).items():
        if entry.get("margin"):
            conn.execute(
                _accounts.update().where(_accounts.c.id == acc_id).values(margin=entry["margin"])
            )
        for name, q in (entry.get("options") or {}).items():
            size = Decimal(str(q))
            if size:
                positions.append({"account_id": acc_id, "option": name, "size": size})
    if positions:
        conn.execute(_positions.insert(), positions)


def upgrade() -> None:
    _create_tables()
    _backfill(op.get_bind())


def downgrade() -> None:
    # Lossy, as any downgrade past new state: option positions and margin methods go.
    # Columns are dropped in place (ALTER TABLE ... DROP COLUMN, SQLite >= 3.35): a batch
    # copy of ``accounts`` would break the foreign keys that point at it.
    op.drop_table("option_positions")
    op.drop_table("options")
    op.drop_column("market", "portfolio_margin")
    op.drop_column("market", "option_margin")
    op.drop_column("accounts", "margin")
