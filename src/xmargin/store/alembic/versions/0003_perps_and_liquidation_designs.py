"""Perpetual futures and the liquidation designs' state: ``perps``, ``perp_positions``,
``auctions``; the insurance fund and the designs' per-asset state on ``assets``; the
auction count and the market's clock on ``market``.

A database made before this revision kept none of that: its server loaded the market
without perps, positions, fund or design state. They are filled in here from the genesis
(journal entry 1, the market document the database was created from), which is exact for
everything no journalled command could change before: no endpoint traded, set funding or
ran a design. The insurance fund is the genesis fund less what the journalled section-3
liquidations report as ``insurance_fund_used`` (never below 0); a server of the previous
version reloaded the genesis fund at each start, so a database whose liquidations drew
on the fund across restarts may disagree with its journal: ``xmargin replay`` names it.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-15
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from xmargin.store.types import DecimalJSON, ExactDecimal

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ZERO = Decimal(0)


def _create_tables() -> None:
    op.create_table(
        "perps",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("params", DecimalJSON(), nullable=False),
        sa.Column("funding_index", ExactDecimal(), nullable=False),
        sa.Column("open_interest_long", ExactDecimal(), nullable=False),
        sa.Column("open_interest_short", ExactDecimal(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_perps")),
        sa.UniqueConstraint("ord", name=op.f("uq_perps_ord")),
    )
    op.create_table(
        "perp_positions",
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("perp", sa.String(length=64), nullable=False),
        sa.Column("size", ExactDecimal(), nullable=False),
        sa.Column("entry_price", ExactDecimal(), nullable=False),
        sa.Column("funding_index", ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_perp_positions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["perp"], ["perps.name"], name=op.f("fk_perp_positions_perp_perps")
        ),
        sa.PrimaryKeyConstraint("account_id", "perp", name=op.f("pk_perp_positions")),
    )
    op.create_table(
        "auctions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("debt_asset", sa.String(length=64), nullable=False),
        sa.Column("collateral_asset", sa.String(length=64), nullable=False),
        sa.Column("debt", ExactDecimal(), nullable=False),
        sa.Column("tab", ExactDecimal(), nullable=False),
        sa.Column("lot", ExactDecimal(), nullable=False),
        sa.Column("top", ExactDecimal(), nullable=False),
        sa.Column("tic", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account"], ["accounts.id"], name=op.f("fk_auctions_account_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["collateral_asset"],
            ["assets.symbol"],
            name=op.f("fk_auctions_collateral_asset_assets"),
        ),
        sa.ForeignKeyConstraint(
            ["debt_asset"], ["assets.symbol"], name=op.f("fk_auctions_debt_asset_assets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auctions")),
    )
    with op.batch_alter_table("assets") as batch:
        for name in ("insurance_fund", "reserves", "protocol_collateral"):
            batch.add_column(sa.Column(name, ExactDecimal(), server_default="0", nullable=False))
        batch.add_column(sa.Column("supply_index", ExactDecimal(), nullable=True))
    with op.batch_alter_table("market") as batch:
        batch.add_column(
            sa.Column("auction_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("time", sa.DateTime(timezone=True), nullable=True))


# -- filling the new columns from the genesis of an existing database ----------------------
_market = sa.table(
    "market",
    sa.column("id", sa.Integer()),
    sa.column("params", DecimalJSON()),
    sa.column("auction_count", sa.Integer()),
    sa.column("time", sa.DateTime(timezone=True)),
)
_assets = sa.table(
    "assets",
    sa.column("symbol", sa.String()),
    sa.column("insurance_fund", ExactDecimal()),
    sa.column("reserves", ExactDecimal()),
    sa.column("protocol_collateral", ExactDecimal()),
    sa.column("supply_index", ExactDecimal()),
)
_perps = sa.table(
    "perps",
    sa.column("name", sa.String()),
    sa.column("ord", sa.Integer()),
    sa.column("params", DecimalJSON()),
    sa.column("funding_index", ExactDecimal()),
    sa.column("open_interest_long", ExactDecimal()),
    sa.column("open_interest_short", ExactDecimal()),
)
_positions = sa.table(
    "perp_positions",
    sa.column("account_id", sa.String()),
    sa.column("perp", sa.String()),
    sa.column("size", ExactDecimal()),
    sa.column("entry_price", ExactDecimal()),
    sa.column("funding_index", ExactDecimal()),
)
_auctions = sa.table(
    "auctions",
    sa.column("id", sa.Integer()),
    sa.column("account", sa.String()),
    sa.column("debt_asset", sa.String()),
    sa.column("collateral_asset", sa.String()),
    sa.column("debt", ExactDecimal()),
    sa.column("tab", ExactDecimal()),
    sa.column("lot", ExactDecimal()),
    sa.column("top", ExactDecimal()),
    sa.column("tic", sa.DateTime(timezone=True)),
)


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _time(value: Any) -> datetime:
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt.astimezone(UTC)


def _json(value: Any) -> Any:
    return json.loads(value, parse_float=Decimal) if isinstance(value, str) else value


def _fund_used(conn: sa.Connection) -> dict[str, Decimal]:
    used: dict[str, Decimal] = {}
    rows = conn.execute(sa.text("SELECT result FROM journal WHERE kind = 'liquidate'"))
    for (raw,) in rows:
        for a, units in (_json(raw).get("insurance_fund_used") or {}).items():
            used[a] = used.get(a, _ZERO) + _dec(units)
    return used


def _backfill(conn: sa.Connection) -> None:
    raw = conn.execute(
        sa.text("SELECT command FROM journal WHERE seq = 1 AND kind = 'genesis'")
    ).scalar()
    if raw is None:
        return
    doc: dict[str, Any] = _json(raw)
    table = dict(doc.get("market", {}))
    fund = {a: _dec(v) for a, v in (table.pop("insurance_fund", None) or {}).items()}
    clock = table.pop("time", None)
    state: dict[str, Any] = doc.get("state", {})
    auctions: dict[str, Any] = state.get("auctions", {})
    count = int(state.get("auction_count", max((int(k) for k in auctions), default=0)))
    conn.execute(
        _market.update().values(
            params=table,
            auction_count=count,
            time=None if clock is None else _time(clock),
        )
    )
    used = _fund_used(conn)
    per_asset: dict[str, dict[str, Any]] = {}
    for a, units in fund.items():
        per_asset.setdefault(a, {})["insurance_fund"] = max(units - used.get(a, _ZERO), _ZERO)
    for key in ("reserves", "protocol_collateral", "supply_index"):
        for a, v in (state.get(key) or {}).items():
            per_asset.setdefault(a, {})[key] = _dec(v)
    for a, values in per_asset.items():
        conn.execute(_assets.update().where(_assets.c.symbol == a).values(**values))
    perps: dict[str, Any] = doc.get("perps", {})
    index = {name: _dec(t.get("funding_index", 0)) for name, t in perps.items()}
    oi = {name: [_ZERO, _ZERO] for name in perps}
    positions = []
    for acc_id, entry in doc.get("accounts", {}).items():
        for name, pos in (entry.get("perps") or {}).items():
            size = _dec(pos["size"])
            if not size:
                continue
            oi[name][0 if size > 0 else 1] += abs(size)
            positions.append(
                {
                    "account_id": acc_id,
                    "perp": name,
                    "size": size,
                    "entry_price": _dec(pos["entry_price"]),
                    "funding_index": _dec(pos.get("funding_index", index[name])),
                }
            )
    if perps:
        conn.execute(
            _perps.insert(),
            [
                {
                    "name": name,
                    "ord": i,
                    "params": {k: v for k, v in t.items() if k != "funding_index"},
                    "funding_index": index[name],
                    "open_interest_long": oi[name][0],
                    "open_interest_short": oi[name][1],
                }
                for i, (name, t) in enumerate(perps.items())
            ],
        )
    if positions:
        conn.execute(_positions.insert(), positions)
    if auctions:
        conn.execute(
            _auctions.insert(),
            [
                {
                    "id": int(key),
                    "account": a["account"],
                    "debt_asset": a["debt_asset"],
                    "collateral_asset": a["collateral_asset"],
                    **{k: _dec(a[k]) for k in ("debt", "tab", "lot", "top")},
                    "tic": _time(a["tic"]),
                }
                for key, a in auctions.items()
            ],
        )


def upgrade() -> None:
    _create_tables()
    _backfill(op.get_bind())


def downgrade() -> None:
    # Lossy, as any downgrade past new state: the fund, positions, auctions and clock go.
    with op.batch_alter_table("market") as batch:
        batch.drop_column("time")
        batch.drop_column("auction_count")
    with op.batch_alter_table("assets") as batch:
        for name in ("supply_index", "protocol_collateral", "reserves", "insurance_fund"):
            batch.drop_column(name)
    op.drop_table("auctions")
    op.drop_table("perp_positions")
    op.drop_table("perps")
