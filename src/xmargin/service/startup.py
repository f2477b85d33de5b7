"""Opening the service's store, in the order that leaves nothing behind when it fails.

1. A new SQLite database needs ``--market``: the market file is read and validated
   first, before anything is created.
2. The database file (and its folders) is created 0600 (SQLite only, when missing).
3. The database's single-server lock is taken: before any migration or write.
4. An empty database (no schema yet) needs the market file, validated before the
   schema is created; then the schema is brought up to date and the genesis written.
5. The stored market is loaded (validated as a market file is).

Any failure releases the lock and removes what this start created (the database file,
its side files, the lock file, the folders), so a failed ``xmargin serve`` leaves the
file system as it found it. ``xmargin serve`` binds its port before all of this.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from xmargin.errors import StoreError
from xmargin.io.market_file import load_market
from xmargin.model.market import Market
from xmargin.service.settings import Settings
from xmargin.store.engine import (
    InstanceLock,
    acquire_instance_lock,
    create_database,
    describe_url,
    make_engine,
    remove_created,
    sqlite_file,
)
from xmargin.store.migrations import current_revision, upgrade
from xmargin.store.records import StoredState
from xmargin.store.repositories import initialize_market, is_initialized, load_state

__all__ = ["OpenedStore", "open_store"]


@dataclass
class OpenedStore:
    """A database this process owns: its engine, its lock, and the market it holds."""

    engine: Engine
    lock: InstanceLock
    stored: StoredState
    #: one line saying what the start did (loaded a market, or resumed)
    note: str
    created: list[Path] = field(default_factory=list)

    def close(self) -> None:
        self.lock.release()
        self.engine.dispose()


def _market(settings: Settings, where: str) -> Market:
    if settings.market_file is None:
        raise StoreError(
            f"database {where} holds no market yet: give --market FILE for the first start"
        )
    return load_market(settings.market_file)


def open_store(
    settings: Settings, lock_wait: float = 5.0, advertise: str | None = None
) -> OpenedStore:
    """Steps 1-5 of the module docstring; on failure, nothing is left behind.

    ``lock_wait``: seconds to wait for the database's lock (a cluster's server asks once:
    if the lock is held it follows the writer, :mod:`xmargin.service.cluster`);
    ``advertise``: the lock session's name there, by which the others find the writer.

    Raises the store's and the market file's errors (:class:`StoreError`,
    :class:`~xmargin.errors.MarketFileError`).
    """
    where = describe_url(settings.database_url)
    path = sqlite_file(settings.database_url)
    market: Market | None = None
    if path is not None and not path.exists():
        market = _market(settings, where)  # step 1: validated before anything exists
    created = create_database(settings.database_url)
    engine: Engine | None = None
    lock: InstanceLock | None = None
    try:
        engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        lock = acquire_instance_lock(engine, lock_wait, advertise)
        if market is None and current_revision(engine) is None:
            market = _market(settings, where)  # step 4: an empty database
        upgrade(engine)
        if not is_initialized(engine):
            if market is None:
                market = _market(settings, where)
            initialize_market(engine, market, str(settings.market_file))
            note = (
                f"loaded {settings.market_file} into {where}: {len(market.assets)} assets, "
                f"{len(market.accounts)} accounts (journal entry 1, the genesis)"
            )
        else:
            note = None
        with engine.connect() as conn:
            stored = load_state(conn)
        if note is None:
            ignored = " (--market ignored: the database already holds a market)"
            note = (
                f"resuming from {where}: {len(stored.market.accounts)} accounts, journal at "
                f"{stored.last_seq}{ignored if settings.market_file else ''}"
            )
    except BaseException:
        if lock is not None:
            lock.release_and_remove()
        if engine is not None:
            engine.dispose()
        with contextlib.suppress(OSError):
            remove_created(created)
        raise
    assert lock is not None
    return OpenedStore(engine, lock, stored, note, created)
