"""Repositories: every query the service and the CLI make, in one place.

Domain objects go in and out (:class:`~xmargin.model.Market`, plain records); ORM rows
stay here. SQLAlchemy errors leave as :class:`~xmargin.errors.StoreError`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import StoreError
from xmargin.io.market_file import market_to_dict, parse_market
from xmargin.mathlib import ZERO, fmt
from xmargin.model.market import Market
from xmargin.store.engine import write_transaction
from xmargin.store.models import (
    AccountRow,
    ApiKeyRow,
    AssetRow,
    BalanceRow,
    Base,
    IdempotencyRow,
    JournalRow,
    MarketRow,
)

__all__ = [
    "ROLES",
    "ApiKey",
    "BatchWrite",
    "IdempotentResult",
    "JournalEntry",
    "Role",
    "StoredState",
    "commit_batch",
    "create_api_key",
    "find_api_key",
    "find_idempotent",
    "genesis_document",
    "hash_secret",
    "initialize_market",
    "is_initialized",
    "iter_journal",
    "journal_after",
    "journal_count",
    "load_state",
    "utcnow",
    "write_batch",
]

Role = Literal["admin", "oracle", "liquidator", "account"]
ROLES: tuple[Role, ...] = ("admin", "oracle", "liquidator", "account")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _err(what: str, exc: SQLAlchemyError) -> StoreError:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()
    return StoreError(f"{what}: {first[0] if first else type(exc).__name__}")


# -- records ---------------------------------------------------------------------------
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
    #: (actor, key, fingerprint, status, body, seq)
    idempotency: list[tuple[str, str, str, int, dict[str, Any], int | None]] = field(
        default_factory=list
    )

    def __bool__(self) -> bool:
        return bool(self.journal or self.idempotency)


@dataclass(frozen=True)
class ApiKey:
    """A key's public part: who it is and what it may do."""

    id: str
    role: Role
    account: str | None


# -- the market ------------------------------------------------------------------------
def _rows(conn: Connection, model: type[Base], *order: Any) -> Sequence[Any]:
    """Every row of ``model``'s table as plain rows (attribute access, types applied)."""
    return conn.execute(select(model.__table__).order_by(*order)).all()


def is_initialized(engine: Engine) -> bool:
    """Whether the database already holds a market."""
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(MarketRow)).scalar_one() > 0
    except SQLAlchemyError as exc:
        raise _err("cannot read the database", exc) from exc


def genesis_document(market: Market) -> dict[str, Any]:
    """The market as a contract document, isolation debt written out even where zero."""
    doc = market_to_dict(market)
    state = doc.setdefault("state", {})
    state["isolation_debt"] = {a: fmt(market.isolation_debt.get(a, ZERO)) for a in market.assets}
    return doc


def _asset_row(market: Market, sym: str, ord_: int, at: datetime | None) -> dict[str, Any]:
    ap = market.assets[sym]
    return {
        "symbol": sym,
        "ord": ord_,
        "params": ap.model_dump(exclude={"symbol", "price"}, exclude_none=True),
        "price": ap.price,
        "price_at": at,
        "total_supply": market.total_supply.get(sym, ZERO),
        "total_borrow": market.total_borrow.get(sym, ZERO),
        "deficit": market.deficit.get(sym, ZERO),
        "isolation_debt": market.isolation_debt.get(sym, ZERO),
    }


