"""Database engines: ``make_engine(url)``, write transactions, and the instance lock.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL`` so that every
committed transaction survives a crash of the process or the machine; a write
transaction starts with ``BEGIN IMMEDIATE``, SQLite's writer lock. PostgreSQL (via
psycopg 3) locks account rows with ``SELECT ... FOR UPDATE`` inside the write
transaction (see :mod:`xmargin.store.repositories`).

One server process owns a database at a time (:func:`acquire_instance_lock`): it keeps
the in-memory mirror of the market, so a second writer would act on stale state.
Nothing here connects at import time.

Only :func:`create_database` creates a SQLite file (and its folders), readable by its
owner only (0600; SQLite gives its ``-wal`` and ``-shm`` files the same mode, and the
lock file is created 0600 too). Engines open SQLite with ``mode=rw``, so a command given
a mistyped ``--db`` fails with a clear error and leaves no empty database behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from xmargin.errors import DatabaseInUse, StoreError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "InstanceLock",
    "SqliteSync",
    "acquire_instance_lock",
    "create_database",
    "database_url_from_env",
    "describe_url",
    "make_engine",
    "remove_created",
    "require_database",
    "sqlite_file",
    "try_instance_lock",
    "write_transaction",
]

#: The embedded default: a SQLite file in the current directory.
DEFAULT_DATABASE_URL = "sqlite:///xmargin.db"
SqliteSync = Literal["FULL", "NORMAL"]
_WRITE = "xmargin_write"


def database_url_from_env(url: str | None) -> str:
    """``url``, else ``$XMARGIN_DATABASE_URL``, else the embedded SQLite default."""
    return url or os.environ.get("XMARGIN_DATABASE_URL") or DEFAULT_DATABASE_URL


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def make_engine(url: str, *, sqlite_synchronous: SqliteSync = "FULL", echo: bool = False) -> Engine:
    """An engine for ``url`` (``sqlite:///FILE`` or ``postgresql+psycopg://...``).

    Raises
    ------
    StoreError
        The URL is malformed or names a database this store does not support.
    """
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"database URL {url!r} is not valid: {exc}") from exc
    backend = u.get_backend_name()
    if backend == "sqlite":
        path = sqlite_file(url)
        assert path is not None
        # mode=rw: connecting never creates the file (create_database does, 0600, and
        # only `xmargin serve` calls it), so a mistyped --db leaves nothing behind.
        uri = f"{path.absolute().as_uri()}?mode=rw"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)

        engine = create_engine(u, echo=echo, creator=connect, pool_size=8, max_overflow=8)
        _sqlite_events(engine, sqlite_synchronous)
        return engine
    if backend == "postgresql":
        if u.get_driver_name() not in ("psycopg", ""):
            raise StoreError(
                f"PostgreSQL is reached through psycopg 3: use postgresql+psycopg://..., "
                f"not {u.drivername}"
            )
        u = u.set(drivername="postgresql+psycopg")
        return create_engine(u, echo=echo, pool_size=8, max_overflow=8, pool_pre_ping=True)
    raise StoreError(f"database {describe_url(url)!r}: only SQLite and PostgreSQL are supported")


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///FILE`` URL (``None`` for another database).

    Raises :class:`StoreError` for an in-memory or URI-form SQLite database: the service
    keeps its state in a file.
    """
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"database URL {url!r} is not valid: {exc}") from exc
    if u.get_backend_name() != "sqlite":
        return None
    database = u.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise StoreError(
            "the service needs a SQLite file (sqlite:///path/to/file.db), not an in-memory database"
        )
    return Path(database).expanduser()


def _missing(path: Path) -> StoreError:
    return StoreError(
        f"no xmargin database at {path}: start `xmargin serve --market FILE --db "
        f"sqlite:///{path}` once to create it"
    )


