"""API keys: created, listed, revoked, and looked up on every request.

A key is ``xm_<id>_<secret>``; only the SHA-256 of the whole key is stored (keys are 256
bits of randomness, so a fast hash is enough). A key may carry an expiry; a revoked or
expired key stays listed (with its status) and never authenticates again.

:class:`KeyLookup` answers the service's per-request question "whose key is this?" from
the database itself, on a connection of its own in autocommit mode (one indexed read, a
few microseconds on SQLite, tens on PostgreSQL): a key revoked by ``xmargin keys revoke``
in another process stops working with the next request, with no cache to wait out.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import InputError, StoreError
from xmargin.store.engine import write_transaction
from xmargin.store.models import ApiKeyRow
from xmargin.store.records import ROLES, ApiKey, Role, store_error, utcnow

__all__ = [
    "KeyLookup",
    "create_api_key",
    "find_api_key",
    "hash_secret",
    "list_api_keys",
    "revoke_api_key",
]


def hash_secret(key: str) -> str:
    """SHA-256 of an API key: keys are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(at: Any) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite gives naive UTC or text)."""
    if at is None:
        return None
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if not isinstance(at, datetime):
        raise StoreError(f"api_keys: a timestamp column holds {type(at).__name__}")
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _record(row: Any) -> ApiKey | None:
    if row.role not in ROLES:
        return None
    return ApiKey(
        row.id,
        row.role,
        row.account,
        _aware(row.created_at),
        _aware(row.expires_at),
        _aware(row.revoked_at),
    )


def create_api_key(
    engine: Engine, role: Role, account: str | None, expires_at: datetime | None = None
) -> tuple[str, ApiKey]:
    """A new key ``xm_<id>_<secret>``; only its hash is stored. Returns (key, record)."""
    key_id = secrets.token_hex(6)
    key = f"xm_{key_id}_{secrets.token_urlsafe(32)}"
    now = utcnow()
    with write_transaction(engine) as conn:
        conn.execute(
            insert(ApiKeyRow),
            [
                {
                    "id": key_id,
                    "secret_hash": hash_secret(key),
                    "role": role,
                    "account": account,
                    "created_at": now,
                    "expires_at": expires_at,
                    "revoked_at": None,
                }
            ],
        )
    return key, ApiKey(key_id, role, account, now, expires_at, None)


_COLUMNS = (
    ApiKeyRow.id,
    ApiKeyRow.role,
    ApiKeyRow.account,
    ApiKeyRow.created_at,
    ApiKeyRow.expires_at,
    ApiKeyRow.revoked_at,
)


def find_api_key(engine: Engine, key: str) -> ApiKey | None:
    """The record of the key whose hash matches ``key`` (whatever its status), if any."""
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS).where(ApiKeyRow.secret_hash == hash_secret(key))
            ).one_or_none()
    except SQLAlchemyError as exc:
        raise store_error("cannot read API keys", exc) from exc
    return None if row is None else _record(row)


def list_api_keys(engine: Engine) -> list[ApiKey]:
    """Every key, oldest first, with its status fields (never a secret or a hash)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(*_COLUMNS).order_by(ApiKeyRow.created_at)).all()
    except SQLAlchemyError as exc:
        raise store_error("cannot read API keys", exc) from exc
    return [r for r in (_record(row) for row in rows) if r is not None]


def revoke_api_key(engine: Engine, key_id: str) -> tuple[ApiKey, bool]:
    """Revoke key ``key_id`` (at once, for every server on this database).

    Returns the record and whether this call revoked it (``False``: it already was).
    Raises :class:`InputError` for an unknown id.
    """
    with write_transaction(engine) as conn:
        row = conn.execute(select(*_COLUMNS).where(ApiKeyRow.id == key_id)).one_or_none()
        if row is None:
            raise InputError(f"no API key with id {key_id!r} (see `xmargin keys list`)")
        if row.revoked_at is not None:
            record = _record(row)
            assert record is not None
            return record, False
        now = utcnow()
        conn.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(revoked_at=now))
    record = _record(row)
    assert record is not None
    return ApiKey(
        record.id, record.role, record.account, record.created_at, record.expires_at, now
    ), True


_KEY_COLUMNS = "id, role, account, created_at, expires_at, revoked_at"
_LOOKUP_SQL = f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE {{column}} = {{p}}"


class _Row:
    __slots__ = ("account", "created_at", "expires_at", "id", "revoked_at", "role")

    def __init__(self, values: tuple[Any, ...]) -> None:
        (
            self.id,
            self.role,
            self.account,
            self.created_at,
            self.expires_at,
            self.revoked_at,
        ) = values


class KeyLookup:
    """Keys looked up in the database on every request, on a dedicated connection.

    The connection is in autocommit mode, so every lookup reads what is committed now
    (a revocation from another process included). It is reopened once if the database
    dropped it; a lookup that still fails raises :class:`StoreError` (503).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._fairy: Any = None
        p = self._p = "%s" if engine.dialect.name == "postgresql" else "?"
        self._by_hash = _LOOKUP_SQL.format(column="secret_hash", p=p)
        self._by_id = _LOOKUP_SQL.format(column="id", p=p)

    def _connection(self) -> Any:
        if self._fairy is None:
            fairy = self.engine.raw_connection()
            if self.engine.dialect.name == "postgresql":
                fairy.driver_connection.autocommit = True  # type: ignore[union-attr]
            # SQLite: the engine's connections already run in autocommit mode.
            self._fairy = fairy
        return self._fairy.driver_connection

    def _drop(self) -> None:
        if self._fairy is not None:
            # Never returned to the pool: its autocommit mode is this lookup's own.
            self._fairy.invalidate()
            self._fairy = None

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _rows(self, sql: str, values: tuple[str, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            for attempt in (1, 2):
                try:
                    cur = self._connection().cursor()
                    try:
                        cur.execute(sql, values)
                        return [tuple(r) for r in cur.fetchall()]
                    finally:
                        cur.close()
                except Exception as exc:  # the driver's own errors: reconnect once
                    self._drop()
                    if attempt == 2:
                        raise StoreError(f"cannot read API keys: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _one(self, sql: str, value: str) -> ApiKey | None:
        rows = self._rows(sql, (value,))
        return _record(_Row(rows[0])) if rows else None

    def find_many(self, keys: list[str]) -> list[ApiKey | None]:
        """The record of each of ``keys`` as committed now, in ONE query: the service
        reads the keys of requests that arrive together at once (each still read after
        its request arrived, so a revocation committed before then is seen)."""
        hashes = [hash_secret(k) for k in keys]
        wanted = tuple(dict.fromkeys(hashes))
        if not wanted:
            return []
        marks = ", ".join([self._p] * len(wanted))
        sql = f"SELECT secret_hash, {_KEY_COLUMNS} FROM api_keys WHERE secret_hash IN ({marks})"
        found = {r[0]: _record(_Row(r[1:])) for r in self._rows(sql, wanted)}
        return [found.get(h) for h in hashes]

    def find(self, key: str) -> ApiKey | None:
        """The record of ``key`` as committed now (any status), or ``None``."""
        return self._one(self._by_hash, hash_secret(key))

    def find_id(self, key_id: str) -> str | None:
        """The status of key ``key_id`` now (``active``, ``expired``, ``revoked``), or
        ``None`` if there is no such key."""
        found = self._one(self._by_id, key_id)
        return None if found is None else found.status()