def initialize_market(engine: Engine, market: Market, source: str) -> None:
    """Write a freshly loaded market and its genesis journal entry (seq 1), atomically."""
    now = utcnow()
    doc = genesis_document(market)
    mp = doc["market"]
    with write_transaction(engine) as conn:
        if conn.execute(select(func.count()).select_from(MarketRow)).scalar_one():
            raise StoreError("the database already holds a market")
        conn.execute(
            insert(MarketRow),
            [
                {
                    "id": 1,
                    "params": mp,
                    "categories": doc.get("categories", {}),
                    "source": source,
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            insert(AssetRow),
            [_asset_row(market, sym, i, None) for i, sym in enumerate(market.assets)],
        )
        if market.accounts:
            conn.execute(
                insert(AccountRow),
                [
                    {"id": acc.id, "ord": i, "category": acc.category, "version": 1}
                    for i, acc in enumerate(market.accounts.values())
                ],
            )
            rows = [
                {
                    "account_id": acc.id,
                    "asset": a,
                    "supply": acc.supplied(a),
                    "borrow": acc.borrowed(a),
                }
                for acc in market.accounts.values()
                for a in dict.fromkeys([*acc.supply, *acc.borrow])
            ]
            if rows:
                conn.execute(insert(BalanceRow), rows)
        conn.execute(
            insert(JournalRow),
            [
                {
                    "seq": 1,
                    "at": now,
                    "kind": "genesis",
                    "account": None,
                    "actor": None,
                    "idempotency_key": None,
                    "command": doc,
                    "result": {"source": source},
                }
            ],
        )


def load_state(conn: Connection) -> StoredState:
    """The stored market (validated exactly as a market file is) and writer bookkeeping."""
    try:
        mrow = conn.execute(select(MarketRow.params, MarketRow.categories)).one_or_none()
        if mrow is None:
            raise StoreError("the database holds no market: start `xmargin serve --market FILE`")
        assets = _rows(conn, AssetRow, AssetRow.ord)
        accounts = _rows(conn, AccountRow, AccountRow.ord)
        balances = _rows(conn, BalanceRow)
        last_seq = conn.execute(select(func.max(JournalRow.seq))).scalar() or 0
    except SQLAlchemyError as exc:
        raise _err("cannot read the stored market", exc) from exc
    supply: dict[str, dict[str, str]] = {a.id: {} for a in accounts}
    borrow: dict[str, dict[str, str]] = {a.id: {} for a in accounts}
    for b in balances:
        if b.supply:
            supply[b.account_id][b.asset] = fmt(b.supply) or "0"
        if b.borrow:
            borrow[b.account_id][b.asset] = fmt(b.borrow) or "0"
    doc: dict[str, Any] = {
        "market": mrow.params,
        "assets": {a.symbol: {**a.params, "price": fmt(a.price)} for a in assets},
        "categories": mrow.categories,
        "accounts": {
            a.id: {
                **({"category": a.category} if a.category is not None else {}),
                "supply": supply[a.id],
                "borrow": borrow[a.id],
            }
            for a in accounts
        },
        "state": {
            "deficit": {a.symbol: fmt(a.deficit) for a in assets if a.deficit},
            "isolation_debt": {a.symbol: fmt(a.isolation_debt) for a in assets},
        },
    }
    market = parse_market(doc, "the database")
    return StoredState(
        market=market,
        versions={a.id: a.version for a in accounts},
        account_ord=max((a.ord for a in accounts), default=-1) + 1,
        price_at={a.symbol: a.price_at for a in assets},
        last_seq=int(last_seq),
    )


def stored_totals(conn: Connection) -> dict[str, dict[str, Decimal]]:
    """The totals kept on the asset rows (what replay checks beside the balances)."""
    rows = _rows(conn, AssetRow)
    return {
        "total_supply": {r.symbol: r.total_supply for r in rows},
        "total_borrow": {r.symbol: r.total_borrow for r in rows},
        "deficit": {r.symbol: r.deficit for r in rows},
        "isolation_debt": {r.symbol: r.isolation_debt for r in rows},
    }


# -- the write path --------------------------------------------------------------------
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
        ins: Any = (
            postgresql.insert(BalanceRow) if dialect == "postgresql" else sqlite.insert(BalanceRow)
        )
        self.upsert_balances = ins.on_conflict_do_update(
            index_elements=["account_id", "asset"],
            set_={"supply": ins.excluded.supply, "borrow": ins.excluded.borrow},
        )
        self.update_assets = (
            update(AssetRow)
            .where(AssetRow.symbol == bindparam("b_symbol"))
            .values(
                params=bindparam("params"),
                price=bindparam("price"),
                price_at=bindparam("price_at"),
                total_supply=bindparam("total_supply"),
                total_borrow=bindparam("total_borrow"),
                deficit=bindparam("deficit"),
                isolation_debt=bindparam("isolation_debt"),
            )
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


# -- the journal -----------------------------------------------------------------------
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


# -- API keys --------------------------------------------------------------------------
def hash_secret(key: str) -> str:
    """SHA-256 of an API key: keys are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(engine: Engine, role: Role, account: str | None) -> tuple[str, ApiKey]:
    """A new key ``xm_<id>_<secret>``; only its hash is stored. Returns (key, record)."""
    key_id = secrets.token_hex(6)
    key = f"xm_{key_id}_{secrets.token_urlsafe(32)}"
    with write_transaction(engine) as conn:
        conn.execute(
            insert(ApiKeyRow),
            [
                {
                    "id": key_id,
                    "secret_hash": hash_secret(key),
                    "role": role,
                    "account": account,
                    "created_at": utcnow(),
                }
            ],
        )
    return key, ApiKey(key_id, role, account)


def find_api_key(engine: Engine, key: str) -> ApiKey | None:
    """The key whose hash matches ``key``, if any."""
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(ApiKeyRow.id, ApiKeyRow.role, ApiKeyRow.account).where(
                    ApiKeyRow.secret_hash == hash_secret(key)
                )
            ).one_or_none()
    except SQLAlchemyError as exc:
        raise _err("cannot read API keys", exc) from exc
    if row is None or row.role not in ROLES:
        return None
    return ApiKey(row.id, row.role, row.account)


def count_rows(conn: Connection) -> Mapping[str, int]:
    """Row counts of the main tables (for tests and the summary)."""
    out = {}
    for name, model in (
        ("journal", JournalRow),
        ("accounts", AccountRow),
        ("balances", BalanceRow),
        ("idempotency", IdempotencyRow),
    ):
        out[name] = int(conn.execute(select(func.count()).select_from(model)).scalar_one())
    return out