def require_database(url: str) -> None:
    """Raise :class:`StoreError` unless the database of ``url`` exists (SQLite: the file;
    PostgreSQL databases are created by their administrator). Creates nothing."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise _missing(path)


def create_database(url: str) -> list[Path]:
    """Create the SQLite file of ``url`` (and its missing folders), readable by its owner
    only (0600); a no-op for PostgreSQL or an existing file.

    Returns what was created, deepest last, so that a failed start can remove it.
    """
    path = sqlite_file(url)
    if path is None or path.exists():
        return []
    created: list[Path] = []
    missing = [p for p in reversed(path.parents) if not p.exists()]
    try:
        for folder in missing:
            folder.mkdir(mode=0o700)
            created.append(folder)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        created.append(path)
    except OSError as exc:
        remove_created(created)
        raise StoreError(f"cannot create the database {path}: {exc.strerror}") from exc
    return created


def remove_created(paths: list[Path]) -> None:
    """Remove what :func:`create_database` created (with SQLite's side files), deepest
    first; folders only when empty."""
    for p in reversed(paths):
        if p.is_dir():
            with contextlib.suppress(OSError):
                p.rmdir()
            continue
        for side in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{p}{side}").unlink()


def _sqlite_events(engine: Engine, synchronous: SqliteSync) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # BEGIN IMMEDIATE takes SQLite's writer lock at once: a write transaction never
        # discovers half-way that another writer got there first.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed on success, rolled back on error.

    SQLAlchemy errors leave as :class:`~xmargin.errors.StoreError` (chained).
    """
    try:
        with engine.connect() as raw:
            conn = raw.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn
    except SQLAlchemyError as exc:
        raise StoreError(f"database write failed: {_short(exc)}") from exc


def _short(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__


class InstanceLock:
    """Held by the one server process that owns a database; released on close or death.

    ``created``: the lock file, when taking the lock created it (a failed start removes
    it with :meth:`release_and_remove`).
    """

    def __init__(self, release: Any, created: Path | None = None) -> None:
        self._release = release
        self.created = created

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None

    def release_and_remove(self) -> None:
        """Release the lock, removing its file if taking it created the file."""
        if self.created is not None and self._release is not None:
            with contextlib.suppress(FileNotFoundError):
                self.created.unlink()
        self.release()


def acquire_instance_lock(
    engine: Engine, wait_seconds: float = 5.0, advertise: str | None = None
) -> InstanceLock:
    """Take the database's single-server lock, waiting up to ``wait_seconds`` for it.

    A lock still held then raises :class:`DatabaseInUse`. (A killed predecessor's lock goes
    within moments: the wait covers the database noticing that its connection died.)
    ``advertise`` (PostgreSQL): the ``application_name`` of the session that holds the
    lock, so that other servers of a cluster find the writer (:mod:`xmargin.service.cluster`).
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return try_instance_lock(engine, advertise)
        except DatabaseInUse:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def try_instance_lock(engine: Engine, advertise: str | None = None) -> InstanceLock:
    """Take the database's single-server lock, or raise :class:`StoreError` if it is held.

    SQLite: an ``flock`` on ``FILE.lock``; PostgreSQL: a session advisory lock named after
    the current schema, held by a dedicated connection. Both vanish with the process, so
    a killed server never blocks its successor.
    """
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        path = Path(database).expanduser().resolve().with_name(Path(database).name + ".lock")
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DatabaseInUse(
                f"database {database} is in use by another xmargin server (lock {path})"
            ) from None

        def _release_file() -> None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

        return InstanceLock(_release_file, path if created else None)
    try:
        conn = engine.connect()
        got = conn.execute(
            text(
                "SELECT pg_try_advisory_lock(('x' || substr(md5('xmargin:' || "
                "current_database() || ':' || current_schema()), 1, 16))::bit(64)::bigint)"
            )
        ).scalar()
        if got and advertise is not None:
            conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": advertise})
        conn.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot reach the database: {_short(exc)}") from exc
    if not got:
        conn.close()
        raise DatabaseInUse(
            f"database {describe_url(str(engine.url))} is in use by another xmargin server"
        )

    def _release_pg() -> None:
        with contextlib.suppress(SQLAlchemyError):
            # The lock belongs to the session: unlock before the pool keeps the connection.
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
            conn.execute(text("RESET application_name"))
            conn.commit()
        with contextlib.suppress(SQLAlchemyError):
            conn.close()

    return InstanceLock(_release_pg)
