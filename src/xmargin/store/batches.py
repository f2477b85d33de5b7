"""The write path: one batch of commands written in one transaction, and idempotency.

Statements are built once per dialect (SQLAlchemy then reuses their compiled form:
building a statement costs more than running it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import StoreError
from xmargin.store.engine import write_transaction
from xmargin.store.market_rows import STATE_COLUMNS
from xmargin.store.models import (
    AccountRow,
    AssetRow,
    AuctionRow,
    BalanceRow,
    IdempotencyRow,
    JournalRow,
    MarketRow,
    PerpPositionRow,
    PerpRow,
)
from xmargin.store.option_store import write_option_positions
from xmargin.store.records import BatchWrite, IdempotentResult, store_error, utcnow

__all__ = ["commit_batch", "find_idempotent", "write_batch"]

_err = store_error


class _Statements:
    """The write path's statements, built once per dialect (SQLAlchemy then reuses their
    compiled form: building a statement costs more than running it)."""

    def __init__(self, dialect: str) -> None:
        ids: Any = bindparam("ids", expanding=True)
        lock = select(AccountRow.id, AccountRow.version).where(AccountRow.id.in_(ids))
        if dialect == "postgresql":
            lock = lock.order_by(AccountRow.id).with_for_update()
        self.lock_accounts = lock
        self.bump_versions = (
            update(AccountRow)
            .where(AccountRow.id == bindparam("b_id"))
            .values(version=bindparam("b_version"))
        )
        self.new_accounts = insert(AccountRow)

        def upsert(model: Any, keys: list[str], columns: list[str]) -> Any:
            ins: Any = postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)
            return ins.on_conflict_do_update(
                index_elements=keys, set_={c: ins.excluded[c] for c in columns}
            )

        self.upsert_balances = upsert(BalanceRow, ["account_id", "asset"], ["supply", "borrow"])
        self.upsert_positions = upsert(
            PerpPositionRow, ["account_id", "perp"], ["size", "entry_price", "funding_index"]
        )
        self.close_positions = delete(PerpPositionRow).where(
            tuple_(PerpPositionRow.account_id, PerpPositionRow.perp).in_(
                bindparam("pairs", expanding=True)
            )
        )
        self.upsert_auctions = upsert(
            AuctionRow,
            ["id"],
            ["account", "debt_asset", "collateral_asset", "debt", "tab", "lot", "top", "tic"],
        )
        self.end_auctions = delete(AuctionRow).where(
            AuctionRow.id.in_(bindparam("ids", expanding=True))
        )
        self.update_assets = (
            update(AssetRow)
            .where(AssetRow.symbol == bindparam("b_symbol"))
            .values(
                params=bindparam("params"),
                price=bindparam("price"),
                price_at=bindparam("price_at"),
                **{c: bindparam(c) for c in STATE_COLUMNS},
            )
        )
        self.update_perps = (
            update(PerpRow)
            .where(PerpRow.name == bindparam("b_name"))
            .values(
                params=bindparam("params"),
                funding_index=bindparam("funding_index"),
                open_interest_long=bindparam("open_interest_long"),
                open_interest_short=bindparam("open_interest_short"),
            )
        )
        self.update_market = update(MarketRow).values(
            auction_count=bindparam("auction_count"), time=bindparam("time")
        )
        self.journal = insert(JournalRow)
        self.idempotency = insert(IdempotencyRow)
        self.find_idempotent = select(IdempotencyRow.__table__).where(
            IdempotencyRow.actor == bindparam("actor"),
            IdempotencyRow.key.in_(bindparam("keys", expanding=True)),
        )


_STATEMENTS: dict[str, _Statements] = {}


def _statements(conn: Connection) -> _Statements:
    name = conn.dialect.name
    st = _STATEMENTS.get(name)
    if st is None:
        st = _STATEMENTS[name] = _Statements(name)
    return st


def write_batch(conn: Connection, batch: BatchWrite) -> None:
    """Write one batch inside the caller's write transaction.

    The accounts the batch changes are locked first (``SELECT ... FOR UPDATE`` on
    PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` writer lock covers the whole database) and
    their versions compared with what the writer expects: a difference means another
    process wrote to this database, and the whole batch is refused.
    """
    st = _statements(conn)
    if batch.versions:
        ids = sorted(batch.versions)
        found = {r[0]: r[1] for r in conn.execute(st.lock_accounts, {"ids": ids})}
        for acc_id in ids:
            expected = batch.versions[acc_id][0]
            if found.get(acc_id) != expected:
                raise StoreError(
                    f"account {acc_id!r} changed outside this server (version "
                    f"{found.get(acc_id)}, expected {expected}); restart the server"
                )
        conn.execute(
            st.bump_versions,
            [{"b_id": k, "b_version": v[1]} for k, v in batch.versions.items()],
        )
    if batch.new_accounts:
        conn.execute(
            st.new_accounts,
            [{"id": i, "ord": o, "category": c, "version": 1} for i, o, c in batch.new_accounts],
        )
    if batch.balances:
        conn.execute(
            st.upsert_balances,
            [
                {"account_id": a, "asset": s, "supply": su, "borrow": bo}
                for a, s, su, bo in batch.balances
            ],
        )
    if batch.assets:
        conn.execute(
            st.update_assets,
            [
                {
                    **{k: v for k, v in r.items() if k not in ("symbol", "ord")},
                    "b_symbol": r["symbol"],
                }
                for r in batch.assets
            ],
        )
    _write_perps_and_designs(conn, st, batch)
    if batch.journal:
        conn.execute(
            st.journal,
            [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "kind": e.kind,
                    "account": e.account,
                    "actor": e.actor,
                    "idempotency_key": e.idempotency_key,
                    "command": e.command,
                    "result": e.result,
                }
                for e in batch.journal
            ],
        )
    if batch.idempotency:
        now = utcnow()
        conn.execute(
            st.idempotency,
            [
                {
                    "actor": a,
                    "key": k,
                    "fingerprint": f,
                    "status": s,
                    "body": b,
                    "seq": q,
                    "created_at": now,
                }
                for a, k, f, s, b, q in batch.idempotency
            ],
        )


def _write_perps_and_designs(conn: Connection, st: _Statements, batch: BatchWrite) -> None:
    """Perp rows, positions, auctions and the market row's state of one batch."""
    if batch.perps:
        conn.execute(
            st.update_perps,
            [
                {**{k: v for k, v in r.items() if k != "name"}, "b_name": r["name"]}
                for r in batch.perps
            ],
        )
    if batch.positions_closed:
        conn.execute(st.close_positions, {"pairs": batch.positions_closed})
    if batch.positions:
        conn.execute(st.upsert_positions, batch.positions)
    if batch.option_positions or batch.option_positions_closed:
        write_option_positions(conn, batch.option_positions, batch.option_positions_closed)
    if batch.auctions_ended:
        conn.execute(st.end_auctions, {"ids": batch.auctions_ended})
    if batch.auctions:
        conn.execute(st.upsert_auctions, batch.auctions)
    if batch.market_state is not None:
        conn.execute(st.update_market, batch.market_state)


def commit_batch(engine: Engine, batch: BatchWrite) -> None:
    """:func:`write_batch` in a transaction of its own."""
    with write_transaction(engine) as conn:
        write_batch(conn, batch)


def find_idempotent(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], IdempotentResult]:
    """The stored first results of ``(actor, key)`` pairs that were used before."""
    if not keys:
        return {}
    st = _statements(conn)
    out: dict[tuple[str, str], IdempotentResult] = {}
    by_actor: dict[str, list[str]] = {}
    for actor, key in keys:
        by_actor.setdefault(actor, []).append(key)
    try:
        for actor, ks in by_actor.items():
            for r in conn.execute(st.find_idempotent, {"actor": actor, "keys": ks}):
                out[(r.actor, r.key)] = IdempotentResult(r.fingerprint, r.status, r.body, r.seq)
    except SQLAlchemyError as exc:
        raise _err("cannot read idempotency keys", exc) from exc
    return out
